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
	var n int
	var err error
	var b [1]byte
	if rerr := pc.raw.Read(func(fd uintptr) bool {
		n, _, err = syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return true
	}); rerr != nil {
		return false
	}
	return n < 0 || errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK)
}
