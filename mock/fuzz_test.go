package mock_test

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock"
	"github.com/bjpay/bjpay-sandbox/mock/store"
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

// FuzzInquiry throws arbitrary reference path segments and header values
// at the inquiry handler. Whatever comes in, the answer is a JSON envelope
// and never a 5xx; the checks run in their documented order (content type,
// credentials, X-Request-Time, then the reference), so the one payment in
// the sandbox is answered with 200 exactly when every header is valid and
// the segment is its reference; and a wrong X-Client-Secret gets the same
// answer whatever its value, so nothing of it is echoed back.
func FuzzInquiry(f *testing.F) {
	const ref = "BJP05134e418d311b55e5cd9e13" // docsExample's
	now := testNow.Format("2006-01-02T15:04:05-07:00")
	for _, s := range []struct{ ref, contentType, clientID, secret, requestTime string }{
		{ref, "application/json", demoID, demoSecret, now},                           // the payment
		{"NOPE-1", "application/json", demoID, demoSecret, now},                      // unknown
		{"bjp05134e418d311b55e5cd9e13", "application/json", demoID, demoSecret, now}, // references are case-sensitive
		{ref + " ", "application/json", demoID, demoSecret, now},
		{"a b", "application/json", demoID, demoSecret, now},
		{"..", "application/json", demoID, demoSecret, now},
		{ref + "/x", "application/json", demoID, demoSecret, now},
		{"", "application/json", demoID, demoSecret, now},
		{"%2F", "application/json", demoID, demoSecret, now},
		{"\x00\xff\u202e", "application/json", demoID, demoSecret, now},
		{ref, "application/json; charset=utf-8", demoID, demoSecret, "2026-11-24T03:04:00Z"},
		{ref, "APPLICATION/JSON", demoID, demoSecret, now},
		{ref, "application/json;", demoID, demoSecret, now},
		{ref, "text/plain", demoID, demoSecret, now},
		{ref, "", demoID, demoSecret, now},
		{ref, "application/json", "", demoSecret, now},
		{ref, "application/json", demoSecret, demoID, now}, // swapped
		{ref, "application/json", demoID, demoSecret + " ", now},
		{ref, "application/json", demoID, "", now},
		{ref, "application/json", demoID, demoSecret, ""},
		{ref, "application/json", demoID, demoSecret, "2026-11-24T10:05:00+07:00"}, // at the edge of the skew
		{ref, "application/json", demoID, demoSecret, "2026-11-24T10:05:01+07:00"},
		{ref, "application/json", demoID, demoSecret, "2026-11-24 10:00:00+07:00"},
		{ref, "application/json", demoID, demoSecret, "9999-12-31T23:59:59+14:00"},
		{ref, "application/json", demoID, demoSecret, "0000-01-01T00:00:00-23:59"},
	} {
		f.Add(s.ref, s.contentType, s.clientID, s.secret, s.requestTime)
	}
	h := newSandbox(f, mock.Config{}).Handler()
	if r := post(f, h, createPath, with(nil)); r.Status != http.StatusOK {
		f.Fatalf("create: %d %s", r.Status, r.Body)
	}
	skew := mock.DefaultConfig().Settings.RequestTimeSkew

	inquire := func(t *testing.T, segment, contentType, clientID, secret, requestTime string) response {
		t.Helper()
		req := httptest.NewRequest(http.MethodPost, inquiryPath+"x", nil)
		// The segment as the router sees it, decoded: set directly, since
		// not every string makes a request target NewRequest would take.
		req.URL.Path, req.URL.RawPath = inquiryPath+segment, ""
		req.RemoteAddr = loopbackClient
		req.Header = http.Header{}
		for k, v := range map[string]string{"Content-Type": contentType, "X-Client-Id": clientID, "X-Client-Secret": secret, "X-Request-Time": requestTime} {
			if v != "" {
				req.Header.Set(k, v)
			}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		r := response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.String()}
		if r.Status >= 500 {
			t.Fatalf("status %d for segment %q: %s", r.Status, segment, r.Body)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type %q; body %s", ct, r.Body)
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil || r.Code == "" || r.Message == "" {
			t.Fatalf("answer is not an envelope (%v): %s", err, r.Body)
		}
		return r
	}

	f.Fuzz(func(t *testing.T, segment, contentType, clientID, secret, requestTime string) {
		r := inquire(t, segment, contentType, clientID, secret, requestTime)

		// What the answer must be, check by check in the documented order.
		mt, _, mtErr := mime.ParseMediaType(contentType)
		rt, rtErr := time.Parse(time.RFC3339, requestTime)
		var wantStatus int
		var wantCode string
		switch {
		case segment == "" || strings.Contains(segment, "/"):
			wantStatus, wantCode = 404, "404" // no such route
		case mtErr != nil || mt != "application/json":
			wantStatus, wantCode = 415, "415"
		case clientID != demoID || secret != demoSecret:
			wantStatus, wantCode = 401, "01"
		case rtErr != nil || rt.Sub(testNow) > skew || testNow.Sub(rt) > skew:
			wantStatus, wantCode = 400, "23"
		case segment != ref:
			wantStatus, wantCode = 404, "14"
		default:
			wantStatus, wantCode = 200, "OK"
		}
		if r.Status != wantStatus || r.Code != wantCode {
			t.Fatalf("segment %q, Content-Type %q, X-Client-Id %q, X-Client-Secret %q, X-Request-Time %q:\ngot %d %s, want %d %s; body %s",
				segment, contentType, clientID, secret, requestTime, r.Status, r.Code, wantStatus, wantCode, r.Body)
		}
		if r.Status == http.StatusOK {
			var tx store.Transaction
			if err := json.Unmarshal(r.Data, &tx); err != nil || tx.ReferenceNumber != ref {
				t.Fatalf("answer for %q is not its payment (%v): %s", segment, err, r.Body)
			}
		}

		// A wrong secret is answered alike whatever it is.
		if secret != "" && secret != demoSecret {
			other := inquire(t, segment, contentType, clientID, "wrong-secret", requestTime)
			if other.Status != r.Status || other.Body != r.Body {
				t.Fatalf("the answer depends on the wrong X-Client-Secret %q:\n%d %s\nversus, for another wrong one,\n%d %s", secret, r.Status, r.Body, other.Status, other.Body)
			}
		}
	})
}
