package mock

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Durable mode (Options.DataDir): the sandbox keeps its state in a bbolt
// file as well as in memory. Memory stays the source of every answer; the
// file is written before an effect is acknowledged (a create's 200, a
// transition's answer, a delivery's first attempt) and read once, at
// start. Without a data dir nothing here runs: every hook is behind a nil
// check of Sandbox.durable.
//
// Buckets, each keyed by a big-endian uint64 unless noted:
//
//	merchants     clientId → merchantRecord (only those made through the control API)
//	transactions  the sequence number in the transaction number → txRecord
//	journal       the attempt's position in the journal → Attempt
//	deliveries    the number in the delivery id → deliveryRecord (pending ones only)
//
// Records are JSON: the file is small next to what it saves a developer,
// and a damaged record can be read by eye.

// DataFile is the name of the state file in Options.DataDir.
const DataFile = "sandbox.db"

var (
	bucketMerchants    = []byte("merchants")
	bucketTransactions = []byte("transactions")
	bucketJournal      = []byte("journal")
	bucketDeliveries   = []byte("deliveries")
	allBuckets         = [][]byte{bucketMerchants, bucketTransactions, bucketJournal, bucketDeliveries}
)

// DataError is New's error about the data dir or its state file (not the
// configuration): the file cannot be created, opened, locked or read.
type DataError struct{ Err error }

func (e *DataError) Error() string { return e.Err.Error() }
func (e *DataError) Unwrap() error { return e.Err }

// durable is the open state file.
type durable struct {
	db   *bolt.DB
	path string
}

// batchDelay is how long a write waits for others to share its commit.
// [sandbox] Short, because the scheduler's transitions wait for theirs one
// after another; concurrent creates still share commits, since writes
// arriving during a commit (an fsync) wait for it and go in the next.
const batchDelay = 2 * time.Millisecond

// openDurable opens (creating) dir/sandbox.db: dir 0700 and file 0600,
// since it holds merchants' client secrets.
func openDurable(dir string) (*durable, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	path := filepath.Join(dir, DataFile)
	db, err := openBolt(path)
	if err != nil {
		return nil, err
	}
	db.MaxBatchDelay = batchDelay
	return &durable{db: db, path: path}, nil
}

// openBolt opens path, turning bbolt's errors (and a panic on a damaged
// file) into one that names the file and says what to do.
func openBolt(path string) (db *bolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("data file %s is damaged (%v); move it away to start with an empty state", path, r)
		}
	}()
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	switch {
	case errors.Is(err, bolt.ErrTimeout):
		return nil, fmt.Errorf("data file %s is locked by another process (another bjpay-sandbox on the same --data-dir?)", path)
	case err != nil:
		return nil, fmt.Errorf("data file %s cannot be opened: %v; if it is not a file this sandbox wrote, or it is damaged, move it away to start with an empty state", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("data file %s: %v", path, err)
	}
	return db, nil
}

func (d *durable) close() error { return d.db.Close() }

func u64key(n uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), n) }

func putJSON(tx *bolt.Tx, bucket, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Bucket(bucket).Put(key, b)
}

// policyRecord is a deliveryPolicy as stored.
type policyRecord struct {
	Timeout    time.Duration   `json:"timeout"`
	Retries    []time.Duration `json:"retries"`
	Delay      time.Duration   `json:"delay,omitempty"`
	Duplicates int             `json:"duplicates,omitempty"`
	Variant    Variant         `json:"variant"`
	TimeOffset time.Duration   `json:"timeOffset,omitempty"`
}

func recordOf(p *deliveryPolicy) policyRecord {
	return policyRecord{p.timeout, p.retries, p.delay, p.duplicates, p.variant, p.timeOffset}
}

func (r policyRecord) policy() *deliveryPolicy {
	p := &deliveryPolicy{r.Timeout, r.Retries, r.Delay, r.Duplicates, r.Variant, r.TimeOffset}
	if p.retries == nil {
		p.retries = []time.Duration{}
	}
	if p.timeout <= 0 {
		p.timeout = defaultPolicy.timeout
	}
	if _, err := ParseVariant(string(p.variant)); err != nil {
		p.variant = VariantValid
	}
	d := defaultPolicy
	if p.timeout == d.timeout && p.delay == d.delay && p.duplicates == d.duplicates && p.variant == d.variant &&
		p.timeOffset == d.timeOffset && slicesEqual(p.retries, d.retries) {
		return defaultPolicy // shared, as for payments created in this run
	}
	return p
}

