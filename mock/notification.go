package mock

import (
	"time"
)

// Notification is the body of a notify webhook (bjpay-api.md §5): every
// documented field plus paymentName, which the docs' example carries but their
// field list omits. [sandbox] The sandbox sends them all, always, even when
// empty, so a merchant's parser meets the full shape on every notify.
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

// NotificationOf returns the notify body for tx in the given status. The
// status is passed rather than read from tx because a notify reports the state
// being entered (bjpay-api.md §5), and a scenario may deliberately send one
// that contradicts the stored status to test the merchant.
func NotificationOf(tx *Transaction, status string) Notification {
	return Notification{
		PaymentCode:         tx.PaymentCode,
		ReferenceNumber:     tx.ReferenceNumber,
		Status:              status,
		PaymentName:         tx.PaymentName,
		CustomerName:        tx.CustomerName,
		CustomerEmail:       tx.CustomerEmail,
		CustomerPhoneNumber: tx.CustomerPhoneNumber,
		FinishNotifyURL:     tx.FinishNotifyURL,
		FinishReturnURL:     tx.FinishReturnURL,
		PaymentDest:         tx.PaymentDest,
		PaymentDestName:     tx.PaymentDestName,
		PaymentDestType:     tx.PaymentDestType,
		ExpiredAt:           tx.ExpiredAt.Format(time.RFC3339),
		TotalAmount:         tx.TotalAmount,
		Fee:                 tx.Fee,
	}
}

// canonicalJSON returns n as the canonical notify body: compact encoding/json
// output in field order, without a trailing newline. HTML escaping is off
// because the body is never embedded in HTML, and "&" in a finishReturnUrl
// query string should reach the merchant as "&", not "\u0026".
//
// It is written by Notification.appendJSON, which TestAppendJSON holds to
// encoding/json's output.
func canonicalJSON(n *Notification) []byte {
	return n.appendJSON(make([]byte, 0, 512)) // a typical body is 400-500 bytes; one allocation
}
