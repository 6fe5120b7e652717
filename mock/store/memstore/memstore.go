// Package memstore is the sandbox's in-memory Store, its default: fast,
// and gone when the process ends.
//
// It is laid out for a million payments under parallel creates (see
// PERFORMANCE.md), and for a sandbox that runs for months under a
// retention (Evict): transactions in shards by reference, each with its
// own lock and one map per merchant keyed by the reference alone, so
// creates seldom wait for each other; an index by transaction number in
// fixed-size chunks, never copied as it grows, which is also the order
// lists walk; the journal in chunks, compact; each payment's own strings
// packed into one allocation. What eviction frees is freed: chunks whose
// entries are all gone are dropped, and maps that lost many entries are
// rebuilt, since Go's maps never shrink.
package memstore

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/bjpay/bjpay-sandbox/mock/delivery"
	"github.com/bjpay/bjpay-sandbox/mock/store"
)

// Store keeps everything in memory. The zero value is not usable: call New.
type Store struct {
	shards    [shards]shard
	index     numberIndex
	journal   journal
	finished  finishedQueue
	held      atomic.Int64 // transactions held
	version   atomic.Uint64
	seq       atomic.Uint64 // transaction sequence numbers
	delivSeq  atomic.Uint64 // delivery ids
	merchMu   sync.RWMutex
	merchants map[string]store.Merchant
	controls  map[string]store.Control // guarded by merchMu
}

var _ store.Store = (*Store)(nil)

const shards = 16

type shard struct {
	mu      sync.RWMutex
	txs     map[string]*refs         // by client id
	counts  [len(store.Statuses)]int // transactions held by status, kept as they change
	evicted [len(store.Statuses)]int // transactions evicted since the last reset, by status
	_       [64]byte                 // keeps shards' locks on separate cache lines
}

// refs are one merchant's transactions in a shard, by reference.
type refs struct {
	m       map[string]*store.Transaction
	deleted int // entries deleted since m was made: see del
}

// New returns an empty store.
func New() *Store {
	s := &Store{merchants: map[string]store.Merchant{}, controls: map[string]store.Control{}}
	for i := range s.shards {
		s.shards[i].txs = map[string]*refs{}
	}
	s.journal.reset()
	return s
}

func statusIndex(status string) int {
	for i, s := range store.Statuses {
		if s == status {
			return i
		}
	}
	return 0 // cannot happen: the lifecycle sets only these
}

// shard is where the merchant's reference ref lives (FNV-1a of ref).
func (s *Store) shard(ref string) *shard {
	h := uint32(2166136261)
	for i := 0; i < len(ref); i++ {
		h = (h ^ uint32(ref[i])) * 16777619
	}
	return &s.shards[h%shards]
}

// get returns the merchant's transaction ref; the shard's lock is held.
func (sh *shard) get(clientID, ref string) *store.Transaction {
	if r := sh.txs[clientID]; r != nil {
		return r.m[ref]
	}
	return nil
}

// del forgets the merchant's transaction ref; the shard's lock is held for
// writing. A map keeps the memory of every entry it ever held at once, so
// once as many entries were deleted as it holds (and a few), it is
// rebuilt at its present size: eviction then frees what it evicts, for
// O(1) amortised per deletion.
func (sh *shard) del(clientID, ref string) {
	r := sh.txs[clientID]
	if r == nil {
		return
	}
	delete(r.m, ref)
	r.deleted++
	switch {
	case len(r.m) == 0:
		delete(sh.txs, clientID)
	case r.deleted > len(r.m)+64:
		m := make(map[string]*store.Transaction, len(r.m))
		for k, v := range r.m {
			m[k] = v
		}
		r.m, r.deleted = m, 0
	}
}

func (s *Store) changed() { s.version.Add(1) }

// Version counts changes.
func (s *Store) Version() uint64 { return s.version.Load() }

// NextSeq returns a new transaction sequence number.
func (s *Store) NextSeq() uint64 { return s.seq.Add(1) }

