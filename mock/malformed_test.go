package mock_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock"
)

// documented is every code BJPAY documents with its exact message.
var documented = map[string]string{
	"OK": "Success",
	"01": "Unauthorized",
	"12": "Invalid Amount",
	"13": "Invalid Payment Channel",
	"14": "Invalid Transaction Reference Number",
	"15": "Invalid Transaction Item",
	"16": "Invalid Customer Email",
	"17": "Invalid Customer Phone Number",
	"18": "Invalid Quantity",
	"19": "Invalid Currency",
	"23": "Invalid X-Request-Time",
}

// header edits for the table.
func set(k, v string) func(http.Header) { return func(h http.Header) { h.Set(k, v) } }
func del(k string) func(http.Header)    { return func(h http.Header) { h.Del(k) } }

func item(name any, quantity, amount any) map[string]any {
	m := map[string]any{"name": name, "quantity": quantity, "amount": amount}
	for k, v := range m {
		if v == nil {
			delete(m, k)
		}
	}
	return m
}

// TestBadRequests sends malformed requests of every kind. Each must get the
// right code and HTTP status, the BJPAY envelope, the documented message for
// documented codes, a detail that says what was wrong, and never a 5xx.
func TestBadRequests(t *testing.T) {
	rfc := func(d time.Duration) string { return testNow.Add(d).Format(time.RFC3339) }
	tests := []struct {
		name   string
		method string // POST when empty
		path   string // create when empty
		header func(http.Header)
		body   string // the docs example when empty; "-" for no body
		status int
		code   string
		detail string // a substring of the detail (or of the message for sandbox envelopes)
	}{
		// Route and method.
		{name: "GET create", method: "GET", status: 405, code: "405", detail: "method GET is not allowed"},
		{name: "PUT create", method: "PUT", status: 405, code: "405", detail: "every BJPAY API call is POST"},
		{name: "DELETE inquiry", method: "DELETE", path: inquiryPath + "X", status: 405, code: "405"},
		{name: "GET channels", method: "GET", path: channelsPath, status: 405, code: "405"},
		{name: "PATCH channels", method: "PATCH", path: channelsPath, status: 405, code: "405"},
		{name: "unknown path", path: "/api/merchant/transaction", status: 404, code: "404", detail: "no BJPAY endpoint at /api/merchant/transaction"},
		{name: "trailing slash", path: createPath + "/", status: 404, code: "404"},
		{name: "root", path: "/", status: 404, code: "404"},
		{name: "inquiry without reference", path: inquiryPath, status: 404, code: "404"},
		{name: "double slash", path: "//api/merchant/payment-channel", status: 404, code: "404"},
		{name: "dot segments", path: "/api/merchant/transaction/inquiry/..", status: 404, code: "14", detail: `no transaction with referenceNumber ".."`},
		{name: "encoded dot segments", path: "/api/merchant/transaction/inquiry/%2E%2E", status: 404, code: "14"},
		{name: "wrong case path", path: "/API/merchant/transaction/create", status: 404, code: "404"},
		{name: "GET unknown path", method: "GET", path: "/favicon.ico", status: 404, code: "404"},

		// Content type, then body size, before authentication.
		{name: "no content type", header: del("Content-Type"), status: 415, code: "415", detail: "Content-Type header is missing"},
		{name: "text/plain", header: set("Content-Type", "text/plain"), status: 415, code: "415", detail: `"text/plain" is not supported`},
		{name: "form content type", header: set("Content-Type", "application/x-www-form-urlencoded"), status: 415, code: "415"},
		{name: "broken content type", header: set("Content-Type", "application/json; =x"), status: 415, code: "415"},
		{name: "content type before auth", header: func(h http.Header) { h.Del("Content-Type"); h.Del("X-Client-Id") }, status: 415, code: "415"},
		{name: "body too large", body: `{"customerName":"` + strings.Repeat("a", 2<<20) + `"}`, status: 413, code: "413", detail: "limit"},
		{name: "body too large before auth", header: del("X-Client-Secret"), body: strings.Repeat(" ", 2<<20), status: 413, code: "413"},

		// Authentication: 01.
		{name: "no client id", header: del("X-Client-Id"), status: 401, code: "01", detail: "X-Client-Id header is missing"},
		{name: "no client secret", header: del("X-Client-Secret"), status: 401, code: "01", detail: "X-Client-Secret header is missing"},
		{name: "unknown client id", header: set("X-Client-Id", "nobody"), status: 401, code: "01", detail: "X-Client-Id of 6 characters is not a merchant"},
		{name: "secret in the client id header", header: set("X-Client-Id", demoSecret), status: 401, code: "01", detail: `"sand"… (24 characters) is not a merchant`},
		{name: "wrong secret", header: set("X-Client-Secret", "guess"), status: 401, code: "01", detail: "does not match"},
		{name: "secret with trailing space", header: set("X-Client-Secret", demoSecret+" "), status: 401, code: "01"},
		{name: "auth on channels", path: channelsPath, header: del("X-Client-Id"), status: 401, code: "01"},
		{name: "auth on inquiry", path: inquiryPath + "X", header: set("X-Client-Secret", "x"), status: 401, code: "01"},
		{name: "auth before request time", header: func(h http.Header) { h.Del("X-Client-Id"); h.Del("X-Request-Time") }, status: 401, code: "01"},

		// X-Request-Time: 23.
		{name: "no request time", header: del("X-Request-Time"), status: 400, code: "23", detail: "X-Request-Time header is missing"},
		{name: "garbage request time", header: set("X-Request-Time", "yesterday"), status: 400, code: "23", detail: `"yesterday" is not in BJPAY's format; expected YYYY-MM-DDTHH:mm:ss with a ±HH:MM offset or Z`},
		{name: "request time in year 1", header: set("X-Request-Time", "0001-01-01T00:00:00Z"), status: 400, code: "23", detail: "h47m16s behind"},
		{name: "request time in year 9999", header: set("X-Request-Time", "9999-12-31T23:59:59Z"), status: 400, code: "23", detail: "ahead of"},
		{name: "date only", header: set("X-Request-Time", "2026-11-24"), status: 400, code: "23"},
		{name: "space for T", header: set("X-Request-Time", "2026-11-24 10:00:00+07:00"), status: 400, code: "23"},
		{name: "no zone", header: set("X-Request-Time", "2026-11-24T10:00:00"), status: 400, code: "23"},
		{name: "unix seconds", header: set("X-Request-Time", "1795998000"), status: 400, code: "23"},
		{name: "stale request time", header: set("X-Request-Time", rfc(-10*time.Minute)), status: 400, code: "23", detail: "10m0s behind"},
		{name: "future request time", header: set("X-Request-Time", rfc(6*time.Minute)), status: 400, code: "23", detail: "6m0s ahead of"},
		{name: "request time on channels", path: channelsPath, header: del("X-Request-Time"), status: 400, code: "23"},

		// Body shape: sandbox 400.
		{name: "empty body", body: "-", status: 400, code: "400", detail: "request body is empty"},
		{name: "truncated JSON", body: `{"paymentCode":`, status: 400, code: "400", detail: "not valid JSON"},
		{name: "array body", body: `[]`, status: 400, code: "400", detail: "is a JSON array"},
		{name: "string body", body: `"hello"`, status: 400, code: "400", detail: "is a JSON string"},
		{name: "number body", body: `58000`, status: 400, code: "400"},
		{name: "null body", body: `null`, status: 400, code: "400", detail: "JSON null"},
		{name: "trailing garbage", body: `{} x`, status: 400, code: "400", detail: "not valid JSON"},
		{name: "trailing comma", body: `{"paymentCode":"GOPAY",}`, status: 400, code: "400"},
		{name: "single quotes", body: `{'paymentCode':'GOPAY'}`, status: 400, code: "400"},
		{name: "form body", body: `paymentCode=GOPAY&totalAmount=58000`, status: 400, code: "400"},

		// 13 paymentCode.
		{name: "no paymentCode", body: string(with(map[string]any{"paymentCode": nil})), status: 400, code: "13", detail: "paymentCode is missing"},
		{name: "paymentCode number", body: string(with(map[string]any{"paymentCode": 7})), status: 400, code: "13", detail: "must be a string, got the number 7"},
		{name: "unknown paymentCode", body: string(with(map[string]any{"paymentCode": "BITCOIN"})), status: 400, code: "13", detail: `"BITCOIN" is not a channel`},
		{name: "inactive paymentCode", body: string(with(map[string]any{"paymentCode": "VA-BCA"})), status: 400, code: "13", detail: "inactive"},
		{name: "lower-case paymentCode", body: string(with(map[string]any{"paymentCode": "gopay"})), status: 400, code: "13"},
		{name: "paymentCode before email", body: string(with(map[string]any{"paymentCode": "X", "customerEmail": "bad"})), status: 400, code: "13"},

		// 14 referenceNumber.
		{name: "no referenceNumber", body: string(with(map[string]any{"referenceNumber": nil})), status: 400, code: "14", detail: "referenceNumber is missing"},
		{name: "empty referenceNumber", body: string(with(map[string]any{"referenceNumber": ""})), status: 400, code: "14"},
		{name: "referenceNumber number", body: string(with(map[string]any{"referenceNumber": 123})), status: 400, code: "14", detail: "must be a string"},
		{name: "referenceNumber too long", body: string(with(map[string]any{"referenceNumber": strings.Repeat("R", 65)})), status: 400, code: "14", detail: "65 characters long"},
		{name: "referenceNumber with space", body: string(with(map[string]any{"referenceNumber": "TX 1"})), status: 400, code: "14", detail: "characters other than"},
		{name: "referenceNumber with slash", body: string(with(map[string]any{"referenceNumber": "TX/1"})), status: 400, code: "14"},
		{name: "referenceNumber of dots", body: string(with(map[string]any{"referenceNumber": ".."})), status: 400, code: "14", detail: "only dots"},
		{name: "referenceNumber emoji", body: string(with(map[string]any{"referenceNumber": "TX_🚀"})), status: 400, code: "14"},

		// 16 customerEmail.
		{name: "no email", body: string(with(map[string]any{"customerEmail": nil})), status: 400, code: "16", detail: "customerEmail is missing"},
		{name: "email without at", body: string(with(map[string]any{"customerEmail": "bangjeff.example.com"})), status: 400, code: "16", detail: "not an email address"},
		{name: "email without dot", body: string(with(map[string]any{"customerEmail": "a@localhost"})), status: 400, code: "16"},
		{name: "email with space", body: string(with(map[string]any{"customerEmail": "bang jeff@example.com"})), status: 400, code: "16"},
		{name: "email as array", body: string(with(map[string]any{"customerEmail": []string{"a@b.c"}})), status: 400, code: "16", detail: "got an array"},
		{name: "email before phone", body: string(with(map[string]any{"customerEmail": "x", "customerPhoneNumber": "x"})), status: 400, code: "16"},

		// 17 customerPhoneNumber.
		{name: "no phone", body: string(with(map[string]any{"customerPhoneNumber": nil})), status: 400, code: "17", detail: "customerPhoneNumber is missing"},
		{name: "phone letters", body: string(with(map[string]any{"customerPhoneNumber": "62-812-abc"})), status: 400, code: "17", detail: "8 to 15 digits"},
		{name: "phone too short", body: string(with(map[string]any{"customerPhoneNumber": "6281"})), status: 400, code: "17"},
		{name: "phone too long", body: string(with(map[string]any{"customerPhoneNumber": "6281234567890123"})), status: 400, code: "17"},
		{name: "phone as number", body: string(with(map[string]any{"customerPhoneNumber": 62123224456})), status: 400, code: "17", detail: "got the number 62123224456"},

		// 15 items, 18 quantity.
		{name: "no items", body: string(with(map[string]any{"items": nil})), status: 400, code: "15", detail: "items is missing or empty"},
		{name: "empty items", body: string(with(map[string]any{"items": []any{}})), status: 400, code: "15"},
		{name: "items object", body: string(with(map[string]any{"items": map[string]any{}})), status: 400, code: "15", detail: "items must be an array, got an object"},
		{name: "item not object", body: string(with(map[string]any{"items": []any{"diamond"}})), status: 400, code: "15", detail: "items[0] must be an object"},
		{name: "item without name", body: string(with(map[string]any{"items": []any{item(nil, 1, 58000)}})), status: 400, code: "15", detail: "items[0].name is missing"},
		{name: "item name number", body: string(with(map[string]any{"items": []any{item(5, 1, 58000)}})), status: 400, code: "15"},
		{name: "item negative amount", body: string(with(map[string]any{"items": []any{item("x", 1, -58000)}})), status: 400, code: "15", detail: "items[0].amount -58000 is not a positive whole number of rupiah"},
		{name: "item fractional amount", body: string(with(map[string]any{"items": []any{item("x", 3, 19333.333)}})), status: 400, code: "15", detail: "19333.333 is not a positive whole number"},
		{name: "item huge amount", body: string(with(map[string]any{"items": []any{item("x", 1, 1e300)}})), status: 400, code: "15", detail: "is above 9007199254740991"},
		{name: "item amount string", body: string(with(map[string]any{"items": []any{item("x", 1, "58000")}})), status: 400, code: "15", detail: `got the string "58000"`},
		{name: "item without amount", body: string(with(map[string]any{"items": []any{item("x", 1, nil)}})), status: 400, code: "15"},
		{name: "second item bad", body: string(with(map[string]any{"items": []any{item("x", 1, 58000), item("", 1, 1)}})), status: 400, code: "15", detail: "items[1].name"},
		{name: "no quantity", body: string(with(map[string]any{"items": []any{item("x", nil, 58000)}})), status: 400, code: "18", detail: "quantity is missing"},
		{name: "zero quantity", body: string(with(map[string]any{"items": []any{item("x", 0, 58000)}})), status: 400, code: "18", detail: "not a whole number of at least 1"},
		{name: "quantity string", body: string(with(map[string]any{"items": []any{item("x", "1", 58000)}})), status: 400, code: "18", detail: `got the string "1"`},
		{name: "fractional quantity", body: string(with(map[string]any{"items": []any{item("x", 1.5, 58000)}})), status: 400, code: "18"},
		{name: "negative quantity", body: string(with(map[string]any{"items": []any{item("x", -1, 58000)}})), status: 400, code: "18"},
		{name: "quantity true", body: string(with(map[string]any{"items": []any{item("x", true, 58000)}})), status: 400, code: "18", detail: "got the boolean true"},

		// 12 totalAmount.
		{name: "no totalAmount", body: string(with(map[string]any{"totalAmount": nil})), status: 400, code: "12", detail: "totalAmount is missing"},
		{name: "totalAmount string", body: string(with(map[string]any{"totalAmount": "58000"})), status: 400, code: "12", detail: `must be a JSON number, got the string "58000"`},
		{name: "negative totalAmount", body: string(with(map[string]any{"totalAmount": -58000})), status: 400, code: "12", detail: "not a positive whole number"},
		{name: "fractional totalAmount", body: string(with(map[string]any{"totalAmount": 58000.5})), status: 400, code: "12"},
		{name: "zero totalAmount", body: string(with(map[string]any{"totalAmount": 0})), status: 400, code: "12"},
		{name: "huge totalAmount", body: strings.Replace(string(with(nil)), `"totalAmount":58000`, `"totalAmount":1e400`, 1), status: 400, code: "12", detail: "totalAmount is 1e400, beyond what a JavaScript Number can hold"},
		{name: "items sum overflows", body: string(with(map[string]any{"totalAmount": 58000, "items": []any{item("x", 9007199254740991, 9007199254740991)}})), status: 400, code: "12", detail: "not the sum of the items' amount × quantity, more than 9007199254740991"},
		{name: "below channel minimum", body: string(with(map[string]any{"totalAmount": 500, "items": []any{item("x", 1, 500)}})), status: 400, code: "12", detail: "below the minimum of GOPAY, 1000"},
		{name: "above channel maximum", body: string(with(map[string]any{"totalAmount": 20000000, "items": []any{item("x", 1, 20000000)}})), status: 400, code: "12", detail: "above the maximum"},
		{name: "not the sum of items", body: string(with(map[string]any{"totalAmount": 60000})), status: 400, code: "12", detail: "totalAmount 60000 is not the sum of the items' amount × quantity, 58000"},
		{name: "sum with quantity", body: string(with(map[string]any{"totalAmount": 58000, "items": []any{item("x", 2, 58000)}})), status: 400, code: "12"},

		// 19 currency.
		{name: "currency USD", body: string(with(map[string]any{"currency": "USD"})), status: 400, code: "19", detail: `currency is "USD"`},
		{name: "currency number", body: string(with(map[string]any{"currency": 360})), status: 400, code: "19"},
		{name: "currency empty", body: string(with(map[string]any{"currency": ""})), status: 400, code: "19"},

		// No documented code: sandbox 400.
		{name: "expiredAt in the past", body: string(with(map[string]any{"expiredAt": rfc(-time.Minute)})), status: 400, code: "400", detail: "not in the future"},
		{name: "expiredAt now", body: string(with(map[string]any{"expiredAt": rfc(0)})), status: 400, code: "400"},
		{name: "expiredAt garbage", body: string(with(map[string]any{"expiredAt": "tomorrow"})), status: 400, code: "400", detail: "not an RFC 3339 time"},
		{name: "expiredAt number", body: string(with(map[string]any{"expiredAt": 1795998000})), status: 400, code: "400"},
		{name: "notify URL relative", body: string(with(map[string]any{"finishNotifyUrl": "/webhook"})), status: 400, code: "400", detail: "not an absolute http(s) URL"},
		{name: "notify URL ftp", body: string(with(map[string]any{"finishNotifyUrl": "ftp://x.example/notify"})), status: 400, code: "400"},
		{name: "notify URL number", body: string(with(map[string]any{"finishNotifyUrl": 1})), status: 400, code: "400"},
		{name: "return URL relative", body: string(with(map[string]any{"finishReturnUrl": "thankyou"})), status: 400, code: "400"},
		{name: "return URL javascript", body: string(with(map[string]any{"finishReturnUrl": "javascript:alert(1)"})), status: 400, code: "400", detail: `the scheme "javascript"`},
		{name: "duplicate key: last value counts", body: strings.Replace(string(with(nil)), `"customerEmail":"bangjeff@example.com"`, `"customerEmail":"bangjeff@example.com","customerEmail":"x"`, 1), status: 400, code: "16", detail: `"x" is not an email`},
		{name: "customerName object", body: string(with(map[string]any{"customerName": map[string]any{}})), status: 400, code: "400", detail: "customerName must be a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newSandbox(t, mock.Config{}).Handler()
			method, path := tt.method, tt.path
			if method == "" {
				method = http.MethodPost
			}
			if path == "" {
				path = createPath
			}
			header := validHeaders()
			if tt.header != nil {
				tt.header(header)
			}
			var body []byte
			switch tt.body {
			case "":
				body = with(nil)
			case "-":
			default:
				body = []byte(tt.body)
			}
			r := do(t, h, method, path, header, body)
			checkEnvelope(t, r)
			if r.Status != tt.status || r.Code != tt.code {
				t.Fatalf("got %d %q, want %d %q; body %.300s", r.Status, r.Code, tt.status, tt.code, r.Body)
			}
			explanation := r.Detail
			if _, ok := documented[r.Code]; !ok {
				explanation = r.Message
			}
			if !strings.Contains(explanation, tt.detail) {
				t.Errorf("explanation %q does not say %q", explanation, tt.detail)
			}
		})
	}
}

