package mock

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/delivery"
	"github.com/bjpay/bjpay-sandbox/mock/notify"
	"github.com/bjpay/bjpay-sandbox/mock/store"
	"github.com/bjpay/bjpay-sandbox/scenarios"
)

// A payment's lifecycle: PENDING → PAID | EXPIRED | FAILED. Terminal
// states are final; a notify is sent on entering each. Scenarios may add
// notifies that contradict the state (out-of-order, duplicated) to test
// merchants, but never change a final state.

// policyOf is how the notifies of a payment sc matched are delivered.
func (s *Sandbox) policyOf(sc *scenarios.Scenario) delivery.Policy {
	if sc == nil {
		return s.defaultPol
	}
	return delivery.PolicyOf(sc.Delivery)
}

// txID names one transaction for deferred work. The transaction number
// guards against acting on a newer transaction that reuses the reference
// after a reset.
type txID struct{ clientID, ref, number string }

func idOf(tx *store.Transaction) txID {
	return txID{tx.ClientID, tx.ReferenceNumber, tx.TransactionNumber}
}

// plan schedules what happens to a new transaction: expiry at expiredAt,
// and the scenario's timeline.
func (s *Sandbox) plan(tx *store.Transaction, sc *scenarios.Scenario) {
	if s.shared != nil {
		// The store holds its due events (shared.go): have them looked at
		// now, for a timeline's step at once.
		s.timers.poke()
		return
	}
	s.planExpiry(tx)
	if sc != nil {
		s.planSteps(tx, sc, time.Time{})
	}
}

// planExpiry schedules the end of a payment whose expiredAt comes, unless
// it has ended by then (transition cancels it: the event is keyed by the
// payment's sequence number). The event holds no more than what finds the
// payment again, its number's date and sequence number: a million held
// payments cost the collector nothing to scan (see scheduler).
func (s *Sandbox) planExpiry(tx *store.Transaction) {
	seq, date, ok := numberParts(tx.TransactionNumber)
	if !ok { // not a number the sandbox makes: the event keeps it
		id := idOf(tx)
		seq, _ = store.SeqOf(id.number)
		s.clocks.put(id.clientID, event{at: tx.ExpiredAt, key: seq, fn: func() { s.expire(id) }})
		return
	}
	s.clocks.put(tx.ClientID, event{at: tx.ExpiredAt, key: seq, date: date})
}

// numberParts reads the sequence number and the date (yyyymmdd) of a
// transaction number store.Number made; ok is false for any other, so
// that store.Number(dateOf(date), seq) gives number back.
func numberParts(number string) (seq uint64, date uint32, ok bool) {
	const prefix = len("SBX20060102")
	seq, ok = store.SeqOf(number)
	if digits := len(number) - prefix; !ok || digits < 8 || digits > 8 && number[prefix] == '0' {
		return 0, 0, false // store.Number pads to eight digits, no more
	}
	for _, c := range []byte(number[3:prefix]) {
		if c < '0' || c > '9' {
			return 0, 0, false
		}
		date = date*10 + uint32(c-'0')
	}
	d := dateOf(date)
	y, m, day := d.Date()
	return seq, date, date != 0 && uint32(y*10000+int(m)*100+day) == date
}

// dateOf is the day yyyymmdd names.
func dateOf(date uint32) time.Time {
	return time.Date(int(date/10000), time.Month(date/100%100), int(date%100), 0, 0, 0, 0, time.UTC)
}

// expireDue ends the payment an expiry event is for (see planExpiry),
// if the store still holds it PENDING: reset or evicted since, it is
// gone, and nothing happens.
func (s *Sandbox) expireDue(clientID string, seq uint64, date uint32) {
	tx, err := s.store.GetByNumber(context.Background(), store.Number(dateOf(date), seq))
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		err = s.storeFailed("read the transaction to expire", err)
		s.retryLater(clientID, err, func() { s.expireDue(clientID, seq, date) })
	case tx.Status == store.StatusPending:
		s.expire(idOf(&tx))
	}
}

// expire ends a payment whose expiredAt has come.
func (s *Sandbox) expire(id txID) {
	_, err := s.transition(context.Background(), id, store.StatusExpired, "expiredAt reached")
	s.retryLater(id.clientID, err, func() { s.expire(id) })
}

// retryLater runs job again a second later (sandbox time: on a virtual
// clock, at the next advance) when err says the store could not save, so
// an expiry or a scenario's step is not lost to a full disk.
func (s *Sandbox) retryLater(clientID string, err error, job func()) {
	var e *Error
	if errors.As(err, &e) && e.Kind == KindUnavailable {
		s.clocks.at(clientID, s.clocks.Now(clientID).Add(time.Second), 0, job)
	}
}

// planSteps schedules the scenario's timeline steps for tx, but those due
// by skipUntil (none when it is zero).
func (s *Sandbox) planSteps(tx *store.Transaction, sc *scenarios.Scenario, skipUntil time.Time) {
	id := idOf(tx)
	cost := int64(1 + max(tx.Delivery.Duplicates, 0)) // the notifies of one step
	for _, step := range sc.Timeline {
		at := tx.CreatedAt.Add(step.After)
		if !skipUntil.IsZero() && !at.After(skipUntil) {
			continue
		}
		switch {
		case step.Status != "":
			status, name := step.Status, sc.Name
			s.clocks.at(id.clientID, at, cost, func() { s.step(id, status, name) })
		case step.Notify != "":
			status := step.Notify
			s.clocks.at(id.clientID, at, cost, func() { s.stepNotify(id, status) })
		}
	}
}

