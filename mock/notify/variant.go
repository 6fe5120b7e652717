package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/internal/jsonw"
	"github.com/bjpay/bjpay-sandbox/signer"
)

// Variant names a way of signing a notify: correctly, or broken in exactly one
// way, so a merchant can check that its webhook refuses what it must refuse
// and accepts what it must accept.
type Variant string

// The variants. Each broken one differs from VariantValid in one respect only.
const (
	// VariantValid is the notify as BJPAY sends it.
	VariantValid Variant = "valid"
	// VariantTamperedSignature has one hex character of X-Signature changed.
	VariantTamperedSignature Variant = "tampered-signature"
	// VariantWrongKey is signed under a well-formed key that is not the merchant's.
	VariantWrongKey Variant = "wrong-key"
	// VariantStaleTimestamp is validly signed with an X-Request-Time an hour old.
	VariantStaleTimestamp Variant = "stale-timestamp"
	// VariantFutureTimestamp is validly signed with an X-Request-Time an hour ahead.
	VariantFutureTimestamp Variant = "future-timestamp"
	// VariantMissingSignature has no X-Signature header.
	VariantMissingSignature Variant = "missing-signature"
	// VariantAmountChanged carries a totalAmount 1000 higher than the one signed.
	VariantAmountChanged Variant = "amount-changed"
	// VariantReferenceChanged carries a referenceNumber with "-X" appended to the one signed.
	VariantReferenceChanged Variant = "reference-changed"
	// VariantNonCanonicalJSON carries the same values as VariantValid in different
	// bytes: keys reordered, indented, letters written as \u escapes.
	VariantNonCanonicalJSON Variant = "non-canonical-json"
)

// What a correct merchant does with a notify: SignedNotify.Expect.
const (
	ExpectAccept = "accept"
	ExpectReject = "reject"
)

// Offsets of X-Request-Time for the timestamp variants. [sandbox] BJPAY
// documents no tolerance for the age of a notify; an hour is far beyond any
// sensible replay window or clock skew (minutes), so every careful merchant
// rejects it whatever window it chose.
const (
	staleBy  = -time.Hour
	futureBy = time.Hour
)

// Changes the body-tampering variants make after signing.
const (
	amountDelta     = 1000
	referenceSuffix = "-X"
)

// variantSpec is what SignedNotify says about a Variant.
type variantSpec struct {
	v      Variant
	expect string // ExpectAccept or ExpectReject
	why    string
}

// variants describes each Variant, in the order Variants returns them.
var variants = []variantSpec{
	{VariantValid, ExpectAccept,
		"It is signed exactly as BJPAY signs, with the current time."},
	{VariantTamperedSignature, ExpectReject,
		"X-Signature has one hex character changed, so it is not the signature of the payload."},
	{VariantWrongKey, ExpectReject,
		"X-Signature is well formed but made with a key other than md5(client_id:client_secret), as a forger without the secret would."},
	{VariantStaleTimestamp, ExpectReject,
		"The signature is valid but X-Request-Time is an hour old, so it must be refused as a possible replay of a captured notify."},
	{VariantFutureTimestamp, ExpectReject,
		"The signature is valid but X-Request-Time is an hour ahead, beyond any clock skew, so it must be refused like a replay."},
	{VariantMissingSignature, ExpectReject,
		"There is no X-Signature header, so nothing proves the notify came from BJPAY."},
	{VariantAmountChanged, ExpectReject,
		"The body's totalAmount is 1000 more than the amount that was signed, as if changed in transit."},
	{VariantReferenceChanged, ExpectReject,
		`The body's referenceNumber has "-X" appended to the reference that was signed, as if changed in transit.`},
	{VariantNonCanonicalJSON, ExpectAccept,
		"Its bytes differ (keys reordered, indentation, \\u escapes) but every value and the signature are valid, and the signature covers values, not bytes."},
}

// Why returns the variant's sentence (SignedNotify.Why), "" for an unknown one.
func (v Variant) Why() string {
	if i := slices.IndexFunc(variants, func(d variantSpec) bool { return d.v == v }); i >= 0 {
		return variants[i].why
	}
	return ""
}

// Variants returns every Variant in a stable order, VariantValid first.
func Variants() []Variant {
	vs := make([]Variant, len(variants))
	for i, d := range variants {
		vs[i] = d.v
	}
	return vs
}

// ParseVariant returns the Variant named s. The error lists the valid names.
func ParseVariant(s string) (Variant, error) {
	if slices.ContainsFunc(variants, func(d variantSpec) bool {
		return string(d.v) == s
	}) {
		return Variant(s), nil
	}
	names := make([]string, len(variants))
	for i, d := range variants {
		names[i] = string(d.v)
	}
	return "", fmt.Errorf("unknown notify variant %q; expected one of %s", s, strings.Join(names, ", "))
}

// SignedNotify is one notify request ready to send: the exact headers and body
// bytes, and what a correct merchant does with it.
type SignedNotify struct {
	Variant Variant
	// Header has Content-Type: application/json, X-Request-Time and X-Signature
	// (absent for VariantMissingSignature).
	Header http.Header
	Body   []byte
	// Expect is ExpectAccept or ExpectReject: what a correct merchant does with it.
	Expect string
	// Why is one sentence saying why it must be rejected, or why it must be
	// accepted despite looking odd.
	Why string
}

