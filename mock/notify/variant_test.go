package notify_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/notify"
	"github.com/bjpay/bjpay-sandbox/scenarios"
	"github.com/bjpay/bjpay-sandbox/signer"
)

// notifyNow is the wall time the notifies below are signed at: given in UTC
// with a fraction of a second, to show that X-Request-Time is rendered in WIB
// and truncated to the second.
var notifyNow = time.Date(2026, 11, 24, 3, 0, 0, 500_000_000, time.UTC)

// notifyKey is the key of the reference vector in bjpay-api.md §6.
var notifyKey = signer.Key("test-client-id", "test-client-secret")

// notifyNote is the notify of a paid VA-BNI payment shaped like BJPAY's
// documented notify example, with a non-ASCII name and an "&" in a URL to
// pin how they are encoded.
func notifyNote() notify.Notification {
	return notify.Notification{
		PaymentCode: "VA-BNI", ReferenceNumber: "INV-2", Status: "PAID", PaymentName: "BNI Virtual Account",
		CustomerName: "Bang Jéff", CustomerEmail: "bangjeff@example.com", CustomerPhoneNumber: "62123224456",
		FinishNotifyURL: "https://my-cool-apps.com/webhook/notify",
		FinishReturnURL: "https://my-cool-apps.com/thankyou?ref=INV-2&lang=id",
		PaymentDest:     "3597080155666076", PaymentDestName: "Demo Merchant", PaymentDestType: "DIRECT",
		ExpiredAt: "2026-11-25T10:00:00+07:00", TotalAmount: 58000, Fee: 3500,
	}
}

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// canonicalOrder is the documented member order of the canonical body.
var canonicalOrder = []string{
	"paymentCode", "referenceNumber", "status", "paymentName", "customerName",
	"customerEmail", "customerPhoneNumber", "finishNotifyUrl", "finishReturnUrl",
	"paymentDest", "paymentDestName", "paymentDestType", "expiredAt", "totalAmount", "fee",
}

// TestCanonicalBody: the body is compact JSON in the documented member
// order, with "&" and non-ASCII letters as they are.
func TestCanonicalBody(t *testing.T) {
	n := notifyNote()
	body := notify.Sign(n, notifyKey, notifyNow, notify.VariantValid).Body
	if got := memberOrder(t, body); !slices.Equal(got, canonicalOrder) {
		t.Errorf("canonical member order:\ngot  %q\nwant %q", got, canonicalOrder)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, body); err != nil || !bytes.Equal(compact.Bytes(), body) {
		t.Errorf("canonical body is not compact JSON (%v): %q", err, body)
	}
	for _, s := range []string{"?ref=INV-2&lang=id", "Bang Jéff"} {
		if !bytes.Contains(body, []byte(s)) {
			t.Errorf("canonical body lacks %q unescaped: %s", s, body)
		}
	}
}

func TestVariants(t *testing.T) {
	vs := notify.Variants()
	if len(vs) != 9 || vs[0] != notify.VariantValid {
		t.Fatalf("Variants() = %q; want 9, valid first", vs)
	}
	vs[0] = "clobbered"
	if got := notify.Variants()[0]; got != notify.VariantValid {
		t.Errorf("Variants() shares its slice: after a caller's write, [0] = %q", got)
	}
	seen := map[notify.Variant]bool{}
	for _, v := range notify.Variants() {
		if seen[v] {
			t.Errorf("Variants() lists %q twice", v)
		}
		seen[v] = true
		got, err := notify.ParseVariant(string(v))
		if got != v || err != nil {
			t.Errorf("ParseVariant(%q) = %q, %v; want %q, nil", v, got, err, v)
		}
	}

	for _, s := range []string{"", "Valid", "valid ", "tampered_signature", "nope"} {
		got, err := notify.ParseVariant(s)
		if err == nil {
			t.Errorf("ParseVariant(%q) = %q, nil; want an error", s, got)
			continue
		}
		for _, v := range notify.Variants() {
			if !strings.Contains(err.Error(), string(v)) {
				t.Errorf("ParseVariant(%q) error %q does not list %q", s, err, v)
			}
		}
	}
}

