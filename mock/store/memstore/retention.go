package memstore

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/store"
)

// finishedQueue lists the transactions that became evictable (finished,
// no delivery pending) in the order they did, with when: eviction takes
// from its front, in O(1) per transaction, never walking past the PENDING
// ones. An entry may be stale (the transaction got a delivery again, by a
// resend, or is gone): eviction checks and skips it, and a transaction
// whose last delivery finishes is queued again.
type finishedQueue struct {
	mu   sync.Mutex
	q    []finished
	head int
}

type finished struct {
	seq uint64
	at  int64 // Unix nanoseconds, wall time
}

func (f *finishedQueue) push(seq uint64) { f.pushAt(seq, time.Now()) }

func (f *finishedQueue) pushAt(seq uint64, at time.Time) {
	f.mu.Lock()
	f.q = append(f.q, finished{seq, at.UnixNano()})
	f.mu.Unlock()
}

// pop takes the front entry if ok says so.
func (f *finishedQueue) pop(ok func(finished) bool) (finished, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.head == len(f.q) || !ok(f.q[f.head]) {
		return finished{}, false
	}
	e := f.q[f.head]
	f.head++
	// Drop the front once it is half the slice: amortised O(1), and the
	// queue never holds more than twice what waits in it.
	if f.head > 1024 && f.head*2 > len(f.q) {
		f.q = append(make([]finished, 0, len(f.q)-f.head+1024), f.q[f.head:]...)
		f.head = 0
	}
	return e, true
}

func (f *finishedQueue) reset() {
	f.mu.Lock()
	f.q, f.head = nil, 0
	f.mu.Unlock()
}

// QueueFinished makes the transaction numbered seq, created in a terminal
// status, evictable as if it finished at at: a durable store calls it
// after loading, oldest first, and after AddDeliveries with the
// deliveries still pending.
func (s *Store) QueueFinished(seq uint64, at time.Time) { s.finished.pushAt(seq, at) }

// Evict forgets finished transactions and attempts beyond r, oldest first.
func (s *Store) Evict(_ context.Context, r store.Retention, batch int) (store.Evicted, error) {
	return s.EvictFunc(r, batch, nil, nil), nil
}

// EvictFunc is Evict for a durable store: it tells tx the sequence number
// of each transaction it evicts and attempt the key of each attempt
// (either may be nil).
func (s *Store) EvictFunc(r store.Retention, batch int, tx, attempt func(uint64)) store.Evicted {
	cutoff := int64(math.MinInt64)
	if r.Age > 0 {
		cutoff = time.Now().Add(-r.Age).UnixNano()
	}
	var ev store.Evicted
	for range batch {
		e, ok := s.finished.pop(func(e finished) bool {
			return e.at < cutoff || (r.MaxTransactions > 0 && s.held.Load() > int64(r.MaxTransactions))
		})
		if !ok {
			break
		}
		if s.evictTx(e.seq) {
			ev.Transactions++
			if tx != nil {
				tx(e.seq)
			}
		}
	}
	ev.Attempts = s.journal.evict(r.MaxJournal, cutoff, batch, attempt)
	if ev != (store.Evicted{}) {
		s.changed()
	}
	return ev
}

// evictTx forgets the transaction numbered seq if it is finished and has
// no delivery pending.
func (s *Store) evictTx(seq uint64) bool {
	var loc uint32
	s.withRecord(seq, true, func(sh *shard, i uint32, r *rec) {
		if r.statusName() == store.StatusPending || r.pending.Load() > 0 {
			return
		}
		ref := string(reference(sh.arena.bytes(r.text)))
		h := s.hash(ref)
		sh.counts[r.status]--
		sh.evicted[r.status]++
		sh.del(sh.tables.strs[r.client], ref, h, i)
		loc = locate(h, i)
	})
	if loc == 0 {
		return false
	}
	s.index.drop(seq, loc)
	s.held.Add(-1)
	return true
}

// Usage says what the store holds and what it evicted.
func (s *Store) Usage(context.Context) (store.Usage, error) {
	u := store.Usage{Transactions: int(s.held.Load())}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		for _, n := range sh.evicted {
			u.Evicted.Transactions += n
		}
		sh.mu.RUnlock()
	}
	j := &s.journal
	j.mu.RLock()
	u.Attempts = int(j.next - j.head)
	for _, n := range j.evicted {
		u.Evicted.Attempts += n
	}
	j.mu.RUnlock()
	return u, nil
}

// Tally is what a store evicted since its last reset, by transaction
// status and by attempt outcome: a durable store keeps it, so that counts
// (StatusCounts, OutcomeCounts) still include evicted ones after a restart.
type Tally struct {
	Transactions map[string]int `json:"transactions"`
	Attempts     map[string]int `json:"attempts"`
}

// EvictedTally returns what the store evicted since its last reset.
func (s *Store) EvictedTally() Tally {
	t := Tally{Transactions: map[string]int{}, Attempts: map[string]int{}}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		for j, n := range sh.evicted {
			t.Transactions[store.Statuses[j]] += n
		}
		sh.mu.RUnlock()
	}
	s.journal.mu.RLock()
	for o, n := range s.journal.evicted {
		t.Attempts[o] += n
	}
	s.journal.mu.RUnlock()
	return t
}

// RestoreTally adds t, loaded from a durable store's file, to what the
// store evicted.
func (s *Store) RestoreTally(t Tally) {
	sh := &s.shards[0]
	sh.mu.Lock()
	for j, st := range store.Statuses {
		sh.evicted[j] += t.Transactions[st]
	}
	sh.mu.Unlock()
	s.journal.mu.Lock()
	for o, n := range t.Attempts {
		s.journal.evicted[o] += n
		s.journal.outcomes[o] += n
	}
	s.journal.mu.Unlock()
}
