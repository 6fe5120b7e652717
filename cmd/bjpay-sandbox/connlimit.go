package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"sync"
)

// [sandbox] serve keeps at most --max-conns client connections open, so
// that idle keep-alives (held up to the server's IdleTimeout, 2 min) cannot
// take every descriptor the process has and leave creates timing out. At
// the cap, idle connections are closed to make room, oldest idle first;
// when none is idle, new connections wait in the kernel's backlog until
// one closes.
const (
	// minConns is the least --max-conns accepted: a browser alone opens
	// six connections to the dashboard.
	minConns = 16
	// maxDefaultConns bounds the default where descriptors are plentiful
	// (Go raises the soft limit to the hard one, often 1,048,576): an idle
	// connection holds about 21 KiB of the process's memory (measured:
	// 8,000 idle keep-alives, 17 MB to 184 MB RSS), so ten thousand take
	// about 210 MB, well under the collector's limit (GCMemoryLimit).
	maxDefaultConns = 10_000
	// fixedReserve is what serve keeps of its descriptors besides client
	// connections and the notifier's: standard streams, the listener, the
	// runtime's poller, the --data-dir file, the --pprof listener and a few
	// profile downloads, files read at start, the resolver's files.
	fixedReserve = 64
	// reservePerWorker: each notify worker holds one connection in
	// flight, may leave one idle in the per-host pool (MaxIdleConnsPerHost
	// is --notify-workers), and uses a DNS socket while it dials.
	reservePerWorker = 3
)

// maxConnsUsage is the help of serve's --max-conns.
var maxConnsUsage = fmt.Sprintf("`N` client connections open at most: near it idle keep-alives are closed, oldest first, and at it new connections wait (0: the descriptor limit, ulimit -n, less %d and %d per --notify-workers, at most %d)",
	fixedReserve, reservePerWorker, maxDefaultConns)

// descriptorReserve is how many descriptors serve keeps for itself with
// this many notify workers.
func descriptorReserve(workers int) int { return fixedReserve + reservePerWorker*workers }

// connLimit is the cap on client connections: n, or the default when n is
// 0, checked against the process's descriptor limit.
func connLimit(n, workers int) (int, error) {
	nofile, known := descriptorLimit()
	return connLimitFor(n, workers, nofile, known)
}

// connLimitFor is connLimit with the descriptor limit given (known is
// false where the system has none to read). The default is the limit less
// descriptorReserve, at most maxDefaultConns.
func connLimitFor(n, workers int, nofile uint64, known bool) (int, error) {
	if n < 0 || n > 0 && n < minConns {
		return 0, usagef("", "--max-conns is %d; expected at least %d (a browser alone opens 6 connections), or 0 for the default from the descriptor limit", n, minConns)
	}
	reserve := descriptorReserve(workers)
	room := maxDefaultConns
	if known {
		room = int(min(nofile, 1<<30)) - reserve
	}
	if n == 0 {
		if room < minConns {
			return 0, usagef("", "the descriptor limit (ulimit -n) is %d; serve keeps %d of them (%d + %d per notify worker, --notify-workers %d) and needs at least %d more for clients: raise ulimit -n to %d or more, or lower --notify-workers",
				nofile, reserve, fixedReserve, reservePerWorker, workers, minConns, reserve+minConns)
		}
		return min(room, maxDefaultConns), nil
	}
	if known && n > room {
		return 0, usagef("", "--max-conns is %d, more than the descriptor limit allows: %d open files (ulimit -n) less %d serve keeps (%d + %d per notify worker, --notify-workers %d) leave %d; lower --max-conns or raise ulimit -n",
			n, nofile, reserve, fixedReserve, reservePerWorker, workers, room)
	}
	return n, nil
}

// connLimiter is a listener that keeps at most max connections open. It
// sits under tls.NewListener, so it counts descriptors (TCP connections)
// and its connections are the ones the TLS layer wraps. The HTTP server
// reports each connection's state to trackState (http.Server.ConnState),
// which keeps the idle ones in a list, oldest first.
type connLimiter struct {
	net.Listener
	max  int // connections open at most
	high int // from here on, idle connections are closed before the next accept

	mu       sync.Mutex
	open     int           // accepted and not yet closed
	idle     idleList      // idle connections, oldest first
	wake     chan struct{} // a slot freed or a connection went idle; holds one signal
	done     chan struct{} // closed by Close
	doneOnce sync.Once
}

