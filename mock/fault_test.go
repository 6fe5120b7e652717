package mock_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
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
	"github.com/bjpay/bjpay-sandbox/mock/notify"
	"github.com/bjpay/bjpay-sandbox/mock/store"
	"github.com/bjpay/bjpay-sandbox/scenarios"
)

// raceEnabled reports whether the test binary was built with -race: the
// fault tests scale their counts down under it, never their assertions.
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

// fate is what the flaky receiver does with one request.
type fate int

const (
	fateOK       fate = iota // 200
	fateServer               // HTTP 5xx
	fateReset                // the connection is reset (SO_LINGER 0) without an answer
	fateSlow                 // no answer until the sandbox gives up (longer than the delivery timeout)
	fateRedirect             // HTTP 3xx, which is not an acknowledgement
)

var fateNames = [...]string{fateOK: "200", fateServer: "5xx", fateReset: "reset", fateSlow: "slow", fateRedirect: "3xx"}

func (f fate) String() string { return fateNames[f] }

// failed reports whether the sandbox must count the attempt as failed.
func (f fate) failed() bool { return f != fateOK }

// fateOf decides a request's fate from a PRNG seeded with the test's seed
// and the request's delivery id and attempt, so that it is the same on
// every run whatever order the requests arrive in: about 30 % 5xx, 10 %
// resets, 5 % slower than the timeout, 5 % redirects, the rest 200.
func fateOf(seed uint64, deliveryID string, attempt int) (fate, int) {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%d", deliveryID, attempt)
	r := rand.New(rand.NewPCG(seed, h.Sum64()))
	switch x := r.IntN(100); {
	case x < 30:
		return fateServer, []int{500, 502, 503, 504}[r.IntN(4)]
	case x < 40:
		return fateReset, 0
	case x < 45:
		return fateSlow, 0
	case x < 50:
		return fateRedirect, []int{301, 302, 307, 308}[r.IntN(4)]
	default:
		return fateOK, 200
	}
}

// seenRequest is one notify request as the flaky receiver handled it.
type seenRequest struct {
	ref     string
	fate    fate
	status  int       // the status answered; 0 for reset and slow
	sandbox time.Time // the sandbox clock when it arrived
	count   int       // how many requests carried this delivery id and attempt
}

type attemptKey struct {
	delivery string
	attempt  int
}

// flakyReceiver is a merchant endpoint that fails most ways a webhook
// endpoint fails, and remembers what it did with every request.
type flakyReceiver struct {
	*httptest.Server
	seed  uint64
	clock *mock.SandboxClock
	mu    sync.Mutex
	seen  map[attemptKey]*seenRequest
	bad   []string // requests without the sandbox headers
}

func newFlakyReceiver(seed uint64, clock *mock.SandboxClock) *flakyReceiver {
	fr := &flakyReceiver{seed: seed, clock: clock, seen: map[attemptKey]*seenRequest{}}
	fr.Server = httptest.NewServer(http.HandlerFunc(fr.serve))
	return fr
}

func (fr *flakyReceiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var note notify.Notification
	_ = json.Unmarshal(body, &note)
	id := r.Header.Get(delivery.HeaderDeliveryID)
	n, err := strconv.Atoi(r.Header.Get(delivery.HeaderAttempt))
	if id == "" || err != nil {
		fr.mu.Lock()
		fr.bad = append(fr.bad, fmt.Sprintf("%q/%q", id, r.Header.Get(delivery.HeaderAttempt)))
		fr.mu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	f, status := fateOf(fr.seed, id, n)
	k := attemptKey{id, n}
	fr.mu.Lock()
	if s := fr.seen[k]; s != nil {
		s.count++
	} else {
		fr.seen[k] = &seenRequest{ref: note.ReferenceNumber, fate: f, status: status, sandbox: fr.clock.Now(), count: 1}
	}
	fr.mu.Unlock()
	switch f {
	case fateReset:
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err) // HTTP/1.1 over TCP can always be hijacked
		}
		_ = conn.(*net.TCPConn).SetLinger(0) // close sends RST, not FIN
		_ = conn.Close()
	case fateSlow:
		select { // until the sandbox's timeout closes the connection
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
			w.WriteHeader(http.StatusOK)
		}
	case fateRedirect:
		w.Header().Set("Location", "/elsewhere")
		w.WriteHeader(status)
	case fateServer:
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "try again later")
	default: // a bare 200, as most merchants answer
		w.WriteHeader(status)
	}
}

