package mock

import (
	"slices"
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
// It is laid out for a million payments: one map per merchant keyed by
// the reference alone, and the transaction-number index is a slice by
// sequence number rather than a second map (see PERFORMANCE.md).
type store struct {
	mu      sync.RWMutex
	txs     map[string]map[string]*Transaction // clientId → referenceNumber → transaction
	bySeq   []*Transaction                     // by the sequence number in transactionNumber; nil where none
	counts  map[string]int                     // transactions by status, kept as they change
	changed func()                             // called after every change, outside the lock
}

type storeKey struct{ clientID, ref string }

func newStore(changed func()) *store {
	return &store{txs: map[string]map[string]*Transaction{}, counts: map[string]int{}, changed: changed}
}

// exists reports whether the merchant already used ref.
func (s *store) exists(clientID, ref string) bool {
	s.mu.RLock()
	_, ok := s.txs[clientID][ref]
	s.mu.RUnlock()
	return ok
}

// insert adds tx, whose transaction number carries seq, unless its
// reference is already taken; it reports whether it did. The check and the
// insert are one step, so two concurrent creates with the same reference
// cannot both succeed.
func (s *store) insert(tx *Transaction, seq uint64) bool {
	s.mu.Lock()
	refs := s.txs[tx.ClientID]
	if refs == nil {
		refs = map[string]*Transaction{}
		s.txs[tx.ClientID] = refs
	}
	if _, ok := refs[tx.ReferenceNumber]; ok {
		s.mu.Unlock()
		return false
	}
	refs[tx.ReferenceNumber] = tx
	if i := int(seq); i >= len(s.bySeq) {
		s.bySeq = slices.Grow(s.bySeq, i+1-len(s.bySeq))[:i+1]
	}
	s.bySeq[seq] = tx
	s.counts[tx.Status]++
	s.mu.Unlock()
	s.changed()
	return true
}

// update runs fn on the merchant's transaction under the write lock and
// returns a copy of the result; ok is false when there is no such
// transaction or fn reports no change.
func (s *store) update(clientID, ref string, fn func(*Transaction) bool) (tx Transaction, ok bool) {
	s.mu.Lock()
	t, found := s.txs[clientID][ref]
	if !found {
		s.mu.Unlock()
		return Transaction{}, false
	}
	before := t.Status
	changed := fn(t)
	if t.Status != before {
		s.counts[before]--
		s.counts[t.Status]++
	}
	tx = *t
	s.mu.Unlock()
	if changed {
		s.changed()
	}
	return tx, changed
}

// list returns copies of the transactions keep accepts, newest first.
func (s *store) list(keep func(*Transaction) bool) []Transaction {
	s.mu.RLock()
	out := []Transaction{}
	for _, refs := range s.txs {
		for _, t := range refs {
			if keep(t) {
				out = append(out, *t)
			}
		}
	}
	s.mu.RUnlock()
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
	s.mu.Lock()
	s.txs = map[string]map[string]*Transaction{}
	clear(s.bySeq)
	s.counts = map[string]int{}
	s.mu.Unlock()
	s.changed()
}

// statusCounts returns how many transactions there are in each status.
func (s *store) statusCounts() map[string]int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make(map[string]int, 4)
	for _, st := range []string{StatusPending, StatusPaid, StatusFailed, StatusExpired} {
		out[st] = s.counts[st]
	}
	return out
}

// get returns a copy of the merchant's transaction with reference ref. The
// copy shares Items, which is never changed after creation.
func (s *store) get(clientID, ref string) (Transaction, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	tx, ok := s.txs[clientID][ref]
	if !ok {
		return Transaction{}, false
	}
	return *tx, true
}

// holds reports whether tx (the stored pointer) is still in the store: not
// forgotten by a reset.
func (s *store) holds(tx *Transaction) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.txs[tx.ClientID][tx.ReferenceNumber] == tx
}

// byTransactionNumber returns a copy of the transaction with that number.
func (s *store) byTransactionNumber(number string) (Transaction, bool) {
	seq, ok := seqOf(number)
	if !ok {
		return Transaction{}, false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if seq >= uint64(len(s.bySeq)) || s.bySeq[seq] == nil || s.bySeq[seq].TransactionNumber != number {
		return Transaction{}, false
	}
	return *s.bySeq[seq], true
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
