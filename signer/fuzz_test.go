package signer

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzVerifyNotify checks VerifyNotify against a plain reading of BJPAY's
// recipe (oraclePayload and an HMAC computed here) on any header and body:
// it accepts exactly the notifies whose X-Signature is the signature of
// their payload, and says which check failed otherwise. Then it checks the
// round trip: what SignNotify signs verifies, SignNotify refuses exactly
// the bodies VerifyNotify finds malformed, and a single-byte change to the
// signed notify fails it: to X-Signature or X-Request-Time always, to the
// body's signed fields whenever it changes what they say (1e4 and 1E4 are
// the same amount, \u00e9 and \u00E9 the same character).
func FuzzVerifyNotify(f *testing.F) {
	for _, v := range loadVectors(f) {
		body := `{"referenceNumber":` + jsonString(v.ReferenceNumber) + `,"paymentCode":` + jsonString(v.PaymentCode) + `,"totalAmount":` + string(v.Amount) + `}`
		ts, _ := time.Parse(TimeLayout, v.Timestamp)
		f.Add(Key(v.ClientID, v.ClientSecret), []byte(body), v.Timestamp, v.Signature, ts.Unix(), uint16(len(body)), byte(1))
	}
	// The sandbox's notifies, as its golden files record them.
	mockKey := Key("2f9d6a0e-4c1b-4e8a-9b7d-5a3c1e0f8b21", "sandbox-secret-change-me")
	for _, name := range []string{"notify_valid.golden", "notify_non-canonical-json.golden"} {
		data, err := os.ReadFile("../mock/notify/testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		head, body, _ := bytes.Cut(data, []byte("\n\n"))
		header := map[string]string{}
		for _, line := range strings.Split(string(head), "\n") {
			k, v, _ := strings.Cut(line, ": ")
			header[k] = v
		}
		f.Add(mockKey, body, header[HeaderRequestTime], header[HeaderSignature], int64(1795489200), uint16(7), byte('x'))
	}
	for _, s := range []struct {
		body   string
		ts     string
		pos    uint16
		change byte
	}{
		{string(refBody), refTimestamp, 20, 1},
		{`{"referenceNumber":"A","paymentCode":"B","totalAmount":1e4}`, refTimestamp, 7, 0x20},    // e → E: the same amount
		{`{"referenceNumber":"\u00e9","paymentCode":"B","totalAmount":1}`, refTimestamp, 5, 0x20}, // e → E in an escape: the same character
		{`{"referenceNumber":"A","referenceNumber":"B","paymentCode":"C","totalAmount":-0}`, "", 20, 3},
		{`{"referenceNumber":"a:b","paymentCode":"c","totalAmount":0.30000000000000004}`, "x:y", 0, 9},
		{`{"referenceNumber":"\ud800","paymentCode":"\u0000","totalAmount":1e-400}`, refTimestamp, 0, 0},
		{`{"ReferenceNumber":"A","paymentCode":"B","totalAmount":1}`, refTimestamp, 0, 0},
		{`{"referenceNumber":1,"paymentCode":"B","totalAmount":"1"}`, refTimestamp, 0, 0},
		{`{"referenceNumber":"A","paymentCode":"B","totalAmount":1e400}`, refTimestamp, 0, 0},
		{"{\"referenceNumber\":\"\xff\",\"paymentCode\":\"B\",\"totalAmount\":1}", refTimestamp, 20, 1},
		{` {"referenceNumber":"A","paymentCode":"B","totalAmount":1} x`, refTimestamp, 0, 0},
		{`null`, refTimestamp, 0, 0},
		{`[]`, refTimestamp, 0, 0},
		{"", refTimestamp, 0, 0},
	} {
		f.Add(refKey, []byte(s.body), s.ts, refSignature, refTime.Unix(), s.pos, s.change)
	}

	f.Fuzz(func(t *testing.T, key string, body []byte, timestamp, signature string, unix int64, pos uint16, change byte) {
		// Any header and body: VerifyNotify agrees with the recipe.
		header := http.Header{HeaderSignature: {signature}, HeaderRequestTime: {timestamp}}
		checkVerify(t, key, header, body)

		// The round trip, at a time between years 1 and 9999.
		const first, last = -62135596800, 253402300799
		sec := first + int64(uint64(unix)%uint64(last-first+1))
		at := time.Unix(sec, 0).In(time.FixedZone("", int(unix%(14*60))*60))
		req := &http.Request{}
		if err := SignNotify(req, key, body, at); err != nil {
			if !errors.Is(err, ErrMalformedBody) {
				t.Fatalf("SignNotify: %v; want only a malformed body refused", err)
			}
			if _, ok := oraclePayload("t", body); ok {
				t.Fatalf("SignNotify refuses %q, whose fields can be signed: %v", body, err)
			}
			return
		}
		if got := req.Header.Get(HeaderRequestTime); got != at.Format(TimeLayout) {
			t.Fatalf("X-Request-Time %q, want %q", got, at.Format(TimeLayout))
		}
		if sent, err := io.ReadAll(req.Body); err != nil || !bytes.Equal(sent, body) {
			t.Fatalf("the request carries %q (%v), want %q", sent, err, body)
		}
		if err := VerifyNotify(key, req.Header, body); err != nil {
			t.Fatalf("a notify SignNotify signed does not verify: %v\nheader %v\nbody %q", err, req.Header, body)
		}

		// One byte changed in a header: always a mismatch.
		if change == 0 {
			change = 1
		}
		for _, name := range []string{HeaderSignature, HeaderRequestTime} {
			h := req.Header.Clone()
			v := []byte(h.Get(name))
			v[int(pos)%len(v)] ^= change
			h.Set(name, string(v))
			if err := VerifyNotify(key, h, body); !errors.Is(err, ErrSignatureMismatch) {
				t.Fatalf("%s changed from %q to %q: got %v, want a signature mismatch", name, req.Header.Get(name), v, err)
			}
		}

		// One byte changed in a signed field of the body: a mismatch
		// unless the fields still say the same.
		spans := signedSpans(body)
		n := 0
		for _, s := range spans {
			n += s[1] - s[0]
		}
		if n == 0 {
			return
		}
		i := int(pos) % n
		for _, s := range spans {
			if i < s[1]-s[0] {
				i += s[0]
				break
			}
			i -= s[1] - s[0]
		}
		changed := bytes.Clone(body)
		changed[i] ^= change
		checkVerify(t, key, req.Header, changed)
		before, _ := oraclePayload("t", body)
		if after, ok := oraclePayload("t", changed); ok && after == before {
			return // the same fields, so still valid: checkVerify saw to it
		}
		if err := VerifyNotify(key, req.Header, changed); err == nil {
			t.Fatalf("body changed at byte %d from %q to %q: still verifies", i, body, changed)
		}
	})
}

// checkVerify fails unless VerifyNotify(key, header, body) says what the
// recipe says.
func checkVerify(t *testing.T, key string, header http.Header, body []byte) {
	t.Helper()
	err := VerifyNotify(key, header, body)
	signature, timestamp := header.Get(HeaderSignature), header.Get(HeaderRequestTime)
	payload, ok := oraclePayload(timestamp, body)
	var want error
	switch {
	case signature == "":
		want = &VerifyError{Check: CheckMissingHeader, Header: HeaderSignature}
	case timestamp == "":
		want = &VerifyError{Check: CheckMissingHeader, Header: HeaderRequestTime}
	case !ok:
		want = ErrMalformedBody
	case signature != hmacHex(key, payload):
		want = ErrSignatureMismatch
	}
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		t.Fatalf("VerifyNotify(%q, %v, %q) = %v; want %v", key, header, body, err, want)
	}
	if err != nil {
		if _, isVerifyError := errors.AsType[*VerifyError](err); !isVerifyError {
			t.Fatalf("VerifyNotify returned %T, not a *VerifyError: %v", err, err)
		}
		// A key as Key makes them, which was not in what was received,
		// must not be in the message either.
		received := [...]string{string(body), signature, timestamp}
		if isKey(key) && !strings.Contains(strings.Join(received[:], "\n"), key) && strings.Contains(err.Error(), key) {
			t.Fatalf("the error shows the key: %v", err)
		}
	}
}

