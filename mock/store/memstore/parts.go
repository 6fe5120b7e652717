package memstore

import (
	"fmt"
	"strings"
	"sync"

	"github.com/bjpay/bjpay-sandbox/mock/delivery"
	"github.com/bjpay/bjpay-sandbox/mock/store"
)

func errBadNumber(number string) error {
	return fmt.Errorf("transaction number %q carries no sequence number", number)
}

// numberIndex finds transactions by the sequence number in their
// transaction number: chunks of indexChunk pointers, allocated as the
// numbers reach them and never copied.
type numberIndex struct {
	mu     sync.RWMutex
	chunks []*[indexChunk]*store.Transaction
}

const indexChunk = 4096

func (x *numberIndex) put(seq uint64, tx *store.Transaction) {
	c, i := seq/indexChunk, seq%indexChunk
	x.mu.Lock()
	for uint64(len(x.chunks)) <= c {
		x.chunks = append(x.chunks, nil)
	}
	if x.chunks[c] == nil {
		x.chunks[c] = new([indexChunk]*store.Transaction)
	}
	x.chunks[c][i] = tx
	x.mu.Unlock()
}

func (x *numberIndex) get(seq uint64) *store.Transaction {
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

// journal keeps every attempt, in the order they were recorded. Attempts
// are kept in chunks of journalChunk: appending never copies the journal,
// so no attempt waits for a copy of a hundred thousand others under the
// lock.
type journal struct {
	mu       sync.RWMutex
	attempts [][]delivery.Attempt
	outcomes map[string]int // attempts by outcome
}

const journalChunk = 1024

func (j *journal) add(a delivery.Attempt) {
	j.mu.Lock()
	j.appendLocked(a)
	j.mu.Unlock()
}

// appendLocked adds a at the end; mu is held.
func (j *journal) appendLocked(a delivery.Attempt) {
	if n := len(j.attempts); n == 0 || len(j.attempts[n-1]) == journalChunk {
		j.attempts = append(j.attempts, make([]delivery.Attempt, 0, journalChunk))
	}
	last := &j.attempts[len(j.attempts)-1]
	*last = append(*last, a)
	if j.outcomes == nil {
		j.outcomes = map[string]int{}
	}
	j.outcomes[a.Outcome]++
}

func (j *journal) list(f store.AttemptFilter) []delivery.Attempt {
	j.mu.RLock()
	defer j.mu.RUnlock()
	out := []delivery.Attempt{}
	for _, chunk := range j.attempts {
		for i := range chunk {
			if f.Match(&chunk[i]) {
				out = append(out, chunk[i])
			}
		}
	}
	return out
}

// drop forgets the attempts of one merchant: the rare reset of one
// merchant copies the journal once.
func (j *journal) drop(clientID string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	old := j.attempts
	j.attempts, j.outcomes = nil, nil
	for _, chunk := range old {
		for _, a := range chunk {
			if a.ClientID != clientID {
				j.appendLocked(a)
			}
		}
	}
}

func (j *journal) reset() {
	j.mu.Lock()
	j.attempts, j.outcomes = nil, nil
	j.mu.Unlock()
}

func (j *journal) outcomeCounts() map[string]int {
	j.mu.RLock()
	defer j.mu.RUnlock()
	out := make(map[string]int, len(delivery.Outcomes))
	for _, o := range delivery.Outcomes {
		out[o] = j.outcomes[o]
	}
	return out
}

// pack moves tx's own strings into one allocation: a held payment is then
// a handful of objects for the garbage collector to trace, not a dozen.
// Strings shared with the configuration (channel names, client id) stay
// where they are.
func pack(tx *store.Transaction) {
	var fields [16]*string
	f := append(fields[:0], &tx.TransactionNumber, &tx.ReferenceNumber, &tx.CustomerName, &tx.CustomerEmail,
		&tx.CustomerPhoneNumber, &tx.FinishNotifyURL, &tx.FinishReturnURL, &tx.PaymentDest, &tx.PaymentDestName)
	for i := range tx.Items {
		f = append(f, &tx.Items[i].Name)
	}
	n := 0
	for _, p := range f {
		n += len(*p)
	}
	var b strings.Builder
	b.Grow(n)
	for _, p := range f {
		b.WriteString(*p)
	}
	all := b.String()
	for _, p := range f {
		*p, all = all[:len(*p)], all[len(*p):]
	}
}