// Sign builds the notify for n as variant v, stamped at wall time now:
// X-Request-Time is now (shifted for the timestamp variants) in WIB
// (+07:00), formatted with signer.TimeLayout; the signature is made with key,
// the merchant's signer.Key(clientID, secret).
//
// It panics if v is not one of Variants(): variants come from code or from
// ParseVariant, so an unknown one is a bug.
func Sign(n Notification, key string, now time.Time, v Variant) SignedNotify {
	i := slices.IndexFunc(variants, func(d variantSpec) bool {
		return d.v == v
	})
	if i < 0 {
		panic(fmt.Sprintf("notify: Sign: unknown variant %q", string(v)))
	}

	switch v {
	case VariantStaleTimestamp:
		now = now.Add(staleBy)
	case VariantFutureTimestamp:
		now = now.Add(futureBy)
	case VariantWrongKey:
		// Deterministic, and shaped like a real key (32 lowercase hex), so
		// only the HMAC can tell it apart.
		key = signer.Key("wrong-key", key)
	}
	stamp := now.In(WIB).Format(signer.TimeLayout)
	signature := signer.Sign(key, signer.Payload(stamp, n.ReferenceNumber, n.PaymentCode, float64(n.TotalAmount)))

	sent := n // what goes in the body; n is what was signed
	switch v {
	case VariantTamperedSignature:
		signature = tamper(signature)
	case VariantAmountChanged:
		sent.TotalAmount += amountDelta
	case VariantReferenceChanged:
		sent.ReferenceNumber += referenceSuffix
	}
	body := canonicalJSON(&sent)
	if v == VariantNonCanonicalJSON {
		body = nonCanonicalJSON(body)
	}

	header := http.Header{
		"Content-Type":           {"application/json"},
		signer.HeaderRequestTime: {stamp},
	}
	if v != VariantMissingSignature {
		header[signer.HeaderSignature] = []string{signature}
	}
	return SignedNotify{Variant: v, Header: header, Body: body, Expect: variants[i].expect, Why: variants[i].why}
}

// tamper changes the last character of a lowercase hex signature to the next
// hex digit, so the result is still 64 lowercase hex characters and only a
// real comparison, not a format check, rejects it.
func tamper(signature string) string {
	const digits = "0123456789abcdef"
	last := strings.IndexByte(digits, signature[len(signature)-1])
	return signature[:len(signature)-1] + string(digits[(last+1)%len(digits)])
}

// nonCanonicalJSON rewrites a canonical body (a flat JSON object of strings and
// integers) into different bytes with the same values: members in reverse
// order, one per line indented with four spaces, " : " between name and value,
// and the first ASCII letter of every string value written as a \u escape
// ("PAID" → "\u0050AID"). Numbers are left as they are: 58000 and 5.8e4 are
// the same value, but a merchant decoding into an integer would rightly
// refuse the second.
func nonCanonicalJSON(canonical []byte) []byte {
	type member struct {
		name  string
		value json.RawMessage
	}
	var members []member
	dec := json.NewDecoder(bytes.NewReader(canonical))
	if _, err := dec.Token(); err != nil { // {
		panic("notify: re-encode notification: " + err.Error())
	}
	for dec.More() {
		name, err := dec.Token()
		if err != nil {
			panic("notify: re-encode notification: " + err.Error())
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			panic("notify: re-encode notification: " + err.Error())
		}
		members = append(members, member{name.(string), value})
	}
	slices.Reverse(members)

	var buf bytes.Buffer
	buf.WriteString("{\n")
	for i, m := range members {
		buf.WriteString("    ")
		buf.Write(jsonw.Quote(m.name))
		buf.WriteString(" : ")
		var s string
		if m.value[0] == '"' && json.Unmarshal(m.value, &s) == nil {
			buf.Write(quoteEscapingLetter(s))
		} else {
			buf.Write(m.value)
		}
		if i < len(members)-1 {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n')
	}
	buf.WriteString("}\n")
	return buf.Bytes()
}

// quoteEscapingLetter returns s as a JSON string with its first ASCII letter
// written as a \u escape, or plainly quoted if it has none. Splitting at an
// ASCII byte never splits a UTF-8 sequence, so each part quotes as it would
// within the whole.
func quoteEscapingLetter(s string) []byte {
	i := strings.IndexFunc(s, func(r rune) bool { return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' })
	if i < 0 {
		return jsonw.Quote(s)
	}
	before, after := jsonw.Quote(s[:i]), jsonw.Quote(s[i+1:])
	return slices.Concat(before[:len(before)-1], fmt.Appendf(nil, `\u%04X`, s[i]), after[1:])
}

// NewRequest returns the POST that delivers sn to url: sn.Body as the body
// (with GetBody, so it can be resent) and sn.Header as the header, shared,
// not copied.
func (sn SignedNotify) NewRequest(ctx context.Context, url string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(sn.Body))
	if err != nil {
		return nil, err
	}
	req.Header = sn.Header
	return req, nil
}
