package memstore

import (
	"context"
	"encoding/binary"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/delivery"
	"github.com/bjpay/bjpay-sandbox/mock/notify"
	"github.com/bjpay/bjpay-sandbox/mock/store"
)

// journal keeps the attempts in the order they were recorded, each at a
// position (1, 2, ...) that never changes: lists walk it down from the
// newest, and eviction takes from the oldest. Attempts are kept in chunks
// of journalChunk: appending never copies the journal, so no attempt waits
// for a copy of a hundred thousand others under the lock, and a chunk
// whose attempts were all evicted is dropped.
type journal struct {
	mu       sync.RWMutex
	chunks   []*[journalChunk]entry // chunks[i] holds positions base+i*journalChunk onwards
	base     uint64                 // a multiple of journalChunk
	head     uint64                 // the oldest position held
	next     uint64                 // the position of the next attempt
	outcomes map[string]int         // attempts recorded since the last reset, evicted ones included
	evicted  map[string]int         // attempts evicted since the last reset, by outcome
}

const journalChunk = 1024

// entry is an attempt as the journal keeps it, about half the memory of a
// delivery.Attempt with its header map: its own strings in one allocation
// (the headers among them), times as integers, and the body shared with
// the other attempts of its delivery. Its strings are copies, never parts
// of the transaction's: evicting the transaction frees its memory.
type entry struct {
	key      uint64 // a durable store's key for it; its position otherwise
	stamp    int64  // when it was recorded, wall time in Unix nanoseconds (Retention.Age)
	sentAt   int64  // Attempt.SentAt, Unix seconds
	next     int64  // Attempt.NextAttemptAt, Unix seconds
	sentNs   int32
	nextNs   int32
	text     string    // deliveryId, referenceNumber, url, error, responseBody, then the headers
	ends     [5]uint32 // where each field of text ends
	body     string
	clientID string
	status   string
	variant  notify.Variant
	outcome  string
	latency  float64
	number   int32
	response int32
	flags    uint8
}

const (
	hasHeaders uint8 = 1 << iota // RequestHeaders was not nil
	hasNext                      // NextAttemptAt was not nil
	hasSent                      // SentAt was not zero
	dropped                      // its merchant was reset: a hole kept until evicted
	relayed                      // Attempt.Relayed
)

// newEntry packs a, recorded at stamp.
func newEntry(a *delivery.Attempt, key uint64, stamp time.Time) entry {
	fields := [...]string{a.DeliveryID, a.ReferenceNumber, a.URL, a.Error, a.ResponseBody}
	n := 0
	for _, f := range fields {
		n += len(f)
	}
	for k, v := range a.RequestHeaders {
		n += 2*binary.MaxVarintLen32 + len(k) + len(v)
	}
	var b strings.Builder
	b.Grow(n)
	e := entry{key: key, stamp: stamp.UnixNano(), body: a.RequestBody, clientID: a.ClientID, status: intern(a.Status),
		variant: a.Variant, outcome: intern(a.Outcome), latency: a.LatencyMs, number: int32(a.Attempt), response: int32(a.ResponseStatus)}
	for i, f := range fields {
		b.WriteString(f)
		e.ends[i] = uint32(b.Len())
	}
	if a.RequestHeaders != nil {
		e.flags |= hasHeaders
		var l [binary.MaxVarintLen32]byte
		for k, v := range a.RequestHeaders {
			b.Write(binary.AppendUvarint(l[:0], uint64(len(k))))
			b.WriteString(k)
			b.Write(binary.AppendUvarint(l[:0], uint64(len(v))))
			b.WriteString(v)
		}
	}
	e.text = b.String()
	if !a.SentAt.IsZero() {
		e.flags |= hasSent
		e.sentAt, e.sentNs = a.SentAt.Unix(), int32(a.SentAt.Nanosecond())
	}
	if a.NextAttemptAt != nil {
		e.flags |= hasNext
		e.next, e.nextNs = a.NextAttemptAt.Unix(), int32(a.NextAttemptAt.Nanosecond())
	}
	if a.Relayed {
		e.flags |= relayed
	}
	return e
}

// intern returns the constant for a status or an outcome, so that one
// decoded from a file shares its memory with every other.
func intern(s string) string {
	for _, c := range store.Statuses {
		if s == c {
			return c
		}
	}
	for _, c := range delivery.Outcomes {
		if s == c {
			return c
		}
	}
	return s
}

