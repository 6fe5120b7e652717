// Package storetest is the contract every store.Store keeps, as tests: an
// engine's own test calls Run with a function that opens an empty store.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/delivery"
	"github.com/bjpay/bjpay-sandbox/mock/store"
)

// Run runs the contract against stores open returns, a new empty one for
// each test; Run closes them.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"create and read", testCreateRead},
		{"references per merchant", testReferences},
		{"concurrent creates of one reference", testConcurrentCreates},
		{"update", testUpdate},
		{"journal", testJournal},
		{"merchants", testMerchants},
		{"controls", testControls},
		{"reset", testReset},
		{"reset one merchant", testResetMerchant},
		{"pages of transactions", testListPages},
		{"pages of the journal", testJournalPages},
		{"journal summary", testNotified},
		{"retention of transactions", testEvictTransactions},
		{"retention of the journal", testEvictJournal},
		{"retention by age", testEvictAge},
		{"eviction in batches", testEvictBatches},
		{"reset after eviction", testResetEvicted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.fn(t, s)
		})
	}
}

var (
	ctx  = context.Background()
	date = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
)

func newTx(s store.Store, clientID, ref string) *store.Transaction {
	return &store.Transaction{TransactionNumber: store.Number(date, s.NextSeq()), ReferenceNumber: ref, ClientID: clientID,
		Status: store.StatusPending, TotalAmount: 58000, CreatedAt: date, ExpiredAt: date.Add(24 * time.Hour),
		Items: []store.Item{{Name: "MLBB Diamond - 250", Quantity: 1, Amount: 58000}}, Delivery: delivery.DefaultPolicy()}
}

func mustCreate(t *testing.T, s store.Store, clientID, ref string) store.Transaction {
	t.Helper()
	tx := newTx(s, clientID, ref)
	want := *tx
	if err := s.Create(ctx, tx); err != nil {
		t.Fatalf("Create %s/%s: %v", clientID, ref, err)
	}
	return want
}

func testCreateRead(t *testing.T, s store.Store) {
	v0 := s.Version()
	want := mustCreate(t, s, "c", "R1")
	if s.Version() == v0 {
		t.Error("Version did not move with a create")
	}
	got, err := s.Get(ctx, "c", "R1")
	if err != nil || got.TransactionNumber != want.TransactionNumber || got.TotalAmount != 58000 || len(got.Items) != 1 {
		t.Errorf("Get = %+v, %v; want %+v", got, err, want)
	}
	if got, err := s.GetByNumber(ctx, want.TransactionNumber); err != nil || got.ReferenceNumber != "R1" {
		t.Errorf("GetByNumber = %q, %v; want R1", got.ReferenceNumber, err)
	}
	for _, number := range []string{"SBX2026112499999999", "nonsense", ""} {
		if _, err := s.GetByNumber(ctx, number); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetByNumber(%q): %v, want ErrNotFound", number, err)
		}
	}
	if _, err := s.Get(ctx, "c", "R2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get of an unknown reference: %v, want ErrNotFound", err)
	}
	// Copies: changing one changes nothing stored.
	got.Status = store.StatusPaid
	if again, _ := s.Get(ctx, "c", "R1"); again.Status != store.StatusPending {
		t.Error("Get handed out shared state")
	}
	if a, b := s.NextSeq(), s.NextSeq(); b <= a {
		t.Errorf("NextSeq gave %d then %d", a, b)
	}
}

func testReferences(t *testing.T, s store.Store) {
	mustCreate(t, s, "a", "R1")
	mustCreate(t, s, "b", "R1") // another merchant may use it
	mustCreate(t, s, "a", "R2")
	if err := s.Create(ctx, newTx(s, "a", "R1")); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a reused reference: %v, want ErrConflict", err)
	}
	if !s.Used("a", "R1") || s.Used("a", "R3") || s.Used("c", "R1") {
		t.Error("Used disagrees with what was created")
	}
	all, _, _ := s.List(ctx, store.Filter{})
	if len(all) != 3 {
		t.Errorf("List: %d transactions, want 3", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].TransactionNumber > all[i-1].TransactionNumber {
			t.Errorf("List is not newest first: %s after %s", all[i].TransactionNumber, all[i-1].TransactionNumber)
		}
	}
	for _, tt := range []struct {
		f    store.Filter
		want int
	}{
		{store.Filter{ClientID: "a"}, 2},
		{store.Filter{ClientID: "b"}, 1},
		{store.Filter{Reference: "1"}, 2},
		{store.Filter{Reference: "r1"}, 2}, // in any case
		{store.Filter{Status: store.StatusPaid}, 0},
	} {
		if got, _, _ := s.List(ctx, tt.f); len(got) != tt.want {
			t.Errorf("List(%+v): %d, want %d", tt.f, len(got), tt.want)
		}
	}
	if counts, _ := s.StatusCounts(ctx); counts[store.StatusPending] != 3 {
		t.Errorf("StatusCounts = %v, want 3 PENDING", counts)
	}
}

