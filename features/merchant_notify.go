package features

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"sync"
	"time"

	"github.com/bjpay/bjpay-sandbox/signer"
)

// notify sends an ad hoc notify for the payment, once, without retries,
// and waits for the merchant's answer.
func (w *merchantWorld) notify(ctx context.Context, req map[string]any) error {
	a, why, err := w.sendNotify(ctx, req)
	w.last, w.lastWhy = a, why
	return err
}

// sendNotify sends one ad hoc notify and returns its attempt, once the
// merchant has answered, and the sandbox's sentence on its variant.
func (w *merchantWorld) sendNotify(ctx context.Context, req map[string]any) (*attempt, string, error) {
	if w.ref == "" {
		return nil, "", errors.New("no payment yet: a step such as 'a pending payment ... that the merchant knows of' must come first")
	}
	req = maps.Clone(req)
	req["retry"] = false
	var out struct {
		DeliveryIDs []string `json:"deliveryIds"`
		Why         string   `json:"why"`
	}
	if err := w.api.control(ctx, http.MethodPost, "/transactions/"+w.ref+"/notify?clientId="+w.c.Merchant.ClientID, req, &out); err != nil {
		return nil, "", err
	}
	if len(out.DeliveryIDs) == 0 {
		return nil, "", errors.New("the sandbox sent no notify: the payment has no finishNotifyUrl and the merchant no notifyUrl")
	}
	id := out.DeliveryIDs[0]
	a, err := w.api.waitAttempt(ctx, w.c.Merchant.ClientID, w.ref, "notify "+id, w.c.DeliveryWait, func(a *attempt) bool { return a.DeliveryID == id })
	if a != nil {
		w.recordAttempt(a, out.Why)
	}
	return a, out.Why, err
}

// notifyTwice sends a valid PAID notify and the same notify again: as
// BJPAY retries it (once the first was applied, signed anew at a later
// X-Request-Time), or at the same time as the first (as a network retry
// may deliver it).
func (w *merchantWorld) notifyTwice(ctx context.Context, how string) error {
	paid := map[string]any{"status": "PAID"}
	if how == "at the same time" {
		var wg sync.WaitGroup
		var errs [2]error
		for i := range w.pair {
			wg.Go(func() { w.pair[i], _, errs[i] = w.sendNotify(ctx, paid) })
		}
		wg.Wait()
		w.last = w.pair[1]
		return errors.Join(errs[:]...)
	}
	first, _, err := w.sendNotify(ctx, paid)
	w.pair[0], w.last = first, first
	if err != nil {
		return err
	}
	if o := w.c.Merchant.OrderStatus; o != nil && first.acknowledged() {
		// BJPAY retries minutes later: by then the merchant has applied
		// the first.
		st, ok, err := w.until(ctx, func(st orderState) bool {
			return st.status == o.Paid && (!st.hasCredited || w.before == nil || st.credited != w.before.credited)
		})
		if err != nil {
			return err
		}
		if !ok {
			return failf(causeNotApplied, "expected the merchant to apply the acknowledged PAID notify within %s (merchant.orderStatus.within) before BJPAY's retry, but its order reads %s\nfirst notify:\n%s", o.Within, st, first)
		}
		w.afterFirst = &st
	}
	// A retry carries a fresh X-Request-Time, so a fresh signature: wait
	// for the next second (the header has whole seconds).
	if err := sleepUntil(ctx, first.stamp().Add(time.Second)); err != nil {
		return err
	}
	second, _, err := w.sendNotify(ctx, paid)
	w.pair[1], w.last = second, second
	return err
}

