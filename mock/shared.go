package mock

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/listen"
	"github.com/bjpay/bjpay-sandbox/mock/store"
	"github.com/bjpay/bjpay-sandbox/scenarios"
)

// A sandbox on a store.Shared (pgstore, serve --database) is one of
// several replicas that behave as one sandbox. What a single process keeps
// in memory lives in the store instead, so that any live replica does it:
//
//   - payments' expiries and timeline steps: the store holds each
//     payment's next due event; every replica claims what is due (timers,
//     below), runs it and records the next one;
//   - notify attempts: the notifier claims them (delivery.Claimer);
//   - the clocks: moved on the store, read back by every replica;
//   - merchants, tokens and relays: read again when the store changed.
//
// A sandbox on any other store does none of this and schedules in memory.

// SharedEvery is how often a replica looks for due events and reads the
// clocks, merchants, tokens and relays other replicas may have changed.
// [sandbox] 100 ms: an expiry, a step or a clock moved on another replica
// is seen at most this late.
const SharedEvery = 100 * time.Millisecond

// timerBatch is how many payments with due events a replica claims at a
// time, and timerWorkers how many it runs at once.
const (
	timerBatch   = 256
	timerWorkers = 8
)

// timers runs the due events of a shared store's payments.
type timers struct {
	s    *Sandbox
	wake chan struct{} // buffered 1
	stop chan struct{}
	done chan struct{}
	once sync.Once

	mu          sync.Mutex // one refresh at a time
	lastVersion uint64     // the store's version when shared state was last read
	scenarios   int64      // the version of the stored scenarios in use; 0 for --scenarios
}

func newTimers(s *Sandbox) *timers {
	return &timers{s: s, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
}

// poke makes the loop look now; nil-safe for a sandbox on another store.
func (t *timers) poke() {
	if t == nil {
		return
	}
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

func (t *timers) start() {
	if t != nil {
		t.once.Do(func() { go t.loop() })
	}
}

// close stops the loop and waits for it.
func (t *timers) close() {
	if t == nil {
		return
	}
	started := true
	t.once.Do(func() { started = false })
	close(t.stop)
	if started {
		<-t.done
	}
}

func (t *timers) loop() {
	defer close(t.done)
	tick := time.NewTicker(SharedEvery)
	defer tick.Stop()
	held := time.NewTicker(store.ListenerLease / 3)
	defer held.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-tick.C:
			t.s.refreshShared(false)
		case <-held.C:
			t.s.renewListeners()
		case <-t.wake:
		}
		t.s.runTimers("")
	}
}

// The listeners' holders: the replica a merchant's listener is connected
// to is recorded in the store, so that only it claims the merchant's
// attempts (delivery.Router) and the others do not journal them
// listener-offline. [sandbox] As in one process, the newest listener of a
// merchant wins: a replica that finds its hold taken by another closes
// its own listener with listen.CloseReplaced.

// holdListener records, on a shared store, that this replica holds
// clientID's listener; the store's failure refuses the listener.
func (s *Sandbox) holdListener(ctx context.Context, clientID string) error {
	if s.shared == nil {
		return nil
	}
	if err := s.shared.HoldListener(ctx, clientID); err != nil {
		return s.storeFailed("record the listener of merchant "+clientID, err)
	}
	return nil
}

// dropListener ends this replica's hold of clientID's listener once no
// listener of the merchant is connected here.
func (s *Sandbox) dropListener(clientID string) {
	if s.shared == nil || s.listeners.get(clientID) != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.shared.DropListener(ctx, clientID); err != nil {
		s.log.Error("store failed", "what", "drop the listener of merchant "+clientID, "error", err)
	}
}

