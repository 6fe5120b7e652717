package mock

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

func TestTransactionNumber(t *testing.T) {
	date := time.Date(2026, 11, 24, 23, 0, 0, 0, wib)
	for _, tt := range []struct {
		seq  uint64
		want string
	}{
		{1, "SBX2026112400000001"},
		{12345678, "SBX2026112412345678"},
		{123456789, "SBX20261124123456789"},
	} {
		got := transactionNumber(date, tt.seq)
		if got != tt.want {
			t.Errorf("transactionNumber(%d) = %q, want %q", tt.seq, got, tt.want)
		}
		if seq, ok := seqOf(got); !ok || seq != tt.seq {
			t.Errorf("seqOf(%q) = %d, %v; want %d", got, seq, ok, tt.seq)
		}
	}
	for _, bad := range []string{"", "SBX", "SBX20261124", "XYZ2026112400000001", "SBX20261124-0000001", "SBX20261124+0000001"} {
		if seq, ok := seqOf(bad); ok {
			t.Errorf("seqOf(%q) = %d, want no sequence number", bad, seq)
		}
	}
}

// TestStoreByNumber: lookups by number find exactly the stored
// transaction, and nothing after a reset.
func TestStoreByNumber(t *testing.T) {
	s := newStore(func() {})
	date := time.Date(2026, 11, 24, 0, 0, 0, 0, wib)
	for _, seq := range []uint64{3, 1, 200} { // out of order, with holes
		tx := &Transaction{TransactionNumber: transactionNumber(date, seq), ReferenceNumber: "R" + strconv.FormatUint(seq, 10), ClientID: "c", Status: StatusPending}
		if !s.insert(tx, seq) {
			t.Fatalf("insert %d refused", seq)
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
		tx, ok := s.byTransactionNumber(tt.number)
		if ok != (tt.ref != "") || tx.ReferenceNumber != tt.ref {
			t.Errorf("byTransactionNumber(%q) = %q, %v; want %q", tt.number, tx.ReferenceNumber, ok, tt.ref)
		}
	}
	s.reset()
	if _, ok := s.byTransactionNumber("SBX2026112400000003"); ok {
		t.Error("found a transaction after reset")
	}
}

// BenchmarkStore measures the store under parallel creates (insert with
// its duplicate check) and inquiries (get), over a million payments.
func BenchmarkStore(b *testing.B) {
	const held = 1_000_000
	s := newStore(func() {})
	date := time.Now()
	for i := range held {
		s.insert(&Transaction{TransactionNumber: transactionNumber(date, uint64(i)), ReferenceNumber: "HELD-" + strconv.Itoa(i), ClientID: "c", Status: StatusPending}, uint64(i))
	}
	var seq atomic.Uint64
	seq.Store(held)
	b.Run("insert", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				n := seq.Add(1)
				if !s.insert(&Transaction{ReferenceNumber: "NEW-" + strconv.FormatUint(n, 10), ClientID: "c", Status: StatusPending}, n) {
					b.Error("insert refused")
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
				if _, ok := s.get("c", string(ref)); !ok {
					b.Error("not found")
				}
			}
		})
	})
}
