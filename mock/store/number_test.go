package store

import (
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/notify"
)

func TestTransactionNumber(t *testing.T) {
	date := time.Date(2026, 11, 24, 23, 0, 0, 0, notify.WIB)
	for _, tt := range []struct {
		seq  uint64
		want string
	}{
		{1, "SBX2026112400000001"},
		{12345678, "SBX2026112412345678"},
		{123456789, "SBX20261124123456789"},
	} {
		got := Number(date, tt.seq)
		if got != tt.want {
			t.Errorf("Number(%d) = %q, want %q", tt.seq, got, tt.want)
		}
		if seq, ok := SeqOf(got); !ok || seq != tt.seq {
			t.Errorf("SeqOf(%q) = %d, %v; want %d", got, seq, ok, tt.seq)
		}
	}
	for _, bad := range []string{"", "SBX", "SBX20261124", "XYZ2026112400000001", "SBX20261124-0000001", "SBX20261124+0000001"} {
		if seq, ok := SeqOf(bad); ok {
			t.Errorf("SeqOf(%q) = %d, want no sequence number", bad, seq)
		}
	}
}
