package delivery

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// Relay carries the attempts of merchants who switched relay on to their
// listener (`bjpay-sandbox listen` on a developer's laptop, which forwards
// them to a local URL) instead of their notify URL. [sandbox] BJPAY has no
// such thing: it stands in for the tunnel a developer behind NAT would
// need. A relayed attempt is the same attempt as any other (signed
// afresh, journalled, retried on the policy's schedule, bounded by its
// timeout); only the transport differs, and the outbound policy does not
// apply: nothing is dialled from the sandbox.
type Relay interface {
	// Relays reports whether the merchant's attempts go to its listener.
	Relays(clientID string) bool
	// Forward hands one attempt to the merchant's listener and returns
	// what the listener's local endpoint answered. It returns an error
	// wrapping ErrListenerOffline when no listener is connected, or the
	// listener left before answering, and ctx's error when ctx ends first.
	Forward(ctx context.Context, clientID string, n Relayed) (Answer, error)
}

// Holder is a Relay that knows whether this process holds a merchant's
// listener. On a Router store, a process that does not hold it leaves the
// merchant's attempts to the one that does (claim.go).
type Holder interface {
	// Listening reports whether the merchant's listener is connected to
	// this process.
	Listening(clientID string) bool
}

// ErrListenerOffline: relay is on, and no listener took the attempt.
var ErrListenerOffline = errors.New("no listener is connected")

// Relayed is one attempt of a notify as the listener is to send it:
// exactly the headers and bytes the sandbox signed.
type Relayed struct {
	DeliveryID      string
	Attempt         int
	ReferenceNumber string
	Status          string
	Header          http.Header
	Body            []byte
	// Timeout is the policy's: the listener's own call must end within it.
	Timeout time.Duration
}

// Answer is what a listener's local endpoint answered, or why it did not.
type Answer struct {
	URL     string // where the listener sent the notify
	Status  int    // 0 when no answer came
	Body    string // the first maxResponseBody bytes
	Latency time.Duration
	Error   string // why no answer came (connection refused, timeout, ...)
}

// relays reports whether d's attempts go to a listener.
func (n *Notifier) relays(clientID string) bool { return n.relay != nil && n.relay.Relays(clientID) }

// forward makes attempt a of d through the relay; the caller has signed it
// (sn's headers with the sandbox's own) and set its timeout on ctx.
func (n *Notifier) forward(ctx context.Context, d *delivery, a *Attempt, header http.Header, body []byte) error {
	a.Relayed = true
	a.RequestHeaders = flatten(header)
	a.SentAt = n.wallNow()
	ans, err := n.relay.Forward(ctx, d.ClientID, Relayed{DeliveryID: d.ID, Attempt: a.Attempt, ReferenceNumber: d.Note.ReferenceNumber,
		Status: d.Note.Status, Header: header, Body: body, Timeout: d.Policy.Timeout})
	if err != nil {
		a.LatencyMs = float64(n.wallNow().Sub(a.SentAt).Microseconds()) / 1000
		return err
	}
	// The latency is the merchant's, as the listener measured it: the
	// tunnel's own is not the merchant's doing.
	a.URL, a.LatencyMs = ans.URL, float64(ans.Latency.Microseconds())/1000
	if ans.Error != "" {
		return errors.New("the listener could not deliver it to " + ans.URL + ": " + ans.Error)
	}
	a.ResponseStatus, a.ResponseBody = ans.Status, truncate(ans.Body, maxResponseBody)
	return nil
}

// truncate cuts s to at most n bytes: a listener's answer is bounded by
// the listener, which the sandbox does not trust to.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
