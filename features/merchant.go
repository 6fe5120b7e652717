package features

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/cucumber/godog"
)

// Defaults of Conformance.
const (
	// DefaultReplayWindow is how old an X-Request-Time a merchant should
	// still accept. [sandbox] BJPAY documents no window; five minutes is
	// the usual choice for webhooks (Stripe's default tolerance) and the
	// skew the sandbox allows on merchants' own requests.
	DefaultReplayWindow = 5 * time.Minute
	// DefaultDeliveryWait bounds the wait for a notify's attempt in the
	// journal: the sandbox's 10 s timeout and a margin.
	DefaultDeliveryWait = 15 * time.Second
	// DefaultCallTimeout bounds each call to the merchant (its checkout,
	// its order status) when neither Conformance.CallTimeout nor the
	// driver's merchant.timeout says otherwise. [sandbox] BJPAY's docs
	// name no timeout; this is as long as the sandbox waits for a notify's
	// answer.
	DefaultCallTimeout = 10 * time.Second
	// sandboxTimeout is the sandbox's default notify timeout.
	sandboxTimeout = 10 * time.Second
)

// Conformance is the merchant under test and the sandbox it calls.
type Conformance struct {
	// SandboxURL is the sandbox's base URL (BJPAY surface and control API).
	SandboxURL string
	// Merchant is the merchant under test, as the driver file describes it.
	Merchant Merchant
	// ReplayWindow is how far from its clock an X-Request-Time the
	// merchant must refuse: the replay scenarios send one a minute
	// further. DefaultReplayWindow when 0.
	ReplayWindow time.Duration
	// DeliveryWait bounds each wait for a notify; DefaultDeliveryWait when 0.
	DeliveryWait time.Duration
	// CallTimeout bounds each call to the merchant unless
	// Merchant.Timeout is set; DefaultCallTimeout when 0.
	CallTimeout time.Duration
	// Client sends every request; http.DefaultClient when nil.
	Client *http.Client
	// Recorder, when set, keeps what each scenario sent and got.
	Recorder *Recorder
}

func (c *Conformance) defaults() {
	if c.ReplayWindow <= 0 {
		c.ReplayWindow = DefaultReplayWindow
	}
	if c.DeliveryWait <= 0 {
		c.DeliveryWait = DefaultDeliveryWait
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = DefaultCallTimeout
	}
	if c.Merchant.Timeout <= 0 {
		c.Merchant.Timeout = c.CallTimeout
	}
	if o := c.Merchant.OrderStatus; o != nil && o.Within <= 0 {
		cp := *o
		cp.Within = DefaultWithin
		c.Merchant.OrderStatus = &cp
	}
	if c.Client == nil {
		c.Client = http.DefaultClient
	}
}

// Tags of scenarios that need optional parts of the driver file.
const (
	// CheckoutTag marks scenarios that need merchant.checkout.
	CheckoutTag = "@checkout"
)

// merchantWorld is one conformance scenario's state.
type merchantWorld struct {
	c        Conformance
	api      sandboxAPI
	scenario string // its name, for the recorder

	ref     string // the payment under test
	amount  int64
	code    string      // its paymentCode
	before  *orderState // the order as read when the payment was made
	last    *attempt    // the last delivery attempt
	lastWhy string      // the sandbox's sentence on the last notify's variant
	pair    [2]*attempt // a notify and its duplicate
	// afterFirst is the order once the first of a notify and its retry
	// was applied; nil when the two were sent at the same time.
	afterFirst *orderState
}

