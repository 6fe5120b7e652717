package mock

import (
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Transaction statuses. [sandbox] BJPAY documents only PAID; the sandbox's
// lifecycle is PENDING → PAID | EXPIRED | FAILED.
const (
	StatusPending = "PENDING"
	StatusPaid    = "PAID"
	StatusExpired = "EXPIRED"
	StatusFailed  = "FAILED"
)

// Transaction is a payment as Get Invoice returns it. The documented fields
// come first; the rest are the sandbox's additions.
type Transaction struct {
	TransactionNumber   string    `json:"transactionNumber"`
	ReferenceNumber     string    `json:"referenceNumber"`
	PaymentCode         string    `json:"paymentCode"`
	PaymentName         string    `json:"paymentName"`
	CustomerName        string    `json:"customerName"`
	CustomerEmail       string    `json:"customerEmail"`
	CustomerPhoneNumber string    `json:"customerPhoneNumber"`
	FinishNotifyURL     string    `json:"finishNotifyUrl"`
	FinishReturnURL     string    `json:"finishReturnUrl"`
	ExpiredAt           time.Time `json:"expiredAt"`
	TotalAmount         int64     `json:"totalAmount"`
	Fee                 int64     `json:"fee"`
	TotalReceived       int64     `json:"totalReceived"`
	PaymentDest         string    `json:"paymentDest"`
	PaymentDestType     string    `json:"paymentDestType"`

	// [sandbox] fields the docs do not list for Get Invoice.
	PaymentDestName string     `json:"paymentDestName"`
	Status          string     `json:"status"`
	Items           []Item     `json:"items"`
	CreatedAt       time.Time  `json:"createdAt"`
	PaidAt          *time.Time `json:"paidAt,omitempty"`

	// ClientID is the owner merchant; never sent on the BJPAY surface.
	ClientID string `json:"-"`
	// Scenario is the name of the scenario that matched at creation, if any.
	Scenario string `json:"-"`

	policy *deliveryPolicy // how its notifies are delivered
}

// Item is one line of a payment.
type Item struct {
	Name     string `json:"name"`
	Quantity int64  `json:"quantity"`
	Amount   int64  `json:"amount"`
}

// store holds transactions in memory, by owner and reference (references
// are unique per merchant, not globally). Safe for concurrent use; it
// hands out copies so callers never share mutable state.
//
// It is laid out for a million payments under parallel creates (see
// PERFORMANCE.md): shards by reference, each with its own lock and one map
// per merchant keyed by the reference alone, so creates seldom wait for
// each other; and the transaction-number index is fixed-size chunks by the
// number's sequence part, never copied as it grows.
type store struct {
	shards  [storeShards]storeShard
	index   numberIndex
	changed func() // called after every change, outside the locks
}

const storeShards = 16

type storeShard struct {
	mu     sync.RWMutex
	txs    map[string]map[string]*Transaction // clientId → referenceNumber → transaction
	counts [len(statuses)]int                 // transactions by status, kept as they change
	_      [64]byte                           // keeps shards' locks on separate cache lines
}

// statuses are the transaction statuses, in the order counts keep them.
var statuses = [...]string{StatusPending, StatusPaid, StatusFailed, StatusExpired}

func statusIndex(status string) int {
	for i, s := range statuses {
		if s == status {
			return i
		}
	}
	return 0 // cannot happen: transitions only set these
}

type storeKey struct{ clientID, ref string }

func newStore(changed func()) *store {
	s := &store{changed: changed}
	for i := range s.shards {
		s.shards[i].txs = map[string]map[string]*Transaction{}
	}
	return s
}

// shard is where the merchant's reference ref lives (FNV-1a of ref).
func (s *store) shard(ref string) *storeShard {
	h := uint32(2166136261)
	for i := 0; i < len(ref); i++ {
		h = (h ^ uint32(ref[i])) * 16777619
	}
	return &s.shards[h%storeShards]
}

// exists reports whether the merchant already used ref.
func (s *store) exists(clientID, ref string) bool {
	sh := s.shard(ref)
	sh.mu.RLock()
	_, ok := sh.txs[clientID][ref]
	sh.mu.RUnlock()
	return ok
}

// insert adds tx, whose transaction number carries seq, unless its
// reference is already taken; it reports whether it did. The check and the
// insert are one step, so two concurrent creates with the same reference
// cannot both succeed.
func (s *store) insert(tx *Transaction, seq uint64) bool {
	sh := s.shard(tx.ReferenceNumber)
	sh.mu.Lock()
	refs := sh.txs[tx.ClientID]
	if refs == nil {
		refs = map[string]*Transaction{}
		sh.txs[tx.ClientID] = refs
	}
	if _, ok := refs[tx.ReferenceNumber]; ok {
		sh.mu.Unlock()
		return false
	}
	refs[tx.ReferenceNumber] = tx
	sh.counts[statusIndex(tx.Status)]++
	sh.mu.Unlock()
	s.index.put(seq, tx)
	s.changed()
	return true
}

// update runs fn on the merchant's transaction under the write lock and
// returns a copy of the result; ok is false when there is no such
// transaction or fn reports no change.
func (s *store) update(clientID, ref string, fn func(*Transaction) bool) (tx Transaction, ok bool) {
	sh := s.shard(ref)
	sh.mu.Lock()
	t, found := sh.txs[clientID][ref]
	if !found {
		sh.mu.Unlock()
		return Transaction{}, false
	}
	before := t.Status
	changed := fn(t)
	if t.Status != before {
		sh.counts[statusIndex(before)]--
		sh.counts[statusIndex(t.Status)]++
	}
	tx = *t
	sh.mu.Unlock()
	if changed {
		s.changed()
	}
	return tx, changed
}

// list returns copies of the transactions keep accepts, newest first.
func (s *store) list(keep func(*Transaction) bool) []Transaction {
	out := []Transaction{}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		for _, refs := range sh.txs {
			for _, t := range refs {
				if keep(t) {
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
	return out
}

// reset forgets every transaction. Sequence numbers go on, so the index
// by number keeps its length with every entry cleared.
func (s *store) reset() {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		sh.txs = map[string]map[string]*Transaction{}
		sh.counts = [len(statuses)]int{}
		sh.mu.Unlock()
	}
	s.index.clear()
	s.changed()
}

// statusCounts returns how many transactions there are in each status.
func (s *store) statusCounts() map[string]int {
	var sum [len(statuses)]int
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		for j, n := range sh.counts {
			sum[j] += n
		}
		sh.mu.RUnlock()
	}
	out := make(map[string]int, len(statuses))
	for j, st := range statuses {
		out[st] = sum[j]
	}
	return out
}

// get returns a copy of the merchant's transaction with reference ref. The
// copy shares Items, which is never changed after creation.
func (s *store) get(clientID, ref string) (Transaction, bool) {
	sh := s.shard(ref)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	tx, ok := sh.txs[clientID][ref]
	if !ok {
		return Transaction{}, false
	}
	return *tx, true
}

// byTransactionNumber returns a copy of the transaction with that number.
func (s *store) byTransactionNumber(number string) (Transaction, bool) {
	seq, ok := seqOf(number)
	if !ok {
		return Transaction{}, false
	}
	tx := s.index.get(seq)
	if tx == nil || tx.TransactionNumber != number { // immutable fields: no shard lock needed
		return Transaction{}, false
	}
	return s.get(tx.ClientID, tx.ReferenceNumber)
}

// numberIndex finds transactions by the sequence number in their
// transaction number: chunks of indexChunk pointers, allocated as the
// numbers reach them and never copied.
type numberIndex struct {
	mu     sync.RWMutex
	chunks []*[indexChunk]*Transaction
}

const indexChunk = 4096

func (x *numberIndex) put(seq uint64, tx *Transaction) {
	c, i := seq/indexChunk, seq%indexChunk
	x.mu.Lock()
	for uint64(len(x.chunks)) <= c {
		x.chunks = append(x.chunks, nil)
	}
	if x.chunks[c] == nil {
		x.chunks[c] = new([indexChunk]*Transaction)
	}
	x.chunks[c][i] = tx
	x.mu.Unlock()
}

func (x *numberIndex) get(seq uint64) *Transaction {
	c, i := seq/indexChunk, seq%indexChunk
	x.mu.RLock()
	defer x.mu.RUnlock()
	if c >= uint64(len(x.chunks)) || x.chunks[c] == nil {
		return nil
	}
	return x.chunks[c][i]
}

// clear forgets every entry; chunks are dropped, numbers go on.
func (x *numberIndex) clear() {
	x.mu.Lock()
	for i := range x.chunks {
		x.chunks[i] = nil
	}
	x.mu.Unlock()
}

// transactionNumber is the number of the seq-th transaction created on
// date. [sandbox] BJPAY documents no format for transactionNumber; the
// sandbox's is SBX, the creation date and the sequence number, at least
// eight digits: SBX2026112400000042.
func transactionNumber(date time.Time, seq uint64) string {
	b := make([]byte, 0, 3+8+8)
	b = append(b, "SBX"...)
	b = date.AppendFormat(b, "20060102")
	digits := strconv.AppendUint(nil, seq, 10)
	for range 8 - len(digits) {
		b = append(b, '0')
	}
	return string(append(b, digits...))
}

// seqOf reads the sequence number back from a transaction number.
func seqOf(number string) (uint64, bool) {
	const prefix = len("SBX20060102")
	if len(number) <= prefix || !strings.HasPrefix(number, "SBX") {
		return 0, false
	}
	seq, err := strconv.ParseUint(number[prefix:], 10, 64)
	return seq, err == nil
}
