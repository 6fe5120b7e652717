package pgstore

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// [sandbox] Creates share commits, as the bbolt store's writer does: a
// create is answered only once its row is committed, and each commit waits
// for a WAL flush, so creates that arrive while one is in flight go
// together in the next transaction (one flush for all). A few committers
// run side by side so that a batch never waits for another's flush.
const (
	committers   = 4
	maxBatch     = 256
	commitLimit  = 30 * time.Second // a batch's transaction, whatever its callers' contexts
	insertCreate = `INSERT INTO transactions (seq, client_id, reference, number, status, created_at, expired_at, record, journal_from, next_at)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM journal_id_seq), $9
		FROM nextval('change_seq')
		ON CONFLICT (client_id, reference) DO NOTHING`
)

// creates commits inserts in shared transactions.
type creates struct {
	pool *pgxpool.Pool
	reqs chan *createReq
	stop chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

// createReq is one insert waiting for its commit: done receives nil
// (inserted says whether the row went in, or the reference was used), or
// why the commit failed.
type createReq struct {
	args     []any
	inserted bool
	done     chan error
}

func newCreates(pool *pgxpool.Pool) *creates {
	c := &creates{pool: pool, reqs: make(chan *createReq), stop: make(chan struct{})}
	for range committers {
		c.wg.Go(c.loop)
	}
	return c
}

// insert commits one row of insertCreate's arguments and reports whether
// it was inserted (false: the merchant used the reference).
func (c *creates) insert(ctx context.Context, args ...any) (bool, error) {
	r := &createReq{args: args, done: make(chan error, 1)}
	select {
	case c.reqs <- r:
	case <-ctx.Done():
		return false, ctx.Err()
	case <-c.stop:
		return false, errClosed
	}
	// Once handed over, the insert may commit: wait for the verdict (the
	// batch's own limit bounds the wait), so that an answered create is
	// never one that was not saved, nor the reverse.
	err := <-r.done
	return r.inserted, err
}

func (c *creates) loop() {
	batch := make([]*createReq, 0, maxBatch)
	for {
		select {
		case r := <-c.reqs:
			batch = append(batch[:0], r)
		case <-c.stop:
			return
		}
	more:
		for len(batch) < maxBatch {
			select {
			case r := <-c.reqs:
				batch = append(batch, r)
			default:
				break more
			}
		}
		c.commit(batch)
	}
}

// commit inserts the batch in one transaction and answers each request.
// When the transaction fails and holds several, each is tried alone, so
// that one bad row fails only itself.
func (c *creates) commit(batch []*createReq) {
	ctx, cancel := context.WithTimeout(context.Background(), commitLimit)
	defer cancel()
	err := pgx.BeginFunc(ctx, c.pool, func(dbtx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, r := range batch {
			b.Queue(insertCreate, r.args...)
		}
		br := dbtx.SendBatch(ctx, b)
		for _, r := range batch {
			tag, err := br.Exec()
			if err != nil {
				_ = br.Close()
				return err
			}
			r.inserted = tag.RowsAffected() == 1
		}
		return br.Close()
	})
	if err != nil && len(batch) > 1 {
		for _, r := range batch {
			c.commit([]*createReq{r})
		}
		return
	}
	for _, r := range batch {
		r.done <- err
	}
}

// close stops the committers once the batches they hold are answered.
func (c *creates) close() {
	c.once.Do(func() { close(c.stop) })
	c.wg.Wait()
}
