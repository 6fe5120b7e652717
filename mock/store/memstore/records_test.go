package memstore

import (
	"context"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/delivery"
	"github.com/bjpay/bjpay-sandbox/mock/notify"
	"github.com/bjpay/bjpay-sandbox/mock/store"
)

// TestRecordRoundTrip: a transaction comes back from its record as it was
// stored, field for field, whatever its strings, items, times and zones.
func TestRecordRoundTrip(t *testing.T) {
	paidAt := time.Date(2026, 11, 24, 10, 0, 0, 500, notify.WIB)
	full := store.Transaction{
		TransactionNumber: "SBX2026112400000001", ReferenceNumber: "INV-1", PaymentCode: "GOPAY", PaymentName: "GoPay",
		CustomerName: "Budi Santoso ☕", CustomerEmail: "budi@example.co.id", CustomerPhoneNumber: "628123456789",
		FinishNotifyURL: "https://shop.example/notify?a=1&b=2", FinishReturnURL: "https://shop.example/thanks",
		ExpiredAt:   time.Date(2026, 11, 25, 10, 0, 0, 0, time.FixedZone("", 7*3600)),
		TotalAmount: 58000, Fee: 406, TotalReceived: 57594, PaymentDest: "https://pay.example/qr/1", PaymentDestType: "URL",
		PaymentDestName: "Toko Budi", Status: store.StatusPaid,
		Items:     []store.Item{{Name: "Kopi", Quantity: 2, Amount: 29000}, {Name: "", Quantity: -1, Amount: 1 << 53}},
		CreatedAt: time.Date(2026, 11, 24, 9, 0, 0, 0, notify.WIB), PaidAt: &paidAt,
		ClientID: "client-1", Scenario: "paid-after-5s",
		Delivery: delivery.Policy{Timeout: 10 * time.Second, Retries: []time.Duration{time.Minute, time.Hour}, Duplicates: 1, Variant: "valid"},
	}
	long := full
	long.ReferenceNumber = strings.Repeat("R", 100)
	long.CustomerName = strings.Repeat("n", 3*arenaChunk) // bigger than a chunk
	long.Items = []store.Item{}
	long.PaidAt = nil
	long.ExpiredAt = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
	long.Delivery = delivery.Policy{}
	bare := store.Transaction{TransactionNumber: "SBX2026112400000003", ReferenceNumber: "R3", Status: store.StatusPending}
	for _, tt := range []struct {
		name string
		tx   store.Transaction
	}{{"full", full}, {"long, empty items, far expiry", long}, {"zero fields", bare}} {
		t.Run(tt.name, func(t *testing.T) {
			s := New()
			in := tt.tx
			if err := s.Create(context.Background(), &in); err != nil {
				t.Fatal(err)
			}
			got, err := s.Get(context.Background(), tt.tx.ClientID, tt.tx.ReferenceNumber)
			if err != nil {
				t.Fatal(err)
			}
			if !sameTx(got, tt.tx) {
				t.Errorf("got  %+v\nwant %+v", got, tt.tx)
			}
			if a, b := got.AppendJSON(nil), tt.tx.AppendJSON(nil); string(a) != string(b) {
				t.Errorf("JSON differs:\n got  %s\n want %s", a, b)
			}
		})
	}
}

// sameTx compares two transactions, times by instant and zone.
func sameTx(a, b store.Transaction) bool {
	sameTime := func(x, y time.Time) bool {
		xn, xo := x.Zone()
		yn, yo := y.Zone()
		return x.Equal(y) && xn == yn && xo == yo
	}
	if !sameTime(a.ExpiredAt, b.ExpiredAt) || !sameTime(a.CreatedAt, b.CreatedAt) || (a.PaidAt == nil) != (b.PaidAt == nil) ||
		(a.PaidAt != nil && !sameTime(*a.PaidAt, *b.PaidAt)) {
		return false
	}
	a.ExpiredAt, a.CreatedAt, a.PaidAt = b.ExpiredAt, b.CreatedAt, b.PaidAt
	return reflect.DeepEqual(a, b)
}

