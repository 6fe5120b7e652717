package mock_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock"
	"github.com/bjpay/bjpay-sandbox/mock/store"
)

const (
	channelsPath = "/api/merchant/payment-channel"
	createPath   = "/api/merchant/transaction/create"
	inquiryPath  = "/api/merchant/transaction/inquiry/"
)

func TestDocsExampleSucceeds(t *testing.T) {
	h := newSandbox(t, mock.Config{}).Handler()
	r := post(t, h, createPath, with(nil))
	if r.Status != 200 || r.Code != "OK" || r.Message != "Success" {
		t.Fatalf("create: got %d %s %q, want 200 OK \"Success\"; body %s", r.Status, r.Code, r.Message, r.Body)
	}
	var tx map[string]any
	if err := json.Unmarshal(r.Data, &tx); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"referenceNumber":     "BJP05134e418d311b55e5cd9e13",
		"paymentCode":         "GOPAY",
		"paymentName":         "GoPay",
		"customerName":        "BANGJEFF",
		"customerEmail":       "bangjeff@example.com",
		"customerPhoneNumber": "62123224456",
		"finishNotifyUrl":     "https://my-cool-apps.com/webhook/notify",
		"finishReturnUrl":     "https://my-cool-apps.com/thankyou",
		"expiredAt":           "2026-11-25T13:00:48+07:00",
		"totalAmount":         58000.0,
		"fee":                 1160.0, // 2 % of 58000
		"totalReceived":       56840.0,
		"paymentDestType":     "DEEPLINK",
		"status":              "PENDING",
		"createdAt":           "2026-11-24T10:00:00+07:00",
	}
	for k, v := range want {
		if tx[k] != v {
			t.Errorf("data.%s = %v, want %v", k, tx[k], v)
		}
	}
	// Every documented Get Invoice field is present.
	for _, k := range []string{"transactionNumber", "referenceNumber", "paymentCode", "paymentName", "customerName",
		"customerEmail", "customerPhoneNumber", "finishNotifyUrl", "finishReturnUrl", "expiredAt", "totalAmount",
		"fee", "totalReceived", "paymentDest", "paymentDestType", "paymentDestName", "items"} {
		if _, ok := tx[k]; !ok {
			t.Errorf("data has no %q", k)
		}
	}
	if d, _ := tx["paymentDest"].(string); !strings.HasPrefix(d, "gojek://gopay/merchanttransfer?tref=") {
		t.Errorf("paymentDest = %q, want a GoPay deeplink", d)
	}
	if _, ok := tx["paidAt"]; ok {
		t.Errorf("a PENDING transaction has paidAt")
	}

	// Inquiry returns the same transaction.
	q := post(t, h, inquiryPath+"BJP05134e418d311b55e5cd9e13", nil)
	if q.Status != 200 || q.Code != "OK" || string(q.Data) != string(r.Data) {
		t.Fatalf("inquiry: got %d %s %s, want 200 OK with the created transaction %s", q.Status, q.Code, q.Data, r.Data)
	}
}

func TestChannels(t *testing.T) {
	h := newSandbox(t, mock.Config{}).Handler()
	r := post(t, h, channelsPath, nil)
	if r.Status != 200 || r.Code != "OK" {
		t.Fatalf("got %d %s, want 200 OK; body %s", r.Status, r.Code, r.Body)
	}
	var list []map[string]any
	if err := json.Unmarshal(r.Data, &list); err != nil {
		t.Fatal(err)
	}
	byCode := map[string]map[string]any{}
	for _, c := range list {
		byCode[c["paymentCode"].(string)] = c
	}
	for _, code := range []string{"VA-BNI", "VA-BRI", "VA-MANDIRI", "VA-PERMATA", "VA-BCA", "QRIS", "GOPAY", "OVO", "DANA", "SHOPEEPAY"} {
		c, ok := byCode[code]
		if !ok {
			t.Errorf("channel %s missing", code)
			continue
		}
		for _, f := range []string{"paymentName", "paymentType", "paymentDestType", "minAmount", "maxAmount", "fee", "feeType", "isActive"} {
			if _, ok := c[f]; !ok {
				t.Errorf("channel %s has no %s", code, f)
			}
		}
	}
	if bni := byCode["VA-BNI"]; bni["paymentName"] != "BNI Virtual Account" || bni["fee"] != 3500.0 || bni["feeType"] != "FLAT" {
		t.Errorf("VA-BNI = %v, want BNI Virtual Account, fee 3500 FLAT as in BJPAY's notify example", bni)
	}
	if byCode["VA-BCA"]["isActive"] != false {
		t.Errorf("VA-BCA should be the inactive channel")
	}
}

