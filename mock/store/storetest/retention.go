package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/delivery"
	"github.com/bjpay/bjpay-sandbox/mock/store"
)

// finish moves the merchant's PENDING transaction ref to status, with
// deliveries pending deliveries committed alongside; it returns them.
func finish(t *testing.T, s store.Store, clientID, ref, status string, deliveries int) []delivery.Record {
	t.Helper()
	var rs []delivery.Record
	for range deliveries {
		rs = append(rs, delivery.Record{ID: fmt.Sprintf("dlv_%d", s.NextDeliveryID()), ClientID: clientID, URL: "http://127.0.0.1:9/",
			Note: (&store.Transaction{ReferenceNumber: ref}).Notification(status)})
	}
	if _, err := s.Update(ctx, clientID, ref, func(tx *store.Transaction) ([]delivery.Record, error) {
		tx.Status = status
		return rs, nil
	}); err != nil {
		t.Fatalf("Update %s to %s: %v", ref, status, err)
	}
	return rs
}

// deliver records the last attempt of r: r is finished.
func deliver(t *testing.T, s store.Store, r delivery.Record) {
	t.Helper()
	a := delivery.Attempt{DeliveryID: r.ID, Attempt: 1, ClientID: r.ClientID, ReferenceNumber: r.Note.ReferenceNumber, Status: r.Note.Status, Outcome: delivery.OutcomeDelivered}
	if err := s.RecordAttempt(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
}

// held lists the references of the transactions s holds, newest first.
func held(t *testing.T, s store.Store) []string {
	t.Helper()
	txs, _, err := s.List(ctx, store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return mapOf(txs, func(tx store.Transaction) string { return tx.ReferenceNumber })
}

func evict(t *testing.T, s store.Store, r store.Retention) store.Evicted {
	t.Helper()
	ev, err := s.Evict(ctx, r, 100)
	if err != nil {
		t.Fatalf("Evict(%+v): %v", r, err)
	}
	return ev
}

func testEvictTransactions(t *testing.T, s store.Store) {
	for i := range 6 {
		mustCreate(t, s, "c", fmt.Sprintf("E%d", i))
	}
	// E0 PENDING; E1 PAID, its notify pending; E2 PAID, its notify
	// delivered; E3 FAILED without a notify (its merchant is gone); E4
	// EXPIRED, delivered; E5 PAID, delivered, then resent, the resend
	// pending.
	pendingE1 := finish(t, s, "c", "E1", store.StatusPaid, 1)
	deliver(t, s, finish(t, s, "c", "E2", store.StatusPaid, 1)[0])
	finish(t, s, "c", "E3", store.StatusFailed, 0)
	deliver(t, s, finish(t, s, "c", "E4", store.StatusExpired, 2)[1])
	deliver(t, s, finish(t, s, "c", "E5", store.StatusPaid, 1)[0])
	resend := delivery.Record{ID: fmt.Sprintf("dlv_%d", s.NextDeliveryID()), ClientID: "c", Note: (&store.Transaction{ReferenceNumber: "E5"}).Notification(store.StatusPaid)}
	if err := s.AddDeliveries(ctx, []delivery.Record{resend}); err != nil {
		t.Fatal(err)
	}
	before, _ := s.StatusCounts(ctx)

	// At most one held: only E2 and E3 may go (E4 has a duplicate pending).
	if ev := evict(t, s, store.Retention{MaxTransactions: 1}); ev.Transactions != 2 {
		t.Errorf("Evict evicted %d transactions, want 2 (E2, E3)", ev.Transactions)
	}
	if got, want := held(t, s), []string{"E5", "E4", "E1", "E0"}; !slices.Equal(got, want) {
		t.Errorf("held %q, want %q: never a PENDING one, never one with a delivery pending", got, want)
	}
	if _, err := s.Get(ctx, "c", "E2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get of an evicted transaction: %v, want ErrNotFound", err)
	}
	if s.Used("c", "E3") {
		t.Error("an evicted transaction's reference is still used")
	}
	if after, _ := s.StatusCounts(ctx); !equalCounts(after, before) {
		t.Errorf("StatusCounts %v after eviction, want %v: evicted ones still count", after, before)
	}
	if u, _ := s.Usage(ctx); u.Transactions != 4 || u.Evicted.Transactions != 2 {
		t.Errorf("Usage = %+v, want 4 held and 2 evicted", u)
	}

	// Their last deliveries finished, E1, E4 and E5 go too, the first to
	// finish first.
	deliver(t, s, pendingE1[0])
	deliver(t, s, resend)
	if ev := evict(t, s, store.Retention{MaxTransactions: 2}); ev.Transactions != 2 {
		t.Errorf("Evict evicted %d transactions, want 2 (E1, E5; E4 still has a delivery pending)", ev.Transactions)
	}
	if got, want := held(t, s), []string{"E4", "E0"}; !slices.Equal(got, want) {
		t.Errorf("held %q, want %q", got, want)
	}
	if ev := evict(t, s, store.Retention{}); ev != (store.Evicted{}) {
		t.Errorf("Evict without bounds evicted %+v", ev)
	}
}

func equalCounts(a, b map[string]int) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return len(a) == len(b)
}

