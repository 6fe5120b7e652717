package memstore

import (
	"encoding/binary"
	"slices"
	"sync/atomic"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/delivery"
	"github.com/bjpay/bjpay-sandbox/mock/store"
)

// A held payment is a rec: a fixed-size record without a pointer, in
// chunks the garbage collector never scans, however many payments are
// held. Its own strings (reference, customer, URLs, destination, items)
// are bytes in its shard's arena; those it shares with every other
// payment (client id, channel, status, scenario, delivery policy, time
// zones) are indexes into its shard's tables. A Transaction is made from
// it only when one is read.
type rec struct {
	seq       uint64 // its sequence number; 0 in a free record
	expiredAt stamp
	createdAt stamp
	paidAt    stamp // when flags has paid
	amount    int64
	fee       int64
	received  int64
	text      textRef
	client    uint32 // in the shard's strs
	code      uint32 // PaymentCode, in strs
	name      uint32 // PaymentName, in strs
	destType  uint32 // PaymentDestType, in strs
	scenario  uint32 // in strs
	policy    uint32 // in the shard's policies
	status    uint8  // in store.Statuses
	flags     uint8

	// What the store knows of it besides the transaction. The counters
	// change atomically while its shard's lock is held (for reading at
	// least), so an eviction, which holds it for writing, sees them
	// settled.
	first   atomic.Uint64 // the journal position of its first attempt; 0 when none
	pending atomic.Int32  // its deliveries committed and not finished: while any, it is not evicted
	notes   atomic.Uint32 // attempts recorded (the low 28 bits), the latest's outcome (the high 4: index in delivery.Outcomes + 1)
}

const (
	paid     uint8 = 1 << iota // PaidAt is not nil
	hasItems                   // Items is not nil
	// numbered: its TransactionNumber is store.Number(CreatedAt, seq),
	// as the sandbox makes them, and its text holds none.
	numbered
)

// stamp is a time.Time without its pointer: the instant, and the zone it
// is shown in, an index in the shard's zones.
type stamp struct {
	sec  int64
	nsec uint32
	zone uint32
}

// textRef is where a record's text lies in its shard's arena.
type textRef struct{ chunk, off, n uint32 }

const notesCount = 1<<28 - 1

// noteAttempt counts an attempt with outcome o (an index in
// delivery.Outcomes).
func (r *rec) noteAttempt(o int) {
	for {
		v := r.notes.Load()
		n := min(v&notesCount+1, notesCount)
		if r.notes.CompareAndSwap(v, uint32(o+1)<<28|n) {
			return
		}
	}
}

// notified reads the record's journal summary.
func (r *rec) notified() store.Notified {
	v := r.notes.Load()
	n := store.Notified{Attempts: int(v & notesCount)}
	if o := int(v>>28) - 1; o >= 0 && o < len(delivery.Outcomes) {
		n.Last = delivery.Outcomes[o]
	}
	return n
}

// finishDelivery counts one of its deliveries finished and reports
// whether none is pending any more. The count never goes below zero: a
// delivery committed before the transaction was (re)loaded finishes too.
func (r *rec) finishDelivery() bool {
	for {
		v := r.pending.Load()
		if v <= 0 {
			return true
		}
		if r.pending.CompareAndSwap(v, v-1) {
			return v == 1
		}
	}
}

func (r *rec) statusName() string { return store.Statuses[r.status] }

// records holds a shard's records in chunks that never move, so a *rec
// stays valid while the shard's lock is held, and reuses freed ones.
type records struct {
	chunks []*[recChunk]rec
	free   []uint32
	n      uint32 // records ever used
}

const recChunk = 1024

func (rs *records) at(i uint32) *rec { return &rs.chunks[i/recChunk][i%recChunk] }

