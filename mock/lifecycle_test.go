package mock

import (
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/store"
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
