package store

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/notify"
)

// TestAppendJSON: the hand-written encoders write exactly what
// encoding/json (HTML escaping off) writes, for every field and for the
// strings that need escaping.
func TestAppendJSON(t *testing.T) {
	paid := time.Date(2026, 11, 24, 10, 0, 0, 123456789, notify.WIB)
	base := Transaction{
		TransactionNumber: "SBX2026112400000001", ReferenceNumber: "INV-1", PaymentCode: "GOPAY", PaymentName: "GoPay",
		CustomerName: "Budi", CustomerEmail: "budi@example.com", CustomerPhoneNumber: "62123224456",
		FinishNotifyURL: "https://shop.test/notify?a=1&b=2", FinishReturnURL: "myapp://done",
		ExpiredAt: time.Date(2030, 12, 1, 10, 0, 0, 0, time.FixedZone("", 7*3600)), TotalAmount: 58000, Fee: 1500, TotalReceived: 56500,
		PaymentDest: "gojek://gopay/pay?id=1", PaymentDestType: "DEEPLINK", PaymentDestName: "GoPay",
		Status: StatusPaid, Items: []Item{{"MLBB Diamond - 250", 1, 58000}, {"x", 2, 0}},
		CreatedAt: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC), PaidAt: &paid,
		ClientID: "never-sent", Scenario: "never-sent",
	}
	odd := []string{"", `quote " and \ backslash`, "<b>&amp;</b>", "tab\tnew\nline\r\x00\x1f\x7f", "Söderström 🙂",
		"\u2028\u2029", "bad \xff utf-8", strings.Repeat("long ", 100)}
	var cases []Transaction
	cases = append(cases, base)
	for _, s := range odd {
		tx := base
		tx.CustomerName, tx.ReferenceNumber, tx.FinishReturnURL, tx.PaymentDest = s, s, s, s
		tx.Items = []Item{{s, 1, 1}}
		cases = append(cases, tx)
	}
	unpaid := base
	unpaid.PaidAt, unpaid.Items = nil, nil
	cases = append(cases, unpaid)
	empty := base
	empty.Items = []Item{}
	empty.ExpiredAt = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	empty.CreatedAt = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("", -(9*3600+30*60)))
	cases = append(cases, empty)

	for _, tx := range cases {
		want, err := marshalNoHTML(&tx)
		if err != nil {
			t.Fatal(err)
		}
		if got := tx.AppendJSON(nil); !bytes.Equal(got, want) {
			t.Errorf("Transaction.AppendJSON\ngot  %s\nwant %s", got, want)
		}
		for _, status := range []string{StatusPaid, "x\"y"} {
			n := tx.Notification(status)
			want, err := marshalNoHTML(&n)
			if err != nil {
				t.Fatal(err)
			}
			if got := n.AppendJSON(nil); !bytes.Equal(got, want) {
				t.Errorf("Notification.AppendJSON\ngot  %s\nwant %s", got, want)
			}
		}
	}
	// A field added to either struct must be added to its encoder: the
	// values above set every field, so encoding/json writes every key.
	for _, v := range []any{base, base.Notification(StatusPaid)} {
		typ, fields := reflect.TypeOf(v), 0
		for i := range typ.NumField() {
			if f := typ.Field(i); f.IsExported() && f.Tag.Get("json") != "-" {
				fields++
			}
		}
		var keys map[string]any
		b, _ := marshalNoHTML(v)
		if err := json.Unmarshal(b, &keys); err != nil || len(keys) != fields {
			t.Errorf("%s: %d keys for %d JSON fields (%v); set the new field in the test's values", typ.Name(), len(keys), fields, err)
		}
	}
}

func marshalNoHTML(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), err
}

// TestNotification: a transaction's notify carries its values field by
// field, and the status it is given.
func TestNotification(t *testing.T) {
	tx := Transaction{
		TransactionNumber: "SBX2026112400000002", ReferenceNumber: "INV-2", PaymentCode: "VA-BNI", PaymentName: "BNI Virtual Account",
		CustomerName: "Bang Jéff", CustomerEmail: "bangjeff@example.com", CustomerPhoneNumber: "62123224456",
		FinishNotifyURL: "https://my-cool-apps.com/webhook/notify", FinishReturnURL: "https://my-cool-apps.com/thankyou?ref=INV-2&lang=id",
		ExpiredAt: time.Date(2026, 11, 25, 10, 0, 0, 0, notify.WIB), TotalAmount: 58000, Fee: 3500, TotalReceived: 54500,
		PaymentDest: "3597080155666076", PaymentDestType: "DIRECT", PaymentDestName: "Demo Merchant", Status: StatusPaid, ClientID: "c",
	}
	want := notify.Notification{
		PaymentCode: "VA-BNI", ReferenceNumber: "INV-2", Status: "PAID", PaymentName: "BNI Virtual Account",
		CustomerName: "Bang Jéff", CustomerEmail: "bangjeff@example.com", CustomerPhoneNumber: "62123224456",
		FinishNotifyURL: "https://my-cool-apps.com/webhook/notify",
		FinishReturnURL: "https://my-cool-apps.com/thankyou?ref=INV-2&lang=id",
		PaymentDest:     "3597080155666076", PaymentDestName: "Demo Merchant", PaymentDestType: "DIRECT",
		ExpiredAt: "2026-11-25T10:00:00+07:00", TotalAmount: 58000, Fee: 3500,
	}
	if got := tx.Notification(StatusPaid); got != want {
		t.Errorf("Notification:\ngot  %+v\nwant %+v", got, want)
	}
	if got := tx.Notification(StatusExpired).Status; got != StatusExpired {
		t.Errorf("status: got %q, want the one passed, %q", got, StatusExpired)
	}
}
