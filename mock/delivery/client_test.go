package delivery

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/notify"
)

// rawServer is a loopback HTTP server written on net.Listener: each
// connection reads requests with http.ReadRequest and answers each with
// answer(n), n counting requests on all connections from 1.
type rawServer struct {
	ln       net.Listener
	conns    atomic.Int64
	requests atomic.Int64
	closed   atomic.Int64 // connections the server closed
	wg       sync.WaitGroup
	mu       sync.Mutex
	bad      []string // requests that were not the notify POST
}

// script is what a raw server does with request n: write, then close the
// connection when close is set.
type script struct {
	write string
	close bool
}

func newRawServer(t *testing.T, answer func(n int64) script) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer s.closed.Add(1)
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					body, err := io.ReadAll(req.Body)
					if err != nil || req.Method != http.MethodPost || int64(len(body)) != req.ContentLength || !bytes.HasPrefix(body, []byte("{")) {
						s.mu.Lock()
						s.bad = append(s.bad, fmt.Sprintf("%s %s, %d bytes of %d: %v", req.Method, req.URL, len(body), req.ContentLength, err))
						s.mu.Unlock()
					}
					sc := answer(s.requests.Add(1))
					if _, err := io.WriteString(c, sc.write); err != nil || sc.close {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, b := range s.bad {
			t.Errorf("the server got a request that is not the notify: %s", b)
		}
	})
	return s
}

func (s *rawServer) url() string { return "http://" + s.ln.Addr().String() + "/notify?shop=1" }

// signed is a notify as the notifier signs it.
func signed(t *testing.T) notify.SignedNotify {
	t.Helper()
	note := notify.Notification{PaymentCode: "GOPAY", ReferenceNumber: "LEAN-1", Status: "PAID", TotalAmount: 58000}
	sn := notify.Sign(note, "key", time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC), notify.VariantValid)
	sn.Header.Set(HeaderDeliveryID, "dlv_1")
	sn.Header.Set(HeaderAttempt, "1")
	return sn
}

// leanPost posts sn to rawURL through c, with timeout.
func leanPost(t *testing.T, c *leanClient, rawURL string, sn notify.SignedNotify, timeout time.Duration) (int, string, error) {
	t.Helper()
	var p outboundPolicy
	tg := newTarget(context.Background(), &p, rawURL)
	if tg.err != nil || !tg.lean {
		t.Fatalf("%s: %v, lean %t; want a URL the lean client posts to", rawURL, tg.err, tg.lean)
	}
	return c.post(tg.ctx, tg, sn.Header, sn.Body, time.Now().Add(timeout))
}

func newTestClient(t *testing.T) *leanClient {
	t.Helper()
	if !leanPlatform {
		t.Skip("the lean client runs on unix; elsewhere notifies go through net/http")
	}
	var p outboundPolicy
	c := newLeanClient(p.dialer(), 4)
	t.Cleanup(c.closeAll)
	return c
}

const okAnswer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

func gzipped(s string) string {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	io.WriteString(zw, s)
	zw.Close()
	return b.String()
}

func chunks(body string, size int) string {
	var b strings.Builder
	for len(body) > 0 {
		n := min(size, len(body))
		fmt.Fprintf(&b, "%x\r\n%s\r\n", n, body[:n])
		body = body[n:]
	}
	return b.String() + "0\r\n\r\n"
}