// TestHashCollisions: two references of one merchant whose hashes are
// equal are both found, updated and deleted, each on its own.
func TestHashCollisions(t *testing.T) {
	s := New()
	sh := &s.shards[0]
	const h = 42 // the same hash for both, as if they collided
	for i, ref := range []string{"A", "B"} {
		j, r := sh.recs.alloc()
		sh.write(r, uint64(i+1), &store.Transaction{ReferenceNumber: ref, ClientID: "c", Status: store.StatusPending})
		sh.add("c", ref, h, j)
	}
	for _, ref := range []string{"A", "B"} {
		if _, r := sh.find("c", ref, h); r == nil || string(reference(sh.arena.bytes(r.text))) != ref {
			t.Errorf("find(%q) = %v", ref, r)
		}
	}
	i, _ := sh.find("c", "A", h)
	sh.del("c", "A", h, i)
	if _, r := sh.find("c", "A", h); r != nil {
		t.Error("found A after deleting it")
	}
	if _, r := sh.find("c", "B", h); r == nil {
		t.Error("B lost when A was deleted")
	}
}

// TestArenaBounded: under creates and evictions that keep one payment in
// a hundred PENDING, the arena's memory stays in proportion to what is
// held (compaction), and every held payment reads back intact.
func TestArenaBounded(t *testing.T) {
	ctx := context.Background()
	s := New()
	date := time.Date(2026, 11, 24, 0, 0, 0, 0, notify.WIB)
	const n = 200_000
	for i := 1; i <= n; i++ {
		status := store.StatusPaid
		if i%100 == 0 {
			status = store.StatusPending
		}
		tx := &store.Transaction{TransactionNumber: store.Number(date, uint64(i)), ReferenceNumber: "REF-" + strconv.Itoa(i),
			ClientID: "c", Status: status, CustomerName: strings.Repeat("x", 100)}
		if err := s.Create(ctx, tx); err != nil {
			t.Fatal(err)
		}
		if status == store.StatusPaid {
			s.evictTx(uint64(i))
		}
	}
	size, used := 0, 0
	for i := range s.shards {
		size += s.shards[i].arena.size
		used += s.shards[i].arena.used
	}
	if want := n / 100; s.held.Load() != int64(want) {
		t.Fatalf("held %d, want %d", s.held.Load(), want)
	}
	if size > 2*used+shards*6*arenaChunk {
		t.Errorf("arena holds %d bytes for %d bytes of text", size, used)
	}
	for i := 100; i <= n; i += 100 {
		tx, err := s.Get(ctx, "c", "REF-"+strconv.Itoa(i))
		if err != nil || tx.CustomerName != strings.Repeat("x", 100) || tx.TransactionNumber != store.Number(date, uint64(i)) {
			t.Fatalf("REF-%d: %+v, %v", i, tx, err)
		}
	}
}

// TestUpdateText: a change of status alone keeps the record's text where
// it is; a change of its text is stored, and reads back.
func TestUpdateText(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name     string
		change   func(*store.Transaction)
		moved    bool
		wantName string
	}{
		{"status alone", func(tx *store.Transaction) { tx.Status = store.StatusPaid }, false, "Budi"},
		{"customer name", func(tx *store.Transaction) { tx.CustomerName = "Siti" }, true, "Siti"},
		{"an item's name", func(tx *store.Transaction) { tx.Items[0].Name = "Teh" }, true, "Budi"},
		{"createdAt, which the number is made from", func(tx *store.Transaction) { tx.CreatedAt = tx.CreatedAt.AddDate(0, 0, 1) }, true, "Budi"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := New()
			tx := &store.Transaction{TransactionNumber: "SBX2026112400000001", ReferenceNumber: "R1", ClientID: "c",
				CreatedAt: time.Date(2026, 11, 24, 9, 0, 0, 0, notify.WIB),
				Status:    store.StatusPending, CustomerName: "Budi", Items: []store.Item{{Name: "Kopi", Quantity: 1, Amount: 5}}}
			if err := s.Create(ctx, tx); err != nil {
				t.Fatal(err)
			}
			sh := s.shard(s.hash("R1"))
			_, r := sh.find("c", "R1", s.hash("R1"))
			before := r.text
			got, err := s.Update(ctx, "c", "R1", func(tx *store.Transaction) ([]delivery.Record, error) { tt.change(tx); return nil, nil })
			if err != nil {
				t.Fatal(err)
			}
			if moved := r.text != before; moved != tt.moved {
				t.Errorf("text moved: %v, want %v", moved, tt.moved)
			}
			stored, _ := s.Get(ctx, "c", "R1")
			if !reflect.DeepEqual(stored.Items, got.Items) || stored.CustomerName != tt.wantName || got.CustomerName != tt.wantName ||
				stored.TransactionNumber != "SBX2026112400000001" {
				t.Errorf("stored %+v, returned %+v", stored, got)
			}
		})
	}
}