func testEvictJournal(t *testing.T, s store.Store) {
	var ids []string
	for range 10 {
		id := fmt.Sprintf("dlv_%d", s.NextDeliveryID())
		ids = append(ids, id)
		_ = s.RecordAttempt(ctx, delivery.Attempt{DeliveryID: id, ClientID: "c", ReferenceNumber: "J", Outcome: delivery.OutcomeDelivered}, nil)
	}
	if ev := evict(t, s, store.Retention{MaxJournal: 4}); ev.Attempts != 6 || ev.Transactions != 0 {
		t.Errorf("Evict = %+v, want 6 attempts", ev)
	}
	as, _, _ := s.Attempts(ctx, store.AttemptFilter{})
	got := mapOf(as, func(a delivery.Attempt) string { return a.DeliveryID })
	if want := []string{ids[9], ids[8], ids[7], ids[6]}; !slices.Equal(got, want) {
		t.Errorf("held attempts %q, want the 4 newest %q", got, want)
	}
	if counts, _ := s.OutcomeCounts(ctx); counts[delivery.OutcomeDelivered] != 10 {
		t.Errorf("OutcomeCounts = %v, want 10 delivered: evicted ones still count", counts)
	}
	if u, _ := s.Usage(ctx); u.Attempts != 4 || u.Evicted.Attempts != 6 {
		t.Errorf("Usage = %+v, want 4 attempts held and 6 evicted", u)
	}
}

func testEvictAge(t *testing.T, s store.Store) {
	mustCreate(t, s, "c", "A0")
	mustCreate(t, s, "c", "A1")
	deliver(t, s, finish(t, s, "c", "A1", store.StatusPaid, 1)[0])
	// Recorded a moment ago: younger than an hour, older than a nanosecond.
	if ev := evict(t, s, store.Retention{Age: time.Hour}); ev != (store.Evicted{}) {
		t.Errorf("Evict of what is younger than an hour: %+v", ev)
	}
	if ev := evict(t, s, store.Retention{Age: time.Nanosecond}); ev != (store.Evicted{Transactions: 1, Attempts: 1}) {
		t.Errorf("Evict of what is older than a nanosecond: %+v, want the paid transaction and its attempt", ev)
	}
	if got := held(t, s); !slices.Equal(got, []string{"A0"}) {
		t.Errorf("held %q, want the PENDING one only", got)
	}
}

func testEvictBatches(t *testing.T, s store.Store) {
	for i := range 10 {
		ref := fmt.Sprintf("B%d", i)
		mustCreate(t, s, "c", ref)
		deliver(t, s, finish(t, s, "c", ref, store.StatusPaid, 1)[0])
	}
	var got []store.Evicted
	for range 6 {
		ev, err := s.Evict(ctx, store.Retention{Age: time.Nanosecond}, 3)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev)
	}
	three, one := store.Evicted{Transactions: 3, Attempts: 3}, store.Evicted{Transactions: 1, Attempts: 1}
	want := []store.Evicted{three, three, three, one, {}, {}}
	if !slices.Equal(got, want) {
		t.Errorf("Evict in batches of 3: %v, want %v", got, want)
	}
}

func testResetEvicted(t *testing.T, s store.Store) {
	mustCreate(t, s, "c", "R1")
	deliver(t, s, finish(t, s, "c", "R1", store.StatusPaid, 1)[0])
	evict(t, s, store.Retention{Age: time.Nanosecond})
	if err := s.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	u, _ := s.Usage(ctx)
	counts, _ := s.StatusCounts(ctx)
	outcomes, _ := s.OutcomeCounts(ctx)
	if u != (store.Usage{}) || counts[store.StatusPaid] != 0 || outcomes[delivery.OutcomeDelivered] != 0 {
		t.Errorf("after Reset: Usage %+v, counts %v, outcomes %v; want nothing", u, counts, outcomes)
	}
}