// TestLeanClientAnswers: three notifies to a server answering each the
// same way; what the client reads, and how many connections it took.
func TestLeanClientAnswers(t *testing.T) {
	big := strings.Repeat("a", 10_000)
	huge := strings.Repeat("b", 2<<20)
	for _, tt := range []struct {
		name   string
		answer script
		status int
		body   string
		conns  int64  // for three notifies
		err    string // in the error, when one is expected
	}{
		{"keep-alive with Content-Length", script{write: okAnswer}, 200, "ok", 1, ""},
		{"Connection: close", script{write: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", close: true}, 200, "ok", 3, ""},
		{"Connection: close, server keeps it open", script{write: "HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close\r\nContent-Length: 2\r\n\r\nok"}, 200, "ok", 3, ""},
		{"HTTP/1.0 closes by default", script{write: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"}, 200, "ok", 3, ""},
		{"HTTP/1.0 keep-alive", script{write: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok"}, 200, "ok", 1, ""},
		{"HTTP/1.0 to the end of the connection", script{write: "HTTP/1.0 200 OK\r\n\r\nall of it", close: true}, 200, "all of it", 3, ""},
		{"HTTP/1.1 without a length", script{write: "HTTP/1.1 202 Accepted\r\n\r\nall of it", close: true}, 202, "all of it", 3, ""},
		{"chunked", script{write: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks("ok!!!", 2)}, 200, "ok!!!", 1, ""},
		{"chunked with a trailer", script{write: "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n2\r\nok\r\n0\r\nX-Done: 1\r\n\r\n"}, 200, "ok", 1, ""},
		{"chunked over 4 KiB", script{write: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks(big, 3000)}, 200, big[:4096], 1, ""},
		{"chunked over 1 MiB", script{write: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks(huge, 1<<16)}, 200, huge[:4096], 3, ""},
		{"body over 4 KiB", script{write: "HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n" + big}, 200, big[:4096], 1, ""},
		{"body over 1 MiB", script{write: "HTTP/1.1 200 OK\r\nContent-Length: 2097152\r\n\r\n" + huge}, 200, huge[:4096], 3, ""},
		{"100 Continue and 102 first", script{write: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n" + okAnswer}, 200, "ok", 1, ""},
		{"204 has no body", script{write: "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"}, 204, "", 1, ""},
		{"302 is an answer, not followed", script{write: "HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/\r\nContent-Length: 0\r\n\r\n"}, 302, "", 1, ""},
		{"500 with a body", script{write: "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nnope"}, 500, "nope", 1, ""},
		{"gzip, as net/http asked for", script{write: "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + strconv.Itoa(len(gzipped("zipped"))) + "\r\n\r\n" + gzipped("zipped")}, 200, "zipped", 3, ""},
		{"bare LF line ends", script{write: "HTTP/1.1 200 OK\nContent-Length: 2\n\nok"}, 200, "ok", 1, ""},
		{"no reason phrase", script{write: "HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok"}, 200, "ok", 1, ""},
		{"repeated equal Content-Length", script{write: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"}, 200, "ok", 1, ""},
		{"a long header line", script{write: "HTTP/1.1 200 OK\r\nSet-Cookie: " + strings.Repeat("c", 9000) + "\r\nContent-Length: 2\r\n\r\nok"}, 200, "ok", 1, ""},
		{"a stray byte after the body", script{write: okAnswer + "!"}, 200, "ok", 3, ""},

		{"garbage", script{write: "garbage\r\n\r\n"}, 0, "", 3, `malformed status line "garbage"; expected e.g. "HTTP/1.1 200 OK"`},
		{"binary garbage", script{write: "\x00\xff\xfe\r\n\r\n"}, 0, "", 3, `malformed status line "\x00\xff\xfe"`},
		{"HTTP/0.9", script{write: "HTTP/0.9 200 OK\r\n\r\n"}, 0, "", 3, "malformed status line"},
		{"status not a number", script{write: "HTTP/1.1 2x0 OK\r\n\r\n"}, 0, "", 3, "malformed status line"},
		{"a header line without a colon", script{write: "HTTP/1.1 200 OK\r\nContent-Length 2\r\n\r\nok"}, 0, "", 3, `malformed header line "Content-Length 2"`},
		{"bad Content-Length", script{write: "HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\nok"}, 0, "", 3, `Content-Length "-2"; expected a number of bytes`},
		{"two Content-Lengths", script{write: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok"}, 0, "", 3, "two different Content-Length values, 2 and 3"},
		{"unsupported Transfer-Encoding", script{write: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"}, 0, "", 3, `Transfer-Encoding "gzip, chunked"; expected chunked or none`},
		{"too many 1xx", script{write: strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", 6) + okAnswer}, 0, "", 3, "more than 5 interim 1xx answers"},
		{"closed inside the header", script{write: "HTTP/1.1 200 OK\r\nContent-Le", close: true}, 0, "", 3, "unexpected EOF"},
		{"closed without an answer", script{close: true}, 0, "", 3, "EOF"},
		{"a folded Content-Length", script{write: "HTTP/1.1 200 OK\r\nContent-Length:\r\n 2\r\n\r\nok"}, 0, "", 3, "Content-Length"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newRawServer(t, func(int64) script { return tt.answer })
			c := newTestClient(t)
			sn := signed(t)
			for i := range 3 {
				status, body, err := leanPost(t, c, srv.url(), sn, 10*time.Second)
				switch {
				case tt.err == "" && err != nil:
					t.Fatalf("notify %d: %v, want HTTP %d", i+1, err, tt.status)
				case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
					t.Fatalf("notify %d: HTTP %d %q, error %v; want an error containing %q", i+1, status, body, err, tt.err)
				case status != tt.status || body != tt.body:
					t.Fatalf("notify %d: HTTP %d with %d bytes %.20q, want HTTP %d with %d bytes %.20q", i+1, status, len(body), body, tt.status, len(tt.body), tt.body)
				}
			}
			if got := srv.conns.Load(); got != tt.conns {
				t.Errorf("3 notifies took %d connections, want %d", got, tt.conns)
			}
			if got := srv.requests.Load(); got != 3 {
				t.Errorf("the server got %d requests, want 3", got)
			}
		})
	}
}

// TestLeanRequestBytes: the lean client writes, byte for byte, what
// net/http's Transport (configured as the notifier configures it) writes
// for the same signed notify.
func TestLeanRequestBytes(t *testing.T) {
	got := make(chan []byte, 1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				var raw bytes.Buffer
				length := 0
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					raw.WriteString(line)
					if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
						length, _ = strconv.Atoi(strings.TrimSpace(v))
					}
					if line == "\r\n" {
						break
					}
				}
				body := make([]byte, length)
				if _, err := io.ReadFull(br, body); err != nil {
					return
				}
				raw.Write(body)
				got <- raw.Bytes()
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
			}()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	n, err := New(Options{Workers: 1, Clocks: soon{time.Now()}, Store: &recorder{}})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close(context.Background())
	c := newTestClient(t)
	for _, u := range []string{
		"http://127.0.0.1:" + port + "/notify",
		"http://127.0.0.1:" + port,
		"http://127.0.0.1:" + port + "/a%20b/c?x=1&y=%2F#frag",
		"http://[::ffff:127.0.0.1]:" + port + "/n",
		"http://localhost:" + port + "/n?",
	} {
		t.Run(u, func(t *testing.T) {
			sn := signed(t)
			req, err := sn.NewRequest(context.Background(), u)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := n.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			want := <-got
			if _, _, err := leanPost(t, c, u, sn, 10*time.Second); err != nil {
				t.Fatal(err)
			}
			if lean := <-got; !bytes.Equal(lean, want) {
				t.Errorf("lean client wrote\n%s\nnet/http wrote\n%s", lean, want)
			}
		})
	}
}

// TestLeanStaleConnection: a pooled connection the server closed while
// it was idle is not used: the request goes on a fresh connection. A
// request the server read is never sent again, whether part of an answer
// came or none (the server may have acted on it; the notify's policy
// decides on another attempt).
func TestLeanStaleConnection(t *testing.T) {
	const partial = "HTTP/1.1 200 OK\r\nContent-Len"
	for _, tt := range []struct {
		name     string
		answer   func(n int64) script
		err      string // of the second notify; none when empty
		conns    int64
		requests int64 // as the server read them
	}{
		{"closed while idle: sent on a fresh connection",
			func(int64) script { return script{write: okAnswer, close: true} }, "", 2, 2},
		{"part of an answer came: not retried",
			func(n int64) script {
				if n == 2 {
					return script{write: partial, close: true}
				}
				return script{write: okAnswer}
			}, "unexpected EOF", 1, 2},
		{"read, then closed without an answer on a reused connection: not sent again",
			func(n int64) script {
				if n == 2 {
					return script{close: true}
				}
				return script{write: okAnswer}
			}, "EOF", 1, 2},
		{"closed while idle, then the fresh connection closed without an answer: not sent again",
			func(n int64) script {
				if n == 1 {
					return script{write: okAnswer, close: true}
				}
				return script{close: true}
			}, "EOF", 2, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newRawServer(t, tt.answer)
			c := newTestClient(t)
			sn := signed(t)
			if status, _, err := leanPost(t, c, srv.url(), sn, 10*time.Second); err != nil || status != 200 {
				t.Fatalf("first notify: HTTP %d, %v; want 200", status, err)
			}
			// The server's close has reached the client's socket once the
			// server's handler returned: wait for that, not for a time.
			waitConnsClosed(t, srv, tt.answer(1).close)
			status, _, err := leanPost(t, c, srv.url(), sn, 10*time.Second)
			switch {
			case tt.err == "" && (err != nil || status != 200):
				t.Errorf("second notify: HTTP %d, %v; want 200", status, err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("second notify: HTTP %d, %v; want an error containing %q", status, err, tt.err)
			}
			if got := srv.conns.Load(); got != tt.conns {
				t.Errorf("%d connections, want %d", got, tt.conns)
			}
			if got := srv.requests.Load(); got != tt.requests {
				t.Errorf("the server read %d requests, want %d", got, tt.requests)
			}
		})
	}

	t.Run("idle past the last request's deadline: reused", func(t *testing.T) {
		srv := newRawServer(t, func(int64) script { return script{write: okAnswer} })
		c := newTestClient(t)
		for i := range 2 {
			if status, _, err := leanPost(t, c, srv.url(), signed(t), 10*time.Second); err != nil || status != 200 {
				t.Fatalf("notify %d: HTTP %d, %v; want 200", i+1, status, err)
			}
			c.mu.Lock()
			for _, idle := range c.idle {
				for _, pc := range idle {
					pc.conn.SetDeadline(time.Now().Add(-time.Second)) // as if its timeout passed while it was idle
				}
			}
			c.mu.Unlock()
		}
		if got := srv.conns.Load(); got != 1 {
			t.Errorf("%d connections, want 1", got)
		}
	})

	t.Run("a fresh connection closed without an answer: not retried", func(t *testing.T) {
		srv := newRawServer(t, func(int64) script { return script{close: true} })
		c := newTestClient(t)
		if _, _, err := leanPost(t, c, srv.url(), signed(t), 10*time.Second); !errors.Is(err, io.EOF) {
			t.Errorf("got %v, want EOF", err)
		}
		if got := srv.conns.Load(); got != 1 {
			t.Errorf("%d connections, want 1", got)
		}
	})
}

// waitConnsClosed waits until the server closed its first connection,
// when its script closes it: on loopback the close has then reached the
// client's socket.
func waitConnsClosed(t *testing.T, srv *rawServer, closes bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for closes && srv.closed.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the server did not close the connection within 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestNotifierKeepAlive: many notifies to one merchant, through the
// notifier, over one connection; each journalled with its answer.
func TestNotifierKeepAlive(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Signature") == "" || r.Header.Get(HeaderAttempt) != "1" {
			w.WriteHeader(http.StatusBadRequest)
		}
		io.WriteString(w, `{"ok":true}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	st := &recorder{}
	n, err := New(Options{Workers: 1, Clocks: soon{time.Now()}, Store: st, SandboxHeaders: true})
	if err != nil {
		t.Fatal(err)
	}
	n.Start()
	defer n.Close(context.Background())
	const count = 50
	for i := range count {
		note := notify.Notification{PaymentCode: "GOPAY", ReferenceNumber: "KA-" + strconv.Itoa(i), Status: "PAID", TotalAmount: 58000}
		n.Send(n.Prepare("c", srv.URL+"/hook", "key", note, Policy{Timeout: 10 * time.Second, Variant: notify.VariantValid}))
	}
	waitAttempts(t, st, count)
	for _, a := range st.all() {
		if a.Outcome != OutcomeDelivered || a.ResponseStatus != 200 || a.ResponseBody != `{"ok":true}` || a.RequestHeaders["X-Signature"] == "" {
			t.Fatalf("attempt %+v; want delivered with HTTP 200 {\"ok\":true}", a)
		}
	}
	if got := conns.Load(); got != 1 {
		t.Errorf("%d notifies took %d connections, want 1", count, got)
	}
}

// TestNotifierLeanFailures: the journal of attempts that fail through
// the lean client reads as it did through net/http.
func TestNotifierLeanFailures(t *testing.T) {
	newTestClient(t)                                                  // skips where there is no lean client
	silent := newRawServer(t, func(int64) script { return script{} }) // reads, never answers
	refused := newRawServer(t, func(int64) script { return script{} })
	refused.ln.Close()
	garbage := newRawServer(t, func(int64) script { return script{write: "garbage\r\n\r\n"} })
	for _, tt := range []struct {
		name, url string
		want      string // the journal's error, exactly or (prefixed with ~) in part
	}{
		{"no answer", silent.url(), "no answer within the timeout of 300ms"},
		{"nothing listens", refused.url(), `~Post "` + refused.url() + `": dial tcp ` + refused.ln.Addr().String() + ": connect: connection refused"},
		{"garbage", garbage.url(), `Post "` + garbage.url() + `": unreadable HTTP answer: a malformed status line "garbage"; expected e.g. "HTTP/1.1 200 OK"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := &recorder{}
			n, err := New(Options{Workers: 1, Clocks: soon{time.Now()}, Store: st})
			if err != nil {
				t.Fatal(err)
			}
			n.Start()
			defer n.Close(context.Background())
			note := notify.Notification{ReferenceNumber: "FAIL-1", Status: "PAID"}
			n.Send(n.Prepare("c", tt.url, "key", note, Policy{Timeout: 300 * time.Millisecond, Variant: notify.VariantValid}))
			waitAttempts(t, st, 1)
			a := st.all()[0]
			want, part := strings.CutPrefix(tt.want, "~")
			if a.Outcome != OutcomeGaveUp || part && !strings.Contains(a.Error, want) || !part && a.Error != want {
				t.Errorf("journal: %s, %q; want gave-up, %q", a.Outcome, a.Error, tt.want)
			}
		})
	}
}

// TestNotifierCloseInterrupts: Close, when its context is done, ends an
// attempt the lean client is waiting on; the journal says the sandbox
// stopped during it.
func TestNotifierCloseInterrupts(t *testing.T) {
	silent := newRawServer(t, func(int64) script { return script{} })
	st := &recorder{}
	n, err := New(Options{Workers: 1, Clocks: soon{time.Now()}, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	n.Start()
	n.Send(n.Prepare("c", silent.url(), "key", notify.Notification{ReferenceNumber: "STOP-1"}, Policy{Timeout: time.Hour, Variant: notify.VariantValid}))
	deadline := time.Now().Add(10 * time.Second)
	for silent.requests.Load() == 0 { // the attempt is in flight
		if time.Now().After(deadline) {
			t.Fatal("the notify did not reach the server within 10 s")
		}
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n.Close(ctx)
	waitAttempts(t, st, 1)
	a := st.all()[0]
	if a.Outcome != OutcomeInterrupted || a.Error != "the sandbox stopped during this attempt" {
		t.Errorf("journal: %s, %q; want interrupted during the attempt", a.Outcome, a.Error)
	}
}

// TestLeanHeader: headers the lean client leaves to net/http.
func TestLeanHeader(t *testing.T) {
	for _, tt := range []struct {
		name string
		h    http.Header
		want bool
	}{
		{"a signed notify", signed(t).Header, true},
		{"User-Agent", http.Header{"User-Agent": {"shop"}}, false},
		{"lower-case host", http.Header{"host": {"x"}}, false},
		{"Accept-Encoding", http.Header{"Accept-Encoding": {"br"}}, false},
		{"Expect", http.Header{"Expect": {"100-continue"}}, false},
		{"a name with a space", http.Header{"X Y": {"1"}}, false},
		{"a value with a newline", http.Header{"X-Y": {"1\r\nX-Z: 2"}}, false},
		{"a value with a tab and UTF-8", http.Header{"X-Y": {"a\tb é"}}, true},
	} {
		if got := leanHeader(tt.h); got != tt.want {
			t.Errorf("%s: leanHeader %t, want %t", tt.name, got, tt.want)
		}
	}
}

// TestNewTarget: the URLs the lean client posts to, and the ones it
// leaves to net/http.
func TestNewTarget(t *testing.T) {
	for _, tt := range []struct {
		url             string
		lean            bool
		addr, host, uri string
	}{
		{"http://127.0.0.1:3000/notify?a=1", true, "127.0.0.1:3000", "127.0.0.1:3000", "/notify?a=1"},
		{"http://shop.test", true, "shop.test:80", "shop.test", "/"},
		{"http://shop.test:/n", true, "shop.test:80", "shop.test", "/n"},
		{"http://[::1]:8080/n", true, "[::1]:8080", "[::1]:8080", "/n"},
		{"https://shop.test/n", false, "", "", ""},
		{"http://user:pw@shop.test/n", false, "", "", ""},
		{"http://bücher.test/n", false, "", "", ""},
	} {
		var p outboundPolicy
		tg := newTarget(context.Background(), &p, tt.url)
		if tg.err != nil {
			t.Errorf("%s: %v", tt.url, tg.err)
			continue
		}
		want := tt.lean && leanPlatform
		if tg.lean != want || want && (tg.addr != tt.addr || tg.host != tt.host || tg.uri != tt.uri) {
			t.Errorf("%s: lean %t, %q %q %q; want lean %t, %q %q %q", tt.url, tg.lean, tg.addr, tg.host, tg.uri, want, tt.addr, tt.host, tt.uri)
		}
	}
}

// FuzzReadAnswer: whatever a server sends, reading it ends with an
// answer or an error, never a panic or a hang, and keeps no more of the
// body than the journal holds.
func FuzzReadAnswer(f *testing.F) {
	for _, s := range []string{okAnswer, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\n" + okAnswer, "HTTP/1.0 200 OK\r\n\r\nbody", "garbage", "HTTP/1.1 200 OK\r\nContent-Length: 99999\r\n\r\nab"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pc := &leanConn{br: bufio.NewReaderSize(bytes.NewReader(data), 4<<10)}
		status, body, _, err := pc.readAnswer()
		if err == nil && (status < 100 || status > 999) {
			t.Errorf("status %d from %q", status, data)
		}
		if len(body) > maxResponseBody {
			t.Errorf("kept %d bytes of the body", len(body))
		}
	})
}
