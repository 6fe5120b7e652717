package mock

import (
	"sync"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/store"
)

// clocks are the sandbox's clocks: the global one, which every merchant
// follows, and the clocks of their own that merchants get by advancing or
// setting theirs (test clocks, for a sandbox a team shares). Each clock
// has its scheduler; a merchant's events (expiries, timeline steps, notify
// retries) move with it from one to the other, so moving one merchant's
// clock never moves another's payments.
type clocks struct {
	global *SandboxClock
	gsched *scheduler
	expire func(clientID string, seq uint64, date uint32) // every scheduler's (see event)

	mu      sync.RWMutex
	own     map[string]*ownClock // by client id
	started bool
	closed  bool
}

type ownClock struct {
	clock *SandboxClock
	sched *scheduler
}

// newClocks returns the clocks, global the one every merchant follows
// until it gets its own; expire runs the payments' expiries.
func newClocks(global *SandboxClock, expire func(clientID string, seq uint64, date uint32)) *clocks {
	return &clocks{global: global, gsched: newScheduler(global, expire), expire: expire, own: map[string]*ownClock{}}
}

// of returns the clock and scheduler clientID follows.
func (c *clocks) of(clientID string) (*SandboxClock, *scheduler) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if o := c.own[clientID]; o != nil {
		return o.clock, o.sched
	}
	return c.global, c.gsched
}

// Now is clientID's sandbox time.
func (c *clocks) Now(clientID string) time.Time {
	clock, _ := c.of(clientID)
	return clock.Now()
}

// At runs fn at clientID's sandbox time t: a notify's delay or retry.
func (c *clocks) At(clientID string, t time.Time, fn func()) { c.at(clientID, t, 0, fn) }

// at schedules fn for clientID at its sandbox time t; cost is the notifies
// it will send.
func (c *clocks) at(clientID string, t time.Time, cost int64, fn func()) {
	c.put(clientID, event{at: t, cost: cost, fn: fn})
}

// put schedules e for clientID on the scheduler of its clock. The read
// lock keeps the merchant's clock from changing between the look-up and
// the push.
func (c *clocks) put(clientID string, e event) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e.owner = clientID
	c.schedOf(clientID).put([]event{e})
}

// cancel drops clientID's event scheduled under key (see scheduler.cancel).
func (c *clocks) cancel(clientID string, key uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	c.schedOf(clientID).cancel(key)
}

// schedOf is the scheduler of clientID's clock; mu is held.
func (c *clocks) schedOf(clientID string) *scheduler {
	if o := c.own[clientID]; o != nil {
		return o.sched
	}
	return c.gsched
}

// own gives clientID a clock of its own, if it has none: at the global
// clock's time, in its mode and speed, with the merchant's events.
func (c *clocks) detach(clientID string) *ownClock {
	c.mu.Lock()
	defer c.mu.Unlock()
	if o := c.own[clientID]; o != nil {
		return o
	}
	clock, _ := NewSandboxClock(c.global.Mode(), c.global.Speed())
	clock.Set(c.global.Now())
	o := &ownClock{clock: clock, sched: newScheduler(clock, c.expire)}
	o.sched.put(c.gsched.take(clientID))
	switch {
	case c.closed:
		o.sched.close()
	case c.started:
		o.sched.start()
	}
	c.own[clientID] = o
	return o
}

// restore sets every clock as a shared store holds them (by client id, ""
// the global one): a merchant's own clock made or moved on another
// replica, or dropped there.
func (c *clocks) restore(states map[string]store.Clock) {
	if g, ok := states[""]; ok {
		c.global.restore(g.Now, g.Wall)
	}
	for id, st := range states {
		if id != "" {
			c.detach(id).clock.restore(st.Now, st.Wall)
		}
	}
	c.mu.RLock()
	var gone []string
	for id := range c.own {
		if _, ok := states[id]; !ok {
			gone = append(gone, id)
		}
	}
	c.mu.RUnlock()
	for _, id := range gone {
		c.attach(id)
	}
}

// attach puts clientID back on the global clock, with its events.
func (c *clocks) attach(clientID string) {
	c.mu.Lock()
	o := c.own[clientID]
	delete(c.own, clientID)
	if o != nil {
		c.gsched.put(o.sched.take(clientID))
	}
	c.mu.Unlock()
	if o != nil {
		o.sched.close()
	}
}

// drop forgets clientID's events (everyone's for ""), wherever they wait.
func (c *clocks) drop(clientID string) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	c.gsched.take(clientID)
	for _, o := range c.own {
		o.sched.take(clientID)
	}
}

// reset forgets every event and every merchant's own clock.
func (c *clocks) reset() {
	c.mu.Lock()
	own := c.own
	c.own = map[string]*ownClock{}
	c.gsched.take("")
	c.mu.Unlock()
	for _, o := range own {
		o.sched.take("")
		o.sched.close()
	}
}

// runDue runs what is due on clientID's clock ("" for the global one).
func (c *clocks) runDue(clientID string) {
	_, sched := c.of(clientID)
	sched.runDue()
}

// promised is the notifies the events waiting on every clock will send.
func (c *clocks) promised() int64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := c.gsched.promised.Load()
	for _, o := range c.own {
		n += o.sched.promised.Load()
	}
	return n
}

func (c *clocks) start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.started = true
	c.gsched.start()
	for _, o := range c.own {
		o.sched.start()
	}
}

// close runs what is due on every clock, then stops their schedulers.
func (c *clocks) close() {
	c.mu.Lock()
	c.closed = true
	own := c.own
	c.mu.Unlock()
	c.gsched.close()
	for _, o := range own {
		o.sched.close()
	}
}
