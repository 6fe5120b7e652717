package mock

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/bjpay/bjpay-sandbox/mock/store"
	"github.com/brianvoe/gofakeit/v6"
)

func TestCRC16CCITT(t *testing.T) {
	tests := []struct {
		in   string
		want uint16
	}{
		{"123456789", 0x29B1}, // the CRC-16/CCITT-FALSE check value
		{"", 0xFFFF},
		{"A", 0xB915},
	}
	for _, tt := range tests {
		if got := crc16CCITT(tt.in); got != tt.want {
			t.Errorf("crc16CCITT(%q) = %04X, want %04X", tt.in, got, tt.want)
		}
	}
}

// TestQRISString parses the generated payload as a QR reader would: every
// top-level TLV's length must be right, and the CRC must check.
func TestQRISString(t *testing.T) {
	tx := &store.Transaction{ReferenceNumber: "INV-THAT-IS-LONGER-THAN-25-CHARACTERS", TotalAmount: 58000}
	s := qrisString("Toko Budi Sejahtera Abadi Makmur", "123456789012345", tx)
	tags := map[string]string{}
	for i := 0; i < len(s); {
		if i+4 > len(s) {
			t.Fatalf("truncated TLV at %d in %q", i, s)
		}
		n, err := strconv.Atoi(s[i+2 : i+4])
		if err != nil || i+4+n > len(s) {
			t.Fatalf("bad length at %d in %q", i, s)
		}
		tags[s[i:i+2]] = s[i+4 : i+4+n]
		i += 4 + n
	}
	want := map[string]string{"00": "01", "01": "12", "53": "360", "54": "58000", "58": "ID", "59": "TOKO BUDI SEJAHTERA ABADI"}
	for tag, v := range want {
		if tags[tag] != v {
			t.Errorf("tag %s = %q, want %q", tag, tags[tag], v)
		}
	}
	if got, want := tags["63"], s[len(s)-4:]; got != want {
		t.Fatalf("tag 63 = %q, want the last four characters %q", got, want)
	}
	if crc := fmt.Sprintf("%04X", crc16CCITT(s[:len(s)-4])); crc != tags["63"] {
		t.Errorf("CRC %s does not match tag 63 %s", crc, tags["63"])
	}
}

func TestQRISStringNonASCIIName(t *testing.T) {
	s := qrisString("Kopi Ñusantara ☕ Jaya", "123456789012345", &store.Transaction{ReferenceNumber: "R1", TotalAmount: 1000})
	if !strings.Contains(s, "5919KOPI USANTARA  JAYA") {
		t.Errorf("tag 59 should hold the printable ASCII of the name with a byte length: %q", s)
	}
}

// TestFeeFor: percentages are rounded half up exactly, not through
// floating point (0.7 % of 5500 is 38.5 → 39).
func TestFeeFor(t *testing.T) {
	tests := []struct {
		feeType string
		fee     float64
		amount  int64
		want    int64
	}{
		{FeePercent, 0.7, 5500, 39},
		{FeePercent, 0.7, 58000, 406},
		{FeePercent, 1.5, 1100, 17}, // 16.5 → 17
		{FeePercent, 2, 58000, 1160},
		{FeePercent, 0.01, 49, 0}, // 0.0049
		{FeePercent, 100, 9007199254740991, 9007199254740991},
		{FeePercent, 0, 58000, 0},
		{FeeFlat, 3500, 58000, 3500},
	}
	for _, tt := range tests {
		ch := &Channel{FeeType: tt.feeType, Fee: tt.fee}
		if got := feeFor(ch, tt.amount); got != tt.want {
			t.Errorf("%s %v of %d = %d, want %d", tt.feeType, tt.fee, tt.amount, got, tt.want)
		}
	}
}

// TestAppendToken checks that deeplink tokens are gofakeit's UUIDs without
// the dashes, drawn the same way: a seed keeps giving the destinations it
// gave before appendToken replaced the UUID call.
func TestAppendToken(t *testing.T) {
	for _, seed := range []int64{1, 7, 42, 20261124} {
		g, want := newDestGen(seed), gofakeit.NewUnlocked(seed)
		for i := range 3 {
			if got, want := string(g.appendToken(nil)), strings.ReplaceAll(want.UUID(), "-", ""); got != want {
				t.Errorf("seed %d, token %d: got %s, want %s", seed, i, got, want)
			}
		}
	}
}
