// Package notify builds BJPAY's notify webhook as the sandbox sends it: the
// body (Notification), signed correctly or broken in exactly one way
// (Variant), as the exact headers and bytes of a request (SignedNotify).
//
// It is what a merchant's own tests need to produce a notify, and nothing
// else: it imports no router, storage engine or HTML template. Checking a
// notify's signature is package signer's job.
package notify

import (
	"strconv"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/internal/jsonw"
)

// WIB is Western Indonesia Time (UTC+7), the zone of BJPAY's examples.
// [sandbox] The sandbox renders the times it generates in it, the
// X-Request-Time of notifies included.
var WIB = time.FixedZone("WIB", 7*60*60)

// Notification is the body of a notify webhook (bjpay-api.md §5): every
// documented field plus paymentName, which the docs' example carries but
// their field list omits. [sandbox] The sandbox sends them all, always, even
// when empty, so a merchant's parser meets the full shape on every notify.
//
// The fields are declared in the order of the canonical body, which is the
// order encoding/json writes them in:
//
//	paymentCode, referenceNumber, status, paymentName, customerName,
//	customerEmail, customerPhoneNumber, finishNotifyUrl, finishReturnUrl,
//	paymentDest, paymentDestName, paymentDestType, expiredAt, totalAmount, fee
//
// The three signed fields (referenceNumber, paymentCode, totalAmount) are not
// grouped on purpose: BJPAY's example does not group them either, and a
// merchant must find them by name, not by position.
type Notification struct {
	PaymentCode         string `json:"paymentCode"`
	ReferenceNumber     string `json:"referenceNumber"`
	Status              string `json:"status"`
	PaymentName         string `json:"paymentName"`
	CustomerName        string `json:"customerName"`
	CustomerEmail       string `json:"customerEmail"`
	CustomerPhoneNumber string `json:"customerPhoneNumber"`
	FinishNotifyURL     string `json:"finishNotifyUrl"`
	FinishReturnURL     string `json:"finishReturnUrl"`
	PaymentDest         string `json:"paymentDest"`
	PaymentDestName     string `json:"paymentDestName"`
	PaymentDestType     string `json:"paymentDestType"`
	// ExpiredAt is RFC 3339 in the zone stored on the transaction, as Get
	// Invoice shows it, so both surfaces agree on the same instant's text.
	ExpiredAt   string `json:"expiredAt"`
	TotalAmount int64  `json:"totalAmount"`
	Fee         int64  `json:"fee"`
}

// AppendJSON appends n as the canonical notify body: compact encoding/json
// output in field order, without a trailing newline. HTML escaping is off
// because the body is never embedded in HTML, and "&" in a finishReturnUrl
// query string should reach the merchant as "&", not "\u0026".
// TestAppendJSON holds it to encoding/json's output.
func (n *Notification) AppendJSON(b []byte) []byte {
	for _, f := range [...]struct{ key, v string }{
		{`{"paymentCode":`, n.PaymentCode},
		{`,"referenceNumber":`, n.ReferenceNumber},
		{`,"status":`, n.Status},
		{`,"paymentName":`, n.PaymentName},
		{`,"customerName":`, n.CustomerName},
		{`,"customerEmail":`, n.CustomerEmail},
		{`,"customerPhoneNumber":`, n.CustomerPhoneNumber},
		{`,"finishNotifyUrl":`, n.FinishNotifyURL},
		{`,"finishReturnUrl":`, n.FinishReturnURL},
		{`,"paymentDest":`, n.PaymentDest},
		{`,"paymentDestName":`, n.PaymentDestName},
		{`,"paymentDestType":`, n.PaymentDestType},
		{`,"expiredAt":`, n.ExpiredAt},
	} {
		b = append(b, f.key...)
		b = jsonw.AppendString(b, f.v)
	}
	b = append(b, `,"totalAmount":`...)
	b = strconv.AppendInt(b, n.TotalAmount, 10)
	b = append(b, `,"fee":`...)
	b = strconv.AppendInt(b, n.Fee, 10)
	return append(b, '}')
}

// canonicalJSON returns n as the canonical notify body, in one allocation
// (a typical body is 400-500 bytes).
func canonicalJSON(n *Notification) []byte { return n.AppendJSON(make([]byte, 0, 512)) }
