package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/notify"
)

// Options configure a Notifier.
type Options struct {
	// Workers bounds the attempts in flight at once.
	Workers int
	// Clocks are the merchants' sandbox times: when attempts are due, and
	// what runs later attempts at their due time.
	Clocks Clocks
	// WallNow is the wall clock, for X-Request-Time; time.Now when nil.
	WallNow func() time.Time
	// Store keeps the journal and the pending deliveries.
	Store Store
	// Log receives a record of each attempt; discarded when nil.
	Log *slog.Logger
	// SandboxHeaders adds HeaderDeliveryID and HeaderAttempt to notifies.
	SandboxHeaders bool
	// Allow, when not empty, is the only place notifies may go: host names,
	// IP addresses or CIDR ranges (see outbound.go).
	Allow []string
	// Relay, when not nil, takes the attempts of merchants whose relay is
	// on to their listener (see relay.go).
	Relay Relay
}

// Notifier owns the outbound client, a FIFO queue, a bounded pool of
// workers and the deliveries waiting for a later attempt. Sending never
// blocks: the queue grows instead. Every attempt lands in the journal.
type Notifier struct {
	client         *http.Client           // https, and what lean leaves to net/http
	lean           *leanClient            // plain http
	target         atomic.Pointer[target] // the URL last posted to, parsed and checked
	clocks         Clocks
	wallNow        func() time.Time
	store          Store
	log            *slog.Logger
	sandboxHeaders bool
	policy         outboundPolicy
	relay          Relay
	workers        int
	claimer        Claimer       // the store, when several processes share it; nil otherwise
	router         Router        // the store, when it routes relayed attempts too; nil otherwise
	wake           chan struct{} // buffered 1: claim now
	stopClaims     chan struct{}

	mu      sync.Mutex
	ready   *sync.Cond
	queue   []*delivery
	waiting map[*delivery]bool // scheduled for later (delay or retry)
	closed  bool
	gen     uint64            // bumped by Discard: older deliveries are dropped
	epochs  map[string]uint64 // bumped by DiscardMerchant, per merchant
	busy    atomic.Int64      // attempts in flight
	// pending is len(queue) + len(waiting), kept under mu and read without
	// it by creates asking whether the backlog is full.
	pending atomic.Int64

	ctx    context.Context // cancelled when Close gives up waiting for in-flight attempts
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// delivery is a Record on its way, in the generation it was sent in.
type delivery struct {
	Record
	gen   uint64 // the notifier's generation when it was sent
	epoch uint64 // its merchant's, likewise
	body  string // the body of its last attempt, shared by the journal entries of every attempt that sent the same
}

// New builds a notifier; Start starts its workers.
func New(o Options) (*Notifier, error) {
	policy, err := parseAllow(o.Allow)
	if err != nil {
		return nil, fmt.Errorf("notify allowlist: %w", err)
	}
	if o.Workers < 1 {
		return nil, fmt.Errorf("notify workers: %d; expected at least 1", o.Workers)
	}
	if o.WallNow == nil {
		o.WallNow = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = o.Workers
	// Every connection goes through the outbound policy's check, and
	// straight to the merchant: [sandbox] no proxy from the environment,
	// which would be dialled instead of the address the policy must see.
	dialer := policy.dialer()
	dialer.Timeout, dialer.KeepAlive = 30*time.Second, 30*time.Second
	transport.DialContext = dialer.DialContext
	lean := newLeanClient(dialer, o.Workers)
	transport.Proxy = nil
	// No cap across hosts (the clone's is 100): evicting an idle
	// connection can close one whose bodyless answer (a bare 200) the
	// transport has pooled but not yet handed to the worker, which then
	// gets "transport connection broken: putIdleConn: too many idle
	// connections" instead of the answer, and retries a delivered notify.
	// The per-host cap still bounds the pool.
	transport.MaxIdleConns = 0
	n := &Notifier{
		client: &http.Client{
			Transport: transport,
			// [sandbox] A redirect is not an acknowledgement: 3xx fails the attempt.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		lean:           lean,
		clocks:         o.Clocks,
		wallNow:        o.WallNow,
		store:          o.Store,
		log:            o.Log,
		sandboxHeaders: o.SandboxHeaders,
		policy:         policy,
		relay:          o.Relay,
		workers:        o.Workers,
		waiting:        map[*delivery]bool{},
		epochs:         map[string]uint64{},
		wake:           make(chan struct{}, 1),
		stopClaims:     make(chan struct{}),
	}
	n.claimer, _ = o.Store.(Claimer)
	n.router, _ = o.Store.(Router)
	n.ready = sync.NewCond(&n.mu)
	n.ctx, n.cancel = context.WithCancel(context.Background())
	return n, nil
}

// Start starts the workers, and on a Claimer store the loop that claims
// due attempts. Close stops them.
func (n *Notifier) Start() {
	for range n.workers {
		n.wg.Add(1)
		go n.work()
	}
	if n.claimer != nil {
		n.wg.Add(1)
		go n.claimLoop()
	}
}

// Prepare returns the records of a notify announcing note to url (and of
// its duplicates, when the policy asks for them), due after the policy's
// delay. Nothing is sent until Send.
func (n *Notifier) Prepare(clientID, url, key string, note notify.Notification, p Policy) []Record {
	due := n.clocks.Now(clientID).Add(p.Delay)
	rs := make([]Record, 1+max(p.Duplicates, 0))
	var claimed time.Time
	if n.claimer != nil && p.Delay <= 0 && (n.router == nil || !n.elsewhere(clientID)) {
		// Due at once: this process makes the first attempt, leased to it
		// as the records are committed, with no wait for a claim; unless
		// the merchant's listener may be another's (Send summons it).
		claimed = n.wallNow()
	}
	for i := range rs {
		rs[i] = Record{ID: "dlv_" + strconv.FormatUint(n.store.NextDeliveryID(), 10), Due: due,
			ClientID: clientID, URL: url, Key: key, Note: note, Policy: p, Claimed: claimed}
	}
	return rs
}

// Send starts the deliveries of records committed to the store: prepared
// ones, or pending ones loaded at start. Each is attempted at its due time,
// at once if that has passed; one without a URL is only journalled, unless
// its merchant's notifies are relayed.
func (n *Notifier) Send(rs []Record) {
	if n.router != nil {
		n.summon(rs)
	}
	for _, r := range rs {
		n.mu.Lock()
		d := &delivery{Record: r, gen: n.gen, epoch: n.epochs[r.ClientID]}
		n.mu.Unlock()
		switch {
		case n.claimer != nil && r.Claimed.IsZero():
			// Due later: whichever process is alive then claims it.
		case r.URL == "" && !n.relays(r.ClientID):
			n.record(d, Attempt{Attempt: r.Attempts + 1, SentAt: n.wallNow(), Outcome: OutcomeNoURL, Error: noURL}, nil)
		case r.Due.After(n.clocks.Now(r.ClientID)):
			n.later(d)
		default:
			n.enqueue(d)
		}
	}
}

// stale reports whether d was discarded since it was sent; mu is held.
func (n *Notifier) stale(d *delivery) bool { return d.gen != n.gen || d.epoch != n.epochs[d.ClientID] }

func (n *Notifier) enqueue(d *delivery) {
	n.mu.Lock()
	if n.stale(d) { // reset since
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

// later schedules d's next attempt at its due time; on a Claimer store,
// the store holds it and the claim loop takes it when due.
func (n *Notifier) later(d *delivery) {
	if n.claimer != nil {
		return
	}
	n.mu.Lock()
	if n.stale(d) {
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
	n.clocks.At(d.ClientID, d.Due, func() {
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

func (n *Notifier) work() {
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
func (n *Notifier) recount() { n.pending.Store(int64(len(n.queue) + len(n.waiting))) }

// Pending is how many deliveries wait for an attempt: queued, or scheduled
// for a delay or a retry. Cheap enough for every create.
func (n *Notifier) Pending() int64 { return n.pending.Load() }

// Backlog is the notifier's work not yet done.
type Backlog struct {
	Queued    int `json:"queued"`    // due, waiting for a worker
	Scheduled int `json:"scheduled"` // waiting for their delay or next retry
	InFlight  int `json:"inFlight"`  // being attempted now
}

// Backlog counts the work not yet done.
func (n *Notifier) Backlog() Backlog {
	n.mu.Lock()
	defer n.mu.Unlock()
	return Backlog{Queued: len(n.queue), Scheduled: len(n.waiting), InFlight: int(n.busy.Load())}
}

// attempt sends d once, with a fresh X-Request-Time and signature, and
// records the result; a failure schedules the next attempt or gives up.
func (n *Notifier) attempt(d *delivery) {
	if n.claimer != nil && !n.holds(d) {
		return // another process has it
	}
	p := &d.Policy
	a := Attempt{Attempt: d.Attempts + 1, URL: d.URL}
	sn := notify.Sign(d.Note, d.Key, n.wallNow().Add(p.TimeOffset), p.Variant)
	// The body is the same at every attempt (only the headers are signed
	// afresh): the journal keeps it once per delivery, not once per attempt.
	if d.body != string(sn.Body) {
		d.body = string(sn.Body)
	}
	a.RequestBody = d.body
	if n.sandboxHeaders { // sn's header is this attempt's own
		sn.Header.Set(HeaderDeliveryID, d.ID)
		sn.Header.Set(HeaderAttempt, strconv.Itoa(a.Attempt))
	}
	var err error
	if n.relays(d.ClientID) {
		a.URL = ""
		ctx, cancel := context.WithTimeout(n.ctx, p.Timeout)
		err = n.forward(ctx, d, &a, sn.Header, sn.Body)
		cancel()
	} else {
		err = n.post(d, &a, sn)
	}
	var r *refusal
	switch {
	case err == nil && a.ResponseStatus >= 200 && a.ResponseStatus < 300:
		a.Outcome = OutcomeDelivered
	case errors.Is(err, context.Canceled) && n.ctx.Err() != nil:
		a.Outcome, a.Error = OutcomeInterrupted, "the sandbox stopped during this attempt"
	case errors.As(err, &r):
		// Final: the policy will refuse every retry too.
		a.Outcome, a.Error = OutcomeGaveUp, r.Error()
	case errors.Is(err, errNoURL):
		// Relay was switched off since the notify was sent, and it has
		// no URL of its own.
		a.Outcome, a.Error = OutcomeNoURL, noURL
	default:
		retrying := OutcomeRetrying
		switch {
		case errors.Is(err, ErrListenerOffline):
			retrying = OutcomeListenerOffline
			a.Error = fmt.Sprintf("relay is on for merchant %s: %v; nothing was sent (start bjpay-sandbox listen, or switch relay off)", d.ClientID, err)
		case errors.Is(err, context.DeadlineExceeded):
			a.Error = fmt.Sprintf("no answer within the timeout of %s", p.Timeout)
		case err != nil:
			a.Error = err.Error()
		default:
			a.Error = fmt.Sprintf("HTTP %d is not an acknowledgement; expected 2xx", a.ResponseStatus)
		}
		a.Outcome = OutcomeGaveUp
		if d.Attempts < len(p.Retries) {
			// [sandbox] From when this attempt was due, not from now: one
			// advance of the clock runs a whole chain of retries that falls
			// within it, each at its own time.
			a.Outcome = retrying
			next := d.Due.Add(p.Retries[d.Attempts])
			a.NextAttemptAt = &next
		}
	}
	d.Attempts++
	var pending *Record
	switch a.Outcome {
	case OutcomeRetrying, OutcomeListenerOffline:
		d.Due = *a.NextAttemptAt
		pending = &d.Record
	case OutcomeInterrupted:
		d.Attempts-- // not made: it resumes at the next start
		pending = &d.Record
	}
	if !n.record(d, a, pending) {
		return
	}
	if n.log.Enabled(context.Background(), slog.LevelInfo) {
		n.log.Info("notify attempt", "deliveryId", d.ID, "attempt", a.Attempt, "referenceNumber", d.Note.ReferenceNumber,
			"status", d.Note.Status, "variant", string(p.Variant), "url", a.URL, "relayed", a.Relayed,
			"responseStatus", a.ResponseStatus, "outcome", a.Outcome, "error", a.Error)
	}
	if a.NextAttemptAt != nil {
		n.later(d)
	}
}

// errNoURL: a delivery with no URL is not relayed (any more).
var errNoURL = errors.New("no URL")

// noURL is the journal's reason for a notify with nowhere to go.
const noURL = "no finishNotifyUrl on the payment and no notifyUrl configured for the merchant: nothing sent"

// post makes attempt a of d over HTTP, to d's URL, under the outbound
// policy and the policy's timeout: through the lean client when the URL
// and the header let it, through net/http otherwise.
func (n *Notifier) post(d *delivery, a *Attempt, sn notify.SignedNotify) error {
	if d.URL == "" {
		return errNoURL
	}
	t := n.target.Load()
	if t == nil || t.raw != d.URL {
		t = newTarget(n.ctx, &n.policy, d.URL)
		n.target.Store(t)
	}
	if t.err != nil {
		return t.err
	}
	if !t.lean || !leanHeader(sn.Header) {
		return n.postStd(d, a, sn, t.ctx)
	}
	a.RequestHeaders = flatten(sn.Header)
	a.SentAt = n.wallNow()
	// The timeout starts with the send, as the journal's latency does.
	status, body, err := n.lean.post(t.ctx, t, sn.Header, sn.Body, time.Now().Add(d.Policy.Timeout))
	a.LatencyMs = float64(n.wallNow().Sub(a.SentAt).Microseconds()) / 1000
	if err != nil {
		return &url.Error{Op: "Post", URL: t.u.String(), Err: err}
	}
	a.ResponseStatus, a.ResponseBody = status, body
	return nil
}

// postStd is post through net/http; ctx is the outbound policy's.
func (n *Notifier) postStd(d *delivery, a *Attempt, sn notify.SignedNotify, ctx context.Context) error {
	req, err := sn.NewRequest(ctx, d.URL)
	if err != nil {
		return err
	}
	a.RequestHeaders = flatten(req.Header)
	a.SentAt = n.wallNow()
	ctx, cancel := context.WithTimeout(ctx, d.Policy.Timeout)
	defer cancel()
	resp, err := n.client.Do(req.WithContext(ctx))
	a.LatencyMs = float64(n.wallNow().Sub(a.SentAt).Microseconds()) / 1000
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused
	resp.Body.Close()
	a.ResponseStatus, a.ResponseBody = resp.StatusCode, string(body)
	return nil
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

// record journals a, an attempt of d, with the record still pending after
// it; it reports false when d belongs to a generation a reset discarded,
// which no journal keeps.
func (n *Notifier) record(d *delivery, a Attempt, pending *Record) bool {
	n.mu.Lock()
	stale := n.stale(d)
	n.mu.Unlock()
	if stale {
		return false
	}
	a.DeliveryID, a.ReferenceNumber, a.ClientID = d.ID, d.Note.ReferenceNumber, d.ClientID
	a.Status, a.Variant = d.Note.Status, d.Policy.Variant
	if a.URL == "" {
		a.URL = d.URL
	}
	if a.SentAt.IsZero() { // refused before it was sent
		a.SentAt = n.wallNow()
	}
	a.SentAt = journalTime(a.SentAt)
	if a.NextAttemptAt != nil {
		next := journalTime(*a.NextAttemptAt)
		a.NextAttemptAt = &next
	}
	if err := n.store.RecordAttempt(context.Background(), a, pending); err != nil {
		n.log.Error("journal write failed", "deliveryId", d.ID, "error", err)
	}
	return true
}

// journalTime is a time as the journal shows it: like every time the
// sandbox shows, in WIB and whole seconds. [sandbox] The journal's
// sentAt is wall time (the attempt's X-Request-Time, unless its variant
// shifts that), its nextAttemptAt sandbox time; the retry itself is
// scheduled to the nanosecond.
func journalTime(t time.Time) time.Time { return t.In(notify.WIB).Truncate(time.Second) }

// interrupted journals a delivery that will not be attempted (again) in
// this run; its record stays pending, to resume at the next start.
func (n *Notifier) interrupted(d *delivery, why string) {
	n.record(d, Attempt{Attempt: d.Attempts + 1, SentAt: n.wallNow(), Outcome: OutcomeInterrupted, Error: why}, &d.Record)
}

// Discard forgets queued and scheduled deliveries (a reset): none of them
// is attempted or journalled any more.
func (n *Notifier) Discard() {
	n.mu.Lock()
	n.gen++
	n.queue = nil
	n.waiting = map[*delivery]bool{}
	n.recount()
	n.mu.Unlock()
}

// DiscardMerchant forgets the queued and scheduled deliveries of one
// merchant (its reset): none of them, nor any of its attempts in flight,
// is attempted or journalled any more.
func (n *Notifier) DiscardMerchant(clientID string) {
	n.mu.Lock()
	n.epochs[clientID]++
	kept := n.queue[:0]
	for _, d := range n.queue {
		if d.ClientID != clientID {
			kept = append(kept, d)
		}
	}
	clear(n.queue[len(kept):])
	n.queue = kept
	for d := range n.waiting {
		if d.ClientID == clientID {
			delete(n.waiting, d)
		}
	}
	n.recount()
	n.mu.Unlock()
}

// Close stops the notifier: no new attempts start; attempts in flight get
// until ctx is done to finish, then are cancelled. Every delivery that
// will not complete is journalled as interrupted, so the journal accounts
// for every notify. Close may be called before Start, and twice.
func (n *Notifier) Close(ctx context.Context) {
	n.mu.Lock()
	if !n.closed {
		close(n.stopClaims)
	}
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
		n.lean.closeAll() // attempts in flight fail at once, and report the cancelled context
		<-done
	}
	n.cancel()
	n.client.CloseIdleConnections()
	n.lean.closeAll()
}
