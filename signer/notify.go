package signer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Headers and time format of a notify, as BJPAY documents them.
const (
	// HeaderSignature carries Sign's output.
	HeaderSignature = "X-Signature"
	// HeaderRequestTime carries the time the notify was signed; its value, byte for
	// byte, is the timestamp in the payload.
	HeaderRequestTime = "X-Request-Time"
	// TimeLayout is the X-Request-Time format BJPAY documents (YYYY-MM-DDTHH:mm:ssZ as in
	// moment.js, e.g. 2024-09-20T20:32:36+07:00): numeric offset, +00:00 for UTC, never "Z".
	TimeLayout = "2006-01-02T15:04:05-07:00"
)

// SignNotify makes req a signed notify carrying body: it reads referenceNumber,
// paymentCode and totalAmount from body, sets X-Request-Time to t.Format(TimeLayout),
// X-Signature to the signature under key, and Content-Type to application/json, and
// sets req.Body, req.ContentLength and req.GetBody to body. The caller must not modify
// body afterwards.
//
// The body's fields are read as JavaScript's JSON.parse reads them: names match
// exactly (case-sensitively) and the last of duplicate names wins. If body lacks a
// field or a field has the wrong type, SignNotify returns an error that wraps a
// *VerifyError with Check CheckMalformedBody, and leaves req unchanged.
func SignNotify(req *http.Request, key string, body []byte, t time.Time) error {
	f, verr := parseNotify(body)
	if verr != nil {
		return fmt.Errorf("sign notify: %w", verr)
	}
	timestamp := t.Format(TimeLayout)
	if req.Header == nil {
		req.Header = make(http.Header)
	}
	req.Header.Set(HeaderRequestTime, timestamp)
	req.Header.Set(HeaderSignature, Sign(key, Payload(timestamp, f.referenceNumber, f.paymentCode, f.totalAmount)))
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = int64(len(body))
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.GetBody = func() (io.ReadCloser, error) { // lets the client resend it after a redirect
		return io.NopCloser(bytes.NewReader(body)), nil
	}
	return nil
}

// VerifyNotify checks the signature of a notify with the given header and body, as a
// merchant receiving it should: the payload is built from the X-Request-Time header
// as received and the body's referenceNumber, paymentCode and totalAmount (read as in
// SignNotify), and the X-Signature header must be its signature under key.
//
// It returns nil if the notify is validly signed, and otherwise a *VerifyError saying
// which check failed. It does not judge how old X-Request-Time is: BJPAY documents no
// tolerance, so that is for the caller to decide.
func VerifyNotify(key string, header http.Header, body []byte) error {
	signature := header.Get(HeaderSignature)
	if signature == "" {
		return &VerifyError{Check: CheckMissingHeader, Header: HeaderSignature, Detail: msgNoSignature}
	}
	timestamp := header.Get(HeaderRequestTime)
	if timestamp == "" {
		return &VerifyError{Check: CheckMissingHeader, Header: HeaderRequestTime, Detail: msgNoRequestTime}
	}
	f, verr := parseNotify(body)
	if verr != nil {
		return verr
	}
	payload := Payload(timestamp, f.referenceNumber, f.paymentCode, f.totalAmount)
	if !Verify(key, payload, signature) {
		return &VerifyError{Check: CheckSignatureMismatch, Detail: mismatchDetail(payload, signature)}
	}
	return nil
}

// Check names the check of a notify that failed.
type Check string

// The checks VerifyNotify makes, in the order it makes them.
const (
	// CheckMissingHeader: X-Signature or X-Request-Time is absent or empty.
	CheckMissingHeader Check = "missing-header"
	// CheckMalformedBody: the body is not a JSON object, or it lacks referenceNumber,
	// paymentCode or totalAmount, or the first two are not strings, or totalAmount is
	// not a number in float64's range.
	CheckMalformedBody Check = "malformed-body"
	// CheckSignatureMismatch: X-Signature is not the signature of the payload.
	CheckSignatureMismatch Check = "signature-mismatch"
)

// A VerifyError reports why a notify's signature is not valid.
type VerifyError struct {
	Check  Check
	Header string // the header concerned, for CheckMissingHeader
	Detail string // what was received and what was expected; never the key or a secret
}

// Sentinels for errors.Is: each matches every *VerifyError with its Check.
var (
	ErrMissingHeader     error = &VerifyError{Check: CheckMissingHeader}
	ErrMalformedBody     error = &VerifyError{Check: CheckMalformedBody}
	ErrSignatureMismatch error = &VerifyError{Check: CheckSignatureMismatch}
)

// Error returns "signer: " followed by the Check and the Detail.
func (e *VerifyError) Error() string {
	if e.Detail == "" {
		return "signer: " + string(e.Check)
	}
	return "signer: " + string(e.Check) + ": " + e.Detail
}

// Is reports whether target is a *VerifyError with the same Check and, if target
// names a Header, the same Header; Detail is ignored. So errors.Is(err,
// ErrMissingHeader) matches either missing header.
func (e *VerifyError) Is(target error) bool {
	t, ok := target.(*VerifyError)
	return ok && t.Check == e.Check && (t.Header == "" || t.Header == e.Header)
}

