package store

import (
	"strconv"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/delivery"
	"github.com/bjpay/bjpay-sandbox/mock/internal/jsonw"
	"github.com/bjpay/bjpay-sandbox/mock/notify"
)

// Transaction statuses. [sandbox] BJPAY documents only PAID; the sandbox's
// lifecycle is PENDING → PAID | EXPIRED | FAILED.
const (
	StatusPending = "PENDING"
	StatusPaid    = "PAID"
	StatusExpired = "EXPIRED"
	StatusFailed  = "FAILED"
)

// Statuses lists the statuses, in the order counts show them.
var Statuses = [...]string{StatusPending, StatusPaid, StatusFailed, StatusExpired}

// Transaction is a payment as Get Invoice returns it. The documented fields
// come first; the rest are the sandbox's additions.
type Transaction struct {
	TransactionNumber   string    `json:"transactionNumber"`
	ReferenceNumber     string    `json:"referenceNumber"`
	PaymentCode         string    `json:"paymentCode"`
	PaymentName         string    `json:"paymentName"`
	CustomerName        string    `json:"customerName"`
	CustomerEmail       string    `json:"customerEmail"`
	CustomerPhoneNumber string    `json:"customerPhoneNumber"`
	FinishNotifyURL     string    `json:"finishNotifyUrl"`
	FinishReturnURL     string    `json:"finishReturnUrl"`
	ExpiredAt           time.Time `json:"expiredAt"`
	TotalAmount         int64     `json:"totalAmount"`
	Fee                 int64     `json:"fee"`
	TotalReceived       int64     `json:"totalReceived"`
	PaymentDest         string    `json:"paymentDest"`
	PaymentDestType     string    `json:"paymentDestType"`

	// [sandbox] fields the docs do not list for Get Invoice.
	PaymentDestName string     `json:"paymentDestName"`
	Status          string     `json:"status"`
	Items           []Item     `json:"items"`
	CreatedAt       time.Time  `json:"createdAt"`
	PaidAt          *time.Time `json:"paidAt,omitempty"`

	// ClientID is the owner merchant; never sent on the BJPAY surface.
	ClientID string `json:"-"`
	// Scenario is the name of the scenario that matched at creation, if any.
	Scenario string `json:"-"`
	// Delivery is how its notifies are delivered, as its scenario said
	// at creation.
	Delivery delivery.Policy `json:"-"`
}

// Item is one line of a payment.
type Item struct {
	Name     string `json:"name"`
	Quantity int64  `json:"quantity"`
	Amount   int64  `json:"amount"`
}