// TestPaymentDestinations checks what each kind of channel hands out.
func TestPaymentDestinations(t *testing.T) {
	tests := []struct {
		code, destType, destName string
		fee                      float64
		check                    func(string) bool
	}{
		{"VA-BNI", "DIRECT", "Demo Merchant", 3500, func(d string) bool { return len(d) == 16 && d[0] == '8' && allDigits(d) }},
		{"VA-MANDIRI", "DIRECT", "Demo Merchant", 4000, func(d string) bool { return len(d) == 16 && strings.HasPrefix(d, "89608") && allDigits(d) }},
		{"QRIS", "DIRECT", "Demo Merchant", 406, func(d string) bool {
			return strings.HasPrefix(d, "000201010212") && strings.Contains(d, "5303360") && strings.Contains(d, "540558000") && strings.Contains(d[len(d)-8:], "6304")
		}},
		{"GOPAY", "DEEPLINK", "GoPay", 1160, func(d string) bool { return strings.HasPrefix(d, "gojek://gopay/merchanttransfer?tref=") }},
		{"DANA", "REDIRECT", "DANA", 870, func(d string) bool { return strings.HasPrefix(d, "http://sandbox.test/_sandbox/pay/SBX") }},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			h := newSandbox(t, mock.Config{}).Handler()
			r := post(t, h, createPath, with(map[string]any{"paymentCode": tt.code}))
			if r.Status != 200 {
				t.Fatalf("got %d %s", r.Status, r.Body)
			}
			var tx store.Transaction
			if err := json.Unmarshal(r.Data, &tx); err != nil {
				t.Fatal(err)
			}
			if tx.PaymentDestType != tt.destType || tx.PaymentDestName != tt.destName || float64(tx.Fee) != tt.fee || tx.TotalReceived != 58000-tx.Fee {
				t.Errorf("got destType %s destName %q fee %d received %d, want %s %q %v %v", tx.PaymentDestType, tx.PaymentDestName, tx.Fee, tx.TotalReceived, tt.destType, tt.destName, tt.fee, 58000-tt.fee)
			}
			if !tt.check(tx.PaymentDest) {
				t.Errorf("paymentDest %q is not what %s hands out", tx.PaymentDest, tt.code)
			}
		})
	}
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// TestSeedReproducible: the same seed and creates give the same output; another seed does not.
func TestSeedReproducible(t *testing.T) {
	run := func(seed int64) string {
		sb := newSandboxSeed(t, mock.DefaultConfig(), seed)
		var out []string
		for i, code := range []string{"VA-BNI", "QRIS", "GOPAY", "DANA"} {
			r := post(t, sb.Handler(), createPath, with(map[string]any{"paymentCode": code, "referenceNumber": "R" + string(rune('0'+i))}))
			out = append(out, string(r.Data))
		}
		return strings.Join(out, "\n")
	}
	a, b, c := run(7), run(7), run(8)
	if a != b {
		t.Errorf("seed 7 twice gave different output:\n%s\n---\n%s", a, b)
	}
	if a == c {
		t.Errorf("seeds 7 and 8 gave the same output")
	}
}

func TestInquiry(t *testing.T) {
	cfg := mock.DefaultConfig()
	cfg.Merchants = append(cfg.Merchants, mock.Merchant{Name: "Other", ClientID: "other-id", ClientSecret: "other-secret"})
	h := newSandbox(t, cfg).Handler()
	if r := post(t, h, createPath, with(nil)); r.Status != 200 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	other := validHeaders()
	other.Set("X-Client-Id", "other-id")
	other.Set("X-Client-Secret", "other-secret")
	tests := []struct {
		name   string
		header http.Header
		ref    string
		status int
		code   string
	}{
		{"owner", validHeaders(), "BJP05134e418d311b55e5cd9e13", 200, "OK"},
		{"unknown reference", validHeaders(), "NOPE-1", 404, "14"},
		{"badly formed reference", validHeaders(), "a%20b", 404, "14"},
		{"another merchant's reference", other, "BJP05134e418d311b55e5cd9e13", 404, "14"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, h, http.MethodPost, inquiryPath+tt.ref, tt.header, nil)
			if r.Status != tt.status || r.Code != tt.code {
				t.Errorf("got %d %s, want %d %s; body %s", r.Status, r.Code, tt.status, tt.code, r.Body)
			}
		})
	}
}

