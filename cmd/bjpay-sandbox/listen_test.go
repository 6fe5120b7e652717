package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/signer"
)

// verifyingReceiver is a merchant's local webhook: it checks each notify's
// signature with the merchant's key (package signer) and answers 200, or
// 401 for a notify that does not verify.
type verifyingReceiver struct {
	*httptest.Server
	key string

	mu   sync.Mutex
	got  []string // referenceNumber of each verified notify
	bad  []string // why the others failed
	when []time.Time
}

func newVerifyingReceiver(t *testing.T, clientID, secret string) *verifyingReceiver {
	r := &verifyingReceiver{key: signer.Key(clientID, secret)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var n struct{ ReferenceNumber string }
		_ = json.Unmarshal(body, &n)
		r.mu.Lock()
		defer r.mu.Unlock()
		if err := signer.VerifyNotify(r.key, req.Header, body); err != nil {
			r.bad = append(r.bad, err.Error())
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		r.got = append(r.got, n.ReferenceNumber)
		r.when = append(r.when, time.Now())
		fmt.Fprint(w, "ok "+n.ReferenceNumber)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *verifyingReceiver) firstAt() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.when[0]
}

func (r *verifyingReceiver) received() (got, bad []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...), append([]string(nil), r.bad...)
}

// sharedSandbox is a running `serve` with an admin token, over TLS, and
// a client that trusts it.
type sharedSandbox struct {
	base, caCert string
	client       *http.Client
}

const sharedAdminToken = "listen-test-admin-token"

// control calls the sandbox's control API with token and decodes the
// answer into out; any answer but want fails the test.
func (s *sharedSandbox) control(t *testing.T, token, method, path, body string, want int, out any) {
	t.Helper()
	req, _ := http.NewRequest(method, s.base+"/_sandbox"+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	status, answer, err := do(s.client, req)
	if err != nil || status != want {
		t.Fatalf("%s %s: %d %s %v; want %d", method, path, status, answer, err, want)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(answer), out); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, path, err, answer)
		}
	}
}

type sharedMerchant struct{ ClientID, ClientSecret, Token string }

