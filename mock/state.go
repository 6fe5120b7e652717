package mock

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/delivery"
	"github.com/bjpay/bjpay-sandbox/mock/listen"
	"github.com/bjpay/bjpay-sandbox/mock/notify"
	"github.com/bjpay/bjpay-sandbox/mock/store"
)

// The sandbox's Go API: what the control API offers, for programs that
// embed a sandbox (sandboxtest) and for the HTTP handlers.

// Transactions returns every transaction of the merchant ("" for every
// merchant's) the sandbox holds, newest first: for the small sandboxes of
// tests (sandboxtest). The control API lists a page at a time.
func (s *Sandbox) Transactions(clientID string) []store.Transaction {
	txs, _, err := s.store.List(context.Background(), store.Filter{ClientID: clientID})
	if err != nil {
		s.log.Error("store read failed", "what", "transactions", "error", err)
	}
	return txs
}

// Deliveries returns every attempt the journal holds for a merchant and
// reference ("" matches all), in the order they were recorded: for the
// small sandboxes of tests. The control API lists a page at a time,
// newest first.
func (s *Sandbox) Deliveries(clientID, ref string) []delivery.Attempt {
	as, _, err := s.store.Attempts(context.Background(), store.AttemptFilter{ClientID: clientID, Reference: ref})
	if err != nil {
		s.log.Error("store read failed", "what", "journal", "error", err)
	}
	slices.Reverse(as)
	return as
}

// The clock moves fail only on a shared store that cannot save them
// (serve --database): then nothing moved, and the error says so (503 in
// the control API).

// AdvanceClock moves the global clock forward by d, and with it every
// merchant without a clock of its own, and returns once everything that
// became due has run. A notify that fails then is retried from when it
// was due: one advance runs every retry of the chain that falls within it
// (each delivered by the workers, after the advance answers).
func (s *Sandbox) AdvanceClock(d time.Duration) error {
	if s.shared != nil {
		return s.moveClock("", d, time.Time{})
	}
	s.clocks.global.Advance(d)
	s.clocks.runDue("")
	return nil
}

// SetClock puts the global clock at t and returns once everything that
// became due has run.
func (s *Sandbox) SetClock(t time.Time) error {
	if s.shared != nil {
		return s.moveClock("", 0, t)
	}
	s.clocks.global.Set(t)
	s.clocks.runDue("")
	return nil
}

// AdvanceMerchantClock moves the merchant's clock forward by d: the first
// advance or set gives it a clock of its own, from then on apart from the
// global one. Only its payments' expiries, timelines and retries follow.
func (s *Sandbox) AdvanceMerchantClock(clientID string, d time.Duration) error {
	if s.shared != nil {
		return s.moveClock(clientID, d, time.Time{})
	}
	o := s.clocks.detach(clientID)
	o.clock.Advance(d)
	o.sched.runDue()
	return nil
}

// SetMerchantClock puts the merchant's own clock at t (see
// AdvanceMerchantClock).
func (s *Sandbox) SetMerchantClock(clientID string, t time.Time) error {
	if s.shared != nil {
		return s.moveClock(clientID, 0, t)
	}
	o := s.clocks.detach(clientID)
	o.clock.Set(t)
	o.sched.runDue()
	return nil
}

// ResetMerchantClock puts the merchant back on the global clock.
func (s *Sandbox) ResetMerchantClock(clientID string) error {
	if s.shared != nil {
		if err := s.shared.DropClock(context.Background(), clientID); err != nil {
			return s.storeFailed("reset the clock of merchant "+clientID, err)
		}
		s.afterClock(clientID)
		return nil
	}
	s.clocks.attach(clientID)
	s.clocks.runDue(clientID)
	return nil
}

// ResetMerchant forgets one merchant's payments, deliveries (pending ones
// and those in flight included), journal and clock of its own, and leaves
// the merchant, its credentials and every other merchant as they are.
func (s *Sandbox) ResetMerchant(ctx context.Context, clientID string) error {
	if s.merchants.get(ctx, clientID) == nil {
		return errorf(KindNotFound, "no merchant with clientId %q", clientID)
	}
	s.notifier.DiscardMerchant(clientID)
	s.clocks.attach(clientID)
	s.clocks.drop(clientID)
	if err := s.store.ResetMerchant(ctx, clientID); err != nil {
		return s.storeFailed("reset merchant "+clientID, err)
	}
	return nil
}

