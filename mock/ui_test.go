package mock_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// page requests a browser page from remote (a loopback client when empty).
func page(t testing.TB, h http.Handler, method, path string, form url.Values, remote string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
	req.Host = sandboxHost
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.RemoteAddr = loopbackClient
	if remote != "" {
		req.RemoteAddr = remote
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestDashboardReads: the dashboard lists and filters transactions, and a
// transaction's page shows its delivery history, all without JavaScript.
func TestDashboardReads(t *testing.T) {
	e := newEngine(t, "")
	rc := newReceiver(t)
	paid := e.create(t, "UI-PAID-1", rc.URL, nil)
	e.create(t, "UI-OPEN-2", rc.URL, map[string]any{"paymentCode": "QRIS"})
	if code, body := e.control(t, "POST", "/_sandbox/transactions/UI-PAID-1/pay", ""); code != 200 {
		t.Fatalf("pay: %d %s", code, body)
	}
	waitFor(t, "the PAID notify", func() bool { return len(e.sb.Deliveries("", "UI-PAID-1")) == 1 })
	signature := rc.all()[0].Header.Get("X-Signature")

	tests := []struct {
		name, path string
		status     int
		want, not  []string
	}{
		{"all", "/_sandbox/", 200, []string{"UI-PAID-1", "UI-OPEN-2", "2 transaction(s)", `<span class="outcome outcome-delivered">delivered</span>`, "paid-now", "Rp58.000"}, nil},
		{"by status", "/_sandbox/?status=paid", 200, []string{"UI-PAID-1", "1 matching"}, []string{"UI-OPEN-2"}},
		{"by reference", "/_sandbox/?reference=open", 200, []string{"UI-OPEN-2"}, []string{">UI-PAID-1<"}},
		{"by merchant", "/_sandbox/?clientId=nobody", 200, []string{"No transaction matches these filters."}, []string{"UI-OPEN-2"}},
		{"detail", "/_sandbox/ui/transactions/" + paid.TransactionNumber, 200,
			[]string{"UI-PAID-1", "Deliveries (1)", signature, "HTTP 200", "X-Request-Time: ", `&#34;status&#34;: &#34;PAID&#34;`, "/_sandbox/pay/" + paid.TransactionNumber, "Resend the PAID notify"},
			[]string{">Pay</button>"}},
		{"unknown transaction", "/_sandbox/ui/transactions/SBX0", 404, []string{"No transaction numbered &#34;SBX0&#34;"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := page(t, e.h, "GET", tt.path, nil, "")
			body := rec.Body.String()
			if rec.Code != tt.status || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
				t.Fatalf("%d %s, want %d text/html:\n%s", rec.Code, rec.Header().Get("Content-Type"), tt.status, body)
			}
			if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
				t.Errorf("Content-Security-Policy %q: the pages must run only their own scripts", csp)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(body, n) {
					t.Errorf("page shows %q", n)
				}
			}
			if t.Failed() {
				t.Logf("page:\n%s", body)
			}
		})
	}
}

// TestDashboardVersion: the live-update counter moves with every change
// the dashboard shows.
func TestDashboardVersion(t *testing.T) {
	e := newEngine(t, "")
	version := func() string {
		rec := page(t, e.h, "GET", "/_sandbox/ui/version", nil, "")
		if rec.Code != 200 {
			t.Fatalf("version: %d %s", rec.Code, rec.Body)
		}
		return rec.Body.String()
	}
	v0 := version()
	e.create(t, "UI-V-1", "", nil)
	v1 := version()
	e.control(t, "POST", "/_sandbox/transactions/UI-V-1/fail", "")
	v2 := version()
	if v0 == v1 || v1 == v2 {
		t.Errorf("version did not move: %s → %s → %s", v0, v1, v2)
	}
}

