package mock

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/notify"
	"github.com/bjpay/bjpay-sandbox/mock/store"
	"github.com/bjpay/bjpay-sandbox/mock/store/memstore"
)

// TestNumberParts: an expiry event finds its payment again by the parts
// of its number, which store.Number gives back exactly; any other number
// is refused (its event keeps the number itself).
func TestNumberParts(t *testing.T) {
	wib := time.FixedZone("WIB", 7*3600)
	for _, tt := range []struct {
		date time.Time
		seq  uint64
	}{
		{time.Date(2026, 11, 24, 23, 59, 59, 0, wib), 42},
		{time.Date(2030, 2, 28, 0, 0, 0, 0, wib), 12345678},
		{time.Date(2028, 2, 29, 12, 0, 0, 0, wib), 123456789012},
		{time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), 1},
		{time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), 1<<64 - 1},
	} {
		number := store.Number(tt.date, tt.seq)
		seq, date, ok := numberParts(number)
		if !ok || seq != tt.seq {
			t.Errorf("numberParts(%q) = %d, %d, %v; want seq %d", number, seq, date, ok, tt.seq)
			continue
		}
		if back := store.Number(dateOf(date), seq); back != number {
			t.Errorf("numberParts(%q) = %d, %d: store.Number gives %q back", number, seq, date, back)
		}
	}
	for _, bad := range []string{
		"", "SBX", "SBX20261124", "SBX2026112412", "TRX2026112400000042", "SBX2026x12400000042",
		"SBX2026112400000000042", // padded past eight digits
		"SBX2026113100000042",    // no 31 November
		"SBX0000000000000042", "SBX20261124-0000042", "SBX2026112400000042 ",
	} {
		if seq, date, ok := numberParts(bad); ok {
			t.Errorf("numberParts(%q) = %d, %d, true; want refused", bad, seq, date)
		}
	}
}

// unreadable is a store whose look-ups by number fail while failing is
// set.
type unreadable struct {
	*memstore.Store
	failing atomic.Bool
}

func (u *unreadable) GetByNumber(ctx context.Context, number string) (store.Transaction, error) {
	if u.failing.Load() {
		return store.Transaction{}, errors.New("disk read error (injected)")
	}
	return u.Store.GetByNumber(ctx, number)
}

// TestExpiryFindsPayment: an expiry event, which holds only its payment's
// number parts, ends the payment it was planned for once expiredAt comes;
// does nothing to a payment gone since, or to a newer one under the same
// reference; and when the store cannot be read, tries again a second
// later.
func TestExpiryFindsPayment(t *testing.T) {
	for _, tt := range []struct {
		name       string
		stored     bool // the planned payment is in the store
		reused     bool // a newer payment took its reference (after a reset)
		unreadable bool // the store cannot be read when the expiry comes
		want       string
	}{
		{"held", true, false, false, store.StatusExpired},
		{"gone", false, false, false, ""},
		{"reference reused", false, true, false, store.StatusPending},
		{"store unreadable, then read", true, false, true, store.StatusExpired},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := &unreadable{Store: memstore.New()}
			clock, _ := NewSandboxClock(ClockVirtual, 1)
			s, err := New(Options{Config: DefaultConfig(), Store: st, Clock: clock, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			s.Start()
			defer s.Close(context.Background())
			ctx := context.Background()
			newTx := func() *store.Transaction {
				now := clock.Now().In(notify.WIB).Truncate(time.Second)
				return &store.Transaction{TransactionNumber: store.Number(now, st.NextSeq()), ReferenceNumber: "R1",
					ClientID: "shop", Status: store.StatusPending, CreatedAt: now, ExpiredAt: now.Add(time.Hour)}
			}
			tx := newTx()
			if tt.stored {
				if err := st.Create(ctx, tx); err != nil {
					t.Fatal(err)
				}
			}
			if tt.reused {
				newer := newTx()
				newer.ExpiredAt = newer.ExpiredAt.Add(time.Hour)
				if err := st.Create(ctx, newer); err != nil {
					t.Fatal(err)
				}
			}
			s.planExpiry(tx)
			st.failing.Store(tt.unreadable)
			if err := s.AdvanceClock(90 * time.Minute); err != nil {
				t.Fatal(err)
			}
			if tt.unreadable {
				if got, _ := st.Get(ctx, "shop", "R1"); got.Status != store.StatusPending {
					t.Fatalf("%s while the store could not be read, want PENDING", got.Status)
				}
				st.failing.Store(false)
				if err := s.AdvanceClock(time.Second); err != nil {
					t.Fatal(err)
				}
			}
			got, _ := st.Get(ctx, "shop", "R1")
			if got.Status != tt.want {
				t.Errorf("R1 is %q after its expiry, want %q", got.Status, tt.want)
			}
		})
	}
}