// checkEnvelope checks what every answer must be, whatever the input.
func checkEnvelope(t *testing.T, r response) {
	t.Helper()
	if r.Status >= 500 {
		t.Fatalf("status %d for bad input; body %s", r.Status, r.Body)
	}
	msg, isDocumented := documented[r.Code]
	sandboxHeader := r.Header.Get("X-Sandbox-Error") == "true"
	switch {
	case isDocumented && r.Message != msg:
		t.Errorf("code %s has message %q, want BJPAY's %q", r.Code, r.Message, msg)
	case isDocumented && sandboxHeader:
		t.Errorf("documented code %s carries X-Sandbox-Error", r.Code)
	case !isDocumented && (!sandboxHeader || r.Code != strconv.Itoa(r.Status)):
		t.Errorf("sandbox envelope: code %q, status %d, X-Sandbox-Error %v; want code = status and the header", r.Code, r.Status, sandboxHeader)
	case !isDocumented && r.Message == "":
		t.Errorf("sandbox envelope %s has no message", r.Code)
	case r.Code != "OK" && isDocumented && r.Detail == "":
		t.Errorf("code %s has no sandboxDetail", r.Code)
	}
}

func TestReferenceReused(t *testing.T) {
	h := newSandbox(t, mock.Config{}).Handler()
	if r := post(t, h, createPath, with(nil)); r.Status != 200 {
		t.Fatalf("first create: %d %s", r.Status, r.Body)
	}
	r := post(t, h, createPath, with(nil))
	if r.Status != 400 || r.Code != "14" || !strings.Contains(r.Detail, "already used") {
		t.Errorf("second create: got %d %s %q, want 400 14 already used", r.Status, r.Code, r.Detail)
	}
	// Another merchant may use the same reference.
}

