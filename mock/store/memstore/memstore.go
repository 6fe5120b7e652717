// Package memstore is the sandbox's in-memory Store, its default: fast,
// and gone when the process ends.
//
// It is laid out for a million payments under parallel creates (see
// PERFORMANCE.md), and for a sandbox that runs for months under a
// retention (Evict): transactions in shards by reference, each with its
// own lock and one map per merchant keyed by the reference alone, so
// creates seldom wait for each other; an index by transaction number in
// fixed-size chunks, never copied as it grows, which is also the order
// lists walk; the journal in chunks, compact. A held payment is a
// record without pointers and its text in an arena (records.go): the
// garbage collector has nothing to scan in a million of them, and a create
// allocates nothing of its own. What eviction frees is freed: chunks whose
// entries are all gone are dropped, arenas mostly dropped are compacted,
// and maps that lost many entries are rebuilt, since Go's maps never
// shrink.
package memstore

import (
	"context"
	"fmt"
	"hash/maphash"
	"maps"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/bjpay/bjpay-sandbox/mock/delivery"
	"github.com/bjpay/bjpay-sandbox/mock/store"
)

// Store keeps everything in memory. The zero value is not usable: call New.
type Store struct {
	shards    [shards]shard
	seed      maphash.Seed // of the references' hashes
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

const shards = 16 // a power of two, at most 16 (see numberIndex)

type shard struct {
	mu      sync.RWMutex
	txs     map[string]*refs // by client id
	recs    records
	arena   arena
	tables  tables
	counts  [len(store.Statuses)]int // transactions held by status, kept as they change
	evicted [len(store.Statuses)]int // transactions evicted since the last reset, by status
	_       [64]byte                 // keeps shards' locks on separate cache lines
}

// refs are one merchant's transactions in a shard: their records'
// indexes by the hash of their reference. A reference whose hash another
// one has (once in billions) is in coll instead.
type refs struct {
	m       map[uint64]uint32
	coll    map[string]uint32
	deleted int // entries deleted since m was made: see del
}

// New returns an empty store.
func New() *Store {
	s := &Store{seed: maphash.MakeSeed(), merchants: map[string]store.Merchant{}, controls: map[string]store.Control{}}
	for i := range s.shards {
		s.shards[i].reset()
	}
	s.journal.reset()
	return s
}

func (sh *shard) reset() {
	sh.txs = map[string]*refs{}
	sh.recs = records{}
	sh.arena.reset()
	sh.tables = tables{}
	sh.counts = [len(store.Statuses)]int{}
	sh.evicted = [len(store.Statuses)]int{}
}

func statusIndex(status string) int {
	for i, s := range store.Statuses {
		if s == status {
			return i
		}
	}
	return 0 // cannot happen: the lifecycle sets only these
}

// hash is the hash of a reference: its low bits choose its shard.
func (s *Store) hash(ref string) uint64 { return maphash.String(s.seed, ref) }

func (s *Store) shard(h uint64) *shard { return &s.shards[h%shards] }

// find returns the merchant's record of ref (hashed h) and its index; the
// shard's lock is held.
func (sh *shard) find(clientID, ref string, h uint64) (uint32, *rec) {
	r := sh.txs[clientID]
	if r == nil {
		return 0, nil
	}
	if i, ok := r.m[h]; ok {
		if rc := sh.recs.at(i); string(reference(sh.arena.bytes(rc.text))) == ref {
			return i, rc
		}
	}
	if i, ok := r.coll[ref]; ok {
		return i, sh.recs.at(i)
	}
	return 0, nil
}

// add makes record i the merchant's ref (hashed h); the shard's lock is
// held for writing and ref is not the merchant's yet.
func (sh *shard) add(clientID, ref string, h uint64, i uint32) {
	r := sh.txs[clientID]
	if r == nil {
		r = &refs{m: map[uint64]uint32{}}
		sh.txs[clientID] = r
	}
	if _, taken := r.m[h]; !taken {
		r.m[h] = i
		return
	}
	if r.coll == nil {
		r.coll = map[string]uint32{}
	}
	r.coll[ref] = i
}

// del forgets the merchant's record i of ref (hashed h) and frees it; the
// shard's lock is held for writing. A map keeps the memory of every entry
// it ever held at once, so once as many entries were deleted as it holds
// (and a few), it is rebuilt at its present size: eviction then frees what
// it evicts, for O(1) amortised per deletion.
func (sh *shard) del(clientID, ref string, h uint64, i uint32) {
	r := sh.txs[clientID]
	if r == nil {
		return
	}
	if j, ok := r.m[h]; ok && j == i {
		delete(r.m, h)
	} else {
		delete(r.coll, ref)
	}
	sh.arena.drop(sh.recs.at(i).text)
	sh.recs.release(i)
	r.deleted++
	switch {
	case len(r.m) == 0 && len(r.coll) == 0:
		delete(sh.txs, clientID)
	case r.deleted > len(r.m)+64:
		m := make(map[uint64]uint32, len(r.m))
		maps.Copy(m, r.m)
		r.m, r.deleted = m, 0
	}
	if sh.arena.wasteful() {
		sh.compact()
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
	h := s.hash(ref)
	sh := s.shard(h)
	sh.mu.RLock()
	_, r := sh.find(clientID, ref, h)
	sh.mu.RUnlock()
	return r != nil
}

// Create adds tx unless its reference is taken. The check and the insert
// are one step, so two concurrent creates with the same reference cannot
// both succeed. A transaction created in a terminal status (a durable
// store loading its file) waits for QueueFinished to be evicted. The
// store keeps a copy of tx: tx stays the caller's.
func (s *Store) Create(_ context.Context, tx *store.Transaction) error {
	seq, ok := store.SeqOf(tx.TransactionNumber)
	if !ok {
		return errBadNumber(tx.TransactionNumber)
	}
	h := s.hash(tx.ReferenceNumber)
	sh := s.shard(h)
	sh.mu.Lock()
	if _, r := sh.find(tx.ClientID, tx.ReferenceNumber, h); r != nil {
		sh.mu.Unlock()
		return store.ErrConflict
	}
	i, r := sh.recs.alloc()
	sh.write(r, seq, tx)
	// Its attempts come after every attempt recorded so far: a search of
	// the journal for them stops here.
	r.first.Store(s.journal.nextPosition())
	sh.add(tx.ClientID, tx.ReferenceNumber, h, i)
	sh.counts[r.status]++
	sh.mu.Unlock()
	s.index.put(seq, locate(h, i))
	s.held.Add(1)
	s.changed()
	return nil
}

// Delete removes the merchant's transaction ref, if it is the one numbered
// number: a durable store takes back a create it could not commit, or
// drops one its file holds twice.
func (s *Store) Delete(clientID, ref, number string) {
	seq, ok := store.SeqOf(number)
	if !ok {
		return
	}
	h := s.hash(ref)
	sh := s.shard(h)
	sh.mu.Lock()
	i, r := sh.find(clientID, ref, h)
	ok = r != nil && r.seq == seq
	if ok {
		sh.counts[r.status]--
		sh.del(clientID, ref, h, i)
	}
	sh.mu.Unlock()
	if ok {
		s.index.drop(seq, locate(h, i))
		s.held.Add(-1)
		s.changed()
	}
}

// Get returns the merchant's transaction ref.
func (s *Store) Get(_ context.Context, clientID, ref string) (store.Transaction, error) {
	h := s.hash(ref)
	sh := s.shard(h)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	_, r := sh.find(clientID, ref, h)
	if r == nil {
		return store.Transaction{}, store.ErrNotFound
	}
	return sh.read(r), nil
}

// GetByNumber returns the transaction with that number.
func (s *Store) GetByNumber(_ context.Context, number string) (store.Transaction, error) {
	seq, ok := store.SeqOf(number)
	if !ok {
		return store.Transaction{}, store.ErrNotFound
	}
	var tx store.Transaction
	found := s.withRecord(seq, false, func(sh *shard, _ uint32, r *rec) { tx = sh.read(r) })
	if !found || tx.TransactionNumber != number {
		return store.Transaction{}, store.ErrNotFound
	}
	return tx, nil
}

// withRecord runs fn on the record of the transaction numbered seq and
// its index in its shard, if the store holds it, with its shard locked
// (for writing if write).
func (s *Store) withRecord(seq uint64, write bool, fn func(*shard, uint32, *rec)) bool {
	loc := s.index.get(seq)
	if loc == 0 {
		return false
	}
	sh, i := &s.shards[loc>>28], loc&(1<<28-1)-1
	if write {
		sh.mu.Lock()
		defer sh.mu.Unlock()
	} else {
		sh.mu.RLock()
		defer sh.mu.RUnlock()
	}
	if i >= sh.recs.n {
		return false
	}
	r := sh.recs.at(i)
	if r.seq != seq {
		return false
	}
	fn(sh, i, r)
	return true
}

// Update runs change on the transaction under its shard's lock; the
// deliveries change returns count as pending from then on.
func (s *Store) Update(_ context.Context, clientID, ref string, change func(*store.Transaction) ([]delivery.Record, error)) (store.Transaction, error) {
	h := s.hash(ref)
	sh := s.shard(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	_, r := sh.find(clientID, ref, h)
	if r == nil {
		return store.Transaction{}, store.ErrNotFound
	}
	was := sh.read(r)
	tx := was
	tx.Items = slices.Clone(was.Items) // change may write them: was keeps what r holds
	rs, err := change(&tx)
	if err != nil {
		return was, err
	}
	s.rewrite(sh, r, &was, &tx, len(rs))
	s.changed()
	return tx, nil
}

// rewrite stores tx in r, the record of a transaction that changed from
// was, with the bookkeeping of a change that committed pending
// deliveries; r's shard lock is held for writing. A change of status
// alone (most are) keeps the record's text where it is.
func (s *Store) rewrite(sh *shard, r *rec, was, tx *store.Transaction, pending int) {
	before := r.status
	text := r.text
	if sameText(was, tx) && was.CreatedAt == tx.CreatedAt { // (the number may be made from it)
		sh.writeFields(r, r.seq, tx)
	} else {
		sh.write(r, r.seq, tx)
		sh.arena.drop(text)
	}
	if r.status != before {
		sh.counts[before]--
		sh.counts[r.status]++
	}
	n := r.pending.Add(int32(pending))
	if store.Statuses[before] == store.StatusPending && r.status != before && n == 0 {
		s.finished.push(r.seq)
	}
}

// Replace puts tx in place of the stored transaction with its reference, as
// it is: a durable store publishes a change it committed (after
// AddDeliveries with the change's deliveries, if any).
func (s *Store) Replace(tx store.Transaction) {
	h := s.hash(tx.ReferenceNumber)
	sh := s.shard(h)
	seq, _ := store.SeqOf(tx.TransactionNumber)
	sh.mu.Lock()
	_, r := sh.find(tx.ClientID, tx.ReferenceNumber, h)
	found := r != nil && r.seq == seq
	if found {
		was := sh.read(r)
		s.rewrite(sh, r, &was, &tx, 0)
	}
	sh.mu.Unlock()
	if found {
		s.changed()
	}
}

// List returns the transactions f matches, newest first, a page at a
// time. It walks the index from the cursor down: a page costs the
// transactions it holds and those the filter skips.
func (s *Store) List(_ context.Context, f store.Filter) ([]store.Transaction, string, error) {
	from, err := store.ParseCursor(store.TxCursor, f.Cursor)
	if err != nil {
		return nil, "", err
	}
	out := []store.Transaction{}
	var last []uint64 // the sequence number of each entry of out
	buf := make([]uint64, 0, 256)
	for {
		buf = s.index.below(from, buf)
		for _, seq := range buf {
			s.withRecord(seq, false, func(sh *shard, _ uint32, r *rec) {
				if sh.match(r, &f) {
					out = append(out, sh.read(r))
					last = append(last, seq)
				}
			})
			if f.Limit > 0 && len(out) > f.Limit { // one more than asked: there is a next page
				return out[:f.Limit], store.FormatCursor(store.TxCursor, last[f.Limit-1]), nil
			}
		}
		if len(buf) < cap(buf) {
			return out, "", nil
		}
		from = buf[len(buf)-1]
	}
}

// match reports whether f selects r, reading no more of it than f asks.
func (sh *shard) match(r *rec, f *store.Filter) bool {
	tx := store.Transaction{ClientID: sh.tables.strs[r.client], Status: r.statusName()}
	if f.Reference != "" {
		tx.ReferenceNumber = string(reference(sh.arena.bytes(r.text)))
	}
	return f.Match(&tx)
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
		s.withRec(rs[i].ClientID, rs[i].Note.ReferenceNumber, func(r *rec) { r.pending.Add(1) })
	}
	return nil
}

// withRec runs fn on the record of the merchant's transaction ref, if it
// holds one, with its shard locked for reading.
func (s *Store) withRec(clientID, ref string, fn func(*rec)) {
	h := s.hash(ref)
	sh := s.shard(h)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if _, r := sh.find(clientID, ref, h); r != nil {
		fn(r)
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
		sh.reset()
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
			for _, j := range slices.Concat(slices.Collect(maps.Values(r.m)), slices.Collect(maps.Values(r.coll))) {
				rc := sh.recs.at(j)
				sh.counts[rc.status]--
				s.index.drop(rc.seq, locOf(i, j))
				s.held.Add(-1)
				sh.arena.drop(rc.text)
				sh.recs.release(j)
			}
		}
		delete(sh.txs, clientID)
		if sh.arena.wasteful() {
			sh.compact()
		}
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