func (fr *flakyReceiver) requests() map[attemptKey]seenRequest {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	out := make(map[attemptKey]seenRequest, len(fr.seen))
	for k, v := range fr.seen {
		out[k] = *v
	}
	return out
}

// sandboxStats is GET /_sandbox/stats.
type sandboxStats struct {
	Transactions map[string]int `json:"transactions"`
	Attempts     map[string]int `json:"attempts"`
	Backlog      struct {
		Queued    int `json:"queued"`
		Scheduled int `json:"scheduled"`
		InFlight  int `json:"inFlight"`
	} `json:"backlog"`
}

func statsOf(t testing.TB, h http.Handler) sandboxStats {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/_sandbox/stats", nil)
	req.Host = sandboxHost
	req.RemoteAddr = loopbackClient
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var s sandboxStats
	if rec.Code != 200 {
		t.Fatalf("stats: %d %s", rec.Code, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &s); err != nil {
		t.Fatalf("stats: %v: %s", err, rec.Body)
	}
	return s
}

// createOK creates a payment through h, from any goroutine.
func createOK(h http.Handler, ref, notifyURL string) error {
	hdr := validHeaders()
	hdr.Set("X-Request-Time", time.Now().Format("2006-01-02T15:04:05-07:00"))
	req := httptest.NewRequest(http.MethodPost, createPath, bytes.NewReader(with(map[string]any{"referenceNumber": ref, "finishNotifyUrl": notifyURL, "expiredAt": nil})))
	req.Host = sandboxHost
	req.Header = hdr
	req.RemoteAddr = loopbackClient
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		return fmt.Errorf("create %s: %d %s", ref, rec.Code, rec.Body)
	}
	return nil
}

// heapSampler records the peak of HeapInuse until stopped.
type heapSampler struct {
	peak atomic.Uint64
	stop chan struct{}
	done chan struct{}
}