// renewListeners renews the holds of the listeners connected here, and
// closes those another replica's newer listener replaced.
func (s *Sandbox) renewListeners() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, l := range s.listeners.all() {
		held, err := s.shared.RenewListener(ctx, l.clientID)
		switch {
		case err != nil:
			s.log.Error("store failed", "what", "renew the listener of merchant "+l.clientID, "error", err)
		case !held:
			l.stop(listen.CloseReplaced, "another listener of this merchant connected")
		}
	}
}

// initShared stores this process's clock as the global one, unless the
// store has one, and reads the clocks, merchants and controls the store
// holds. Replicas must agree on the clock's mode and speed.
func (s *Sandbox) initShared(ctx context.Context) error {
	g := s.clocks.global
	c, err := s.shared.InitClock(ctx, store.Clock{Mode: g.Mode(), Speed: g.Speed(), Now: g.Now()})
	if err != nil {
		return fmt.Errorf("the shared clock: %w", err)
	}
	if c.Mode != g.Mode() || c.Speed != g.Speed() {
		return fmt.Errorf("the database's sandbox clock is %s at speed %g, this replica's --clock %s --speed %g; start every replica with the same clock flags", c.Mode, c.Speed, g.Mode(), g.Speed())
	}
	s.refreshShared(true)
	return nil
}

// refreshShared reads the clocks again, and, when the store changed since
// the last look (or always when all is set), merchants, tokens and relays:
// other replicas may have moved or made them.
func (s *Sandbox) refreshShared(all bool) {
	s.timers.mu.Lock()
	defer s.timers.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cs, err := s.shared.Clocks(ctx)
	if err != nil {
		s.log.Error("store read failed", "what", "clocks", "error", err)
		return
	}
	s.clocks.restore(cs)
	if v := s.store.Version(); all || v != s.timers.lastVersion {
		s.timers.lastVersion = v
		if err := s.merchants.reload(ctx); err != nil {
			s.log.Error("store read failed", "what", "merchants", "error", err)
		}
		s.reloadScenarios(ctx)
		if err := s.access.reload(ctx); err != nil {
			s.log.Error("store read failed", "what", "tokens and relays", "error", err)
		} else {
			// Relay switched off through another replica: its listener
			// here stops, as SetRelay stops it on the replica it went through.
			for _, l := range s.listeners.all() {
				if !s.access.relays(l.clientID) {
					l.stop(listen.CloseRelayOff, "relay was switched off")
				}
			}
		}
	}
}

// Scenarios loaded through the control API are stored, and every replica
// loads them at start and when they change. [sandbox] The last loaded
// wins, over the --scenarios a replica started with too: the database is
// the sandbox, and replicas hold nothing of their own.

// loadScenarios stores the scenarios the control API loaded, parsed from
// yaml as list, and uses them; the store's failure leaves every replica's
// as they were.
func (s *Sandbox) loadScenarios(ctx context.Context, yaml []byte, list []scenarios.Scenario) error {
	if s.shared == nil {
		s.SetScenarios(list)
		return nil
	}
	s.timers.mu.Lock()
	defer s.timers.mu.Unlock()
	v, err := s.shared.LoadScenarios(ctx, yaml)
	if err != nil {
		return s.storeFailed("store the scenarios", err)
	}
	s.SetScenarios(list)
	s.timers.scenarios = v
	return nil
}

// reloadScenarios uses the stored scenarios when they changed since this
// replica last read them; timers.mu is held.
func (s *Sandbox) reloadScenarios(ctx context.Context) {
	v, yaml, err := s.shared.LoadedScenarios(ctx, s.timers.scenarios)
	if err != nil {
		s.log.Error("store read failed", "what", "scenarios", "error", err)
		return
	}
	if v == s.timers.scenarios || yaml == nil {
		return
	}
	list, err := scenarios.Parse(storedScenarios, yaml)
	if err != nil {
		// Stored by a replica whose format this one does not know.
		s.log.Error("the stored scenarios do not load; keeping the current ones", "error", err)
		return
	}
	s.SetScenarios(list)
	s.timers.scenarios = v
	s.log.Info("scenarios loaded", "count", len(list), "from", "the database")
}

