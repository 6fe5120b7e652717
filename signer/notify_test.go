package signer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// refKey, refTime and refBody make the reference vector as a notify, with the other
// body fields of the docs' example.
var (
	refKey  = Key("test-client-id", "test-client-secret")
	refTime = time.Date(2024, 9, 20, 20, 32, 36, 0, time.FixedZone("WIB", 7*60*60))
	refBody = []byte(`{"paymentCode":"GOPAY","referenceNumber":"TX_556622123344","status":"PAID",` +
		`"customerName":"Budi","paymentName":"GoPay","paymentDestType":"DEEPLINK","totalAmount":15000,"fee":3500}`)
)

const (
	refTimestamp = "2024-09-20T20:32:36+07:00"
	refSignature = "f5a8097de89bbe64ff66137c931d19e737f1574995bcada84558d58728e658bf"
)

// TestNotifyRoundTrip sends a notify signed by SignNotify to an httptest server that
// checks it with VerifyNotify, once directly and once through a 307 redirect, which
// makes the client resend the body through GetBody.
func TestNotifyRoundTrip(t *testing.T) {
	type received struct {
		header http.Header
		err    error
	}
	got := make(chan received, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /notify", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err == nil {
			err = VerifyNotify(refKey, r.Header, body)
		}
		got <- received{r.Header, err}
	})
	mux.Handle("POST /moved", http.RedirectHandler("/notify", http.StatusTemporaryRedirect))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	for _, path := range []string{"/notify", "/moved"} {
		t.Run(path, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, srv.URL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := SignNotify(req, refKey, refBody, refTime); err != nil {
				t.Fatalf("SignNotify: %v", err)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200", resp.StatusCode)
			}
			r := <-got
			if r.err != nil {
				t.Errorf("VerifyNotify: %v", r.err)
			}
			for name, want := range map[string]string{
				HeaderRequestTime: refTimestamp,
				HeaderSignature:   refSignature,
				"Content-Type":    "application/json",
			} {
				if v := r.header.Get(name); v != want {
					t.Errorf("received %s = %q, want %q", name, v, want)
				}
			}
		})
	}
}

func TestSignNotifyRequest(t *testing.T) {
	req := httptest.NewRequest(http.MethodPost, "/notify", nil)
	if err := SignNotify(req, refKey, refBody, refTime.UTC()); err != nil {
		t.Fatalf("SignNotify: %v", err)
	}
	// UTC is "+00:00", never "Z", and sub-second digits are dropped.
	if got, want := req.Header.Get(HeaderRequestTime), "2024-09-20T13:32:36+00:00"; got != want {
		t.Errorf("X-Request-Time = %q, want %q", got, want)
	}
	if req.ContentLength != int64(len(refBody)) {
		t.Errorf("ContentLength = %d, want %d", req.ContentLength, len(refBody))
	}
	for name, open := range map[string]func() (io.ReadCloser, error){
		"Body":    func() (io.ReadCloser, error) { return req.Body, nil },
		"GetBody": req.GetBody,
	} {
		rc, err := open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		if err != nil || string(b) != string(refBody) {
			t.Errorf("%s reads %q, %v; want %q, nil", name, b, err, refBody)
		}
	}
	if err := VerifyNotify(refKey, req.Header, refBody); err != nil {
		t.Errorf("VerifyNotify: %v", err)
	}
}

func TestSignNotifyMalformedBody(t *testing.T) {
	req := &http.Request{Method: http.MethodPost}
	err := SignNotify(req, refKey, []byte(`{"referenceNumber":"TX_1","paymentCode":"GOPAY","totalAmount":"15000"}`), refTime)
	if !errors.Is(err, ErrMalformedBody) {
		t.Fatalf("SignNotify error = %v, want ErrMalformedBody", err)
	}
	if want := `sign notify: signer: malformed-body: the body's "totalAmount" is a JSON string`; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("SignNotify error = %q, want prefix %q", err, want)
	}
	if req.Header != nil || req.Body != nil {
		t.Errorf("SignNotify changed the request: header %v, body %v", req.Header, req.Body)
	}
}