// Reset forgets every transaction, delivery and pending notify, restores
// the configured merchants (dropping those made through the control API),
// forgets merchants' tokens and relays (closing their listeners) and puts
// the clock back on wall time. Scenarios stay as loaded. A durable store
// is emptied too; err says when it could not be.
func (s *Sandbox) Reset() error {
	s.notifier.Discard()
	s.clocks.reset()
	err := s.store.Reset(context.Background())
	s.merchants.reset()
	s.access.reset()
	s.listeners.stop("", false, listen.CloseRelayOff, "the sandbox was reset")
	s.clocks.global.Set(s.wallNow())
	if err != nil {
		return s.storeFailed("reset its store", err)
	}
	if s.shared != nil {
		s.refreshShared(true) // the store's clocks, as its Reset left them
	}
	return nil
}

// findTransaction returns the transaction with reference ref of the
// merchant clientID, or of whichever merchant has one when clientID is
// empty (a conflict when several have).
func (s *Sandbox) findTransaction(ctx context.Context, ref, clientID string) (store.Transaction, error) {
	// Look the reference up per merchant: O(merchants), not O(transactions).
	owners := []string{clientID}
	if clientID == "" {
		owners = s.merchants.ids()
	}
	var txs []store.Transaction
	for _, id := range owners {
		tx, err := s.store.Get(ctx, id, ref)
		switch {
		case err == nil:
			txs = append(txs, tx)
		case !errors.Is(err, store.ErrNotFound):
			return store.Transaction{}, err
		}
	}
	switch len(txs) {
	case 0:
		if clientID != "" {
			return store.Transaction{}, errorf(KindNotFound, "no transaction with referenceNumber %q for client %q", ref, clientID)
		}
		return store.Transaction{}, errorf(KindNotFound, "no transaction with referenceNumber %q", ref)
	case 1:
		return txs[0], nil
	}
	owners = owners[:0]
	for _, tx := range txs {
		owners = append(owners, tx.ClientID)
	}
	return store.Transaction{}, errorf(KindConflict, "referenceNumber %q is used by %d merchants; add ?clientId= with one of: %s", ref, len(txs), strings.Join(owners, ", "))
}

// adHoc asks for a notify that is not the transaction's own: any status
// (even one contradicting the stored one, which does not change), any
// variant, another totalAmount (validly signed), an X-Request-Time
// shifted from wall time, with or without retries. Nil fields keep the
// transaction's.
type adHoc struct {
	Status            string         `json:"status"`
	Variant           notify.Variant `json:"variant"`
	TotalAmount       *int64         `json:"totalAmount"`
	RequestTimeOffset string         `json:"requestTimeOffset"`
	Retry             *bool          `json:"retry"`
}

// resendView answers a notify request: what is being sent, and the
// delivery ids to look for in the journal.
type resendView struct {
	ReferenceNumber string         `json:"referenceNumber"`
	Status          string         `json:"status"`
	Variant         notify.Variant `json:"variant"`
	// Why is the variant's sentence (SignedNotify.Why): what was signed and
	// what is sent, so a test harness can say why a merchant must refuse it.
	Why         string   `json:"why"`
	NotifyURL   string   `json:"notifyUrl"`
	DeliveryIDs []string `json:"deliveryIds"`
}

// resend sends a notify for tx now. Without in it resends the notify of
// the current (terminal) status, delivered as the transaction's scenario
// says. With in it sends the ad hoc notify in asks for, once, at once,
// whatever the scenario says about duplicates and delay.
func (s *Sandbox) resend(ctx context.Context, tx *store.Transaction, in *adHoc) (resendView, error) {
	p, note := tx.Delivery, tx.Notification(tx.Status)
	switch {
	case in == nil && tx.Status == store.StatusPending:
		return resendView{}, errorf(KindConflict, "transaction %q is PENDING; BJPAY notifies results only (PAID, FAILED, EXPIRED): pay, fail or expire it first, or send an ad hoc notify with a body such as {\"status\": \"PAID\"}", tx.ReferenceNumber)
	case in != nil:
		var err error
		if p, err = adHocPolicy(tx, in, p, &note); err != nil {
			return resendView{}, err
		}
	}
	ids, err := s.send(ctx, tx, note, p)
	if err != nil {
		return resendView{}, err
	}
	if ids == nil {
		ids = []string{}
	}
	return resendView{tx.ReferenceNumber, note.Status, p.Variant, p.Variant.Why(), tx.FinishNotifyURL, ids}, nil
}

