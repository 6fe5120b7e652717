// Package store defines what the sandbox keeps — transactions, the
// merchants made through its control API, the delivery journal and the
// deliveries still pending — and Store, the one interface every storage
// engine implements: memstore (in memory, the default) and boltstore (a
// bbolt file, for a sandbox that survives restarts).
//
// The sandbox reads and changes its state only through Store, so an engine
// is one new package: the lifecycle never asks which one it has.
package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/delivery"
)

// Errors a Store returns, wrapped or as they are; anything else is a
// failure of the engine itself (a full disk, a lost connection).
var (
	// ErrNotFound: no such transaction (or merchant).
	ErrNotFound = errors.New("not found")
	// ErrConflict: the merchant used the reference already, or the client
	// id is taken.
	ErrConflict = errors.New("already exists")
	// ErrBadCursor: a Page's Cursor is not one the store handed out.
	ErrBadCursor = errors.New("not a cursor of this store")
)

// Store keeps the sandbox's state. Implementations are safe for concurrent
// use, hand out copies (a caller never shares mutable state with the
// store), and commit a change before they return nil.
type Store interface {
	// Version counts changes: it moves after every change, for the
	// dashboard's live updates.
	Version() uint64

	// NextSeq returns a transaction sequence number never handed out
	// before, not even before a Reset.
	NextSeq() uint64
	// Used reports whether the merchant used ref already: a quick check
	// before validation goes on; Create decides.
	Used(clientID, ref string) bool
	// Create stores a new transaction, whose number carries a sequence
	// number from NextSeq; ErrConflict when the merchant used its
	// reference already. The store takes tx over.
	Create(ctx context.Context, tx *Transaction) error
	// Get returns the merchant's transaction with reference ref.
	Get(ctx context.Context, clientID, ref string) (Transaction, error)
	// GetByNumber returns the transaction with that transaction number.
	GetByNumber(ctx context.Context, number string) (Transaction, error)
	// List returns the transactions f matches, newest first (the reverse
	// of the order they were created in), a page at a time, and the
	// cursor of the next page: "" after the last. A page costs what it
	// holds and what the filter skips, never what the store holds.
	List(ctx context.Context, f Filter) ([]Transaction, string, error)
	// StatusCounts counts the transactions in each status: every one
	// created since the store was last reset, evicted ones included (in
	// the status they ended in).
	StatusCounts(ctx context.Context) (map[string]int, error)
	// Update runs change on the merchant's transaction ref and commits
	// the result and the deliveries change returns as one unit: both or
	// neither. change returns an error before it modifies anything; that
	// error comes back as it is, with nothing written.
	Update(ctx context.Context, clientID, ref string, change func(*Transaction) ([]delivery.Record, error)) (Transaction, error)

	// AddDeliveries commits the records of deliveries about to be sent
	// (notifies that change no status: resends, ad hoc ones). Like the
	// records Update commits, each keeps its transaction from being
	// evicted until RecordAttempt finishes it.
	AddDeliveries(ctx context.Context, rs []delivery.Record) error
	// Pending returns the deliveries not finished when the store was
	// opened, to send again.
	Pending(ctx context.Context) ([]delivery.Record, error)
	// The journal and pending deliveries, as the notifier writes them.
	delivery.Store
	// Attempts returns the journal's attempts f matches, newest first (the
	// reverse of the order they were recorded in), a page at a time, and
	// the cursor of the next page: "" after the last.
	Attempts(ctx context.Context, f AttemptFilter) ([]delivery.Attempt, string, error)
	// Notified sums up the journal of the merchant's transaction ref, in
	// constant time: for the dashboard's rows.
	Notified(ctx context.Context, clientID, ref string) (Notified, error)
	// OutcomeCounts counts the journal's attempts by outcome: every one
	// recorded since the store was last reset, evicted ones included.
	OutcomeCounts(ctx context.Context) (map[string]int, error)

	// Evict forgets, oldest first, finished transactions (in a terminal
	// status, with no delivery pending) and journal attempts beyond what r
	// keeps, at most batch of each, and returns how many it forgot. A
	// caller evicting a backlog calls it again while it evicts something,
	// so that no lock is held for long.
	Evict(ctx context.Context, r Retention, batch int) (Evicted, error)
	// Usage says what the store holds, and what it evicted since it was
	// last reset.
	Usage(ctx context.Context) (Usage, error)

	// AddMerchant stores a merchant made through the control API;
	// ErrConflict when its client id is taken.
	AddMerchant(ctx context.Context, m Merchant) error
	// Merchant returns the stored merchant with that client id.
	Merchant(ctx context.Context, clientID string) (Merchant, error)
	// Merchants returns every stored merchant.
	Merchants(ctx context.Context) ([]Merchant, error)

	// SetControl stores what the control API set for a merchant,
	// configured or made through the control API (its token, its relay);
	// the zero Control forgets it.
	SetControl(ctx context.Context, clientID string, c Control) error
	// Controls returns every merchant's stored Control, by client id.
	Controls(ctx context.Context) (map[string]Control, error)

	// Reset forgets every transaction, attempt, pending delivery, stored
	// merchant and Control, and what it evicted. Sequence numbers go on,
	// and cursors handed out before find nothing after.
	Reset(ctx context.Context) error
	// ResetMerchant forgets one merchant's transactions, attempts and
	// pending deliveries; the merchant stays.
	ResetMerchant(ctx context.Context, clientID string) error
	// Close releases the engine's resources.
	Close() error
}

