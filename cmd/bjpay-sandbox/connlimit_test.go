package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock"
)

// TestConnLimitFor: the default cap comes from the descriptor limit less
// what serve keeps for itself; a cap the limit cannot hold, or too small
// to be of use, is refused with the figures.
func TestConnLimitFor(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		workers int
		nofile  uint64
		known   bool
		want    int
		err     string
	}{
		{name: "default, the probe's 20,000 descriptors", workers: 64, nofile: 20_000, known: true, want: maxDefaultConns},
		{name: "default, 4096 descriptors", workers: 64, nofile: 4096, known: true, want: 4096 - 64 - 3*64},
		{name: "default, 1024 descriptors", workers: 64, nofile: 1024, known: true, want: 1024 - 256},
		{name: "default, no limit", workers: 64, nofile: ^uint64(0), known: true, want: maxDefaultConns},
		{name: "default, no limit to read (Windows)", workers: 64, want: maxDefaultConns},
		{name: "default, too few descriptors", workers: 64, nofile: 256, known: true,
			err: "the descriptor limit (ulimit -n) is 256; serve keeps 256 of them (64 + 3 per notify worker, --notify-workers 64) and needs at least 16 more for clients: raise ulimit -n to 272 or more, or lower --notify-workers"},
		{name: "default, too many workers", workers: 400, nofile: 1024, known: true, err: "raise ulimit -n to 1280 or more, or lower --notify-workers"},
		{name: "given", n: 50, workers: 64, nofile: 20_000, known: true, want: 50},
		{name: "given, all the limit allows", n: 19_744, workers: 64, nofile: 20_000, known: true, want: 19_744},
		{name: "given, more than the limit allows", n: 19_745, workers: 64, nofile: 20_000, known: true,
			err: "--max-conns is 19745, more than the descriptor limit allows: 20000 open files (ulimit -n) less 256 serve keeps (64 + 3 per notify worker, --notify-workers 64) leave 19744; lower --max-conns or raise ulimit -n"},
		{name: "given, no limit to read", n: 1_000_000, workers: 64, want: 1_000_000},
		{name: "given, the minimum", n: minConns, workers: 64, nofile: 20_000, known: true, want: minConns},
		{name: "given, below the minimum", n: 15, workers: 64, nofile: 20_000, known: true,
			err: "--max-conns is 15; expected at least 16 (a browser alone opens 6 connections), or 0 for the default from the descriptor limit"},
		{name: "given, negative", n: -1, workers: 64, nofile: 20_000, known: true, err: "--max-conns is -1; expected at least 16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := connLimitFor(tt.n, tt.workers, tt.nofile, tt.known)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %d, %v; want the error %q", got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %d, %v; want %d", got, err, tt.want)
			}
		})
	}
}

// TestMaxConnsFlag: --max-conns and $BJPAY_SANDBOX_MAX_CONNS reach serve,
// which logs the cap at start or refuses it before binding anything.
func TestMaxConnsFlag(t *testing.T) {
	tooMany := "100000000"
	if nofile, known := descriptorLimit(); known && nofile < 1<<30 {
		tooMany = strconv.FormatUint(nofile+1, 10)
	} else if known {
		t.Logf("descriptor limit %d: the refusal of a cap above it is left to TestConnLimitFor", nofile)
		tooMany = "1"
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string // in stderr
	}{
		{name: "flag", args: []string{"serve", "--addr", "127.0.0.1:0", "--max-conns", "50"}, code: 0, want: "max_conns=50"},
		{name: "environment", args: []string{"serve", "--addr", "127.0.0.1:0"}, env: map[string]string{"BJPAY_SANDBOX_MAX_CONNS": "60"}, code: 0, want: "max_conns=60"},
		{name: "default", args: []string{"serve", "--addr", "127.0.0.1:0"}, code: 0, want: "max_conns="},
		{name: "too few", args: []string{"serve", "--max-conns", "8"}, code: 2, want: "--max-conns is 8; expected at least 16"},
		{name: "too many", args: []string{"serve"}, env: map[string]string{"BJPAY_SANDBOX_MAX_CONNS": tooMany}, code: 2, want: "--max-conns is " + tooMany},
		{name: "not a number", args: []string{"serve", "--max-conns", "many"}, code: 2, want: `invalid value "many" for flag -max-conns`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // a serve that starts stops at once
			code := exitCode(run(ctx, tt.args, &stdout, &stderr), &stderr)
			if code != tt.code || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, want %d with %q in stderr:\n%s", code, tt.code, tt.want, &stderr)
			}
		})
	}
}