// alloc returns a free record and its index.
func (rs *records) alloc() (uint32, *rec) {
	if n := len(rs.free); n > 0 {
		i := rs.free[n-1]
		rs.free = rs.free[:n-1]
		return i, rs.at(i)
	}
	i := rs.n
	rs.n++
	if int(i/recChunk) == len(rs.chunks) {
		rs.chunks = append(rs.chunks, new([recChunk]rec))
	}
	return i, rs.at(i)
}

// release frees record i. Chunks are kept: a shard that held a million
// payments once keeps their records' memory (about 150 bytes each) for
// the next ones.
func (rs *records) release(i uint32) {
	r := rs.at(i)
	r.seq = 0
	r.first.Store(0)
	r.pending.Store(0)
	r.notes.Store(0)
	rs.free = append(rs.free, i)
}

// arena holds the records' text in chunks of arenaChunk bytes, written
// once and never changed: a text is appended, read, and dropped with its
// record. A chunk is freed once all its texts are dropped; when more than
// half of what the chunks hold is dropped text (a few payments that stay
// PENDING keep their chunks), the shard copies what lives into new ones.
type arena struct {
	chunks [][]byte // nil: free, its index in free
	live   []int    // bytes of live text in each chunk
	free   []uint32
	cur    int // the chunk being filled; -1 when none
	size   int // bytes the chunks hold
	used   int // bytes of live text
}

const arenaChunk = 16 << 10

func (a *arena) reset() { *a = arena{cur: -1} }

// alloc reserves n bytes for a text and returns where they are, empty
// with room for n.
func (a *arena) alloc(n int) (textRef, []byte) {
	if a.cur < 0 || len(a.chunks[a.cur])+n > cap(a.chunks[a.cur]) {
		old := a.cur
		a.cur = a.newChunk(max(n, arenaChunk))
		if old >= 0 && a.live[old] == 0 {
			a.release(uint32(old))
		}
	}
	c := a.chunks[a.cur]
	off := len(c)
	a.chunks[a.cur] = c[:off+n]
	a.live[a.cur] += n
	a.used += n
	return textRef{uint32(a.cur), uint32(off), uint32(n)}, c[off : off : off+n]
}

func (a *arena) newChunk(size int) int {
	c := make([]byte, 0, size)
	a.size += size
	if n := len(a.free); n > 0 {
		i := a.free[n-1]
		a.free = a.free[:n-1]
		a.chunks[i], a.live[i] = c, 0
		return int(i)
	}
	a.chunks = append(a.chunks, c)
	a.live = append(a.live, 0)
	return len(a.chunks) - 1
}

func (a *arena) bytes(t textRef) []byte { return a.chunks[t.chunk][t.off : t.off+t.n] }

// drop frees t's bytes, and its chunk once nothing in it lives.
func (a *arena) drop(t textRef) {
	a.live[t.chunk] -= int(t.n)
	a.used -= int(t.n)
	if a.live[t.chunk] == 0 && int(t.chunk) != a.cur {
		a.release(t.chunk)
	}
}

func (a *arena) release(c uint32) {
	a.size -= cap(a.chunks[c])
	a.chunks[c] = nil
	a.free = append(a.free, c)
}

// wasteful reports whether most of what the arena holds is dropped text.
func (a *arena) wasteful() bool { return a.size > 4*arenaChunk && a.size-a.used > a.size/2+arenaChunk }

// The text of a record: its strings, each with its length (a uvarint) in
// front, the reference first (look-ups compare it); then, when it has
// items, their count and each item's name, quantity and amount.
func textFields(tx *store.Transaction) [9]*string {
	return [...]*string{&tx.ReferenceNumber, &tx.TransactionNumber, &tx.CustomerName, &tx.CustomerEmail,
		&tx.CustomerPhoneNumber, &tx.FinishNotifyURL, &tx.FinishReturnURL, &tx.PaymentDest, &tx.PaymentDestName}
}

