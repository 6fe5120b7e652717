package boltstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/delivery"
	"github.com/bjpay/bjpay-sandbox/mock/store"
	bolt "go.etcd.io/bbolt"
)

var ctx = context.Background()

// fill opens a store in dir and creates n transactions, each with a
// journal entry and a pending delivery.
func fill(t *testing.T, dir string, n int) {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range n {
		if err := s.Create(ctx, newTx(s, fmt.Sprintf("R-%d", i))); err != nil {
			t.Fatal(err)
		}
		r := delivery.Record{ID: fmt.Sprintf("dlv_%d", s.NextDeliveryID()), ClientID: "c", URL: "http://127.0.0.1:9/"}
		if err := s.RecordAttempt(ctx, delivery.Attempt{DeliveryID: r.ID, Outcome: delivery.OutcomeRetrying}, &r); err != nil {
			t.Fatal(err)
		}
	}
}

func newTx(s *Store, ref string) *store.Transaction {
	return &store.Transaction{TransactionNumber: store.Number(time.Now(), s.NextSeq()), ReferenceNumber: ref, ClientID: "c",
		Status: store.StatusPending, CustomerName: strings.Repeat("x", 200)}
}

// TestOpenDamaged: a file that is not the store's, cut short or damaged is
// refused with an error naming it and saying what is wrong, never a crash
// (a fault on the mapping past the end of a truncated file) and never an
// empty store in its place.
func TestOpenDamaged(t *testing.T) {
	good := t.TempDir()
	fill(t, good, 1500)
	data, err := os.ReadFile(filepath.Join(good, FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("a file of 1500 transactions: %d bytes", len(data))
	tests := []struct {
		name  string
		write func(t *testing.T, path string)
		want  string
	}{
		{"empty", func(t *testing.T, path string) { write(t, path, nil) }, "is empty (0 bytes)"},
		{"truncated to 8 KiB", func(t *testing.T, path string) { write(t, path, data[:8<<10]) }, "is truncated"},
		{"truncated to 64 KiB", func(t *testing.T, path string) { write(t, path, data[:64<<10]) }, "is truncated"},
		{"truncated to half", func(t *testing.T, path string) { write(t, path, data[:len(data)/2]) }, "is truncated"},
		{"last page in use cut", func(t *testing.T, path string) { write(t, path, data[:inUse(t, good)-1]) }, "is truncated"},
		{"meta pages zeroed", func(t *testing.T, path string) {
			d := append([]byte(nil), data...)
			clear(d[:16<<10])
			write(t, path, d)
		}, "not a bjpay-sandbox data file"},
		{"pages zeroed", func(t *testing.T, path string) {
			d := append([]byte(nil), data...)
			clear(d[len(d)/2 : len(d)/2+64<<10])
			write(t, path, d)
		}, "is damaged"},
		{"not a database", func(t *testing.T, path string) {
			write(t, path, []byte(strings.Repeat("not a bbolt file\n", 1000)))
		}, "not a bjpay-sandbox data file"},
		{"damaged record", func(t *testing.T, path string) {
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			err = db.Update(func(tx *bolt.Tx) error {
				for _, b := range []string{"merchants", "journal", "deliveries"} {
					if _, err := tx.CreateBucket([]byte(b)); err != nil {
						return err
					}
				}
				b, err := tx.CreateBucket([]byte("transactions"))
				if err != nil {
					return err
				}
				return b.Put([]byte{0, 0, 0, 0, 0, 0, 0, 1}, []byte(`{"transactionNumber": 7`))
			})
			if err != nil {
				t.Fatal(err)
			}
		}, "bucket transactions, record 0000000000000001"},
		{"a directory", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
		}, "is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, FileName)
			tt.write(t, path)
			s, err := Open(dir)
			if err == nil {
				s.Close()
				t.Fatal("Open accepted the file")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q; want the file's path and %q", err, tt.want)
			}
		})
	}
}

