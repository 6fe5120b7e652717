package mock

import (
	"reflect"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestSchedulerCancel: cancelled events never run, and leave the heap once
// they are half of it; the others run in order.
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
			var mu sync.Mutex
			var ran []uint64
			record := func(key uint64) { mu.Lock(); ran = append(ran, key); mu.Unlock() }
			c, _ := NewSandboxClock(ClockVirtual, 1)
			s := newScheduler(c, func(_ string, key uint64, _ uint32) { record(key) })
			s.start()
			defer s.close()
			start := c.Now()
			for key := uint64(1); key <= uint64(tt.events); key++ {
				at := start.Add(time.Duration(tt.events-int(key)+1) * time.Second) // the last key is due first
				e := event{at: at, key: key, date: 20261124}                       // an expiry...
				if key%2 == 0 {
					e = event{at: at, key: key, cost: 1, fn: func() { record(key) }} // ...or a function
				}
				s.put([]event{e})
			}
			s.at("", start.Add(time.Second), 0, func() { record(0) }) // an unkeyed one is never dropped
			for key := uint64(1); key <= uint64(tt.cancel); key++ {
				s.cancel(key)
			}
			s.mu.Lock()
			held, fns, withFn := len(s.events), len(s.fns), 0
			for _, e := range s.events {
				if e.date == 0 {
					withFn++
				}
			}
			s.mu.Unlock()
			if compacted := held < tt.events+1; compacted != tt.compacted {
				t.Errorf("%d events in the heap after %d of %d were cancelled; compacted %v, want %v", held, tt.cancel, tt.events, compacted, tt.compacted)
			}
			if fns != withFn || s.promised.Load() != int64(withFn-1) { // the unkeyed one costs nothing
				t.Errorf("%d functions kept and %d notifies promised for %d events with a function in the heap", fns, s.promised.Load(), withFn)
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
			if n := s.promised.Load(); n != 0 || len(s.fns) != 0 {
				t.Errorf("promised %d and %d functions kept with no event waiting", n, len(s.fns))
			}
			if s.fnsPeak > 1024 { // a map never shrinks: one emptied after holding many is dropped
				t.Errorf("the map of functions, empty, still has room for %d", s.fnsPeak)
			}
		})
	}
}

// TestSchedulerTake: take hands back one owner's events (or every one)
// as they were put, in the order they are due, with their functions and
// costs, and put on another scheduler they run there as they would have.
func TestSchedulerTake(t *testing.T) {
	c, _ := NewSandboxClock(ClockVirtual, 1)
	base := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	for _, tt := range []struct {
		owner string
		want  []string // what runs after the move, in order
	}{
		{"a", []string{"a fn 1s", "a expiry 1s", "a expiry 2s"}},
		{"b", []string{"b expiry 1s", "b fn 3s"}},
		{"", []string{"a fn 1s", "b expiry 1s", "a expiry 1s", "a expiry 2s", "b fn 3s"}},
		{"nobody", nil},
	} {
		t.Run(tt.owner, func(t *testing.T) {
			var ran []string
			from := newScheduler(c, nil)
			to := newScheduler(c, func(owner string, key uint64, date uint32) {
				if date != 20300102 {
					t.Errorf("expiry %s/%d: date %d, want 20300102", owner, key, date)
				}
				ran = append(ran, owner+" expiry "+(time.Duration(key)*time.Second).String())
			})
			fn := func(name string) func() { return func() { ran = append(ran, name) } }
			from.put([]event{
				{at: base.Add(2 * time.Second), owner: "a", key: 2, date: 20300102},
				{at: base.Add(time.Second), owner: "a", cost: 2, fn: fn("a fn 1s")},
				{at: base.Add(time.Second), owner: "b", key: 1, date: 20300102},
				{at: base.Add(time.Second), owner: "a", key: 1, date: 20300102},
				{at: base.Add(3 * time.Second), owner: "b", cost: 3, fn: fn("b fn 3s")},
			})
			moved := from.take(tt.owner)
			var cost int64
			for _, e := range moved {
				cost += e.cost
				if !e.at.After(base) || e.at.Nanosecond() != 6 {
					t.Errorf("event at %s, want at %s plus whole seconds", e.at, base)
				}
			}
			if left := from.promised.Load(); left != 5-cost {
				t.Errorf("promised %d left after taking %d, want %d", left, cost, 5-cost)
			}
			to.put(moved)
			if got := to.promised.Load(); got != cost {
				t.Errorf("promised %d after the move, want %d", got, cost)
			}
			c.Set(base.Add(time.Hour))
			to.runReady()
			if !slices.Equal(ran, tt.want) {
				t.Errorf("ran %q, want %q", ran, tt.want)
			}
			from.mu.Lock()
			defer from.mu.Unlock()
			for _, o := range from.owners {
				if o == tt.owner && o != "" {
					t.Errorf("owner %q still has an index after its events left", o)
				}
			}
		})
	}
}

// TestEntryPointerFree: a heap entry holds no pointer, so the collector
// never scans the heap's array, however many payments wait in it.
func TestEntryPointerFree(t *testing.T) {
	typ := reflect.TypeFor[entry]()
	for i := range typ.NumField() {
		switch f := typ.Field(i); f.Type.Kind() {
		case reflect.Int64, reflect.Uint64, reflect.Uint32:
		default:
			t.Errorf("entry.%s is a %s: the collector would scan every entry", f.Name, f.Type)
		}
	}
	if size := typ.Size(); size > 40 {
		t.Errorf("an entry takes %d bytes, want at most 40", size)
	}
}

// BenchmarkSchedulerExpiry measures what a held payment's expiry costs:
// the live heap per waiting event, and the allocations per put (the
// heap's array growing, amortised).
func BenchmarkSchedulerExpiry(b *testing.B) {
	c, _ := NewSandboxClock(ClockVirtual, 1)
	s := newScheduler(c, func(string, uint64, uint32) {})
	at := c.Now().Add(24 * time.Hour)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s.put([]event{{at: at, owner: "merchant", key: uint64(i + 1), date: 20261124}})
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(b.N), "B/event")
	if n := len(s.events); n != b.N {
		b.Fatalf("%d events waiting, want %d", n, b.N)
	}
}
