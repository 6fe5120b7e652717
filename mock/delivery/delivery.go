// Package delivery sends notifies to merchants: a queue, a bounded pool of
// workers, retries on a schedule, the journal entry of every attempt, and
// the outbound policy that decides where a notify may go.
//
// It knows nothing of payments or of how state is stored. The sandbox
// gives it Clocks (each merchant's sandbox time, for delays and retries,
// and a way to run a function at one) and a Store that keeps the journal
// and the records of pending deliveries. One send path for every notify: Prepare
// mints the deliveries' records, the caller commits them (with the status
// change they announce, when there is one), then Send makes their attempts.
// So a record is committed before its first attempt, and a change that
// could not be committed sends nothing.
package delivery

import (
	"context"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/notify"
	"github.com/bjpay/bjpay-sandbox/scenarios"
)

// Sandbox-only headers on notifies, for debugging; switched off with
// Options.NoSandboxHeaders. [sandbox] BJPAY sends neither.
const (
	HeaderDeliveryID = "X-Sandbox-Delivery-Id"
	HeaderAttempt    = "X-Sandbox-Attempt"
)

// Outcomes of an attempt, as the journal records them.
const (
	OutcomeDelivered   = "delivered"   // the merchant answered 2xx in time
	OutcomeRetrying    = "retrying"    // failed; another attempt is scheduled
	OutcomeGaveUp      = "gave-up"     // failed, and it was the last attempt
	OutcomeNoURL       = "no-url"      // neither finishNotifyUrl nor the merchant's notifyUrl: nothing sent
	OutcomeInterrupted = "interrupted" // the sandbox stopped before or during the attempt
	// OutcomeListenerOffline: relay is on for the merchant and no listener
	// took the attempt; another is scheduled. [sandbox]
	OutcomeListenerOffline = "listener-offline"
)

// Outcomes lists every outcome, in the order statistics show them.
var Outcomes = []string{OutcomeDelivered, OutcomeRetrying, OutcomeGaveUp, OutcomeNoURL, OutcomeInterrupted, OutcomeListenerOffline}

// Policy says how a notify is delivered. Its JSON form is what durable
// stores keep.
type Policy struct {
	Timeout    time.Duration   `json:"timeout"`              // per attempt, wall time
	Retries    []time.Duration `json:"retries"`              // sandbox-time delays after each failed attempt
	Delay      time.Duration   `json:"delay,omitempty"`      // sandbox-time wait before the first attempt
	Duplicates int             `json:"duplicates,omitempty"` // extra identical deliveries
	Variant    notify.Variant  `json:"variant"`
	// TimeOffset shifts every attempt's X-Request-Time from wall time (ad hoc
	// notifies that test a merchant's replay window).
	TimeOffset time.Duration `json:"timeOffset,omitempty"`
}

// PolicyOf turns a scenario's delivery section into a policy. Sections from
// files come with their defaults filled in; for ones built in Go, zero
// fields fall back to the defaults and an unknown variant to valid, so a
// mistake there cannot stop the notifier. [sandbox] BJPAY documents
// neither a timeout nor a retry schedule: the defaults are the scenarios
// package's.
func PolicyOf(d scenarios.Delivery) Policy {
	p := Policy{Timeout: d.Timeout, Retries: d.Retries, Delay: d.Delay, Duplicates: d.Duplicates, Variant: notify.Variant(d.Variant)}
	if p.Retries == nil {
		p.Retries = scenarios.DefaultDelivery().Retries
	}
	return p.Sanitized()
}

// DefaultPolicy is the policy of payments no scenario matches.
func DefaultPolicy() Policy { return PolicyOf(scenarios.DefaultDelivery()) }

// Sanitized is p with the default timeout when it has none and the valid
// variant when its own is unknown, so that a policy built in Go, or read
// from an older or edited file, cannot stop the notifier.
func (p Policy) Sanitized() Policy {
	if p.Timeout <= 0 {
		p.Timeout = scenarios.DefaultDelivery().Timeout
	}
	if _, err := notify.ParseVariant(string(p.Variant)); err != nil {
		p.Variant = notify.VariantValid
	}
	return p
}

