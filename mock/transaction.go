package mock

import (
	"sort"
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

// store holds transactions in memory, keyed by owner and reference
// (references are unique per merchant, not globally). Safe for concurrent
// use; it hands out copies so callers never share mutable state.
type store struct {
	mu       sync.RWMutex
	txs      map[storeKey]*Transaction
	byNumber map[string]storeKey // transactionNumber → key, for the hosted page
	counts   map[string]int      // transactions by status, kept as they change
	changed  func()              // called after every change, outside the lock
}

type storeKey struct{ clientID, ref string }

func newStore(changed func()) *store {
	return &store{txs: make(map[storeKey]*Transaction), byNumber: make(map[string]storeKey), counts: map[string]int{}, changed: changed}
}

// exists reports whether the merchant already used ref.
func (s *store) exists(clientID, ref string) bool {
	s.mu.RLock()
	_, ok := s.txs[storeKey{clientID, ref}]
	s.mu.RUnlock()
	return ok
}

// insert adds tx unless its reference is already taken; it reports whether
// it did. The check and the insert are one step, so two concurrent creates
// with the same reference cannot both succeed.
func (s *store) insert(tx *Transaction) bool {
	k := storeKey{tx.ClientID, tx.ReferenceNumber}
	s.mu.Lock()
	if _, ok := s.txs[k]; ok {
		s.mu.Unlock()
		return false
	}
	s.txs[k] = tx
	s.byNumber[tx.TransactionNumber] = k
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
	t, found := s.txs[storeKey{clientID, ref}]
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
	for _, t := range s.txs {
		if keep(t) {
			out = append(out, *t)
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

// reset forgets every transaction.
func (s *store) reset() {
	s.mu.Lock()
	s.txs = make(map[storeKey]*Transaction)
	s.byNumber = make(map[string]storeKey)
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
	tx, ok := s.txs[storeKey{clientID, ref}]
	if !ok {
		return Transaction{}, false
	}
	return *tx, true
}

// byTransactionNumber returns a copy of the transaction with that number.
func (s *store) byTransactionNumber(number string) (Transaction, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, ok := s.byNumber[number]
	if !ok {
		return Transaction{}, false
	}
	return *s.txs[k], true
}
