package memstore

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/store"
)

// TestStoreByNumber: lookups by number find exactly the stored
// transaction, and nothing after a reset.
func TestStoreByNumber(t *testing.T) {
	ctx := context.Background()
	s := New()
	date := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	for _, seq := range []uint64{3, 1, 200} { // out of order, with holes
		tx := &store.Transaction{TransactionNumber: store.Number(date, seq), ReferenceNumber: "R" + strconv.FormatUint(seq, 10), ClientID: "c", Status: store.StatusPending}
		if err := s.Create(ctx, tx); err != nil {
			t.Fatalf("create %d: %v", seq, err)
		}
	}
	for _, tt := range []struct {
		number string
		ref    string // "" when not found
	}{
		{"SBX2026112400000003", "R3"},
		{"SBX2026112400000200", "R200"},
		{"SBX2026112400000002", ""},  // a hole
		{"SBX2026112300000003", ""},  // another date, same sequence number
		{"SBX20261124000000003", ""}, // another spelling of the number
		{"SBX2026112400099999", ""},  // beyond the index
	} {
		tx, err := s.GetByNumber(ctx, tt.number)
		if (err == nil) != (tt.ref != "") || tx.ReferenceNumber != tt.ref {
			t.Errorf("GetByNumber(%q) = %q, %v; want %q", tt.number, tx.ReferenceNumber, err, tt.ref)
		}
	}
	if err := s.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetByNumber(ctx, "SBX2026112400000003"); err == nil {
		t.Error("found a transaction after reset")
	}
}

// BenchmarkStore measures the store under parallel creates (with their
// duplicate check) and inquiries (Get), over a million payments.
func BenchmarkStore(b *testing.B) {
	const held = 1_000_000
	ctx := context.Background()
	s := New()
	date := time.Now()
	for i := range held {
		_ = s.Create(ctx, &store.Transaction{TransactionNumber: store.Number(date, uint64(i)), ReferenceNumber: "HELD-" + strconv.Itoa(i), ClientID: "c", Status: store.StatusPending})
	}
	var seq atomic.Uint64
	seq.Store(held)
	b.Run("insert", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				n := seq.Add(1)
				if err := s.Create(ctx, &store.Transaction{TransactionNumber: store.Number(date, n), ReferenceNumber: "NEW-" + strconv.FormatUint(n, 10), ClientID: "c", Status: store.StatusPending}); err != nil {
					b.Error(err)
				}
			}
		})
	})
	b.Run("get", func(b *testing.B) {
		b.ReportAllocs()
		var i atomic.Uint64
		b.RunParallel(func(pb *testing.PB) {
			ref := make([]byte, 0, 16)
			for pb.Next() {
				ref = strconv.AppendUint(append(ref[:0], "HELD-"...), i.Add(7919)%held, 10)
				if _, err := s.Get(ctx, "c", string(ref)); err != nil {
					b.Error(err)
				}
			}
		})
	})
}
