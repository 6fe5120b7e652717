package delivery

import (
	"context"
	"time"
)

// Claiming attempts from a store several processes share (Claimer): the
// store holds every pending delivery and its due time; each process claims
// what is due while it has idle workers, so the work spreads over the live
// ones and a dead one's leases run out into another's hands.

// ClaimEvery is how often a notifier on a Claimer store looks for due
// attempts when nothing wakes it. [sandbox] 100 ms: a retry or a delayed
// notify goes out at most this late; each look is one small query.
const ClaimEvery = 100 * time.Millisecond

// Router is a Claimer that routes a merchant's relayed attempts to the
// process holding its listener (relay.go): while one holds it, the others'
// claims skip that merchant's deliveries, and a process that commits
// attempts due now for it summons the holder rather than wait for its next
// look.
type Router interface {
	Claimer
	// Summon wakes the process holding clientID's listener, when another
	// process holds it.
	Summon(ctx context.Context, clientID string) error
	// Summoned calls wake each time another process summons this one,
	// until ctx ends.
	Summoned(ctx context.Context, wake func())
}

// claimLoop claims due attempts for the idle workers until Close; on a
// Router, a summons wakes it too.
func (n *Notifier) claimLoop() {
	defer n.wg.Done()
	if n.router != nil {
		ctx, cancel := context.WithCancel(n.ctx)
		done := make(chan struct{})
		go func() { defer close(done); n.router.Summoned(ctx, n.Wake) }()
		defer func() { cancel(); <-done }()
	}
	tick := time.NewTicker(ClaimEvery)
	defer tick.Stop()
	for {
		select {
		case <-n.stopClaims:
			return
		case <-tick.C:
		case <-n.wake:
		}
		for n.claim() {
		}
	}
}

// claim claims as many due attempts as there are idle workers, and
// reports whether it got that many (there may be more).
func (n *Notifier) claim() bool {
	n.mu.Lock()
	free := n.workers - int(n.busy.Load()) - len(n.queue)
	closed := n.closed
	n.mu.Unlock()
	if free <= 0 || closed {
		return false
	}
	ctx, cancel := context.WithTimeout(n.ctx, 10*time.Second)
	rs, err := n.claimer.Claim(ctx, free)
	cancel()
	if err != nil {
		if n.ctx.Err() == nil {
			n.log.Error("claim of due notifies failed", "error", err)
		}
		return false
	}
	for _, r := range rs {
		n.mu.Lock()
		d := &delivery{Record: r, gen: n.gen, epoch: n.epochs[r.ClientID]}
		n.mu.Unlock()
		n.enqueue(d)
	}
	return len(rs) == free
}

// Wake makes the claim loop look for due attempts now: another process
// said it committed some.
func (n *Notifier) Wake() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// elsewhere reports whether clientID's attempts go to a listener that
// another process may hold: this one does not hold it.
func (n *Notifier) elsewhere(clientID string) bool {
	h, ok := n.relay.(Holder)
	return ok && n.relays(clientID) && !h.Listening(clientID)
}

// summon wakes the process holding the listener of a merchant whose
// attempts rs, committed, are due now and not this process's.
func (n *Notifier) summon(rs []Record) {
	last := ""
	for _, r := range rs {
		if !r.Claimed.IsZero() || r.ClientID == last || r.Due.After(n.clocks.Now(r.ClientID)) || !n.elsewhere(r.ClientID) {
			continue
		}
		last = r.ClientID
		ctx, cancel := context.WithTimeout(n.ctx, 2*time.Second)
		if err := n.router.Summon(ctx, r.ClientID); err != nil {
			n.log.Warn("could not summon the replica holding the listener; it claims the attempt at its next look", "clientId", r.ClientID, "error", err)
		}
		cancel()
	}
}

// holds reports whether this process still holds d's lease for a whole
// attempt: a claim that waited in the queue past half the lease's margin
// is renewed first, and dropped when another process has it now.
func (n *Notifier) holds(d *delivery) bool {
	if d.Claimed.IsZero() {
		return false
	}
	if n.wallNow().Sub(d.Claimed) < LeaseMargin/2 {
		return true
	}
	ctx, cancel := context.WithTimeout(n.ctx, 10*time.Second)
	ok, err := n.claimer.Renew(ctx, d.Record)
	cancel()
	if err != nil {
		n.log.Error("lease renewal failed; leaving the attempt to whoever claims it next", "deliveryId", d.ID, "error", err)
	}
	if ok {
		d.Claimed = n.wallNow()
	}
	return ok
}
