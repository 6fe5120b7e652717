package delivery

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// leanClient posts notifies to plain http:// URLs over keep-alive
// connections it pools itself. It does what net/http's Transport does for
// a notify without the Transport's machinery around each request (a
// reader and a writer goroutine per connection and the channel hand-offs
// between them, header maps, buffered-writer flushes), which under the
// notify load cost more CPU than the notify's own writes and reads. One
// request at a time per connection: written in one write, its answer read
// on the worker's own goroutine (client_wire.go). What it does not handle
// (https, credentials in the URL, a header net/http treats specially) goes
// through net/http instead; see Notifier.post.
type leanClient struct {
	dialer  *net.Dialer // the outbound policy's: every dial is checked
	perHost int         // idle connections kept per host, like MaxIdleConnsPerHost

	mu     sync.Mutex
	idle   map[string][]*leanConn // by dial address; the most recently used last
	live   map[*leanConn]struct{} // every open connection, for closeAll
	closed bool                   // closeAll ran: nothing is pooled or dialled any more
	swept  time.Time              // when idle connections were last expired
}

// idleTimeout is how long an unused connection stays pooled: net/http's
// DefaultTransport's IdleConnTimeout, which the notifier used before.
const idleTimeout = 90 * time.Second

// leanConn is one pooled connection.
type leanConn struct {
	conn   net.Conn
	raw    syscall.RawConn // for alive; nil when conn has none
	peekFn func(fd uintptr) bool
	peeked peekResult
	br     *bufio.Reader
	buf    []byte // the request being written, then the body being kept
	addr   string
	idleAt time.Time
}

func newLeanClient(dialer *net.Dialer, perHost int) *leanClient {
	return &leanClient{dialer: dialer, perHost: perHost, idle: map[string][]*leanConn{}, live: map[*leanConn]struct{}{}}
}

// errClientClosed: the notifier stopped; only reached when its context
// is not cancelled (which is what the attempt then reports).
var errClientClosed = errors.New("the notifier's client is closed")

// staleConnError is a write that failed on a reused connection: the
// server closed it after alive looked. The request is sent once more on
// a fresh connection, as net/http does when nothing was written. An
// answer that does not come (the connection closed or reset after the
// request was written) is never sent again: the server may have acted on
// the notify; the attempt fails and its policy decides.
type staleConnError struct{ err error }

func (e *staleConnError) Error() string { return e.err.Error() }
func (e *staleConnError) Unwrap() error { return e.err }

// post sends the notify (header h, body) to t and reads the answer: its
// status and at most maxResponseBody bytes of its body. deadline bounds
// the dial, the write and the read; ctx cancels them (with closeAll).
func (c *leanClient) post(ctx context.Context, t *target, h http.Header, body []byte, deadline time.Time) (int, string, error) {
	pc, reused, err := c.get(ctx, t.addr, deadline)
	if err != nil {
		return 0, "", cause(ctx, err, deadline)
	}
	status, answer, err := c.roundTrip(ctx, pc, t, h, body, deadline)
	if err != nil && reused && retryable(ctx, err, deadline) {
		if pc, err = c.dial(ctx, t.addr, deadline); err == nil {
			status, answer, err = c.roundTrip(ctx, pc, t, h, body, deadline)
		}
	}
	if err != nil {
		return 0, "", cause(ctx, err, deadline)
	}
	return status, answer, nil
}

// roundTrip makes one request on pc, then pools pc or closes it.
func (c *leanClient) roundTrip(ctx context.Context, pc *leanConn, t *target, h http.Header, body []byte, deadline time.Time) (int, string, error) {
	if err := pc.conn.SetDeadline(deadline); err != nil {
		c.close(pc)
		return 0, "", err
	}
	// After the deadline is set: closeAll, which runs after the context
	// is cancelled, then either closed pc or is seen here.
	if err := ctx.Err(); err != nil {
		c.close(pc)
		return 0, "", err
	}
	pc.buf = appendRequest(pc.buf[:0], t, h, body)
	if _, err := pc.conn.Write(pc.buf); err != nil {
		c.close(pc)
		if !isTimeout(err) {
			err = &staleConnError{err}
		}
		return 0, "", err
	}
	status, answer, keep, err := pc.readAnswer()
	if err != nil {
		c.close(pc)
		return 0, "", err
	}
	if keep {
		c.put(pc)
	} else {
		c.close(pc)
	}
	return status, answer, nil
}

// retryable reports whether a failed request may be sent again on a
// fresh connection: its write failed (on a reused connection, which the
// caller checks), and there is time left.
func retryable(ctx context.Context, err error, deadline time.Time) bool {
	var stale *staleConnError
	return errors.As(err, &stale) && ctx.Err() == nil && time.Now().Before(deadline)
}

// cause is the error an attempt reports: the context's when it is done
// (so a stopped sandbox and a timeout read as they do with net/http),
// context.DeadlineExceeded when the deadline passed.
func cause(ctx context.Context, err error, deadline time.Time) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	if isTimeout(err) && !time.Now().Before(deadline) {
		return context.DeadlineExceeded
	}
	var stale *staleConnError
	if errors.As(err, &stale) {
		return stale.err
	}
	return err
}

func isTimeout(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded)
}

