package mock_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/bjpay/bjpay-sandbox/mock"
)

// TestConcurrentCreates: many merchants' requests at once lose nothing, and
// of several creates racing for one reference exactly one wins.
func TestConcurrentCreates(t *testing.T) {
	h := newSandbox(t, mock.Config{}).Handler()
	const workers, each = 8, 50
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := map[int]int{} // status → count, for the contested reference
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if r := post(t, h, createPath, with(map[string]any{"referenceNumber": fmt.Sprintf("W%d-%d", w, i)})); r.Status != 200 {
					t.Errorf("create W%d-%d: %d %s", w, i, r.Status, r.Body)
				}
				r := post(t, h, createPath, with(map[string]any{"referenceNumber": "CONTESTED"}))
				mu.Lock()
				wins[r.Status]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins[200] != 1 || wins[400] != workers*each-1 {
		t.Errorf("contested reference: statuses %v, want exactly one 200 and %d × 400", wins, workers*each-1)
	}
	for w := 0; w < workers; w++ {
		for i := 0; i < each; i++ {
			if r := post(t, h, inquiryPath+fmt.Sprintf("W%d-%d", w, i), nil); r.Status != 200 {
				t.Errorf("inquiry W%d-%d: %d", w, i, r.Status)
			}
		}
	}
}