// TestVariantsMatchScenarios keeps the names a scenario file may use
// (validated by package scenarios) the same as the ones SignNotification
// knows: a name in one list only would fail validation or panic at send time.
func TestVariantsMatchScenarios(t *testing.T) {
	var got []string
	for _, v := range notify.Variants() {
		got = append(got, string(v))
	}
	if want := scenarios.Variants(); !slices.Equal(got, want) {
		t.Errorf("notify.Variants() = %q\nscenarios.Variants() = %q; want the same", got, want)
	}
}

func TestSignNotificationUnknownVariantPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("SignNotification with an unknown variant did not panic")
		}
	}()
	notify.Sign(notifyNote(), notifyKey, notifyNow, "nope")
}

var lowerHex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// TestSignNotificationVariants proves each variant is broken in its one way
// and only that way: a merchant's verification fails (or passes) as intended,
// and undoing the one change gives back the valid notify exactly.
func TestSignNotificationVariants(t *testing.T) {
	n := notifyNote()
	valid := notify.Sign(n, notifyKey, notifyNow, notify.VariantValid)
	validSig := valid.Header.Get(signer.HeaderSignature)
	wrongKey := signer.Key("wrong-key", notifyKey)

	// restore puts back the valid notify's header value.
	restore := func(name string) func(*notify.SignedNotify) {
		return func(sn *notify.SignedNotify) { sn.Header[name] = valid.Header[name] }
	}
	tests := []struct {
		v         notify.Variant
		wantCheck signer.Check               // what VerifyNotify reports; "" for success
		offset    time.Duration              // of X-Request-Time from now
		expect    string                     // Expect
		change    func(*notify.Notification) // the body's one change, if any
		undo      func(*notify.SignedNotify) // undoes the one break
		verifyKey string                     // under which the signature is valid; "" for none
	}{
		{v: notify.VariantValid, expect: "accept",
			undo: func(*notify.SignedNotify) {}, verifyKey: notifyKey},
		{v: notify.VariantTamperedSignature, wantCheck: signer.CheckSignatureMismatch, expect: "reject",
			undo: restore(signer.HeaderSignature)},
		{v: notify.VariantWrongKey, wantCheck: signer.CheckSignatureMismatch, expect: "reject",
			undo: restore(signer.HeaderSignature), verifyKey: wrongKey},
		{v: notify.VariantStaleTimestamp, offset: -time.Hour, expect: "reject",
			undo: func(sn *notify.SignedNotify) {
				restore(signer.HeaderRequestTime)(sn)
				restore(signer.HeaderSignature)(sn)
			}, verifyKey: notifyKey},
		{v: notify.VariantFutureTimestamp, offset: time.Hour, expect: "reject",
			undo: func(sn *notify.SignedNotify) {
				restore(signer.HeaderRequestTime)(sn)
				restore(signer.HeaderSignature)(sn)
			}, verifyKey: notifyKey},
		{v: notify.VariantMissingSignature, wantCheck: signer.CheckMissingHeader, expect: "reject",
			undo: restore(signer.HeaderSignature)},
		{v: notify.VariantAmountChanged, wantCheck: signer.CheckSignatureMismatch, expect: "reject",
			change: func(n *notify.Notification) { n.TotalAmount += 1000 },
			undo:   func(sn *notify.SignedNotify) { sn.Body = valid.Body }},
		{v: notify.VariantReferenceChanged, wantCheck: signer.CheckSignatureMismatch, expect: "reject",
			change: func(n *notify.Notification) { n.ReferenceNumber += "-X" },
			undo:   func(sn *notify.SignedNotify) { sn.Body = valid.Body }},
		{v: notify.VariantNonCanonicalJSON, expect: "accept",
			undo: func(sn *notify.SignedNotify) { sn.Body = valid.Body }, verifyKey: notifyKey},
	}
	if len(tests) != len(notify.Variants()) {
		t.Fatalf("the table covers %d variants, Variants() has %d", len(tests), len(notify.Variants()))
	}
	for _, tt := range tests {
		t.Run(string(tt.v), func(t *testing.T) {
			sn := notify.Sign(n, notifyKey, notifyNow, tt.v)
			if sn.Variant != tt.v {
				t.Errorf("Variant = %q, want %q", sn.Variant, tt.v)
			}
			if sn.Expect != tt.expect {
				t.Errorf("Expect = %q, want %q", sn.Expect, tt.expect)
			}
			if !strings.HasSuffix(sn.Why, ".") || strings.Contains(sn.Why, ". ") || strings.Contains(sn.Why, "\n") {
				t.Errorf("Why = %q; want one sentence", sn.Why)
			}
			if got := sn.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", got)
			}

			// What a merchant's signature check says.
			err := signer.VerifyNotify(notifyKey, sn.Header, sn.Body)
			if tt.wantCheck == "" {
				if err != nil {
					t.Errorf("VerifyNotify = %v; want success", err)
				}
			} else if verr, ok := errors.AsType[*signer.VerifyError](err); !ok || verr.Check != tt.wantCheck {
				t.Errorf("VerifyNotify = %v; want a %s error", err, tt.wantCheck)
			} else if tt.wantCheck == signer.CheckMissingHeader && verr.Header != signer.HeaderSignature {
				t.Errorf("VerifyNotify says %s is missing; want %s", verr.Header, signer.HeaderSignature)
			}
			sig, hasSig := sn.Header[signer.HeaderSignature]
			if hasSig == (tt.v == notify.VariantMissingSignature) {
				t.Errorf("X-Signature present = %v, want %v", hasSig, !hasSig)
			}
			if hasSig && (len(sig) != 1 || !lowerHex64.MatchString(sig[0])) {
				t.Errorf("X-Signature = %q; want one value of 64 lowercase hex characters", sig)
			}
			if tt.verifyKey != "" {
				if err := signer.VerifyNotify(tt.verifyKey, sn.Header, sn.Body); err != nil {
					t.Errorf("not validly signed under its own key: %v", err)
				}
			}
			if tt.v == notify.VariantTamperedSignature {
				if d := diffChars(sig[0], validSig); d != 1 {
					t.Errorf("X-Signature %s differs from the valid %s in %d characters, want 1", sig[0], validSig, d)
				}
			}

			// X-Request-Time: the intended instant, in WIB, to the second.
			stamp := sn.Header.Get(signer.HeaderRequestTime)
			at, err := time.Parse(signer.TimeLayout, stamp)
			if err != nil {
				t.Fatalf("X-Request-Time %q does not parse with signer.TimeLayout: %v", stamp, err)
			}
			if !strings.HasSuffix(stamp, "+07:00") {
				t.Errorf("X-Request-Time %q is not in WIB (+07:00)", stamp)
			}
			if got := at.Sub(notifyNow.Truncate(time.Second)); got != tt.offset {
				t.Errorf("X-Request-Time %q is now%+v, want now%+v", stamp, got, tt.offset)
			}

			// The body: the same values as valid but for the one change.
			want := n
			if tt.change != nil {
				tt.change(&want)
			}
			if got := decodeNotification(t, sn.Body); got != want {
				t.Errorf("body decodes to\n%+v\nwant\n%+v", got, want)
			}

			// Undoing the one break gives back the valid notify, byte for byte.
			fixed := sn
			fixed.Header, fixed.Body = sn.Header.Clone(), slices.Clone(sn.Body)
			tt.undo(&fixed)
			if !reflect.DeepEqual(fixed.Header, valid.Header) {
				t.Errorf("header, its break undone:\n%v\nwant the valid one\n%v", fixed.Header, valid.Header)
			}
			if !bytes.Equal(fixed.Body, valid.Body) {
				t.Errorf("body, its break undone:\n%s\nwant the valid one\n%s", fixed.Body, valid.Body)
			}
		})
	}
}

