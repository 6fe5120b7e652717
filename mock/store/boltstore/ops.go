package boltstore

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"slices"

	"github.com/bjpay/bjpay-sandbox/mock/delivery"
	"github.com/bjpay/bjpay-sandbox/mock/store"
	bolt "go.etcd.io/bbolt"
)

// Each change is checked against memory, committed to the file, and only
// then published in memory, under its transaction's stripe lock: a reader
// never sees what the file does not hold, and a change that fails to
// commit leaves nothing behind.

// stripe is the lock of the transactions with reference ref.
func (s *Store) stripe(ref string) func() {
	h := uint32(2166136261)
	for i := 0; i < len(ref); i++ {
		h = (h ^ uint32(ref[i])) * 16777619
	}
	mu := &s.stripes[h%uint32(len(s.stripes))]
	mu.Lock()
	return mu.Unlock
}

// Create commits tx, then publishes it.
func (s *Store) Create(ctx context.Context, tx *store.Transaction) error {
	defer s.stripe(tx.ReferenceNumber)()
	if s.Store.Used(tx.ClientID, tx.ReferenceNumber) {
		return store.ErrConflict
	}
	if err := s.w.commit(func(btx *bolt.Tx) error { return putTransaction(btx, tx) }); err != nil {
		return err
	}
	return s.Store.Create(ctx, tx)
}

// Update applies change to a copy of the transaction, commits the copy
// and the deliveries, then publishes the copy.
func (s *Store) Update(ctx context.Context, clientID, ref string, change func(*store.Transaction) ([]delivery.Record, error)) (store.Transaction, error) {
	defer s.stripe(ref)()
	tx, err := s.Store.Get(ctx, clientID, ref)
	if err != nil {
		return tx, err
	}
	next := tx
	rs, err := change(&next)
	if err != nil {
		return tx, err
	}
	err = s.w.commit(func(btx *bolt.Tx) error {
		if err := putTransaction(btx, &next); err != nil {
			return err
		}
		return putDeliveries(btx, rs)
	})
	if err != nil {
		return tx, err
	}
	_ = s.Store.AddDeliveries(ctx, rs) // pending before it can be seen finished
	s.Store.Replace(next)
	return next, nil
}

// AddDeliveries commits the records.
func (s *Store) AddDeliveries(ctx context.Context, rs []delivery.Record) error {
	if err := s.w.commit(func(btx *bolt.Tx) error { return putDeliveries(btx, rs) }); err != nil {
		return err
	}
	return s.Store.AddDeliveries(ctx, rs)
}

// Pending returns the deliveries the file held when it was opened.
func (s *Store) Pending(context.Context) ([]delivery.Record, error) { return s.pending, nil }

// RecordAttempt adds a to the journal in memory, then commits it with its
// delivery's record: gone once finished, replaced while pending. Its key
// is its place in memory, so a restart finds the journal in the same
// order; the attempt stays in memory even when the write fails: it
// happened.
func (s *Store) RecordAttempt(_ context.Context, a delivery.Attempt, pending *delivery.Record) error {
	s.journalMu.Lock()
	s.journalKey++
	key := binary.BigEndian.AppendUint64(nil, s.journalKey)
	s.Store.RecordAttemptAs(s.journalKey, a, pending)
	s.journalMu.Unlock()
	return s.w.commit(func(btx *bolt.Tx) error {
		if err := putJSON(btx, bucketJournal, key, &a); err != nil {
			return err
		}
		if pending != nil {
			return putDeliveries(btx, []delivery.Record{*pending})
		}
		if key, ok := deliveryKey(a.DeliveryID); ok {
			return btx.Bucket(bucketDeliveries).Delete(key)
		}
		return nil
	})
}

// AddMerchant commits m, then publishes it.
func (s *Store) AddMerchant(ctx context.Context, m store.Merchant) error {
	s.merchMu.Lock()
	defer s.merchMu.Unlock()
	if _, err := s.Store.Merchant(ctx, m.ClientID); err == nil {
		return store.ErrConflict
	}
	if err := s.w.commit(func(btx *bolt.Tx) error { return putJSON(btx, bucketMerchants, []byte(m.ClientID), m) }); err != nil {
		return err
	}
	return s.Store.AddMerchant(ctx, m)
}

