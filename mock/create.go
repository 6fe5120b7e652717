package mock

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"
)

// createRequest is the body of Create Payment, as BJPAY documents it.
// [sandbox] Fields BJPAY does not document are ignored, as gateways do.
// encoding/json matches field names case-insensitively; BJPAY's may not.
type createRequest struct {
	PaymentCode         jsonString `json:"paymentCode"`
	ReferenceNumber     jsonString `json:"referenceNumber"`
	CustomerName        jsonString `json:"customerName"`
	CustomerEmail       jsonString `json:"customerEmail"`
	CustomerPhoneNumber jsonString `json:"customerPhoneNumber"`
	FinishNotifyURL     jsonString `json:"finishNotifyUrl"`
	FinishReturnURL     jsonString `json:"finishReturnUrl"`
	ExpiredAt           jsonString `json:"expiredAt"`
	TotalAmount         jsonNumber `json:"totalAmount"`
	Items               jsonItems  `json:"items"`
	// [sandbox] BJPAY documents code 19 but no currency field; the sandbox
	// checks one only when it is sent.
	Currency jsonString `json:"currency"`
}

// maxSafeAmount is the largest integer a JavaScript Number holds exactly;
// BJPAY's own code is JavaScript, so amounts beyond it cannot be trusted.
const maxSafeAmount = 1<<53 - 1

// decodeCreate parses the body. Only a body that is not a JSON object fails
// here; wrong field types are left for validate to report in order.
func decodeCreate(body []byte) (createRequest, *Error) {
	var req createRequest
	if len(body) == 0 {
		return req, sandboxErr(400, "request body is empty; expected a JSON object with the Create Payment fields (paymentCode, referenceNumber, ...)")
	}
	if err := json.Unmarshal(body, &req); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return req, sandboxErr(400, "request body is not valid JSON: %s at byte offset %d; expected a JSON object", syn.Error(), syn.Offset)
		case errors.As(err, &typ):
			return req, sandboxErr(400, "request body is a JSON %s; expected a JSON object with the Create Payment fields", typ.Value)
		default:
			return req, sandboxErr(400, "request body is not valid JSON: %s; expected a JSON object", err)
		}
	}
	if bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("null")) {
		return req, sandboxErr(400, "request body is JSON null; expected a JSON object with the Create Payment fields")
	}
	return req, nil
}

// validated is a create request that passed every check.
type validated struct {
	channel   *channel
	ref       string
	name      string
	email     string
	phone     string
	notifyURL string
	returnURL string
	expiredAt time.Time
	amount    int64
	items     []Item
}