// TestNonCanonicalJSON checks the non-canonical body differs from the
// canonical one in bytes, in every way promised, and in nothing else.
func TestNonCanonicalJSON(t *testing.T) {
	n := notifyNote()
	valid := notify.Sign(n, notifyKey, notifyNow, notify.VariantValid).Body
	odd := notify.Sign(n, notifyKey, notifyNow, notify.VariantNonCanonicalJSON).Body

	if bytes.Equal(odd, valid) {
		t.Fatalf("the non-canonical body is byte-equal to the valid one: %s", odd)
	}
	for _, s := range []string{"\n", "  ", `"\u0050AID"`} {
		if !bytes.Contains(odd, []byte(s)) {
			t.Errorf("the non-canonical body lacks %q:\n%s", s, odd)
		}
	}
	order := memberOrder(t, odd)
	if slices.Equal(order, canonicalOrder) {
		t.Errorf("the non-canonical body keeps the canonical member order %q", order)
	}
	// Same names, values and types as the canonical body, compared without a
	// struct (encoding/json matches struct fields case-insensitively).
	var gotMap, wantMap map[string]any
	if err := json.Unmarshal(odd, &gotMap); err != nil {
		t.Fatalf("the non-canonical body is not JSON: %v\n%s", err, odd)
	}
	if err := json.Unmarshal(valid, &wantMap); err != nil {
		t.Fatal(err)
	}
	if !maps.EqualFunc(gotMap, wantMap, func(a, b any) bool { return a == b }) {
		t.Errorf("the non-canonical body decodes to\n%v\nwant\n%v", gotMap, wantMap)
	}
}

