package main

import (
	"os"
	"runtime/debug"
	"testing"
)

// TestTuneGC: the sandbox's settings apply unless the user set GOGC or
// GOMEMLIMIT, whose values are then left as the runtime read them.
func TestTuneGC(t *testing.T) {
	percent, limit := debug.SetGCPercent(-1), debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetGCPercent(percent); debug.SetMemoryLimit(limit) })
	for _, tt := range []struct {
		name      string
		env       map[string]string
		wantPct   int
		wantLimit int64
	}{
		{"defaults", nil, GCPercent, GCMemoryLimit},
		{"GOGC set", map[string]string{"GOGC": "150"}, 150, GCMemoryLimit},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "2GiB"}, GCPercent, 2 << 30},
		{"both set", map[string]string{"GOGC": "150", "GOMEMLIMIT": "2GiB"}, 150, 2 << 30},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"GOGC", "GOMEMLIMIT"} {
				t.Setenv(k, "") // restored after the test
				os.Unsetenv(k)
			}
			// What the runtime would have read from the environment at start.
			debug.SetGCPercent(100)
			debug.SetMemoryLimit(1<<63 - 1)
			if v, ok := tt.env["GOGC"]; ok {
				t.Setenv("GOGC", v)
				debug.SetGCPercent(150)
			}
			if v, ok := tt.env["GOMEMLIMIT"]; ok {
				t.Setenv("GOMEMLIMIT", v)
				debug.SetMemoryLimit(2 << 30)
			}
			gotPct, gotLimit := TuneGC()
			if gotPct != tt.wantPct || gotLimit != tt.wantLimit {
				t.Errorf("TuneGC() = %d, %d; want %d, %d", gotPct, gotLimit, tt.wantPct, tt.wantLimit)
			}
		})
	}
}