// Evict forgets in memory, then deletes from the file, in one commit, the
// transactions and attempts it evicted, with the tally of what eviction
// removed so far. Memory first: a transaction gone from memory can be
// changed by nobody, so nothing rewrites it in the meantime; should the
// commit fail, the file keeps them until a later start evicts them again.
func (s *Store) Evict(_ context.Context, r store.Retention, batch int) (store.Evicted, error) {
	s.evictMu.Lock()
	defer s.evictMu.Unlock()
	var txs, keys []uint64
	ev := s.Store.EvictFunc(r, batch, func(seq uint64) { txs = append(txs, seq) }, func(key uint64) { keys = append(keys, key) })
	if ev == (store.Evicted{}) {
		return ev, nil
	}
	tally := s.Store.EvictedTally()
	return ev, s.w.commit(func(btx *bolt.Tx) error {
		if err := deleteKeys(btx, bucketTransactions, txs); err != nil {
			return err
		}
		if err := deleteKeys(btx, bucketJournal, keys); err != nil {
			return err
		}
		return putJSON(btx, bucketMeta, keyEvicted, tally)
	})
}

func deleteKeys(btx *bolt.Tx, bucket []byte, keys []uint64) error {
	b := btx.Bucket(bucket)
	for _, k := range keys {
		if err := b.Delete(u64key(k)); err != nil {
			return err
		}
	}
	return nil
}

// SetControl commits c (deletes it, when it is the zero Control), then
// publishes it.
func (s *Store) SetControl(ctx context.Context, clientID string, c store.Control) error {
	s.merchMu.Lock()
	defer s.merchMu.Unlock()
	err := s.w.commit(func(btx *bolt.Tx) error {
		if c == (store.Control{}) {
			return btx.Bucket(bucketControls).Delete([]byte(clientID))
		}
		return putJSON(btx, bucketControls, []byte(clientID), c)
	})
	if err != nil {
		return err
	}
	return s.Store.SetControl(ctx, clientID, c)
}

// Reset empties every bucket, then memory.
func (s *Store) Reset(ctx context.Context) error {
	err := s.w.commit(func(btx *bolt.Tx) error {
		for _, b := range allBuckets {
			if err := btx.DeleteBucket(b); err != nil {
				return err
			}
			if _, err := btx.CreateBucket(b); err != nil {
				return err
			}
		}
		return nil
	})
	s.pending = nil
	return errors.Join(err, s.Store.Reset(ctx))
}

// Close commits what is being written and closes the file. Writes after it
// fail.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.w.close()
		s.closeErr = s.db.Close()
	})
	return s.closeErr
}

// ResetMerchant deletes the merchant's transactions, journal entries and
// pending deliveries from the file, then from memory.
func (s *Store) ResetMerchant(ctx context.Context, clientID string) error {
	txs, _, err := s.Store.List(ctx, store.Filter{ClientID: clientID})
	if err != nil {
		return err
	}
	err = s.w.commit(func(btx *bolt.Tx) error {
		for i := range txs {
			if seq, ok := store.SeqOf(txs[i].TransactionNumber); ok {
				if err := btx.Bucket(bucketTransactions).Delete(u64key(seq)); err != nil {
					return err
				}
			}
		}
		// Journal entries and pending deliveries name their merchant in
		// their record: read each, delete the merchant's.
		// Collected first: deleting under a cursor can skip the next key.
		for _, b := range [][]byte{bucketJournal, bucketDeliveries} {
			var doomed [][]byte
			err := btx.Bucket(b).ForEach(func(k, v []byte) error {
				var owner struct {
					ClientID string `json:"clientId"`
				}
				if json.Unmarshal(v, &owner) == nil && owner.ClientID == clientID {
					doomed = append(doomed, k)
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, k := range doomed {
				if err := btx.Bucket(b).Delete(k); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.pending = slices.DeleteFunc(s.pending, func(r delivery.Record) bool { return r.ClientID == clientID })
	return s.Store.ResetMerchant(ctx, clientID)
}