func testConcurrentCreates(t *testing.T, s store.Store) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for range 16 {
		wg.Go(func() {
			if err := s.Create(ctx, newTx(s, "c", "SAME")); err == nil {
				mu.Lock()
				won++
				mu.Unlock()
			} else if !errors.Is(err, store.ErrConflict) {
				t.Errorf("Create: %v", err)
			}
		})
	}
	wg.Wait()
	if won != 1 {
		t.Errorf("%d of 16 concurrent creates of one reference succeeded, want 1", won)
	}
}

func testUpdate(t *testing.T, s store.Store) {
	mustCreate(t, s, "c", "R1")
	errNo := errors.New("no")
	tx, err := s.Update(ctx, "c", "R1", func(tx *store.Transaction) ([]delivery.Record, error) { return nil, errNo })
	if !errors.Is(err, errNo) || tx.Status != store.StatusPending {
		t.Errorf("Update whose change refuses: %q, %v; want PENDING and the change's error", tx.Status, err)
	}
	paidAt := date.Add(time.Minute)
	rs := []delivery.Record{{ID: "dlv_1", ClientID: "c", URL: "http://127.0.0.1:9/", Due: date}}
	tx, err = s.Update(ctx, "c", "R1", func(tx *store.Transaction) ([]delivery.Record, error) {
		tx.Status, tx.PaidAt = store.StatusPaid, &paidAt
		return rs, nil
	})
	if err != nil || tx.Status != store.StatusPaid {
		t.Fatalf("Update = %q, %v; want PAID", tx.Status, err)
	}
	if got, _ := s.Get(ctx, "c", "R1"); got.Status != store.StatusPaid || got.PaidAt == nil || !got.PaidAt.Equal(paidAt) {
		t.Errorf("after Update, Get = %q paid at %v", got.Status, got.PaidAt)
	}
	if counts, _ := s.StatusCounts(ctx); counts[store.StatusPaid] != 1 || counts[store.StatusPending] != 0 {
		t.Errorf("StatusCounts after Update = %v", counts)
	}
	if _, err := s.Update(ctx, "c", "NONE", func(*store.Transaction) ([]delivery.Record, error) { return nil, nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Update of an unknown reference: %v, want ErrNotFound", err)
	}
	if err := s.AddDeliveries(ctx, []delivery.Record{{ID: "dlv_2", ClientID: "c"}}); err != nil {
		t.Errorf("AddDeliveries: %v", err)
	}
}

func testJournal(t *testing.T, s store.Store) {
	var want []string
	for i := range 5 {
		id := fmt.Sprintf("dlv_%d", s.NextDeliveryID())
		want = append(want, id)
		r := delivery.Record{ID: id, ClientID: []string{"a", "b"}[i%2]}
		a := delivery.Attempt{DeliveryID: id, ClientID: r.ClientID, ReferenceNumber: fmt.Sprintf("R%d", i), Outcome: delivery.OutcomeRetrying,
			RequestHeaders: map[string]string{"X-Signature": "abc"}}
		if err := s.RecordAttempt(ctx, a, &r); err != nil {
			t.Fatal(err)
		}
	}
	slices.Reverse(want) // newest first
	as, _, _ := s.Attempts(ctx, store.AttemptFilter{})
	var got []string
	for _, a := range as {
		got = append(got, a.DeliveryID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Attempts in order %q, want %q", got, want)
	}
	if as, _, _ := s.Attempts(ctx, store.AttemptFilter{ClientID: "a"}); len(as) != 3 {
		t.Errorf("Attempts of client a: %d, want 3", len(as))
	}
	if as, _, _ := s.Attempts(ctx, store.AttemptFilter{Reference: "R1"}); len(as) != 1 {
		t.Errorf("Attempts of R1: %d, want 1", len(as))
	}
	// Copies: changing one changes nothing stored.
	as[0].RequestHeaders["X-Signature"] = "changed"
	if again, _, _ := s.Attempts(ctx, store.AttemptFilter{}); again[0].RequestHeaders["X-Signature"] != "abc" {
		t.Errorf("Attempts handed out shared state: headers %v", again[0].RequestHeaders)
	}
	if counts, _ := s.OutcomeCounts(ctx); counts[delivery.OutcomeRetrying] != 5 || counts[delivery.OutcomeDelivered] != 0 {
		t.Errorf("OutcomeCounts = %v", counts)
	}
}

func testMerchants(t *testing.T, s store.Store) {
	m := store.Merchant{Name: "Shop", ClientID: "shop", ClientSecret: "s3cret", NotifyURL: "http://127.0.0.1:9/"}
	if err := s.AddMerchant(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := s.AddMerchant(ctx, m); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a second merchant with the same client id: %v, want ErrConflict", err)
	}
	if got, err := s.Merchant(ctx, "shop"); err != nil || got != m {
		t.Errorf("Merchant = %+v, %v", got, err)
	}
	if _, err := s.Merchant(ctx, "other"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Merchant of an unknown id: %v, want ErrNotFound", err)
	}
	if ms, _ := s.Merchants(ctx); len(ms) != 1 {
		t.Errorf("Merchants: %d, want 1", len(ms))
	}
}

func testControls(t *testing.T, s store.Store) {
	a := store.Control{TokenHash: strings.Repeat("ab", 32), Relay: true}
	b := store.Control{TokenHash: strings.Repeat("cd", 32)}
	for _, set := range []struct {
		clientID string
		c        store.Control
	}{{"a", a}, {"b", store.Control{Relay: true}}, {"b", b}, {"gone", a}, {"gone", store.Control{}}} {
		if err := s.SetControl(ctx, set.clientID, set.c); err != nil {
			t.Fatalf("SetControl(%s, %+v): %v", set.clientID, set.c, err)
		}
	}
	got, err := s.Controls(ctx)
	if want := map[string]store.Control{"a": a, "b": b}; err != nil || !maps.Equal(got, want) {
		t.Errorf("Controls = %v, %v; want %v (the last of each, none for a zero one)", got, err, want)
	}
	got["a"] = store.Control{}
	if again, _ := s.Controls(ctx); again["a"] != a {
		t.Error("Controls handed out shared state")
	}
}

func testReset(t *testing.T, s store.Store) {
	tx := mustCreate(t, s, "c", "R1")
	_ = s.AddMerchant(ctx, store.Merchant{ClientID: "shop", ClientSecret: "s"})
	_ = s.SetControl(ctx, "shop", store.Control{Relay: true})
	_ = s.RecordAttempt(ctx, delivery.Attempt{DeliveryID: "dlv_1", Outcome: delivery.OutcomeDelivered}, nil)
	seq, dlv := s.NextSeq(), s.NextDeliveryID()
	if err := s.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	txs, _, _ := s.List(ctx, store.Filter{})
	as, _, _ := s.Attempts(ctx, store.AttemptFilter{})
	ms, _ := s.Merchants(ctx)
	cs, _ := s.Controls(ctx)
	if len(txs)+len(as)+len(ms)+len(cs) != 0 || s.Used("c", "R1") {
		t.Errorf("after Reset: %d transactions, %d attempts, %d merchants, %d controls", len(txs), len(as), len(ms), len(cs))
	}
	if _, err := s.GetByNumber(ctx, tx.TransactionNumber); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetByNumber after Reset: %v", err)
	}
	if s.NextSeq() <= seq || s.NextDeliveryID() <= dlv {
		t.Error("sequence numbers went back after Reset")
	}
	mustCreate(t, s, "c", "R1") // the reference is free again
}

func testResetMerchant(t *testing.T, s store.Store) {
	mustCreate(t, s, "a", "R1")
	b := mustCreate(t, s, "b", "R1")
	for _, client := range []string{"a", "b"} {
		_ = s.RecordAttempt(ctx, delivery.Attempt{DeliveryID: "dlv_" + client, ClientID: client, Outcome: delivery.OutcomeDelivered}, nil)
	}
	_ = s.AddMerchant(ctx, store.Merchant{ClientID: "a", ClientSecret: "s"})
	ctl := store.Control{TokenHash: strings.Repeat("ab", 32), Relay: true}
	_ = s.SetControl(ctx, "a", ctl)
	if err := s.ResetMerchant(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if s.Used("a", "R1") || !s.Used("b", "R1") {
		t.Error("ResetMerchant(a) did not forget a's reference only")
	}
	if _, err := s.GetByNumber(ctx, b.TransactionNumber); err != nil {
		t.Errorf("b's transaction after a's reset: %v", err)
	}
	as, _, _ := s.Attempts(ctx, store.AttemptFilter{})
	if len(as) != 1 || as[0].ClientID != "b" {
		t.Errorf("journal after a's reset: %+v, want b's attempt only", as)
	}
	if _, err := s.Merchant(ctx, "a"); err != nil {
		t.Errorf("the merchant itself is gone after its reset: %v", err)
	}
	if cs, _ := s.Controls(ctx); cs["a"] != ctl {
		t.Errorf("a's control after its reset: %+v, want its token and relay kept", cs["a"])
	}
	if counts, _ := s.StatusCounts(ctx); counts[store.StatusPending] != 1 {
		t.Errorf("StatusCounts after a's reset = %v, want 1 PENDING", counts)
	}
	mustCreate(t, s, "a", "R1") // its reference is free again
}
