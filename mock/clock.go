package mock

import (
	"fmt"
	"sync"
	"time"
)

// The sandbox clock drives everything in a payment's lifecycle (creation,
// expiry, timelines, retry due times). What crosses the wire (the skew
// check on incoming X-Request-Time, the X-Request-Time of notifies) always
// uses wall time, because merchants compare it with their own clocks.

// Clock modes of SandboxClock.
const (
	ClockReal    = "real"    // follows the wall clock (at Speed), and can be advanced or set
	ClockVirtual = "virtual" // stands still until advanced or set
)

// SandboxClock is the sandbox's controllable clock: real time, real time
// running Speed times faster, or virtual time that only moves when told.
// Advance and Set work in every mode. Safe for concurrent use.
type SandboxClock struct {
	mu    sync.Mutex
	mode  string
	speed float64
	wall  func() time.Time
	// The clock reads sim + (wall() − wallAt) × speed; virtual mode freezes it at sim.
	sim, wallAt time.Time
	changed     []func() // told after Advance and Set (the scheduler re-plans)
}

// NewSandboxClock returns a clock in mode (ClockReal or ClockVirtual)
// starting at the wall time; speed (> 0) applies to ClockReal.
func NewSandboxClock(mode string, speed float64) (*SandboxClock, error) {
	switch {
	case mode != ClockReal && mode != ClockVirtual:
		return nil, fmt.Errorf("clock mode %q: expected %q or %q", mode, ClockReal, ClockVirtual)
	case !(speed >= minSpeed && speed <= maxSpeed): // also rejects NaN
		return nil, fmt.Errorf("clock speed %v: expected a positive factor from %g to %g, such as 1 or 60", speed, minSpeed, maxSpeed)
	}
	now := time.Now()
	return &SandboxClock{mode: mode, speed: speed, wall: time.Now, sim: now, wallAt: now}, nil
}

// Now returns the sandbox time.
func (c *SandboxClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked()
}

func (c *SandboxClock) nowLocked() time.Time {
	if c.mode == ClockVirtual {
		return c.sim
	}
	return c.sim.Add(time.Duration(float64(c.wall().Sub(c.wallAt)) * c.speed))
}

// Bounds of the real clock's speed, and of the times the clock may show
// (what RFC 3339 and JSON can render).
const (
	minSpeed = 1e-3
	maxSpeed = 1e6
)

var (
	minTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)

// InRange reports whether t can be shown by the clock (years 1 to 9999).
func InRange(t time.Time) bool { return !t.Before(minTime) && !t.After(maxTime) }

// Mode returns ClockReal or ClockVirtual.
func (c *SandboxClock) Mode() string { return c.mode }

// Speed returns the factor real mode runs at.
func (c *SandboxClock) Speed() float64 { return c.speed }

// Advance moves the clock forward by d (d ≥ 0).
func (c *SandboxClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.sim, c.wallAt = c.nowLocked().Add(d), c.wall()
	fns := c.changed
	c.mu.Unlock()
	for _, f := range fns {
		f()
	}
}

// Set puts the clock at t, forwards or backwards.
func (c *SandboxClock) Set(t time.Time) {
	c.mu.Lock()
	c.sim, c.wallAt = t, c.wall()
	fns := c.changed
	c.mu.Unlock()
	for _, f := range fns {
		f()
	}
}

// restore puts the clock at now as of the wall time wall, as a shared store
// read it: every replica's clock shows the one the store holds. Mode and
// speed stay.
func (c *SandboxClock) restore(now, wall time.Time) {
	c.mu.Lock()
	c.sim, c.wallAt = now, wall
	c.mu.Unlock()
}

// onChange registers f to be called after every Advance and Set.
func (c *SandboxClock) onChange(f func()) {
	c.mu.Lock()
	c.changed = append(c.changed, f)
	c.mu.Unlock()
}

// wallDelay converts a sandbox duration into the wall time it takes to
// pass; ok is false in virtual mode, where it never passes by itself.
func (c *SandboxClock) wallDelay(d time.Duration) (wall time.Duration, ok bool) {
	if c.mode == ClockVirtual {
		return 0, false
	}
	// At most an hour: the scheduler re-plans then, and a float far beyond
	// the Duration range would wrap negative and spin the loop.
	w := float64(d) / c.speed
	if w > float64(time.Hour) {
		return time.Hour, true
	}
	return time.Duration(w), true
}
