package delivery

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/bjpay/bjpay-sandbox/mock/notify"
)

// recorder is a Store that keeps the attempts in memory.
type recorder struct {
	mu       sync.Mutex
	attempts []Attempt
	ids      atomic.Uint64
}

func (r *recorder) NextDeliveryID() uint64 { return r.ids.Add(1) }

func (r *recorder) RecordAttempt(_ context.Context, a Attempt, _ *Record) error {
	r.mu.Lock()
	r.attempts = append(r.attempts, a)
	r.mu.Unlock()
	return nil
}

func (r *recorder) all() []Attempt {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Attempt(nil), r.attempts...)
}

// soon is a clock that stands still and runs every timed function at
// once, on its own goroutine.
type soon struct{ t time.Time }

func (c soon) Now(string) time.Time              { return c.t }
func (soon) At(_ string, _ time.Time, fn func()) { go fn() }

// TestJournalKeepsOneBody: the attempts of one delivery carry the same
// body, and the journal holds it once, not once per attempt.
func TestJournalKeepsOneBody(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 3 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	st := &recorder{}
	n, err := New(Options{Workers: 2, Clocks: soon{time.Now()}, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	n.Start()
	defer n.Close(context.Background())
	note := notify.Notification{PaymentCode: "GOPAY", ReferenceNumber: "ONE-BODY", Status: "PAID", TotalAmount: 58000}
	n.Send(n.Prepare("c", srv.URL, "key", note, Policy{Timeout: 5 * time.Second, Retries: []time.Duration{0, 0}, Variant: notify.VariantValid}))
	deadline := time.Now().Add(10 * time.Second)
	for len(st.all()) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("3 attempts expected within 10 s, got %+v", st.all())
		}
		time.Sleep(5 * time.Millisecond)
	}
	as := st.all()
	for i, a := range as {
		if a.RequestBody == "" || a.RequestBody != as[0].RequestBody {
			t.Fatalf("attempt %d's body %q differs from the first's %q", i+1, a.RequestBody, as[0].RequestBody)
		}
		if unsafe.StringData(a.RequestBody) != unsafe.StringData(as[0].RequestBody) {
			t.Errorf("attempt %d holds its own copy of the body", i+1)
		}
	}
	if as[2].Outcome != OutcomeDelivered {
		t.Errorf("third attempt: %s, want delivered", as[2].Outcome)
	}
}

// TestJournalTimes: the journal's times are in WIB and whole seconds, as
// every time the sandbox shows: sentAt the wall time of the attempt (also
// of one refused before it was sent), nextAttemptAt the sandbox time of
// the next; the retry itself is due to the nanosecond.
func TestJournalTimes(t *testing.T) {
	wall := time.Date(2026, 11, 24, 3, 4, 5, 678_000_000, time.UTC)   // 10:04:05.678 WIB
	sandbox := time.Date(2030, 1, 2, 10, 0, 0, 250_000_000, time.UTC) // 17:00:00.25 WIB
	refused := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	refused.Close() // nothing listens: a connection error, then a retry
	for _, tt := range []struct {
		name, url string
		wantNext  string
	}{
		{"failed, with a retry", refused.URL, "2030-01-02T17:01:00+07:00"},
		{"refused by the outbound policy", "http://169.254.169.254/", ""},
		{"nowhere to send", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := &recorder{}
			var due []time.Time
			var mu sync.Mutex
			clocks := clocksFunc{now: sandbox, at: func(at time.Time) { mu.Lock(); due = append(due, at); mu.Unlock() }}
			n, err := New(Options{Workers: 1, Clocks: clocks, Store: st, WallNow: func() time.Time { return wall }})
			if err != nil {
				t.Fatal(err)
			}
			n.Start()
			defer n.Close(context.Background())
			n.Send(n.Prepare("c", tt.url, "key", notify.Notification{ReferenceNumber: "T"}, Policy{Timeout: time.Second, Retries: []time.Duration{time.Minute}, Variant: notify.VariantValid}))
			deadline := time.Now().Add(10 * time.Second)
			for len(st.all()) == 0 {
				if time.Now().After(deadline) {
					t.Fatal("no attempt journalled within 10 s")
				}
				time.Sleep(5 * time.Millisecond)
			}
			a := st.all()[0]
			if got := a.SentAt.Format(time.RFC3339Nano); got != "2026-11-24T10:04:05+07:00" {
				t.Errorf("sentAt %s, want 2026-11-24T10:04:05+07:00 (wall time, WIB, whole seconds)", got)
			}
			var next string
			if a.NextAttemptAt != nil {
				next = a.NextAttemptAt.Format(time.RFC3339Nano)
			}
			if next != tt.wantNext {
				t.Errorf("nextAttemptAt %q, want %q (sandbox time, WIB, whole seconds)", next, tt.wantNext)
			}
			mu.Lock()
			defer mu.Unlock()
			if tt.wantNext != "" && (len(due) != 1 || !due[0].Equal(sandbox.Add(time.Minute))) {
				t.Errorf("retry scheduled at %v, want %v to the nanosecond", due, sandbox.Add(time.Minute))
			}
		})
	}
}

// clocksFunc is every merchant's clock stopped at now; at sees what is
// scheduled, which never runs.
type clocksFunc struct {
	now time.Time
	at  func(time.Time)
}

func (c clocksFunc) Now(string) time.Time               { return c.now }
func (c clocksFunc) At(_ string, t time.Time, _ func()) { c.at(t) }