// TestDefaultNotifyURL: without finishNotifyUrl the merchant's configured
// URL is used.
func TestDefaultNotifyURL(t *testing.T) {
	cfg := mock.DefaultConfig()
	cfg.Merchants[0].NotifyURL = "http://127.0.0.1:3000/webhook/bjpay"
	h := newSandbox(t, cfg).Handler()
	r := post(t, h, createPath, with(map[string]any{"finishNotifyUrl": nil, "expiredAt": nil}))
	var tx store.Transaction
	if err := json.Unmarshal(r.Data, &tx); err != nil {
		t.Fatalf("%v: %s", err, r.Body)
	}
	if tx.FinishNotifyURL != "http://127.0.0.1:3000/webhook/bjpay" {
		t.Errorf("finishNotifyUrl = %q, want the merchant's configured URL", tx.FinishNotifyURL)
	}
	// No expiredAt: the channel's default lifetime (24 h) from creation.
	if want := testNow.Add(24 * time.Hour); !tx.ExpiredAt.Equal(want) {
		t.Errorf("expiredAt = %s, want %s", tx.ExpiredAt, want)
	}
}

func TestIPAllowlist(t *testing.T) {
	cfg := mock.DefaultConfig()
	cfg.Merchants[0].AllowedIPs = []string{"10.0.0.0/8", "::1"}
	h := newSandbox(t, cfg).Handler()
	// Test requests come from loopbackClient, 127.0.0.1.
	r := post(t, h, channelsPath, nil)
	if r.Status != 403 || r.Code != "01" || r.Message != "Unauthorized" || !strings.Contains(r.Detail, "127.0.0.1") {
		t.Errorf("got %d %s %q %q, want 403 01 Unauthorized naming 127.0.0.1", r.Status, r.Code, r.Message, r.Detail)
	}
	cfg.Merchants[0].AllowedIPs = []string{"127.0.0.0/8"}
	h = newSandbox(t, cfg).Handler()
	if r := post(t, h, channelsPath, nil); r.Status != 200 {
		t.Errorf("allowed address: got %d %s", r.Status, r.Body)
	}
}

// TestFieldBounds: the create body's free-text fields, URLs and items are
// bounded; at the bound a create passes, past it the answer names the
// field, its length and the bound.
func TestFieldBounds(t *testing.T) {
	sb := newSandbox(t, mock.Config{})
	h := sb.Handler()
	items := func(n int, name string) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = map[string]any{"name": name, "quantity": 1, "amount": 1000}
		}
		return out
	}
	longURL := func(n int) string { return "https://shop.test/" + strings.Repeat("a", n-len("https://shop.test/")) }
	for i, tt := range []struct {
		name   string
		fields map[string]any
		code   string // "OK", a documented code, or the sandbox's HTTP status
		says   string
	}{
		{"name at the bound", map[string]any{"customerName": strings.Repeat("é", 255)}, "OK", ""},
		{"name past the bound", map[string]any{"customerName": strings.Repeat("é", 256)}, "400", "customerName is 256 characters long; expected at most 255"},
		{"a megabyte of name", map[string]any{"customerName": strings.Repeat("x", 1<<20-1000)}, "400", "expected at most 255"},
		{"item name at the bound", map[string]any{"items": items(1, strings.Repeat("x", 255)), "totalAmount": 1000, "paymentCode": "QRIS"}, "OK", ""},
		{"item name past the bound", map[string]any{"items": items(1, strings.Repeat("x", 256)), "totalAmount": 1000, "paymentCode": "QRIS"}, "15", "items[0].name is 256 characters long; expected at most 255"},
		{"100 items", map[string]any{"items": items(100, "x"), "totalAmount": 100000}, "OK", ""},
		{"101 items", map[string]any{"items": items(101, "x"), "totalAmount": 101000}, "15", "items has 101 entries; expected at most 100"},
		{"notify URL at the bound", map[string]any{"finishNotifyUrl": longURL(2048)}, "OK", ""},
		{"notify URL past the bound", map[string]any{"finishNotifyUrl": longURL(2049)}, "400", "finishNotifyUrl is 2049 bytes long; expected at most 2048"},
		{"return URL past the bound", map[string]any{"finishReturnUrl": longURL(4096)}, "400", "finishReturnUrl is 4096 bytes long"},
	} {
		tt.fields["referenceNumber"] = fmt.Sprintf("BOUND-%d", i)
		r := post(t, h, createPath, with(tt.fields))
		if r.Code != tt.code || !strings.Contains(r.Body, tt.says) {
			t.Errorf("%s: %d %s; want code %s saying %q", tt.name, r.Status, trim(r.Body), tt.code, tt.says)
		}
	}
}

func trim(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
