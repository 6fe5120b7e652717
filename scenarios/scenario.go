package scenarios

import (
	"regexp"
	"slices"
	"time"
)

// A Scenario decides, for the payments it matches, how the create call
// answers, what happens to the payment afterwards and how its notifications
// are delivered. Scenarios come from YAML files (see Parse, Load and the
// embedded Library); the sandbox picks one per payment with Select.
//
// Scenarios returned by Parse, Load and Library are valid and have their
// defaults applied: Delivery is complete, so the sandbox needs no defaults
// of its own.
type Scenario struct {
	At          Positions `yaml:"-"`
	Name        string    `yaml:"name"`
	Description string    `yaml:"description"`
	Match       Match     `yaml:"match"`
	Create      Create    `yaml:"create"`
	Timeline    []Step    `yaml:"timeline"`
	Delivery    Delivery  `yaml:"delivery"`
	// File is where the scenario was loaded from; LibraryFile for the
	// embedded library.
	File string `yaml:"-"`

	// reference is Match.Reference compiled, set by Parse. Matches compiles
	// it on the fly for a Scenario built in Go.
	reference *regexp.Regexp
	// prefix is set when reference is only "^literal": matching is then
	// strings.HasPrefix, which every create pays for against each scenario.
	prefix    string
	hasPrefix bool
}

// Match selects payments. Every condition given must hold; an empty Match
// matches every payment.
type Match struct {
	At Positions `yaml:"-"`
	// ClientID is the merchant's exact client id.
	ClientID string `yaml:"clientId"`
	// PaymentCode lists channel codes (GOPAY, VA-BNI); the payment's must be
	// one of them.
	PaymentCode []string `yaml:"paymentCode"`
	// Reference is an RE2 regular expression searched for in the payment's
	// referenceNumber. It is not anchored: "^DELAY-" means "starts with".
	Reference string `yaml:"reference"`
	// Amount bounds the payment's amount, both ends inclusive.
	Amount *AmountRange `yaml:"amount"`
}

// AmountRange is an inclusive range of amounts in rupiah; a nil end is open.
type AmountRange struct {
	At  Positions `yaml:"-"`
	Min *int64    `yaml:"min"`
	Max *int64    `yaml:"max"`
}

// Create says how the create call answers. Error, Status and Drop each
// replace the normal answer, so at most one is set, and none of them creates
// a payment.
type Create struct {
	At Positions `yaml:"-"`
	// Latency is waited before answering, whatever the answer.
	Latency time.Duration `yaml:"latency"`
	// Error is a documented BJPAY code ("12") to answer instead of creating
	// the payment, with that code's documented message.
	Error string `yaml:"error"`
	// Status is an HTTP 5xx status to answer instead of creating the
	// payment, with the sandbox's error envelope: BJPAY documents no 5xx,
	// but a merchant must survive one.
	Status int `yaml:"status"`
	// Drop closes the connection without answering and without creating the
	// payment.
	Drop bool `yaml:"drop"`
}

// Step is one event of a Timeline, After the payment's creation in sandbox
// time. Exactly one of Status and Notify is set.
type Step struct {
	At    Positions     `yaml:"-"`
	After time.Duration `yaml:"after"`
	// Status is the terminal state (StatusPaid, StatusFailed or
	// StatusExpired) the payment enters; a notification follows, as it does
	// for any change of state. A payment that is no longer PENDING by then
	// stays as it is: terminal states are final.
	Status string `yaml:"status"`
	// Notify sends one more notification with this status without changing
	// the payment: the contradictory or out-of-order notification a
	// merchant must not trust blindly.
	Notify string `yaml:"notify"`
}

