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
