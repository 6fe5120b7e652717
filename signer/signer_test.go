package signer

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
)

// vector is one line of testdata/public.jsonl.
type vector struct {
	ClientID        string          `json:"client_id"`
	ClientSecret    string          `json:"client_secret"`
	Timestamp       string          `json:"timestamp"`
	ReferenceNumber string          `json:"referenceNumber"`
	PaymentCode     string          `json:"paymentCode"`
	Amount          json.RawMessage `json:"amount"` // parsed with ParseAmount, as a merchant would
	Signature       string          `json:"signature"`
}

// loadVectors reads testdata/public.jsonl: known-answer vectors computed with BJPAY's
// documented JavaScript, using the md5 npm package for the key and Node's crypto
// (createHmac("sha256", key).update(payload).digest("hex")) for the signature, with
// the amount rendered by a template string. The same file is /work/shared/vectors.
func loadVectors(t testing.TB) []vector {
	t.Helper()
	f, err := os.Open("testdata/public.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	var vs []vector
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20) // some lines hold 10 kB fields
	for line := 1; sc.Scan(); line++ {
		var v vector
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("public.jsonl:%d: %v", line, err)
		}
		vs = append(vs, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(vs) != 40 {
		t.Fatalf("public.jsonl has %d vectors, want 40", len(vs))
	}
	return vs
}

func TestVectors(t *testing.T) {
	for i, v := range loadVectors(t) {
		t.Run(fmt.Sprintf("line%02d", i+1), func(t *testing.T) {
			amount, err := ParseAmount(string(v.Amount))
			if err != nil {
				t.Fatalf("ParseAmount(%s): %v", v.Amount, err)
			}
			key := Key(v.ClientID, v.ClientSecret)
			payload := Payload(v.Timestamp, v.ReferenceNumber, v.PaymentCode, amount)
			if got := Sign(key, payload); got != v.Signature {
				t.Errorf("Sign(key, %q) = %s, want %s", clip(payload), got, v.Signature)
			}
			if !Verify(key, payload, v.Signature) {
				t.Errorf("Verify(key, %q, %s) = false, want true", clip(payload), v.Signature)
			}
		})
	}
}

func TestReferenceVector(t *testing.T) {
	const (
		wantKey = "607d5ef159ed37ad0d61b58a67184673"
		wantSig = "f5a8097de89bbe64ff66137c931d19e737f1574995bcada84558d58728e658bf"
	)
	key := Key("test-client-id", "test-client-secret")
	if key != wantKey {
		t.Errorf("Key = %s, want %s", key, wantKey)
	}
	payload := Payload("2024-09-20T20:32:36+07:00", "TX_556622123344", "GOPAY", 15000)
	if want := "2024-09-20T20:32:36+07:00:TX_556622123344:GOPAY:15000"; payload != want {
		t.Errorf("Payload = %q, want %q", payload, want)
	}
	if got := Sign(key, payload); got != wantSig {
		t.Errorf("Sign = %s, want %s", got, wantSig)
	}
}

// TestSignMatchesHMAC checks the pooled HMACs against crypto/hmac used directly, for
// keys that are empty, short, one block, longer than a block (hashed first by HMAC),
// and for payloads around the 256-byte copy buffer, from many goroutines at once so
// that pooled HMACs are re-keyed under the race detector.
func TestSignMatchesHMAC(t *testing.T) {
	keys := []string{"", "k", Key("a", "b"), strings.Repeat("k", 64), strings.Repeat("k", 65), strings.Repeat("k", 300)}
	payloads := []string{"", "p", strings.Repeat("p", 255), strings.Repeat("p", 256), strings.Repeat("p", 257), strings.Repeat("p", 10000)}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				key, payload := keys[(g+i)%len(keys)], payloads[i%len(payloads)]
				h := hmac.New(sha256.New, []byte(key))
				h.Write([]byte(payload))
				want := hex.EncodeToString(h.Sum(nil))
				if got := Sign(key, payload); got != want {
					t.Errorf("Sign(%q, %q) = %s, want %s", clip(key), clip(payload), got, want)
				}
				if !Verify(key, payload, want) {
					t.Errorf("Verify(%q, %q, %s) = false, want true", clip(key), clip(payload), want)
				}
			}
		})
	}
	wg.Wait()
}

