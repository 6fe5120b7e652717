package features

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// Preflight checks, before any scenario, what every scenario relies on,
// so that a set-up mistake stops the run with one message rather than
// failing each scenario: when the driver file has a checkout, one checkout
// must create a PENDING payment on the sandbox under the driver's client
// id (the merchant calls this sandbox, with these credentials), and when
// it has an order status, that order must read. The error says what the
// sandbox received and what it expected.
func (c Conformance) Preflight(ctx context.Context) error {
	c.defaults()
	co := c.Merchant.Checkout
	if co == nil {
		return nil
	}
	var last *exchange
	ref, err := c.startCheckout(ctx, 58000, "VA-BNI", func(_ string, x *exchange) { last = x })
	if err == nil {
		return c.preflightOrder(ctx, ref)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	answered := ""
	if last != nil {
		answered = "\nThe merchant's checkout:\n" + last.String()
	}
	if last == nil || last.err != nil || last.status/100 != 2 {
		return fmt.Errorf("the merchant's checkout did not answer 2xx to a payment of 58000 via VA-BNI, so it created no payment with which to check the driver's credentials and sandbox address (if the sandbox refused the merchant's Create Payment, it says why below).%s", answered)
	}
	ref, ferr := field(last.body, co.ReferenceNumber)
	if ferr != nil {
		return fmt.Errorf("the merchant's checkout answer has no referenceNumber at %q (merchant.checkout.referenceNumber): %v%s", co.ReferenceNumber, ferr, answered)
	}
	// Whose payment is it, if the sandbox has it at all?
	var txs []struct {
		ReferenceNumber string `json:"referenceNumber"`
		ClientID        string `json:"clientId"`
	}
	api := sandboxAPI{c.SandboxURL, c.Client}
	if lerr := api.control(ctx, http.MethodGet, "/transactions?referenceNumber="+url.QueryEscape(ref), nil, &txs); lerr != nil {
		return lerr
	}
	for _, tx := range txs {
		if tx.ReferenceNumber == ref && tx.ClientID == c.Merchant.ClientID {
			return fmt.Errorf("the merchant's checkout does not create the payment the driver file describes: %w", err)
		}
		if tx.ReferenceNumber == ref {
			return fmt.Errorf("credentials differ: the merchant created payment %s on the sandbox with X-Client-Id %s, but the driver file's merchant.clientId is %s, so every notify would be signed with a key the merchant does not use. Give the driver file the credentials the merchant calls BJPAY with (or the merchant the driver's).%s", ref, tx.ClientID, c.Merchant.ClientID, answered)
		}
	}
	return fmt.Errorf("the merchant's checkout answered referenceNumber %q, but the sandbox at %s has no such payment: the merchant did not create it there with the driver's credentials. Configure the merchant with BJPAY base URL %s and the driver file's merchant.clientId and clientSecret (%v).%s", ref, c.SandboxURL, c.SandboxURL, err, answered)
}

// preflightOrder reads the preflight's order through orderStatus.
func (c Conformance) preflightOrder(ctx context.Context, ref string) error {
	if c.Merchant.OrderStatus == nil {
		return nil
	}
	w := &merchantWorld{c: c, api: sandboxAPI{c.SandboxURL, c.Client}, ref: ref}
	if _, err := w.readOrder(ctx); err != nil {
		return fmt.Errorf("merchant.orderStatus does not read the order the checkout just created: %w", err)
	}
	return nil
}