// Delivery says how a payment's notifications are delivered. Each
// notification (one per Step, and any sent through the control API) is
// delivered on its own with these settings.
type Delivery struct {
	At Positions `yaml:"-"`
	// Timeout bounds each attempt; an answer other than 2xx within it is a
	// failed attempt.
	Timeout time.Duration `yaml:"timeout"`
	// Retries are the delays before each new attempt after a failed one;
	// after the last, the notification is given up. Empty means no retry.
	Retries []time.Duration `yaml:"retries"`
	// Delay is waited before the first attempt of each notification.
	Delay time.Duration `yaml:"delay"`
	// Duplicates is how many extra identical notifications are delivered,
	// each on its own schedule, as a gateway that retries too eagerly does.
	Duplicates int `yaml:"duplicates"`
	// Variant is how the notification is built: VariantValid, or one of the
	// deliberately broken variants listed by Variants.
	Variant string `yaml:"variant"`
}

// The terminal states of a payment, for Step.Status and Step.Notify. A
// payment starts PENDING and enters at most one of them.
const (
	StatusPaid    = "PAID"
	StatusFailed  = "FAILED"
	StatusExpired = "EXPIRED"
)

// The values of Delivery.Variant. Every variant but VariantValid and
// VariantNonCanonicalJSON should be rejected by a careful merchant; each
// breaks exactly one thing and keeps the rest correct, so that a rejection
// says which check the merchant makes.
const (
	// VariantValid is the notification as BJPAY sends it.
	VariantValid = "valid"
	// VariantTamperedSignature changes one character of X-Signature.
	VariantTamperedSignature = "tampered-signature"
	// VariantWrongKey signs with a key derived from other credentials.
	VariantWrongKey = "wrong-key"
	// VariantStaleTimestamp sends an X-Request-Time far in the past (an
	// hour), correctly signed: only a replay window catches it.
	VariantStaleTimestamp = "stale-timestamp"
	// VariantFutureTimestamp sends an X-Request-Time far in the future (an
	// hour), correctly signed.
	VariantFutureTimestamp = "future-timestamp"
	// VariantMissingSignature leaves the X-Signature header out.
	VariantMissingSignature = "missing-signature"
	// VariantAmountChanged changes the body's totalAmount after signing, as
	// if in transit, so the signature no longer matches the body.
	VariantAmountChanged = "amount-changed"
	// VariantReferenceChanged changes the body's referenceNumber after
	// signing, as if in transit, so the signature no longer matches the body.
	VariantReferenceChanged = "reference-changed"
	// VariantNonCanonicalJSON sends a correct, correctly signed body written
	// differently (key order, indentation, \u escapes): the signature covers
	// values, not bytes, so a merchant must accept it.
	VariantNonCanonicalJSON = "non-canonical-json"
)

var variants = []string{
	VariantValid,
	VariantTamperedSignature,
	VariantWrongKey,
	VariantStaleTimestamp,
	VariantFutureTimestamp,
	VariantMissingSignature,
	VariantAmountChanged,
	VariantReferenceChanged,
	VariantNonCanonicalJSON,
}

// Variants lists the valid Delivery.Variant values, VariantValid first and
// always in the same order.
func Variants() []string { return slices.Clone(variants) }

// The delivery defaults. BJPAY documents none of them; these are the
// sandbox's choice (bjpay-api.md §5), shared by every scenario that does not
// say otherwise and by payments no scenario matches.
var (
	defaultTimeout = 10 * time.Second
	defaultRetries = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 6 * time.Hour}
)

// DefaultDelivery returns the delivery settings of a scenario that has no
// delivery section, for payments no scenario matches: a 10 s timeout,
// retries after 1m, 5m, 15m, 1h and 6h, no delay, no duplicates, the valid
// variant.
func DefaultDelivery() Delivery {
	var d Delivery
	d.setDefaults()
	return d
}

// setDefaults fills what the file left out. It runs after validation, which
// has rejected a zero timeout and an empty variant that were written, so a
// zero value here was not written. Retries is the exception: an explicit
// `retries: []` means "no retry" and is kept, which At tells apart from a
// missing key (a Delivery built in Go says the same with a non-nil empty
// slice).
func (d *Delivery) setDefaults() {
	if d.Timeout == 0 {
		d.Timeout = defaultTimeout
	}
	if _, written := d.At["retries"]; !written && d.Retries == nil {
		d.Retries = slices.Clone(defaultRetries)
	}
	if d.Variant == "" {
		d.Variant = VariantValid
	}
}