// InitializeConformance returns godog's scenario initializer for the
// merchant conformance suite (merchant/*.feature) against c. Scenarios
// tagged @checkout need c.Merchant.Checkout; leave them out with the tag
// expression "~@checkout" when it is nil.
//
// Steps follow the context godog gives them: once it is done (the run was
// interrupted), the scenario under way stops and the others are skipped.
func InitializeConformance(c Conformance) func(*godog.ScenarioContext) {
	c.defaults()
	return func(sc *godog.ScenarioContext) {
		w := &merchantWorld{c: c, api: sandboxAPI{c.SandboxURL, c.Client}}
		sc.Before(func(ctx context.Context, s *godog.Scenario) (context.Context, error) {
			w.scenario = s.Name
			c.Recorder.start(s.Name)
			if ctx.Err() != nil {
				return ctx, godog.ErrSkip // interrupted: run nothing more
			}
			return ctx, nil
		})
		sc.After(func(ctx context.Context, s *godog.Scenario, err error) (context.Context, error) {
			c.Recorder.finish(s.Name, err, ctx.Err() != nil)
			return ctx, nil
		})
		isolateClock(sc, func() sandboxAPI { return w.api }, w.c.Merchant.ClientID)

		sc.Step(`^a pending payment of (\d+) rupiah via (\S+) that the merchant knows of$`, w.pendingPayment)
		sc.Step(`^a pending payment of (\d+) rupiah via (\S+) that the merchant never created$`, w.strangePayment)
		sc.Step(`^the merchant has started a payment of (\d+) rupiah via (\S+) through its checkout$`, w.checkout)

		sc.Step(`^the sandbox sends a valid (PAID|EXPIRED|FAILED) notify for it$`, func(ctx context.Context, status string) error {
			return w.notify(ctx, map[string]any{"status": status})
		})
		sc.Step(`^the sandbox sends a (PAID|EXPIRED|FAILED) notify for it signed as "([^"]+)"$`, func(ctx context.Context, status, variant string) error {
			return w.notify(ctx, map[string]any{"status": status, "variant": variant})
		})
		sc.Step(`^the sandbox sends a validly signed PAID notify for it with a totalAmount (\d+) rupiah higher$`, func(ctx context.Context, more int64) error {
			return w.notify(ctx, map[string]any{"status": "PAID", "totalAmount": w.amount + more})
		})
		sc.Step(`^the sandbox sends a validly signed PAID notify for it stamped a minute (before|after) the replay window$`, func(ctx context.Context, side string) error {
			off := w.c.ReplayWindow + time.Minute
			if side == "before" {
				off = -off
			}
			return w.notify(ctx, map[string]any{"status": "PAID", "requestTimeOffset": off.String()})
		})
		sc.Step(`^the sandbox sends a valid PAID notify for it and the same notify again (as BJPAY retries it|at the same time)$`, w.notifyTwice)
		sc.Step(`^the customer pays it$`, func(ctx context.Context) error {
			return w.api.control(ctx, http.MethodPost, "/transactions/"+w.ref+"/pay?clientId="+w.c.Merchant.ClientID, nil, nil)
		})
		sc.Step(`^the sandbox clock passes its expiry$`, func(ctx context.Context) error {
			return w.api.passExpiry(ctx, w.c.Merchant.ClientID, w.ref)
		})
		sc.Step(`^the sandbox delivers its (PAID|EXPIRED|FAILED) notify$`, w.delivered)

		sc.Step(`^the merchant acknowledges it$`, w.acknowledges)
		sc.Step(`^the merchant acknowledges both$`, w.acknowledgesBoth)
		sc.Step(`^the merchant rejects it$`, w.rejects)
		sc.Step(`^the merchant rejects it or leaves the order as it was, if its status can be read$`, w.rejectsOrIgnores)
		sc.Step(`^the merchant answered within the sandbox's timeout$`, w.inTime)

		sc.Step(`^the merchant's order becomes paid, if its status can be read$`, w.becomesPaid)
		sc.Step(`^the merchant's order stays paid, if its status can be read$`, w.staysPaid)
		sc.Step(`^the merchant's order stays unpaid, if its status can be read$`, w.staysUnpaid)
		sc.Step(`^the merchant's order stays as it was, if its status can be read$`, w.staysAsItWas)
		sc.Step(`^the merchant has credited the order once, if its credits can be read$`, w.creditedOnce)
	}
}

// record keeps an exchange for the scenario's report.
func (w *merchantWorld) record(title string, x *exchange) {
	w.c.Recorder.add(w.scenario, Exchange{Title: title, Request: dedent(x.request()), Answer: dedent(x.answer())})
}

// recordAttempt keeps a notify attempt for the scenario's report.
func (w *merchantWorld) recordAttempt(a *attempt, why string) {
	w.c.Recorder.add(w.scenario, Exchange{Title: "notify " + a.label(), Request: dedent(a.request()), Answer: dedent(a.answer()), Why: why})
}

// dedent removes the indentation transcripts have in a step's message,
// where they stand under a label.
func dedent(s string) string { return strings.ReplaceAll(s, "\n            ", "\n") }