// TestHostedPage: what a customer sees for each kind of channel, and what
// Pay and Cancel do.
func TestHostedPage(t *testing.T) {
	e := newEngine(t, "")
	rc := newReceiver(t)
	const thanks = "https://my-cool-apps.com/thankyou"
	tests := []struct {
		name, code string
		fields     map[string]any
		shows      []string
		action     string
		status     int    // of the POST
		location   string // of the POST's answer
		after      string // the payment's status afterwards
		afterPage  string
	}{
		{name: "redirect pay", code: "DANA", shows: []string{"Pay Rp58.000", "Pay with</dt><dd>DANA"},
			action: "pay", status: 303, location: thanks, after: "PAID", afterPage: "Payment received"},
		{name: "redirect cancel", code: "SHOPEEPAY", shows: []string{"Cancel"},
			action: "cancel", status: 303, location: thanks, after: "FAILED", afterPage: "Payment cancelled"},
		{name: "virtual account", code: "VA-BNI", shows: []string{"Transfer to this virtual account", `id="va-number"`, "Simulate payment"},
			action: "pay", status: 303, location: thanks, after: "PAID"},
		{name: "qris", code: "QRIS", shows: []string{"/qr.svg", `alt="QRIS code of Rp58.000`, "Simulate payment"},
			action: "pay", status: 303, location: thanks, after: "PAID"},
		{name: "deeplink", code: "GOPAY", shows: []string{`href="gojek://gopay/merchanttransfer?tref=`, "Open GoPay"},
			action: "cancel", status: 303, location: thanks, after: "FAILED"},
		{name: "no return URL", code: "DANA", fields: map[string]any{"finishReturnUrl": nil},
			action: "pay", status: 303, location: "/_sandbox/pay/", after: "PAID", afterPage: "Payment received"},
		{name: "custom scheme return URL", code: "OVO", fields: map[string]any{"finishReturnUrl": "myapp://orders/1"},
			shows: []string{`href="myapp://orders/1"`}, action: "pay", status: 303, location: "myapp://orders/1", after: "PAID"},
		{name: "unknown action", code: "DANA", action: "refund", status: 400, after: "PENDING", afterPage: `The form sent action &#34;refund&#34;`},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref := "HOSTED-" + string(rune('A'+i))
			fields := map[string]any{"paymentCode": tt.code}
			for k, v := range tt.fields {
				fields[k] = v
			}
			tx := e.create(t, ref, rc.URL, fields)
			path := "/_sandbox/pay/" + tx.TransactionNumber
			// Customers are not on the sandbox's machine: the page is public.
			rec := page(t, e.h, "GET", path, nil, "203.0.113.9:4000")
			if rec.Code != 200 {
				t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
			}
			for _, w := range append([]string{"Rp58.000", ref, `name="action" value="pay"`, `name="action" value="cancel"`}, tt.shows...) {
				if !strings.Contains(rec.Body.String(), w) {
					t.Errorf("page lacks %q:\n%s", w, rec.Body)
				}
			}
			rec = page(t, e.h, "POST", path, url.Values{"action": {tt.action}}, "203.0.113.9:4000")
			if rec.Code != tt.status || !strings.HasPrefix(rec.Header().Get("Location"), tt.location) {
				t.Fatalf("POST action=%s: %d Location %q, want %d %q\n%s", tt.action, rec.Code, rec.Header().Get("Location"), tt.status, tt.location, rec.Body)
			}
			if code, body := e.control(t, "GET", "/_sandbox/transactions/"+ref, ""); code != 200 || !strings.Contains(body, `"status": "`+tt.after+`"`) {
				t.Errorf("afterwards: %d %s, want status %s", code, body, tt.after)
			}
			if tt.after != "PENDING" {
				waitFor(t, "the "+tt.after+" notify", func() bool {
					for _, got := range rc.all() {
						if got.Note.ReferenceNumber == ref && got.Note.Status == tt.after {
							return true
						}
					}
					return false
				})
			}
			if tt.afterPage != "" {
				if tt.status == 303 {
					rec = page(t, e.h, "GET", path, nil, "")
				}
				if !strings.Contains(rec.Body.String(), tt.afterPage) || strings.Contains(rec.Body.String(), `value="pay"`) && tt.after != "PENDING" {
					t.Errorf("page afterwards lacks %q or still offers Pay:\n%s", tt.afterPage, rec.Body)
				}
			}
			if tt.after != "PENDING" { // a second decision changes nothing
				rec = page(t, e.h, "POST", path, url.Values{"action": {"pay"}}, "")
				if rec.Code != 409 || !strings.Contains(rec.Body.String(), "already "+tt.after) {
					t.Errorf("second POST: %d, want 409 saying it is already %s:\n%s", rec.Code, tt.after, rec.Body)
				}
			}
		})
	}
}

