package mock

import (
	"strconv"
	"time"
)

// Hand-written JSON for the two bodies on the hot paths: the transaction in
// every create and inquiry answer, and the notify body of every attempt.
// encoding/json's reflection cost a fifth of a create. The output is
// byte for byte what encoding/json writes with HTML escaping off, which
// TestAppendJSON checks on every field, so the wire format has one
// definition: the struct tags.

// appendJSONString appends s as a JSON string. Plain printable ASCII, all
// that merchants send nearly always, is copied as is; anything else goes
// through encoding/json (quote), so its escaping rules apply unchanged.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return append(b, quote(s)...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendJSONTime appends t as time.Time's MarshalJSON does: RFC 3339 with
// nanoseconds as needed. [sandbox] Times the sandbox holds are years 1 to
// 9999 (the clock's range, RFC 3339 input), where the two agree.
func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendJSON appends tx as encoding/json encodes it.
func (tx *Transaction) appendJSON(b []byte) []byte {
	b = append(b, `{"transactionNumber":`...)
	b = appendJSONString(b, tx.TransactionNumber)
	b = append(b, `,"referenceNumber":`...)
	b = appendJSONString(b, tx.ReferenceNumber)
	b = append(b, `,"paymentCode":`...)
	b = appendJSONString(b, tx.PaymentCode)
	b = append(b, `,"paymentName":`...)
	b = appendJSONString(b, tx.PaymentName)
	b = append(b, `,"customerName":`...)
	b = appendJSONString(b, tx.CustomerName)
	b = append(b, `,"customerEmail":`...)
	b = appendJSONString(b, tx.CustomerEmail)
	b = append(b, `,"customerPhoneNumber":`...)
	b = appendJSONString(b, tx.CustomerPhoneNumber)
	b = append(b, `,"finishNotifyUrl":`...)
	b = appendJSONString(b, tx.FinishNotifyURL)
	b = append(b, `,"finishReturnUrl":`...)
	b = appendJSONString(b, tx.FinishReturnURL)
	b = append(b, `,"expiredAt":`...)
	b = appendJSONTime(b, tx.ExpiredAt)
	b = append(b, `,"totalAmount":`...)
	b = strconv.AppendInt(b, tx.TotalAmount, 10)
	b = append(b, `,"fee":`...)
	b = strconv.AppendInt(b, tx.Fee, 10)
	b = append(b, `,"totalReceived":`...)
	b = strconv.AppendInt(b, tx.TotalReceived, 10)
	b = append(b, `,"paymentDest":`...)
	b = appendJSONString(b, tx.PaymentDest)
	b = append(b, `,"paymentDestType":`...)
	b = appendJSONString(b, tx.PaymentDestType)
	b = append(b, `,"paymentDestName":`...)
	b = appendJSONString(b, tx.PaymentDestName)
	b = append(b, `,"status":`...)
	b = appendJSONString(b, tx.Status)
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
			b = appendJSONString(b, it.Name)
			b = append(b, `,"quantity":`...)
			b = strconv.AppendInt(b, it.Quantity, 10)
			b = append(b, `,"amount":`...)
			b = strconv.AppendInt(b, it.Amount, 10)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"createdAt":`...)
	b = appendJSONTime(b, tx.CreatedAt)
	if tx.PaidAt != nil {
		b = append(b, `,"paidAt":`...)
		b = appendJSONTime(b, *tx.PaidAt)
	}
	return append(b, '}')
}

// appendJSON appends n as encoding/json encodes it.
func (n *Notification) appendJSON(b []byte) []byte {
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
		b = appendJSONString(b, f.v)
	}
	b = append(b, `,"totalAmount":`...)
	b = strconv.AppendInt(b, n.TotalAmount, 10)
	b = append(b, `,"fee":`...)
	b = strconv.AppendInt(b, n.Fee, 10)
	return append(b, '}')
}
