package mock

import (
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// scheduler runs functions at sandbox times: payment expiry, timeline
// steps, notify delays and retries. One goroutine and one heap, not a
// goroutine or timer per pending event, so a million pending payments cost
// a million small heap entries and nothing else.
//
// Functions run on the scheduler's goroutine and must be quick (change a
// state, enqueue a delivery). Events can be scheduled before start. Each
// event has an owner, the merchant it is for, so a merchant's events can
// move to the scheduler of its own clock and back, or be dropped with its
// reset; and a cost, the notifies it will send, which promised sums.
type scheduler struct {
	clock *SandboxClock

	mu        sync.Mutex
	events    eventHeap
	seq       uint64
	cancelled map[uint64]bool // keys of events cancel dropped, until they leave the heap
	promised  atomic.Int64    // the costs of the events waiting
	wake      chan struct{}   // buffered 1: "re-plan now"
	flush     chan chan struct{}
	stop      chan struct{}
	done      chan struct{}
	once      sync.Once // starts or stops the loop, whichever comes first
	halt      sync.Once // closes stop
}

type event struct {
	at    time.Time
	seq   uint64 // ties run in scheduling order
	owner string // the merchant's client id
	cost  int64  // notifies it will send, for the pending bound
	key   uint64 // 0, or what cancel names it by
	fn    func()
}

// eventHeap is a binary min-heap by (at, seq). Typed rather than through
// container/heap, whose Push boxes every event into an interface: an
// allocation, and so a possible wait for the collector, while the
// scheduler's lock is held by a create.
type eventHeap []event

func (h eventHeap) less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}

func (h *eventHeap) push(e event) {
	*h = append(*h, e)
	for i := len(*h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !h.less(i, parent) {
			break
		}
		(*h)[i], (*h)[parent] = (*h)[parent], (*h)[i]
		i = parent
	}
}

// init restores the heap order of h after any change.
func (h eventHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h eventHeap) down(i int) {
	n := len(h)
	for {
		least, l, r := i, 2*i+1, 2*i+2
		if l < n && h.less(l, least) {
			least = l
		}
		if r < n && h.less(r, least) {
			least = r
		}
		if least == i {
			return
		}
		h[i], h[least] = h[least], h[i]
		i = least
	}
}

// pop removes the first event.
func (h *eventHeap) pop() {
	old := *h
	n := len(old) - 1
	old[0] = old[n]
	old[n] = event{}
	*h = old[:n]
	h.down(0)
}

func newScheduler(clock *SandboxClock) *scheduler {
	s := &scheduler{
		clock: clock,
		wake:  make(chan struct{}, 1),
		flush: make(chan chan struct{}),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	clock.onChange(s.poke)
	return s
}

// start starts the loop that runs events when they are due.
func (s *scheduler) start() { s.once.Do(func() { go s.loop() }) }

// at schedules fn for owner at sandbox time t (at once if t has passed);
// cost is the notifies it will send.
func (s *scheduler) at(owner string, t time.Time, cost int64, fn func()) {
	s.put([]event{{at: t, owner: owner, cost: cost, fn: fn}})
}

// put schedules events, in their order.
func (s *scheduler) put(es []event) {
	if len(es) == 0 {
		return
	}
	s.mu.Lock()
	first := false
	for _, e := range es {
		s.seq++
		e.seq = s.seq
		s.events.push(e)
		s.promised.Add(e.cost)
		first = first || s.events[0].seq == s.seq
	}
	s.mu.Unlock()
	if first {
		s.poke()
	}
}

// cancel drops the event scheduled under key, if it is waiting here, with
// what its function holds: a paid payment's expiry, due in days or years,
// would otherwise keep its memory until then. Dropped events are skipped
// when due, and leave the heap in one pass once they are half of it (and
// at least 1024): O(1) amortised, so a create never waits for more than
// its push.
func (s *scheduler) cancel(key uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancelled == nil {
		s.cancelled = map[uint64]bool{}
	}
	s.cancelled[key] = true
	if len(s.cancelled) < 1024 || 2*len(s.cancelled) < len(s.events) {
		return
	}
	kept := s.events[:0]
	for _, e := range s.events {
		if !s.dropped(e) {
			kept = append(kept, e)
		}
	}
	clear(s.events[len(kept):])
	s.events = slices.Clip(slices.Clone(kept)) // a heap that shrank by half frees its array
	s.events.init()
	s.cancelled = nil // keys not found were of events that ran, or moved to another clock
}

// dropped reports whether e was cancelled, and forgets it if so; mu is
// held.
func (s *scheduler) dropped(e event) bool {
	if e.key == 0 || !s.cancelled[e.key] {
		return false
	}
	delete(s.cancelled, e.key)
	s.promised.Add(-e.cost)
	return true
}

// take removes owner's events (every event when owner is "") and returns
// them, in the order they were due.
func (s *scheduler) take(owner string) []event {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []event
	kept := s.events[:0]
	for _, e := range s.events {
		switch {
		case s.dropped(e):
		case owner == "" || e.owner == owner:
			out = append(out, e)
			s.promised.Add(-e.cost)
		default:
			kept = append(kept, e)
		}
	}
	clear(s.events[len(kept):])
	if cap(kept) > 2*len(kept)+1024 { // what a reset took is freed with them
		kept = slices.Clone(kept)
	}
	s.events = kept
	s.events.init()
	sort.Slice(out, func(i, j int) bool {
		return out[i].at.Before(out[j].at) || out[i].at.Equal(out[j].at) && out[i].seq < out[j].seq
	})
	return out
}

func (s *scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// runDue runs every event due by now. Waiting for it after moving the
// clock makes "advance 24h, then look" deterministic.
func (s *scheduler) runDue() {
	done := make(chan struct{})
	select {
	case s.flush <- done:
		<-done
	case <-s.done:
	}
}

// close runs the events already due, then stops the loop; events not yet
// due are dropped (their owners record what that means). Before start, it
// only marks the loop as never to run.
func (s *scheduler) close() {
	started := true
	s.once.Do(func() { started = false; close(s.done) })
	if started {
		s.halt.Do(func() { close(s.stop) })
		<-s.done
	}
}

func (s *scheduler) loop() {
	defer close(s.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		wait, ok := s.runReady()
		var tc <-chan time.Time
		if ok {
			timer.Reset(wait)
			tc = timer.C
		}
		select {
		case <-s.stop:
			timer.Stop()
			// What is due runs before the end: a payment whose PAID step has
			// come must not stay PENDING with no notify in the journal.
			s.runReady()
			return
		case <-s.wake:
		case <-tc:
		case done := <-s.flush:
			s.runReady()
			close(done)
		}
		timer.Stop()
	}
}

// runReady runs the due events and says how long (wall time) to wait for
// the next one; ok is false when there is none or the clock is virtual.
func (s *scheduler) runReady() (wait time.Duration, ok bool) {
	for {
		s.mu.Lock()
		if len(s.events) == 0 {
			s.mu.Unlock()
			return 0, false
		}
		now := s.clock.Now()
		next := s.events[0]
		if next.at.After(now) {
			s.mu.Unlock()
			return s.clock.wallDelay(next.at.Sub(now))
		}
		s.events.pop()
		if s.dropped(next) {
			s.mu.Unlock()
			continue
		}
		s.promised.Add(-next.cost)
		s.mu.Unlock()
		next.fn()
	}
}
