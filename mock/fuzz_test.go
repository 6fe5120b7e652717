package mock_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bjpay/bjpay-sandbox/mock"
)

// FuzzCreate throws arbitrary bodies and X-Request-Time values at the
// create handler: whatever comes in, the answer is a JSON envelope and
// never a 5xx. `go test ./mock -fuzz FuzzCreate -fuzztime 1m` runs it
// longer; the seeds below run in every `go test`.
func FuzzCreate(f *testing.F) {
	f.Add(string(with(nil)), testNow.Format("2006-01-02T15:04:05-07:00"))
	f.Add(`{"items":[{"quantity":1e308,"amount":1e308}],"totalAmount":1e308}`, "")
	f.Add(`{"paymentCode":"GOPAY","items":[null,{},[]]}`, "2026-11-24T10:00:00Z")
	f.Add(`{"referenceNumber":"\ud800","customerEmail":"\u0000@x.y"}`, "2026-13-45T99:99:99+07:00")
	f.Add(`[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]`, "\x00")
	f.Add(`{"totalAmount":-0,"items":[{"name":"a","quantity":-0,"amount":-0}]}`, "2026-11-24T10:00:00.999999999+14:00")
	sb := newSandbox(f, mock.Config{})
	h := sb.Handler()
	f.Fuzz(func(t *testing.T, body, requestTime string) {
		req := httptest.NewRequest(http.MethodPost, createPath, bytes.NewReader([]byte(body)))
		req.Header = validHeaders()
		req.Header.Set("X-Request-Time", requestTime)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for body %q", rec.Code, body)
		}
		var env struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Code == "" || env.Message == "" {
			t.Fatalf("answer is not an envelope (%v): %s", err, rec.Body)
		}
	})
}