// NextDeliveryID returns a new delivery number.
func (s *Store) NextDeliveryID() uint64 { return s.delivSeq.Add(1) }

// Continue makes sequence numbers and delivery ids go on after seq and
// delivery, for a durable store that loaded them from its file.
func (s *Store) Continue(seq, delivery uint64) {
	s.seq.Store(max(s.seq.Load(), seq))
	s.delivSeq.Store(max(s.delivSeq.Load(), delivery))
}

// Used reports whether the merchant used ref already.
func (s *Store) Used(clientID, ref string) bool {
	sh := s.shard(ref)
	sh.mu.RLock()
	ok := sh.get(clientID, ref) != nil
	sh.mu.RUnlock()
	return ok
}

// Create adds tx unless its reference is taken. The check and the insert
// are one step, so two concurrent creates with the same reference cannot
// both succeed. A transaction created in a terminal status (a durable
// store loading its file) waits for QueueFinished to be evicted.
func (s *Store) Create(_ context.Context, tx *store.Transaction) error {
	seq, ok := store.SeqOf(tx.TransactionNumber)
	if !ok {
		return errBadNumber(tx.TransactionNumber)
	}
	pack(tx)
	sh := s.shard(tx.ReferenceNumber)
	sh.mu.Lock()
	r := sh.txs[tx.ClientID]
	if r == nil {
		r = &refs{m: map[string]*store.Transaction{}}
		sh.txs[tx.ClientID] = r
	}
	if _, ok := r.m[tx.ReferenceNumber]; ok {
		sh.mu.Unlock()
		return store.ErrConflict
	}
	r.m[tx.ReferenceNumber] = tx
	sh.counts[statusIndex(tx.Status)]++
	sh.mu.Unlock()
	s.index.put(seq, tx)
	// Its attempts come after every attempt recorded so far: a search of
	// the journal for them stops here.
	if sl := s.index.slot(seq); sl != nil {
		sl.first.Store(s.journal.nextPosition())
	}
	s.held.Add(1)
	s.changed()
	return nil
}

// Delete removes the merchant's transaction ref, if it is the one numbered
// number: a durable store takes back a create it could not commit, or
// drops one its file holds twice.
func (s *Store) Delete(clientID, ref, number string) {
	sh := s.shard(ref)
	sh.mu.Lock()
	tx := sh.get(clientID, ref)
	ok := tx != nil && tx.TransactionNumber == number
	if ok {
		sh.del(clientID, ref)
		sh.counts[statusIndex(tx.Status)]--
	}
	sh.mu.Unlock()
	if ok {
		if seq, ok := store.SeqOf(number); ok {
			s.index.drop(seq, tx)
		}
		s.held.Add(-1)
		s.changed()
	}
}

// Get returns a copy of the merchant's transaction ref. The copy shares
// Items, which never change after creation.
func (s *Store) Get(_ context.Context, clientID, ref string) (store.Transaction, error) {
	sh := s.shard(ref)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	tx := sh.get(clientID, ref)
	if tx == nil {
		return store.Transaction{}, store.ErrNotFound
	}
	return *tx, nil
}

// GetByNumber returns a copy of the transaction with that number.
func (s *Store) GetByNumber(ctx context.Context, number string) (store.Transaction, error) {
	seq, ok := store.SeqOf(number)
	if !ok {
		return store.Transaction{}, store.ErrNotFound
	}
	tx := s.index.get(seq)
	if tx == nil || tx.TransactionNumber != number { // immutable fields: no shard lock needed
		return store.Transaction{}, store.ErrNotFound
	}
	return s.Get(ctx, tx.ClientID, tx.ReferenceNumber)
}