func slicesEqual(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// txRecord is a transaction as stored: with what the BJPAY surface hides.
type txRecord struct {
	Transaction
	ClientID string       `json:"clientId"`
	Scenario string       `json:"scenario,omitempty"`
	Policy   policyRecord `json:"policy"`
}

// deliveryRecord is a pending delivery: enough to make its next attempt.
type deliveryRecord struct {
	ID       string       `json:"id"`
	Attempts int          `json:"attempts"` // made so far
	Due      time.Time    `json:"due"`      // sandbox time of the next attempt
	ClientID string       `json:"clientId"`
	URL      string       `json:"url"`
	Key      string       `json:"key"` // the merchant's signing key
	Note     Notification `json:"note"`
	Policy   policyRecord `json:"policy"`
}

// deliveryKey is the bucket key of a delivery id ("dlv_42" → 42).
func deliveryKey(id string) ([]byte, bool) {
	n, err := strconv.ParseUint(strings.TrimPrefix(id, "dlv_"), 10, 64)
	return u64key(n), err == nil && strings.HasPrefix(id, "dlv_")
}

func putDelivery(tx *bolt.Tx, d *delivery, due time.Time) error {
	key, ok := deliveryKey(d.id)
	if !ok {
		return fmt.Errorf("delivery id %q", d.id)
	}
	return putJSON(tx, bucketDeliveries, key, deliveryRecord{ID: d.id, Attempts: d.attempts, Due: due, ClientID: d.clientID,
		URL: d.url, Key: d.key, Note: d.note, Policy: recordOf(d.policy)})
}

func deleteDelivery(tx *bolt.Tx, id string) error {
	key, ok := deliveryKey(id)
	if !ok {
		return nil
	}
	return tx.Bucket(bucketDeliveries).Delete(key)
}

// putTransaction stores the transaction's current state, read from the
// store inside the write: whichever of two writes of one transaction
// commits last, it writes the newest state. Gone (a reset since): nothing.
func (s *Sandbox) putTransaction(btx *bolt.Tx, id txID) error {
	t, ok := s.store.get(id.clientID, id.ref)
	if !ok || t.TransactionNumber != id.number {
		return nil
	}
	seq, ok := seqOf(t.TransactionNumber)
	if !ok {
		return fmt.Errorf("transaction number %q", t.TransactionNumber)
	}
	return putJSON(btx, bucketTransactions, u64key(seq), txRecord{Transaction: t, ClientID: t.ClientID, Scenario: t.Scenario, Policy: recordOf(t.policy)})
}

// storeTransaction commits the transaction's current state.
func (s *Sandbox) storeTransaction(id txID) *Error {
	if err := s.durable.db.Batch(func(btx *bolt.Tx) error { return s.putTransaction(btx, id) }); err != nil {
		return s.storeFailed("transaction "+id.ref, err)
	}
	return nil
}

// storeFailed logs a failed write and returns the answer for its caller.
func (s *Sandbox) storeFailed(what string, err error) *Error {
	s.log.Error("data file write failed", "file", s.durable.path, "what", what, "error", err)
	return sandboxErr(500, "the sandbox could not write %s to its data file %s: %v", what, s.durable.path, err)
}

// storeMerchant commits a merchant made through the control API, unless a
// reset dropped it since.
func (s *Sandbox) storeMerchant(m Merchant) *Error {
	err := s.durable.db.Batch(func(btx *bolt.Tx) error {
		if s.merchant(m.ClientID) == nil {
			return nil
		}
		return putJSON(btx, bucketMerchants, []byte(m.ClientID), m)
	})
	if err != nil {
		return s.storeFailed("merchant "+m.ClientID, err)
	}
	return nil
}

// resetDurable empties every bucket.
func (s *Sandbox) resetDurable() error {
	return s.durable.db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
			if _, err := tx.CreateBucket(b); err != nil {
				return err
			}
		}
		return nil
	})
}

