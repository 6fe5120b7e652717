package main

import (
	"os"
	"runtime/debug"
)

// Garbage collector settings of the serve process, applied by TuneGC.
const (
	// GCPercent lets the heap grow to five times what is live before a
	// collection. Every create adds a payment to the live heap, and a
	// collection's cost is in proportion to it, so at the default of 100
	// the collector took a fifth of the CPU under load and set the tail
	// latency (PERFORMANCE.md has the figures).
	GCPercent = 400
	// GCMemoryLimit is the soft limit that bounds what GCPercent lets the
	// heap grow to: near it the collector runs as often as it must. Under
	// 1 GiB, with room for what RSS holds besides the Go runtime's memory.
	GCMemoryLimit = 900 << 20
)

// TuneGC applies GCPercent and GCMemoryLimit to the process, each unless
// the user set its environment variable (GOGC, GOMEMLIMIT), and reports
// what the process runs with. [sandbox] Holding more than about a million
// payments, raise GOMEMLIMIT, or the collector will spend up to half the
// CPU keeping under the limit.
//
// serve calls it: process-wide settings belong to the program, so a
// Sandbox inside another program (a merchant's tests) leaves that
// program's settings alone. bench/memory applies the same values.
func TuneGC() (percent int, limit int64) {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(GCPercent)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(GCMemoryLimit)
	}
	percent = debug.SetGCPercent(-1)
	debug.SetGCPercent(percent)
	return percent, debug.SetMemoryLimit(-1)
}
