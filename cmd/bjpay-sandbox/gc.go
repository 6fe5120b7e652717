package main

import (
	"os"
	"runtime/debug"
)

// Garbage collector settings of the serve process, applied by TuneGC.
const (
	// GCPercent lets the heap grow to twice what is live before a
	// collection: Go's default. A held payment has no pointer for the
	// collector to trace (mock/store/memstore), so a collection costs
	// little however many are held, and more headroom would only cost
	// memory (PERFORMANCE.md has the figures: 400 was needed before).
	GCPercent = 100
	// GCMemoryLimit is the soft limit that bounds what GCPercent lets the
	// heap grow to: near it the collector runs as often as it must. Under
	// 1 GiB, with room for what RSS holds besides the Go runtime's memory.
	GCMemoryLimit = 900 << 20
)

// TuneGC applies GCPercent and GCMemoryLimit to the process, each unless
// the user set its environment variable (GOGC, GOMEMLIMIT), and reports
// what the process runs with. [sandbox] Holding more than about two million
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
