// Package boltstore is the sandbox's durable Store: its state in one bbolt
// file (serve --data-dir), kept across restarts and crashes.
//
// Memory (a memstore) still answers every read; the file is written before
// a change is published there and before it is acknowledged: a create's
// answer, a status change with its notifies, a merchant. Writes share
// commits (group commit), so parallel creates do not each wait for their
// own fsync. The file is read once, at Open, after checks that turn a
// damaged or truncated file into an error naming it instead of a crash.
//
// Buckets, each keyed by a big-endian uint64 unless noted:
//
//	merchants     clientId → store.Merchant (those made through the control API)
//	transactions  the sequence number in the transaction number → txRecord
//	journal       the bucket's own sequence → delivery.Attempt
//	deliveries    the number in the delivery id → delivery.Record (pending ones only)
//	meta          "evicted" → memstore.Tally: what eviction removed, still counted
//	controls      clientId → store.Control (a merchant's token digest, its relay)
//
// Records are JSON: the file is small next to what it saves a developer,
// and a damaged record can be read by eye.
package boltstore

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/delivery"
	"github.com/bjpay/bjpay-sandbox/mock/store"
	"github.com/bjpay/bjpay-sandbox/mock/store/memstore"
	bolt "go.etcd.io/bbolt"
)

// FileName is the name of the state file in the data dir.
const FileName = "sandbox.db"

var (
	bucketMerchants    = []byte("merchants")
	bucketTransactions = []byte("transactions")
	bucketJournal      = []byte("journal")
	bucketDeliveries   = []byte("deliveries")
	bucketMeta         = []byte("meta")
	bucketControls     = []byte("controls")
	allBuckets         = [][]byte{bucketMerchants, bucketTransactions, bucketJournal, bucketDeliveries, bucketMeta, bucketControls}

	keyEvicted = []byte("evicted")
)

// Store is the durable Store. Reads come from the embedded memstore, which
// holds exactly what was committed.
type Store struct {
	*memstore.Store
	db      *bolt.DB
	path    string
	w       *writer
	pending []delivery.Record // as loaded at Open
	stale   []uint64          // keys of transactions the file holds twice, deleted at Open

	stripes    [256]sync.Mutex // one change of a transaction at a time, from check to publication
	merchMu    sync.Mutex      // likewise for merchants and their controls
	journalMu  sync.Mutex      // keys journal entries in the order memory holds them
	journalKey uint64          // the last key used; a crash may leave gaps, never reuse
	evictMu    sync.Mutex      // one eviction at a time, so tallies are written in order
	closeOnce  sync.Once
	closeErr   error
}

var _ store.Store = (*Store)(nil)

// Open opens dir/sandbox.db, creating dir (0700) and the file (0600, since
// it holds merchants' client secrets) when they do not exist, and loads
// it. Close releases it.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	path := filepath.Join(dir, FileName)
	if err := checkFile(path); err != nil {
		return nil, err
	}
	db, err := openBolt(path)
	if err != nil {
		return nil, err
	}
	s := &Store{Store: memstore.New(), db: db, path: path}
	if err := s.load(); err != nil {
		db.Close()
		return nil, err
	}
	s.w = startWriter(db, path)
	if len(s.stale) > 0 {
		if err := s.w.commit(func(btx *bolt.Tx) error { return deleteKeys(btx, bucketTransactions, s.stale) }); err != nil {
			s.Close()
			return nil, fmt.Errorf("data file %s: %w", path, err)
		}
	}
	return s, nil
}

// openBolt opens path with bbolt, turning its errors, its panics on a
// damaged file (a freelist that points at data pages, as in a copy taken
// while it was written) and faults on a mapping into errors naming it.
func openBolt(path string) (db *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, damaged(path, r)
		}
	}()
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	switch {
	case errors.Is(err, bolt.ErrTimeout):
		return nil, fmt.Errorf("data file %s is locked by another process (another bjpay-sandbox on the same --data-dir?)", path)
	case err != nil:
		return nil, damaged(path, err)
	}
	return db, nil
}