// Record is a delivery not finished yet: enough to make its next attempt,
// and what durable stores keep of it.
type Record struct {
	ID       string              `json:"id"`       // "dlv_" and a number, unique in the sandbox's life
	Attempts int                 `json:"attempts"` // made so far
	Due      time.Time           `json:"due"`      // sandbox time of the next attempt
	ClientID string              `json:"clientId"`
	URL      string              `json:"url"`
	Key      string              `json:"key"` // the merchant's signing key
	Note     notify.Notification `json:"note"`
	Policy   Policy              `json:"policy"`
	// Claimed is when this process took the lease of the next attempt,
	// on a Claimer store (wall time); zero when it holds none. Not stored.
	Claimed time.Time `json:"-"`
}

// Attempt is one delivery attempt of a notify, as the journal records it.
type Attempt struct {
	DeliveryID      string            `json:"deliveryId"`
	Attempt         int               `json:"attempt"`
	ReferenceNumber string            `json:"referenceNumber"`
	ClientID        string            `json:"clientId"`
	Status          string            `json:"status"` // the status the notify announced
	Variant         notify.Variant    `json:"variant"`
	URL             string            `json:"url"`
	SentAt          time.Time         `json:"sentAt"` // wall time of the attempt, WIB, whole seconds: X-Request-Time unless the variant shifts it
	RequestHeaders  map[string]string `json:"requestHeaders"`
	RequestBody     string            `json:"requestBody"`
	ResponseStatus  int               `json:"responseStatus,omitempty"`
	ResponseBody    string            `json:"responseBody,omitempty"` // first 4 KiB
	LatencyMs       float64           `json:"latencyMs"`
	Error           string            `json:"error,omitempty"`
	Outcome         string            `json:"outcome"`
	NextAttemptAt   *time.Time        `json:"nextAttemptAt,omitempty"` // sandbox time, WIB, whole seconds
	// Relayed: the attempt went (or was to go) to the merchant's listener,
	// not to its notify URL; URL is then where the listener sent it.
	Relayed bool `json:"relayed,omitempty"`
}

// Store keeps what the notifier must not lose: the journal, and the records
// of deliveries still pending.
type Store interface {
	// NextDeliveryID returns a number never handed out before, for a
	// delivery id.
	NextDeliveryID() uint64
	// RecordAttempt adds a to the journal and, as one unit, updates its
	// delivery's record: pending is what remains to do (the next attempt
	// of a retrying delivery, or the same record for one interrupted), nil
	// once the delivery is finished.
	RecordAttempt(ctx context.Context, a Attempt, pending *Record) error
}

// Claimer is a Store several processes share (pgstore): the next attempt
// of each pending delivery is claimed by one of them at a time, for a
// lease, so none sends an attempt another holds, and one that dies holding
// it loses nothing: once the lease is over, another claims it. A notifier
// on a Claimer schedules nothing in memory: due times live in the store,
// and it claims what is due while it has idle workers.
type Claimer interface {
	Store
	// Claim leases to this process up to n deliveries whose next attempt
	// is due (by their merchant's sandbox time) and which nobody holds,
	// each for Lease of its policy, and returns them, Claimed set. A
	// record committed with Claimed set is leased to this process as it
	// is committed.
	Claim(ctx context.Context, n int) ([]Record, error)
	// Renew extends this process's lease of r, or takes it anew if it ran
	// out and nobody made an attempt since; false when another holds it
	// or made the attempt.
	Renew(ctx context.Context, r Record) (bool, error)
}

// Lease is how long a claim of an attempt under p lasts: the attempt's
// timeout and LeaseMargin. [sandbox] A replica killed mid-attempt delays
// that attempt by at most this.
func Lease(p Policy) time.Duration { return p.Timeout + LeaseMargin }

// LeaseMargin is what a lease adds to the attempt's timeout: time to sign
// the notify and commit the journal entry.
const LeaseMargin = 5 * time.Second

// Clocks tell the sandbox time of each merchant (merchants may have clocks
// of their own) and run a function at one.
type Clocks interface {
	// Now is the merchant's sandbox time.
	Now(clientID string) time.Time
	// At runs fn at the merchant's sandbox time t, or at once when t has
	// passed.
	At(clientID string, t time.Time, fn func())
}
