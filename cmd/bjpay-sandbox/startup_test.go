package main

import (
	"net/http"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkStartup measures what a CI job waits for: from exec of
// `bjpay-sandbox serve` to the first 200 from /_sandbox/health, polled
// every 200 µs by a client already running. The binary is built as the
// Dockerfile builds it (static, stripped).
func BenchmarkStartup(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "bjpay-sandbox")
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, ".")
	build.Env = append(build.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var total time.Duration
	for b.Loop() {
		addr := freeAddr(b)
		cmd := exec.Command(bin, "serve", "--addr", addr, "--log-level", "error")
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		for {
			resp, err := client.Get("http://" + addr + "/_sandbox/health")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Since(start) > 10*time.Second {
				b.Fatalf("no 200 from /_sandbox/health within 10 s: %v", err)
			}
			time.Sleep(200 * time.Microsecond)
		}
		total += time.Since(start)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms-to-healthy")
}
