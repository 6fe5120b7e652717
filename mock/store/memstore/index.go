package memstore

import (
	"sync"
	"sync/atomic"

	"github.com/bjpay/bjpay-sandbox/mock/delivery"
	"github.com/bjpay/bjpay-sandbox/mock/store"
)

// numberIndex finds transactions by the sequence number in their
// transaction number, which is also the order they were created in: lists
// walk it newest first, a page at a time. Beside each transaction it keeps
// what the store knows of it besides the transaction itself (a slot).
// Slots come in chunks of chunkSlots, allocated as the numbers reach them,
// never copied, and dropped once every transaction in them is gone, so
// evicted payments leave nothing behind in the index.
type numberIndex struct {
	mu     sync.RWMutex
	chunks []*indexChunk // chunks[i] holds sequence numbers i*chunkSlots to (i+1)*chunkSlots-1
	top    uint64        // the highest sequence number put
}

const chunkSlots = 4096

type indexChunk struct {
	slots [chunkSlots]slot
	live  int // slots holding a transaction
}

// slot is one transaction's place in the index. tx is written and read
// under the index's lock. The counters change atomically while the
// transaction's shard lock is held (for reading at least), so an eviction,
// which holds it for writing, sees them settled.
type slot struct {
	tx *store.Transaction
	// first is the journal position of its first attempt; 0 when none.
	first atomic.Uint64
	// pending counts its deliveries committed and not finished: while
	// there are any, it is not evicted.
	pending atomic.Int32
	// notes holds the attempts recorded for it (the low 28 bits) and the
	// outcome of the latest (the high 4 bits: its index in
	// delivery.Outcomes, plus 1).
	notes atomic.Uint32
}

const notesCount = 1<<28 - 1

// noteAttempt counts an attempt with outcome o (an index in
// delivery.Outcomes).
func (sl *slot) noteAttempt(o int) {
	for {
		v := sl.notes.Load()
		n := min(v&notesCount+1, notesCount)
		if sl.notes.CompareAndSwap(v, uint32(o+1)<<28|n) {
			return
		}
	}
}

// notified reads the slot's journal summary.
func (sl *slot) notified() store.Notified {
	v := sl.notes.Load()
	n := store.Notified{Attempts: int(v & notesCount)}
	if o := int(v>>28) - 1; o >= 0 && o < len(delivery.Outcomes) {
		n.Last = delivery.Outcomes[o]
	}
	return n
}

// finishDelivery counts one of its deliveries finished and reports
// whether none is pending any more. The count never goes below zero: a
// delivery committed before the transaction was (re)loaded finishes too.
func (sl *slot) finishDelivery() bool {
	for {
		v := sl.pending.Load()
		if v <= 0 {
			return true
		}
		if sl.pending.CompareAndSwap(v, v-1) {
			return v == 1
		}
	}
}

func (x *numberIndex) put(seq uint64, tx *store.Transaction) {
	c, i := seq/chunkSlots, seq%chunkSlots
	x.mu.Lock()
	for uint64(len(x.chunks)) <= c {
		x.chunks = append(x.chunks, nil)
	}
	if x.chunks[c] == nil {
		x.chunks[c] = new(indexChunk)
	}
	ch := x.chunks[c]
	if ch.slots[i].tx == nil {
		ch.live++
	}
	ch.slots[i].tx = tx
	x.top = max(x.top, seq)
	x.mu.Unlock()
}

// drop empties seq's slot if it holds tx, and the chunk once it holds
// nothing.
func (x *numberIndex) drop(seq uint64, tx *store.Transaction) {
	c, i := seq/chunkSlots, seq%chunkSlots
	x.mu.Lock()
	defer x.mu.Unlock()
	if c >= uint64(len(x.chunks)) || x.chunks[c] == nil || x.chunks[c].slots[i].tx != tx {
		return
	}
	ch := x.chunks[c]
	sl := &ch.slots[i]
	sl.tx = nil
	sl.first.Store(0)
	sl.pending.Store(0)
	sl.notes.Store(0)
	if ch.live--; ch.live == 0 {
		x.chunks[c] = nil
	}
}

func (x *numberIndex) get(seq uint64) *store.Transaction {
	c, i := seq/chunkSlots, seq%chunkSlots
	x.mu.RLock()
	defer x.mu.RUnlock()
	if c >= uint64(len(x.chunks)) || x.chunks[c] == nil {
		return nil
	}
	return x.chunks[c].slots[i].tx
}

// slot returns seq's slot, nil when its chunk is gone. The slot stays
// usable after the lock is released: chunks never move.
func (x *numberIndex) slot(seq uint64) *slot {
	c, i := seq/chunkSlots, seq%chunkSlots
	x.mu.RLock()
	defer x.mu.RUnlock()
	if c >= uint64(len(x.chunks)) || x.chunks[c] == nil {
		return nil
	}
	return &x.chunks[c].slots[i]
}

// held is a transaction found in the index, with its sequence number.
type held struct {
	seq uint64
	tx  *store.Transaction
}

// below fills buf with the transactions numbered below seq, highest first,
// and returns it; fewer than cap(buf) means there are no more. Empty chunks
// are skipped whole.
func (x *numberIndex) below(seq uint64, buf []held) []held {
	buf = buf[:0]
	x.mu.RLock()
	defer x.mu.RUnlock()
	seq = min(seq, x.top+1)
	for seq > 0 && len(buf) < cap(buf) {
		seq--
		c, i := seq/chunkSlots, seq%chunkSlots
		if c >= uint64(len(x.chunks)) { // cleared by a reset
			seq = uint64(len(x.chunks)) * chunkSlots
			continue
		}
		ch := x.chunks[c]
		if ch == nil {
			seq -= i // to the last number of the chunk before
			continue
		}
		if tx := ch.slots[i].tx; tx != nil {
			buf = append(buf, held{seq, tx})
		}
	}
	return buf
}

// clear forgets every entry; numbers go on.
func (x *numberIndex) clear() {
	x.mu.Lock()
	x.chunks = nil
	x.mu.Unlock()
}
