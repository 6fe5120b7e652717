package mock

import (
	"fmt"
	"net/http"
	"time"

	"github.com/bjpay/bjpay-sandbox/scenarios"
	bolt "go.etcd.io/bbolt"
)

// A payment's lifecycle: PENDING → PAID | EXPIRED | FAILED. Terminal
// states are final; a notify is sent on entering each. Scenarios may add
// notifies that contradict the state (out-of-order, duplicated) to test
// merchants, but never change a final state.

// policyOf turns a scenario's delivery section into a policy. Scenarios
// from files come with their defaults filled in; for ones built in Go, zero
// fields fall back to the defaults and an unknown variant to valid, so a
// mistake there cannot stop the notifier.
func policyOf(sc *scenarios.Scenario) *deliveryPolicy {
	if sc == nil {
		return defaultPolicy
	}
	d := sc.Delivery
	p := &deliveryPolicy{timeout: d.Timeout, retries: d.Retries, delay: d.Delay, duplicates: d.Duplicates, variant: VariantValid}
	if p.timeout <= 0 {
		p.timeout = defaultPolicy.timeout
	}
	if p.retries == nil {
		p.retries = defaultPolicy.retries
	}
	if v, err := ParseVariant(d.Variant); err == nil {
		p.variant = v
	}
	return p
}

// plan schedules what happens to a new transaction: expiry at expiredAt,
// and the scenario's timeline. tx is the stored transaction.
func (s *Sandbox) plan(tx *Transaction, sc *scenarios.Scenario) {
	s.sched.expireAt(tx.ExpiredAt, tx)
	if sc == nil {
		return
	}
	s.planSteps(tx, sc, time.Time{})
}

// planSteps schedules the scenario's timeline steps for tx, but those due
// by skipUntil (none when it is zero).
func (s *Sandbox) planSteps(tx *Transaction, sc *scenarios.Scenario, skipUntil time.Time) {
	id := txID{tx.ClientID, tx.ReferenceNumber, tx.TransactionNumber}
	for _, step := range sc.Timeline {
		at := tx.CreatedAt.Add(step.After)
		if !skipUntil.IsZero() && !at.After(skipUntil) {
			continue
		}
		switch {
		case step.Status != "":
			status, why := step.Status, fmt.Sprintf("scenario %q", sc.Name)
			s.sched.at(at, func() { _, _ = s.transition(id, status, why) })
		case step.Notify != "":
			status := step.Notify
			s.sched.at(at, func() {
				if tx, ok := s.store.get(id.clientID, id.ref); ok && tx.TransactionNumber == id.number {
					s.notify(&tx, status)
				}
			})
		}
	}
}

// replan schedules again, after a restart, what is still to happen to a
// loaded transaction: a PENDING one's expiry and its whole timeline (steps
// already past run at once); a terminal one's timeline steps still ahead
// of now. The scenario is looked up by name in the current list; one gone
// since plans nothing.
func (s *Sandbox) replan(tx *Transaction, now time.Time) {
	if tx.Status == StatusPending {
		s.sched.expireAt(tx.ExpiredAt, tx)
	}
	if tx.Scenario == "" {
		return
	}
	list := *s.scenarios.Load()
	for i := range list {
		if list[i].Name == tx.Scenario {
			skip := time.Time{}
			if tx.Status != StatusPending {
				skip = now
			}
			s.planSteps(tx, &list[i], skip)
			return
		}
	}
}

// expire ends a payment whose expiredAt has come, unless it has ended
// already. tx is the stored transaction; only its fields that never change
// are read here.
func (s *Sandbox) expire(tx *Transaction) {
	_, _ = s.transition(txID{tx.ClientID, tx.ReferenceNumber, tx.TransactionNumber}, StatusExpired, "expiredAt reached")
}

// txID names one transaction for deferred work. The transaction number
// guards against acting on a newer transaction that reuses the reference
// after a reset.
type txID struct{ clientID, ref, number string }

// transition moves a PENDING transaction to a terminal status and sends
// its notify. From a terminal state it answers 409.
func (s *Sandbox) transition(id txID, to, why string) (Transaction, *Error) {
	now := s.clock.Now().In(wib).Truncate(time.Second)
	var from string
	tx, ok := s.store.update(id.clientID, id.ref, func(tx *Transaction) bool {
		if id.number != "" && tx.TransactionNumber != id.number {
			return false
		}
		from = tx.Status
		if tx.Status != StatusPending {
			return false
		}
		tx.Status = to
		if to == StatusPaid {
			tx.PaidAt = &now
		}
		return true
	})
	switch {
	case !ok && from == "":
		return Transaction{}, sandboxErr(http.StatusNotFound, "no transaction with referenceNumber %q for client %q", id.ref, id.clientID)
	case !ok:
		return tx, sandboxErr(http.StatusConflict, "transaction %q is already %s; terminal states are final, so it cannot become %s", id.ref, from, to)
	}
	if logs(s.log) {
		s.log.Info("transaction "+to, "clientId", id.clientID, "referenceNumber", id.ref, "reason", why)
	}
	if s.durable != nil {
		// The new status and its notify's deliveries commit together,
		// before the answer and the first attempt.
		id.number = tx.TransactionNumber
		also := func(btx *bolt.Tx) error { return s.putTransaction(btx, id) }
		if _, err := s.notifyWith(&tx, NotificationOf(&tx, to), tx.policy, also); err != nil {
			return tx, s.storeFailed("transaction "+id.ref, err)
		}
		return tx, nil
	}
	s.notify(&tx, to)
	return tx, nil
}

// notify sends a notify announcing status for tx, to finishNotifyUrl (or
// the merchant's configured URL, already resolved at creation), delivered
// as tx's scenario says.
func (s *Sandbox) notify(tx *Transaction, status string) []string {
	return s.notifyAs(tx, NotificationOf(tx, status), tx.policy)
}

// notifyAs sends note for tx under policy p and returns the delivery ids.
func (s *Sandbox) notifyAs(tx *Transaction, note Notification, p *deliveryPolicy) []string {
	ids, _ := s.notifyWith(tx, note, p, nil)
	return ids
}

// notifyWith is notifyAs that, in durable mode, commits also (when not
// nil) with the deliveries' records; err is a failed commit.
func (s *Sandbox) notifyWith(tx *Transaction, note Notification, p *deliveryPolicy, also func(*bolt.Tx) error) ([]string, error) {
	m := s.merchant(tx.ClientID)
	if m == nil { // removed by a reset since, or gone from the configuration
		if also != nil {
			return []string{}, s.durable.db.Batch(also)
		}
		return []string{}, nil
	}
	return s.notifier.send(tx.ClientID, tx.FinishNotifyURL, m.key, note, p, also)
}
