package sandboxtest_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
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

// TestAdvanceRunsTheRetryChain: a receiver that fails three times, the
// default retry schedule (1 m, 5 m, 15 m, ...): one Advance past the
// chain, and WaitDelivery sees the fourth attempt delivered — each retry
// due from when its predecessor was due, not from the clock after the jump.
func TestAdvanceRunsTheRetryChain(t *testing.T) {
	var calls atomic.Int64
	webhook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer webhook.Close()
	sb := sandboxtest.New(t, sandboxtest.NotifyURL(webhook.URL))
	create(t, sb, "CHAIN-1")
	sb.Pay("CHAIN-1")
	deadline := time.Now().Add(10 * time.Second)
	for len(sb.Deliveries("CHAIN-1")) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // the first attempt, at once
	}
	sb.Advance(24 * time.Hour)
	a := sb.WaitDelivery("CHAIN-1", "PAID")
	if a.Attempt != 4 || calls.Load() != 4 {
		t.Fatalf("delivered at attempt %d after %d calls; want the 4th", a.Attempt, calls.Load())
	}
	as := sb.Deliveries("CHAIN-1")
	for i := 1; i < len(as); i++ {
		if want := as[i-1].NextAttemptAt; want == nil {
			t.Fatalf("attempt %d names no next attempt", as[i-1].Attempt)
		}
	}
	// The schedule, from the journal: 1 m after the first (paid at once),
	// then 5 m and 15 m after each due time.
	first := *as[0].NextAttemptAt
	for i, want := range []time.Duration{0, 5 * time.Minute, 20 * time.Minute} {
		if got := as[i].NextAttemptAt.Sub(first); got != want {
			t.Errorf("attempt %d's next attempt at first+%s, want +%s", i+1, got, want)
		}
	}
}