// Path is the state file's path.
func (s *Store) Path() string { return s.path }

// damaged is the error about a file bbolt cannot read.
func damaged(path string, why any) error {
	return fmt.Errorf("data file %s is damaged or not a bjpay-sandbox data file (%v); move it away to start with an empty state", path, why)
}

// checkFile refuses a file that bbolt would map and then fault on, or
// silently take for a new one: empty, too short for its meta pages, or
// shorter than the pages its meta page says it has (truncated). A missing
// file is fine: Open creates it.
func checkFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("data file %s cannot be opened: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("data file %s: %w", path, err)
	}
	size := fi.Size()
	switch {
	case fi.IsDir():
		return fmt.Errorf("data file %s cannot be opened: it is a directory; --data-dir names the directory that holds it", path)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("data file %s cannot be opened: it is not a regular file", path)
	case size == 0:
		return fmt.Errorf("data file %s is empty (0 bytes): it was truncated, or not written by bjpay-sandbox; delete it to start with an empty state", path)
	}
	// The meta pages: page 0 at offset 0, page 1 at one page size. Each is a
	// 16-byte page header, then the meta: magic, version, page size, flags,
	// root bucket (root, sequence), freelist, high water mark (pages in
	// use), txid, and an FNV-64a checksum of all that.
	var cands []*meta
	if m := readMeta(f, 0); m != nil {
		cands = append(cands, m, readMeta(f, int64(m.pageSize)))
	} else { // page 0 damaged: page 1 is at one page size, of a size bbolt uses
		for _, ps := range []int64{4096, 8192, 16384, 65536} {
			cands = append(cands, readMeta(f, ps))
		}
	}
	var best *meta // the newest valid one, as bbolt picks it
	for _, m := range cands {
		if m != nil && (best == nil || m.txid > best.txid) {
			best = m
		}
	}
	if best == nil {
		return damaged(path, fmt.Sprintf("no valid meta page in its %d bytes", size))
	}
	if need := int64(best.pgid) * int64(best.pageSize); size < need {
		return fmt.Errorf("data file %s is truncated: %d bytes, but its pages need %d; restore it from a copy, or move it away to start with an empty state", path, size, need)
	}
	if err := checkFreelist(f, best); err != nil {
		return damaged(path, err)
	}
	return nil
}

// checkFreelist reads the free list the meta page names and checks that
// every page it frees is one the file has: bbolt would otherwise hand it
// out at the first write and panic (as in a copy taken mid-write).
func checkFreelist(f *os.File, m *meta) error {
	if m.freelist == ^uint64(0) { // not kept in the file: bbolt rebuilds it
		return nil
	}
	if m.freelist < 2 || m.freelist >= m.pgid {
		return fmt.Errorf("its free list is at page %d, outside its %d pages", m.freelist, m.pgid)
	}
	off := int64(m.freelist) * int64(m.pageSize)
	var hdr [24]byte // page header (id, flags, count, overflow), then the count when it is 0xFFFF or more
	if _, err := f.ReadAt(hdr[:], off); err != nil {
		return fmt.Errorf("its free list page %d cannot be read: %v", m.freelist, err)
	}
	le := binary.LittleEndian
	if flags := le.Uint16(hdr[8:]); flags != 0x10 {
		return fmt.Errorf("page %d, named as its free list, is not one (flags %#x)", m.freelist, flags)
	}
	count, start := uint64(le.Uint16(hdr[10:])), off+16
	if count == 0xFFFF {
		count, start = le.Uint64(hdr[16:]), off+24
	}
	if count > m.pgid {
		return fmt.Errorf("its free list frees %d pages of %d", count, m.pgid)
	}
	ids := make([]byte, 8*count)
	if _, err := f.ReadAt(ids, start); err != nil {
		return fmt.Errorf("its free list cannot be read: %v", err)
	}
	for i := 0; i < len(ids); i += 8 {
		if id := le.Uint64(ids[i:]); id < 2 || id >= m.pgid {
			return fmt.Errorf("its free list frees page %d, outside its %d pages", id, m.pgid)
		}
	}
	return nil
}