func (e *entry) field(i int) string {
	var start uint32
	if i > 0 {
		start = e.ends[i-1]
	}
	return e.text[start:e.ends[i]]
}

// attempt unpacks e. Times come back in WIB.
func (e *entry) attempt() delivery.Attempt {
	a := delivery.Attempt{DeliveryID: e.field(0), ReferenceNumber: e.field(1), URL: e.field(2), Error: e.field(3), ResponseBody: e.field(4),
		Attempt: int(e.number), ClientID: e.clientID, Status: e.status, Variant: e.variant, RequestBody: e.body,
		ResponseStatus: int(e.response), LatencyMs: e.latency, Outcome: e.outcome, Relayed: e.flags&relayed != 0}
	if e.flags&hasHeaders != 0 {
		a.RequestHeaders = map[string]string{}
		rest := e.text[e.ends[len(e.ends)-1]:]
		for rest != "" {
			k, r := cut(rest)
			v, r := cut(r)
			a.RequestHeaders[k], rest = v, r
		}
	}
	if e.flags&hasSent != 0 {
		a.SentAt = time.Unix(e.sentAt, int64(e.sentNs)).In(notify.WIB)
	}
	if e.flags&hasNext != 0 {
		t := time.Unix(e.next, int64(e.nextNs)).In(notify.WIB)
		a.NextAttemptAt = &t
	}
	return a
}

// cut reads a string written with its length (a uvarint) in front.
func cut(s string) (string, string) {
	n, shift, i := 0, 0, 0
	for i < len(s) {
		b := s[i]
		i++
		n |= int(b&0x7f) << shift
		if b < 0x80 {
			break
		}
		shift += 7
	}
	return s[i : i+n], s[i+n:]
}

func (j *journal) at(pos uint64) *entry {
	return &j.chunks[(pos-j.base)/journalChunk][(pos-j.base)%journalChunk]
}

// add appends e (whose key, when zero, becomes its position) and returns
// its position.
func (j *journal) add(e entry) uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	pos := j.next
	j.next++
	if c := int((pos - j.base) / journalChunk); c == len(j.chunks) {
		j.chunks = append(j.chunks, new([journalChunk]entry))
	}
	if e.key == 0 {
		e.key = pos
	}
	*j.at(pos) = e
	j.outcomes[e.outcome]++
	return pos
}

// nextPosition is the position the next attempt will have.
func (j *journal) nextPosition() uint64 {
	j.mu.RLock()
	defer j.mu.RUnlock()
	return j.next
}

// list returns the entries f matches at positions below from and from
// stop up, newest first: at most limit (0: no limit), and whether there
// are more.
func (j *journal) list(f *store.AttemptFilter, from, stop uint64) ([]entry, []uint64, bool) {
	j.mu.RLock()
	defer j.mu.RUnlock()
	var out []entry
	var pos []uint64
	for p := min(from, j.next); p > max(j.head, stop, 1); {
		p--
		e := j.at(p)
		if e.flags&dropped == 0 && (f.ClientID == "" || e.clientID == f.ClientID) && (f.Reference == "" || e.field(1) == f.Reference) {
			if f.Limit > 0 && len(out) == f.Limit {
				return out, pos, true
			}
			out, pos = append(out, *e), append(pos, p)
		}
	}
	return out, pos, false
}

// evict forgets the oldest attempts while there are more than max (0: no
// bound) or they were recorded before cutoff (Unix nanoseconds), at most
// batch of them, telling gone the key of each.
func (j *journal) evict(maxHeld int, cutoff int64, batch int, gone func(key uint64)) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := 0
	for ; n < batch && j.head < j.next; n++ {
		e := j.at(j.head)
		if !(maxHeld > 0 && j.next-j.head > uint64(maxHeld)) && e.stamp >= cutoff {
			break
		}
		if e.flags&dropped == 0 {
			if gone != nil {
				gone(e.key)
			}
			j.evicted[e.outcome]++
		}
		*e = entry{}
		j.head++
		if j.head-j.base == journalChunk { // the first chunk is empty now
			j.chunks[0] = nil
			j.chunks = j.chunks[1:]
			j.base += journalChunk
			if cap(j.chunks) > 2*len(j.chunks)+16 {
				j.chunks = slices.Clip(slices.Clone(j.chunks))
			}
		}
	}
	return n
}