// Notification returns the notify body for tx in the given status. The
// status is passed rather than read from tx because a notify reports the
// state being entered (bjpay-api.md §5), and a scenario may deliberately
// send one that contradicts the stored status to test the merchant.
func (tx *Transaction) Notification(status string) notify.Notification {
	return notify.Notification{
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

// AppendJSON appends tx as encoding/json encodes it (HTML escaping off),
// without reflection: it is in every create and inquiry answer.
// TestAppendJSON holds it to encoding/json's output on every field.
func (tx *Transaction) AppendJSON(b []byte) []byte {
	b = append(b, `{"transactionNumber":`...)
	b = jsonw.AppendString(b, tx.TransactionNumber)
	b = append(b, `,"referenceNumber":`...)
	b = jsonw.AppendString(b, tx.ReferenceNumber)
	b = append(b, `,"paymentCode":`...)
	b = jsonw.AppendString(b, tx.PaymentCode)
	b = append(b, `,"paymentName":`...)
	b = jsonw.AppendString(b, tx.PaymentName)
	b = append(b, `,"customerName":`...)
	b = jsonw.AppendString(b, tx.CustomerName)
	b = append(b, `,"customerEmail":`...)
	b = jsonw.AppendString(b, tx.CustomerEmail)
	b = append(b, `,"customerPhoneNumber":`...)
	b = jsonw.AppendString(b, tx.CustomerPhoneNumber)
	b = append(b, `,"finishNotifyUrl":`...)
	b = jsonw.AppendString(b, tx.FinishNotifyURL)
	b = append(b, `,"finishReturnUrl":`...)
	b = jsonw.AppendString(b, tx.FinishReturnURL)
	b = append(b, `,"expiredAt":`...)
	b = jsonw.AppendTime(b, tx.ExpiredAt)
	b = append(b, `,"totalAmount":`...)
	b = strconv.AppendInt(b, tx.TotalAmount, 10)
	b = append(b, `,"fee":`...)
	b = strconv.AppendInt(b, tx.Fee, 10)
	b = append(b, `,"totalReceived":`...)
	b = strconv.AppendInt(b, tx.TotalReceived, 10)
	b = append(b, `,"paymentDest":`...)
	b = jsonw.AppendString(b, tx.PaymentDest)
	b = append(b, `,"paymentDestType":`...)
	b = jsonw.AppendString(b, tx.PaymentDestType)
	b = append(b, `,"paymentDestName":`...)
	b = jsonw.AppendString(b, tx.PaymentDestName)
	b = append(b, `,"status":`...)
	b = jsonw.AppendString(b, tx.Status)
	b = append(b, `,"items":`...)
	if tx.Items == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, it := range tx.Items {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = jsonw.AppendString(b, it.Name)
			b = append(b, `,"quantity":`...)
			b = strconv.AppendInt(b, it.Quantity, 10)
			b = append(b, `,"amount":`...)
			b = strconv.AppendInt(b, it.Amount, 10)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"createdAt":`...)
	b = jsonw.AppendTime(b, tx.CreatedAt)
	if tx.PaidAt != nil {
		b = append(b, `,"paidAt":`...)
		b = jsonw.AppendTime(b, *tx.PaidAt)
	}
	return append(b, '}')
}

// Stored is a transaction as durable stores keep it, in JSON: with what
// the BJPAY surface hides (its owner, scenario and delivery policy).
type Stored struct {
	Transaction
	ClientID string          `json:"clientId"`
	Scenario string          `json:"scenario,omitempty"`
	Policy   delivery.Policy `json:"policy"`
	// ChangedAt is when it was last written (wall time): a finished
	// transaction's age for eviction, after a restart.
	ChangedAt time.Time `json:"changedAt,omitzero"`
}

// StoredOf is tx as stored now.
func StoredOf(tx *Transaction) Stored {
	return Stored{Transaction: *tx, ClientID: tx.ClientID, Scenario: tx.Scenario, Policy: tx.Delivery, ChangedAt: time.Now()}
}

// Loaded is the transaction r holds, as the sandbox uses it: times back in
// WIB when they were in it (JSON keeps the offset, not the zone's name),
// and a policy the notifier can use even from an older or edited record.
func (r *Stored) Loaded() *Transaction {
	tx := new(Transaction)
	*tx = r.Transaction
	tx.ClientID, tx.Scenario, tx.Delivery = r.ClientID, r.Scenario, loadedPolicy(r.Policy)
	tx.CreatedAt, tx.ExpiredAt = inWIB(tx.CreatedAt), inWIB(tx.ExpiredAt)
	if tx.PaidAt != nil {
		p := inWIB(*tx.PaidAt)
		tx.PaidAt = &p
	}
	return tx
}

// loadedPolicy is a stored policy as the notifier needs it: no retries
// when none were stored (null, from an older file), and defaults for what
// an older or edited record lacks.
func loadedPolicy(p delivery.Policy) delivery.Policy {
	if p.Retries == nil {
		p.Retries = []time.Duration{}
	}
	return p.Sanitized()
}

// LoadedRecord is a stored delivery record as the notifier needs it.
func LoadedRecord(r delivery.Record) delivery.Record {
	r.Policy = loadedPolicy(r.Policy)
	return r
}

func inWIB(t time.Time) time.Time {
	if _, off := t.Zone(); off == 7*3600 {
		return t.In(notify.WIB)
	}
	return t
}
