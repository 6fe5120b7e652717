package mock

import "time"

// Clock tells the sandbox what time it is for everything the payments'
// lifecycle depends on (creation, expiry). It is injected so tests and the
// control API can move time instead of waiting for it.
//
// What crosses the wire (the skew check on incoming X-Request-Time, the
// X-Request-Time of notifies) always uses wall time, because merchants
// compare it with their own clocks.
type Clock interface {
	Now() time.Time
}

// RealClock is the wall clock.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// ClockFunc adapts a function to Clock; handy in tests.
type ClockFunc func() time.Time

// Now calls f.
func (f ClockFunc) Now() time.Time { return f() }

// wib is Western Indonesia Time (UTC+7), the zone BJPAY's examples use.
// [sandbox] The sandbox renders the times it generates in it. A fixed zone, so the binary
// needs no tzdata.
var wib = time.FixedZone("WIB", 7*60*60)
