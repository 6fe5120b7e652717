// Package memstore is the sandbox's in-memory Store, its default: fast,
// and gone when the process ends.
//
// It is laid out for a million payments under parallel creates (see
// PERFORMANCE.md): transactions in shards by reference, each with its own
// lock and one map per merchant keyed by the reference alone, so creates
// seldom wait for each other; an index by transaction number in fixed-size
// chunks, never copied as it grows; the journal in chunks too; each
// payment's own strings packed into one allocation.
package memstore

import (
	"context"
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
	mu     sync.RWMutex
	txs    map[string]map[string]*store.Transaction // clientId → referenceNumber → transaction
	counts [len(store.Statuses)]int                 // transactions by status, kept as they change
	_      [64]byte                                 // keeps shards' locks on separate cache lines
}

// New returns an empty store.
func New() *Store {
	s := &Store{merchants: map[string]store.Merchant{}, controls: map[string]store.Control{}}
	for i := range s.shards {
		s.shards[i].txs = map[string]map[string]*store.Transaction{}
	}
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
	_, ok := sh.txs[clientID][ref]
	sh.mu.RUnlock()
	return ok
}

// Create adds tx unless its reference is taken. The check and the insert
// are one step, so two concurrent creates with the same reference cannot
// both succeed.
func (s *Store) Create(_ context.Context, tx *store.Transaction) error {
	seq, ok := store.SeqOf(tx.TransactionNumber)
	if !ok {
		return errBadNumber(tx.TransactionNumber)
	}
	pack(tx)
	sh := s.shard(tx.ReferenceNumber)
	sh.mu.Lock()
	refs := sh.txs[tx.ClientID]
	if refs == nil {
		refs = map[string]*store.Transaction{}
		sh.txs[tx.ClientID] = refs
	}
	if _, ok := refs[tx.ReferenceNumber]; ok {
		sh.mu.Unlock()
		return store.ErrConflict
	}
	refs[tx.ReferenceNumber] = tx
	sh.counts[statusIndex(tx.Status)]++
	sh.mu.Unlock()
	s.index.put(seq, tx)
	s.changed()
	return nil
}

// Delete removes the merchant's transaction ref, if it is the one numbered
// number: a durable store takes back a create it could not commit.
func (s *Store) Delete(clientID, ref, number string) {
	sh := s.shard(ref)
	sh.mu.Lock()
	tx, ok := sh.txs[clientID][ref]
	if ok && tx.TransactionNumber == number {
		delete(sh.txs[clientID], ref)
		sh.counts[statusIndex(tx.Status)]--
	}
	sh.mu.Unlock()
	if ok {
		if seq, ok := store.SeqOf(number); ok {
			s.index.put(seq, nil)
		}
		s.changed()
	}
}

// Get returns a copy of the merchant's transaction ref. The copy shares
// Items, which never change after creation.
func (s *Store) Get(_ context.Context, clientID, ref string) (store.Transaction, error) {
	sh := s.shard(ref)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	tx, ok := sh.txs[clientID][ref]
	if !ok {
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

// Update runs change on the transaction under its shard's lock.
func (s *Store) Update(_ context.Context, clientID, ref string, change func(*store.Transaction) ([]delivery.Record, error)) (store.Transaction, error) {
	sh := s.shard(ref)
	sh.mu.Lock()
	t, found := sh.txs[clientID][ref]
	if !found {
		sh.mu.Unlock()
		return store.Transaction{}, store.ErrNotFound
	}
	before := t.Status
	if _, err := change(t); err != nil {
		tx := *t
		sh.mu.Unlock()
		return tx, err
	}
	if t.Status != before {
		sh.counts[statusIndex(before)]--
		sh.counts[statusIndex(t.Status)]++
	}
	tx := *t
	sh.mu.Unlock()
	s.changed()
	return tx, nil
}

// Replace puts tx in place of the stored transaction with its reference, as
// it is: a durable store publishes a change it committed.
func (s *Store) Replace(tx store.Transaction) {
	sh := s.shard(tx.ReferenceNumber)
	sh.mu.Lock()
	t, found := sh.txs[tx.ClientID][tx.ReferenceNumber]
	if found && t.TransactionNumber == tx.TransactionNumber {
		if t.Status != tx.Status {
			sh.counts[statusIndex(t.Status)]--
			sh.counts[statusIndex(tx.Status)]++
		}
		*t = tx
	}
	sh.mu.Unlock()
	if found {
		s.changed()
	}
}

// List returns copies of the transactions f matches, newest first.
func (s *Store) List(_ context.Context, f store.Filter) ([]store.Transaction, error) {
	out := []store.Transaction{}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		for id, refs := range sh.txs {
			if f.ClientID != "" && id != f.ClientID {
				continue
			}
			for _, t := range refs {
				if f.Match(t) {
					out = append(out, *t)
				}
			}
		}
		sh.mu.RUnlock()
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].TransactionNumber > out[j].TransactionNumber
	})
	return out, nil
}

// StatusCounts counts the transactions in each status.
func (s *Store) StatusCounts(context.Context) (map[string]int, error) {
	var sum [len(store.Statuses)]int
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		for j, n := range sh.counts {
			sum[j] += n
		}
		sh.mu.RUnlock()
	}
	out := make(map[string]int, len(store.Statuses))
	for j, st := range store.Statuses {
		out[st] = sum[j]
	}
	return out, nil
}

// AddDeliveries keeps nothing: deliveries pending in memory live in the
// notifier, and end with the process as everything here does.
func (s *Store) AddDeliveries(context.Context, []delivery.Record) error { return nil }

// Pending returns nothing: a store in memory starts empty.
func (s *Store) Pending(context.Context) ([]delivery.Record, error) { return nil, nil }

// RecordAttempt adds a to the journal.
func (s *Store) RecordAttempt(_ context.Context, a delivery.Attempt, _ *delivery.Record) error {
	s.journal.add(a)
	s.changed()
	return nil
}

// Attempts returns the attempts f matches, in the order they were recorded.
func (s *Store) Attempts(_ context.Context, f store.AttemptFilter) ([]delivery.Attempt, error) {
	return s.journal.list(f), nil
}

// OutcomeCounts counts the attempts by outcome.
func (s *Store) OutcomeCounts(context.Context) (map[string]int, error) {
	return s.journal.outcomeCounts(), nil
}

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
		sh.txs = map[string]map[string]*store.Transaction{}
		sh.counts = [len(store.Statuses)]int{}
		sh.mu.Unlock()
	}
	s.index.clear()
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
		for _, tx := range sh.txs[clientID] {
			sh.counts[statusIndex(tx.Status)]--
			if seq, ok := store.SeqOf(tx.TransactionNumber); ok {
				s.index.put(seq, nil)
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
