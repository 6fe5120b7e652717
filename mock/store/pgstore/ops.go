package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/delivery"
	"github.com/bjpay/bjpay-sandbox/mock/store"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Used reports whether the merchant used ref already.
func (s *Store) Used(clientID, ref string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var one int
	err := s.pool.QueryRow(ctx, "SELECT 1 FROM transactions WHERE client_id = $1 AND reference = $2", clientID, ref).Scan(&one)
	return err == nil
}

// Create inserts tx; the constraint on (client_id, reference) refuses a
// reference the merchant used, whichever replica it was used on.
func (s *Store) Create(ctx context.Context, tx *store.Transaction) error {
	seq, ok := store.SeqOf(tx.TransactionNumber)
	if !ok {
		return fmt.Errorf("transaction number %q carries no sequence number", tx.TransactionNumber)
	}
	rec, err := json.Marshal(store.StoredOf(tx))
	if err != nil {
		return err
	}
	// Its next event: its expiry, or at once when a scenario's timeline
	// is to run (the replica that runs it finds the step's time).
	next := tx.ExpiredAt
	if tx.Scenario != "" {
		next = tx.CreatedAt
	}
	inserted, err := s.creates.insert(ctx, int64(seq), tx.ClientID, tx.ReferenceNumber, tx.TransactionNumber, tx.Status, tx.CreatedAt, tx.ExpiredAt, rec, next)
	if err != nil {
		return err
	}
	if !inserted {
		return store.ErrConflict
	}
	return nil
}

func scanTx(row pgx.Row) (store.Transaction, error) {
	var raw []byte
	if err := row.Scan(&raw); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return store.Transaction{}, store.ErrNotFound
		}
		return store.Transaction{}, err
	}
	var r store.Stored
	if err := json.Unmarshal(raw, &r); err != nil {
		return store.Transaction{}, fmt.Errorf("a stored transaction: %w", err)
	}
	return *r.Loaded(), nil
}

// Get returns the merchant's transaction ref.
func (s *Store) Get(ctx context.Context, clientID, ref string) (store.Transaction, error) {
	return scanTx(s.pool.QueryRow(ctx, "SELECT record FROM transactions WHERE client_id = $1 AND reference = $2", clientID, ref))
}

// GetByNumber returns the transaction with that number.
func (s *Store) GetByNumber(ctx context.Context, number string) (store.Transaction, error) {
	return scanTx(s.pool.QueryRow(ctx, "SELECT record FROM transactions WHERE number = $1", number))
}

// List returns a page of the transactions f matches, newest first.
func (s *Store) List(ctx context.Context, f store.Filter) ([]store.Transaction, string, error) {
	below, err := store.ParseCursor(store.TxCursor, f.Cursor)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.pool.Query(ctx, `SELECT seq, record FROM transactions
		WHERE seq < $1 AND ($2 = '' OR client_id = $2) AND ($3 = '' OR status = $3) AND ($4 = '' OR strpos(lower(reference), lower($4)) > 0)
		ORDER BY seq DESC LIMIT $5`, position(below), f.ClientID, f.Status, f.Reference, limitOf(f.Page))
	if err != nil {
		return nil, "", err
	}
	out, seqs, err := collect(rows, func(raw []byte) (store.Transaction, error) {
		var r store.Stored
		if err := json.Unmarshal(raw, &r); err != nil {
			return store.Transaction{}, fmt.Errorf("a stored transaction: %w", err)
		}
		return *r.Loaded(), nil
	})
	if err != nil {
		return nil, "", err
	}
	if f.Limit > 0 && len(out) > f.Limit {
		return out[:f.Limit], store.FormatCursor(store.TxCursor, seqs[f.Limit-1]), nil
	}
	return out, "", nil
}

// position is a cursor's position as a bigint.
func position(p uint64) int64 { return int64(min(p, math.MaxInt64)) }

// limitOf is the rows to ask for a page: one more than it holds, to know
// whether there is a next one; nil (no limit) for no limit.
func limitOf(p store.Page) any {
	if p.Limit <= 0 {
		return nil
	}
	return p.Limit + 1
}