// sleepUntil waits for t, or for ctx to be done.
func sleepUntil(ctx context.Context, t time.Time) error {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// stamp is the notify's X-Request-Time, or the time it was sent.
func (a *attempt) stamp() time.Time {
	if at, err := time.Parse(time.RFC3339, a.RequestHeaders[signer.HeaderRequestTime]); err == nil {
		return at
	}
	return a.SentAt
}

// delivered waits for the first attempt of the sandbox's own notify of
// status (after a pay or an expiry).
func (w *merchantWorld) delivered(ctx context.Context, status string) error {
	a, err := w.api.waitAttempt(ctx, w.c.Merchant.ClientID, w.ref, "a "+status+" notify", w.c.DeliveryWait, func(a *attempt) bool {
		return a.Status == status && a.Attempt == 1
	})
	w.last, w.lastWhy = a, ""
	if a != nil {
		w.recordAttempt(a, "")
	}
	return err
}

func (w *merchantWorld) acknowledges() error {
	if w.last == nil {
		return errors.New("no notify was sent")
	}
	return w.last.mustBeAcknowledged()
}

func (w *merchantWorld) acknowledgesBoth() error {
	for i, a := range w.pair {
		if a == nil {
			return errors.New("no notify was sent")
		}
		if err := a.mustBeAcknowledged(); err != nil {
			return fmt.Errorf("notify %d of 2: %w", i+1, err)
		}
	}
	return nil
}

// mustBeAcknowledged fails unless the merchant answered the valid notify
// with 2xx, saying what its answer suggests: a signature hint only when
// the answer is the refusal of a signature (401, 403).
func (a *attempt) mustBeAcknowledged() error {
	if a.acknowledged() {
		return nil
	}
	cause := causeValidRefused(a)
	const head = "expected the merchant to acknowledge the notify with 2xx, but"
	switch s := a.ResponseStatus; {
	case s == 0:
		return failf(cause, "%s it gave no answer (BJPAY would count the notify as failed and retry it): %s\n%s", head, a.Error, a)
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		return failf(cause, "%s it refused it with HTTP %d, as if the signature did not verify (BJPAY would retry it for hours).%s\n%s", head, s, a.payloadHint(), a)
	case s >= 500:
		return failf(cause, "%s it failed with HTTP %d: an error in its notify handler, see its logs (BJPAY would retry it for hours)\n%s", head, s, a)
	case s >= 300 && s < 400:
		return failf(cause, "%s it answered a redirect, HTTP %d, which BJPAY does not follow (it would retry the notify for hours)\n%s", head, s, a)
	default:
		return failf(cause, "%s it refused it with HTTP %d: a business refusal of a notify that is validly signed and matches the order, its reason in the answer below (BJPAY would retry it for hours; a notify for an order already applied, or unknown, is acknowledged too)\n%s", head, s, a)
	}
}

func (w *merchantWorld) rejects() error {
	if w.last == nil {
		return errors.New("no notify was sent")
	}
	switch a := w.last; {
	case a.acknowledged():
		cause, why := causeForgedAccepted, w.lastWhy
		if off := a.stampOffset(); off.Abs() > w.c.ReplayWindow {
			cause = causeStampAccepted
			side := map[bool]string{true: "before", false: "after"}[off < 0]
			why = fmt.Sprintf("It is validly signed, but its X-Request-Time is %s %s the moment it was sent; the replay window is %s (--replay-window): refuse an X-Request-Time further than that from your clock, in either direction, or a captured notify can be replayed.",
				off.Abs().Round(time.Second), side, w.c.ReplayWindow)
		}
		return failf(cause, "expected the merchant to refuse the notify with a non-2xx status, but it acknowledged it with HTTP %d. %s\n%s", a.ResponseStatus, why, a)
	case a.ResponseStatus == 0:
		return fmt.Errorf("expected the merchant to refuse the notify with a non-2xx status at once, but it gave no answer: %s\n%s", a.Error, a)
	}
	return nil
}

// rejectsOrIgnores passes a refusal, or an acknowledgement after which the
// order never changes: what a business check guards is that no money
// moves, and a merchant that queues notifies acknowledges before it looks.
// [sandbox] BJPAY's docs say nothing of a notify whose amount is not the
// order's; either answer is accepted, as long as the order stays as it was.
func (w *merchantWorld) rejectsOrIgnores(ctx context.Context) error {
	a := w.last
	if a == nil {
		return errors.New("no notify was sent")
	}
	if a.ResponseStatus == 0 {
		return fmt.Errorf("expected the merchant to refuse the notify, or to acknowledge it and leave the order as it was, but it gave no answer: %s\n%s", a.Error, a)
	}
	if a.acknowledged() && w.c.Merchant.OrderStatus == nil {
		return fmt.Errorf("expected the merchant to refuse the notify with a non-2xx status, but it acknowledged it with HTTP %d; without merchant.orderStatus in the driver file nothing shows that the order was left as it was\n%s", a.ResponseStatus, a)
	}
	return w.staysAsItWas(ctx)
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
	f, _ := signer.ParseAmount(amount)
	return fmt.Sprintf(" The notify is validly signed: X-Signature is HMAC-SHA256(md5(clientId:clientSecret) as hex, %q).",
		signer.Payload(a.RequestHeaders[signer.HeaderRequestTime], ref, code, f))
}
