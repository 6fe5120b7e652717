package mock

import (
	"reflect"
	"testing"
)

// fastDecodeSeeds are bodies on both sides of what fastDecodeCreate takes.
var fastDecodeSeeds = []struct {
	body string
	fast bool // fastDecodeCreate decodes it (else encoding/json does)
}{
	{`{"paymentCode":"GOPAY","referenceNumber":"BENCH-1-1","customerName":"A","customerEmail":"a@b.co","customerPhoneNumber":"6281234567","finishNotifyUrl":"http://127.0.0.1:9/notify","finishReturnUrl":"http://127.0.0.1:9/ty","expiredAt":"2030-12-01T10:00:00+07:00","totalAmount":58000,"items":[{"name":"x","quantity":1,"amount":58000}]}`, true},
	{" {\n\t\"paymentCode\" : \"QRIS\" ,\r\n \"items\" : [ ] } \n", true},
	{`{}`, true},
	{`{"paymentCode":null,"totalAmount":null,"items":null,"currency":"IDR"}`, true},
	{`{"totalAmount":-0.5e+3,"items":[{"amount":1E2},{"quantity":0}]}`, true},
	{`{"customerName":"Budi Söderström 🙂"}`, true},
	{`{"referenceNumber":"A","referenceNumber":"B"}`, true}, // the last one wins, as in encoding/json
	{`{"items":[{"name":"a"}],"items":[]}`, true},
	{`{"PaymentCode":"GOPAY"}`, false},      // encoding/json matches names case-insensitively
	{`{"unknown":1}`, false},                // ignored by encoding/json, whatever its value
	{`{"customerName":"caf\u00e9"}`, false}, // escapes
	{"{\"customerName\":\"a\tb\"}", false},  // a control character: invalid JSON
	{"{\"customerName\":\"\xff\"}", false},  // invalid UTF-8: encoding/json replaces it
	{`{"totalAmount":"58000"}`, false},      // a wrong type: the validator's message
	{`{"totalAmount":1e400}`, false},        // out of range
	{`{"totalAmount":01}`, false},           // invalid number
	{`{"totalAmount":1.}`, false},           // invalid number
	{`{"totalAmount":-}`, false},            // invalid number
	{`{"items":[null]}`, false},             // an element that is not an object
	{`{"items":[{"name":"a","extra":true}]}`, false},
	{`{"paymentCode":"GOPAY"} x`, false}, // trailing data
	{`{"paymentCode":"GOPAY",}`, false},
	{`{"paymentCode" "GOPAY"}`, false},
	{`{"paymentCode":"GOPAY"`, false},
	{`null`, false},
	{`[]`, false},
	{`{"paymentCode":nul}`, false},
	{`{"paymentCode":true}`, false},
}

func TestFastDecodeCreate(t *testing.T) {
	for _, tt := range fastDecodeSeeds {
		got, ok := fastDecodeCreate([]byte(tt.body))
		if ok != tt.fast {
			t.Errorf("fastDecodeCreate(%q) decodes: %v, want %v", tt.body, ok, tt.fast)
			continue
		}
		if ok {
			checkSameAsJSON(t, []byte(tt.body), got)
		}
	}
}

// checkSameAsJSON fails unless encoding/json decodes body to fast, without error.
func checkSameAsJSON(t *testing.T, body []byte, fast createRequest) {
	t.Helper()
	slow, err := decodeCreateJSON(body)
	if err != nil {
		t.Fatalf("fastDecodeCreate decoded %q, encoding/json refuses it: %v", body, err)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("decoding %q\nfast          %+v\nencoding/json %+v", body, fast, slow)
	}
}

// FuzzFastDecodeCreate: wherever the fast decoder decodes a body,
// encoding/json decodes it to the same request.
func FuzzFastDecodeCreate(f *testing.F) {
	for _, tt := range fastDecodeSeeds {
		f.Add([]byte(tt.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if fast, ok := fastDecodeCreate(body); ok {
			checkSameAsJSON(t, body, fast)
		}
	})
}

func BenchmarkDecodeCreate(b *testing.B) {
	body := []byte(fastDecodeSeeds[0].body)
	for _, bb := range []struct {
		name   string
		decode func([]byte) (createRequest, error)
	}{{"fast", decodeCreate}, {"encoding-json", decodeCreateJSON}} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bb.decode(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
