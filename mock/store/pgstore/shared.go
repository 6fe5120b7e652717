package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/delivery"
	"github.com/bjpay/bjpay-sandbox/mock/store"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// What several replicas share beyond the state itself (store.Shared): the
// leases of due work, and the clocks. Leases run on the database's clock
// (clock_timestamp()), so replicas whose clocks differ still agree on
// when one is over.

var _ store.Shared = (*Store)(nil)

// timerLease is how long a replica holds a transaction whose due events it
// runs. [sandbox] 10 s: running them is a few commits; a replica that dies
// holding one delays its expiry or step by at most this.
const timerLease = "10 seconds"

// heldElsewhere is true of a deliveries row whose merchant's listener
// another replica ($1 is this one) holds: that replica's to claim.
const heldElsewhere = `EXISTS (SELECT 1 FROM listeners l WHERE l.client_id = deliveries.client_id
	AND l.owner <> $1 AND l.lease_until > clock_timestamp())`

// Claim leases up to n due deliveries that nobody holds to this replica,
// but none of a merchant whose listener another replica holds.
func (s *Store) Claim(ctx context.Context, n int) ([]delivery.Record, error) {
	rows, err := s.pool.Query(ctx, `UPDATE deliveries d
		SET lease_until = clock_timestamp() + d.lease_ns / 1000 * interval '1 microsecond', lease_owner = $1
		FROM (SELECT id FROM deliveries
			WHERE (lease_until IS NULL OR lease_until < clock_timestamp()) AND due_at <= sandbox_now(client_id)
			AND NOT `+heldElsewhere+`
			ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED) c
		WHERE d.id = c.id RETURNING d.record`, s.owner, n)
	if err != nil {
		return nil, err
	}
	claimed := time.Now()
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (delivery.Record, error) {
		var raw []byte
		if err := row.Scan(&raw); err != nil {
			return delivery.Record{}, err
		}
		var r delivery.Record
		if err := json.Unmarshal(raw, &r); err != nil {
			return r, fmt.Errorf("a stored delivery: %w", err)
		}
		r = store.LoadedRecord(r)
		r.Claimed = claimed
		return r, nil
	})
	return out, err
}

// Renew extends this replica's lease of r, or takes it again once over,
// unless someone made r's attempt since or another replica holds its
// merchant's listener now.
func (s *Store) Renew(ctx context.Context, r delivery.Record) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE deliveries
		SET lease_until = clock_timestamp() + lease_ns / 1000 * interval '1 microsecond', lease_owner = $1
		WHERE id = $2 AND (record->>'attempts')::int = $3
		AND (lease_owner = $1 OR lease_until IS NULL OR lease_until < clock_timestamp())
		AND NOT `+heldElsewhere, s.owner, r.ID, r.Attempts)
	return err == nil && tag.RowsAffected() == 1, err
}

// listenerLease is store.ListenerLease in SQL.
var listenerLease = fmt.Sprintf("%d milliseconds", store.ListenerLease.Milliseconds())

// HoldListener makes this replica the holder of clientID's listener.
func (s *Store) HoldListener(ctx context.Context, clientID string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO listeners (client_id, owner, lease_until) VALUES ($1, $2, clock_timestamp() + interval '`+listenerLease+`')
		ON CONFLICT (client_id) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until`, clientID, s.owner)
	return err
}

// RenewListener extends this replica's hold, if it still has it.
func (s *Store) RenewListener(ctx context.Context, clientID string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE listeners SET lease_until = clock_timestamp() + interval '`+listenerLease+`'
		WHERE client_id = $1 AND owner = $2`, clientID, s.owner)
	return err == nil && tag.RowsAffected() == 1, err
}

// DropListener ends this replica's hold of clientID's listener.
func (s *Store) DropListener(ctx context.Context, clientID string) error {
	_, err := s.pool.Exec(ctx, "DELETE FROM listeners WHERE client_id = $1 AND owner = $2", clientID, s.owner)
	return err
}

// summonChannel is the LISTEN/NOTIFY channel on which a replica is told
// that attempts for the listener it holds are due; the payload names it.
const summonChannel = "bjpay_sandbox_summon"

// Summon notifies the replica holding clientID's listener, if another does.
func (s *Store) Summon(ctx context.Context, clientID string) error {
	_, err := s.pool.Exec(ctx, `SELECT pg_notify('`+summonChannel+`', owner) FROM listeners
		WHERE client_id = $1 AND owner <> $2 AND lease_until > clock_timestamp()`, clientID, s.owner)
	return err
}

// Summoned listens on a connection of its own (a pooled one would carry
// the LISTEN to whoever takes it next) and calls wake for each summons
// naming this replica, until ctx ends. A lost connection is opened again
// a second later; meanwhile the claim loop's poll does the work.
func (s *Store) Summoned(ctx context.Context, wake func()) {
	for ctx.Err() == nil {
		conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig)
		if err == nil {
			if _, err = conn.Exec(ctx, "LISTEN "+summonChannel); err == nil {
				for {
					var n *pgconn.Notification
					if n, err = conn.WaitForNotification(ctx); err != nil {
						break
					}
					if n.Payload == s.owner {
						wake()
					}
				}
			}
			cctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = conn.Close(cctx)
			cancel()
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// ClaimTimers leases up to n transactions with an event due.
func (s *Store) ClaimTimers(ctx context.Context, clientID string, n int) ([]store.Timer, error) {
	rows, err := s.pool.Query(ctx, `UPDATE transactions t SET timer_lease = clock_timestamp() + interval '`+timerLease+`'
		FROM (SELECT seq FROM transactions
			WHERE next_at IS NOT NULL AND next_at <= sandbox_now(client_id) AND ($1 = '' OR client_id = $1)
			AND (timer_lease IS NULL OR timer_lease < clock_timestamp())
			ORDER BY next_at LIMIT $2 FOR UPDATE SKIP LOCKED) c
		WHERE t.seq = c.seq RETURNING t.record, t.timeline_until`, clientID, n)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Timer, error) {
		var raw []byte
		var until *time.Time
		if err := row.Scan(&raw, &until); err != nil {
			return store.Timer{}, err
		}
		var r store.Stored
		if err := json.Unmarshal(raw, &r); err != nil {
			return store.Timer{}, fmt.Errorf("a stored transaction: %w", err)
		}
		t := store.Timer{Tx: *r.Loaded()}
		if until != nil {
			t.Until = *until
		}
		return t, nil
	})
}

// TimerDone records how far tx's timeline ran and its next event, and
// ends the lease.
func (s *Store) TimerDone(ctx context.Context, tx *store.Transaction, until, next time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE transactions SET timeline_until = $4, next_at = $5, timer_lease = NULL
		WHERE client_id = $1 AND reference = $2 AND number = $3`,
		tx.ClientID, tx.ReferenceNumber, tx.TransactionNumber, nullTime(until), nullTime(next))
	return err
}