// TestHostedPageExpired: an expired payment shows its state, not buttons,
// and the countdown stands still on a virtual clock.
func TestHostedPageExpired(t *testing.T) {
	e := newEngine(t, "")
	tx := e.create(t, "HOSTED-EXP", "", map[string]any{"paymentCode": "DANA"})
	path := "/_sandbox/pay/" + tx.TransactionNumber
	body := page(t, e.h, "GET", path, nil, "").Body.String()
	if !strings.Contains(body, `data-speed="0"`) || !strings.Contains(body, `data-remaining-ms="86400000"`) && !strings.Contains(body, `data-remaining-ms="86399000"`) {
		t.Errorf("countdown: want 24 h standing still on the virtual clock:\n%s", body)
	}
	e.sb.AdvanceClock(25 * time.Hour)
	rec := page(t, e.h, "GET", path, nil, "")
	if body := rec.Body.String(); !strings.Contains(body, "This payment has expired") || strings.Contains(body, `value="pay"`) {
		t.Errorf("expired page:\n%s", body)
	}
	if rec := page(t, e.h, "POST", path, url.Values{"action": {"pay"}}, ""); rec.Code != 409 || !strings.Contains(rec.Body.String(), "already EXPIRED") {
		t.Errorf("pay after expiry: %d\n%s", rec.Code, rec.Body)
	}
}

// TestPagesGuard: the dashboard is a control surface, the hosted page and
// assets are not.
func TestPagesGuard(t *testing.T) {
	e := newEngine(t, "")
	tx := e.create(t, "GUARD-1", "", map[string]any{"paymentCode": "QRIS"})
	tests := []struct {
		path        string
		status      int
		contentType string
	}{
		{"/_sandbox/", 403, "application/json"},
		{"/_sandbox/ui/transactions/" + tx.TransactionNumber, 403, "application/json"},
		{"/_sandbox/ui/version", 403, "application/json"},
		{"/_sandbox/pay/" + tx.TransactionNumber, 200, "text/html; charset=utf-8"},
		{"/_sandbox/pay/" + tx.TransactionNumber + "/qr.svg", 200, "image/svg+xml"},
		{"/_sandbox/pay/SBX-NONE", 404, "text/html; charset=utf-8"},
		{"/_sandbox/static/sandbox.css", 200, "text/css; charset=utf-8"},
		{"/_sandbox/static/dashboard.js", 200, "text/javascript; charset=utf-8"},
		{"/_sandbox/static/nothing.js", 404, "text/html; charset=utf-8"},
	}
	for _, tt := range tests {
		rec := page(t, e.h, "GET", tt.path, nil, "198.51.100.7:5000")
		if rec.Code != tt.status || rec.Header().Get("Content-Type") != tt.contentType {
			t.Errorf("GET %s from another host: %d %q, want %d %q", tt.path, rec.Code, rec.Header().Get("Content-Type"), tt.status, tt.contentType)
		}
	}
	// The QR code is an SVG drawing of the payment's own QRIS string.
	svg := page(t, e.h, "GET", "/_sandbox/pay/"+tx.TransactionNumber+"/qr.svg", nil, "").Body.String()
	if !strings.HasPrefix(svg, `<svg xmlns="http://www.w3.org/2000/svg"`) || strings.Count(svg, "h1v1h-1z") < 200 {
		t.Errorf("qr.svg is not a QR drawing: %.200s", svg)
	}
	va := e.create(t, "GUARD-2", "", map[string]any{"paymentCode": "VA-BNI"})
	if rec := page(t, e.h, "GET", "/_sandbox/pay/"+va.TransactionNumber+"/qr.svg", nil, ""); rec.Code != 404 {
		t.Errorf("qr.svg of a VA payment: %d, want 404", rec.Code)
	}
}
