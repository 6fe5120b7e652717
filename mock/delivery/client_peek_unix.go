//go:build unix

package delivery

import (
	"errors"
	"syscall"
)

// leanPlatform: alive can look at a socket here.
const leanPlatform = true

// alive reports whether a pooled connection can carry a request: the
// server has not closed or reset it, nor sent anything unasked, while it
// was idle. net/http's Transport learns the same from the reader it
// keeps on every idle connection; here one non-blocking peek at the
// socket, before the request is written, tells it.
func (pc *leanConn) alive() bool {
	if pc.raw == nil {
		return true
	}
	if err := pc.raw.Read(pc.peekFn); err != nil {
		return false
	}
	err := pc.peeked.err
	return errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK)
}

// peekResult is what peek saw.
type peekResult struct {
	err error // EAGAIN: nothing to read, the connection is open
	b   [1]byte
}

// peek looks at the socket without reading or waiting: EAGAIN when
// nothing came; no error when something came, or the end (0 bytes).
func (pc *leanConn) peek(fd uintptr) bool {
	_, _, pc.peeked.err = syscall.Recvfrom(int(fd), pc.peeked.b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return true
}