// inUse is how many bytes of the store in dir its pages take, as its meta
// page says (the file may be longer: bbolt grows it ahead).
func inUse(t *testing.T, dir string) int {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := readMeta(f, 0)
	if m == nil {
		t.Fatal("no meta page")
	}
	return int(m.pgid) * int(m.pageSize)
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestCopyWhileWriting: copies of the file taken while writes go on (as a
// backup taken during a shutdown would be) either open with what they
// hold, and take writes, or are refused at Open with an error naming
// them. Nothing panics.
func TestCopyWhileWriting(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_ = s.Create(ctx, newTx(s, fmt.Sprintf("W%d-%d", w, i)))
			}
		})
	}
	opened, refused := 0, 0
	for i := range 20 {
		time.Sleep(10 * time.Millisecond)
		data, err := os.ReadFile(filepath.Join(dir, FileName))
		if err != nil {
			t.Fatal(err)
		}
		copyDir := t.TempDir()
		write(t, filepath.Join(copyDir, FileName), data)
		c, err := Open(copyDir)
		if err != nil {
			refused++
			if !strings.Contains(err.Error(), copyDir) {
				t.Errorf("copy %d: error %q does not name the file", i, err)
			}
			continue
		}
		opened++
		for j := range 50 {
			if err := c.Create(ctx, newTx(c, fmt.Sprintf("AFTER-%d", j))); err != nil {
				t.Errorf("copy %d opened, then write %d failed: %v", i, j, err)
				break
			}
		}
		c.Close()
	}
	close(stop)
	wg.Wait()
	s.Close()
	t.Logf("copies taken during writes: %d opened, %d refused", opened, refused)
}

// TestWriteFailureLeavesNothing: a change the file did not take is not
// published: a create stays absent (its reference free), an update leaves
// the transaction as it was, a merchant is not added.
func TestWriteFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Create(ctx, newTx(s, "KEPT")); err != nil {
		t.Fatal(err)
	}
	// The file goes away under the store, as a failed disk would.
	if err := s.db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, newTx(s, "LOST")); err == nil {
		t.Error("create committed to a closed file")
	}
	if s.Used("c", "LOST") {
		t.Error("a create that failed to commit holds its reference")
	}
	if _, err := s.Get(ctx, "c", "LOST"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get of a create that failed to commit: %v, want ErrNotFound", err)
	}
	tx, err := s.Update(ctx, "c", "KEPT", func(tx *store.Transaction) ([]delivery.Record, error) {
		tx.Status = store.StatusPaid
		return []delivery.Record{{ID: "dlv_1"}}, nil
	})
	if err == nil {
		t.Error("update committed to a closed file")
	}
	if tx.Status != store.StatusPending {
		t.Errorf("Update answered %s after failing", tx.Status)
	}
	if got, _ := s.Get(ctx, "c", "KEPT"); got.Status != store.StatusPending {
		t.Errorf("after a failed update the transaction is %s, want PENDING", got.Status)
	}
	if err := s.AddMerchant(ctx, store.Merchant{ClientID: "m", ClientSecret: "s"}); err == nil {
		t.Error("merchant committed to a closed file")
	}
	if err := s.SetControl(ctx, "c", store.Control{Relay: true}); err == nil {
		t.Error("control committed to a closed file")
	}
	if cs, _ := s.Controls(ctx); len(cs) != 0 {
		t.Errorf("Controls after a failed set: %v, want none", cs)
	}
	if _, err := s.Merchant(ctx, "m"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Merchant after a failed add: %v, want ErrNotFound", err)
	}
}

// TestReopen: what was committed is there after a restart, in order, and
// numbers go on after it.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	fill(t, dir, 10)
	control := store.Control{TokenHash: strings.Repeat("ab", 32), Relay: true}
	func() {
		s, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.SetControl(ctx, "c", control); err != nil {
			t.Fatal(err)
		}
	}()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	txs, _, _ := s.List(ctx, store.Filter{})
	as, _, _ := s.Attempts(ctx, store.AttemptFilter{})
	slices.Reverse(as) // in the order they were recorded
	pending, _ := s.Pending(ctx)
	if len(txs) != 10 || len(as) != 10 || len(pending) != 10 {
		t.Fatalf("after reopening: %d transactions, %d attempts, %d pending; want 10 each", len(txs), len(as), len(pending))
	}
	for i, a := range as {
		if want := fmt.Sprintf("dlv_%d", i+1); a.DeliveryID != want {
			t.Errorf("attempt %d is %s, want %s", i, a.DeliveryID, want)
		}
	}
	if cs, _ := s.Controls(ctx); len(cs) != 1 || cs["c"] != control {
		t.Errorf("after reopening: controls %v, want c: %+v", cs, control)
	}
	if seq, id := s.NextSeq(), s.NextDeliveryID(); seq != 11 || id != 11 {
		t.Errorf("after reopening: next sequence %d, next delivery %d; want 11 and 11", seq, id)
	}
}

