package sandboxtest_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/sandboxtest"
	"github.com/bjpay/bjpay-sandbox/signer"
)

// create makes a QRIS payment with reference ref as a merchant's app would.
func create(t *testing.T, sb *sandboxtest.Sandbox, ref string) {
	t.Helper()
	body := `{"paymentCode":"QRIS","referenceNumber":"` + ref + `","customerEmail":"budi@example.com",
		"customerPhoneNumber":"62123224456","totalAmount":58000,"items":[{"name":"x","quantity":1,"amount":58000}]}`
	req, _ := http.NewRequest("POST", sb.URL+"/api/merchant/transaction/create", bytes.NewBufferString(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Client-Id", sb.ClientID)
	req.Header.Set("X-Client-Secret", sb.ClientSecret)
	req.Header.Set("X-Request-Time", time.Now().Format(signer.TimeLayout))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("create %s: %s", ref, resp.Status)
	}
}

// TestHelpers: each helper moves the payment where it says and the notify
// follows.
func TestHelpers(t *testing.T) {
	webhook := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer webhook.Close()
	tests := []struct {
		ref    string
		act    func(sb *sandboxtest.Sandbox, ref string)
		status string
	}{
		{"ORDER-PAY", func(sb *sandboxtest.Sandbox, ref string) { sb.Pay(ref) }, "PAID"},
		{"ORDER-FAIL", func(sb *sandboxtest.Sandbox, ref string) { sb.Fail(ref) }, "FAILED"},
		{"ORDER-EXPIRE", func(sb *sandboxtest.Sandbox, ref string) { sb.Expire(ref) }, "EXPIRED"},
		{"ORDER-WAIT", func(sb *sandboxtest.Sandbox, ref string) { sb.Advance(24 * time.Hour) }, "EXPIRED"},
		{"LATE-1", func(sb *sandboxtest.Sandbox, ref string) { sb.Advance(time.Hour) }, "PAID"}, // the Scenarios option below
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			sb := sandboxtest.New(t, sandboxtest.NotifyURL(webhook.URL), sandboxtest.Scenarios(`
scenarios:
  - name: paid-late
    match: {reference: "^LATE-"}
    timeline: [{after: 1h, status: PAID}]
`))
			create(t, sb, tt.ref)
			if got := sb.Transaction(tt.ref).Status; got != "PENDING" {
				t.Fatalf("after create: %s, want PENDING", got)
			}
			tt.act(sb, tt.ref)
			if got := sb.Transaction(tt.ref).Status; got != tt.status {
				t.Errorf("status %s, want %s", got, tt.status)
			}
			if a := sb.WaitDelivery(tt.ref, tt.status); a.ResponseStatus != 200 {
				t.Errorf("delivery %+v", a)
			}
		})
	}
}
