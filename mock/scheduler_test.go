package mock

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// TestSchedulerCancel: cancelled events never run, and leave the heap (with
// what they hold) once they are half of it; the others run in order.
func TestSchedulerCancel(t *testing.T) {
	for _, tt := range []struct {
		name           string
		events, cancel int // keyed events 1..events; keys 1..cancel are cancelled
		compacted      bool
	}{
		{"a few, not worth a pass yet", 10, 5, false},
		{"fewer than half", 3000, 1400, false},
		{"more than half", 3000, 2000, true},
		{"every one", 2048, 2048, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := NewSandboxClock(ClockVirtual, 1)
			s := newScheduler(c)
			s.start()
			defer s.close()
			start := c.Now()
			var mu sync.Mutex
			var ran []uint64
			for key := uint64(1); key <= uint64(tt.events); key++ {
				at := start.Add(time.Duration(tt.events-int(key)+1) * time.Second) // the last key is due first
				s.put([]event{{at: at, key: key, fn: func() { mu.Lock(); ran = append(ran, key); mu.Unlock() }}})
			}
			s.at("", start.Add(time.Second), 0, func() { mu.Lock(); ran = append(ran, 0); mu.Unlock() }) // an unkeyed one is never dropped
			for key := uint64(1); key <= uint64(tt.cancel); key++ {
				s.cancel(key)
			}
			s.mu.Lock()
			held := len(s.events)
			s.mu.Unlock()
			if compacted := held < tt.events+1; compacted != tt.compacted {
				t.Errorf("%d events in the heap after %d of %d were cancelled; compacted %v, want %v", held, tt.cancel, tt.events, compacted, tt.compacted)
			}
			c.Advance(time.Duration(tt.events) * time.Second)
			s.runDue()
			var want []uint64
			for key := uint64(tt.events); key > uint64(tt.cancel); key-- {
				want = append(want, key)
				if key == uint64(tt.events) {
					want = append(want, 0) // a tie runs in scheduling order
				}
			}
			if tt.cancel == tt.events {
				want = []uint64{0}
			}
			mu.Lock()
			defer mu.Unlock()
			if !slices.Equal(ran, want) {
				t.Errorf("ran %d events %v..., want %d %v...", len(ran), ran[:min(5, len(ran))], len(want), want[:min(5, len(want))])
			}
		})
	}
}
