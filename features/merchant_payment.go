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
)

// Titles of the exchanges with the merchant in a scenario's record.
const (
	titleCheckout    = "checkout"
	titleOrderStatus = "order status"
	titleCreate      = "create payment (by the harness)"
)

// pendingPayment makes a PENDING payment the merchant has an order for:
// through its checkout when the driver file says how, else created on the
// sandbox with the merchant's credentials (then the merchant meets the
// reference for the first time in the notify).
func (w *merchantWorld) pendingPayment(ctx context.Context, amount int64, code string) error {
	if w.c.Merchant.Checkout != nil {
		return w.checkout(ctx, amount, code)
	}
	return w.strangePayment(ctx, amount, code)
}

// strangePayment creates a PENDING payment on the sandbox with the
// merchant's credentials, past its checkout: the merchant has no order for
// it.
func (w *merchantWorld) strangePayment(ctx context.Context, amount int64, code string) error {
	ref := newReference("CONF-")
	body, _ := json.Marshal(map[string]any{
		"paymentCode": code, "referenceNumber": ref, "customerName": "Budi Santoso",
		"customerEmail": "budi@example.com", "customerPhoneNumber": "6281234567890",
		"finishNotifyUrl": w.c.Merchant.NotifyURL, "totalAmount": amount,
		"items": []any{map[string]any{"name": "Conformance test", "quantity": 1, "amount": amount}},
	})
	x := send(ctx, w.c.Client, sandboxCallTimeout, http.MethodPost, strings.TrimRight(w.c.SandboxURL, "/")+"/api/merchant/transaction/create",
		bjpayHeader(w.c.Merchant.ClientID, w.c.Merchant.ClientSecret, nil), body)
	w.record(titleCreate, x)
	if x.err != nil || x.status != http.StatusOK {
		return fmt.Errorf("expected the sandbox to create the payment, but it did not:\n%s", x)
	}
	w.ref, w.amount, w.code, w.before = ref, amount, code, nil
	return nil
}

// checkout asks the merchant to start a payment, checks the sandbox has it
// (the merchant really called Create Payment with its credentials), and
// reads the new order's state when the driver file says how.
func (w *merchantWorld) checkout(ctx context.Context, amount int64, code string) error {
	ref, err := w.c.startCheckout(ctx, amount, code, w.record)
	if err != nil {
		return err
	}
	w.ref, w.amount, w.code, w.before = ref, amount, code, nil
	if w.c.Merchant.OrderStatus == nil {
		return nil
	}
	st, err := w.readOrder(ctx)
	if err != nil {
		return err
	}
	w.before = &st
	return nil
}

// startCheckout asks the merchant to start a payment and checks that the
// sandbox has it, PENDING, for the merchant's client id. It returns the
// payment's reference.
func (c *Conformance) startCheckout(ctx context.Context, amount int64, code string, record func(string, *exchange)) (string, error) {
	co := c.Merchant.Checkout
	if co == nil {
		return "", errors.New("this scenario needs merchant.checkout in the driver file (run it with --tags '~@checkout' to leave it out)")
	}
	data := CheckoutData{Amount: amount, PaymentCode: code}
	var u, body bytes.Buffer
	if err := co.url.Execute(&u, data); err != nil {
		return "", err
	}
	if err := co.body.Execute(&body, data); err != nil {
		return "", err
	}
	x := send(ctx, c.Client, c.Merchant.Timeout, co.Method, u.String(), http.Header{"Content-Type": {"application/json"}}, body.Bytes())
	record(titleCheckout, x)
	if x.err != nil || x.status/100 != 2 {
		return "", failf(causeCheckout, "expected the merchant's checkout to answer 2xx, but it did not:\n%s", x)
	}
	ref, err := field(x.body, co.ReferenceNumber)
	if err != nil {
		return "", failf(causeCheckout, "expected the merchant's checkout answer to hold the referenceNumber at %q (merchant.checkout.referenceNumber): %v\n%s", co.ReferenceNumber, err, x)
	}
	var tx struct {
		Status          string `json:"status"`
		TotalAmount     int64  `json:"totalAmount"`
		PaymentCode     string `json:"paymentCode"`
		FinishNotifyURL string `json:"finishNotifyUrl"`
	}
	api := sandboxAPI{c.SandboxURL, c.Client}
	if err := api.control(ctx, http.MethodGet, "/transactions/"+ref+"?clientId="+c.Merchant.ClientID, nil, &tx); err != nil {
		return "", failf(causeCheckout, "the merchant's checkout answered referenceNumber %q, but the sandbox has no such payment for client %s: did the merchant call the sandbox's Create Payment with these credentials?\n%s%w", ref, c.Merchant.ClientID, x, err)
	}
	if tx.TotalAmount != amount || tx.PaymentCode != code || tx.Status != "PENDING" {
		return "", failf(causeCheckout, "expected a PENDING payment of %d via %s, but the merchant created %s %d via %s\n%s", amount, code, tx.Status, tx.TotalAmount, tx.PaymentCode, x)
	}
	if tx.FinishNotifyURL == "" {
		return "", failf(causeCheckout, "the merchant created payment %s without finishNotifyUrl and no notifyUrl is registered: no notify can reach it", ref)
	}
	return ref, nil
}

// newReference gives each scenario its own reference, so scenarios never
// collide on the sandbox (references are unique per merchant).
func newReference(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}
