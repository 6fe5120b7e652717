// Package signer implements the signature BJPAY puts on its payment notifications
// (notify webhooks), so that the sandbox signs exactly as BJPAY does and a merchant's
// verification code can be tested against it.
//
// The signature is an HMAC-SHA256 as defined in RFC 2104, computed as
//
//	key       = md5(clientID + ":" + clientSecret), as 32 lowercase hex characters
//	payload   = timestamp + ":" + referenceNumber + ":" + paymentCode + ":" + amount
//	signature = hex(HMAC-SHA256(key, payload)), lowercase
//
// where the HMAC key is the bytes of the 32-character hex string (not the 16 raw MD5
// bytes), timestamp is the notify's X-Request-Time header value byte for byte,
// referenceNumber and paymentCode are the body's fields of those names, and amount is
// the body's totalAmount rendered as JavaScript renders a Number in a template string
// (see FormatAmount), because BJPAY's reference code is JavaScript. Strings are hashed
// as UTF-8. The signature is sent in the X-Signature header.
//
// Receivers should use Verify (or VerifyNotify), which compares in constant time, to
// avoid timing side-channels:
//
//	// ValidSignature reports whether signature is the valid signature of a notify.
//	func ValidSignature(clientID, clientSecret, timestamp, referenceNumber, paymentCode string, amount float64, signature string) bool {
//		key := signer.Key(clientID, clientSecret)
//		return signer.Verify(key, signer.Payload(timestamp, referenceNumber, paymentCode, amount), signature)
//	}
package signer

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"hash"
	"math"
	"strconv"
	"strings"
	"sync"
)

// Key returns the signing key of a merchant: the MD5 of clientID + ":" + clientSecret
// as 32 lowercase hex characters. Compute it once per merchant and pass it to Sign,
// Verify, SignNotify and VerifyNotify.
//
// Because the two credentials are joined with ":", a client id "a:b" with secret "c"
// has the same key as client id "a" with secret "b:c"; that is BJPAY's recipe.
func Key(clientID, clientSecret string) string {
	sum := md5.Sum([]byte(clientID + ":" + clientSecret))
	return hex.EncodeToString(sum[:])
}

// Payload returns the string BJPAY signs for a notify:
// timestamp + ":" + referenceNumber + ":" + paymentCode + ":" + FormatAmount(amount).
// Fields are joined as they are, so a ":" inside a field is not escaped.
func Payload(timestamp, referenceNumber, paymentCode string, amount float64) string {
	return timestamp + ":" + referenceNumber + ":" + paymentCode + ":" + FormatAmount(amount)
}

// Sign returns the lowercase hex HMAC-SHA256 of payload under key: the X-Signature
// value. key is normally the result of Key.
//
// Sign and Verify reuse keyed HMAC state between calls (safely for concurrent use), so
// with a key already used they allocate nothing but Sign's result.
func Sign(key, payload string) string {
	m := getMAC(key)
	defer macPool.Put(m)
	return string(m.sum(payload)[:])
}

// Verify reports whether signature is Sign(key, payload), comparing in constant time.
// The comparison is exact: a signature in upper-case hex, or of any length other than
// 64 characters, is not valid, because BJPAY sends lowercase hex.
func Verify(key, payload, signature string) bool {
	// A signature's length is public, so it may be checked first; copying into an
	// array keeps the comparison free of allocations.
	var sig [2 * sha256.Size]byte
	if len(signature) != len(sig) {
		return false
	}
	copy(sig[:], signature)
	m := getMAC(key)
	defer macPool.Put(m)
	return hmac.Equal(m.sum(payload)[:], sig[:])
}

// mac is a reusable HMAC-SHA256 keyed with key. Creating an HMAC costs six
// allocations, so Sign and Verify keep keyed ones in macPool and re-key only when a
// pooled one was keyed for another merchant.
type mac struct {
	key   string
	h     hash.Hash
	chunk [256]byte // payload is copied through here: h.Write([]byte(payload)) would allocate
	raw   [sha256.Size]byte
	hex   [2 * sha256.Size]byte
}

var macPool sync.Pool // of *mac

func getMAC(key string) *mac {
	m, _ := macPool.Get().(*mac)
	if m == nil {
		m = new(mac)
	}
	// Both keys are the caller's secrets, so compare them in constant time rather
	// than with ==, which stops at the first differing byte.
	if m.h == nil || len(m.key) != len(key) || subtle.ConstantTimeCompare([]byte(m.key), []byte(key)) != 1 {
		m.key = key
		m.h = hmac.New(sha256.New, []byte(key))
	} else {
		m.h.Reset()
	}
	return m
}

// sum returns the lowercase hex HMAC of payload; the result is overwritten by the
// next use of m.
func (m *mac) sum(payload string) *[2 * sha256.Size]byte {
	for len(payload) > 0 {
		n := copy(m.chunk[:], payload)
		m.h.Write(m.chunk[:n])
		payload = payload[n:]
	}
	hex.Encode(m.hex[:], m.h.Sum(m.raw[:0]))
	return &m.hex
}