// Messages of VerifyError and SignNotify: what was received, and what was expected.
// They may reach a merchant, so they never include the key or a secret.
const (
	msgNoSignature   = `the X-Signature header is missing or empty; expected the lowercase hex HMAC-SHA256 of the payload (64 characters)`
	msgNoRequestTime = `the X-Request-Time header is missing or empty; expected the time the notify was signed, e.g. 2024-09-20T20:32:36+07:00`
	msgBodyEmpty     = `the body is empty; expected a JSON object with referenceNumber, paymentCode and totalAmount`
	msgBodyNotJSON   = `the body is not valid JSON (%v); expected a JSON object with referenceNumber, paymentCode and totalAmount`
	msgBodyNotObject = `the body is a JSON %s; expected a JSON object with referenceNumber, paymentCode and totalAmount`
	msgFieldMissing  = `the body has no %q field%s; expected %s`
	msgFieldCase     = ` (it has %q: field names are case-sensitive)`
	msgFieldType     = `the body's %q is a JSON %s, %s; expected %s`
	msgFieldAmount   = `the body's "totalAmount" is not usable: %v`
	msgMismatch      = `X-Signature %s does not match the payload %s (X-Request-Time:referenceNumber:paymentCode:totalAmount); expected the lowercase hex HMAC-SHA256 of that payload keyed with md5(client_id + ":" + client_secret) in lowercase hex%s`
	msgSigLength     = `, 64 characters, but it has %d`
	msgSigUpper      = `, but it has upper-case letters`
	msgSigNotHex     = `, but it has characters other than 0-9 and a-f`

	wantString = `a JSON string, e.g. "TX_556622123344"`
	wantNumber = `a JSON number, e.g. 15000`
)

// notifyFields are the body fields that are signed.
type notifyFields struct {
	referenceNumber, paymentCode string
	totalAmount                  float64
}

// parseNotify reads the signed fields of a notify body. It decodes into a map rather
// than a struct because encoding/json matches struct fields case-insensitively, while
// JSON.parse (what BJPAY and most merchants use) matches names exactly; like JSON.parse,
// it keeps the last of duplicate names.
func parseNotify(body []byte) (notifyFields, *VerifyError) {
	var f notifyFields
	malformed := func(format string, args ...any) *VerifyError {
		return &VerifyError{Check: CheckMalformedBody, Detail: fmt.Sprintf(format, args...)}
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return f, malformed(msgBodyEmpty)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		if _, isSyntax := errors.AsType[*json.SyntaxError](err); isSyntax {
			return f, malformed(msgBodyNotJSON, err)
		}
		return f, malformed(msgBodyNotObject, kind(trimmed))
	}
	if obj == nil { // null decodes into a map without error
		return f, malformed(msgBodyNotObject, "null")
	}

	field := func(name, want, wantKind string) (json.RawMessage, *VerifyError) {
		raw, ok := obj[name]
		if !ok {
			return nil, malformed(msgFieldMissing, name, caseVariant(obj, name), want)
		}
		if k := kind(raw); k != wantKind {
			return nil, malformed(msgFieldType, name, k, clip(string(raw)), want)
		}
		return raw, nil
	}
	for _, s := range []struct {
		name string
		dst  *string
	}{{"referenceNumber", &f.referenceNumber}, {"paymentCode", &f.paymentCode}} {
		raw, verr := field(s.name, wantString, "string")
		if verr != nil {
			return f, verr
		}
		if err := json.Unmarshal(raw, s.dst); err != nil { // cannot happen: raw is a valid string
			return f, malformed(msgFieldType, s.name, "string", clip(string(raw)), wantString)
		}
	}
	raw, verr := field("totalAmount", wantNumber, "number")
	if verr != nil {
		return f, verr
	}
	// A totalAmount beyond float64's range would be Infinity in JavaScript; BJPAY's
	// amounts are integer rupiah far below it, so the sandbox rejects it instead.
	amount, err := ParseAmount(string(raw))
	if err != nil {
		return f, malformed(msgFieldAmount, err)
	}
	f.totalAmount = amount
	return f, nil
}

// kind names the JSON type of the valid JSON value v.
func kind(v []byte) string {
	switch v[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// caseVariant returns a hint naming a field of obj that differs from name only in
// case, or "" if there is none.
func caseVariant(obj map[string]json.RawMessage, name string) string {
	var variants []string
	for k := range obj {
		if strings.EqualFold(k, name) {
			variants = append(variants, k)
		}
	}
	if len(variants) == 0 {
		return ""
	}
	return fmt.Sprintf(msgFieldCase, slices.Min(variants))
}

// mismatchDetail explains a signature mismatch. It shows the payload, which holds no
// secret, so that a merchant can compare it with the one their code signs; it never
// shows the expected signature, which would let anyone forge one.
func mismatchDetail(payload, signature string) string {
	hint := ""
	switch {
	case len(signature) != 64:
		hint = fmt.Sprintf(msgSigLength, len(signature))
	case strings.ContainsFunc(signature, func(r rune) bool { return 'A' <= r && r <= 'F' }):
		hint = msgSigUpper
	case strings.ContainsFunc(signature, func(r rune) bool { return !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') }):
		hint = msgSigNotHex
	}
	return fmt.Sprintf(msgMismatch, quote(signature), quote(payload), hint)
}
