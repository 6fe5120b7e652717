package mock

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// scheduler runs functions at sandbox times: payment expiry, timeline
// steps, notify delays and retries. One goroutine and one heap, not a
// goroutine or timer per pending event.
//
// A payment's expiry, the one event every held payment has, costs a
// 40-byte heap entry and nothing else: no function, no strings, no
// pointer the garbage collector would scan at every cycle (it skips an
// array whose elements hold none). The entry names its owner by an index
// into owners, and its payment by what expire needs to find it again. The
// other events, short-lived, keep their function in fns.
//
// Functions run on the scheduler's goroutine and must be quick (change a
// state, enqueue a delivery). Events can be scheduled before start. Each
// event has an owner, the merchant it is for, so a merchant's events can
// move to the scheduler of its own clock and back, or be dropped with its
// reset; and a cost, the notifies it will send, which promised sums.
type scheduler struct {
	clock  *SandboxClock
	expire func(owner string, seq uint64, date uint32) // runs an expiry (see event)

	mu        sync.Mutex
	events    eventHeap
	fns       map[uint64]task // the events with a function, by seq
	fnsPeak   int             // the most fns held since it was made
	owners    []string        // by index: the client ids events are for ("" for a free index)
	ownerIx   map[string]uint32
	free      []uint32 // indexes of owners taken away, to use again
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

// event is what is scheduled, and what take hands back: a function to
// run, or, with fn nil, a payment's expiry, which calls the scheduler's
// expire with the owner, key (the payment's sequence number) and date
// (its creation date as yyyymmdd, never 0).
type event struct {
	at    time.Time
	owner string // the merchant's client id
	cost  int64  // notifies it will send, for the pending bound; 0 for an expiry
	key   uint64 // 0, or what cancel names it by
	date  uint32 // an expiry's, see above
	fn    func()
}

// task is what an event with a function keeps off the heap.
type task struct {
	fn   func()
	cost int64
}

// entry is an event in the heap: pointer-free, so the collector does
// not scan the heap's array however many payments wait in it.
type entry struct {
	sec   int64  // at, as Unix seconds (years 1 to 9999 fit, unlike Unix nanoseconds)
	seq   uint64 // ties run in scheduling order; names the function in fns
	key   uint64
	nsec  uint32 // at's nanoseconds
	owner uint32 // index in owners
	date  uint32 // an expiry's; 0 for an event with a function
}

func (e entry) at() time.Time { return time.Unix(e.sec, int64(e.nsec)) }

// after reports whether e is due after the time (sec, nsec).
func (e entry) after(sec int64, nsec uint32) bool {
	return e.sec > sec || e.sec == sec && e.nsec > nsec
}

// eventHeap is a binary min-heap by (at, seq). Typed rather than through
// container/heap, whose Push boxes every entry into an interface: an
// allocation, and so a possible wait for the collector, while the
// scheduler's lock is held by a create.
type eventHeap []entry

func (h eventHeap) less(i, j int) bool { return compareEntries(h[i], h[j]) < 0 }

// compareEntries orders entries by (at, seq).
func compareEntries(a, b entry) int {
	switch {
	case a.sec != b.sec:
		return cmp.Compare(a.sec, b.sec)
	case a.nsec != b.nsec:
		return cmp.Compare(a.nsec, b.nsec)
	}
	return cmp.Compare(a.seq, b.seq)
}

func (h *eventHeap) push(e entry) {
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

// pop removes the first entry.
func (h *eventHeap) pop() {
	old := *h
	n := len(old) - 1
	old[0] = old[n]
	*h = old[:n]
	h.down(0)
	if cap(old) > 4*n+4096 { // a mass expiry ran: give its memory back
		*h = slices.Clone(*h)
	}
}

// newScheduler returns a scheduler on clock; expire runs the expiries
// (events without a function).
func newScheduler(clock *SandboxClock, expire func(owner string, seq uint64, date uint32)) *scheduler {
	s := &scheduler{
		clock:  clock,
		expire: expire,
		wake:   make(chan struct{}, 1),
		flush:  make(chan chan struct{}),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
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
		en := entry{sec: e.at.Unix(), seq: s.seq, key: e.key, nsec: uint32(e.at.Nanosecond()), owner: s.ownerIndex(e.owner)}
		if e.fn != nil {
			if s.fns == nil {
				s.fns = map[uint64]task{}
			}
			s.fns[s.seq] = task{e.fn, e.cost}
			s.fnsPeak = max(s.fnsPeak, len(s.fns))
			s.promised.Add(e.cost)
		} else {
			en.date = e.date
		}
		s.events.push(en)
		first = first || s.events[0].seq == s.seq
	}
	s.mu.Unlock()
	if first {
		s.poke()
	}
}

// ownerIndex is owner's index in owners, given one if it has none; mu is
// held.
func (s *scheduler) ownerIndex(owner string) uint32 {
	if i, ok := s.ownerIx[owner]; ok {
		return i
	}
	if s.ownerIx == nil {
		s.ownerIx = map[string]uint32{}
	}
	var i uint32
	if n := len(s.free); n > 0 {
		i, s.free = s.free[n-1], s.free[:n-1]
		s.owners[i] = owner
	} else {
		i = uint32(len(s.owners))
		s.owners = append(s.owners, owner)
	}
	s.ownerIx[owner] = i
	return i
}

// cancel drops the event scheduled under key, if it is waiting here: a
// paid payment's expiry, due in days or years, would otherwise hold its
// entry until then. Dropped events are skipped when due, and leave the
// heap in one pass once they are half of it (and at least 1024): O(1)
// amortised, so a create never waits for more than its push.
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
	s.events = slices.Clip(slices.Clone(kept)) // a heap that shrank by half frees its array
	s.events.init()
	s.cancelled = nil // keys not found were of events that ran, or moved to another clock
}

// dropped reports whether e was cancelled, and forgets it if so; mu is
// held.
func (s *scheduler) dropped(e entry) bool {
	if e.key == 0 || !s.cancelled[e.key] {
		return false
	}
	delete(s.cancelled, e.key)
	s.untask(e)
	return true
}

// untask removes e's function, if it has one, and returns it; mu is held.
func (s *scheduler) untask(e entry) task {
	if e.date != 0 {
		return task{}
	}
	t := s.fns[e.seq]
	delete(s.fns, e.seq)
	if len(s.fns) == 0 && s.fnsPeak > 1024 {
		// A map never shrinks: after a burst (a load's timelines), the
		// collector would scan its empty slots at every cycle.
		s.fns, s.fnsPeak = nil, 0
	}
	s.promised.Add(-t.cost)
	return t
}

// take removes owner's events (every event when owner is "") and returns
// them, in the order they were due.
func (s *scheduler) take(owner string) []event {
	s.mu.Lock()
	defer s.mu.Unlock()
	ix, has := s.ownerIx[owner]
	if owner != "" && !has {
		return nil
	}
	var out []entry
	kept := s.events[:0]
	for _, e := range s.events {
		switch {
		case s.dropped(e):
		case owner == "" || e.owner == ix:
			out = append(out, e)
		default:
			kept = append(kept, e)
		}
	}
	if cap(kept) > 2*len(kept)+1024 { // what a reset took is freed with them
		kept = slices.Clone(kept)
	}
	s.events = kept
	s.events.init()
	slices.SortFunc(out, compareEntries)
	es := make([]event, len(out))
	for i, e := range out {
		t := s.untask(e)
		es[i] = event{at: e.at(), owner: s.owners[e.owner], cost: t.cost, key: e.key, date: e.date, fn: t.fn}
	}
	if owner == "" {
		s.owners, s.ownerIx, s.free = nil, nil, nil
	} else {
		s.owners[ix] = ""
		delete(s.ownerIx, owner)
		s.free = append(s.free, ix)
	}
	return es
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
		if next.after(now.Unix(), uint32(now.Nanosecond())) {
			s.mu.Unlock()
			return s.clock.wallDelay(next.at().Sub(now))
		}
		s.events.pop()
		if s.dropped(next) {
			s.mu.Unlock()
			continue
		}
		t := s.untask(next)
		owner := s.owners[next.owner]
		s.mu.Unlock()
		if t.fn != nil {
			t.fn()
		} else {
			s.expire(owner, next.key, next.date)
		}
	}
}