// nullTime is t, or NULL for the zero time.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// clockNow is a clocks row's sandbox time now.
const clockNow = `CASE WHEN mode = 'virtual' THEN sim ELSE sim + (clock_timestamp() - wall_at) * speed END`

// Clocks returns the stored clocks, read now.
func (s *Store) Clocks(ctx context.Context) (map[string]store.Clock, error) {
	rows, err := s.pool.Query(ctx, "SELECT client_id, mode, speed, "+clockNow+" FROM clocks")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]store.Clock{}
	for rows.Next() {
		var id string
		var c store.Clock
		if err := rows.Scan(&id, &c.Mode, &c.Speed, &c.Now); err != nil {
			return nil, err
		}
		c.Wall = time.Now()
		out[id] = c
	}
	return out, rows.Err()
}

// InitClock stores c as the global clock unless one is stored.
func (s *Store) InitClock(ctx context.Context, c store.Clock) (store.Clock, error) {
	if _, err := s.pool.Exec(ctx, `INSERT INTO clocks (client_id, mode, speed, sim, wall_at) VALUES ('', $1, $2, $3, clock_timestamp())
		ON CONFLICT (client_id) DO NOTHING`, c.Mode, c.Speed, c.Now); err != nil {
		return store.Clock{}, err
	}
	cs, err := s.Clocks(ctx)
	if err != nil {
		return store.Clock{}, err
	}
	return cs[""], nil
}

// MoveClock advances or sets a clock in one statement: the row is locked,
// so two replicas moving it at once both count.
func (s *Store) MoveClock(ctx context.Context, clientID string, by time.Duration, at time.Time) (store.Clock, error) {
	c := store.Clock{}
	err := s.pool.QueryRow(ctx, `INSERT INTO clocks (client_id, mode, speed, sim, wall_at)
		SELECT $1, mode, speed, coalesce($3, sandbox_now($1) + $2::float8 * interval '1 microsecond'), clock_timestamp()
		FROM clocks WHERE client_id = ''
		ON CONFLICT (client_id) DO UPDATE SET wall_at = clock_timestamp(),
			sim = coalesce($3, CASE WHEN clocks.mode = 'virtual' THEN clocks.sim
				ELSE clocks.sim + (clock_timestamp() - clocks.wall_at) * clocks.speed END + $2::float8 * interval '1 microsecond')
		RETURNING mode, speed, sim`, clientID, by.Microseconds(), nullTime(at)).Scan(&c.Mode, &c.Speed, &c.Now)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, errors.New("no global clock stored (InitClock first)")
	}
	c.Wall = time.Now()
	if err == nil {
		_, err = s.pool.Exec(ctx, "SELECT nextval('change_seq')")
	}
	return c, err
}

// DropClock deletes the merchant's own clock.
func (s *Store) DropClock(ctx context.Context, clientID string) error {
	_, err := s.pool.Exec(ctx, "DELETE FROM clocks WHERE client_id = $1 AND client_id <> ''", clientID)
	return err
}

// LoadScenarios stores the uploaded scenarios; their version is a change
// count, so every replica's next look reads them.
func (s *Store) LoadScenarios(ctx context.Context, yaml []byte) (int64, error) {
	var v int64
	err := s.pool.QueryRow(ctx, `INSERT INTO scenarios (id, version, yaml) SELECT true, nextval('change_seq'), $1
		ON CONFLICT (id) DO UPDATE SET version = excluded.version, yaml = excluded.yaml RETURNING version`, yaml).Scan(&v)
	return v, err
}

// LoadedScenarios reads the stored scenarios' version, and their YAML when
// it is not known.
func (s *Store) LoadedScenarios(ctx context.Context, known int64) (int64, []byte, error) {
	var v int64
	var yaml []byte
	err := s.pool.QueryRow(ctx, "SELECT version, CASE WHEN version <> $1 THEN yaml END FROM scenarios", known).Scan(&v, &yaml)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil, nil
	}
	return v, yaml, err
}