// pay creates a payment of m with reference ref through BJPAY's API and
// pays it through the control API with m's token.
func (s *sharedSandbox) pay(t *testing.T, m sharedMerchant, ref string) {
	t.Helper()
	body := `{"paymentCode":"GOPAY","referenceNumber":"` + ref + `","customerName":"Budi","customerEmail":"budi@example.com","customerPhoneNumber":"6281234567890","totalAmount":58000,"items":[{"name":"MLBB Diamond - 250","quantity":1,"amount":58000}]}`
	req, _ := http.NewRequest(http.MethodPost, s.base+"/api/merchant/transaction/create", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Client-Id", m.ClientID)
	req.Header.Set("X-Client-Secret", m.ClientSecret)
	req.Header.Set("X-Request-Time", time.Now().Format(time.RFC3339))
	if status, answer, err := do(s.client, req); err != nil || status != 200 {
		t.Fatalf("create %s: %d %s %v", ref, status, answer, err)
	}
	s.control(t, m.Token, "POST", "/transactions/"+ref+"/pay", "", 200, nil)
}

// journalEntry is what the tests read of an attempt in the journal.
type journalEntry struct {
	Attempt        int
	Outcome        string
	URL            string
	Relayed        bool
	ResponseStatus int
	ResponseBody   string
	LatencyMs      float64
	Error          string
	NextAttemptAt  *time.Time
}

// attempts reads m's journal for ref.
func (s *sharedSandbox) attempts(t *testing.T, m sharedMerchant, ref string) []journalEntry {
	t.Helper()
	var as []journalEntry
	s.control(t, m.Token, "GET", "/deliveries?referenceNumber="+ref, "", 200, &as)
	return as
}

// listening is a `listen` run in process, as main runs it.
type listening struct {
	stdout, stderr *syncBuffer
	cancel         context.CancelFunc
	done           chan error
	once           sync.Once
	err            error
	ended          bool
}

func startListen(t *testing.T, args ...string) *listening {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &listening{stdout: &syncBuffer{}, stderr: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() { l.done <- run(ctx, append([]string{"listen"}, args...), l.stdout, l.stderr) }()
	t.Cleanup(func() { l.stop(t) })
	waitUntil(t, "listen is ready", func() bool { return strings.Contains(l.stderr.String(), "> Ready!") }, l.stderr)
	return l
}

// wait waits up to 15 s for listen to return, and reports what it
// returned and whether it did.
func (l *listening) wait() (ended bool, err error) {
	l.once.Do(func() {
		select {
		case l.err = <-l.done:
			l.ended = true
		case <-time.After(15 * time.Second):
		}
	})
	return l.ended, l.err
}

// stop sends what ^C sends and waits for listen to return.
func (l *listening) stop(t *testing.T) {
	t.Helper()
	l.cancel()
	if ended, err := l.wait(); !ended {
		t.Errorf("listen did not stop within 15 s of ^C")
	} else if err != nil {
		t.Errorf("listen returned %v, want a clean stop\n%s", err, l.stderr)
	}
}

func waitUntil(t *testing.T, what string, cond func() bool, show fmt.Stringer) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20 s\n%s", what, show)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestListen: two merchants share a sandbox served over TLS, each
// developer running the real `listen` command towards a receiver on
// loopback. A's PAID notify reaches A's receiver exactly as signed (the
// receiver verifies it with package signer), never A's notify URL nor B's
// receiver, and the journal records the receiver's answer. With A's
// listener stopped, an attempt is journalled listener-offline; once it
// reconnects, the retry is delivered. listen --off hands A's notifies back
// to their URL. Timings are logged, not asserted.
func TestListen(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir, "sandbox")
	base, _, serverLog := startServer(t, serveOptions{adminToken: sharedAdminToken, tlsCert: cert, tlsKey: key,
		clockMode: "virtual", speed: 1, workers: 16, maxPending: 1000})
	roots := x509.NewCertPool()
	pemBytes, _ := os.ReadFile(cert)
	roots.AppendCertsFromPEM(pemBytes)
	s := &sharedSandbox{base: base, caCert: cert, client: &http.Client{Timeout: 10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}}

	// The notify URL the merchants registered: relayed notifies never go there.
	var direct sync.Map
	publicURL := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { direct.Store(r.URL.Path, true) }))
	defer publicURL.Close()
	var a, b sharedMerchant
	s.control(t, sharedAdminToken, "POST", "/merchants", `{"name":"A","notifyUrl":"`+publicURL.URL+`/a"}`, 201, &a)
	s.control(t, sharedAdminToken, "POST", "/merchants", `{"name":"B","notifyUrl":"`+publicURL.URL+`/b"}`, 201, &b)
	recvA, recvB := newVerifyingReceiver(t, a.ClientID, a.ClientSecret), newVerifyingReceiver(t, b.ClientID, b.ClientSecret)

	// B's token does not listen for A: the sandbox refuses, naming the
	// scope needed, and listen stops rather than retry.
	var refusedOut, refusedErr bytes.Buffer
	err := run(context.Background(), []string{"listen", "--sandbox", base, "--token", b.Token, "--client-id", a.ClientID,
		"--forward-to", recvB.URL, "--ca-cert", cert}, &refusedOut, &refusedErr)
	if err == nil || !strings.Contains(err.Error(), "(403)") || !strings.Contains(err.Error(), "merchant:"+a.ClientID) {
		t.Errorf("listen with B's token for A: %v; want a 403 naming scope merchant:%s", err, a.ClientID)
	}

	// A listens with its own token, B's developer with the admin token.
	listenA := startListen(t, "--sandbox", base, "--token", a.Token, "--forward-to", recvA.URL+"/webhook", "--ca-cert", cert)
	startListen(t, "--sandbox", base, "--token", sharedAdminToken, "--client-id", b.ClientID, "--forward-to", recvB.URL+"/webhook", "--ca-cert", cert)

	paid := time.Now()
	s.pay(t, a, "LISTEN-A1")
	waitUntil(t, "A's receiver gets LISTEN-A1", func() bool { got, bad := recvA.received(); return len(got)+len(bad) > 0 }, listenA.stdout)
	relayLatency := recvA.firstAt().Sub(paid)
	waitUntil(t, "the journal records it", func() bool { return len(s.attempts(t, a, "LISTEN-A1")) > 0 }, listenA.stderr)
	if got, bad := recvA.received(); len(got) != 1 || got[0] != "LISTEN-A1" || len(bad) != 0 {
		t.Fatalf("A's receiver verified %v and refused %v; want LISTEN-A1, verified", got, bad)
	}
	j := s.attempts(t, a, "LISTEN-A1")[0]
	if j.Outcome != "delivered" || !j.Relayed || j.ResponseStatus != 200 || j.ResponseBody != "ok LISTEN-A1" || j.URL != recvA.URL+"/webhook" {
		t.Errorf("journal: %+v; want delivered through the listener with the receiver's 200 and body", j)
	}
	if out := listenA.stdout.String(); !strings.Contains(out, "--> PAID LISTEN-A1 [dlv_") || !strings.Contains(out, "<--  [200] POST "+recvA.URL+"/webhook") {
		t.Errorf("listen printed:\n%s\nwant the notify and the answer, as the Stripe CLI's listen prints them", out)
	}
	t.Logf("relay: from the create and pay calls to A's receiver verifying the notify, %s; journal latency (the receiver's, as listen measured it) %.2f ms", relayLatency.Round(time.Microsecond), j.LatencyMs)

	// A's listener stops; the next attempt finds nobody.
	listenA.stop(t)
	if !strings.Contains(listenA.stderr.String(), "> Stopped. Relay stays on") {
		t.Errorf("listen's goodbye:\n%s", listenA.stderr)
	}
	offline := time.Now()
	s.pay(t, a, "LISTEN-A2")
	waitUntil(t, "the offline attempt is journalled", func() bool { return len(s.attempts(t, a, "LISTEN-A2")) > 0 }, listenA.stderr)
	if j := s.attempts(t, a, "LISTEN-A2")[0]; j.Outcome != "listener-offline" || !j.Relayed || j.NextAttemptAt == nil || !strings.Contains(j.Error, "no listener is connected") {
		t.Fatalf("attempt without a listener: %+v; want listener-offline with its next attempt", j)
	}
	// It reconnects, and the retry, due a minute later on the sandbox
	// clock, is delivered.
	reconnectStart := time.Now()
	listenA = startListen(t, "--sandbox", base, "--token", a.Token, "--forward-to", recvA.URL+"/webhook", "--ca-cert", cert)
	reconnected := time.Now()
	s.control(t, a.Token, "POST", "/merchants/"+a.ClientID+"/clock/advance", `{"by":"1m"}`, 200, nil) // A's own clock
	waitUntil(t, "the retry is delivered", func() bool { return len(s.attempts(t, a, "LISTEN-A2")) == 2 }, listenA.stderr)
	delivered := time.Now()
	// The journal lists the newest first.
	if j := s.attempts(t, a, "LISTEN-A2")[0]; j.Outcome != "delivered" || j.Attempt != 2 || j.ResponseStatus != 200 {
		t.Errorf("the retry after reconnecting: %+v; want attempt 2 delivered", j)
	}
	t.Logf("offline → reconnect → delivered: offline attempt journalled %s after pay; listener ready %s after starting; retry delivered %s after the advance (%s from going offline, mostly the test's own steps)",
		reconnectStart.Sub(offline).Round(time.Millisecond), reconnected.Sub(reconnectStart).Round(time.Millisecond),
		delivered.Sub(reconnected).Round(time.Millisecond), delivered.Sub(offline).Round(time.Millisecond))

	// B's own notify reaches B's receiver; B's never saw A's.
	s.pay(t, b, "LISTEN-B1")
	waitUntil(t, "B's receiver gets LISTEN-B1", func() bool { got, _ := recvB.received(); return len(got) > 0 }, listenA.stdout)
	if got, bad := recvB.received(); len(got) != 1 || got[0] != "LISTEN-B1" || len(bad) != 0 {
		t.Errorf("B's receiver verified %v and refused %v; want only LISTEN-B1", got, bad)
	}
	if got, _ := recvA.received(); len(got) != 2 {
		t.Errorf("A's receiver verified %v; want LISTEN-A1 and LISTEN-A2 only", got)
	}
	direct.Range(func(k, _ any) bool { t.Errorf("a relayed notify went to the notify URL too (%s)", k); return true })

	// listen --off: A's notifies go to their URL again, and A's listener stops.
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"listen", "--sandbox", base, "--token", a.Token, "--off", "--ca-cert", cert}, &out, &errOut); err != nil {
		t.Fatalf("listen --off: %v\n%s", err, &errOut)
	}
	if !strings.Contains(out.String(), "Relay is off for merchant "+a.ClientID) {
		t.Errorf("listen --off printed %q", &out)
	}
	if ended, err := listenA.wait(); !ended || err != nil {
		t.Fatalf("A's listener once relay was switched off: ended %v with %v; want a clean stop", ended, err)
	}
	if !strings.Contains(listenA.stderr.String(), "Relay was switched off") {
		t.Errorf("listen's goodbye:\n%s", listenA.stderr)
	}
	s.pay(t, a, "LISTEN-A3")
	waitUntil(t, "LISTEN-A3 reaches A's notify URL", func() bool { _, ok := direct.Load("/a"); return ok }, listenA.stderr)
	if !strings.Contains(serverLog.String(), "listener connected") {
		t.Errorf("the sandbox's log does not show the listener:\n%s", serverLog)
	}
	for _, tok := range []string{a.Token, b.Token, sharedAdminToken} {
		if strings.Contains(listenA.stdout.String()+listenA.stderr.String(), tok) {
			t.Error("listen printed a token")
		}
		if strings.Contains(serverLog.String(), tok) {
			t.Error("the sandbox logged a token")
		}
	}
}