// step moves a payment to status, as its scenario's timeline says.
func (s *Sandbox) step(id txID, status, scenario string) {
	_, err := s.transition(context.Background(), id, status, fmt.Sprintf("scenario %q", scenario))
	s.retryLater(id.clientID, err, func() { s.step(id, status, scenario) })
}

// stepNotify sends a notify announcing status, whatever the payment's
// status, as its scenario's timeline says.
func (s *Sandbox) stepNotify(id txID, status string) {
	err := s.notifyStep(context.Background(), id, status)
	s.retryLater(id.clientID, err, func() { s.stepNotify(id, status) })
}

// notifyStep sends the notify of a timeline step announcing status.
func (s *Sandbox) notifyStep(ctx context.Context, id txID, status string) error {
	tx, err := s.store.Get(ctx, id.clientID, id.ref)
	if err != nil || tx.TransactionNumber != id.number {
		return nil // reset since
	}
	_, err = s.send(ctx, &tx, tx.Notification(status), tx.Delivery)
	return err
}

// replan schedules again, after a restart, what is still to happen to a
// stored transaction: a PENDING one's expiry and its whole timeline (steps
// already past run at once); a terminal one's timeline steps still ahead
// of now. The scenario is looked up by name in the current list; one gone
// since plans nothing.
func (s *Sandbox) replan(tx *store.Transaction, now time.Time) {
	if tx.Status == store.StatusPending {
		s.planExpiry(tx)
	}
	if tx.Scenario == "" {
		return
	}
	if sc := s.scenarioNamed(tx.Scenario); sc != nil {
		skip := time.Time{}
		if tx.Status != store.StatusPending {
			skip = now
		}
		s.planSteps(tx, sc, skip)
	}
}

// scenarioNamed is the scenario of that name in the current list, or nil.
func (s *Sandbox) scenarioNamed(name string) *scenarios.Scenario {
	list := *s.scenarios.Load()
	for i := range list {
		if list[i].Name == name {
			return &list[i]
		}
	}
	return nil
}

// errGone: the transaction the deferred work was for was reset away.
var errGone = errors.New("gone")

// transition moves a PENDING transaction to a terminal status, committing
// the change with its notify's deliveries, then sends them. A terminal
// transaction is a conflict; a change the store could not commit leaves
// the transaction as it was and sends nothing.
func (s *Sandbox) transition(ctx context.Context, id txID, to, why string) (store.Transaction, error) {
	now := s.clocks.Now(id.clientID).In(notify.WIB).Truncate(time.Second)
	var rs []delivery.Record
	tx, err := s.store.Update(ctx, id.clientID, id.ref, func(tx *store.Transaction) ([]delivery.Record, error) {
		if id.number != "" && tx.TransactionNumber != id.number {
			return nil, errGone
		}
		if tx.Status != store.StatusPending {
			return nil, errorf(KindConflict, "transaction %q is already %s; terminal states are final, so it cannot become %s", id.ref, tx.Status, to)
		}
		tx.Status = to
		if to == store.StatusPaid {
			tx.PaidAt = &now
		}
		rs = s.prepare(ctx, tx, tx.Notification(to), tx.Delivery)
		return rs, nil
	})
	var e *Error
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, errGone):
		return store.Transaction{}, errorf(KindNotFound, "no transaction with referenceNumber %q for client %q", id.ref, id.clientID)
	case errors.As(err, &e):
		return tx, err
	case err != nil:
		return tx, s.storeFailed("save the "+to+" status of transaction "+id.ref, err)
	}
	if logs(s.log) {
		s.log.Info("transaction "+to, "clientId", id.clientID, "referenceNumber", id.ref, "reason", why)
	}
	if seq, ok := store.SeqOf(tx.TransactionNumber); ok && to != store.StatusExpired {
		// Its expiry would find it final: free the event now. (An expiry is
		// mostly that event itself, which has run.)
		s.clocks.cancel(id.clientID, seq)
	}
	s.notifier.Send(rs)
	return tx, nil
}

// send commits the deliveries of a notify that changes no status (a
// timeline's extra notify, a resend, an ad hoc one), then sends them, and
// returns their ids.
func (s *Sandbox) send(ctx context.Context, tx *store.Transaction, note notify.Notification, p delivery.Policy) ([]string, error) {
	rs := s.prepare(ctx, tx, note, p)
	if err := s.store.AddDeliveries(ctx, rs); err != nil {
		return nil, s.storeFailed("save the notify of transaction "+tx.ReferenceNumber, err)
	}
	s.notifier.Send(rs)
	ids := make([]string, len(rs))
	for i := range rs {
		ids[i] = rs[i].ID
	}
	return ids, nil
}

// prepare returns the deliveries of note for tx, to finishNotifyUrl (or
// the merchant's configured URL, resolved at creation), under policy p:
// none when the merchant is gone (reset since, or out of the
// configuration), since nothing could sign them.
func (s *Sandbox) prepare(ctx context.Context, tx *store.Transaction, note notify.Notification, p delivery.Policy) []delivery.Record {
	m := s.merchants.get(ctx, tx.ClientID)
	if m == nil {
		return nil
	}
	return s.notifier.Prepare(tx.ClientID, tx.FinishNotifyURL, m.key, note, p)
}
