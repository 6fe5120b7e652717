package mock

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/store"
)

// Retention bounds what a long-lived sandbox holds: finished payments (in
// a terminal status, no notify pending) and journal attempts beyond it are
// evicted, oldest first, by a sweep in the background. A payment still
// PENDING, or with a notify still to deliver, is never evicted. The zero
// value keeps everything, as the short-lived sandboxes of tests want; serve
// keeps the defaults below.
type Retention = store.Retention

// The retention serve keeps unless told otherwise (--retain,
// --max-transactions, --max-journal). [sandbox] A sandbox a team shares
// for months must stay well under 1 GiB. Held, a paid and notified payment
// costs about 1 KB and an attempt about 0.7 KB (PERFORMANCE.md, "Memory"),
// so these bounds hold about 170 MB, a third of the 400 MiB that
// bench/run.sh's peak must stay under, leaving the rest to the garbage
// collector's headroom, PENDING payments and the notify backlog. 100,000
// payments are two days of a busy team (50k a day) and weeks of most; a
// week is as far back as anyone looks for a webhook that misbehaved.
// Ages are wall time, not sandbox time: a clock advanced by a month must
// not wipe a shared sandbox's history, and with clocks per merchant, wall
// time is the one every payment shares.
const (
	DefaultRetain          = 7 * 24 * time.Hour
	DefaultMaxTransactions = 100_000
	DefaultMaxJournal      = 100_000
)

// How the sweep runs: every sweepEvery of wall time, in batches of
// sweepBatch, so that no store lock is held for long and creates never
// wait for a whole sweep. [sandbox] At 40,000 creates a second the bound is
// overshot by at most 4,000 payments between two sweeps.
const (
	sweepEvery = 100 * time.Millisecond
	sweepBatch = 1000
)

// sweeper evicts what the retention no longer keeps. Start starts it and
// Close stops it, with the sandbox.
type sweeper struct {
	store store.Store
	keep  Retention
	log   *slog.Logger

	once sync.Once // starts or stops the loop, whichever comes first
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex // one sweep at a time (the loop's, or a test's)
}

func newSweeper(st store.Store, keep Retention, log *slog.Logger) *sweeper {
	return &sweeper{store: st, keep: keep, log: log, stop: make(chan struct{}), done: make(chan struct{})}
}

func (w *sweeper) start() {
	if w.keep == (Retention{}) {
		return
	}
	w.once.Do(func() { go w.loop() })
}

// close stops the loop and waits for it.
func (w *sweeper) close() {
	started := true
	w.once.Do(func() { started = false })
	if started {
		close(w.stop)
		<-w.done
	}
}

func (w *sweeper) loop() {
	defer close(w.done)
	tick := time.NewTicker(sweepEvery)
	defer tick.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-tick.C:
			w.sweep()
		}
	}
}

// sweep evicts in batches until nothing is left to evict, and returns what
// it evicted.
func (w *sweeper) sweep() store.Evicted {
	w.mu.Lock()
	defer w.mu.Unlock()
	var total store.Evicted
	for {
		ev, err := w.store.Evict(context.Background(), w.keep, sweepBatch)
		total.Transactions += ev.Transactions
		total.Attempts += ev.Attempts
		if err != nil {
			// Evicted from memory, not from the file: a later start evicts
			// them again. The sweep goes on at the next tick.
			w.log.Error("store failed", "what", "delete evicted payments and attempts", "error", err)
			return total
		}
		if ev == (store.Evicted{}) {
			return total
		}
		select {
		case <-w.stop:
			return total
		default:
		}
	}
}

// retentionView is the retention as GET /_sandbox/stats shows it: the
// bounds (0 or "" for none), what is held and what was evicted since the
// start or the last reset.
type retentionView struct {
	Retain          string        `json:"retain"`
	MaxTransactions int           `json:"maxTransactions"`
	MaxJournal      int           `json:"maxJournal"`
	Held            store.Evicted `json:"held"`
	Evicted         store.Evicted `json:"evicted"`
}

func (s *Sandbox) retentionView(ctx context.Context) (retentionView, error) {
	u, err := s.store.Usage(ctx)
	if err != nil {
		return retentionView{}, err
	}
	k := s.sweeper.keep
	return retentionView{Retain: FormatRetain(k.Age), MaxTransactions: k.MaxTransactions, MaxJournal: k.MaxJournal,
		Held: store.Evicted{Transactions: u.Transactions, Attempts: u.Attempts}, Evicted: u.Evicted}, nil
}

// Retention returns the sandbox's retention.
func (s *Sandbox) Retention() Retention { return s.sweeper.keep }

// Usage says what the sandbox holds, and what its retention evicted since
// the start or the last reset (or, for a durable sandbox, since its file's
// last reset).
func (s *Sandbox) Usage(ctx context.Context) (store.Usage, error) { return s.store.Usage(ctx) }

// FormatRetain shows a retention age as ParseRetain reads it: whole days
// as days ("7d"), others as a duration without its zero minutes and
// seconds ("36h", "90m"); "" for none.
func FormatRetain(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	if d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	out := d.String()
	if strings.HasSuffix(out, "m0s") {
		out = strings.TrimSuffix(out, "0s")
	}
	if strings.HasSuffix(out, "h0m") {
		out = strings.TrimSuffix(out, "0m")
	}
	return out
}

// ParseRetain reads a retention age: whole days ("7d") or a Go duration
// ("36h", "90m"); "0" keeps everything.
func ParseRetain(v string) (time.Duration, error) {
	bad := errors.New("expected a duration such as 7d, 36h or 90m (0 keeps everything for ever)")
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.ParseUint(days, 10, 16)
		if err != nil {
			return 0, bad
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, bad
	}
	return d, nil
}
