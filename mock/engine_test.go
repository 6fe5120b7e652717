package mock_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock"
	"github.com/bjpay/bjpay-sandbox/mock/delivery"
	"github.com/bjpay/bjpay-sandbox/mock/notify"
	"github.com/bjpay/bjpay-sandbox/mock/store"
	"github.com/bjpay/bjpay-sandbox/scenarios"
	"github.com/bjpay/bjpay-sandbox/signer"
)

// received is one notify as a merchant's test server saw it.
type received struct {
	Header http.Header
	Body   []byte
	Note   notify.Notification
}

// receiver is a merchant's notify endpoint that records what it gets and
// answers with the statuses in plan (then 200).
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	got  []received
	plan []int
}

func newReceiver(t testing.TB, plan ...int) *receiver {
	rc := &receiver{plan: plan}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var n notify.Notification
		_ = json.Unmarshal(body, &n)
		rc.mu.Lock()
		rc.got = append(rc.got, received{r.Header.Clone(), body, n})
		status := 200
		if len(rc.plan) > 0 {
			status, rc.plan = rc.plan[0], rc.plan[1:]
		}
		rc.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) all() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// engine is a sandbox on a virtual clock (starting at wall time) whose
// requests carry the real X-Request-Time, as a merchant's would.
type engine struct {
	sb *mock.Sandbox
	h  http.Handler
}

func newEngine(t testing.TB, yaml string) *engine {
	t.Helper()
	clock, err := mock.NewSandboxClock(mock.ClockVirtual, 1)
	if err != nil {
		t.Fatal(err)
	}
	var user []scenarios.Scenario
	if yaml != "" {
		if user, err = scenarios.Parse("test.yaml", []byte(yaml)); err != nil {
			t.Fatalf("scenarios: %v", err)
		}
	}
	return startEngine(t, mock.Options{Config: mock.DefaultConfig(), Clock: clock, Seed: 1, Scenarios: user, PublicURL: "http://sandbox.test"})
}

// startEngine builds and starts a sandbox of opts, closed when the test
// ends.
func startEngine(t testing.TB, opts mock.Options) *engine {
	t.Helper()
	sb, err := mock.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	sb.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		sb.Close(ctx)
	})
	return &engine{sb: sb, h: sb.Handler()}
}

func (e *engine) create(t testing.TB, ref, notifyURL string, fields map[string]any) store.Transaction {
	t.Helper()
	f := map[string]any{"referenceNumber": ref, "finishNotifyUrl": notifyURL, "expiredAt": nil}
	for k, v := range fields {
		f[k] = v
	}
	h := validHeaders()
	h.Set("X-Request-Time", time.Now().Format(signer.TimeLayout))
	r := do(t, e.h, http.MethodPost, createPath, h, with(f))
	if r.Status != 200 {
		t.Fatalf("create %s: %d %s", ref, r.Status, r.Body)
	}
	var tx store.Transaction
	if err := json.Unmarshal(r.Data, &tx); err != nil {
		t.Fatal(err)
	}
	return tx
}

// control calls the control API.
func (e *engine) control(t testing.TB, method, path, body string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Host = sandboxHost
	req.Header.Set("Content-Type", "application/json") // as the README's curl examples send
	req.RemoteAddr = loopbackClient
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	waitWithin(t, 10*time.Second, what, cond)
}

