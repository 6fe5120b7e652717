package delivery

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/notify"
	"github.com/bjpay/bjpay-sandbox/signer"
)

// switchboard is a Relay whose listener, when there is one, answers with
// answer; it keeps what it was handed.
type switchboard struct {
	mu       sync.Mutex
	on       bool
	online   bool
	answer   Answer
	received []Relayed
}

func (s *switchboard) Relays(string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.on
}

func (s *switchboard) Forward(_ context.Context, _ string, n Relayed) (Answer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.online {
		return Answer{}, ErrListenerOffline
	}
	s.received = append(s.received, n)
	return s.answer, nil
}

// TestRelaySeam: while a merchant's relay is on, its attempts go to the
// relay (with a body and headers that verify with the merchant's key,
// whatever the notify URL, none included), never to the URL; with no
// listener they are journalled listener-offline and retried; once relay is
// off they go to the URL again.
func TestRelaySeam(t *testing.T) {
	var posted atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { posted.Add(1) }))
	defer srv.Close()
	key := signer.Key("c", "secret")
	note := notify.Notification{PaymentCode: "GOPAY", ReferenceNumber: "RELAYED", Status: "PAID", TotalAmount: 58000}
	policy := Policy{Timeout: 5 * time.Second, Retries: []time.Duration{time.Minute}, Variant: notify.VariantValid}

	tests := []struct {
		name         string
		on, online   bool
		url          string
		answer       Answer
		wantOutcomes []string // of the first attempt, then of the retry (the last: one retry)
		wantPosted   int64
	}{
		{"relay on, listener answers 200", true, true, srv.URL, Answer{URL: "http://localhost:3000/hook", Status: 200, Body: "ok", Latency: 3 * time.Millisecond},
			[]string{OutcomeDelivered}, 0},
		{"relay on, no URL of its own", true, true, "", Answer{URL: "http://localhost:3000/hook", Status: 204}, []string{OutcomeDelivered}, 0},
		{"relay on, listener's endpoint answers 500", true, true, srv.URL, Answer{URL: "http://localhost:3000/hook", Status: 500},
			[]string{OutcomeRetrying, OutcomeGaveUp}, 0},
		{"relay on, listener cannot reach its endpoint", true, true, srv.URL, Answer{URL: "http://localhost:3000/hook", Error: "connection refused"},
			[]string{OutcomeRetrying, OutcomeGaveUp}, 0},
		{"relay on, no listener", true, false, srv.URL, Answer{}, []string{OutcomeListenerOffline, OutcomeGaveUp}, 0},
		{"relay off", false, false, srv.URL, Answer{}, []string{OutcomeDelivered}, 1},
		{"relay off, no URL", false, false, "", Answer{}, []string{OutcomeNoURL}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			posted.Store(0)
			st := &recorder{}
			relay := &switchboard{on: tt.on, online: tt.online, answer: tt.answer}
			timer := &manualTimer{now: time.Now()}
			n, err := New(Options{Workers: 1, Clocks: timer, Store: st, Relay: relay, SandboxHeaders: true})
			if err != nil {
				t.Fatal(err)
			}
			n.Start()
			defer n.Close(context.Background())
			n.Send(n.Prepare("c", tt.url, key, note, policy))
			waitAttempts(t, st, 1)
			if len(tt.wantOutcomes) > 1 {
				timer.fire(t) // the retry
				waitAttempts(t, st, 2)
			}
			as := st.all()
			for i, want := range tt.wantOutcomes {
				if as[i].Outcome != want {
					t.Errorf("attempt %d: %s (%s), want %s", i+1, as[i].Outcome, as[i].Error, want)
				}
				if as[i].Relayed != tt.on {
					t.Errorf("attempt %d: relayed %v, want %v", i+1, as[i].Relayed, tt.on)
				}
			}
			if a := as[0]; tt.on && tt.online {
				if a.URL != tt.answer.URL || a.ResponseStatus != tt.answer.Status || a.LatencyMs != float64(tt.answer.Latency.Microseconds())/1000 {
					t.Errorf("journal: url %q, status %d, latency %v ms; want the listener's %q, %d, %v", a.URL, a.ResponseStatus, a.LatencyMs, tt.answer.URL, tt.answer.Status, tt.answer.Latency)
				}
				got := relay.received[0]
				if err := signer.VerifyNotify(key, got.Header, got.Body); err != nil || string(got.Body) != a.RequestBody {
					t.Errorf("the relayed notify does not verify (%v) or is not the journal's body", err)
				}
				if got.Header.Get(HeaderDeliveryID) != a.DeliveryID || got.Timeout != policy.Timeout {
					t.Errorf("relayed: delivery id %q, timeout %s; want %q and the policy's %s", got.Header.Get(HeaderDeliveryID), got.Timeout, a.DeliveryID, policy.Timeout)
				}
			}
			if a := as[0]; a.Outcome == OutcomeListenerOffline && (a.NextAttemptAt == nil || a.Error == "") {
				t.Errorf("listener-offline without its next attempt or reason: %+v", a)
			}
			if got := posted.Load(); got != tt.wantPosted {
				t.Errorf("the notify URL received %d notifies, want %d", got, tt.wantPosted)
			}
		})
	}
}

// manualTimer is a clock that stands still and keeps the functions it is
// given until fire runs them.
type manualTimer struct {
	now time.Time
	mu  sync.Mutex
	fns []func()
}

func (m *manualTimer) Now(string) time.Time { return m.now }

func (m *manualTimer) At(_ string, _ time.Time, fn func()) {
	m.mu.Lock()
	m.fns = append(m.fns, fn)
	m.mu.Unlock()
}

// fire runs the functions given so far, waiting for one if there is none
// yet (the notifier schedules a retry once it has journalled the attempt).
func (m *manualTimer) fire(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		m.mu.Lock()
		fns := m.fns
		m.fns = nil
		m.mu.Unlock()
		for _, fn := range fns {
			fn()
		}
		if len(fns) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no retry was scheduled within 10 s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func waitAttempts(t *testing.T, st *recorder, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(st.all()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d attempts expected within 10 s, got %+v", n, st.all())
		}
		time.Sleep(2 * time.Millisecond)
	}
}