// TestEvictReopen: what Evict forgets is gone from the file too, still
// counted after a restart; a transaction whose delivery the file holds
// pending stays until that delivery is finished, after the restart too;
// and finished ones keep their age across it.
func TestEvictReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	pay := func(s *Store, ref string) delivery.Record {
		t.Helper()
		if err := s.Create(ctx, newTx(s, ref)); err != nil {
			t.Fatal(err)
		}
		r := delivery.Record{ID: fmt.Sprintf("dlv_%d", s.NextDeliveryID()), ClientID: "c", Note: (&store.Transaction{ReferenceNumber: ref}).Notification(store.StatusPaid)}
		if _, err := s.Update(ctx, "c", ref, func(tx *store.Transaction) ([]delivery.Record, error) {
			tx.Status = store.StatusPaid
			return []delivery.Record{r}, nil
		}); err != nil {
			t.Fatal(err)
		}
		return r
	}
	deliver := func(s *Store, r delivery.Record) {
		t.Helper()
		a := delivery.Attempt{DeliveryID: r.ID, ClientID: "c", ReferenceNumber: r.Note.ReferenceNumber, Outcome: delivery.OutcomeDelivered, SentAt: time.Now()}
		if err := s.RecordAttempt(ctx, a, nil); err != nil {
			t.Fatal(err)
		}
	}
	deliver(s, pay(s, "GONE-1"))
	deliver(s, pay(s, "GONE-2"))
	pending := pay(s, "PENDING-DELIVERY")
	if ev, err := s.Evict(ctx, store.Retention{MaxTransactions: 1, MaxJournal: 1}, 100); err != nil || ev != (store.Evicted{Transactions: 2, Attempts: 1}) {
		t.Fatalf("Evict = %+v, %v; want 2 transactions and 1 attempt", ev, err)
	}
	s.Close()

	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.db.View(func(btx *bolt.Tx) error {
		if n := btx.Bucket(bucketTransactions).Stats().KeyN; n != 1 {
			t.Errorf("the file holds %d transactions, want 1", n)
		}
		if n := btx.Bucket(bucketJournal).Stats().KeyN; n != 1 {
			t.Errorf("the file holds %d attempts, want 1", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	counts, _ := s.StatusCounts(ctx)
	outcomes, _ := s.OutcomeCounts(ctx)
	u, _ := s.Usage(ctx)
	if counts[store.StatusPaid] != 3 || outcomes[delivery.OutcomeDelivered] != 2 || u.Evicted != (store.Evicted{Transactions: 2, Attempts: 1}) {
		t.Errorf("after reopening: PAID %d, delivered %d, evicted %+v; want 3, 2 and what was evicted", counts[store.StatusPaid], outcomes[delivery.OutcomeDelivered], u.Evicted)
	}
	if ev, _ := s.Evict(ctx, store.Retention{MaxTransactions: 0, Age: time.Nanosecond}, 100); ev.Transactions != 0 {
		t.Errorf("evicted %d transactions with a delivery pending in the file", ev.Transactions)
	}
	if ev, _ := s.Evict(ctx, store.Retention{Age: time.Hour}, 100); ev != (store.Evicted{}) {
		t.Errorf("after reopening, evicted %+v younger than an hour", ev)
	}
	deliver(s, pending)
	if ev, _ := s.Evict(ctx, store.Retention{Age: time.Nanosecond}, 100); ev.Transactions != 1 {
		t.Errorf("evicted %d transactions once the last delivery was made, want 1", ev.Transactions)
	}
}

// TestOpenEvictedTwice: a file holding an evicted payment its deletion
// missed and a newer one with its reference opens, keeping the newer.
func TestOpenEvictedTwice(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	old := newTx(s, "R")
	old.Status = store.StatusPaid
	newer := newTx(s, "R")
	for _, tx := range []*store.Transaction{old, newer} {
		if err := s.w.commit(func(btx *bolt.Tx) error { return putTransaction(btx, tx) }); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s, err = Open(dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if got, err := s.Get(ctx, "c", "R"); err != nil || got.TransactionNumber != newer.TransactionNumber {
		t.Errorf("Get = %s, %v; want the newer %s", got.TransactionNumber, err, newer.TransactionNumber)
	}
	_ = s.db.View(func(btx *bolt.Tx) error {
		if n := btx.Bucket(bucketTransactions).Stats().KeyN; n != 1 {
			t.Errorf("the file holds %d transactions, want the newer only", n)
		}
		return nil
	})
}