func textSize(tx *store.Transaction) int {
	n := 0
	for _, f := range textFields(tx) {
		n += uvarintLen(uint64(len(*f))) + len(*f)
	}
	if tx.Items != nil {
		n += uvarintLen(uint64(len(tx.Items)))
		for _, it := range tx.Items {
			n += uvarintLen(uint64(len(it.Name))) + len(it.Name) + varintLen(it.Quantity) + varintLen(it.Amount)
		}
	}
	return n
}

func appendText(b []byte, tx *store.Transaction) []byte {
	for _, f := range textFields(tx) {
		b = binary.AppendUvarint(b, uint64(len(*f)))
		b = append(b, *f...)
	}
	if tx.Items != nil {
		b = binary.AppendUvarint(b, uint64(len(tx.Items)))
		for _, it := range tx.Items {
			b = binary.AppendUvarint(b, uint64(len(it.Name)))
			b = append(b, it.Name...)
			b = binary.AppendVarint(b, it.Quantity)
			b = binary.AppendVarint(b, it.Amount)
		}
	}
	return b
}

// varintLen is the length of binary.AppendVarint's encoding of v.
func varintLen(v int64) int { return uvarintLen(uint64(v<<1) ^ uint64(v>>63)) }

func uvarintLen(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}

// readText fills tx's text fields from b, the text as appendText wrote
// it: its strings share one allocation.
func readText(b []byte, items bool, tx *store.Transaction) {
	s := string(b)
	i := 0
	next := func() string {
		n, k := binary.Uvarint(b[i:])
		i += k
		v := s[i : i+int(n)]
		i += int(n)
		return v
	}
	for _, f := range textFields(tx) {
		*f = next()
	}
	if !items {
		return
	}
	n, k := binary.Uvarint(b[i:])
	i += k
	tx.Items = make([]store.Item, n)
	for j := range tx.Items {
		it := &tx.Items[j]
		it.Name = next()
		q, k := binary.Varint(b[i:])
		i += k
		a, k := binary.Varint(b[i:])
		i += k
		it.Quantity, it.Amount = q, a
	}
}

// reference reads a record's reference from its text, without copying.
func reference(b []byte) []byte {
	n, k := binary.Uvarint(b)
	return b[k : k+int(n)]
}

// tables are the values a shard's records share, each kept once.
type tables struct {
	strs     []string
	strIdx   map[string]uint32
	policies []delivery.Policy
	zones    []zone
}

type zone struct {
	name string
	off  int
	loc  *time.Location
}

func (t *tables) str(s string) uint32 {
	if i, ok := t.strIdx[s]; ok {
		return i
	}
	if t.strIdx == nil {
		t.strIdx = map[string]uint32{}
	}
	i := uint32(len(t.strs))
	t.strs = append(t.strs, s)
	t.strIdx[s] = i
	return i
}

func (t *tables) policy(p delivery.Policy) uint32 {
	for i := range t.policies {
		if samePolicy(&t.policies[i], &p) {
			return uint32(i)
		}
	}
	t.policies = append(t.policies, p)
	return uint32(len(t.policies) - 1)
}

func samePolicy(a, b *delivery.Policy) bool {
	return a.Timeout == b.Timeout && a.Delay == b.Delay && a.Duplicates == b.Duplicates && a.Variant == b.Variant &&
		a.TimeOffset == b.TimeOffset && slices.Equal(a.Retries, b.Retries) && (a.Retries == nil) == (b.Retries == nil)
}

// stamp turns t into a stamp. A time comes back in a location of the
// same name and offset: shown the same, whichever it was.
func (t *tables) stamp(tm time.Time) stamp {
	name, off := tm.Zone()
	i := -1
	for j := range t.zones {
		if z := &t.zones[j]; z.off == off && z.name == name {
			i = j
			break
		}
	}
	if i < 0 {
		loc := time.UTC
		if name != "UTC" || off != 0 {
			loc = time.FixedZone(name, off)
		}
		t.zones = append(t.zones, zone{name, off, loc})
		i = len(t.zones) - 1
	}
	return stamp{sec: tm.Unix(), nsec: uint32(tm.Nanosecond()), zone: uint32(i)}
}