func sampleHeap(every time.Duration) *heapSampler {
	hs := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(hs.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			hs.sample()
			select {
			case <-hs.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return hs
}

func (hs *heapSampler) sample() {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	for p := hs.peak.Load(); m.HeapInuse > p && !hs.peak.CompareAndSwap(p, m.HeapInuse); p = hs.peak.Load() {
	}
}

func (hs *heapSampler) Stop() uint64 {
	close(hs.stop)
	<-hs.done
	return hs.peak.Load()
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

func goroutineDump() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// TestFlakyReceiver: 20,000 payments paid at once notify a receiver that
// answers 5xx, resets the connection, answers too late, redirects or
// acknowledges, deterministically per attempt. Every notify ends as the
// retry schedule says, the journal agrees with what the receiver saw, no
// payment is left without a final outcome, and the sandbox leaves neither
// goroutines nor an unbounded heap behind.
func TestFlakyReceiver(t *testing.T) {
	type load struct {
		payments int
		workers  int
		timeout  time.Duration // per attempt, wall time
	}
	// The timeout must be far above what a 200 takes with every worker
	// busy and the CPU shared with other test binaries: a prompt answer
	// journalled as a timeout would fail the test. Every slow answer
	// holds a worker for the whole timeout, hence the many workers.
	full := load{payments: 20000, workers: 512, timeout: time.Second}
	// The race detector slows every request several times over: fewer
	// payments, and fewer workers so that fewer requests queue for the CPU.
	raced := load{payments: 1000, workers: 64, timeout: 1500 * time.Millisecond}
	tests := []struct {
		name    string
		load    load
		retries []time.Duration // sandbox time
		seed    uint64
	}{
		{name: "retries-1s-2s-3s", load: full, retries: []time.Duration{time.Second, 2 * time.Second, 3 * time.Second}, seed: 20260101},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := tt.load
			if raceEnabled() {
				l = raced
			}
			testFlakyReceiver(t, l.payments, l.workers, l.timeout, tt.retries, tt.seed)
		})
	}
}

func testFlakyReceiver(t *testing.T, payments, workers int, timeout time.Duration, retries []time.Duration, seed uint64) {
	runtime.GC()
	goroutinesBefore := runtime.NumGoroutine()
	heap := sampleHeap(20 * time.Millisecond)

	var sched []string
	for _, r := range retries {
		sched = append(sched, r.String())
	}
	user, err := scenarios.Parse("fault.yaml", []byte(fmt.Sprintf(`
scenarios:
  - name: fault-paid-now
    match: {reference: "^FAULT-"}
    timeline: [{after: 0s, status: PAID}]
    delivery: {timeout: %s, retries: [%s]}
`, timeout, strings.Join(sched, ", "))))
	if err != nil {
		t.Fatal(err)
	}
	clock, err := mock.NewSandboxClock(mock.ClockVirtual, 1)
	if err != nil {
		t.Fatal(err)
	}
	// On a whole second: the journal's times are whole seconds, and the
	// schedule is read back from them below.
	clock.Set(time.Now().Truncate(time.Second))
	sb, err := mock.New(mock.Options{Config: mock.DefaultConfig(), Clock: clock, Seed: 1, Scenarios: user, NotifyWorkers: workers})
	if err != nil {
		t.Fatal(err)
	}
	sb.Start()
	closed := false
	closeSandbox := func() {
		if !closed {
			closed = true
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			sb.Close(ctx)
		}
	}
	defer closeSandbox()
	fr := newFlakyReceiver(seed, clock)
	defer fr.Close()
	h := sb.Handler()
	start := clock.Now()

	// Create from a few goroutines; each payment is paid at once by its
	// timeline, which sends its notify.
	var wg sync.WaitGroup
	const creators = 4
	for c := 0; c < creators; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; i < payments; i += creators {
				if err := createOK(h, fmt.Sprintf("FAULT-%d", i), fr.URL); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	// Drive the retries: once nothing is queued or in flight, move the
	// sandbox clock a second; stop when nothing is scheduled either.
	waitWithin(t, time.Minute, "every payment to be paid", func() bool {
		time.Sleep(5 * time.Millisecond)
		return statsOf(t, h).Transactions[store.StatusPaid] == payments
	})
	var total time.Duration
	for _, r := range retries {
		total += r
	}
	advances := 0
	for {
		var st sandboxStats
		waitWithin(t, time.Minute, fmt.Sprintf("the notifier to go idle (sandbox clock +%ds)", advances), func() bool {
			time.Sleep(5 * time.Millisecond)
			st = statsOf(t, h)
			return st.Backlog.Queued == 0 && st.Backlog.InFlight == 0
		})
		if st.Backlog.Scheduled == 0 {
			break
		}
		if time.Duration(advances)*time.Second > total {
			t.Fatalf("retries still scheduled %ds of sandbox time after creation; the schedule ends at %s: %+v", advances, total, st.Backlog)
		}
		sb.AdvanceClock(time.Second)
		advances++
	}

	// Stop the sandbox (nothing is left for it to do, so its Close must
	// record nothing) and the receiver, which waits for its handlers: what
	// both recorded is then complete.
	stats := statsOf(t, h)
	closeSandbox()
	fr.Close()
	journal := sb.Deliveries("", "")
	if len(journal) != stats.Attempts[delivery.OutcomeDelivered]+stats.Attempts[delivery.OutcomeRetrying]+stats.Attempts[delivery.OutcomeGaveUp] {
		t.Errorf("Close of an idle sandbox changed the journal: %d attempts, %v before", len(journal), stats.Attempts)
	}
	byDelivery := map[string][]delivery.Attempt{}
	for _, a := range journal {
		byDelivery[a.DeliveryID] = append(byDelivery[a.DeliveryID], a)
	}
	seen := fr.requests()
	if len(fr.bad) > 0 {
		t.Errorf("%d requests without the sandbox headers, e.g. %s", len(fr.bad), fr.bad[0])
	}
	outcomes := map[string]int{}
	fates := map[fate]int{}
	late := 0                    // answers the sandbox timed out on although the receiver meant to answer at once
	unread := 0                  // of which the receiver never read the request
	var slowest float64          // ms, of the attempts the sandbox got an answer to
	final := map[string]string{} // reference → its delivery's final outcome
	maxAttempts := 1 + len(retries)
	for id, as := range byDelivery {
		slices.SortFunc(as, func(a, b delivery.Attempt) int { return a.Attempt - b.Attempt })
		ref := as[0].ReferenceNumber
		if prev, dup := final[ref]; dup {
			t.Errorf("%s has a second delivery %s (the first ended %s); one notify was sent", ref, id, prev)
		}
		if len(as) > maxAttempts {
			t.Errorf("%s: %d attempts, the schedule allows %d", id, len(as), maxAttempts)
		}
		due := start // the sandbox time attempt i is due at
		for i, a := range as {
			at := due
			outcomes[a.Outcome]++
			if a.Attempt != i+1 || a.ReferenceNumber != ref {
				t.Errorf("%s: attempt #%d of %s in place %d, want #%d of %s", id, a.Attempt, a.ReferenceNumber, i+1, i+1, ref)
				break
			}
			last := i == len(as)-1
			// The schedule, from the journal alone: the clock stands still
			// while attempts run, so each is made at the time the previous
			// one named, and names that time plus its delay.
			failed := a.Outcome == delivery.OutcomeRetrying || a.Outcome == delivery.OutcomeGaveUp
			switch {
			case a.Outcome == delivery.OutcomeRetrying:
				if a.NextAttemptAt == nil || !a.NextAttemptAt.Equal(due.Add(retries[i])) {
					t.Errorf("%s #%d: next attempt at %v, the schedule says +%s", id, a.Attempt, a.NextAttemptAt, due.Add(retries[i]).Sub(start))
				} else {
					due = *a.NextAttemptAt
				}
			case a.NextAttemptAt != nil:
				t.Errorf("%s #%d: %s, yet a next attempt at %v", id, a.Attempt, a.Outcome, a.NextAttemptAt)
			}
			if last {
				switch {
				case a.Outcome == delivery.OutcomeDelivered:
				case a.Outcome == delivery.OutcomeGaveUp && len(as) == maxAttempts:
				default:
					t.Errorf("%s: ends %s after %d attempts; want delivered, or gave-up after %d failed attempts", id, a.Outcome, len(as), maxAttempts)
				}
				final[ref] = a.Outcome
			} else if a.Outcome != delivery.OutcomeRetrying {
				t.Errorf("%s #%d: %s, yet attempt %d followed", id, a.Attempt, a.Outcome, a.Attempt+1)
			}
			if a.Outcome == delivery.OutcomeGaveUp && a.Attempt != maxAttempts {
				t.Errorf("%s #%d: gave up before the last attempt of the schedule (%d)", id, a.Attempt, maxAttempts)
			}

			// The journal against the receiver. A timeout is the one
			// thing the receiver cannot see: under a loaded CPU its prompt
			// answer (or even its reading of the request) can come after the
			// sandbox gave up. The journal must then show the timeout spent
			// (most of it: its clock starts before the send time), and the
			// receiver, if it saw the request, saw it once.
			timedOut := strings.Contains(a.Error, "no answer within the timeout")
			if timedOut && (a.ResponseStatus != 0 || a.LatencyMs < float64(timeout.Milliseconds())/2) {
				t.Errorf("%s #%d: a timeout after %.0fms with HTTP %d; the timeout is %s", id, a.Attempt, a.LatencyMs, a.ResponseStatus, timeout)
			}
			sr, ok := seen[attemptKey{id, a.Attempt}]
			switch {
			case !ok && timedOut:
				late++
				unread++
				continue
			case !ok:
				t.Errorf("%s #%d (%s, %q): in the journal, never reached the receiver", id, a.Attempt, a.Outcome, a.Error)
				continue
			case sr.count != 1:
				t.Errorf("%s #%d: the receiver got it %d times, the journal once", id, a.Attempt, sr.count)
			case sr.ref != ref:
				t.Errorf("%s #%d: the receiver got a notify for %s, the journal says %s", id, a.Attempt, sr.ref, ref)
			}
			fates[sr.fate]++
			if !timedOut {
				slowest = max(slowest, a.LatencyMs)
				// Seen in time, so at the sandbox time it was due.
				if !sr.sandbox.Equal(at) {
					t.Errorf("%s #%d reached the receiver at sandbox time +%s, due at +%s", id, a.Attempt, sr.sandbox.Sub(start), at.Sub(start))
				}
			}
			switch {
			case sr.fate == fateSlow && !timedOut:
				t.Errorf("%s #%d: the receiver never answered, the journal says %s (HTTP %d, %q)", id, a.Attempt, a.Outcome, a.ResponseStatus, a.Error)
			case sr.fate == fateSlow:
			case timedOut:
				late++
			case sr.fate == fateOK && a.Outcome != delivery.OutcomeDelivered,
				sr.fate != fateOK && !failed,
				a.ResponseStatus != sr.status:
				t.Errorf("%s #%d: the receiver's %s (HTTP %d) is journalled %s (HTTP %d, %q)", id, a.Attempt, sr.fate, sr.status, a.Outcome, a.ResponseStatus, a.Error)
			case sr.fate != fateOK && a.Error == "":
				t.Errorf("%s #%d: a failed attempt (%s) without an error", id, a.Attempt, sr.fate)
			}
		}
	}
	// Nothing reached the receiver that the journal does not record.
	for k, s := range seen {
		if as := byDelivery[k.delivery]; k.attempt < 1 || k.attempt > len(as) {
			t.Errorf("%s #%d (%s for %s): reached the receiver, not in the journal", k.delivery, k.attempt, s.fate, s.ref)
		}
	}
	if len(seen)+unread != len(journal) {
		t.Errorf("the receiver got %d distinct attempts, the journal has %d of which %d timed out unread", len(seen), len(journal), unread)
	}
	// Zero losses: every payment paid, with one notify that ended.
	losses := 0
	for i := 0; i < payments; i++ {
		if o := final[fmt.Sprintf("FAULT-%d", i)]; o != delivery.OutcomeDelivered && o != delivery.OutcomeGaveUp {
			losses++
			if losses <= 5 {
				t.Errorf("FAULT-%d has no final outcome (%q)", i, o)
			}
		}
	}
	if stats.Transactions[store.StatusPaid] != payments {
		t.Errorf("%d payments PAID, want %d: %v", stats.Transactions[store.StatusPaid], payments, stats.Transactions)
	}
	for _, o := range []string{delivery.OutcomeDelivered, delivery.OutcomeRetrying, delivery.OutcomeGaveUp, delivery.OutcomeNoURL, delivery.OutcomeInterrupted} {
		if stats.Attempts[o] != outcomes[o] {
			t.Errorf("stats count %d attempts %s, the journal %d", stats.Attempts[o], o, outcomes[o])
		}
	}
	if outcomes[delivery.OutcomeDelivered]+outcomes[delivery.OutcomeGaveUp] != payments {
		t.Errorf("%d delivered + %d gave up, want %d notifies ended", outcomes[delivery.OutcomeDelivered], outcomes[delivery.OutcomeGaveUp], payments)
	}
	for f := fateOK; f <= fateRedirect; f++ {
		if fates[f] == 0 {
			t.Errorf("the receiver never answered %s: the test does not exercise it", f)
		}
	}

	// Memory: what the sandbox holds for the run, after a collection,
	// while it still holds it.
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	retained := ms.HeapInuse
	peak := max(heap.Stop(), retained)
	// Generous: a payment (≈1 KiB) and its journal (≈2 KiB an attempt,
	// under two attempts on average) come to ≈5 KiB; allow 16 KiB each
	// on top of 64 MiB for the runtime and the test: about three times
	// what a run holds.
	bound := uint64(64<<20 + payments*16<<10)
	if retained > bound {
		t.Errorf("heap in use after GC %d MiB for %d payments, bound %d MiB", retained>>20, payments, bound>>20)
	}

	// Goroutines: back to where they were once the sandbox and the
	// receiver are closed.
	goroutinesAfter := settleGoroutines(goroutinesBefore, 5*time.Second)
	if goroutinesAfter > goroutinesBefore {
		t.Errorf("%d goroutines after Close, %d before:\n%s", goroutinesAfter, goroutinesBefore, goroutineDump())
	}
	t.Logf("payments %d, deliveries %d, attempts %d: delivered %d, retrying %d, gave-up %d, interrupted %d, no-url %d; losses %d",
		payments, len(byDelivery), len(journal), outcomes[delivery.OutcomeDelivered], outcomes[delivery.OutcomeRetrying],
		outcomes[delivery.OutcomeGaveUp], outcomes[delivery.OutcomeInterrupted], outcomes[delivery.OutcomeNoURL], losses)
	t.Logf("receiver answers: 200 %d, 5xx %d, reset %d, slow %d, 3xx %d; answered but too late for the sandbox %d (%d of them unread); sandbox clock advanced %ds in 1s steps",
		fates[fateOK], fates[fateServer], fates[fateReset], fates[fateSlow], fates[fateRedirect], late, unread, advances)
	t.Logf("goroutines before %d, after %d; heap in use: peak %.1f MiB, after GC %.1f MiB (bound %d MiB); workers %d, timeout %s, slowest answered attempt %.0fms",
		goroutinesBefore, goroutinesAfter, float64(peak)/(1<<20), float64(retained)/(1<<20), bound>>20, workers, timeout, slowest)
}
