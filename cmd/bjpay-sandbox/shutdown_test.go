package main

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock"
	"github.com/bjpay/bjpay-sandbox/mock/delivery"
	"github.com/bjpay/bjpay-sandbox/mock/store"
)

// raceEnabled reports whether the test binary was built with -race.
func raceEnabled() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// settleGoroutines waits up to limit for the goroutine count to fall to
// at most want, and returns the last count.
func settleGoroutines(want int, limit time.Duration) int {
	deadline := time.Now().Add(limit)
	for {
		n := runtime.NumGoroutine()
		if n <= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestShutdownUnderLoad: the real server, under concurrent creates whose
// notifies go to a slow receiver that sometimes fails, is stopped by
// cancelling Run's context. Run returns within its shutdown timeout;
// every create the server acknowledged is kept and was paid by its
// timeline; the journal accounts for every notify, each ending delivered
// or interrupted; and no goroutine is left behind.
func TestShutdownUnderLoad(t *testing.T) {
	tests := []struct {
		name     string
		creators int
		workers  int
		load     time.Duration // how long the load runs before the cancel
	}{
		{name: "16-creators-8-workers", creators: 16, workers: 8, load: 700 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testShutdownUnderLoad(t, tt.creators, tt.workers, tt.load)
		})
	}
}

func testShutdownUnderLoad(t *testing.T, creators, workers int, load time.Duration) {
	runtime.GC()
	goroutinesBefore := runtime.NumGoroutine()

	// The merchant: 10 to 150 ms an answer, one in five a 500, decided
	// per attempt so that retries differ. It counts what it gets.
	var rmu sync.Mutex
	got := map[string]int{} // "delivery id/attempt" → requests
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		key := r.Header.Get(delivery.HeaderDeliveryID) + "/" + r.Header.Get(delivery.HeaderAttempt)
		rmu.Lock()
		got[key]++
		rmu.Unlock()
		h := fnv.New32a()
		_, _ = io.WriteString(h, key)
		x := h.Sum32()
		select {
		case <-time.After(time.Duration(10+x%141) * time.Millisecond):
		case <-r.Context().Done():
			return
		}
		if x%5 == 0 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer recv.Close()

	dir := t.TempDir()
	scn := filepath.Join(dir, "load.yaml")
	if err := os.WriteFile(scn, []byte(`scenarios:
  - name: load-paid-now
    match: {reference: "^LOAD-"}
    timeline: [{after: 0s, status: PAID}]
    delivery: {timeout: 5s, retries: [1m]}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := newServer(serveOptions{addr: "127.0.0.1:0", clockMode: mock.ClockReal, speed: 1, workers: workers, maxPending: mock.DefaultMaxPendingNotifies,
		scenarios: []string{scn}, logLevel: slog.LevelWarn, seed: 7}, &syncBuffer{})
	if err != nil {
		t.Fatal(err)
	}
	base := srv.URL()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- srv.Run(ctx) }()

	// The load: creators post until the server stops answering. Every
	// 200 is an acknowledged payment.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: creators}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	var (
		amu     sync.Mutex
		acked   []string
		refused atomic.Int64 // non-200 answers and transport errors
		wg      sync.WaitGroup
	)
	stopping := make(chan struct{})
	const id, secret = "2f9d6a0e-4c1b-4e8a-9b7d-5a3c1e0f8b21", "sandbox-secret-change-me"
	for c := 0; c < creators; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				ref := fmt.Sprintf("LOAD-%d-%d", c, i)
				req := createRequest(base, id, secret, ref, recv.URL)
				resp, err := client.Do(req)
				if err != nil {
					refused.Add(1)
					select {
					case <-stopping: // the server is gone: done
						return
					default:
						t.Errorf("create %s before the cancel: %v", ref, err)
						return
					}
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					refused.Add(1)
					select {
					case <-stopping:
					default:
						t.Errorf("create %s before the cancel: HTTP %d", ref, resp.StatusCode)
						return
					}
					continue
				}
				amu.Lock()
				acked = append(acked, ref)
				amu.Unlock()
			}
		}()
	}
	time.Sleep(load)
	close(stopping)
	cancelled := time.Now()
	cancel()
	var stopErr error
	select {
	case stopErr = <-runErr:
	case <-time.After(shutdownTimeout + 5*time.Second):
		buf := make([]byte, 1<<20)
		t.Fatalf("Run has not returned %s after the cancel:\n%s", time.Since(cancelled), buf[:runtime.Stack(buf, true)])
	}
	shutdown := time.Since(cancelled)
	wg.Wait()
	recv.Close() // waits for its handlers: got is complete
	if stopErr != nil {
		t.Errorf("Run: %v", stopErr)
	}
	if shutdown > shutdownTimeout+2*time.Second {
		t.Errorf("Run returned %s after the cancel; the shutdown timeout is %s", shutdown, shutdownTimeout)
	}

	// Nothing acknowledged is lost, and each was paid by its timeline.
	txs := map[string]store.Transaction{}
	for _, tx := range srv.sandbox.Transactions("") {
		txs[tx.ReferenceNumber] = tx
	}
	lost, unpaid := 0, 0
	for _, ref := range acked {
		tx, ok := txs[ref]
		switch {
		case !ok:
			if lost++; lost <= 5 {
				t.Errorf("%s was acknowledged (200) and is not among the transactions", ref)
			}
		case tx.Status != store.StatusPaid:
			if unpaid++; unpaid <= 5 {
				t.Errorf("%s is %s; its timeline paid it at creation, before the shutdown", ref, tx.Status)
			}
		}
	}
	if len(acked) == 0 {
		t.Fatal("no create was acknowledged: the test put no load on the server")
	}

	// The journal accounts for every notify: one delivery per paid
	// payment, ending delivered or interrupted, never left retrying.
	byDelivery := map[string][]delivery.Attempt{}
	for _, a := range srv.sandbox.Deliveries("", "") {
		byDelivery[a.DeliveryID] = append(byDelivery[a.DeliveryID], a)
	}
	deliveryOf := map[string]string{}
	outcomes := map[string]int{}
	finals := map[string]int{}
	for id, as := range byDelivery {
		slices.SortFunc(as, func(a, b delivery.Attempt) int { return a.Attempt - b.Attempt })
		ref := as[0].ReferenceNumber
		if other, dup := deliveryOf[ref]; dup {
			t.Errorf("%s has deliveries %s and %s; one notify was sent", ref, other, id)
		}
		deliveryOf[ref] = id
		for i, a := range as {
			outcomes[a.Outcome]++
			if a.Attempt != i+1 {
				t.Errorf("%s: attempt #%d in place %d", id, a.Attempt, i+1)
			}
			n := got[id+"/"+strconv.Itoa(a.Attempt)]
			switch a.Outcome {
			case delivery.OutcomeDelivered, delivery.OutcomeRetrying:
				if n != 1 {
					t.Errorf("%s #%d (%s): the receiver got it %d times", id, a.Attempt, a.Outcome, n)
				}
			case delivery.OutcomeInterrupted:
				// Never attempted: the receiver must not have it.
				if strings.Contains(a.Error, "before") && n != 0 {
					t.Errorf("%s #%d interrupted before it was sent (%s), yet the receiver got it", id, a.Attempt, a.Error)
				}
			}
			if i < len(as)-1 && a.Outcome != delivery.OutcomeRetrying {
				t.Errorf("%s #%d: %s, yet attempt %d followed", id, a.Attempt, a.Outcome, a.Attempt+1)
			}
		}
		final := as[len(as)-1].Outcome
		finals[final]++
		if final != delivery.OutcomeDelivered && final != delivery.OutcomeInterrupted {
			t.Errorf("%s (%s) ends %s after %d attempts; every notify must end delivered or interrupted", id, ref, final, len(as))
		}
	}
	for key := range got {
		i := strings.LastIndexByte(key, '/')
		n, _ := strconv.Atoi(key[i+1:])
		if as := byDelivery[key[:i]]; n < 1 || n > len(as) {
			t.Errorf("the receiver got %s, which the journal does not record", key)
		}
	}
	unaccounted := 0
	for ref, tx := range txs {
		if _, ok := deliveryOf[ref]; tx.Status == store.StatusPaid && !ok {
			if unaccounted++; unaccounted <= 5 {
				t.Errorf("%s is PAID and the journal has no notify for it", ref)
			}
		}
	}

	// No goroutine left behind by the server, the sandbox, the receiver
	// or the load.
	client.CloseIdleConnections()
	goroutinesAfter := settleGoroutines(goroutinesBefore, 5*time.Second)
	if goroutinesAfter > goroutinesBefore {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after Run returned, %d before:\n%s", goroutinesAfter, goroutinesBefore, buf[:runtime.Stack(buf, true)])
	}
	t.Logf("creates: %d acknowledged, %d refused or failed (during the shutdown); transactions %d; lost %d, unpaid %d",
		len(acked), refused.Load(), len(txs), lost, unpaid)
	t.Logf("deliveries %d ending delivered %d, interrupted %d; attempts: delivered %d, retrying %d, interrupted %d, gave-up %d; unaccounted %d",
		len(byDelivery), finals[delivery.OutcomeDelivered], finals[delivery.OutcomeInterrupted], outcomes[delivery.OutcomeDelivered],
		outcomes[delivery.OutcomeRetrying], outcomes[delivery.OutcomeInterrupted], outcomes[delivery.OutcomeGaveUp], unaccounted)
	t.Logf("Run returned %s after the cancel (timeout %s); goroutines before %d, after %d; race %v",
		shutdown.Round(time.Millisecond), shutdownTimeout, goroutinesBefore, goroutinesAfter, raceEnabled())
}

// createRequest is a VA-BNI Create Payment of ref, notified to notifyURL,
// for the load the shutdown and crash tests put on a running sandbox.
func createRequest(base, id, secret, ref, notifyURL string) *http.Request {
	body := `{"paymentCode":"VA-BNI","referenceNumber":"` + ref + `","customerName":"Budi","customerEmail":"budi@example.com",
		"customerPhoneNumber":"62123224456","totalAmount":58000,"finishNotifyUrl":"` + notifyURL + `",
		"items":[{"name":"MLBB Diamond - 250","quantity":1,"amount":58000}]}`
	req, _ := http.NewRequest(http.MethodPost, base+"/api/merchant/transaction/create", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Client-Id", id)
	req.Header.Set("X-Client-Secret", secret)
	req.Header.Set("X-Request-Time", time.Now().Format("2006-01-02T15:04:05-07:00"))
	return req
}