func (t *tables) time(s stamp) time.Time {
	return time.Unix(s.sec, int64(s.nsec)).In(t.zones[s.zone].loc)
}

// write stores tx in r, its text in new bytes of the arena (the caller
// drops the old ones, if any).
func (sh *shard) write(r *rec, seq uint64, tx *store.Transaction) {
	sh.writeFields(r, seq, tx)
	r.flags &^= numbered
	var buf [40]byte
	if string(store.AppendNumber(buf[:0], tx.CreatedAt, seq)) == tx.TransactionNumber {
		r.flags |= numbered
		t := *tx
		t.TransactionNumber = "" // made again when read
		tx = &t
	}
	ref, b := sh.arena.alloc(textSize(tx))
	appendText(b, tx)
	r.text = ref
}

// writeFields stores all of tx in r but its text.
func (sh *shard) writeFields(r *rec, seq uint64, tx *store.Transaction) {
	t := &sh.tables
	r.seq = seq
	r.expiredAt, r.createdAt = t.stamp(tx.ExpiredAt), t.stamp(tx.CreatedAt)
	r.flags &= numbered // of the text, which stays
	if tx.PaidAt != nil {
		r.paidAt = t.stamp(*tx.PaidAt)
		r.flags |= paid
	}
	if tx.Items != nil {
		r.flags |= hasItems
	}
	r.amount, r.fee, r.received = tx.TotalAmount, tx.Fee, tx.TotalReceived
	r.client, r.code, r.name, r.destType, r.scenario = t.str(tx.ClientID), t.str(tx.PaymentCode), t.str(tx.PaymentName),
		t.str(tx.PaymentDestType), t.str(tx.Scenario)
	r.policy = t.policy(tx.Delivery)
	r.status = uint8(statusIndex(tx.Status))
}

// sameText reports whether a and b have the same text.
func sameText(a, b *store.Transaction) bool {
	af, bf := textFields(a), textFields(b)
	for i := range af {
		if *af[i] != *bf[i] {
			return false
		}
	}
	return slices.Equal(a.Items, b.Items) && (a.Items == nil) == (b.Items == nil)
}

// read makes the transaction r holds.
func (sh *shard) read(r *rec) store.Transaction {
	t := &sh.tables
	tx := store.Transaction{
		PaymentCode:     t.strs[r.code],
		PaymentName:     t.strs[r.name],
		ExpiredAt:       t.time(r.expiredAt),
		TotalAmount:     r.amount,
		Fee:             r.fee,
		TotalReceived:   r.received,
		PaymentDestType: t.strs[r.destType],
		Status:          r.statusName(),
		CreatedAt:       t.time(r.createdAt),
		ClientID:        t.strs[r.client],
		Scenario:        t.strs[r.scenario],
		Delivery:        t.policies[r.policy],
	}
	if r.flags&paid != 0 {
		p := t.time(r.paidAt)
		tx.PaidAt = &p
	}
	readText(sh.arena.bytes(r.text), r.flags&hasItems != 0, &tx)
	if r.flags&numbered != 0 {
		tx.TransactionNumber = store.Number(tx.CreatedAt, r.seq)
	}
	return tx
}

// compact copies the live text of every record into new chunks, when
// most of what the arena holds was dropped: O(what lives), once per as
// many bytes dropped.
func (sh *shard) compact() {
	old := sh.arena
	sh.arena.reset()
	for c := range sh.recs.chunks {
		for i := range sh.recs.chunks[c] {
			r := &sh.recs.chunks[c][i]
			if r.seq == 0 {
				continue
			}
			b := old.bytes(r.text)
			ref, dst := sh.arena.alloc(len(b))
			copy(dst[:len(b)], b)
			r.text = ref
		}
	}
}
