package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestRetentionFlags: serve's retention comes from --retain,
// --max-transactions and --max-journal or their variables, defaults to a
// week and 100,000 of each, and the banner says it with what was evicted
// so far; a negative bound is refused saying what is expected.
func TestRetentionFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string // in stdout (the banner) when code is 0, in stderr otherwise
	}{
		{name: "defaults", args: nil, code: 0,
			want: "retention        finished payments and attempts 7d, at most 100000 payments, at most 100000 attempts; evicted so far: 0 payments, 0 attempts (GET /_sandbox/stats)\n"},
		{name: "flags", args: []string{"--retain", "36h", "--max-transactions", "500", "--max-journal", "0"}, code: 0,
			want: "retention        finished payments and attempts 36h, at most 500 payments; evicted so far"},
		{name: "environment", env: map[string]string{"BJPAY_SANDBOX_RETAIN": "0", "BJPAY_SANDBOX_MAX_TRANSACTIONS": "0", "BJPAY_SANDBOX_MAX_JOURNAL": "20"}, code: 0,
			want: "retention        at most 20 attempts; evicted so far"},
		{name: "nothing bounded", args: []string{"--retain", "0", "--max-transactions", "0", "--max-journal", "0"}, code: 0,
			want: "retention        everything, for ever (--retain, --max-transactions, --max-journal bound it)\n"},
		{name: "days", args: []string{"--retain", "30d"}, code: 0, want: "retention        finished payments and attempts 30d, at most"},
		{name: "negative age", args: []string{"--retain", "-1h"}, code: 2, want: `invalid value "-1h" for flag -retain: expected a duration such as 7d, 36h or 90m (0 keeps everything for ever)`},
		{name: "half days", args: []string{"--retain", "1.5d"}, code: 2, want: `invalid value "1.5d" for flag -retain: expected a duration such as 7d`},
		{name: "negative count", env: map[string]string{"BJPAY_SANDBOX_MAX_TRANSACTIONS": "-5"}, code: 2, want: "--max-transactions is -5; expected 0 (no bound) or more"},
		{name: "negative journal", args: []string{"--max-journal", "-1"}, code: 2, want: "--max-journal is -1; expected 0 (no bound) or more"},
		{name: "not a duration", args: []string{"--retain", "a week"}, code: 2, want: `invalid value "a week" for flag -retain`},
		{name: "not a number", env: map[string]string{"BJPAY_SANDBOX_MAX_JOURNAL": "lots"}, code: 2, want: `invalid value "lots" in $BJPAY_SANDBOX_MAX_JOURNAL for --max-journal`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // a serve that starts stops at once, after its banner
			code := exitCode(run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, tt.args...), &stdout, &stderr), &stderr)
			out := stdout.String()
			if code != 0 {
				out = stderr.String()
			}
			if code != tt.code || !strings.Contains(out, tt.want) {
				t.Errorf("exit %d, want %d with %q in\n%s\nstderr: %s", code, tt.code, tt.want, out, &stderr)
			}
		})
	}
}