// FormatAmount renders amount as JavaScript's Number.prototype.toString does (which is
// what a template string like `${amount}` uses), following ECMAScript's
// Number::toString with the shortest digits that round-trip: 15000 → "15000",
// 15000.5 → "15000.5", -0 → "0", 1e21 → "1e+21", 1e-7 → "1e-7",
// 0.1+0.2 → "0.30000000000000004", NaN → "NaN", +Inf → "Infinity".
func FormatAmount(amount float64) string {
	switch {
	case math.IsNaN(amount):
		return "NaN"
	case math.IsInf(amount, 1):
		return "Infinity"
	case math.IsInf(amount, -1):
		return "-Infinity"
	case amount == 0: // +0 and -0 alike
		return "0"
	}
	var buf, ob [32]byte // the longest result, "-1.2345678901234567e-308", has 24 bytes
	out := ob[:0]
	if amount < 0 {
		out = append(out, '-')
		amount = -amount
	}
	// The shortest round-trip digits, as d.ddde±x. ECMAScript calls the digits s,
	// their count k, and n the exponent for which the value is 0.s × 10^n.
	e := strconv.AppendFloat(buf[:0], amount, 'e', -1, 64)
	i := bytes.IndexByte(e, 'e')
	digits := e[:i]
	if len(digits) > 1 { // drop the "." after the first digit
		digits = append(digits[:1], digits[2:]...)
	}
	x := 0
	for _, c := range e[i+2:] { // e[i+1] is the exponent's sign
		x = 10*x + int(c-'0')
	}
	if e[i+1] == '-' {
		x = -x
	}
	k, n := len(digits), x+1
	switch {
	case k <= n && n <= 21: // an integer: the digits, then zeros
		out = append(out, digits...)
		out = appendZeros(out, n-k)
	case 0 < n && n <= 21: // the decimal point falls inside the digits
		out = append(out, digits[:n]...)
		out = append(out, '.')
		out = append(out, digits[n:]...)
	case -6 < n && n <= 0: // small: "0.", zeros, then the digits
		out = append(out, "0."...)
		out = appendZeros(out, -n)
		out = append(out, digits...)
	default: // exponential: d[.ddd]e±(n-1)
		out = append(out, digits[0])
		if k > 1 {
			out = append(out, '.')
			out = append(out, digits[1:]...)
		}
		out = append(out, 'e')
		if n > 0 {
			out = append(out, '+')
		}
		out = strconv.AppendInt(out, int64(n-1), 10)
	}
	return string(out)
}

func appendZeros(b []byte, n int) []byte {
	for range n {
		b = append(b, '0')
	}
	return b
}

// ParseAmount parses s, a JSON number literal such as a notify body's totalAmount, to
// the float64 that JavaScript's JSON.parse gives: the nearest double, so
// "0.30000000000000004" and "1e-400" (which is 0) parse as in JavaScript.
//
// s must follow JSON's number grammar exactly: an optional "-" (no "+"), an integer
// part without leading zeros, an optional fraction and an optional exponent; no
// surrounding spaces, no NaN or Infinity. A number too large for float64 (such as
// 1e400, which JavaScript turns into Infinity) is an error.
func ParseAmount(s string) (float64, error) {
	if !isJSONNumber(s) {
		return 0, fmt.Errorf(msgAmountSyntax, quote(s))
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil { // the grammar is checked, so this is ErrRange
		return 0, fmt.Errorf(msgAmountRange, quote(s))
	}
	return f, nil
}

// Messages for ParseAmount: what was received, and what a valid value looks like.
const (
	msgAmountSyntax = `amount %s is not a JSON number; expected an optional "-", digits without a leading zero or "+", then optionally a fraction and an exponent, e.g. 15000, 15000.5 or 1.5e+4`
	msgAmountRange  = `amount %s is out of range; expected a magnitude of at most 1.7976931348623157e+308`
)

// isJSONNumber reports whether s is exactly a number in JSON's grammar (RFC 8259 §6):
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func isJSONNumber(s string) bool {
	i := 0
	digits := func() bool { // one or more digits at i
		start := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		return i > start
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		digits()
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(s)
}

// quote returns s quoted for a message; see clip.
func quote(s string) string {
	head, rest := cut(s)
	return strconv.Quote(head) + rest
}

// clip returns s for a message, shortened if long so that an error about a 10 kB field
// stays readable.
func clip(s string) string {
	head, rest := cut(s)
	return head + rest
}

func cut(s string) (head, rest string) {
	const max = 128
	if len(s) <= max {
		return s, ""
	}
	return strings.ToValidUTF8(s[:max], ""), fmt.Sprintf("… (%d bytes)", len(s))
}