// Page asks for one page of a list.
type Page struct {
	// Limit is the most entries a page holds; 0 or less: no limit.
	Limit int
	// Cursor is where the page starts: "" for the newest entry, or the
	// next-page cursor a list returned, which is opaque to the caller.
	Cursor string
}

// Filter selects transactions; empty fields match every one.
type Filter struct {
	ClientID  string
	Status    string
	Reference string // a part of the reference number, in any case
	Page
}

// Match reports whether f selects tx.
func (f *Filter) Match(tx *Transaction) bool {
	return (f.ClientID == "" || tx.ClientID == f.ClientID) && (f.Status == "" || tx.Status == f.Status) &&
		(f.Reference == "" || containsFold(tx.ReferenceNumber, f.Reference))
}

// containsFold reports whether sub is in s, ASCII letters in any case (the
// letters of references), without allocating: a filtered list calls it
// for every transaction it skips.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// AttemptFilter selects journal entries; empty fields match every one.
type AttemptFilter struct {
	ClientID  string
	Reference string // the whole reference number
	Page
}

// Match reports whether f selects a.
func (f *AttemptFilter) Match(a *delivery.Attempt) bool {
	return (f.ClientID == "" || a.ClientID == f.ClientID) && (f.Reference == "" || a.ReferenceNumber == f.Reference)
}

// Notified is what the journal says of one transaction.
type Notified struct {
	// Attempts counts the attempts recorded for it, evicted ones
	// included.
	Attempts int
	// Last is the outcome of the latest attempt; "" when there is none.
	Last string
}

// Retention is what a store keeps; Evict forgets the rest. A zero field
// bounds nothing.
type Retention struct {
	// Age is how long a finished transaction is kept after it finished,
	// and an attempt after it was recorded. Wall time, not sandbox time:
	// moving a sandbox clock must not make history vanish, and wall time
	// is the same for every merchant.
	Age time.Duration
	// MaxTransactions bounds the transactions held. Beyond it, finished
	// ones are evicted, those that finished first first; PENDING ones and
	// those with a delivery pending are never evicted, so they may
	// exceed it.
	MaxTransactions int
	// MaxJournal bounds the attempts held; the oldest are evicted first.
	MaxJournal int
}

// Evicted counts what Evict forgot.
type Evicted struct {
	Transactions int `json:"transactions"`
	Attempts     int `json:"attempts"`
}

// Usage is what a store holds, and what it evicted since its last reset.
type Usage struct {
	Transactions int     // held
	Attempts     int     // held
	Evicted      Evicted // since the last reset
}

// Merchant is a merchant made through the control API, as stored.
type Merchant struct {
	Name         string `json:"name"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
	NotifyURL    string `json:"notifyUrl,omitempty"`
}

// Control is what the control API set for a merchant: its scoped token,
// kept as a digest (the token itself is shown once, when it is made), and
// whether its notifies are relayed to its listener (bjpay-sandbox listen)
// instead of their notify URL.
type Control struct {
	TokenHash string `json:"tokenHash,omitempty"` // hex SHA-256 of the token; "" for none
	Relay     bool   `json:"relay,omitempty"`
}

// Number is the transaction number of the seq-th transaction created on
// date. [sandbox] BJPAY documents no format for transactionNumber; the
// sandbox's is SBX, the creation date and the sequence number, at least
// eight digits: SBX2026112400000042.
func Number(date time.Time, seq uint64) string {
	var buf [40]byte // on the stack: one allocation, the string
	return string(AppendNumber(buf[:0], date, seq))
}

// AppendNumber appends Number(date, seq) to b.
func AppendNumber(b []byte, date time.Time, seq uint64) []byte {
	var num [20]byte
	b = append(b, "SBX"...)
	b = date.AppendFormat(b, "20060102")
	digits := strconv.AppendUint(num[:0], seq, 10)
	for range 8 - len(digits) {
		b = append(b, '0')
	}
	return append(b, digits...)
}

// SeqOf reads the sequence number back from a transaction number.
func SeqOf(number string) (uint64, bool) {
	const prefix = len("SBX20060102")
	if len(number) <= prefix || !strings.HasPrefix(number, "SBX") {
		return 0, false
	}
	seq, err := strconv.ParseUint(number[prefix:], 10, 64)
	return seq, err == nil
}

// Cursors are a letter naming the list and a position in base 36: the
// sequence number of the last transaction of a page, or the journal
// position of the last attempt. The next page starts below it.
const (
	TxCursor      = 't'
	AttemptCursor = 'a'
)

// FormatCursor is the cursor of kind at pos.
func FormatCursor(kind byte, pos uint64) string {
	return string(kind) + strconv.FormatUint(pos, 36)
}

// ParseCursor reads a cursor of kind; "" is the top of the list (the
// highest position).
func ParseCursor(kind byte, c string) (uint64, error) {
	if c == "" {
		return ^uint64(0), nil
	}
	pos, err := strconv.ParseUint(c[1:], 36, 64)
	if c[0] != kind || err != nil || pos == 0 {
		return 0, fmt.Errorf("cursor %q: %w", c, ErrBadCursor)
	}
	return pos, nil
}