// adHocPolicy applies in to the transaction's policy p and its notify note.
func adHocPolicy(tx *store.Transaction, in *adHoc, p delivery.Policy, note *notify.Notification) (delivery.Policy, error) {
	p.Delay, p.Duplicates = 0, 0
	switch in.Status {
	case "":
		if tx.Status == store.StatusPending {
			return p, errorf(KindInvalid, "transaction %q is PENDING; give the status to announce: PAID, FAILED or EXPIRED", tx.ReferenceNumber)
		}
	case store.StatusPaid, store.StatusFailed, store.StatusExpired:
		note.Status = in.Status
	default:
		return p, errorf(KindInvalid, "status is %q; expected PAID, FAILED or EXPIRED", in.Status)
	}
	if in.Variant != "" {
		v, err := notify.ParseVariant(string(in.Variant))
		if err != nil {
			return p, errorf(KindInvalid, "variant: %v", err)
		}
		p.Variant = v
	}
	if in.TotalAmount != nil {
		if *in.TotalAmount <= 0 || *in.TotalAmount > maxSafeAmount {
			return p, errorf(KindInvalid, "totalAmount is %d; expected a positive whole number of rupiah up to %d", *in.TotalAmount, int64(maxSafeAmount))
		}
		note.TotalAmount = *in.TotalAmount
	}
	if in.RequestTimeOffset != "" {
		d, err := time.ParseDuration(in.RequestTimeOffset)
		if err != nil || d.Abs() > 24*time.Hour {
			return p, errorf(KindInvalid, "requestTimeOffset is %q; expected a duration within ±24h such as \"-6m\"", in.RequestTimeOffset)
		}
		p.TimeOffset = d
	}
	if in.Retry != nil && !*in.Retry {
		p.Retries = []time.Duration{}
	}
	return p, nil
}

// stats is what GET /_sandbox/stats answers. The counts are of everything
// since the start (or the last reset), evicted payments and attempts
// included: a load test reads them after the fact.
type stats struct {
	Store        string           `json:"store,omitempty"` // memory, bbolt or postgresql
	Transactions map[string]int   `json:"transactions"`    // by status
	Attempts     map[string]int   `json:"attempts"`        // delivery attempts by outcome
	Backlog      delivery.Backlog `json:"backlog"`
	Retention    retentionView    `json:"retention"`
}

func (s *Sandbox) stats(ctx context.Context) (stats, error) {
	txs, err := s.store.StatusCounts(ctx)
	if err != nil {
		return stats{}, err
	}
	as, err := s.store.OutcomeCounts(ctx)
	if err != nil {
		return stats{}, err
	}
	rv, err := s.retentionView(ctx)
	if err != nil {
		return stats{}, err
	}
	return stats{Store: s.storeName, Transactions: txs, Attempts: as, Backlog: s.notifier.Backlog(), Retention: rv}, nil
}

type clockJSON struct {
	Now   time.Time `json:"now"`
	Mode  string    `json:"mode"`
	Speed float64   `json:"speed"`
}

func (s *Sandbox) clockView() clockJSON { return viewOf(s.clocks.global) }

func viewOf(c *SandboxClock) clockJSON {
	return clockJSON{Now: c.Now().In(notify.WIB).Truncate(time.Millisecond), Mode: c.Mode(), Speed: c.Speed()}
}

// merchantClockJSON is a merchant's clock: its own, or the global one it
// follows.
type merchantClockJSON struct {
	ClientID string `json:"clientId"`
	clockJSON
	Own bool `json:"own"` // false while it follows the global clock
}

func (s *Sandbox) merchantClockView(clientID string) merchantClockJSON {
	c, _ := s.clocks.of(clientID)
	return merchantClockJSON{ClientID: clientID, clockJSON: viewOf(c), Own: c != s.clocks.global}
}

// scenarioView is a scenario as the control API lists it.
type scenarioView struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	File        string `json:"file"`
	Line        int    `json:"line,omitempty"`
}

// scenarioViews lists the scenarios in the order they are tried.
func (s *Sandbox) scenarioViews() []scenarioView {
	list := s.Scenarios()
	out := make([]scenarioView, len(list))
	for i, sc := range list {
		out[i] = scenarioView{sc.Name, sc.Description, sc.File, sc.At[""].Line}
	}
	return out
}
