package mock_test

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock"
	"github.com/bjpay/bjpay-sandbox/mock/notify"
)

// testNow is the wall time and sandbox time of every test sandbox.
var testNow = time.Date(2026, 11, 24, 10, 0, 0, 0, time.FixedZone("WIB", 7*3600))

const (
	demoID     = "2f9d6a0e-4c1b-4e8a-9b7d-5a3c1e0f8b21"
	demoSecret = "sandbox-secret-change-me"
)

// newSandbox builds a sandbox on the embedded defaults with a fixed clock
// and seed.
func newSandbox(t testing.TB, cfg mock.Config) *mock.Sandbox {
	t.Helper()
	if len(cfg.Merchants) == 0 {
		cfg = mock.DefaultConfig()
	}
	return newSandboxSeed(t, cfg, 42)
}

// newSandboxSeed builds a sandbox whose sandbox clock (virtual) and wall
// clock both stand at testNow, and closes it when the test ends.
func newSandboxSeed(t testing.TB, cfg mock.Config, seed int64) *mock.Sandbox {
	t.Helper()
	clock, err := mock.NewSandboxClock(mock.ClockVirtual, 1)
	if err != nil {
		t.Fatal(err)
	}
	clock.Set(testNow)
	sb, err := mock.New(mock.Options{
		Config:    cfg,
		Clock:     clock,
		WallNow:   func() time.Time { return testNow },
		Seed:      seed,
		PublicURL: "http://sandbox.test",
	})
	if err != nil {
		t.Fatalf("mock.New: %v", err)
	}
	sb.Start()
	t.Cleanup(func() { sb.Close(context.Background()) })
	return sb
}

// validHeaders are the headers of a well-formed call by the demo merchant.
func validHeaders() http.Header {
	return http.Header{
		"Content-Type":    {"application/json"},
		"X-Client-Id":     {demoID},
		"X-Client-Secret": {demoSecret},
		"X-Request-Time":  {testNow.Format("2006-01-02T15:04:05-07:00")},
	}
}

// docsExample is BJPAY's documented Create Payment example, with an email
// and an expiry in the future of testNow.
func docsExample() map[string]any {
	return map[string]any{
		"paymentCode":         "GOPAY",
		"referenceNumber":     "BJP05134e418d311b55e5cd9e13",
		"customerName":        "BANGJEFF",
		"customerEmail":       "bangjeff@example.com",
		"customerPhoneNumber": "62123224456",
		"finishNotifyUrl":     "https://my-cool-apps.com/webhook/notify",
		"finishReturnUrl":     "https://my-cool-apps.com/thankyou",
		"expiredAt":           "2026-11-25T13:00:48+07:00",
		"totalAmount":         58000,
		"items":               []any{map[string]any{"name": "MLBB Diamond - 250", "quantity": 1, "amount": 58000}},
	}
}

// with returns a copy of the docs example with fields set (a nil value
// removes the field).
func with(fields map[string]any) []byte {
	m := docsExample()
	maps.Copy(m, fields)
	for k, v := range fields {
		if v == nil {
			delete(m, k)
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// response is a decoded answer.
type response struct {
	Status  int
	Header  http.Header
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Detail  string          `json:"sandboxDetail"`
	Data    json.RawMessage `json:"data"`
	Body    string
}

// sandboxHost is the Host test requests name: the sandbox as a developer
// reaches it (httptest's example.com would be refused as DNS rebinding).
const sandboxHost = "localhost:8080"

// loopbackClient is where test requests come from: a developer's machine,
// which the control API answers without --expose-control.
const loopbackClient = "127.0.0.1:49152"

// do sends one request to h and decodes the envelope, failing the test if
// the answer is not one.
func do(t testing.TB, h http.Handler, method, path string, header http.Header, body []byte) response {
	t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Host = sandboxHost
	req.Header = header
	req.RemoteAddr = loopbackClient
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	r := response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.String()}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: Content-Type %q, want application/json; body %s", method, path, ct, r.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		t.Fatalf("%s %s: answer is not a JSON envelope: %v; body %s", method, path, err, r.Body)
	}
	return r
}

func post(t testing.TB, h http.Handler, path string, body []byte) response {
	t.Helper()
	return do(t, h, http.MethodPost, path, validHeaders(), body)
}

// decodeNotification decodes a notify body strictly: every member a known
// field of notify.Notification.
func decodeNotification(t *testing.T, body []byte) notify.Notification {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var n notify.Notification
	if err := dec.Decode(&n); err != nil {
		t.Fatalf("body does not decode as a Notification: %v\n%s", err, body)
	}
	return n
}