// TestListenSignals: the real binary, listening, stops cleanly (exit 0)
// on SIGINT and on SIGTERM, saying that relay stays on.
func TestListenSignals(t *testing.T) {
	bin := buildCLI(t)
	base, _, _ := startServer(t, serveOptions{})
	recv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer recv.Close()
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			// Loopback, no admin token: the admin, who names the merchant.
			cmd := exec.Command(bin, "listen", "--sandbox", base, "--client-id", "2f9d6a0e-4c1b-4e8a-9b7d-5a3c1e0f8b21", "--forward-to", recv.URL)
			_, stderr, exited := startCLI(t, cmd)
			waitUntil(t, "listen is ready", func() bool { return strings.Contains(stderr.String(), "> Ready!") }, stderr)
			sent := time.Now()
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-exited:
				if err != nil || !strings.Contains(stderr.String(), "> Stopped. Relay stays on") {
					t.Errorf("after %s: %v\n%s", sig, err, stderr)
				}
				t.Logf("%s: exited 0 in %s", sig, time.Since(sent).Round(time.Millisecond))
			case <-time.After(10 * time.Second):
				t.Fatalf("listen still running 10 s after %s", sig)
			}
		})
	}
}

// serveAt runs the real serve code on addr until stop is called.
func serveAt(t *testing.T, addr string) (stop func()) {
	t.Helper()
	srv, err := newServer(serveOptions{addr: addr, clockMode: "real", speed: 1, workers: 16, maxPending: 1000}, io.Discard)
	if err != nil {
		t.Fatalf("newServer on %s: %v", addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// TestListenReconnects: listen started before its sandbox retries until
// the sandbox is up; when the sandbox stops, it says so and reconnects to
// the one that starts in its place, and relays that one's notifies.
func TestListenReconnects(t *testing.T) {
	const id, secret = "2f9d6a0e-4c1b-4e8a-9b7d-5a3c1e0f8b21", "sandbox-secret-change-me"
	addr := freeAddr(t)
	recv := newVerifyingReceiver(t, id, secret)
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"listen", "--sandbox", "http://" + addr, "--client-id", id, "--forward-to", recv.URL}, stdout, stderr)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("listen: %v", err)
		}
	}()
	readies := func(n int) func() bool {
		return func() bool { return strings.Count(stderr.String(), "> Ready!") >= n }
	}
	waitUntil(t, "listen retries a sandbox that is not up", func() bool { return strings.Contains(stderr.String(), "cannot reach the sandbox") }, stderr)
	up := time.Now()
	stop := serveAt(t, addr)
	waitUntil(t, "listen connects once it is up", readies(1), stderr)
	firstConnect := time.Since(up)
	stop()
	waitUntil(t, "listen sees the sandbox stop", func() bool { return strings.Contains(stderr.String(), "the sandbox is stopping; reconnecting in") }, stderr)
	up = time.Now()
	serveAt(t, addr)
	waitUntil(t, "listen reconnects to the new sandbox", readies(2), stderr)
	reconnect := time.Since(up)
	s := &sharedSandbox{base: "http://" + addr, client: &http.Client{Timeout: 10 * time.Second}}
	s.pay(t, sharedMerchant{ClientID: id, ClientSecret: secret}, "RECONNECTED-1")
	waitUntil(t, "the new sandbox's notify is relayed", func() bool { got, _ := recv.received(); return len(got) == 1 }, stdout)
	t.Logf("connected %s after the sandbox came up; reconnected %s after it came back (backoff from 0.5 s, doubling, ±20 %%)", firstConnect.Round(time.Millisecond), reconnect.Round(time.Millisecond))
}
