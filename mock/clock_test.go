package mock

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

func TestSandboxClock(t *testing.T) {
	wall := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		mode    string
		speed   float64
		elapsed time.Duration // wall time passing
		advance time.Duration
		want    time.Duration // sandbox time passed
	}{
		{ClockReal, 1, time.Minute, 0, time.Minute},
		{ClockReal, 60, time.Minute, 0, time.Hour},
		{ClockReal, 1, time.Minute, time.Hour, time.Hour + time.Minute},
		{ClockVirtual, 1, time.Hour, 0, 0},
		{ClockVirtual, 1, time.Hour, 24 * time.Hour, 24 * time.Hour},
	}
	for _, tt := range tests {
		now := wall
		c, err := NewSandboxClock(tt.mode, tt.speed)
		if err != nil {
			t.Fatal(err)
		}
		c.wall = func() time.Time { return now }
		c.sim, c.wallAt = wall, wall
		c.Advance(tt.advance)
		now = now.Add(tt.elapsed)
		if got := c.Now().Sub(wall); got != tt.want {
			t.Errorf("%s ×%v, %s elapsed, advanced %s: sandbox time moved %s, want %s", tt.mode, tt.speed, tt.elapsed, tt.advance, got, tt.want)
		}
	}
	for _, bad := range []struct {
		mode  string
		speed float64
	}{{"fast", 1}, {ClockReal, 0}, {ClockReal, -2}, {ClockReal, math.NaN()}, {ClockReal, math.Inf(1)}, {ClockReal, 1e-9}} {
		if _, err := NewSandboxClock(bad.mode, bad.speed); err == nil {
			t.Errorf("NewSandboxClock(%q, %v) accepted", bad.mode, bad.speed)
		}
	}
}

// TestSchedulerVirtual: events run in time order when the virtual clock
// passes them, and not before.
func TestSchedulerVirtual(t *testing.T) {
	c, _ := NewSandboxClock(ClockVirtual, 1)
	s := newScheduler(c, nil)
	s.start()
	defer s.close()
	start := c.Now()
	var mu sync.Mutex
	var ran []int
	for _, i := range []int{3, 1, 2} {
		s.at("m", start.Add(time.Duration(i)*time.Hour), 0, func() { mu.Lock(); ran = append(ran, i); mu.Unlock() })
	}
	s.at("m", start.Add(2*time.Hour), 0, func() { mu.Lock(); ran = append(ran, 22); mu.Unlock() }) // a tie runs after the earlier one
	got := func() []int { mu.Lock(); defer mu.Unlock(); return append([]int(nil), ran...) }
	c.Advance(90 * time.Minute)
	s.runDue()
	if g := got(); len(g) != 1 || g[0] != 1 {
		t.Fatalf("after 1h30: ran %v, want [1]", g)
	}
	c.Advance(2 * time.Hour)
	s.runDue()
	if g := got(); len(g) != 4 || g[1] != 2 || g[2] != 22 || g[3] != 3 {
		t.Fatalf("after 3h30: ran %v, want [1 2 22 3]", g)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.events) != 0 {
		t.Errorf("%d events left", len(s.events))
	}
}

// TestSchedulerReal: on a real clock, events fire by themselves.
func TestSchedulerReal(t *testing.T) {
	c, _ := NewSandboxClock(ClockReal, 1000) // 20 ms of sandbox time pass in 20 µs
	s := newScheduler(c, nil)
	s.start()
	defer s.close()
	done := make(chan struct{})
	s.at("m", c.Now().Add(20*time.Second), 0, func() { close(done) })
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("an event 20 s ahead at ×1000 did not fire within 5 s")
	}
}

// TestWallDelayBounded: a due time far away never overflows into a
// negative (spinning) timer.
func TestWallDelayBounded(t *testing.T) {
	c, _ := NewSandboxClock(ClockReal, minSpeed)
	if d, ok := c.wallDelay(time.Duration(math.MaxInt64)); !ok || d != time.Hour {
		t.Errorf("wallDelay(max) = %s, %v; want 1h, true", d, ok)
	}
}

// TestEventHeap: entries come out by time, ties in the order they went
// in, whatever the order of pushes.
func TestEventHeap(t *testing.T) {
	base := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	for _, n := range []int{0, 1, 2, 7, 100, 1000} {
		var h eventHeap
		r := rand.New(rand.NewPCG(uint64(n), 1))
		for seq := range n {
			at := base.Add(time.Duration(r.IntN(10)) * time.Second).Add(time.Duration(r.IntN(3)) * time.Nanosecond)
			h.push(entry{sec: at.Unix(), nsec: uint32(at.Nanosecond()), seq: uint64(seq)})
		}
		var prev entry
		for i := range n {
			e := h[0]
			h.pop()
			if i > 0 && (e.at().Before(prev.at()) || e.at().Equal(prev.at()) && e.seq < prev.seq) {
				t.Fatalf("n=%d: entry %d (%s, seq %d) after (%s, seq %d)", n, i, e.at(), e.seq, prev.at(), prev.seq)
			}
			prev = e
		}
		if len(h) != 0 {
			t.Errorf("n=%d: %d entries left", n, len(h))
		}
	}
}

// TestCloseRunsDueEvents: events already due when the sandbox closes run
// before it stops, even when the loop has not noticed them yet.
func TestCloseRunsDueEvents(t *testing.T) {
	clock, _ := NewSandboxClock(ClockVirtual, 1)
	s := newScheduler(clock, nil)
	s.start()
	ran := false
	s.runDue()
	time.Sleep(20 * time.Millisecond) // the loop is back waiting, nothing planned
	// Pushed behind the loop's back, as a due event it has not noticed.
	s.mu.Lock()
	s.events.push(entry{sec: clock.Now().Unix(), seq: 1, owner: s.ownerIndex("m")})
	s.fns = map[uint64]task{1: {fn: func() { ran = true }}}
	s.mu.Unlock()
	s.close()
	if !ran {
		t.Fatal("an event due at close was dropped")
	}
}