// storedScenarios is the file name the scenarios loaded through the
// control API go by: where their errors point.
const storedScenarios = "request-body.yaml"

// moveClock moves clientID's clock ("" the global one) on the shared
// store, by by or to at, then runs what became due there.
func (s *Sandbox) moveClock(clientID string, by time.Duration, at time.Time) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.shared.MoveClock(ctx, clientID, by, at); err != nil {
		what := "move the global clock"
		if clientID != "" {
			what = "move the clock of merchant " + clientID
		}
		return s.storeFailed(what, err)
	}
	s.afterClock(clientID)
	return nil
}

// afterClock reads the clocks back and runs what is due on clientID's
// ("" every merchant's), so that a clock moved answers once its expiries
// and steps have run, whichever replica created the payments.
func (s *Sandbox) afterClock(clientID string) {
	s.refreshShared(false)
	s.runTimers(clientID)
	s.notifier.Wake()
}

// runTimers claims the payments with events due (clientID's, or every
// merchant's for "") and runs them, until none is left.
func (s *Sandbox) runTimers(clientID string) {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		ts, err := s.shared.ClaimTimers(ctx, clientID, timerBatch)
		cancel()
		if err != nil {
			s.log.Error("store failed", "what", "claim due payments", "error", err)
			return
		}
		var wg sync.WaitGroup
		sem := make(chan struct{}, timerWorkers)
		for i := range ts {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				s.runTimer(&ts[i])
			})
		}
		wg.Wait()
		if len(ts) < timerBatch {
			return
		}
	}
}

// runTimer runs what is due of one payment — its timeline's steps, in
// order, then its expiry — and records its next event. Running a step
// twice (a replica died before recording it) changes nothing: a status
// moves once, guarded by the store; only a timeline's extra notify may be
// sent again.
func (s *Sandbox) runTimer(t *store.Timer) {
	ctx := context.Background()
	tx := &t.Tx
	id := idOf(tx)
	now := s.clocks.Now(id.clientID)
	status, until, next := tx.Status, t.Until, time.Time{}
	failed := false // the store failed: all that is left runs again in a second
	if sc := s.scenarioNamed(tx.Scenario); sc != nil {
		steps := slices.Clone(sc.Timeline)
		slices.SortStableFunc(steps, func(a, b scenarios.Step) int { return int(a.After - b.After) })
		for _, step := range steps {
			at := tx.CreatedAt.Add(step.After)
			if !t.Until.IsZero() && !at.After(t.Until) {
				continue // ran before
			}
			if at.After(now) || failed {
				next = earliest(next, at)
				continue
			}
			var err error
			if step.Status != "" {
				var moved store.Transaction
				if moved, err = s.transition(ctx, id, step.Status, fmt.Sprintf("scenario %q", sc.Name)); err == nil {
					status = moved.Status
				}
			} else {
				err = s.notifyStep(ctx, id, step.Notify)
			}
			if unavailable(err) {
				failed = true
				next = earliest(next, at)
				continue
			}
			until = at
		}
	}
	if status == store.StatusPending {
		if !failed && !tx.ExpiredAt.After(now) {
			if _, err := s.transition(ctx, id, store.StatusExpired, "expiredAt reached"); unavailable(err) {
				next = earliest(next, tx.ExpiredAt)
			}
		} else {
			next = earliest(next, tx.ExpiredAt)
		}
	}
	if failed || next.Before(now) && !next.IsZero() {
		next = now.Add(time.Second) // not before a second from now: the store failed
	}
	if err := s.shared.TimerDone(ctx, tx, until, next); err != nil {
		s.log.Error("store failed", "what", "record the next event of transaction "+id.ref, "error", err)
	}
}

// unavailable reports whether err is the store's failure, worth a retry.
func unavailable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == KindUnavailable
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}
