package mock

import (
	"sync"
	"time"
)

// scheduler runs functions at sandbox times: payment expiry, timeline
// steps, notify delays and retries. One goroutine and one heap, not a
// goroutine or timer per pending event, so a million pending payments cost
// a million small heap entries and nothing else.
//
// Functions run on the scheduler's goroutine and must be quick (change a
// state, enqueue a delivery). Events can be scheduled before start.
type scheduler struct {
	clock *SandboxClock

	mu     sync.Mutex
	events eventHeap
	seq    uint64
	wake   chan struct{} // buffered 1: "re-plan now"
	flush  chan chan struct{}
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once // starts or stops the loop, whichever comes first
}

type event struct {
	at  time.Time
	seq uint64 // ties run in scheduling order
	fn  func()
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

// pop removes the first event.
func (h *eventHeap) pop() {
	old := *h
	n := len(old) - 1
	old[0] = old[n]
	old[n] = event{}
	*h = old[:n]
	for i := 0; ; {
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
		old[i], old[least] = old[least], old[i]
		i = least
	}
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

// At schedules fn at sandbox time t (at once if t has passed).
func (s *scheduler) At(t time.Time, fn func()) {
	s.mu.Lock()
	s.seq++
	s.events.push(event{at: t, seq: s.seq, fn: fn})
	first := s.events[0].seq == s.seq
	s.mu.Unlock()
	if first {
		s.poke()
	}
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

// reset drops every event: a reset forgets what they were for, and the
// memory they hold goes with them.
func (s *scheduler) reset() {
	s.mu.Lock()
	s.events = nil
	s.mu.Unlock()
}

// close runs the events already due, then stops the loop; events not yet
// due are dropped (their owners record what that means). Before start, it
// only marks the loop as never to run.
func (s *scheduler) close() {
	started := true
	s.once.Do(func() { started = false; close(s.done) })
	if started {
		close(s.stop)
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
		s.mu.Unlock()
		next.fn()
	}
}