func TestVerifyRejects(t *testing.T) {
	key := Key("test-client-id", "test-client-secret")
	payload := Payload("2024-09-20T20:32:36+07:00", "TX_556622123344", "GOPAY", 15000)
	sig := Sign(key, payload)
	tests := []struct {
		name, key, payload, signature string
	}{
		{"wrong key", Key("test-client-id", "other-secret"), payload, sig},
		{"raw md5 bytes as key", string(mustHex(t, key)), payload, sig},
		{"changed timestamp", key, Payload("2024-09-20T20:32:37+07:00", "TX_556622123344", "GOPAY", 15000), sig},
		{"changed referenceNumber", key, Payload("2024-09-20T20:32:36+07:00", "TX_556622123345", "GOPAY", 15000), sig},
		{"changed paymentCode", key, Payload("2024-09-20T20:32:36+07:00", "TX_556622123344", "OVO", 15000), sig},
		{"changed amount", key, Payload("2024-09-20T20:32:36+07:00", "TX_556622123344", "GOPAY", 15001), sig},
		{"upper-case hex", key, payload, strings.ToUpper(sig)},
		{"truncated", key, payload, sig[:63]},
		{"extra character", key, payload, sig + "0"},
		{"raw bytes instead of hex", key, payload, string(mustHex(t, sig))},
		{"empty", key, payload, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if Verify(tt.key, tt.payload, tt.signature) {
				t.Errorf("Verify(key, %q, %q) = true, want false", tt.payload, tt.signature)
			}
		})
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tenth and fifth are variables so that tenth+fifth is computed in float64, as in
// JavaScript; the constant expression 0.1 + 0.2 is exactly 0.3 in Go.
var tenth, fifth = 0.1, 0.2

func TestFormatAmount(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{15000, "15000"},
		{15000.5, "15000.5"},
		{-15000, "-15000"},
		{0, "0"},
		{math.Copysign(0, -1), "0"},
		{999999999999, "999999999999"},
		{tenth + fifth, "0.30000000000000004"},
		{1e21, "1e+21"},
		{1e20, "100000000000000000000"},
		{123456789012345680000, "123456789012345680000"},
		{1.5e21, "1.5e+21"},
		{-1e21, "-1e+21"},
		{0.000001, "0.000001"},
		{0.0000015, "0.0000015"},
		{1e-7, "1e-7"},
		{1.5e-7, "1.5e-7"},
		{-1.5e-7, "-1.5e-7"},
		{123e-20, "1.23e-18"},
		{123e-21, "1.23e-19"},
		{0.5, "0.5"},
		{5e-324, "5e-324"},
		{1.7976931348623157e308, "1.7976931348623157e+308"},
		{math.NaN(), "NaN"},
		{math.Inf(1), "Infinity"},
		{math.Inf(-1), "-Infinity"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := FormatAmount(tt.in); got != tt.want {
				t.Errorf("FormatAmount(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in   string
		want float64
	}{
		{"15000", 15000},
		{"15000.5", 15000.5},
		{"-15000", -15000},
		{"0", 0},
		{"-0", math.Copysign(0, -1)},
		{"0.5", 0.5},
		{"1e+21", 1e21},
		{"1E21", 1e21},
		{"1e-7", 1e-7},
		{"15e2", 1500},
		{"0.30000000000000004", 0.30000000000000004},
		{"0.1", 0.1},
		{"1e-400", 0}, // underflows to 0, as in JavaScript
		{"1.7976931348623157e308", math.MaxFloat64},
		{"9007199254740993", 9007199254740992}, // nearest double, ties to even
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseAmount(tt.in)
			if err != nil {
				t.Fatalf("ParseAmount(%q): %v", tt.in, err)
			}
			if got != tt.want || math.Signbit(got) != math.Signbit(tt.want) {
				t.Errorf("ParseAmount(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseAmountRejects(t *testing.T) {
	tests := []struct {
		in, want string // want: a part of the error message
	}{
		{"+1", `amount "+1" is not a JSON number; expected`},
		{"01", `amount "01" is not a JSON number`},
		{"-01", `amount "-01" is not a JSON number`},
		{"1.", `amount "1." is not a JSON number`},
		{".5", `amount ".5" is not a JSON number`},
		{"1e", `amount "1e" is not a JSON number`},
		{"1e+", `amount "1e+" is not a JSON number`},
		{"-", `amount "-" is not a JSON number`},
		{"abc", `amount "abc" is not a JSON number`},
		{"", `amount "" is not a JSON number`},
		{"NaN", `amount "NaN" is not a JSON number`},
		{"Infinity", `amount "Infinity" is not a JSON number`},
		{"0x10", `amount "0x10" is not a JSON number`},
		{"1_000", `amount "1_000" is not a JSON number`},
		{" 1", `amount " 1" is not a JSON number`},
		{"1 ", `amount "1 " is not a JSON number`},
		{`"15000"`, `amount "\"15000\"" is not a JSON number`},
		{"1e400", `amount "1e400" is out of range; expected a magnitude of at most 1.7976931348623157e+308`},
		{"-1e400", `amount "-1e400" is out of range`},
		{"1" + strings.Repeat("0", 400), `is out of range`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseAmount(tt.in)
			if err == nil {
				t.Fatalf("ParseAmount(%q) = %v, want an error", tt.in, got)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseAmount(%q) error = %q, want it to contain %q", tt.in, err, tt.want)
			}
		})
	}
}

// TestAmountRoundTrip checks that FormatAmount's output parses back to the same value,
// which is what "shortest round-trip digits" promises.
func TestAmountRoundTrip(t *testing.T) {
	for _, f := range []float64{1, 15000.5, 1e21, 1e-7, tenth + fifth, 5e-324, math.MaxFloat64, -123.456, 1 / 3.0} {
		s := FormatAmount(f)
		t.Run(s, func(t *testing.T) {
			// JavaScript's "1e+21" is also valid JSON, so ParseAmount reads it back.
			got, err := ParseAmount(s)
			if err != nil || got != f {
				t.Errorf("ParseAmount(FormatAmount(%v) = %q) = %v, %v; want %v, nil", f, s, got, err, f)
			}
		})
	}
}

// TestSignAllocs guards the point of pooling: Sign with a prepared key allocates only
// its result, and Verify nothing. The race detector drops pooled items at random, so
// the counts only hold without it.
func TestSignAllocs(t *testing.T) {
	if raceEnabled() {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	key := Key("test-client-id", "test-client-secret")
	payload := Payload("2024-09-20T20:32:36+07:00", "TX_556622123344", "GOPAY", 15000)
	sig := Sign(key, payload)
	tests := []struct {
		name string
		f    func()
		want float64
	}{
		{"Sign", func() { Sign(key, payload) }, 1},
		{"Verify", func() { Verify(key, payload, sig) }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := testing.AllocsPerRun(100, tt.f); got > tt.want {
				t.Errorf("%s allocates %v times a call, want at most %v", tt.name, got, tt.want)
			}
		})
	}
}

func raceEnabled() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

var sink string

// BenchmarkSign signs the reference payload with a prepared key.
func BenchmarkSign(b *testing.B) {
	key := Key("test-client-id", "test-client-secret")
	payload := Payload("2024-09-20T20:32:36+07:00", "TX_556622123344", "GOPAY", 15000)
	b.ReportAllocs()
	for b.Loop() {
		sink = Sign(key, payload)
	}
}

// BenchmarkHMACBaseline is the straightforward HMAC-SHA256-hex that BenchmarkSign is
// measured against.
func BenchmarkHMACBaseline(b *testing.B) {
	key := Key("test-client-id", "test-client-secret")
	payload := Payload("2024-09-20T20:32:36+07:00", "TX_556622123344", "GOPAY", 15000)
	b.ReportAllocs()
	for b.Loop() {
		h := hmac.New(sha256.New, []byte(key))
		h.Write([]byte(payload))
		sink = hex.EncodeToString(h.Sum(nil))
	}
}