// validate checks req in BJPAY's order and returns the first failure with
// its documented code. [sandbox] The order and the exact rules are the
// sandbox's reading of the codes' descriptions (see the README).
func (s *Sandbox) validate(m *merchant, req *createRequest) (validated, *Error) {
	var v validated

	// 13: paymentCode names an active channel.
	f := req.PaymentCode
	switch {
	case f.Got != "":
		return v, codeErr(CodeInvalidChannel, "paymentCode must be a string, got %s", f.Got)
	case f.S == "":
		return v, codeErr(CodeInvalidChannel, "paymentCode is missing; expected one of: %s", s.channelCodes)
	}
	ch, ok := s.channels[f.S]
	switch {
	case !ok:
		return v, codeErr(CodeInvalidChannel, "paymentCode %q is not a channel of this sandbox; expected one of: %s", f.S, s.channelCodes)
	case !ch.IsActive:
		return v, codeErr(CodeInvalidChannel, "paymentCode %q is inactive; expected an active channel: %s", f.S, s.channelCodes)
	}
	v.channel = ch

	// 14: referenceNumber well formed and not used before by this merchant.
	f = req.ReferenceNumber
	switch {
	case f.Got != "":
		return v, codeErr(CodeInvalidReference, "referenceNumber must be a string, got %s", f.Got)
	case f.S == "":
		return v, codeErr(CodeInvalidReference, "referenceNumber is missing; expected your own unique id, e.g. BJP05134e418d311b55e5cd9e13")
	case len(f.S) > maxReferenceLen:
		return v, codeErr(CodeInvalidReference, "referenceNumber is %d characters long; expected at most %d", len(f.S), maxReferenceLen)
	case !validReference(f.S):
		return v, codeErr(CodeInvalidReference, "referenceNumber %q has characters other than letters, digits, '-', '_' and '.'", f.S)
	case s.store.exists(m.ClientID, f.S):
		return v, codeErr(CodeInvalidReference, "referenceNumber %q was already used by this merchant; expected a new one", f.S)
	}
	v.ref = f.S

	// 16: customerEmail.
	f = req.CustomerEmail
	switch {
	case f.Got != "":
		return v, codeErr(CodeInvalidEmail, "customerEmail must be a string, got %s", f.Got)
	case f.S == "":
		return v, codeErr(CodeInvalidEmail, "customerEmail is missing; expected an address such as budi@example.com")
	case !validEmail(f.S):
		return v, codeErr(CodeInvalidEmail, "customerEmail %q is not an email address; expected e.g. budi@example.com", f.S)
	}
	v.email = f.S

	// 17: customerPhoneNumber.
	f = req.CustomerPhoneNumber
	switch {
	case f.Got != "":
		return v, codeErr(CodeInvalidPhone, "customerPhoneNumber must be a string, got %s", f.Got)
	case f.S == "":
		return v, codeErr(CodeInvalidPhone, "customerPhoneNumber is missing; expected digits such as 62123224456")
	case !validPhone(f.S):
		return v, codeErr(CodeInvalidPhone, "customerPhoneNumber %q is not a phone number; expected 8 to 15 digits with an optional leading '+', e.g. 62123224456", f.S)
	}
	v.phone = f.S

	// 15 and 18: items.
	items, sum, err := validateItems(req.Items)
	if err != nil {
		return v, err
	}
	v.items = items

	// 12: totalAmount.
	n := req.TotalAmount
	switch {
	case n.Got != "":
		return v, codeErr(CodeInvalidAmount, "totalAmount must be a JSON number, got %s", n.Got)
	case !n.Set:
		return v, codeErr(CodeInvalidAmount, "totalAmount is missing; expected a positive whole number of rupiah, e.g. 58000")
	case n.N <= 0 || n.N != math.Trunc(n.N):
		return v, codeErr(CodeInvalidAmount, "totalAmount %v is not a positive whole number of rupiah", n.N)
	case n.N < float64(ch.MinAmount):
		return v, codeErr(CodeInvalidAmount, "totalAmount %.0f is below the minimum of %s, %d", n.N, ch.PaymentCode, ch.MinAmount)
	case n.N > float64(ch.MaxAmount):
		return v, codeErr(CodeInvalidAmount, "totalAmount %.0f is above the maximum of %s, %d", n.N, ch.PaymentCode, ch.MaxAmount)
	case math.Abs(n.N-sum) >= 0.005:
		return v, codeErr(CodeInvalidAmount, "totalAmount %.0f is not the sum of the items' amount × quantity, %v", n.N, sum)
	}
	v.amount = int64(n.N)

	// 19: currency, only when sent.
	if f = req.Currency; f.Set && (f.Got != "" || f.S != "IDR") {
		got := f.Got
		if got == "" {
			got = fmt.Sprintf("%q", f.S)
		}
		return v, codeErr(CodeInvalidCurrency, "currency is %s; the only supported currency is \"IDR\"", got)
	}

	// No documented code for the rest: sandbox envelopes (HTTP 400).
	if f = req.CustomerName; f.Got != "" {
		return v, sandboxErr(400, "customerName must be a string, got %s", f.Got)
	}
	v.name = f.S
	if f = req.FinishNotifyURL; f.Got != "" {
		return v, sandboxErr(400, "finishNotifyUrl must be a string, got %s", f.Got)
	} else if f.S != "" {
		if msg := checkHTTPURL(f.S); msg != "" {
			return v, sandboxErr(400, "finishNotifyUrl %s", msg)
		}
	}
	// [sandbox] Without finishNotifyUrl the merchant's configured notify URL
	// (the portal's "Notification URL") is used, and shown in the response.
	v.notifyURL = f.S
	if v.notifyURL == "" {
		v.notifyURL = m.NotifyURL
	}
	if f = req.FinishReturnURL; f.Got != "" {
		return v, sandboxErr(400, "finishReturnUrl must be a string, got %s", f.Got)
	} else if f.S != "" {
		// Any absolute URL: apps may return to a custom scheme (myapp://...).
		if u, err := url.Parse(f.S); err != nil || !u.IsAbs() {
			return v, sandboxErr(400, "finishReturnUrl %q is not an absolute URL; expected e.g. https://my-cool-apps.com/thankyou", f.S)
		}
	}
	v.returnURL = f.S

	now := s.clock.Now()
	switch f = req.ExpiredAt; {
	case f.Got != "":
		return v, sandboxErr(400, "expiredAt must be a string, got %s", f.Got)
	case f.S == "":
		v.expiredAt = now.Add(ch.Lifetime).In(wib).Truncate(time.Second)
	default:
		t, err := time.Parse(time.RFC3339, f.S)
		if err != nil {
			return v, sandboxErr(400, "expiredAt %q is not an RFC 3339 time; expected e.g. 2024-06-23T13:00:48+07:00", f.S)
		}
		if !t.After(now) {
			return v, sandboxErr(400, "expiredAt %s is not in the future (sandbox clock: %s)", f.S, now.In(wib).Format(time.RFC3339))
		}
		v.expiredAt = t
	}
	return v, nil
}