// TestConnLimit holds three times more idle keep-alive connections than
// the cap while creates on new connections still succeed, and counts the
// server's open sockets all along: never more than the cap. With every
// connection busy, a new one waits and is served once a slot frees; a
// connection the sandbox drops (hijacked) frees its slot; and the server
// shuts down with connections still waiting.
func TestConnLimit(t *testing.T) {
	for _, tt := range []struct {
		name string
		tls  bool
	}{
		{name: "http"},
		{name: "https", tls: true},
	} {
		t.Run(tt.name, func(t *testing.T) { testConnLimit(t, tt.tls) })
	}
}

func testConnLimit(t *testing.T, useTLS bool) {
	const (
		maxConns = 50
		held     = 3 * maxConns // idle connections the client keeps open
		creates  = 20
		waiters  = 5 // connections left waiting at the shutdown
		bound    = 15 * time.Second
	)
	o := serveOptions{addr: "127.0.0.1:0", clockMode: mock.ClockReal, speed: 1, workers: 4, maxPending: 1000,
		maxConns: maxConns, logLevel: slog.LevelError, seed: 7}
	var clientTLS *tls.Config
	if useTLS {
		o.tlsCert, o.tlsKey = selfSigned(t, t.TempDir(), "sandbox")
		clientTLS = &tls.Config{InsecureSkipVerify: true}
	}
	srv, err := newServer(o, &syncBuffer{})
	if err != nil {
		t.Fatal(err)
	}
	states := &connStates{m: map[net.Conn]http.ConnState{}}
	limit := srv.http.ConnState
	srv.http.ConnState = func(c net.Conn, s http.ConnState) { limit(c, s); states.record(c, s) }
	var latency time.Duration // of the library's slow-create scenario, whose references start SLOW-
	for _, sc := range srv.sandbox.Scenarios() {
		if sc.Name == "slow-create" {
			latency = sc.Create.Latency
		}
	}
	if latency < time.Second {
		t.Fatalf("the library's slow-create scenario waits %s; the test needs a second at least", latency)
	}
	base, addr := srv.URL(), srv.ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	runErr, running := make(chan error, 1), make(chan struct{})
	go func() { runErr <- srv.Run(ctx); close(running) }()
	t.Cleanup(func() { // after a failure too
		cancel()
		select {
		case <-running:
		case <-time.After(shutdownTimeout + bound):
		}
	})
	sockets := watchSockets(t, srv.ln.Addr().(*net.TCPAddr).Port)

	client := &http.Client{Timeout: bound, Transport: &http.Transport{DisableKeepAlives: true, TLSClientConfig: clientTLS}}
	const id, secret = "2f9d6a0e-4c1b-4e8a-9b7d-5a3c1e0f8b21", "sandbox-secret-change-me"
	create := func(ref string) (int, error) {
		resp, err := client.Do(createRequest(base, id, secret, ref, ""))
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}

	// Dropped connections (hijacked by the connection-dropped scenario)
	// free their slots: the cap's worth and as many again all end at once,
	// none waiting for a slot until the client gives up.
	for i := range 2 * maxConns {
		if code, err := create(fmt.Sprintf("DROP-%d", i)); err == nil || isTimeout(err) {
			t.Fatalf("create DROP-%d: HTTP %d, %v; want the connection dropped at once", i, code, err)
		}
	}

	// Idle keep-alives: each makes one request, then stays open.
	conns := make([]*heldConn, held)
	for i := range conns {
		if conns[i], err = dialHeld(addr, clientTLS); err != nil {
			t.Fatalf("idle connection %d: %v", i, err)
		}
		defer conns[i].Close()
	}
	// The oldest were closed to make room; the newest is still served.
	if err := conns[0].closedByServer(); err != nil {
		t.Errorf("the oldest idle connection: %v", err)
	}
	if err := conns[held-1].get(); err != nil {
		t.Errorf("the newest idle connection, a second request: %v", err)
	}

	// Creates on new connections, with three times the cap held idle.
	start, slowest := time.Now(), time.Duration(0)
	for i := range creates {
		t0 := time.Now()
		if code, err := create(fmt.Sprintf("CONN-%d", i)); code != http.StatusOK {
			t.Fatalf("create CONN-%d with %d connections held: HTTP %d, %v", i, held, code, err)
		}
		slowest = max(slowest, time.Since(t0))
	}
	createsTook := time.Since(start)

	// Every connection busy: a new one waits until a slow create ends.
	slowStart := time.Now()
	slow := slowCreates(create, "SLOW-A", maxConns)
	states.waitActive(t, maxConns, bound)
	code, err := create("CONN-WAITED")
	if code != http.StatusOK {
		t.Fatalf("create CONN-WAITED: HTTP %d, %v", code, err)
	}
	waited := time.Since(slowStart)
	if waited < latency {
		t.Errorf("CONN-WAITED answered %s after the %d slow creates began, which take %s: it did not wait for a slot", waited, maxConns, latency)
	}
	slow.check(t)

	// The shutdown, every slot busy and connections waiting for one:
	// requests in flight finish, the waiting connections are refused.
	slow = slowCreates(create, "SLOW-B", maxConns)
	states.waitActive(t, maxConns, bound)
	refused := make(chan error, waiters)
	for i := range waiters {
		c, err := net.DialTimeout("tcp", addr, bound) // the kernel's backlog takes it
		if err != nil {
			t.Fatalf("waiting connection %d: %v", i, err)
		}
		defer c.Close()
		go func() { refused <- (&heldConn{Conn: wrapTLS(c, clientTLS), host: addr}).get() }()
	}
	cancelled := time.Now()
	cancel()
	select {
	case err := <-runErr:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(shutdownTimeout + bound):
		buf := make([]byte, 1<<20)
		t.Fatalf("Run has not returned %s after the cancel:\n%s", time.Since(cancelled), buf[:runtime.Stack(buf, true)])
	}
	stopped := time.Since(cancelled)
	slow.check(t)
	for i := range waiters {
		if err := <-refused; err == nil || isTimeout(err) {
			t.Errorf("waiting connection %d after the shutdown: %v; want it refused", i, err)
		}
	}

	peak, samples := sockets.stop(t)
	if samples > 0 && peak != maxConns {
		t.Errorf("at most %d server sockets open at once, cap %d: want the cap reached, never passed (%d samples)", peak, maxConns, samples)
	}
	t.Logf("cap %d; %d idle connections held; %d creates on new connections in %s (slowest %s); at most %d server sockets open (%d samples); with every slot busy a new connection was served %s after the slow creates began (they take %s); shutdown %s with %d waiting",
		maxConns, held, creates, createsTook.Round(time.Millisecond), slowest.Round(time.Millisecond), peak, samples,
		waited.Round(time.Millisecond), latency, stopped.Round(time.Millisecond), waiters)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// slowCreates runs n creates whose scenario makes them slow, each on a
// connection of its own; check waits for them and wants each answered 200.
func slowCreates(create func(ref string) (int, error), prefix string, n int) *slowBatch {
	b := &slowBatch{prefix: prefix, codes: make([]int, n), errs: make([]error, n)}
	b.wg.Add(n)
	for i := range n {
		go func() {
			defer b.wg.Done()
			b.codes[i], b.errs[i] = create(fmt.Sprintf("%s-%d", prefix, i))
		}()
	}
	return b
}

type slowBatch struct {
	prefix string
	wg     sync.WaitGroup
	codes  []int
	errs   []error
}

func (b *slowBatch) check(t *testing.T) {
	t.Helper()
	b.wg.Wait()
	for i, code := range b.codes {
		if code != http.StatusOK {
			t.Errorf("create %s-%d: HTTP %d, %v", b.prefix, i, code, b.errs[i])
		}
	}
}

// connStates follows the server's connections through its ConnState hook.
type connStates struct {
	mu sync.Mutex
	m  map[net.Conn]http.ConnState
}

func (s *connStates) record(c net.Conn, state http.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if state == http.StateClosed || state == http.StateHijacked {
		delete(s.m, c)
		return
	}
	s.m[c] = state
}

// waitActive waits until n connections are serving a request.
func (s *connStates) waitActive(t *testing.T, n int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		s.mu.Lock()
		active := 0
		for _, state := range s.m {
			if state == http.StateActive {
				active++
			}
		}
		s.mu.Unlock()
		if active == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections active after %s, want %d", active, limit, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// heldConn is a client connection kept open between requests.
type heldConn struct {
	net.Conn
	br   *bufio.Reader
	host string
}

// dialHeld connects, makes one request and leaves the connection open:
// idle in keep-alive on the server.
func dialHeld(addr string, tlsConf *tls.Config) (*heldConn, error) {
	c, err := net.DialTimeout("tcp", addr, 15*time.Second)
	if err != nil {
		return nil, err
	}
	h := &heldConn{Conn: wrapTLS(c, tlsConf), host: addr}
	if err := h.get(); err != nil {
		c.Close()
		return nil, err
	}
	return h, nil
}

func wrapTLS(c net.Conn, conf *tls.Config) net.Conn {
	if conf == nil {
		return c
	}
	return tls.Client(c, conf)
}

// get asks for the health check on the connection and reads the answer.
func (h *heldConn) get() error {
	if h.br == nil {
		h.br = bufio.NewReader(h.Conn)
	}
	_ = h.SetDeadline(time.Now().Add(15 * time.Second))
	defer h.SetDeadline(time.Time{})
	if _, err := io.WriteString(h, "GET /_sandbox/health HTTP/1.1\r\nHost: "+h.host+"\r\n\r\n"); err != nil {
		return err
	}
	resp, err := http.ReadResponse(h.br, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || resp.Close {
		return fmt.Errorf("HTTP %d, close %v; want 200 and the connection kept", resp.StatusCode, resp.Close)
	}
	return nil
}

// closedByServer reports an error unless the server has closed the
// connection.
func (h *heldConn) closedByServer() error {
	_ = h.SetReadDeadline(time.Now().Add(15 * time.Second))
	n, err := h.br.Read(make([]byte, 1))
	if err == nil || isTimeout(err) {
		return fmt.Errorf("read %d bytes, %v; want it closed by the server", n, err)
	}
	return nil
}

// socketWatch samples how many sockets the server holds open on a port,
// from /proc (Linux): an independent count of its descriptors.
type socketWatch struct {
	port    int
	done    chan struct{}
	stopped chan struct{}
	peak    int
	samples int
	err     error
}

func watchSockets(t *testing.T, port int) *socketWatch {
	w := &socketWatch{port: port, done: make(chan struct{}), stopped: make(chan struct{})}
	if _, err := openSockets(port); err != nil {
		if runtime.GOOS == "linux" {
			t.Fatalf("count sockets: %v", err)
		}
		t.Logf("no socket count on %s (%v): the cap is checked on Linux", runtime.GOOS, err)
		close(w.stopped)
		return w
	}
	go func() {
		defer close(w.stopped)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			n, err := openSockets(port)
			if err != nil {
				w.err = err
				return
			}
			w.peak, w.samples = max(w.peak, n), w.samples+1
			select {
			case <-w.done:
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

// stop ends the sampling and reports the most sockets seen open at once.
func (w *socketWatch) stop(t *testing.T) (peak, samples int) {
	t.Helper()
	select {
	case <-w.stopped:
	default:
		close(w.done)
		<-w.stopped
	}
	if w.err != nil {
		t.Errorf("count sockets: %v", w.err)
	}
	return w.peak, w.samples
}

// openSockets counts the connected TCP sockets with local port port that
// a descriptor of this process holds. The descriptors are read first, the
// sockets' ports after, so each socket counted was open at the moment in
// between: the count never exceeds what was open at once, though sockets
// come and go while /proc is read (and a socket moving in the kernel's
// table while it is read can be listed twice: each counts once).
func openSockets(port int) (int, error) {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0, err
	}
	held := map[string]bool{} // socket inodes
	for _, fd := range fds {
		link, err := os.Readlink("/proc/self/fd/" + fd.Name())
		if inode, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
			held[strings.TrimSuffix(inode, "]")] = true
		}
	}
	data, err := os.ReadFile("/proc/self/net/tcp")
	if err != nil {
		return 0, err
	}
	counted := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(line) // sl local rem st queues timer retrnsmt uid timeout inode
		if len(f) < 10 {
			continue
		}
		_, hexPort, _ := strings.Cut(f[1], ":")
		if p, _ := strconv.ParseUint(hexPort, 16, 16); int(p) == port && f[3] != "0A" && held[f[9]] {
			counted[f[9]] = true
		}
	}
	return len(counted), nil
}