// load reads the state file into a sandbox built but not yet serving:
// merchants, transactions (with their expiry and timeline re-planned),
// the journal, and pending deliveries (scheduled at their due time, at
// once if it has passed).
func (s *Sandbox) load() (err error) {
	d := s.durable
	defer func() {
		if r := recover(); r != nil { // bbolt panics on some damaged pages
			err = fmt.Errorf("data file %s is damaged (%v); move it away to start with an empty state", d.path, r)
		}
	}()
	var (
		txs        []*Transaction
		deliveries []deliveryRecord
		maxSeq     uint64
		maxDlv     uint64
		maxAttempt uint64 // the journal's last key
		attempts   uint64 // and how many attempts it holds
	)
	bad := func(bucket []byte, k []byte, err error) error {
		return fmt.Errorf("data file %s: bucket %s, record %x: %v; move the file away to start with an empty state", d.path, bucket, k, err)
	}
	err = d.db.View(func(btx *bolt.Tx) error {
		for _, name := range allBuckets {
			if btx.Bucket(name) == nil {
				return fmt.Errorf("data file %s has no bucket %q; it was not written by this sandbox", d.path, name)
			}
		}
		err := btx.Bucket(bucketMerchants).ForEach(func(k, v []byte) error {
			var m Merchant
			if err := json.Unmarshal(v, &m); err != nil {
				return bad(bucketMerchants, k, err)
			}
			if !validCredential(m.ClientID) || !validCredential(m.ClientSecret) {
				return bad(bucketMerchants, k, errors.New("not a valid merchant"))
			}
			if _, configured := s.merchants[m.ClientID]; !configured { // the configuration wins
				s.merchants[m.ClientID] = newMerchant(m)
			}
			return nil
		})
		if err != nil {
			return err
		}
		err = btx.Bucket(bucketTransactions).ForEach(func(k, v []byte) error {
			var r txRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return bad(bucketTransactions, k, err)
			}
			seq, ok := seqOf(r.TransactionNumber)
			if !ok || r.ClientID == "" || r.ReferenceNumber == "" {
				return bad(bucketTransactions, k, errors.New("not a transaction"))
			}
			if st := r.Status; st != StatusPending && st != StatusPaid && st != StatusFailed && st != StatusExpired {
				return bad(bucketTransactions, k, fmt.Errorf("status %q", st))
			}
			tx := new(Transaction)
			*tx = r.Transaction
			tx.ClientID, tx.Scenario, tx.policy = r.ClientID, r.Scenario, r.Policy.policy()
			tx.CreatedAt = inWIB(tx.CreatedAt)
			tx.ExpiredAt = inWIB(tx.ExpiredAt)
			if tx.PaidAt != nil {
				p := inWIB(*tx.PaidAt)
				tx.PaidAt = &p
			}
			if !s.store.insert(tx, seq) {
				return bad(bucketTransactions, k, fmt.Errorf("reference %q of client %q is stored twice", tx.ReferenceNumber, tx.ClientID))
			}
			maxSeq = max(maxSeq, seq)
			txs = append(txs, tx)
			return nil
		})
		if err != nil {
			return err
		}
		err = btx.Bucket(bucketJournal).ForEach(func(k, v []byte) error {
			var a Attempt
			if err := json.Unmarshal(v, &a); err != nil || len(k) != 8 {
				return bad(bucketJournal, k, cmp.Or(err, errors.New("not a journal key")))
			}
			s.journal.add(a)
			attempts, maxAttempt = attempts+1, binary.BigEndian.Uint64(k)
			// Ids of deliveries done before (delivered, given up, no URL) are not reused.
			if key, ok := deliveryKey(a.DeliveryID); ok {
				maxDlv = max(maxDlv, binary.BigEndian.Uint64(key))
			}
			return nil
		})
		if err != nil {
			return err
		}
		return btx.Bucket(bucketDeliveries).ForEach(func(k, v []byte) error {
			var r deliveryRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return bad(bucketDeliveries, k, err)
			}
			key, ok := deliveryKey(r.ID)
			if !ok || string(key) != string(k) || r.URL == "" {
				return bad(bucketDeliveries, k, errors.New("not a delivery"))
			}
			maxDlv = max(maxDlv, binary.BigEndian.Uint64(k))
			deliveries = append(deliveries, r)
			return nil
		})
	})
	if err != nil {
		return err
	}
	s.seq.Store(maxSeq)
	if attempts > 0 {
		// A crash can leave gaps in the journal's keys: new attempts go
		// after the last key, not over it.
		s.notifier.journalBase = maxAttempt + 1 - attempts
	}
	s.notifier.resume(maxDlv, deliveries)
	now := s.clock.Now()
	for _, tx := range txs {
		s.replan(tx, now)
	}
	return nil
}

