package store

import (
	"context"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/delivery"
)

// Shared is a Store several sandbox processes (replicas) use at once:
// pgstore. What is due later lives in it, not in one process's scheduler,
// so that any live replica runs it and a replica's death loses nothing:
// transactions' expiries and timeline steps (Timers), the sandbox clocks
// (Clocks), the attempts of pending deliveries, which replicas claim one
// at a time (delivery.Claimer), and which replica holds each merchant's
// listener, the only one to claim that merchant's attempts
// (delivery.Router). A process on a store that is not Shared keeps all
// this in memory, as it always did.
type Shared interface {
	Store
	delivery.Router

	// HoldListener records that this replica holds clientID's listener,
	// taking it from any other (the newest listener wins, as in one
	// process), for ListenerLease.
	HoldListener(ctx context.Context, clientID string) error
	// RenewListener extends this replica's hold of clientID's listener;
	// false when another replica took it since.
	RenewListener(ctx context.Context, clientID string) (bool, error)
	// DropListener records that this replica holds clientID's listener no
	// more (if it still did).
	DropListener(ctx context.Context, clientID string) error

	// LoadScenarios stores yaml as the scenarios loaded through the control
	// API, replacing any, and returns their version.
	LoadScenarios(ctx context.Context, yaml []byte) (int64, error)
	// LoadedScenarios returns the version of the stored scenarios (0: none
	// stored) and, unless it is known, their YAML.
	LoadedScenarios(ctx context.Context, known int64) (version int64, yaml []byte, err error)

	// ClaimTimers leases up to n transactions whose next event (expiry,
	// or a step of their scenario's timeline) is due by their merchant's
	// sandbox time, and no other replica runs now; clientID "" for every
	// merchant. The caller runs what is due and calls TimerDone; a
	// replica that dies first loses nothing: the lease ends and another
	// claims them.
	ClaimTimers(ctx context.Context, clientID string, n int) ([]Timer, error)
	// TimerDone records that tx's timeline has run up to until, that its
	// next event is due at next (zero: none), and ends its lease.
	TimerDone(ctx context.Context, tx *Transaction, until, next time.Time) error

	// Clocks returns the stored clocks by client id ("" the global one).
	// The first replica's global clock is stored (InitClock); a merchant
	// has a row only once its own clock moved apart.
	Clocks(ctx context.Context) (map[string]Clock, error)
	// InitClock stores c as the global clock unless there is one, and
	// returns the one stored.
	InitClock(ctx context.Context, c Clock) (Clock, error)
	// MoveClock advances clientID's clock by by, or sets it at at when at
	// is not zero, in one step on the database (two replicas advancing at
	// once both count); a merchant without a clock of its own gets one,
	// from the global clock. It returns the clock moved.
	MoveClock(ctx context.Context, clientID string, by time.Duration, at time.Time) (Clock, error)
	// DropClock puts the merchant back on the global clock.
	DropClock(ctx context.Context, clientID string) error
}

// ListenerLease is how long a replica's hold of a listener lasts unless
// renewed; the holder renews it every ListenerLease/3. [sandbox] 15 s: a
// replica that dies holding a listener keeps the merchant's attempts from
// the others for at most this (its listener, meanwhile, has reconnected
// to a live replica, which takes the hold at once).
const ListenerLease = 15 * time.Second

// Timer is a transaction with an event due, as ClaimTimers leases it.
type Timer struct {
	Tx Transaction
	// Until is the sandbox time up to which its timeline has run; zero for
	// none of it.
	Until time.Time
}

// Clock is a stored sandbox clock, read at Now (sandbox time) when the
// process's wall clock read Wall.
type Clock struct {
	Mode  string
	Speed float64
	Now   time.Time
	Wall  time.Time
}