// collect reads rows of (position, JSON record) with decode.
func collect[T any](rows pgx.Rows, decode func([]byte) (T, error)) ([]T, []uint64, error) {
	defer rows.Close()
	out := []T{}
	var pos []uint64
	for rows.Next() {
		var p int64
		var raw []byte
		if err := rows.Scan(&p, &raw); err != nil {
			return nil, nil, err
		}
		v, err := decode(raw)
		if err != nil {
			return nil, nil, err
		}
		out, pos = append(out, v), append(pos, uint64(p))
	}
	return out, pos, rows.Err()
}

// StatusCounts counts the transactions in each status.
func (s *Store) StatusCounts(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	for _, st := range store.Statuses {
		out[st] = 0
	}
	return counts(ctx, s.pool, out, `SELECT status, count(*) FROM transactions GROUP BY status
		UNION ALL SELECT name, n FROM evicted WHERE kind = 'status'`)
}

// counts adds the (name, count) rows q returns to out.
func counts(ctx context.Context, pool *pgxpool.Pool, out map[string]int, q string) (map[string]int, error) {
	rows, err := pool.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			return nil, err
		}
		out[name] += n
	}
	return out, rows.Err()
}

// Update runs change on the transaction, locked for the database
// transaction, and commits its new state with the deliveries as one unit.
func (s *Store) Update(ctx context.Context, clientID, ref string, change func(*store.Transaction) ([]delivery.Record, error)) (store.Transaction, error) {
	var result store.Transaction
	err := pgx.BeginFunc(ctx, s.pool, func(dbtx pgx.Tx) error {
		tx, err := scanTx(dbtx.QueryRow(ctx, "SELECT record FROM transactions WHERE client_id = $1 AND reference = $2 FOR UPDATE", clientID, ref))
		if err != nil {
			return err
		}
		result = tx
		next := tx
		rs, err := change(&next)
		if err != nil {
			return err
		}
		rec, err := json.Marshal(store.StoredOf(&next))
		if err != nil {
			return err
		}
		// A final payment without a timeline has no event to come.
		if _, err := dbtx.Exec(ctx, `UPDATE transactions SET status = $3, record = $4, changed_at = now(),
			next_at = CASE WHEN $3 <> 'PENDING' AND $5 = '' THEN NULL ELSE next_at END WHERE client_id = $1 AND reference = $2`,
			clientID, ref, next.Status, rec, next.Scenario); err != nil {
			return err
		}
		if err := putDeliveries(ctx, dbtx, s.owner, rs); err != nil {
			return err
		}
		if _, err := dbtx.Exec(ctx, "SELECT nextval('change_seq')"); err != nil {
			return err
		}
		result = next
		return nil
	})
	return result, err
}

// querier is a pool or a database transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// putDeliveries writes the records; one Claimed is leased to owner as it
// is written, the others are released (a finished attempt's next one is
// anyone's).
func putDeliveries(ctx context.Context, q querier, owner string, rs []delivery.Record) error {
	for i := range rs {
		rec, err := json.Marshal(&rs[i])
		if err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `INSERT INTO deliveries (id, client_id, reference, due_at, record, lease_ns, lease_owner, lease_until)
			VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8 THEN clock_timestamp() + $9::float8 / 1000 * interval '1 microsecond' END)
			ON CONFLICT (id) DO UPDATE SET due_at = excluded.due_at, record = excluded.record,
				lease_ns = excluded.lease_ns, lease_owner = excluded.lease_owner, lease_until = excluded.lease_until`,
			rs[i].ID, rs[i].ClientID, rs[i].Note.ReferenceNumber, rs[i].Due, rec,
			int64(delivery.Lease(rs[i].Policy)), owner, !rs[i].Claimed.IsZero(), float64(delivery.Lease(rs[i].Policy))); err != nil {
			return err
		}
	}
	return nil
}

// AddDeliveries commits the records.
func (s *Store) AddDeliveries(ctx context.Context, rs []delivery.Record) error {
	return pgx.BeginFunc(ctx, s.pool, func(dbtx pgx.Tx) error { return putDeliveries(ctx, dbtx, s.owner, rs) })
}

