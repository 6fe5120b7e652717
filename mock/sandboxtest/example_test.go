package sandboxtest_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/sandboxtest"
	"github.com/bjpay/bjpay-sandbox/signer"
)

// A merchant's test: the app creates a payment against the sandbox, the
// test pays it, and the app's webhook receives the signed notify.
func Example() {
	t := &testing.T{} // in a real test, the *testing.T of the test function
	var paid []string
	var key string
	webhook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := signer.VerifyNotify(key, r.Header, body); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		paid = append(paid, "ORDER-42")
	}))
	defer webhook.Close()

	sb := sandboxtest.New(t, sandboxtest.NotifyURL(webhook.URL))
	key = sb.Key()

	// What the merchant's app does: Create Payment.
	body := `{"paymentCode":"QRIS","referenceNumber":"ORDER-42","customerName":"Budi",
		"customerEmail":"budi@example.com","customerPhoneNumber":"62123224456","totalAmount":58000,
		"items":[{"name":"MLBB Diamond - 250","quantity":1,"amount":58000}]}`
	req, _ := http.NewRequest("POST", sb.URL+"/api/merchant/transaction/create", bytes.NewBufferString(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Client-Id", sb.ClientID)
	req.Header.Set("X-Client-Secret", sb.ClientSecret)
	req.Header.Set("X-Request-Time", time.Now().Format(signer.TimeLayout))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()

	sb.Pay("ORDER-42")
	a := sb.WaitDelivery("ORDER-42", "PAID")
	fmt.Println(a.Outcome, a.ResponseStatus, paid)
	// Output: delivered 200 [ORDER-42]
}