// TestVerifyNotifyVectors checks each known-answer vector as a notify: since the
// timestamp is taken from X-Request-Time byte for byte, the vectors' "Z" and
// fractional-second timestamps verify too.
func TestVerifyNotifyVectors(t *testing.T) {
	for i, v := range loadVectors(t) {
		t.Run(fmt.Sprintf("line%02d", i+1), func(t *testing.T) {
			ref, _ := json.Marshal(v.ReferenceNumber)
			code, _ := json.Marshal(v.PaymentCode)
			body := fmt.Sprintf(`{"referenceNumber":%s,"paymentCode":%s,"totalAmount":%s}`, ref, code, v.Amount)
			h := http.Header{HeaderSignature: {v.Signature}, HeaderRequestTime: {v.Timestamp}}
			err := VerifyNotify(Key(v.ClientID, v.ClientSecret), h, []byte(body))
			if v.Timestamp == "" { // the vector with every string empty
				if !errors.Is(err, ErrMissingHeader) {
					t.Errorf("VerifyNotify = %v, want ErrMissingHeader for an empty X-Request-Time", err)
				}
				return
			}
			if err != nil {
				t.Errorf("VerifyNotify: %v", err)
			}
		})
	}
}

// notifyHeader returns the headers of a notify whose signature covers the given fields.
func notifyHeader(key, timestamp, referenceNumber, paymentCode string, amount float64) http.Header {
	return http.Header{
		HeaderRequestTime: {timestamp},
		HeaderSignature:   {Sign(key, Payload(timestamp, referenceNumber, paymentCode, amount))},
	}
}