// TestNotifyWireFormat pins the exact headers and bytes of the notifies a
// merchant is told to accept. Run `go test ./mock/notify -run TestNotifyWireFormat
// -update` after a deliberate change and review the diff.
func TestNotifyWireFormat(t *testing.T) {
	n := notifyNote()
	for _, v := range []notify.Variant{notify.VariantValid, notify.VariantNonCanonicalJSON} {
		t.Run(string(v), func(t *testing.T) {
			sn := notify.Sign(n, notifyKey, notifyNow, v)
			got := httpMessage(sn.Header, sn.Body)
			golden := filepath.Join("testdata", "notify_"+string(v)+".golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s changed:\ngot\n%s\nwant\n%s", golden, got, want)
			}
		})
	}
}

func BenchmarkSignNotification(b *testing.B) {
	n := notifyNote()
	b.ReportAllocs()
	for b.Loop() {
		notify.Sign(n, notifyKey, notifyNow, notify.VariantValid)
	}
}

// httpMessage renders header and body as an HTTP message would carry them,
// with "\n" line ends so golden files diff well: one "Name: value" line per
// header, sorted, a blank line, then the body.
func httpMessage(header http.Header, body []byte) []byte {
	var buf bytes.Buffer
	for _, name := range slices.Sorted(maps.Keys(header)) {
		for _, v := range header[name] {
			buf.WriteString(name + ": " + v + "\n")
		}
	}
	buf.WriteString("\n")
	buf.Write(body)
	return buf.Bytes()
}

// decodeNotification decodes body strictly: no unknown members.
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

// memberOrder returns the member names of the JSON object body, in order.
func memberOrder(t *testing.T, body []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	if _, err := dec.Token(); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, body)
	}
	var names []string
	for dec.More() {
		name, err := dec.Token()
		if err != nil {
			t.Fatalf("body: %v\n%s", err, body)
		}
		names = append(names, name.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatalf("body: %v\n%s", err, body)
		}
	}
	return names
}

// diffChars returns how many positions a and b, of equal length, differ at;
// -1 if their lengths differ.
func diffChars(a, b string) int {
	if len(a) != len(b) {
		return -1
	}
	d := 0
	for i := range len(a) {
		if a[i] != b[i] {
			d++
		}
	}
	return d
}