func waitWithin(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func demoKey() string { return signer.Key(demoID, demoSecret) }

// TestPaidNotifyVerifies: a paid payment's notify reaches the merchant
// with every documented field, signed so that the real signer accepts it.
func TestPaidNotifyVerifies(t *testing.T) {
	e := newEngine(t, "")
	rc := newReceiver(t)
	tx := e.create(t, "ORDER-1", rc.URL, nil)
	if code, body := e.control(t, "POST", "/_sandbox/transactions/ORDER-1/pay", ""); code != 200 {
		t.Fatalf("pay: %d %s", code, body)
	}
	waitFor(t, "the PAID notify", func() bool { return len(rc.all()) == 1 })
	got := rc.all()[0]
	if err := signer.VerifyNotify(demoKey(), got.Header, got.Body); err != nil {
		t.Fatalf("the real signer rejects the notify: %v\nheaders %v\nbody %s", err, got.Header, got.Body)
	}
	want := tx.Notification(store.StatusPaid)
	if got.Note != want {
		t.Errorf("notify body\ngot  %+v\nwant %+v", got.Note, want)
	}
	var fields map[string]any
	_ = json.Unmarshal(got.Body, &fields)
	for _, f := range []string{"paymentCode", "referenceNumber", "status", "customerName", "customerEmail", "customerPhoneNumber",
		"finishNotifyUrl", "finishReturnUrl", "paymentDest", "paymentDestName", "paymentDestType", "expiredAt", "totalAmount", "fee", "paymentName"} {
		if _, ok := fields[f]; !ok {
			t.Errorf("notify body has no %q", f)
		}
	}
	if ct := got.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if got.Header.Get(delivery.HeaderAttempt) != "1" || got.Header.Get(delivery.HeaderDeliveryID) == "" {
		t.Errorf("sandbox debug headers missing: %v", got.Header)
	}
	// Paying twice is refused: terminal states are final.
	if code, body := e.control(t, "POST", "/_sandbox/transactions/ORDER-1/fail", ""); code != 409 || !strings.Contains(body, "already PAID") {
		t.Errorf("fail after pay: %d %s, want 409 already PAID", code, body)
	}
}

// TestRetries: a receiver that fails twice gets three attempts on the
// schedule; each is stamped with its own send time and signed for it.
func TestRetries(t *testing.T) {
	e := newEngine(t, `
scenarios:
  - name: retry-fast
    match: {reference: "^RETRY-"}
    timeline: [{after: 0s, status: PAID}]
    delivery: {retries: [1m, 5m]}
`)
	rc := newReceiver(t, 500, 503)
	e.create(t, "RETRY-1", rc.URL, nil)
	attempts := func() []delivery.Attempt { return e.sb.Deliveries(demoID, "RETRY-1") }
	waitFor(t, "attempt 1", func() bool { return len(attempts()) == 1 })
	e.sb.AdvanceClock(59 * time.Second)
	time.Sleep(20 * time.Millisecond)
	if n := len(attempts()); n != 1 {
		t.Fatalf("%d attempts before the first retry is due, want 1", n)
	}
	e.sb.AdvanceClock(time.Second)
	waitFor(t, "attempt 2", func() bool { return len(attempts()) == 2 })
	e.sb.AdvanceClock(5 * time.Minute)
	waitFor(t, "attempt 3", func() bool { return len(attempts()) == 3 })

	got := attempts()
	wantOutcome := []string{delivery.OutcomeRetrying, delivery.OutcomeRetrying, delivery.OutcomeDelivered}
	wantStatus := []int{500, 503, 200}
	for i, a := range got {
		if a.Attempt != i+1 || a.Outcome != wantOutcome[i] || a.ResponseStatus != wantStatus[i] || a.DeliveryID != got[0].DeliveryID {
			t.Errorf("attempt %d: #%d %s %d %s, want #%d %s %d in one delivery", i, a.Attempt, a.Outcome, a.ResponseStatus, a.DeliveryID, i+1, wantOutcome[i], wantStatus[i])
		}
		stamp := a.RequestHeaders[signer.HeaderRequestTime]
		if stamp != a.SentAt.In(time.FixedZone("WIB", 7*3600)).Format(signer.TimeLayout) {
			t.Errorf("attempt %d: X-Request-Time %s is not its send time %s", i+1, stamp, a.SentAt)
		}
		h := http.Header{}
		for k, v := range a.RequestHeaders {
			h.Set(k, v)
		}
		if err := signer.VerifyNotify(demoKey(), h, []byte(a.RequestBody)); err != nil {
			t.Errorf("attempt %d is not validly signed for its own stamp: %v", i+1, err)
		}
	}
	if got[0].NextAttemptAt == nil || got[2].NextAttemptAt != nil {
		t.Errorf("nextAttemptAt: %v / %v, want set on failures only", got[0].NextAttemptAt, got[2].NextAttemptAt)
	}
	if n := len(rc.all()); n != 3 {
		t.Errorf("receiver saw %d attempts, want 3", n)
	}
}

// TestGiveUp: after the last retry the journal says so.
func TestGiveUp(t *testing.T) {
	e := newEngine(t, `
scenarios:
  - name: one-retry
    match: {reference: "^GIVEUP-"}
    timeline: [{after: 0s, status: PAID}]
    delivery: {retries: [1s]}
`)
	rc := newReceiver(t, 500, 500, 500)
	e.create(t, "GIVEUP-1", rc.URL, nil)
	waitFor(t, "attempt 1", func() bool { return len(e.sb.Deliveries("", "GIVEUP-1")) == 1 })
	e.sb.AdvanceClock(time.Hour)
	waitFor(t, "attempt 2", func() bool { return len(e.sb.Deliveries("", "GIVEUP-1")) == 2 })
	e.sb.AdvanceClock(24 * time.Hour)
	time.Sleep(20 * time.Millisecond)
	got := e.sb.Deliveries("", "GIVEUP-1")
	if len(got) != 2 || got[1].Outcome != delivery.OutcomeGaveUp || !strings.Contains(got[1].Error, "HTTP 500") {
		t.Fatalf("journal %+v, want 2 attempts ending gave-up with HTTP 500", got)
	}
}

// TestExpiryByClock: a payment left alone expires when the virtual clock
// passes expiredAt, and the EXPIRED notify follows.
func TestExpiryByClock(t *testing.T) {
	e := newEngine(t, "")
	rc := newReceiver(t)
	e.create(t, "ORDER-EXP", rc.URL, nil) // no expiredAt: 24 h
	e.sb.AdvanceClock(23*time.Hour + 59*time.Minute)
	if code, body := e.control(t, "GET", "/_sandbox/transactions/ORDER-EXP", ""); code != 200 || !strings.Contains(body, `"status": "PENDING"`) {
		t.Fatalf("before expiry: %d %s", code, body)
	}
	if code, body := e.control(t, "POST", "/_sandbox/clock/advance", `{"by":"1m"}`); code != 200 {
		t.Fatalf("advance: %d %s", code, body)
	}
	if code, body := e.control(t, "GET", "/_sandbox/transactions/ORDER-EXP", ""); code != 200 || !strings.Contains(body, `"status": "EXPIRED"`) {
		t.Fatalf("after expiry: %d %s", code, body)
	}
	waitFor(t, "the EXPIRED notify", func() bool { return len(rc.all()) == 1 })
	if got := rc.all()[0].Note.Status; got != store.StatusExpired {
		t.Errorf("notify status %s, want EXPIRED", got)
	}
}

// TestLibraryScenarios: the reference prefix picks the behaviour.
func TestLibraryScenarios(t *testing.T) {
	tests := []struct {
		ref      string
		advance  time.Duration
		statuses []string // notifies the merchant receives, in order
		first    bool     // wait for the first notify before moving the clock
		final    string
		check    func(t *testing.T, got []received)
	}{
		{ref: "PAID-1", statuses: []string{"PAID"}, final: "PAID"},
		{ref: "DELAY-1", advance: 2 * time.Second, statuses: []string{"PAID"}, final: "PAID"},
		{ref: "FAIL-1", advance: time.Minute, statuses: []string{"FAILED"}, final: "FAILED"},
		{ref: "EXPIRE-1", advance: time.Minute, statuses: []string{"EXPIRED"}, final: "EXPIRED"},
		{ref: "DUP-1", statuses: []string{"PAID", "PAID", "PAID"}, final: "PAID", check: func(t *testing.T, got []received) {
			if got[0].Header.Get(delivery.HeaderDeliveryID) == got[1].Header.Get(delivery.HeaderDeliveryID) {
				t.Errorf("duplicates share a delivery id")
			}
		}},
		{ref: "REORDER-1", advance: time.Minute, first: true, statuses: []string{"PAID", "EXPIRED"}, final: "PAID"},
		{ref: "BADSIG-1", statuses: []string{"PAID"}, final: "PAID", check: func(t *testing.T, got []received) {
			if err := signer.VerifyNotify(demoKey(), got[0].Header, got[0].Body); !errors.Is(err, signer.ErrSignatureMismatch) {
				t.Errorf("BADSIG notify: verify error %v, want a signature mismatch", err)
			}
		}},
		{ref: "NOSIG-1", statuses: []string{"PAID"}, final: "PAID", check: func(t *testing.T, got []received) {
			if err := signer.VerifyNotify(demoKey(), got[0].Header, got[0].Body); !errors.Is(err, signer.ErrMissingHeader) {
				t.Errorf("NOSIG notify: verify error %v, want a missing header", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			e := newEngine(t, "")
			rc := newReceiver(t)
			e.create(t, tt.ref, rc.URL, nil)
			if tt.first {
				waitFor(t, "the first notify", func() bool { return len(rc.all()) == 1 })
			}
			if tt.advance > 0 {
				// In steps, so timeline entries run in order with their notifies.
				for step := time.Duration(0); step < tt.advance; step += time.Second {
					e.sb.AdvanceClock(time.Second)
				}
			}
			waitFor(t, fmt.Sprintf("%d notifies", len(tt.statuses)), func() bool { return len(rc.all()) >= len(tt.statuses) })
			time.Sleep(20 * time.Millisecond) // nothing more arrives
			got := rc.all()
			var statuses []string
			for _, g := range got {
				statuses = append(statuses, g.Note.Status)
			}
			if fmt.Sprint(statuses) != fmt.Sprint(tt.statuses) {
				t.Errorf("notified %v, want %v", statuses, tt.statuses)
			}
			if code, body := e.control(t, "GET", "/_sandbox/transactions/"+tt.ref, ""); code != 200 || !strings.Contains(body, `"status": "`+tt.final+`"`) {
				t.Errorf("final state: %d %s, want %s", code, body, tt.final)
			}
			if tt.check != nil {
				tt.check(t, got)
			}
		})
	}
}

// TestNoNotifyURL: without any URL nothing is sent, and the journal says why.
func TestNoNotifyURL(t *testing.T) {
	e := newEngine(t, "")
	e.create(t, "PAID-NOURL", "", map[string]any{"finishNotifyUrl": nil})
	waitFor(t, "the journal entry", func() bool { return len(e.sb.Deliveries("", "PAID-NOURL")) == 1 })
	if a := e.sb.Deliveries("", "PAID-NOURL")[0]; a.Outcome != delivery.OutcomeNoURL {
		t.Errorf("outcome %s, want %s", a.Outcome, delivery.OutcomeNoURL)
	}
}

// TestManyPaidAtOnce: 10,000 payments paid at once are all delivered, and
// the journal agrees with what the receiver saw.
func TestManyPaidAtOnce(t *testing.T) {
	const n = 10000
	e := newEngine(t, "")
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var note notify.Notification
		_ = json.Unmarshal(body, &note)
		mu.Lock()
		seen[note.ReferenceNumber]++
		mu.Unlock()
	}))
	defer srv.Close()
	for i := 0; i < n; i++ {
		e.create(t, fmt.Sprintf("BULK-%d", i), srv.URL, nil)
	}
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				if code, body := e.control(t, "POST", fmt.Sprintf("/_sandbox/transactions/BULK-%d/pay", i), ""); code != 200 {
					t.Errorf("pay %d: %d %s", i, code, body)
				}
			}
		}()
	}
	wg.Wait()
	// Generous: under -race on 2 shared cores this is the slowest test.
	waitWithin(t, 2*time.Minute, "10,000 deliveries", func() bool {
		time.Sleep(50 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		return len(seen) >= n
	})
	waitFor(t, "the journal to catch up", func() bool { return len(e.sb.Deliveries("", "")) >= n })
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != n {
		t.Errorf("receiver saw %d references, want %d", len(seen), n)
	}
	for ref, c := range seen {
		if c != 1 {
			t.Errorf("%s received %d times", ref, c)
		}
	}
	journal := e.sb.Deliveries("", "")
	delivered := map[string]bool{}
	for _, a := range journal {
		if a.Outcome != delivery.OutcomeDelivered {
			t.Fatalf("attempt %+v not delivered", a)
		}
		delivered[a.ReferenceNumber] = true
	}
	if len(journal) != n || len(delivered) != n {
		t.Errorf("journal: %d attempts for %d references, want %d each", len(journal), len(delivered), n)
	}
}
