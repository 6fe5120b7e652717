package mock_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock"
)

// TestResetFreesMemory: what a reset forgets is garbage after it, the
// payments' scheduled expiries included.
func TestResetFreesMemory(t *testing.T) {
	const payments = 20_000
	sb := newSandbox(t, mock.Config{})
	h := sb.Handler()
	live := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := live()
	for i := range payments {
		// Expiring in a day: each has an event in the scheduler.
		if r := post(t, h, createPath, with(map[string]any{"referenceNumber": fmt.Sprintf("MEM-%d", i), "expiredAt": testNow.Add(24 * time.Hour).Format(time.RFC3339)})); r.Status != 200 {
			t.Fatalf("create %d: %d %s", i, r.Status, r.Body)
		}
	}
	held := live()
	if err := sb.Reset(); err != nil {
		t.Fatal(err)
	}
	after := live()
	grew, kept := int64(held)-int64(before), int64(after)-int64(before)
	t.Logf("heap: %d KiB before, %d KiB holding %d payments, %d KiB after the reset", before>>10, held>>10, payments, after>>10)
	if grew <= 0 || kept*10 > grew {
		t.Errorf("the reset kept %d KiB of the %d KiB the payments took; want under a tenth", kept>>10, grew>>10)
	}
}