func newConnLimiter(ln net.Listener, max int) *connLimiter {
	return &connLimiter{Listener: ln, max: max, high: max - max/10,
		wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// Accept waits for a slot, then accepts the next connection. Near the cap
// (90 %) it first closes idle connections, oldest first, so that a burst
// of new ones finds room; at the cap with none idle it waits for one to
// close or go idle, and returns at once when the listener is closed.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		l.mu.Lock()
		var victim *limitedConn
		if l.open >= l.high {
			victim = l.idle.pop()
		}
		if victim == nil && l.open < l.max {
			l.open++
			l.mu.Unlock()
			break
		}
		l.mu.Unlock()
		if victim != nil {
			_ = victim.Close() // frees its slot; the server's read fails and it cleans up
			continue
		}
		select {
		case <-l.wake:
		case <-l.done:
			return nil, &net.OpError{Op: "accept", Net: l.Addr().Network(), Addr: l.Addr(), Err: net.ErrClosed}
		}
	}
	c, err := l.Listener.Accept()
	if err != nil {
		l.release()
		return nil, err
	}
	return &limitedConn{Conn: c, l: l}, nil
}

// Close stops Accept, waiting or not, and closes the listener.
func (l *connLimiter) Close() error {
	l.doneOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

func (l *connLimiter) release() {
	l.mu.Lock()
	l.open--
	l.mu.Unlock()
	l.signal()
}

func (l *connLimiter) signal() {
	select {
	case l.wake <- struct{}{}:
	default: // a signal is already waiting
	}
}

// trackState is the server's ConnState hook. A connection is idle between
// two requests; a new one is not idle yet (ReadHeaderTimeout bounds how
// long it may stay silent); a hijacked one is its handler's, and frees its
// slot when the handler closes it.
func (l *connLimiter) trackState(nc net.Conn, state http.ConnState) {
	c, ok := nc.(*limitedConn)
	if tc, isTLS := nc.(*tls.Conn); isTLS {
		c, ok = tc.NetConn().(*limitedConn)
	}
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case c.closed:
	case state == http.StateIdle:
		l.idle.push(c)
		l.signal()
	default:
		l.idle.remove(c)
	}
}

// limitedConn is a connection holding a slot of its connLimiter until it
// is closed.
type limitedConn struct {
	net.Conn
	l *connLimiter
	// Guarded by l.mu:
	closed     bool
	isIdle     bool
	prev, next *limitedConn // in l.idle
}

// Close closes the connection, then frees its slot, once: the server, a
// handler that hijacked it and the limiter may each close it.
func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	l := c.l
	l.mu.Lock()
	first := !c.closed
	c.closed = true
	l.idle.remove(c)
	l.mu.Unlock()
	if first {
		l.release()
	}
	return err
}

// CloseWrite lets the server half-close before closing, as it does on a
// bare TCP connection, so a client still sending gets the answer rather
// than a reset.
func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// idleList is a doubly linked list of idle connections, oldest first,
// threaded through the connections so that the state changes of every
// request allocate nothing.
type idleList struct {
	head, tail *limitedConn
	n          int
}

func (q *idleList) push(c *limitedConn) {
	if c.isIdle {
		return
	}
	c.isIdle, c.prev, c.next = true, q.tail, nil
	if q.tail != nil {
		q.tail.next = c
	} else {
		q.head = c
	}
	q.tail = c
	q.n++
}

func (q *idleList) remove(c *limitedConn) {
	if !c.isIdle {
		return
	}
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		q.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		q.tail = c.prev
	}
	c.isIdle, c.prev, c.next = false, nil, nil
	q.n--
}

// pop takes the oldest idle connection off the list, or returns nil.
func (q *idleList) pop() *limitedConn {
	c := q.head
	if c != nil {
		q.remove(c)
	}
	return c
}

// counts reports the connections open and, of them, those idle.
func (l *connLimiter) counts() (open, idle int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open, l.idle.n
}
