// Package listen is the protocol between the sandbox and `bjpay-sandbox
// listen`, which relays a merchant's notifies to a developer's laptop
// behind NAT: one WebSocket the listener opens at Path, carrying JSON text
// messages.
//
//	sandbox → listener  hello   once, first: the merchant whose notifies come
//	sandbox → listener  notify  one attempt of a notify: POST it to the local URL as it is
//	listener → sandbox  answer  what the local URL answered to the notify of the same id
//
// A notify carries exactly the headers and bytes the sandbox signed, and
// the attempt's timeout, which bounds the listener's own call. The sandbox
// journals each answer as the attempt's and applies the retry schedule.
// It closes the WebSocket with one of the Close codes to say why.
package listen

import "net/http"

// Path is where the sandbox accepts listeners.
const Path = "/_sandbox/listen"

// HeaderForwardTo, on the WebSocket handshake, says where the listener
// forwards notifies, for the sandbox to show.
const HeaderForwardTo = "X-Sandbox-Forward-To"

// Message types.
const (
	TypeHello  = "hello"
	TypeNotify = "notify"
	TypeAnswer = "answer"
)

// Message is every message, in either direction.
type Message struct {
	Type string `json:"type"`
	// ClientID, in a hello, is the merchant whose notifies come.
	ClientID string `json:"clientId,omitempty"`
	// ID pairs an answer with its notify.
	ID     string  `json:"id,omitempty"`
	Notify *Notify `json:"notify,omitempty"`
	Answer *Answer `json:"answer,omitempty"`
}

// Notify is one attempt of a notify.
type Notify struct {
	DeliveryID      string      `json:"deliveryId"`
	Attempt         int         `json:"attempt"`
	ReferenceNumber string      `json:"referenceNumber"`
	Status          string      `json:"status"` // the payment status it announces
	TimeoutMs       int64       `json:"timeoutMs"`
	Header          http.Header `json:"header"`
	Body            []byte      `json:"body"` // base64 in JSON: the exact bytes
}

// Answer is what the local URL answered, or why it did not.
type Answer struct {
	URL       string  `json:"url"`
	Status    int     `json:"status,omitempty"` // 0: no answer
	Body      string  `json:"body,omitempty"`   // the first MaxBody bytes
	LatencyMs float64 `json:"latencyMs"`
	Error     string  `json:"error,omitempty"` // why no answer came
}

// MaxBody bounds the answer's body a listener sends back, as the journal
// keeps it.
const MaxBody = 4 << 10

// MaxMessage bounds a message the sandbox or a listener reads: a notify
// is a few KB, an answer at most MaxBody and its URL.
const MaxMessage = 1 << 20

// Close codes (RFC 6455 leaves 4000–4999 to applications).
const (
	// CloseGoingAway: the sandbox is stopping; reconnect.
	CloseGoingAway = 1001
	// CloseRelayOff: the merchant's relay was switched off; stop.
	CloseRelayOff = 4000
	// CloseReplaced: another listener of the merchant connected; stop.
	CloseReplaced = 4001
	// CloseRevoked: the token it connected with was rotated, or the
	// sandbox reset; reconnecting is refused unless a valid token is given.
	CloseRevoked = 4002
)
