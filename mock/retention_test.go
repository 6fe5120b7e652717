package mock_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock"
	"github.com/bjpay/bjpay-sandbox/mock/delivery"
	"github.com/bjpay/bjpay-sandbox/mock/store"
)

// newRetained is newEngine's sandbox under a retention.
func newRetained(t *testing.T, keep mock.Retention) *engine {
	t.Helper()
	clock, err := mock.NewSandboxClock(mock.ClockVirtual, 1)
	if err != nil {
		t.Fatal(err)
	}
	return startEngine(t, mock.Options{Config: mock.DefaultConfig(), Clock: clock, Seed: 1, Retention: keep})
}

// retentionStats is GET /_sandbox/stats's retention.
type retentionStats struct {
	Transactions map[string]int `json:"transactions"`
	Attempts     map[string]int `json:"attempts"`
	Retention    struct {
		Retain          string        `json:"retain"`
		MaxTransactions int           `json:"maxTransactions"`
		MaxJournal      int           `json:"maxJournal"`
		Held            store.Evicted `json:"held"`
		Evicted         store.Evicted `json:"evicted"`
	} `json:"retention"`
}

func (e *engine) stats(t *testing.T) retentionStats {
	t.Helper()
	code, body := e.control(t, "GET", "/_sandbox/stats", "")
	var st retentionStats
	if err := json.Unmarshal([]byte(body), &st); code != 200 || err != nil {
		t.Fatalf("stats: %d %v %s", code, err, body)
	}
	return st
}

// TestRetention: a sandbox under a retention evicts finished payments and
// old attempts, oldest first, never a PENDING payment nor one whose
// notify is still to be delivered; stats, the control API and the
// dashboard say what is held and what was evicted.
func TestRetention(t *testing.T) {
	e := newRetained(t, mock.Retention{MaxTransactions: 3, MaxJournal: 2})
	ok, failing := newReceiver(t), newReceiver(t, 500)
	for _, ref := range []string{"KEEP-0", "KEEP-1", "KEEP-2", "KEEP-3"} {
		e.create(t, ref, ok.URL, nil)
	}
	e.create(t, "KEEP-RETRY", failing.URL, nil)
	e.create(t, "KEEP-PENDING", ok.URL, nil)
	for _, ref := range []string{"KEEP-0", "KEEP-1", "KEEP-2", "KEEP-3", "KEEP-RETRY"} {
		if code, body := e.control(t, "POST", "/_sandbox/transactions/"+ref+"/pay", ""); code != 200 {
			t.Fatalf("pay %s: %d %s", ref, code, body)
		}
		waitFor(t, "the notify of "+ref, func() bool { return len(e.sb.Deliveries("", ref)) == 1 })
	}
	// KEEP-RETRY's next attempt waits for the virtual clock: its notify is
	// pending, so it stays, as does the PENDING one. The background sweep
	// (every 100 ms) may have evicted some already: this one finishes the
	// job, and the stats below count what both evicted.
	e.sb.Sweep()
	var listed []struct{ ReferenceNumber string }
	_, body := e.control(t, "GET", "/_sandbox/transactions", "")
	_ = json.Unmarshal([]byte(body), &listed)
	var refs []string
	for _, tx := range listed {
		refs = append(refs, tx.ReferenceNumber)
	}
	if want := []string{"KEEP-PENDING", "KEEP-RETRY", "KEEP-3"}; !slices.Equal(refs, want) {
		t.Errorf("held %q, want %q", refs, want)
	}
	if code, _ := e.control(t, "GET", "/_sandbox/transactions/KEEP-0", ""); code != 404 {
		t.Errorf("an evicted payment answered %d, want 404", code)
	}
	st := e.stats(t)
	r := st.Retention
	if r.MaxTransactions != 3 || r.MaxJournal != 2 || r.Retain != "" || r.Held != (store.Evicted{Transactions: 3, Attempts: 2}) || r.Evicted != (store.Evicted{Transactions: 3, Attempts: 3}) {
		t.Errorf("stats' retention = %+v, want bounds 3 and 2, 3 payments and 2 attempts held, 3 and 3 evicted", r)
	}
	if st.Transactions[store.StatusPaid] != 5 || st.Attempts[delivery.OutcomeDelivered] != 4 {
		t.Errorf("stats count %d PAID and %d delivered, want 5 and 4: evicted ones still count", st.Transactions[store.StatusPaid], st.Attempts[delivery.OutcomeDelivered])
	}
	rec := page(t, e.h, "GET", "/_sandbox/", nil, "")
	if dash := rec.Body.String(); !strings.Contains(dash, "3 transaction(s), and 3 evicted") || !strings.Contains(dash, "beyond the newest 3") {
		t.Errorf("the dashboard does not say what is held and evicted:\n%s", dash)
	}
	// [sandbox] An evicted payment's reference is free again.
	e.create(t, "KEEP-0", ok.URL, nil)
}

// TestRetentionSweepsByItself: Start starts the sweep, which evicts
// without being asked; Close stops it.
func TestRetentionSweepsByItself(t *testing.T) {
	e := newRetained(t, mock.Retention{Age: time.Nanosecond})
	rc := newReceiver(t)
	e.create(t, "AGE-1", rc.URL, nil)
	e.control(t, "POST", "/_sandbox/transactions/AGE-1/pay", "")
	waitFor(t, "the payment and its attempt to be evicted", func() bool {
		time.Sleep(10 * time.Millisecond)
		return e.stats(t).Retention.Evicted == store.Evicted{Transactions: 1, Attempts: 1}
	})
	if r := e.stats(t).Retention; r.Retain != "1ns" {
		t.Errorf("stats' retain = %q, want 1ns", r.Retain)
	}
}

// TestRetentionRefused: a negative bound is a mistake, said so.
func TestRetentionRefused(t *testing.T) {
	for _, keep := range []mock.Retention{{Age: -time.Hour}, {MaxTransactions: -1}, {MaxJournal: -1}} {
		if _, err := mock.New(mock.Options{Retention: keep}); err == nil || !strings.Contains(err.Error(), "expected no negative bound") {
			t.Errorf("New with retention %+v: %v", keep, err)
		}
	}
}
