// Command memory measures what the sandbox holds in memory. By default it
// creates a million PENDING payments through the sandbox's HTTP handler,
// as merchants would (the same body as the bench's load), and reports the
// process's resident memory. With -paid, each payment is paid at once and
// its signed PAID notify delivered to a sink on loopback (as bench/run.sh's
// sandbox-notify does), under the retention the flags give, and the
// figures are reported at every -every payments: held under a retention,
// the resident memory must stay flat. See PERFORMANCE.md.
//
//	go run ./bench/memory [-n 1000000]
//	go run ./bench/memory -paid -n 1000000 -every 200000 -max-transactions 100000 -max-journal 100000
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock"
	"github.com/bjpay/bjpay-sandbox/scenarios"
)

func main() {
	var o options
	flag.IntVar(&o.n, "n", 1_000_000, "payments to create")
	flag.BoolVar(&o.paid, "paid", false, "pay each payment at once and deliver its notify to a sink on loopback")
	flag.IntVar(&o.every, "every", 0, "report the figures every N payments (default: at the end only)")
	flag.DurationVar(&o.keep.Age, "retain", 0, "the retention's age (serve --retain); 0: none")
	flag.IntVar(&o.keep.MaxTransactions, "max-transactions", 0, "the retention's bound on payments (serve --max-transactions); 0: none")
	flag.IntVar(&o.keep.MaxJournal, "max-journal", 0, "the retention's bound on attempts (serve --max-journal); 0: none")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "memory:", err)
		os.Exit(1)
	}
}

type options struct {
	n, every int
	paid     bool
	keep     mock.Retention
}

// benchScenario is scenarios/bench.yaml: BENCH- references are paid at once.
const benchScenario = `scenarios:
  - name: bench-paid-at-once
    match: {reference: "^BENCH-"}
    timeline:
      - {after: 0s, status: PAID}
`

// backlog bounds the notifies waiting while payments are created: the load
// is sustained at the pace the sink acknowledges them.
const backlog = 2000

func run(o options) error {
	// As serve does (cmd/bjpay-sandbox/gc.go), unless GOGC or GOMEMLIMIT is set.
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(100)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(900 << 20)
	}
	var acked atomic.Int64
	notifyURL := "http://127.0.0.1:18499/notify" // nothing is sent while PENDING
	var user []scenarios.Scenario
	if o.paid {
		sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			acked.Add(1)
			_, _ = w.Write([]byte(`{"ok":true}`))
		}))
		defer sink.Close()
		notifyURL = sink.URL + "/notify"
		var err error
		if user, err = scenarios.Parse("bench.yaml", []byte(benchScenario)); err != nil {
			return err
		}
	}
	cfg := mock.DefaultConfig()
	clock, err := mock.NewSandboxClock(mock.ClockVirtual, 1)
	if err != nil {
		return err
	}
	sb, err := mock.New(mock.Options{Config: cfg, Clock: clock, Seed: 1, Scenarios: user, Retention: o.keep})
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
	runtime.GC()
	rss0, live0 := procStatus("VmRSS"), liveHeap()
	mode := "PENDING payments"
	if o.paid {
		mode = "paid and notified payments"
	}
	fmt.Printf("%s, retention %s; at start RSS %d MiB, live heap %d MiB\n", mode, describe(o.keep), rss0>>20, live0>>20)
	fmt.Printf("%9s %9s %9s %8s %9s %12s %12s %10s %7s\n", "payments", "held", "attempts", "RSS MiB", "live MiB", "RSS B/held", "live B/held", "creates/s", "RSS vs 1st")
	start := time.Now()
	w := &discard{header: http.Header{}}
	var first int64
	for i := range o.n {
		// The bench's body (../shared/bench/load/post.lua), with a fresh reference.
		body := `{"paymentCode":"GOPAY","referenceNumber":"BENCH-1-` + strconv.Itoa(i) + `","customerName":"A",` +
			`"customerEmail":"a@b.co","customerPhoneNumber":"6281234567",` +
			`"finishNotifyUrl":"` + notifyURL + `","finishReturnUrl":"http://127.0.0.1:9/ty",` +
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
		if o.paid && int64(i+1)-acked.Load() > backlog { // wait for half of it to drain
			for int64(i+1)-acked.Load() > backlog/2 {
				time.Sleep(time.Millisecond)
			}
		}
		if done := i + 1; done == o.n || (o.every > 0 && done%o.every == 0) {
			f, err := settle(h, o, done)
			if err != nil {
				return err
			}
			if first == 0 {
				first = f.rss
			}
			held := int64(max(f.held, 1))
			fmt.Printf("%9d %9d %9d %8d %9d %12d %12d %10.0f %+6.1f%%\n", done, f.held, f.attempts, f.rss>>20, f.live>>20,
				(f.rss-rss0)/held, (f.live-live0)/held, float64(done)/time.Since(start).Seconds(), 100*float64(f.rss-first)/float64(first))
		}
	}
	rss, peak := procStatus("VmRSS"), procStatus("VmHWM")
	fmt.Printf("RSS held at the end: %d MiB (%d B per payment created above the %d MiB at start); peak %d MiB\n",
		rss>>20, (rss-rss0)/int64(o.n), rss0>>20, peak>>20)
	runtime.KeepAlive(sb)
	return nil
}

// figures are what settle measures.
type figures struct {
	held, attempts int
	rss, live      int64
}

// settle waits until every notify of the done payments is journalled and
// the retention's sweep has caught up, collects the garbage, and measures.
func settle(h http.Handler, o options, done int) (figures, error) {
	deadline := time.Now().Add(5 * time.Minute)
	for {
		st, err := stats(h)
		if err != nil {
			return figures{}, err
		}
		journalled := !o.paid || st.Attempts["delivered"] >= done
		swept := (o.keep.MaxTransactions == 0 || st.Retention.Held.Transactions <= o.keep.MaxTransactions) &&
			(o.keep.MaxJournal == 0 || st.Retention.Held.Attempts <= o.keep.MaxJournal)
		if journalled && swept {
			runtime.GC()
			debug.FreeOSMemory()
			return figures{held: st.Retention.Held.Transactions, attempts: st.Retention.Held.Attempts, rss: procStatus("VmRSS"), live: liveHeap()}, nil
		}
		if time.Now().After(deadline) {
			return figures{}, fmt.Errorf("after %d payments, not settled within 5 minutes: %+v", done, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type sandboxStats struct {
	Attempts  map[string]int `json:"attempts"`
	Retention struct {
		Held struct{ Transactions, Attempts int } `json:"held"`
	} `json:"retention"`
}

func stats(h http.Handler) (sandboxStats, error) {
	req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/_sandbox/stats", nil)
	req.RemoteAddr = "127.0.0.1:40000"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var st sandboxStats
	if rec.Code != http.StatusOK {
		return st, fmt.Errorf("stats: %d %s", rec.Code, rec.Body)
	}
	return st, json.Unmarshal(rec.Body.Bytes(), &st)
}

func describe(r mock.Retention) string {
	var parts []string
	if r.Age > 0 {
		parts = append(parts, mock.FormatRetain(r.Age))
	}
	if r.MaxTransactions > 0 {
		parts = append(parts, fmt.Sprintf("%d payments", r.MaxTransactions))
	}
	if r.MaxJournal > 0 {
		parts = append(parts, fmt.Sprintf("%d attempts", r.MaxJournal))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// liveHeap is the bytes of the Go heap's objects (after a collection: the
// live ones).
func liveHeap() int64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
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