// TestAcceptedVariants are well-formed requests that must succeed.
func TestAcceptedVariants(t *testing.T) {
	tests := []struct {
		name   string
		header func(http.Header)
		body   []byte
	}{
		{"charset in content type", set("Content-Type", "application/json; charset=utf-8"), with(nil)},
		{"upper-case content type", set("Content-Type", "Application/JSON"), with(nil)},
		{"request time in UTC", set("X-Request-Time", testNow.UTC().Format(time.RFC3339)), with(nil)},
		{"request time 4m old", set("X-Request-Time", testNow.Add(-4*time.Minute).Format(time.RFC3339)), with(nil)},
		{"currency IDR", nil, with(map[string]any{"currency": "IDR"})},
		{"phone with plus", nil, with(map[string]any{"customerPhoneNumber": "+62123224456"})},
		{"no customerName", nil, with(map[string]any{"customerName": nil})},
		{"no finishReturnUrl", nil, with(map[string]any{"finishReturnUrl": nil})},
		{"app return URL", nil, with(map[string]any{"finishReturnUrl": "myapp://thankyou"})},
		{"unknown field ignored", nil, with(map[string]any{"note": "gift"})},
		{"several items", nil, with(map[string]any{"totalAmount": 58000, "items": []any{item("a", 2, 20000), item("b", 1, 18000)}})},
		{"reference of 64 characters", nil, with(map[string]any{"referenceNumber": strings.Repeat("r", 64)})},
		{"escaped string", nil, []byte(strings.Replace(string(with(nil)), `"BANGJEFF"`, `"BANG\u004aEFF \"the\" diamond"`, 1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newSandbox(t, mock.Config{}).Handler()
			header := validHeaders()
			if tt.header != nil {
				tt.header(header)
			}
			r := do(t, h, http.MethodPost, createPath, header, tt.body)
			if r.Status != 200 || r.Code != "OK" {
				t.Errorf("got %d %s; body %s", r.Status, r.Code, r.Body)
			}
		})
	}
}