// oraclePayload reads BJPAY's recipe plainly: the body is a JSON object
// whose last referenceNumber and paymentCode are strings and whose last
// totalAmount is a number in float64's range.
func oraclePayload(timestamp string, body []byte) (string, bool) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil || obj == nil {
		return "", false
	}
	var ref, code string
	for name, dst := range map[string]*string{"referenceNumber": &ref, "paymentCode": &code} {
		raw := obj[name]
		if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, dst) != nil {
			return "", false
		}
	}
	raw := obj["totalAmount"]
	if len(raw) == 0 || !(raw[0] == '-' || '0' <= raw[0] && raw[0] <= '9') {
		return "", false
	}
	amount, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return "", false
	}
	return timestamp + ":" + ref + ":" + code + ":" + FormatAmount(amount), true
}

// isKey reports whether key has the form of Key's results.
func isKey(key string) bool {
	_, err := hex.DecodeString(key)
	return len(key) == 32 && err == nil && strings.ToLower(key) == key
}

func hmacHex(key, payload string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(payload))
	return hex.EncodeToString(m.Sum(nil))
}

// signedSpans returns where the values of the signed fields stand in
// body, a JSON object: every occurrence, not only the last, which is the
// one that counts.
func signedSpans(body []byte) [][2]int {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	var spans [][2]int
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return spans
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return spans
		}
		if name := tok.(string); name == "referenceNumber" || name == "paymentCode" || name == "totalAmount" {
			end := int(dec.InputOffset())
			spans = append(spans, [2]int{end - len(raw), end})
		}
	}
	return spans
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