type meta struct {
	pageSize uint32
	freelist uint64 // the page of the free list
	pgid     uint64 // the high water mark: pages in use
	txid     uint64
}

// readMeta reads the meta page at off, nil when it is not a valid one.
func readMeta(f *os.File, off int64) *meta {
	const hdr = 16
	var buf [hdr + 64]byte
	if _, err := f.ReadAt(buf[:], off); err != nil {
		return nil
	}
	m := buf[hdr:]
	le := binary.LittleEndian
	if le.Uint32(m[0:]) != 0xED0CDAED || le.Uint32(m[4:]) != 2 {
		return nil
	}
	h := fnv.New64a()
	h.Write(m[:56])
	if h.Sum64() != le.Uint64(m[56:]) {
		return nil
	}
	ps := le.Uint32(m[8:])
	if ps < 512 || ps&(ps-1) != 0 {
		return nil
	}
	return &meta{pageSize: ps, freelist: le.Uint64(m[32:]), pgid: le.Uint64(m[40:]), txid: le.Uint64(m[48:])}
}

func u64key(n uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), n) }

func putJSON(tx *bolt.Tx, bucket, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Bucket(bucket).Put(key, b)
}

// deliveryKey is the bucket key of a delivery id ("dlv_42" → 42).
func deliveryKey(id string) ([]byte, bool) {
	n, err := strconv.ParseUint(strings.TrimPrefix(id, "dlv_"), 10, 64)
	return u64key(n), err == nil && strings.HasPrefix(id, "dlv_")
}

func putTransaction(btx *bolt.Tx, t *store.Transaction) error {
	seq, ok := store.SeqOf(t.TransactionNumber)
	if !ok {
		return fmt.Errorf("transaction number %q carries no sequence number", t.TransactionNumber)
	}
	return putJSON(btx, bucketTransactions, u64key(seq), store.StoredOf(t))
}

func putDeliveries(btx *bolt.Tx, rs []delivery.Record) error {
	for i := range rs {
		key, ok := deliveryKey(rs[i].ID)
		if !ok {
			return fmt.Errorf("delivery id %q", rs[i].ID)
		}
		if err := putJSON(btx, bucketDeliveries, key, &rs[i]); err != nil {
			return err
		}
	}
	return nil
}

