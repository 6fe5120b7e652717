package boltstore

import (
	"errors"
	"fmt"
	"runtime/debug"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// writer commits writes to the file on one goroutine, several to a commit:
// writes that arrive while a commit (an fsync) runs go together in the
// next, so parallel creates share their fsyncs and a lone write waits for
// nobody. It is bbolt's Batch without its timer goroutine, whose panics
// nobody can recover: a panic of bbolt on a damaged page, or a fault on a
// mapping cut short, becomes an error here, and every later write fails
// with it, rather than the process ending.
type writer struct {
	db   *bolt.DB
	path string
	reqs chan *request
	done chan struct{}

	mu     sync.RWMutex // held to send, and to close reqs
	closed bool
	broken error // after a panic; written and read by the loop only
}

type request struct {
	fn  func(*bolt.Tx) error
	err chan error
}

// maxBatch bounds the writes in one commit.
const maxBatch = 1000

var errClosed = errors.New("the data file is closed")

func startWriter(db *bolt.DB, path string) *writer {
	w := &writer{db: db, path: path, reqs: make(chan *request, maxBatch), done: make(chan struct{})}
	go w.loop()
	return w
}

// commit runs fn in a read-write transaction and returns once it is
// committed, or why not.
func (w *writer) commit(fn func(*bolt.Tx) error) error {
	r := &request{fn: fn, err: make(chan error, 1)}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return errClosed
	}
	w.reqs <- r
	w.mu.RUnlock()
	return <-r.err
}

// close commits what was asked before it and stops the loop.
func (w *writer) close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.reqs)
	}
	w.mu.Unlock()
	<-w.done
}

func (w *writer) loop() {
	defer close(w.done)
	debug.SetPanicOnFault(true)
	batch := make([]*request, 0, maxBatch)
	for r := range w.reqs {
		batch = append(batch[:0], r)
	more:
		for len(batch) < maxBatch {
			select {
			case r, ok := <-w.reqs:
				if !ok {
					break more
				}
				batch = append(batch, r)
			default:
				break more
			}
		}
		w.run(batch)
	}
}

// run commits a batch. When it fails, each write is tried on its own, so
// one bad write does not fail the others.
func (w *writer) run(batch []*request) {
	err := w.update(batch)
	if err != nil && len(batch) > 1 && w.broken == nil {
		for _, r := range batch {
			r.err <- w.update([]*request{r})
		}
		return
	}
	for _, r := range batch {
		r.err <- err
	}
}

func (w *writer) update(batch []*request) (err error) {
	if w.broken != nil {
		return w.broken
	}
	defer func() {
		if p := recover(); p != nil {
			w.broken = fmt.Errorf("data file %s failed and takes no more writes (%v); restart the sandbox, moving the file away if it will not start", w.path, p)
			err = w.broken
		}
	}()
	return w.db.Update(func(tx *bolt.Tx) error {
		for _, r := range batch {
			if err := r.fn(tx); err != nil {
				return err
			}
		}
		return nil
	})
}