// Update runs change on the transaction under its shard's lock; the
// deliveries change returns count as pending from then on.
func (s *Store) Update(_ context.Context, clientID, ref string, change func(*store.Transaction) ([]delivery.Record, error)) (store.Transaction, error) {
	sh := s.shard(ref)
	sh.mu.Lock()
	t := sh.get(clientID, ref)
	if t == nil {
		sh.mu.Unlock()
		return store.Transaction{}, store.ErrNotFound
	}
	before := t.Status
	rs, err := change(t)
	if err != nil {
		tx := *t
		sh.mu.Unlock()
		return tx, err
	}
	s.settled(sh, t, before, len(rs))
	tx := *t
	sh.mu.Unlock()
	s.changed()
	return tx, nil
}

// settled does the bookkeeping of a change of t from status before that
// committed pending deliveries; t's shard lock is held for writing.
func (s *Store) settled(sh *shard, t *store.Transaction, before string, pending int) {
	if t.Status != before {
		sh.counts[statusIndex(before)]--
		sh.counts[statusIndex(t.Status)]++
	}
	seq, _ := store.SeqOf(t.TransactionNumber)
	sl := s.index.slot(seq)
	if sl == nil {
		return
	}
	n := sl.pending.Add(int32(pending))
	if before == store.StatusPending && t.Status != store.StatusPending && n == 0 {
		s.finished.push(seq)
	}
}

// Replace puts tx in place of the stored transaction with its reference, as
// it is: a durable store publishes a change it committed (after
// AddDeliveries with the change's deliveries, if any).
func (s *Store) Replace(tx store.Transaction) {
	sh := s.shard(tx.ReferenceNumber)
	sh.mu.Lock()
	t := sh.get(tx.ClientID, tx.ReferenceNumber)
	found := t != nil && t.TransactionNumber == tx.TransactionNumber
	if found {
		before := t.Status
		*t = tx
		s.settled(sh, t, before, 0)
	}
	sh.mu.Unlock()
	if found {
		s.changed()
	}
}

// List returns copies of the transactions f matches, newest first, a page
// at a time. It walks the index from the cursor down: a page costs the
// transactions it holds and those the filter skips.
func (s *Store) List(_ context.Context, f store.Filter) ([]store.Transaction, string, error) {
	from, err := store.ParseCursor(store.TxCursor, f.Cursor)
	if err != nil {
		return nil, "", err
	}
	out := []store.Transaction{}
	var last []uint64 // the sequence number of each entry of out
	buf := make([]held, 0, 256)
	for {
		buf = s.index.below(from, buf)
		for _, h := range buf {
			sh := s.shard(h.tx.ReferenceNumber) // immutable fields: no lock needed
			sh.mu.RLock()
			if sh.get(h.tx.ClientID, h.tx.ReferenceNumber) == h.tx && f.Match(h.tx) {
				out = append(out, *h.tx)
				last = append(last, h.seq)
			}
			sh.mu.RUnlock()
			if f.Limit > 0 && len(out) > f.Limit { // one more than asked: there is a next page
				return out[:f.Limit], store.FormatCursor(store.TxCursor, last[f.Limit-1]), nil
			}
		}
		if len(buf) < cap(buf) {
			return out, "", nil
		}
		from = buf[len(buf)-1].seq
	}
}

// StatusCounts counts the transactions in each status, evicted ones
// included.
func (s *Store) StatusCounts(context.Context) (map[string]int, error) {
	var sum [len(store.Statuses)]int
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		for j := range sh.counts {
			sum[j] += sh.counts[j] + sh.evicted[j]
		}
		sh.mu.RUnlock()
	}
	out := make(map[string]int, len(store.Statuses))
	for j, st := range store.Statuses {
		out[st] = sum[j]
	}
	return out, nil
}

// AddDeliveries keeps the deliveries' transactions from being evicted
// until their last delivery is finished. The records themselves are not
// kept: deliveries pending in memory live in the notifier, and end with
// the process as everything here does.
func (s *Store) AddDeliveries(_ context.Context, rs []delivery.Record) error {
	for i := range rs {
		s.withSlot(rs[i].ClientID, rs[i].Note.ReferenceNumber, func(_ *store.Transaction, sl *slot) { sl.pending.Add(1) })
	}
	return nil
}

