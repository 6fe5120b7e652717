package pgstore

import (
	"context"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/store"
	"github.com/jackc/pgx/v5"
)

// Evict deletes, oldest first, finished transactions with no delivery
// pending and journal entries beyond what r keeps, at most batch of each,
// and adds them to the tally of what was evicted. Ages are the database's
// clock, which every replica shares.
func (s *Store) Evict(ctx context.Context, r store.Retention, batch int) (store.Evicted, error) {
	var ev store.Evicted
	if r == (store.Retention{}) || batch <= 0 {
		return ev, nil
	}
	err := pgx.BeginFunc(ctx, s.pool, func(dbtx pgx.Tx) error {
		var err error
		ev.Transactions, err = evict(ctx, dbtx, r.Age, r.MaxTransactions, batch, evictTransactions)
		if err != nil {
			return err
		}
		ev.Attempts, err = evict(ctx, dbtx, r.Age, r.MaxJournal, batch, evictAttempts)
		return err
	})
	if err != nil {
		return store.Evicted{}, err
	}
	return ev, nil
}

// evictable is what one kind of record needs to be evicted: how to count
// those held, list the candidates oldest first (key, and whether older
// than the age), delete some (returning the name they are tallied under),
// and that tally's kind.
type evictable struct {
	count, candidates, delete, kind string
}

var (
	evictTransactions = evictable{
		count: "SELECT count(*) FROM transactions",
		candidates: `SELECT seq, ($1 AND changed_at < clock_timestamp() - $2 * interval '1 microsecond')
			FROM transactions t WHERE status <> 'PENDING'
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.client_id = t.client_id AND d.reference = t.reference)
			ORDER BY changed_at, seq LIMIT $3 FOR UPDATE SKIP LOCKED`,
		delete: "DELETE FROM transactions WHERE seq = ANY($1) RETURNING status",
		kind:   "status",
	}
	evictAttempts = evictable{
		count: "SELECT count(*) FROM journal",
		candidates: `SELECT id, ($1 AND recorded_at < clock_timestamp() - $2 * interval '1 microsecond')
			FROM journal ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED`,
		delete: "DELETE FROM journal WHERE id = ANY($1) RETURNING outcome",
		kind:   "outcome",
	}
)

// evict deletes up to batch records of e's kind, oldest first, while there
// are more than maxHeld (0: no bound) or they are older than age (0: no
// bound), and returns how many.
func evict(ctx context.Context, dbtx pgx.Tx, age time.Duration, maxHeld, batch int, e evictable) (int, error) {
	over := 0
	if maxHeld > 0 {
		var held int
		if err := dbtx.QueryRow(ctx, e.count).Scan(&held); err != nil {
			return 0, err
		}
		over = held - maxHeld
	}
	if over <= 0 && age <= 0 {
		return 0, nil
	}
	rows, err := dbtx.Query(ctx, e.candidates, age > 0, age.Microseconds(), batch)
	if err != nil {
		return 0, err
	}
	var doomed []int64
	for rows.Next() {
		var key int64
		var old bool
		if err := rows.Scan(&key, &old); err != nil {
			rows.Close()
			return 0, err
		}
		if len(doomed) >= over && !old { // candidates come oldest first
			break
		}
		doomed = append(doomed, key)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(doomed) == 0 {
		return 0, err
	}
	if _, err := dbtx.Exec(ctx, `WITH gone AS (`+e.delete+`)
		INSERT INTO evicted (kind, name, n) SELECT $2, g.name, count(*) FROM gone g(name) GROUP BY g.name
		ON CONFLICT (kind, name) DO UPDATE SET n = evicted.n + excluded.n`, doomed, e.kind); err != nil {
		return 0, err
	}
	return len(doomed), nil
}

// Usage counts what the tables hold and the tally of what was evicted.
func (s *Store) Usage(ctx context.Context) (store.Usage, error) {
	var u store.Usage
	err := s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM transactions), (SELECT count(*) FROM journal),
		(SELECT coalesce(sum(n), 0) FROM evicted WHERE kind = 'status'), (SELECT coalesce(sum(n), 0) FROM evicted WHERE kind = 'outcome')`).
		Scan(&u.Transactions, &u.Attempts, &u.Evicted.Transactions, &u.Evicted.Attempts)
	return u, err
}