// TestVerifyNotifyAccepts covers bodies that JSON.parse reads to the signed fields.
func TestVerifyNotifyAccepts(t *testing.T) {
	header := notifyHeader(refKey, refTimestamp, "TX_556622123344", "GOPAY", 15000)
	tests := []struct{ name, body string }{
		{"docs-like body", string(refBody)},
		{"whitespace", " \n{ \"referenceNumber\" : \"TX_556622123344\" ,\t\"paymentCode\":\"GOPAY\", \"totalAmount\": 15000 }\r\n"},
		{"escaped strings", `{"referenceNumber":"TX_\u0035\u00356622123344","paymentCode":"GO\u0050AY","totalAmount":15000}`},
		{"amount 15000.0 renders as 15000", `{"referenceNumber":"TX_556622123344","paymentCode":"GOPAY","totalAmount":15000.0}`},
		{"amount 1.5e4 renders as 15000", `{"referenceNumber":"TX_556622123344","paymentCode":"GOPAY","totalAmount":1.5e4}`},
		{"last duplicate wins", `{"referenceNumber":"TX_OTHER","paymentCode":"GOPAY","totalAmount":1,"referenceNumber":"TX_556622123344","totalAmount":15000}`},
		{"case-variant keys are other fields", `{"referencenumber":"TX_OTHER","ReferenceNumber":"TX_X","referenceNumber":"TX_556622123344","PaymentCode":"OVO","paymentCode":"GOPAY","totalamount":1,"totalAmount":15000}`},
		{"case-variant key after the real one", `{"referenceNumber":"TX_556622123344","paymentCode":"GOPAY","totalAmount":15000,"referencenumber":"TX_OTHER"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := VerifyNotify(refKey, header, []byte(tt.body)); err != nil {
				t.Errorf("VerifyNotify: %v", err)
			}
		})
	}
}

func TestVerifyNotifyRejects(t *testing.T) {
	valid := notifyHeader(refKey, refTimestamp, "TX_556622123344", "GOPAY", 15000)
	without := func(name string) http.Header {
		h := valid.Clone()
		h.Del(name)
		return h
	}
	with := func(name, value string) http.Header {
		h := valid.Clone()
		h.Set(name, value)
		return h
	}
	const (
		okBody  = `{"referenceNumber":"TX_556622123344","paymentCode":"GOPAY","totalAmount":15000}`
		refPart = `"referenceNumber":"TX_556622123344"`
		payPart = `"paymentCode":"GOPAY"`
		amtPart = `"totalAmount":15000`
	)
	tests := []struct {
		name   string
		key    string
		header http.Header
		body   string
		check  Check
		hdr    string // the VerifyError's Header
		detail string // a part of the VerifyError's Detail
	}{
		{"no X-Signature", refKey, without(HeaderSignature), okBody, CheckMissingHeader, HeaderSignature, "the X-Signature header is missing or empty"},
		{"empty X-Signature", refKey, with(HeaderSignature, ""), okBody, CheckMissingHeader, HeaderSignature, "expected the lowercase hex HMAC-SHA256"},
		{"no X-Request-Time", refKey, without(HeaderRequestTime), okBody, CheckMissingHeader, HeaderRequestTime, "the X-Request-Time header is missing or empty; expected the time the notify was signed, e.g. 2024-09-20T20:32:36+07:00"},
		{"no headers", refKey, nil, okBody, CheckMissingHeader, HeaderSignature, "X-Signature"},

		{"empty body", refKey, valid, "", CheckMalformedBody, "", "the body is empty"},
		{"blank body", refKey, valid, " \n", CheckMalformedBody, "", "the body is empty"},
		{"invalid JSON", refKey, valid, `{"referenceNumber":`, CheckMalformedBody, "", "the body is not valid JSON (unexpected end of JSON input)"},
		{"trailing garbage", refKey, valid, okBody + "x", CheckMalformedBody, "", "the body is not valid JSON (invalid character 'x' after top-level value)"},
		{"array", refKey, valid, `[` + okBody + `]`, CheckMalformedBody, "", "the body is a JSON array; expected a JSON object"},
		{"string", refKey, valid, `"TX_556622123344"`, CheckMalformedBody, "", "the body is a JSON string"},
		{"null", refKey, valid, `null`, CheckMalformedBody, "", "the body is a JSON null"},
		{"no referenceNumber", refKey, valid, `{` + payPart + `,` + amtPart + `}`, CheckMalformedBody, "", `the body has no "referenceNumber" field; expected a JSON string, e.g. "TX_556622123344"`},
		{"only a case variant", refKey, valid, `{"referencenumber":"TX_556622123344",` + payPart + `,` + amtPart + `}`, CheckMalformedBody, "", `no "referenceNumber" field (it has "referencenumber": field names are case-sensitive)`},
		{"referenceNumber a number", refKey, valid, `{"referenceNumber":556622123344,` + payPart + `,` + amtPart + `}`, CheckMalformedBody, "", `the body's "referenceNumber" is a JSON number, 556622123344; expected a JSON string`},
		{"referenceNumber null", refKey, valid, `{"referenceNumber":null,` + payPart + `,` + amtPart + `}`, CheckMalformedBody, "", `"referenceNumber" is a JSON null`},
		{"no paymentCode", refKey, valid, `{` + refPart + `,` + amtPart + `}`, CheckMalformedBody, "", `the body has no "paymentCode" field`},
		{"paymentCode an object", refKey, valid, `{` + refPart + `,"paymentCode":{"code":"GOPAY"},` + amtPart + `}`, CheckMalformedBody, "", `"paymentCode" is a JSON object, {"code":"GOPAY"}`},
		{"no totalAmount", refKey, valid, `{` + refPart + `,` + payPart + `}`, CheckMalformedBody, "", `the body has no "totalAmount" field; expected a JSON number, e.g. 15000`},
		{"totalAmount a string", refKey, valid, `{` + refPart + `,` + payPart + `,"totalAmount":"15000"}`, CheckMalformedBody, "", `"totalAmount" is a JSON string, "15000"; expected a JSON number`},
		{"totalAmount a boolean", refKey, valid, `{` + refPart + `,` + payPart + `,"totalAmount":true}`, CheckMalformedBody, "", `"totalAmount" is a JSON boolean`},
		{"totalAmount too large", refKey, valid, `{` + refPart + `,` + payPart + `,"totalAmount":1e400}`, CheckMalformedBody, "", `"totalAmount" is not usable: amount "1e400" is out of range`},

		{"wrong key", Key("test-client-id", "other-secret"), valid, okBody, CheckSignatureMismatch, "", `does not match the payload "2024-09-20T20:32:36+07:00:TX_556622123344:GOPAY:15000"`},
		{"tampered referenceNumber", refKey, valid, `{"referenceNumber":"TX_556622123345",` + payPart + `,` + amtPart + `}`, CheckSignatureMismatch, "", `the payload "2024-09-20T20:32:36+07:00:TX_556622123345:GOPAY:15000"`},
		{"tampered paymentCode", refKey, valid, `{` + refPart + `,"paymentCode":"OVO",` + amtPart + `}`, CheckSignatureMismatch, "", `:OVO:15000"`},
		{"tampered totalAmount", refKey, valid, `{` + refPart + `,` + payPart + `,"totalAmount":150000}`, CheckSignatureMismatch, "", `:GOPAY:150000"`},
		{"fractional totalAmount", refKey, valid, `{` + refPart + `,` + payPart + `,"totalAmount":15000.5}`, CheckSignatureMismatch, "", `:GOPAY:15000.5"`},
		{"tampered X-Request-Time", refKey, with(HeaderRequestTime, "2024-09-20T20:32:37+07:00"), okBody, CheckSignatureMismatch, "", `the payload "2024-09-20T20:32:37+07:00:`},
		{"X-Request-Time in UTC", refKey, with(HeaderRequestTime, "2024-09-20T13:32:36Z"), okBody, CheckSignatureMismatch, "", `the payload "2024-09-20T13:32:36Z:`},
		{"upper-case signature", refKey, with(HeaderSignature, strings.ToUpper(refSignature)), okBody, CheckSignatureMismatch, "", "but it has upper-case letters"},
		{"truncated signature", refKey, with(HeaderSignature, refSignature[:63]), okBody, CheckSignatureMismatch, "", "64 characters, but it has 63"},
		{"not hex", refKey, with(HeaderSignature, strings.Repeat("z", 64)), okBody, CheckSignatureMismatch, "", "but it has characters other than 0-9 and a-f"},
		{"base64 signature", refKey, with(HeaderSignature, "9agJfeibvmT/ZhN8kx0Z5zfxV0mVvK2oRFjVhyjmWL8="), okBody, CheckSignatureMismatch, "", "64 characters, but it has 44"},
	}
	sentinels := map[Check]error{
		CheckMissingHeader:     ErrMissingHeader,
		CheckMalformedBody:     ErrMalformedBody,
		CheckSignatureMismatch: ErrSignatureMismatch,
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyNotify(tt.key, tt.header, []byte(tt.body))
			verr, ok := errors.AsType[*VerifyError](err)
			if !ok {
				t.Fatalf("VerifyNotify = %v, want a *VerifyError", err)
			}
			if verr.Check != tt.check || verr.Header != tt.hdr {
				t.Errorf("Check, Header = %q, %q; want %q, %q", verr.Check, verr.Header, tt.check, tt.hdr)
			}
			if !strings.Contains(verr.Detail, tt.detail) {
				t.Errorf("Detail = %q, want it to contain %q", verr.Detail, tt.detail)
			}
			if want := "signer: " + string(tt.check) + ": " + verr.Detail; err.Error() != want {
				t.Errorf("Error() = %q, want %q", err, want)
			}
			for check, sentinel := range sentinels {
				if got, want := errors.Is(err, sentinel), check == tt.check; got != want {
					t.Errorf("errors.Is(err, %v) = %v, want %v", sentinel, got, want)
				}
			}
			if strings.Contains(err.Error(), refKey) || strings.Contains(err.Error(), tt.key) {
				t.Errorf("error %q shows the key", err)
			}
		})
	}
}