// withSlot runs fn on the merchant's transaction ref and its slot, if it
// holds one, with its shard locked for reading.
func (s *Store) withSlot(clientID, ref string, fn func(*store.Transaction, *slot)) {
	sh := s.shard(ref)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	tx := sh.get(clientID, ref)
	if tx == nil {
		return
	}
	seq, _ := store.SeqOf(tx.TransactionNumber)
	if sl := s.index.slot(seq); sl != nil {
		fn(tx, sl)
	}
}

// Pending returns nothing: a store in memory starts empty.
func (s *Store) Pending(context.Context) ([]delivery.Record, error) { return nil, nil }

// AddMerchant stores m unless its client id is taken.
func (s *Store) AddMerchant(_ context.Context, m store.Merchant) error {
	s.merchMu.Lock()
	_, taken := s.merchants[m.ClientID]
	if !taken {
		s.merchants[m.ClientID] = m
	}
	s.merchMu.Unlock()
	if taken {
		return store.ErrConflict
	}
	s.changed()
	return nil
}

// RemoveMerchant forgets the merchant with that client id: a durable store
// takes back one it could not commit.
func (s *Store) RemoveMerchant(clientID string) {
	s.merchMu.Lock()
	delete(s.merchants, clientID)
	s.merchMu.Unlock()
	s.changed()
}

// Merchant returns the stored merchant with that client id.
func (s *Store) Merchant(_ context.Context, clientID string) (store.Merchant, error) {
	s.merchMu.RLock()
	defer s.merchMu.RUnlock()
	m, ok := s.merchants[clientID]
	if !ok {
		return store.Merchant{}, store.ErrNotFound
	}
	return m, nil
}

// Merchants returns the stored merchants by client id.
func (s *Store) Merchants(context.Context) ([]store.Merchant, error) {
	s.merchMu.RLock()
	out := make([]store.Merchant, 0, len(s.merchants))
	for _, m := range s.merchants {
		out = append(out, m)
	}
	s.merchMu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ClientID < out[j].ClientID })
	return out, nil
}

// SetControl stores c for the merchant; the zero Control forgets it.
func (s *Store) SetControl(_ context.Context, clientID string, c store.Control) error {
	s.merchMu.Lock()
	if c == (store.Control{}) {
		delete(s.controls, clientID)
	} else {
		s.controls[clientID] = c
	}
	s.merchMu.Unlock()
	return nil
}

// Controls returns a copy of every stored Control.
func (s *Store) Controls(context.Context) (map[string]store.Control, error) {
	s.merchMu.RLock()
	defer s.merchMu.RUnlock()
	return maps.Clone(s.controls), nil
}

// Reset forgets everything but the sequence numbers.
func (s *Store) Reset(context.Context) error {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		sh.txs = map[string]*refs{}
		sh.counts = [len(store.Statuses)]int{}
		sh.evicted = [len(store.Statuses)]int{}
		sh.mu.Unlock()
	}
	s.index.clear()
	s.held.Store(0)
	s.finished.reset()
	s.journal.reset()
	s.merchMu.Lock()
	s.merchants = map[string]store.Merchant{}
	s.controls = map[string]store.Control{}
	s.merchMu.Unlock()
	s.changed()
	return nil
}

// ResetMerchant forgets the merchant's transactions and attempts.
func (s *Store) ResetMerchant(_ context.Context, clientID string) error {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		if r := sh.txs[clientID]; r != nil {
			for _, tx := range r.m {
				sh.counts[statusIndex(tx.Status)]--
				if seq, ok := store.SeqOf(tx.TransactionNumber); ok {
					s.index.drop(seq, tx)
				}
				s.held.Add(-1)
			}
		}
		delete(sh.txs, clientID)
		sh.mu.Unlock()
	}
	s.journal.drop(clientID)
	s.changed()
	return nil
}

// Close does nothing.
func (s *Store) Close() error { return nil }

func errBadNumber(number string) error {
	return fmt.Errorf("transaction number %q carries no sequence number", number)
}