// load reads the file into memory: merchants, transactions, the journal
// and the pending deliveries. Faults reading a damaged mapping become
// errors, as do bbolt's panics on damaged pages.
func (s *Store) load() (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = damaged(s.path, r)
		}
	}()
	if err := s.db.Update(func(btx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := btx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return damaged(s.path, err)
	}
	bad := func(bucket []byte, k []byte, err error) error {
		return fmt.Errorf("data file %s: bucket %s, record %x: %v; move the file away to start with an empty state", s.path, bucket, k, err)
	}
	var maxSeq, maxDlv uint64
	var finished []finishedTx // terminal transactions, to queue for eviction once loaded
	seeDelivery := func(id string) {
		if key, ok := deliveryKey(id); ok {
			maxDlv = max(maxDlv, binary.BigEndian.Uint64(key))
		}
	}
	ctx := context.Background()
	err = s.db.View(func(btx *bolt.Tx) error {
		var damage error
		for cerr := range btx.Check() { // drained: Check's goroutine reads pages until it is done
			damage = cmp.Or(damage, cerr)
		}
		if damage != nil {
			return damaged(s.path, damage)
		}
		err := btx.Bucket(bucketMerchants).ForEach(func(k, v []byte) error {
			var m store.Merchant
			if err := json.Unmarshal(v, &m); err != nil {
				return bad(bucketMerchants, k, err)
			}
			if m.ClientID == "" || m.ClientSecret == "" || m.ClientID != string(k) {
				return bad(bucketMerchants, k, errors.New("not a merchant"))
			}
			return s.Store.AddMerchant(ctx, m)
		})
		if err != nil {
			return err
		}
		err = btx.Bucket(bucketControls).ForEach(func(k, v []byte) error {
			var c store.Control
			if err := json.Unmarshal(v, &c); err != nil {
				return bad(bucketControls, k, err)
			}
			return s.Store.SetControl(ctx, string(k), c)
		})
		if err != nil {
			return err
		}
		err = btx.Bucket(bucketTransactions).ForEach(func(k, v []byte) error {
			var r store.Stored
			if err := json.Unmarshal(v, &r); err != nil {
				return bad(bucketTransactions, k, err)
			}
			seq, ok := store.SeqOf(r.TransactionNumber)
			if !ok || r.ClientID == "" || r.ReferenceNumber == "" {
				return bad(bucketTransactions, k, errors.New("not a transaction"))
			}
			switch r.Status {
			case store.StatusPending, store.StatusPaid, store.StatusFailed, store.StatusExpired:
			default:
				return bad(bucketTransactions, k, fmt.Errorf("status %q", r.Status))
			}
			tx := r.Loaded()
			if err := s.Store.Create(ctx, tx); err != nil {
				// An evicted payment whose deletion from the file failed, and
				// whose reference was used again since: the newer one (keys
				// come in order) wins, and the older goes at last.
				old, gerr := s.Store.Get(ctx, tx.ClientID, tx.ReferenceNumber)
				oldSeq, _ := store.SeqOf(old.TransactionNumber)
				if gerr != nil || old.Status == store.StatusPending || oldSeq >= seq {
					return bad(bucketTransactions, k, fmt.Errorf("reference %q of client %q is stored twice", tx.ReferenceNumber, tx.ClientID))
				}
				s.Store.Delete(old.ClientID, old.ReferenceNumber, old.TransactionNumber)
				s.stale = append(s.stale, oldSeq)
				finished = slices.DeleteFunc(finished, func(f finishedTx) bool { return f.seq == oldSeq })
				if err := s.Store.Create(ctx, tx); err != nil {
					return bad(bucketTransactions, k, err)
				}
			}
			if tx.Status != store.StatusPending {
				finished = append(finished, finishedTx{seq, cmp.Or(r.ChangedAt, time.Now())})
			}
			maxSeq = max(maxSeq, seq)
			return nil
		})
		if err != nil {
			return err
		}
		err = btx.Bucket(bucketJournal).ForEach(func(k, v []byte) error {
			var a delivery.Attempt
			if err := json.Unmarshal(v, &a); err != nil || len(k) != 8 {
				return bad(bucketJournal, k, errors.Join(err, errors.New("not a journal entry")))
			}
			seeDelivery(a.DeliveryID) // ids of finished deliveries are not reused either
			s.journalKey = binary.BigEndian.Uint64(k)
			s.Store.RestoreAttempt(s.journalKey, a)
			return nil
		})
		if err != nil {
			return err
		}
		err = btx.Bucket(bucketDeliveries).ForEach(func(k, v []byte) error {
			var r delivery.Record
			if err := json.Unmarshal(v, &r); err != nil {
				return bad(bucketDeliveries, k, err)
			}
			if key, ok := deliveryKey(r.ID); !ok || string(key) != string(k) {
				return bad(bucketDeliveries, k, errors.New("not a delivery"))
			}
			seeDelivery(r.ID)
			s.pending = append(s.pending, store.LoadedRecord(r))
			return nil
		})
		if err != nil {
			return err
		}
		if v := btx.Bucket(bucketMeta).Get(keyEvicted); v != nil {
			var t memstore.Tally
			if err := json.Unmarshal(v, &t); err != nil {
				return bad(bucketMeta, keyEvicted, err)
			}
			s.Store.RestoreTally(t)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.Store.Continue(maxSeq, maxDlv)
	// Their pending deliveries keep transactions from eviction; the others
	// are evictable, those that changed first first.
	_ = s.Store.AddDeliveries(ctx, s.pending)
	slices.SortStableFunc(finished, func(a, b finishedTx) int { return a.at.Compare(b.at) })
	for _, f := range finished {
		s.Store.QueueFinished(f.seq, f.at)
	}
	return nil
}

type finishedTx struct {
	seq uint64
	at  time.Time
}