// drop forgets the attempts of one merchant. Positions never change, so
// each leaves a hole (its stamp only) that eviction passes over; a
// durable store deletes its own records.
func (j *journal) drop(clientID string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for p := j.head; p < j.next; p++ {
		if e := j.at(p); e.flags&dropped == 0 && e.clientID == clientID {
			j.outcomes[e.outcome]--
			*e = entry{stamp: e.stamp, flags: dropped}
		}
	}
}

// reset forgets every attempt; positions go on, so a cursor handed out
// before finds nothing.
func (j *journal) reset() {
	j.mu.Lock()
	j.next = max(j.next, 1)
	j.base = j.next - j.next%journalChunk
	j.head = j.next
	j.chunks = nil
	j.outcomes, j.evicted = map[string]int{}, map[string]int{}
	j.mu.Unlock()
}

// RecordAttempt adds a to the journal; once a's delivery is finished
// (pending is nil) it no longer keeps its transaction from eviction.
func (s *Store) RecordAttempt(_ context.Context, a delivery.Attempt, pending *delivery.Record) error {
	s.RecordAttemptAs(0, a, pending)
	return nil
}

// RecordAttemptAs is RecordAttempt for a durable store, which keeps a
// under key: Evict's gone names it so.
func (s *Store) RecordAttemptAs(key uint64, a delivery.Attempt, pending *delivery.Record) {
	s.journal.add(newEntry(&a, key, time.Now()))
	o := outcomeIndex(a.Outcome)
	s.withRec(a.ClientID, a.ReferenceNumber, func(r *rec) {
		r.noteAttempt(o)
		if pending == nil && r.finishDelivery() && r.statusName() != store.StatusPending {
			s.finished.push(r.seq)
		}
	})
	s.changed()
}

// RestoreAttempt adds an attempt a durable store loads under key. It
// leaves deliveries' records alone: the store loads those it has pending
// with AddDeliveries. Its age counts from when it was sent, if it was.
func (s *Store) RestoreAttempt(key uint64, a delivery.Attempt) {
	stamp := time.Now()
	if !a.SentAt.IsZero() && a.SentAt.Before(stamp) {
		stamp = a.SentAt
	}
	s.journal.add(newEntry(&a, key, stamp))
	o := outcomeIndex(a.Outcome)
	s.withRec(a.ClientID, a.ReferenceNumber, func(r *rec) { r.noteAttempt(o) })
}

func outcomeIndex(o string) int {
	for i, c := range delivery.Outcomes {
		if o == c {
			return i
		}
	}
	return -1
}

// Attempts returns the attempts f matches, newest first, a page at a time.
// With a reference, the walk stops at the attempts recorded before the
// payment holding it was created.
func (s *Store) Attempts(_ context.Context, f store.AttemptFilter) ([]delivery.Attempt, string, error) {
	from, err := store.ParseCursor(store.AttemptCursor, f.Cursor)
	if err != nil {
		return nil, "", err
	}
	stop := uint64(0)
	if f.Reference != "" {
		stop = s.since(f.ClientID, f.Reference)
	}
	es, pos, more := s.journal.list(&f, from, stop)
	out := make([]delivery.Attempt, len(es))
	for i := range es {
		out[i] = es[i].attempt()
	}
	if !more {
		return out, "", nil
	}
	return out, store.FormatCursor(store.AttemptCursor, pos[len(pos)-1]), nil
}

// since is the journal position from which the attempts of the payment
// holding the reference ref (of the merchant clientID, or of any) lie; 0
// when no payment holds it.
func (s *Store) since(clientID, ref string) uint64 {
	h := s.hash(ref)
	sh := s.shard(h)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	stop, found := ^uint64(0), false
	for id := range sh.txs {
		if clientID != "" && id != clientID {
			continue
		}
		if _, r := sh.find(id, ref, h); r != nil {
			stop, found = min(stop, r.first.Load()), true
		}
	}
	if !found {
		return 0
	}
	return stop
}

// Notified sums up the journal of the merchant's transaction ref.
func (s *Store) Notified(_ context.Context, clientID, ref string) (store.Notified, error) {
	var n store.Notified
	s.withRec(clientID, ref, func(r *rec) { n = r.notified() })
	return n, nil
}

// OutcomeCounts counts the attempts by outcome, evicted ones included.
func (s *Store) OutcomeCounts(context.Context) (map[string]int, error) {
	s.journal.mu.RLock()
	defer s.journal.mu.RUnlock()
	out := make(map[string]int, len(delivery.Outcomes))
	for _, o := range delivery.Outcomes {
		out[o] = s.journal.outcomes[o]
	}
	return out, nil
}
