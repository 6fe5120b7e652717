package memstore

import "sync"

// numberIndex finds transactions by the sequence number in their
// transaction number, which is also the order they were created in: lists
// walk it newest first, a page at a time. Beside each number it keeps
// where the transaction's record is (a loc: its shard in the high 4 bits,
// its index there plus one in the low 28; 0 when none). Locs come in
// chunks of chunkSlots, allocated as the numbers reach them, never copied,
// and dropped once every transaction in them is gone, so evicted payments
// leave nothing behind in the index.
type numberIndex struct {
	mu     sync.RWMutex
	chunks []*indexChunk // chunks[i] holds sequence numbers i*chunkSlots to (i+1)*chunkSlots-1
	top    uint64        // the highest sequence number put
}

const chunkSlots = 4096

type indexChunk struct {
	locs [chunkSlots]uint32
	live int // locs not 0
}

// locate is the loc of record i of the shard of hash h.
func locate(h uint64, i uint32) uint32 { return locOf(int(h%shards), i) }

func locOf(shard int, i uint32) uint32 { return uint32(shard)<<28 | (i + 1) }

func (x *numberIndex) put(seq uint64, loc uint32) {
	c, i := seq/chunkSlots, seq%chunkSlots
	x.mu.Lock()
	for uint64(len(x.chunks)) <= c {
		x.chunks = append(x.chunks, nil)
	}
	if x.chunks[c] == nil {
		x.chunks[c] = new(indexChunk)
	}
	ch := x.chunks[c]
	if ch.locs[i] == 0 {
		ch.live++
	}
	ch.locs[i] = loc
	x.top = max(x.top, seq)
	x.mu.Unlock()
}

// drop empties seq's slot if it holds loc, and the chunk once it holds
// nothing.
func (x *numberIndex) drop(seq uint64, loc uint32) {
	c, i := seq/chunkSlots, seq%chunkSlots
	x.mu.Lock()
	defer x.mu.Unlock()
	if c >= uint64(len(x.chunks)) || x.chunks[c] == nil || x.chunks[c].locs[i] != loc {
		return
	}
	ch := x.chunks[c]
	ch.locs[i] = 0
	if ch.live--; ch.live == 0 {
		x.chunks[c] = nil
	}
}

// get returns seq's loc, 0 when none.
func (x *numberIndex) get(seq uint64) uint32 {
	c, i := seq/chunkSlots, seq%chunkSlots
	x.mu.RLock()
	defer x.mu.RUnlock()
	if c >= uint64(len(x.chunks)) || x.chunks[c] == nil {
		return 0
	}
	return x.chunks[c].locs[i]
}

// below fills buf with the sequence numbers of the transactions below seq, highest first,
// and returns it; fewer than cap(buf) means there are no more. Empty chunks
// are skipped whole.
func (x *numberIndex) below(seq uint64, buf []uint64) []uint64 {
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
		if ch.locs[i] != 0 {
			buf = append(buf, seq)
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
