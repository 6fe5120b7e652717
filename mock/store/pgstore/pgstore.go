// Package pgstore is the sandbox's PostgreSQL Store (serve --database): its
// state in tables several replicas share, so that any of them answers with
// the same state, a reference used on one is refused on another, and a
// replica's death or a rolling restart loses nothing acknowledged.
//
// Every read goes to the database; every change is committed before it
// returns. A merchant's reference is unique by a constraint, not by a lock
// in any process. Transaction numbers and delivery ids come from sequences
// in blocks, so a create costs no round trip for them.
package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/store"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store is the PostgreSQL Store.
type Store struct {
	pool    *pgxpool.Pool
	name    string // the database, password redacted
	schema  int
	version atomic.Uint64 // the last change count read, for Version
	owner   string        // this replica, as leases name it
	creates *creates      // Create's shared commits

	txSeq, dlvSeq block
}

var _ store.Store = (*Store)(nil)

// Open connects to the database dsn names (a postgres:// URL or a libpq
// key=value string), creates or migrates its schema, and returns the
// store. Close releases it.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("database %s: %v; expected a URL such as postgres://user:password@host:5432/dbname", Redact(dsn), err)
	}
	cfg.MaxConns = max(cfg.MaxConns, 32)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", Redact(dsn), err)
	}
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("database %s cannot be reached: %w", Redact(dsn), err)
	}
	v, err := migrate(pctx, pool)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("database %s: %w", Redact(dsn), err)
	}
	s := &Store{pool: pool, name: Redact(dsn), schema: v, owner: ownerName()}
	s.creates = newCreates(pool)
	s.txSeq = block{pool: pool, sequence: "tx_seq"}
	s.dlvSeq = block{pool: pool, sequence: "delivery_seq"}
	return s, nil
}

// ownerName names this replica in the leases it takes: host, process and
// a random part (a restarted replica is another owner).
func ownerName() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b))
}

// Name is the database, its password redacted, for the banner.
func (s *Store) Name() string { return s.name }

// Redact hides the password of a postgres:// URL (or of a key=value
// string) before it is shown or logged.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return "(a connection string)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// Close stops the creates' committers, then closes the pool.
func (s *Store) Close() error {
	s.creates.close()
	s.pool.Close()
	return nil
}

var errClosed = errors.New("the store is closed")

// block hands out numbers from a sequence that moves 100 at a time: one
// round trip per 100 numbers, each unique across replicas.
type block struct {
	pool     *pgxpool.Pool
	sequence string

	mu         sync.Mutex
	next, last uint64
}

const blockSize = 100

func (b *block) take() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.next == 0 || b.next > b.last {
		var n int64
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := b.pool.QueryRow(ctx, "SELECT nextval('"+b.sequence+"')").Scan(&n)
		cancel()
		if err != nil {
			// The caller's write will fail the same way and say so; a
			// number past every block keeps it unique meanwhile.
			return uint64(time.Now().UnixNano())
		}
		b.next, b.last = uint64(n), uint64(n)+blockSize-1
	}
	n := b.next
	b.next++
	return n
}

// NextSeq returns a transaction sequence number.
func (s *Store) NextSeq() uint64 { return s.txSeq.take() }

// NextDeliveryID returns a delivery number.
func (s *Store) NextDeliveryID() uint64 { return s.dlvSeq.take() }

// Version is the change count: it moves with every change, on any replica.
func (s *Store) Version() uint64 {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var n int64
	if err := s.pool.QueryRow(ctx, "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM change_seq").Scan(&n); err == nil {
		s.version.Store(uint64(n))
	}
	return s.version.Load()
}

var errNoRows = errors.New("no rows")