// Pending returns the deliveries not finished.
func (s *Store) Pending(ctx context.Context) ([]delivery.Record, error) {
	rows, err := s.pool.Query(ctx, "SELECT record FROM deliveries ORDER BY due_at")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []delivery.Record
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		var r delivery.Record
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, fmt.Errorf("a stored delivery: %w", err)
		}
		out = append(out, store.LoadedRecord(r))
	}
	return out, rows.Err()
}

// RecordAttempt adds a to the journal and updates its delivery's record,
// as one unit.
func (s *Store) RecordAttempt(ctx context.Context, a delivery.Attempt, pending *delivery.Record) error {
	raw, err := json.Marshal(&a)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(dbtx pgx.Tx) error {
		if _, err := dbtx.Exec(ctx, `INSERT INTO journal (client_id, reference, delivery_id, outcome, attempt)
			SELECT $1, $2, $3, $4, $5 FROM nextval('change_seq')`, a.ClientID, a.ReferenceNumber, a.DeliveryID, a.Outcome, raw); err != nil {
			return err
		}
		// Its transaction's summary; a finished delivery restarts its age.
		if _, err := dbtx.Exec(ctx, `UPDATE transactions SET attempts = attempts + 1, last_outcome = $3,
			changed_at = CASE WHEN $4 THEN now() ELSE changed_at END WHERE client_id = $1 AND reference = $2`,
			a.ClientID, a.ReferenceNumber, a.Outcome, pending == nil); err != nil {
			return err
		}
		if pending != nil {
			// The attempt is over: the lease ends. Only a delivery still
			// pending is updated, never inserted again: one that a reset
			// (through any replica) removed, or that another replica
			// finished after this one's lease ran out, stays gone, though
			// this attempt is journalled, as it was made.
			rec, err := json.Marshal(pending)
			if err != nil {
				return err
			}
			_, err = dbtx.Exec(ctx, `UPDATE deliveries SET due_at = $2, record = $3, lease_ns = $4, lease_owner = $5, lease_until = NULL
				WHERE id = $1`, pending.ID, pending.Due, rec, int64(delivery.Lease(pending.Policy)), s.owner)
			return err
		}
		_, err := dbtx.Exec(ctx, "DELETE FROM deliveries WHERE id = $1", a.DeliveryID)
		return err
	})
}

// Attempts returns a page of the journal entries f matches, newest
// first; a held payment's reference, those made since it was created.
func (s *Store) Attempts(ctx context.Context, f store.AttemptFilter) ([]delivery.Attempt, string, error) {
	below, err := store.ParseCursor(store.AttemptCursor, f.Cursor)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.pool.Query(ctx, `SELECT id, attempt FROM journal
		WHERE id < $1 AND ($2 = '' OR client_id = $2) AND ($3 = '' OR reference = $3)
		AND id > coalesce((SELECT journal_from FROM transactions WHERE $3 <> '' AND client_id = $2 AND reference = $3), 0)
		ORDER BY id DESC LIMIT $4`, position(below), f.ClientID, f.Reference, limitOf(f.Page))
	if err != nil {
		return nil, "", err
	}
	out, ids, err := collect(rows, func(raw []byte) (delivery.Attempt, error) {
		var a delivery.Attempt
		if err := json.Unmarshal(raw, &a); err != nil {
			return a, fmt.Errorf("a journal entry: %w", err)
		}
		return a, nil
	})
	if err != nil {
		return nil, "", err
	}
	if f.Limit > 0 && len(out) > f.Limit {
		return out[:f.Limit], store.FormatCursor(store.AttemptCursor, ids[f.Limit-1]), nil
	}
	return out, "", nil
}

// Notified sums up the journal of the merchant's transaction ref.
func (s *Store) Notified(ctx context.Context, clientID, ref string) (store.Notified, error) {
	var n store.Notified
	err := s.pool.QueryRow(ctx, "SELECT attempts, last_outcome FROM transactions WHERE client_id = $1 AND reference = $2",
		clientID, ref).Scan(&n.Attempts, &n.Last)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Notified{}, nil
	}
	return n, err
}