func TestVerifyErrorIsHeader(t *testing.T) {
	err := VerifyNotify(refKey, http.Header{HeaderSignature: {refSignature}}, refBody)
	tests := []struct {
		target error
		want   bool
	}{
		{ErrMissingHeader, true},
		{&VerifyError{Check: CheckMissingHeader, Header: HeaderRequestTime}, true},
		{&VerifyError{Check: CheckMissingHeader, Header: HeaderSignature}, false},
		{ErrSignatureMismatch, false},
		{errors.New("signer: missing-header"), false},
	}
	for _, tt := range tests {
		t.Run(tt.target.Error()+" "+fmt.Sprint(tt.want), func(t *testing.T) {
			if got := errors.Is(err, tt.target); got != tt.want {
				t.Errorf("errors.Is(%v, %#v) = %v, want %v", err, tt.target, got, tt.want)
			}
		})
	}
}

// TestVerifyNotifyLongFields checks that messages about a 10 kB field stay short.
func TestVerifyNotifyLongFields(t *testing.T) {
	long := strings.Repeat("R", 10240)
	body := `{"referenceNumber":"` + long + `","paymentCode":"GOPAY","totalAmount":15000}`
	err := VerifyNotify(refKey, http.Header{HeaderSignature: {refSignature}, HeaderRequestTime: {refTimestamp}}, []byte(body))
	if !errors.Is(err, ErrSignatureMismatch) {
		t.Fatalf("VerifyNotify = %v, want ErrSignatureMismatch", err)
	}
	if n := len(err.Error()); n > 600 {
		t.Errorf("error is %d bytes long, want at most 600: %s", n, err)
	}
	if !strings.Contains(err.Error(), "… (10278 bytes)") {
		t.Errorf("error %q does not give the payload's length", err)
	}
}

func BenchmarkVerifyNotify(b *testing.B) {
	header := notifyHeader(refKey, refTimestamp, "TX_556622123344", "GOPAY", 15000)
	b.ReportAllocs()
	for b.Loop() {
		if err := VerifyNotify(refKey, header, refBody); err != nil {
			b.Fatal(err)
		}
	}
}