// validateItems checks each item for code 15 (name, amount) and then 18
// (quantity), and returns them with the sum of amount × quantity.
func validateItems(f jsonItems) ([]Item, float64, *Error) {
	switch {
	case f.Got != "":
		return nil, 0, codeErr(CodeInvalidItem, "items must be an array, got %s", f.Got)
	case len(f.Items) == 0:
		return nil, 0, codeErr(CodeInvalidItem, "items is missing or empty; expected e.g. [{\"name\":\"MLBB Diamond - 250\",\"quantity\":1,\"amount\":58000}]")
	}
	items := make([]Item, len(f.Items))
	var sum float64
	for i, it := range f.Items {
		switch {
		case it.Got != "":
			return nil, 0, codeErr(CodeInvalidItem, "items[%d] must be an object, got %s", i, it.Got)
		case it.Name.Got != "":
			return nil, 0, codeErr(CodeInvalidItem, "items[%d].name must be a string, got %s", i, it.Name.Got)
		case strings.TrimSpace(it.Name.S) == "":
			return nil, 0, codeErr(CodeInvalidItem, "items[%d].name is missing or blank", i)
		case it.Amount.Got != "":
			return nil, 0, codeErr(CodeInvalidItem, "items[%d].amount must be a JSON number, got %s", i, it.Amount.Got)
		case !it.Amount.Set:
			return nil, 0, codeErr(CodeInvalidItem, "items[%d].amount is missing; expected the unit price, e.g. 58000", i)
		case it.Amount.N <= 0 || it.Amount.N > maxSafeAmount:
			return nil, 0, codeErr(CodeInvalidItem, "items[%d].amount %v is not a positive amount", i, it.Amount.N)
		case it.Quantity.Got != "":
			return nil, 0, codeErr(CodeInvalidQuantity, "items[%d].quantity must be a JSON number, got %s", i, it.Quantity.Got)
		case !it.Quantity.Set:
			return nil, 0, codeErr(CodeInvalidQuantity, "items[%d].quantity is missing; expected a whole number of at least 1", i)
		case it.Quantity.N < 1 || it.Quantity.N != math.Trunc(it.Quantity.N) || it.Quantity.N > maxSafeAmount:
			return nil, 0, codeErr(CodeInvalidQuantity, "items[%d].quantity %v is not a whole number of at least 1", i, it.Quantity.N)
		}
		items[i] = Item{Name: it.Name.S, Quantity: int64(it.Quantity.N), Amount: it.Amount.N}
		sum += it.Amount.N * it.Quantity.N
	}
	return items, sum, nil
}

// maxReferenceLen bounds referenceNumber. [sandbox] BJPAY documents no limit.
const maxReferenceLen = 64

// validReference allows letters, digits, '-', '_' and '.'. [sandbox] BJPAY
// says "bad format" without defining it.
func validReference(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// validEmail accepts local@domain.tld without spaces, at most 254 bytes.
// [sandbox] A pragmatic check, not full RFC 5322.
func validEmail(s string) bool {
	if len(s) > 254 || strings.ContainsAny(s, " \t\r\n<>()[],;:\"") {
		return false
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || strings.Contains(domain, "@") {
		return false
	}
	dot := strings.LastIndexByte(domain, '.')
	return dot > 0 && dot < len(domain)-1 && !strings.Contains(domain, "..")
}

// validPhone accepts 8 to 15 digits with an optional leading '+'.
// [sandbox] BJPAY's example is 62123224456.
func validPhone(s string) bool {
	s = strings.TrimPrefix(s, "+")
	if len(s) < 8 || len(s) > 15 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