// OutcomeCounts counts the journal's attempts by outcome.
func (s *Store) OutcomeCounts(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	for _, o := range delivery.Outcomes {
		out[o] = 0
	}
	return counts(ctx, s.pool, out, `SELECT outcome, count(*) FROM journal GROUP BY outcome
		UNION ALL SELECT name, n FROM evicted WHERE kind = 'outcome'`)
}

// AddMerchant inserts m unless its client id is taken.
func (s *Store) AddMerchant(ctx context.Context, m store.Merchant) error {
	rec, err := json.Marshal(m)
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO merchants (client_id, record) SELECT $1, $2 FROM nextval('change_seq')
		ON CONFLICT (client_id) DO NOTHING`, m.ClientID, rec)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrConflict
	}
	return nil
}

// Merchant returns the stored merchant with that client id.
func (s *Store) Merchant(ctx context.Context, clientID string) (store.Merchant, error) {
	var raw []byte
	err := s.pool.QueryRow(ctx, "SELECT record FROM merchants WHERE client_id = $1", clientID).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Merchant{}, store.ErrNotFound
	}
	if err != nil {
		return store.Merchant{}, err
	}
	var m store.Merchant
	return m, json.Unmarshal(raw, &m)
}

// Merchants returns the stored merchants by client id.
func (s *Store) Merchants(ctx context.Context) ([]store.Merchant, error) {
	rows, err := s.pool.Query(ctx, "SELECT record FROM merchants ORDER BY client_id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Merchant
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		var m store.Merchant
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("a stored merchant: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// SetControl stores the merchant's control; the zero Control deletes it.
// The change count moves with it: other replicas read tokens and relays
// again when it does.
func (s *Store) SetControl(ctx context.Context, clientID string, c store.Control) error {
	if c == (store.Control{}) {
		_, err := s.pool.Exec(ctx, "WITH d AS (DELETE FROM controls WHERE client_id = $1) SELECT nextval('change_seq')", clientID)
		return err
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO controls (client_id, token_hash, relay) SELECT $1, $2, $3 FROM nextval('change_seq')
		ON CONFLICT (client_id) DO UPDATE SET token_hash = excluded.token_hash, relay = excluded.relay`, clientID, c.TokenHash, c.Relay)
	return err
}

// Controls returns every stored control by client id.
func (s *Store) Controls(ctx context.Context) (map[string]store.Control, error) {
	rows, err := s.pool.Query(ctx, "SELECT client_id, token_hash, relay FROM controls")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]store.Control{}
	for rows.Next() {
		var id string
		var c store.Control
		if err := rows.Scan(&id, &c.TokenHash, &c.Relay); err != nil {
			return nil, err
		}
		out[id] = c
	}
	return out, rows.Err()
}

// Reset empties every table; sequences go on.
func (s *Store) Reset(ctx context.Context) error {
	// The clocks too: merchants' own are forgotten, the global one goes
	// back to wall time.
	_, err := s.pool.Exec(ctx, `TRUNCATE transactions, journal, deliveries, merchants, evicted, controls;
		DELETE FROM clocks WHERE client_id <> ''; UPDATE clocks SET sim = clock_timestamp(), wall_at = clock_timestamp();
		SELECT nextval('change_seq')`)
	return err
}

// ResetMerchant deletes the merchant's transactions, journal and pending
// deliveries.
func (s *Store) ResetMerchant(ctx context.Context, clientID string) error {
	return pgx.BeginFunc(ctx, s.pool, func(dbtx pgx.Tx) error {
		for _, table := range []string{"transactions", "journal", "deliveries", "clocks"} {
			if _, err := dbtx.Exec(ctx, "DELETE FROM "+table+" WHERE client_id = $1", clientID); err != nil {
				return err
			}
		}
		_, err := dbtx.Exec(ctx, "SELECT nextval('change_seq')")
		return err
	})
}