// inWIB puts a loaded time back in the WIB zone when it was in it (JSON
// keeps the offset, not the zone's name).
func inWIB(t time.Time) time.Time {
	if _, off := t.Zone(); off == 7*3600 {
		return t.In(wib)
	}
	return t
}

// journalKey is the key of the attempt at pos in the journal.
func (n *notifier) journalKey(pos int) []byte { return u64key(uint64(pos) + n.journalBase) }

// record adds a to the journal and, in durable mode, to the file.
func (n *notifier) record(a Attempt) {
	pos := n.journal.add(a)
	if n.db == nil {
		return
	}
	if err := n.db.Batch(func(btx *bolt.Tx) error { return putJSON(btx, bucketJournal, n.journalKey(pos), a) }); err != nil {
		n.log.Error("data file write failed", "what", "journal", "error", err)
	}
}

// storeAttempt commits an attempt's journal entry with what it means for
// the delivery's record: gone once delivered or given up, the next due
// time when retrying, unchanged when interrupted (it resumes at the next
// start).
func (n *notifier) storeAttempt(d *delivery, a *Attempt, pos int) {
	err := n.db.Batch(func(btx *bolt.Tx) error {
		n.mu.Lock()
		stale := d.gen != n.gen
		n.mu.Unlock()
		if stale { // reset since: the file was emptied after the bump
			return nil
		}
		if err := putJSON(btx, bucketJournal, n.journalKey(pos), a); err != nil {
			return err
		}
		switch a.Outcome {
		case OutcomeDelivered, OutcomeGaveUp:
			return deleteDelivery(btx, d.id)
		case OutcomeRetrying:
			return putDelivery(btx, d, *a.NextAttemptAt)
		}
		return nil
	})
	if err != nil {
		n.log.Error("data file write failed", "what", "delivery "+d.id, "error", err)
	}
}

// sendDurable is send in durable mode: the deliveries' records are
// committed (with also) before any is attempted or scheduled.
func (n *notifier) sendDurable(clientID, url, key string, note Notification, p *deliveryPolicy, also func(*bolt.Tx) error) ([]string, error) {
	ids := make([]string, 0, 1+p.duplicates)
	ds := make([]*delivery, 0, 1+p.duplicates)
	n.mu.Lock()
	for i := 0; i <= p.duplicates; i++ {
		n.seq++
		d := &delivery{id: "dlv_" + strconv.FormatUint(n.seq, 10), gen: n.gen, clientID: clientID, url: url, key: key, note: note, policy: p}
		ids, ds = append(ids, d.id), append(ds, d)
	}
	n.mu.Unlock()
	due := n.clock.Now().Add(p.delay)
	err := n.db.Batch(func(btx *bolt.Tx) error {
		if also != nil {
			if err := also(btx); err != nil {
				return err
			}
		}
		n.mu.Lock()
		stale := ds[0].gen != n.gen
		n.mu.Unlock()
		if url == "" || stale {
			return nil
		}
		for _, d := range ds {
			if err := putDelivery(btx, d, due); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		n.log.Error("data file write failed", "what", "deliveries", "error", err)
	}
	// Delivered from memory even when the write failed: the sandbox goes
	// on, only a restart would lose them.
	for _, d := range ds {
		switch {
		case url == "":
			n.record(Attempt{DeliveryID: d.id, ReferenceNumber: note.ReferenceNumber, ClientID: clientID, Status: note.Status,
				Variant: p.variant, SentAt: n.wallNow(), Outcome: OutcomeNoURL,
				Error: "no finishNotifyUrl on the payment and no notifyUrl configured for the merchant: nothing sent"})
		case p.delay > 0:
			n.laterAt(d, due)
		default:
			n.enqueue(d)
		}
	}
	return ids, err
}

// resume takes over the pending deliveries loaded from the file: each is
// attempted at its due time, at once if that has passed. Delivery ids go
// on after maxID.
func (n *notifier) resume(maxID uint64, records []deliveryRecord) {
	n.mu.Lock()
	n.seq = max(n.seq, maxID)
	gen := n.gen
	n.mu.Unlock()
	now := n.clock.Now()
	for _, r := range records {
		d := &delivery{id: r.ID, gen: gen, attempts: r.Attempts, clientID: r.ClientID, url: r.URL, key: r.Key, note: r.Note, policy: r.Policy.policy()}
		if r.Due.After(now) {
			n.laterAt(d, r.Due)
		} else {
			n.enqueue(d)
		}
	}
}
