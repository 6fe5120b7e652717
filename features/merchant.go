package features

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/bjpay/bjpay-sandbox/signer"
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
	// sandboxTimeout is the sandbox's default notify timeout.
	sandboxTimeout = 10 * time.Second
)

// Conformance is the merchant under test and the sandbox it calls.
type Conformance struct {
	// SandboxURL is the sandbox's base URL (BJPAY surface and control API).
	SandboxURL string
	// Merchant is the merchant under test, as the driver file describes it.
	Merchant Merchant
	// ReplayWindow is how old a notify the merchant must refuse: the
	// replay scenario sends one a minute older. DefaultReplayWindow when 0.
	ReplayWindow time.Duration
	// DeliveryWait bounds each wait for a notify; DefaultDeliveryWait when 0.
	DeliveryWait time.Duration
	// Client sends every request; http.DefaultClient when nil.
	Client *http.Client
}

func (c *Conformance) defaults() {
	if c.ReplayWindow <= 0 {
		c.ReplayWindow = DefaultReplayWindow
	}
	if c.DeliveryWait <= 0 {
		c.DeliveryWait = DefaultDeliveryWait
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
	c   Conformance
	api sandboxAPI

	ref        string // the payment under test
	amount     int64
	lastNotify map[string]any // the body of the last ad hoc notify request
	last       *attempt       // the last delivery attempt
}

// InitializeConformance returns godog's scenario initializer for the
// merchant conformance suite (merchant/*.feature) against c. Scenarios
// tagged @checkout need c.Merchant.Checkout; leave them out with the tag
// expression "~@checkout" when it is nil.
func InitializeConformance(c Conformance) func(*godog.ScenarioContext) {
	c.defaults()
	return func(sc *godog.ScenarioContext) {
		w := &merchantWorld{c: c, api: sandboxAPI{c.SandboxURL, c.Client}}
		isolateClock(sc, func() sandboxAPI { return w.api })

		sc.Step(`^a pending payment of (\d+) rupiah via (\S+) that the merchant knows of$`, w.pendingPayment)
		sc.Step(`^the merchant has started a payment of (\d+) rupiah via (\S+) through its checkout$`, w.checkout)

		sc.Step(`^the sandbox sends a valid (PAID|EXPIRED|FAILED) notify for it$`, func(ctx context.Context, status string) error {
			return w.notify(ctx, map[string]any{"status": status})
		})
		sc.Step(`^the sandbox sends a PAID notify for it signed as "([^"]+)"$`, func(ctx context.Context, variant string) error {
			return w.notify(ctx, map[string]any{"status": "PAID", "variant": variant})
		})
		sc.Step(`^the sandbox sends a validly signed PAID notify for it with a totalAmount (\d+) rupiah higher$`, func(ctx context.Context, more int64) error {
			return w.notify(ctx, map[string]any{"status": "PAID", "totalAmount": w.amount + more})
		})
		sc.Step(`^the sandbox sends a validly signed PAID notify for it stamped a minute before the replay window$`, func(ctx context.Context) error {
			return w.notify(ctx, map[string]any{"status": "PAID", "requestTimeOffset": (-w.c.ReplayWindow - time.Minute).String()})
		})
		sc.Step(`^the sandbox sends the same notify again$`, func(ctx context.Context) error { return w.notify(ctx, w.lastNotify) })
		sc.Step(`^the customer pays it$`, func(ctx context.Context) error {
			return w.api.control(ctx, http.MethodPost, "/transactions/"+w.ref+"/pay?clientId="+w.c.Merchant.ClientID, nil, nil)
		})
		sc.Step(`^the sandbox clock passes its expiry$`, func(ctx context.Context) error {
			return w.api.passExpiry(ctx, w.c.Merchant.ClientID, w.ref)
		})
		sc.Step(`^the sandbox delivers its (PAID|EXPIRED|FAILED) notify$`, w.delivered)

		sc.Step(`^the merchant acknowledges it$`, w.acknowledges)
		sc.Step(`^the merchant rejects it$`, w.rejects)
		sc.Step(`^the merchant answered within the sandbox's timeout$`, w.inTime)
		sc.Step(`^the merchant's order is (not )?paid, if its status can be read$`, w.orderPaid)
	}
}

// pendingPayment makes a PENDING payment the merchant has an order for:
// through its checkout when the driver file says how, else created on the
// sandbox with the merchant's credentials (then the merchant meets the
// reference for the first time in the notify).
func (w *merchantWorld) pendingPayment(ctx context.Context, amount int64, code string) error {
	if w.c.Merchant.Checkout != nil {
		return w.checkout(ctx, amount, code)
	}
	w.ref, w.amount = newReference("CONF-"), amount
	body, _ := json.Marshal(map[string]any{
		"paymentCode": code, "referenceNumber": w.ref, "customerName": "Budi Santoso",
		"customerEmail": "budi@example.com", "customerPhoneNumber": "6281234567890",
		"finishNotifyUrl": w.c.Merchant.NotifyURL, "totalAmount": amount,
		"items": []any{map[string]any{"name": "Conformance test", "quantity": 1, "amount": amount}},
	})
	x := send(ctx, w.c.Client, http.MethodPost, strings.TrimRight(w.c.SandboxURL, "/")+"/api/merchant/transaction/create",
		bjpayHeader(w.c.Merchant.ClientID, w.c.Merchant.ClientSecret, nil), body)
	if x.err != nil || x.status != http.StatusOK {
		return fmt.Errorf("expected the sandbox to create the payment, but it did not:\n%s", x)
	}
	return nil
}

// checkout asks the merchant to start a payment, then checks the sandbox
// has it: the merchant really called Create Payment with its credentials.
func (w *merchantWorld) checkout(ctx context.Context, amount int64, code string) error {
	co := w.c.Merchant.Checkout
	if co == nil {
		return errors.New("this scenario needs merchant.checkout in the driver file (run it with --tags '~@checkout' to leave it out)")
	}
	data := CheckoutData{Amount: amount, PaymentCode: code}
	var u, body bytes.Buffer
	if err := co.url.Execute(&u, data); err != nil {
		return err
	}
	if err := co.body.Execute(&body, data); err != nil {
		return err
	}
	x := send(ctx, w.c.Client, co.Method, u.String(), http.Header{"Content-Type": {"application/json"}}, body.Bytes())
	if x.err != nil || x.status/100 != 2 {
		return fmt.Errorf("expected the merchant's checkout to answer 2xx, but it did not:\n%s", x)
	}
	ref, err := field(x.body, co.ReferenceNumber)
	if err != nil {
		return fmt.Errorf("expected the merchant's checkout answer to hold the referenceNumber at %q: %v\n%s", co.ReferenceNumber, err, x)
	}
	var tx struct {
		Status          string `json:"status"`
		TotalAmount     int64  `json:"totalAmount"`
		PaymentCode     string `json:"paymentCode"`
		FinishNotifyURL string `json:"finishNotifyUrl"`
	}
	if err := w.api.control(ctx, http.MethodGet, "/transactions/"+ref+"?clientId="+w.c.Merchant.ClientID, nil, &tx); err != nil {
		return fmt.Errorf("the merchant's checkout answered referenceNumber %q, but the sandbox has no such payment for client %s: did the merchant call the sandbox's Create Payment with these credentials?\n%s%w", ref, w.c.Merchant.ClientID, x, err)
	}
	if tx.TotalAmount != amount || tx.PaymentCode != code || tx.Status != "PENDING" {
		return fmt.Errorf("expected a PENDING payment of %d via %s, but the merchant created %s %d via %s\n%s", amount, code, tx.Status, tx.TotalAmount, tx.PaymentCode, x)
	}
	if tx.FinishNotifyURL == "" {
		return fmt.Errorf("the merchant created payment %s without finishNotifyUrl and no notifyUrl is registered: no notify can reach it", ref)
	}
	w.ref, w.amount = ref, amount
	return nil
}

// notify sends an ad hoc notify for the payment, once, without retries,
// and waits for the merchant's answer.
func (w *merchantWorld) notify(ctx context.Context, req map[string]any) error {
	if w.ref == "" {
		return errors.New("no payment yet: a step such as 'a pending payment ... that the merchant knows of' must come first")
	}
	req["retry"] = false
	w.lastNotify = req
	var out struct {
		DeliveryIDs []string `json:"deliveryIds"`
	}
	if err := w.api.control(ctx, http.MethodPost, "/transactions/"+w.ref+"/notify?clientId="+w.c.Merchant.ClientID, req, &out); err != nil {
		return err
	}
	if len(out.DeliveryIDs) == 0 {
		return errors.New("the sandbox sent no notify: the payment has no finishNotifyUrl and the merchant no notifyUrl")
	}
	id := out.DeliveryIDs[0]
	a, err := w.api.waitAttempt(ctx, w.c.Merchant.ClientID, w.ref, "notify "+id, w.c.DeliveryWait, func(a *attempt) bool { return a.DeliveryID == id })
	w.last = a
	return err
}

// delivered waits for the first attempt of the sandbox's own notify of
// status (after a pay or an expiry).
func (w *merchantWorld) delivered(ctx context.Context, status string) error {
	a, err := w.api.waitAttempt(ctx, w.c.Merchant.ClientID, w.ref, "a "+status+" notify", w.c.DeliveryWait, func(a *attempt) bool {
		return a.Status == status && a.Attempt == 1
	})
	w.last = a
	return err
}

func (w *merchantWorld) acknowledges() error {
	if w.last == nil {
		return errors.New("no notify was sent")
	}
	if !w.last.acknowledged() {
		return fmt.Errorf("expected the merchant to acknowledge the notify with 2xx, but it did not (BJPAY would retry it for hours).%s\n%s", w.last.payloadHint(), w.last)
	}
	return nil
}

func (w *merchantWorld) rejects() error {
	if w.last == nil {
		return errors.New("no notify was sent")
	}
	switch {
	case w.last.acknowledged():
		return fmt.Errorf("expected the merchant to reject the notify with a non-2xx status, but it acknowledged it with HTTP %d\n%s", w.last.ResponseStatus, w.last)
	case w.last.ResponseStatus == 0:
		return fmt.Errorf("expected the merchant to reject the notify with a non-2xx status, but it gave no answer\n%s", w.last)
	}
	return nil
}

func (w *merchantWorld) inTime() error {
	if w.last == nil {
		return errors.New("no notify was sent")
	}
	if w.last.ResponseStatus == 0 || time.Duration(w.last.LatencyMs*float64(time.Millisecond)) >= sandboxTimeout {
		return fmt.Errorf("expected an answer within the sandbox's %s timeout, but got none: BJPAY would count the notify as failed and retry it\n%s", sandboxTimeout, w.last)
	}
	return nil
}

// orderPaid reads the merchant's order status when the driver file says
// how; without orderStatus there is nothing to read and the check is not
// made (the run's summary says so).
func (w *merchantWorld) orderPaid(ctx context.Context, not string) error {
	o := w.c.Merchant.OrderStatus
	if o == nil {
		return nil
	}
	var u bytes.Buffer
	if err := o.url.Execute(&u, OrderData{ReferenceNumber: w.ref}); err != nil {
		return err
	}
	x := send(ctx, w.c.Client, o.Method, u.String(), nil, nil)
	if x.err != nil || x.status/100 != 2 {
		return fmt.Errorf("expected the merchant's order status to answer 2xx, but it did not:\n%s", x)
	}
	status, err := field(x.body, o.Status)
	if err != nil {
		return fmt.Errorf("expected the order status answer to hold the status at %q: %v\n%s", o.Status, err, x)
	}
	wantPaid := not == ""
	if (status == o.Paid) != wantPaid {
		verdict := map[bool]string{true: "paid", false: "not paid"}
		last := ""
		if w.last != nil {
			last = "last notify:\n" + w.last.String()
		}
		return fmt.Errorf("expected the merchant's order %s to be %s, but its status is %q\n%s%s", w.ref, verdict[wantPaid], status, x, last)
	}
	return nil
}

// payloadHint shows the payload a validly signed notify was signed over, so
// a merchant whose verification fails can compare it with its own.
func (a *attempt) payloadHint() string {
	if a.Variant != "valid" && a.Variant != "non-canonical-json" {
		return ""
	}
	ref, err1 := field([]byte(a.RequestBody), "referenceNumber")
	code, err2 := field([]byte(a.RequestBody), "paymentCode")
	amount, err3 := field([]byte(a.RequestBody), "totalAmount")
	if err := errors.Join(err1, err2, err3); err != nil {
		return ""
	}
	return fmt.Sprintf(" The notify is validly signed: X-Signature is HMAC-SHA256(md5(clientId:clientSecret) as hex, %q).",
		signer.Payload(a.RequestHeaders[signer.HeaderRequestTime], ref, code, mustAmount(amount)))
}

func mustAmount(s string) float64 {
	f, _ := signer.ParseAmount(s)
	return f
}

// field returns the string or number at a dot path ("data.ref") of a JSON
// object.
func field(body []byte, path string) (string, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("the answer is not JSON: %v", err)
	}
	for _, key := range strings.Split(path, ".") {
		obj, ok := v.(map[string]any)
		if !ok {
			return "", fmt.Errorf("no object at %q", key)
		}
		if v, ok = obj[key]; !ok {
			return "", fmt.Errorf("no field %q", key)
		}
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	}
	return "", fmt.Errorf("%v is not a string or a number", v)
}

// newReference gives each scenario its own reference, so scenarios never
// collide on the sandbox (references are unique per merchant).
func newReference(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}
