package mock

import (
	"context"
	"errors"
	"fmt"
	"github.com/bjpay/bjpay-sandbox/scenarios"
	bolt "go.etcd.io/bbolt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Sandbox-only headers on notifies, for debugging; switched off with
// Options.NoSandboxHeaders. [sandbox] BJPAY sends neither.
const (
	HeaderSandboxDelivery = "X-Sandbox-Delivery-Id"
	HeaderSandboxAttempt  = "X-Sandbox-Attempt"
)

// deliveryPolicy says how a payment's notifies are delivered.
type deliveryPolicy struct {
	timeout    time.Duration   // per attempt, wall time
	retries    []time.Duration // sandbox-time delays after each failed attempt
	delay      time.Duration   // sandbox-time wait before the first attempt
	duplicates int             // extra identical deliveries
	variant    Variant
	// timeOffset shifts every attempt's X-Request-Time from wall time
	// (ad hoc notifies that test a merchant's replay window).
	timeOffset time.Duration
}

// defaultPolicy applies to payments no scenario matches: the scenarios
// package's defaults. [sandbox] BJPAY documents neither a timeout nor a
// retry schedule.
var defaultPolicy = func() *deliveryPolicy {
	d := scenarios.DefaultDelivery()
	return &deliveryPolicy{timeout: d.Timeout, retries: d.Retries, delay: d.Delay, duplicates: d.Duplicates, variant: Variant(d.Variant)}
}()

// delivery is one notify on its way to a merchant, across its attempts.
type delivery struct {
	id       string
	gen      uint64 // the notifier's generation when it started; a reset makes it stale
	attempts int    // made so far
	clientID string
	url      string
	key      string
	note     Notification
	policy   *deliveryPolicy
}

// notifier owns the outbound client, a FIFO queue, a bounded pool of
// workers and the retry schedule (on the sandbox's scheduler). Enqueueing
// never blocks: the queue grows instead. Every attempt lands in the journal.
type notifier struct {
	client         *http.Client
	clock          *SandboxClock
	sched          *scheduler
	journal        *journal
	wallNow        func() time.Time
	log            *slog.Logger
	sandboxHeaders bool
	policy         outboundPolicy
	// db is the state file in durable mode, nil in memory mode: pending
	// deliveries and the journal are written to it (durable.go).
	db *bolt.DB
	// journalBase is added to journal positions to make their keys in
	// the file (set at load, before any attempt).
	journalBase uint64

	mu      sync.Mutex
	ready   *sync.Cond
	queue   []*delivery
	waiting map[*delivery]bool // scheduled for later (delay or retry)
	closed  bool
	seq     uint64
	gen     uint64       // bumped by discardPending: older deliveries are dropped
	busy    atomic.Int64 // attempts in flight
	// pending is len(queue) + len(waiting), kept under mu and read
	// without it by creates asking whether the backlog is full.
	pending atomic.Int64

	ctx    context.Context // cancelled when Close gives up waiting for in-flight attempts
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newNotifier(workers int, clock *SandboxClock, sched *scheduler, j *journal, wallNow func() time.Time, log *slog.Logger, sandboxHeaders bool, policy outboundPolicy) *notifier {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = workers
	// Every connection goes through the outbound policy's check, and
	// straight to the merchant: [sandbox] no proxy from the environment,
	// which would be dialled instead of the address the policy must see.
	dialer := policy.dialer()
	dialer.Timeout, dialer.KeepAlive = 30*time.Second, 30*time.Second
	transport.DialContext = dialer.DialContext
	transport.Proxy = nil
	// No cap across hosts (the clone's is 100): evicting an idle
	// connection can close one whose bodyless answer (a bare 200) the
	// transport has pooled but not yet handed to the worker, which then
	// gets "transport connection broken: putIdleConn: too many idle
	// connections" instead of the answer, and retries a delivered notify.
	// The per-host cap still bounds the pool.
	transport.MaxIdleConns = 0
	n := &notifier{
		client: &http.Client{
			Transport: transport,
			// [sandbox] A redirect is not an acknowledgement: 3xx fails the attempt.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		clock:          clock,
		sched:          sched,
		journal:        j,
		wallNow:        wallNow,
		log:            log,
		sandboxHeaders: sandboxHeaders,
		policy:         policy,
		waiting:        map[*delivery]bool{},
	}
	n.ready = sync.NewCond(&n.mu)
	n.ctx, n.cancel = context.WithCancel(context.Background())
	for i := 0; i < workers; i++ {
		n.wg.Add(1)
		go n.work()
	}
	return n
}

// send starts the delivery of a notify announcing note.Status (and of its
// duplicates, when the policy asks for them) and returns their ids. In
// durable mode, the deliveries' records (and also, when not nil) are
// committed before their first attempt; err is a failed commit.
func (n *notifier) send(clientID, url, key string, note Notification, p *deliveryPolicy, also func(*bolt.Tx) error) ([]string, error) {
	if n.db != nil {
		return n.sendDurable(clientID, url, key, note, p, also)
	}
	ids := make([]string, 0, 1+p.duplicates)
	for i := 0; i <= p.duplicates; i++ {
		n.mu.Lock()
		n.seq++
		d := &delivery{id: "dlv_" + strconv.FormatUint(n.seq, 10), gen: n.gen, clientID: clientID, url: url, key: key, note: note, policy: p}
		n.mu.Unlock()
		ids = append(ids, d.id)
		if url == "" {
			n.record(Attempt{DeliveryID: d.id, ReferenceNumber: note.ReferenceNumber, ClientID: clientID, Status: note.Status,
				Variant: p.variant, SentAt: n.wallNow(), Outcome: OutcomeNoURL,
				Error: "no finishNotifyUrl on the payment and no notifyUrl configured for the merchant: nothing sent"})
			continue
		}
		if p.delay > 0 {
			n.later(d, p.delay)
			continue
		}
		n.enqueue(d)
	}
	return ids, nil
}

func (n *notifier) enqueue(d *delivery) {
	n.mu.Lock()
	if d.gen != n.gen { // reset since
		n.mu.Unlock()
		return
	}
	if n.closed {
		n.mu.Unlock()
		n.interrupted(d, "the sandbox stopped before this attempt")
		return
	}
	n.queue = append(n.queue, d)
	n.recount()
	n.mu.Unlock()
	n.ready.Signal()
}

// later schedules d's next attempt after sandbox duration after.
func (n *notifier) later(d *delivery, after time.Duration) { n.laterAt(d, n.clock.Now().Add(after)) }

// laterAt schedules d's next attempt at sandbox time due.
func (n *notifier) laterAt(d *delivery, due time.Time) {
	n.mu.Lock()
	if d.gen != n.gen {
		n.mu.Unlock()
		return
	}
	if n.closed {
		n.mu.Unlock()
		n.interrupted(d, "the sandbox stopped before this attempt")
		return
	}
	n.waiting[d] = true
	n.recount()
	n.mu.Unlock()
	n.sched.at(due, func() {
		n.mu.Lock()
		_, ok := n.waiting[d]
		delete(n.waiting, d)
		n.recount()
		n.mu.Unlock()
		if ok {
			n.enqueue(d)
		}
	})
}

func (n *notifier) work() {
	defer n.wg.Done()
	for {
		n.mu.Lock()
		for len(n.queue) == 0 && !n.closed {
			n.ready.Wait()
		}
		if len(n.queue) == 0 { // closed and drained
			n.mu.Unlock()
			return
		}
		d := n.queue[0]
		n.queue[0] = nil
		n.queue = n.queue[1:]
		n.recount()
		n.busy.Add(1)
		n.mu.Unlock()
		n.attempt(d)
		n.busy.Add(-1)
	}
}

// recount updates pending; mu is held.
func (n *notifier) recount() { n.pending.Store(int64(len(n.queue) + len(n.waiting))) }

// backlog is the notifier's work not yet done.
type backlog struct {
	Queued    int `json:"queued"`    // due, waiting for a worker
	Scheduled int `json:"scheduled"` // waiting for their delay or next retry
	InFlight  int `json:"inFlight"`  // being attempted now
}

func (n *notifier) backlog() backlog {
	n.mu.Lock()
	defer n.mu.Unlock()
	return backlog{Queued: len(n.queue), Scheduled: len(n.waiting), InFlight: int(n.busy.Load())}
}

// attempt sends d once, with a fresh X-Request-Time and signature, and
// records the result; a failure schedules the next attempt or gives up.
func (n *notifier) attempt(d *delivery) {
	d.attempts++
	sn := SignNotification(d.note, d.key, n.wallNow().Add(d.policy.timeOffset), d.policy.variant)
	a := Attempt{
		DeliveryID: d.id, Attempt: d.attempts, ReferenceNumber: d.note.ReferenceNumber, ClientID: d.clientID,
		Status: d.note.Status, Variant: d.policy.variant, URL: d.url, RequestBody: string(sn.Body),
	}
	ctx, cancel := context.WithTimeout(n.ctx, d.policy.timeout)
	defer cancel()
	req, err := sn.NewRequest(ctx, d.url)
	if err == nil {
		var pctx context.Context
		if pctx, err = n.policy.checkURL(ctx, req.URL); pctx != ctx {
			req = req.WithContext(pctx)
		}
	}
	if err == nil {
		if n.sandboxHeaders {
			req.Header.Set(HeaderSandboxDelivery, d.id)
			req.Header.Set(HeaderSandboxAttempt, strconv.Itoa(d.attempts))
		}
		a.RequestHeaders = flatten(req.Header)
		a.SentAt = n.wallNow()
		var resp *http.Response
		resp, err = n.client.Do(req)
		a.LatencyMs = float64(n.wallNow().Sub(a.SentAt).Microseconds()) / 1000
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused
			resp.Body.Close()
			a.ResponseStatus, a.ResponseBody = resp.StatusCode, string(body)
		}
	}
	switch {
	case err == nil && a.ResponseStatus >= 200 && a.ResponseStatus < 300:
		a.Outcome = OutcomeDelivered
	case errors.Is(err, context.Canceled) && n.ctx.Err() != nil:
		a.Outcome, a.Error = OutcomeInterrupted, "the sandbox stopped during this attempt"
	case errors.As(err, new(*refusal)):
		// Final: the policy will refuse every retry too.
		var r *refusal
		errors.As(err, &r)
		a.Outcome, a.Error = OutcomeGaveUp, r.Error()
	default:
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			a.Error = fmt.Sprintf("no answer within the timeout of %s", d.policy.timeout)
		case err != nil:
			a.Error = err.Error()
		default:
			a.Error = fmt.Sprintf("HTTP %d is not an acknowledgement; expected 2xx", a.ResponseStatus)
		}
		a.Outcome = OutcomeGaveUp
		if d.attempts <= len(d.policy.retries) {
			a.Outcome = OutcomeRetrying
			next := n.clock.Now().Add(d.policy.retries[d.attempts-1])
			a.NextAttemptAt = &next
		}
	}
	n.mu.Lock()
	stale := d.gen != n.gen
	n.mu.Unlock()
	if stale { // the sandbox was reset during this attempt: it belongs to no journal
		return
	}
	pos := n.journal.add(a)
	if n.db != nil {
		n.storeAttempt(d, &a, pos)
	}
	if logs(n.log) {
		n.log.Info("notify attempt", "deliveryId", d.id, "attempt", d.attempts, "referenceNumber", a.ReferenceNumber,
			"status", a.Status, "variant", string(a.Variant), "url", d.url, "responseStatus", a.ResponseStatus,
			"outcome", a.Outcome, "error", a.Error)
	}
	if a.Outcome == OutcomeRetrying {
		n.laterAt(d, *a.NextAttemptAt)
	}
}

// maxResponseBody bounds what the journal keeps of a merchant's answer.
const maxResponseBody = 4 << 10

func flatten(h http.Header) map[string]string {
	m := make(map[string]string, len(h))
	for k, v := range h {
		if len(v) > 0 {
			m[k] = v[0]
		}
	}
	return m
}

// interrupted records a delivery that will not be attempted (again).
// In durable mode its record stays: it resumes at the next start.
func (n *notifier) interrupted(d *delivery, why string) {
	n.record(Attempt{DeliveryID: d.id, Attempt: d.attempts + 1, ReferenceNumber: d.note.ReferenceNumber, ClientID: d.clientID,
		Status: d.note.Status, Variant: d.policy.variant, URL: d.url, SentAt: n.wallNow(), Outcome: OutcomeInterrupted, Error: why})
}

// discardPending forgets queued and scheduled deliveries (a reset).
func (n *notifier) discardPending() {
	n.mu.Lock()
	n.gen++
	n.queue = nil
	n.waiting = map[*delivery]bool{}
	n.recount()
	n.mu.Unlock()
}

// close stops the notifier: no new attempts start; attempts in flight get
// until ctx is done to finish, then are cancelled. Every delivery that
// will not complete is recorded as interrupted, so the journal accounts
// for every notify.
func (n *notifier) close(ctx context.Context) {
	n.mu.Lock()
	n.closed = true
	queued, waiting := n.queue, n.waiting
	n.queue, n.waiting = nil, map[*delivery]bool{}
	n.recount()
	n.mu.Unlock()
	n.ready.Broadcast()
	for _, d := range queued {
		n.interrupted(d, "the sandbox stopped before this attempt")
	}
	for d := range waiting {
		n.interrupted(d, "the sandbox stopped before this attempt was due")
	}
	done := make(chan struct{})
	go func() { n.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		n.cancel()
		<-done
	}
	n.cancel()
	n.client.CloseIdleConnections()
}