// get returns an idle connection to addr (reused), or dials one.
func (c *leanClient) get(ctx context.Context, addr string, deadline time.Time) (*leanConn, bool, error) {
	now := time.Now()
	var expired []*leanConn
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, false, errClientClosed
	}
	idle := c.idle[addr]
	for len(idle) > 0 {
		pc := idle[len(idle)-1]
		idle[len(idle)-1] = nil
		idle = idle[:len(idle)-1]
		if now.Sub(pc.idleAt) < idleTimeout {
			c.idle[addr] = idle
			c.mu.Unlock()
			// The last request's deadline may have passed, and a socket
			// past its deadline cannot even be looked at.
			if pc.conn.SetDeadline(deadline) == nil && pc.alive() {
				c.closeEach(expired)
				return pc, true, nil
			}
			c.mu.Lock()
			idle = c.idle[addr]
		}
		expired = append(expired, pc)
	}
	if len(expired) > 0 {
		c.idle[addr] = idle
	}
	c.mu.Unlock()
	c.closeEach(expired)
	pc, err := c.dial(ctx, addr, deadline)
	return pc, false, err
}

// dial opens a connection to addr through the outbound policy's dialer.
func (c *leanClient) dial(ctx context.Context, addr string, deadline time.Time) (*leanConn, error) {
	dctx, cancel := context.WithDeadline(ctx, deadline)
	conn, err := c.dialer.DialContext(dctx, "tcp", addr)
	cancel()
	if err != nil {
		return nil, err
	}
	pc := &leanConn{conn: conn, br: bufio.NewReaderSize(conn, 4<<10), addr: addr}
	if sc, ok := conn.(syscall.Conn); ok {
		pc.raw, _ = sc.SyscallConn()
		pc.peekFn = pc.peek // made once: a closure per alive would be an allocation per notify
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		conn.Close()
		return nil, errClientClosed
	}
	c.live[pc] = struct{}{}
	c.mu.Unlock()
	return pc, nil
}

// put pools pc for the next request to its host, unless the host has
// perHost idle already.
func (c *leanClient) put(pc *leanConn) {
	now := time.Now()
	pc.idleAt = now
	var expired []*leanConn
	c.mu.Lock()
	if c.closed || len(c.idle[pc.addr]) >= c.perHost {
		c.mu.Unlock()
		c.close(pc)
		return
	}
	c.idle[pc.addr] = append(c.idle[pc.addr], pc)
	if now.Sub(c.swept) > idleTimeout/3 {
		// Hosts no notify goes to any more keep no connections open.
		c.swept = now
		for addr, idle := range c.idle {
			kept := idle[:0]
			for _, p := range idle {
				if now.Sub(p.idleAt) < idleTimeout {
					kept = append(kept, p)
				} else {
					expired = append(expired, p)
				}
			}
			clear(idle[len(kept):])
			if len(kept) == 0 {
				delete(c.idle, addr)
			} else {
				c.idle[addr] = kept
			}
		}
	}
	c.mu.Unlock()
	c.closeEach(expired)
}

// close closes pc, which is not pooled.
func (c *leanClient) close(pc *leanConn) {
	c.mu.Lock()
	delete(c.live, pc)
	c.mu.Unlock()
	pc.conn.Close()
}

func (c *leanClient) closeEach(pcs []*leanConn) {
	for _, pc := range pcs {
		c.close(pc)
	}
}

// closeAll closes every connection, idle or in use (an attempt in flight
// fails, and reports its cancelled context), and stops pooling and
// dialling. The notifier calls it after cancelling its context.
func (c *leanClient) closeAll() {
	c.mu.Lock()
	c.closed = true
	live := c.live
	c.live, c.idle = map[*leanConn]struct{}{}, map[string][]*leanConn{}
	c.mu.Unlock()
	for pc := range live {
		pc.conn.Close()
	}
}

// target is a notify URL, parsed and checked once: the checks of the
// outbound policy depend on the URL alone.
type target struct {
	raw  string          // as the delivery names it
	u    *url.URL        // parsed as http.NewRequest does
	ctx  context.Context // the policy's, to dial under
	err  error           // why nothing may be sent to it
	lean bool            // plain http, nothing the lean client leaves to net/http
	addr string          // the dial address, host:port
	host string          // the Host header
	uri  string          // the request target
}

// newTarget parses and checks raw under policy p, within ctx.
func newTarget(ctx context.Context, p *outboundPolicy, raw string) *target {
	t := &target{raw: raw}
	t.u, t.err = url.Parse(raw)
	if t.err != nil {
		return t
	}
	// As http.NewRequest: "host:" is "host".
	if i := strings.LastIndexByte(t.u.Host, ':'); i >= 0 && i > strings.LastIndexByte(t.u.Host, ']') {
		t.u.Host = strings.TrimSuffix(t.u.Host, ":")
	}
	if t.ctx, t.err = p.checkURL(ctx, t.u); t.err != nil {
		return t
	}
	// net/http puts credentials in an Authorization header, turns
	// non-ASCII names to punycode and removes zones from the Host header:
	// leave those to it.
	t.lean = leanPlatform && t.u.Scheme == "http" && t.u.User == nil && t.u.Opaque == "" && t.u.Host != "" && plainHost(t.u.Host)
	if t.lean {
		port := t.u.Port()
		if port == "" {
			port = "80"
		}
		t.addr = net.JoinHostPort(t.u.Hostname(), port)
		t.host = t.u.Host
		t.uri = t.u.RequestURI()
	}
	return t
}

// plainHost reports whether host (host[:port]) has only the bytes an
// ASCII name or an IP literal without a zone has.
func plainHost(host string) bool {
	for i := 0; i < len(host); i++ {
		switch b := host[i]; {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		case b == '.', b == '-', b == '_', b == ':', b == '[', b == ']':
		default:
			return false
		}
	}
	return true
}
