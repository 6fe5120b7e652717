// Command memory measures what holding a million PENDING payments costs the
// sandbox: it creates them through the sandbox's HTTP handler, as merchants
// would (the same body as the bench's load), then reports the process's
// resident memory. See PERFORMANCE.md.
//
//	go run ./bench/memory [-n 1000000]
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock"
)

func main() {
	n := flag.Int("n", 1_000_000, "PENDING payments to create")
	flag.Parse()
	if err := run(*n); err != nil {
		fmt.Fprintln(os.Stderr, "memory:", err)
		os.Exit(1)
	}
}

func run(n int) error {
	// As serve does (cmd/bjpay-sandbox/gc.go), unless GOGC or GOMEMLIMIT is set.
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(400)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(900 << 20)
	}
	cfg := mock.DefaultConfig()
	clock, err := mock.NewSandboxClock(mock.ClockVirtual, 1)
	if err != nil {
		return err
	}
	sb, err := mock.New(mock.Options{Config: cfg, Clock: clock, Seed: 1})
	if err != nil {
		return err
	}
	sb.Start()
	defer sb.Close(context.Background())
	h := sb.Handler()
	m := cfg.Merchants[0]
	header := http.Header{
		"Content-Type":    {"application/json"},
		"X-Client-Id":     {m.ClientID},
		"X-Client-Secret": {m.ClientSecret},
	}
	rss0 := procStatus("VmRSS")
	start := time.Now()
	w := &discard{header: http.Header{}}
	for i := range n {
		// The bench's body (../shared/bench/load/post.lua), with a fresh reference.
		body := `{"paymentCode":"GOPAY","referenceNumber":"BENCH-1-` + strconv.Itoa(i) + `","customerName":"A",` +
			`"customerEmail":"a@b.co","customerPhoneNumber":"6281234567",` +
			`"finishNotifyUrl":"http://127.0.0.1:18499/notify","finishReturnUrl":"http://127.0.0.1:9/ty",` +
			`"expiredAt":"2030-12-01T10:00:00+07:00","totalAmount":58000,` +
			`"items":[{"name":"x","quantity":1,"amount":58000}]}`
		req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/api/merchant/transaction/create", strings.NewReader(body))
		req.Header = header.Clone()
		req.Header.Set("X-Request-Time", time.Now().Format(time.RFC3339))
		req.RemoteAddr = "127.0.0.1:40000"
		w.status = 0
		h.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			return fmt.Errorf("create %d answered %d", i, w.status)
		}
	}
	took := time.Since(start)
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, peak := procStatus("VmRSS"), procStatus("VmHWM")
	const mib = 1 << 20
	fmt.Printf("%d PENDING payments created in %s (%.0f/s, in process, one goroutine)\n", n, took.Round(time.Millisecond), float64(n)/took.Seconds())
	fmt.Printf("RSS held:  %4d MiB (%d B per payment above the %d MiB at start)\n", rss/mib, (rss-rss0)/int64(n), rss0/mib)
	fmt.Printf("RSS peak:  %4d MiB\n", peak/mib)
	fmt.Printf("Go heap:   %4d MiB in use, %d objects\n", ms.HeapInuse/mib, ms.HeapObjects)
	runtime.KeepAlive(sb)
	return nil
}

// discard is a ResponseWriter that keeps only the status.
type discard struct {
	header http.Header
	status int
}

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(status int)      { d.status = status }

// procStatus reads a memory figure (in bytes) from /proc/self/status.
func procStatus(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := bytes.CutPrefix(sc.Bytes(), []byte(field+":")); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(string(rest)), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
