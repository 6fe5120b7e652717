package mock

import (
	"math"
	"math/bits"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bjpay/bjpay-sandbox/mock/notify"
	"github.com/bjpay/bjpay-sandbox/mock/store"
)

// validated is a create request that passed every check.
type validated struct {
	channel   *Channel
	ref       string
	name      string
	email     string
	phone     string
	notifyURL string
	returnURL string
	expiredAt time.Time
	amount    int64
	items     []store.Item
}

// validate checks req in BJPAY's order and returns the first failure with
// its documented code. [sandbox] The order and the exact rules are the
// sandbox's reading of the codes' descriptions (see the README).
func (s *Sandbox) validate(m *merchant, req *createRequest) (validated, error) {
	if s.shared == nil {
		return s.validateFields(m, req, true)
	}
	// [sandbox] On a shared store, whether the reference was used is a
	// round trip to the database. A valid create leaves it to the insert,
	// whose constraint answers 14 all the same (create.go); only a create
	// refused for a field checked after the reference asks, so that 14
	// still comes first in BJPAY's order.
	v, err := s.validateFields(m, req, false)
	if err != nil && v.ref != "" && s.store.Used(m.ClientID, v.ref) {
		return v, errUsed(v.ref)
	}
	return v, err
}

func errUsed(ref string) error {
	return codeErr(CodeInvalidReference, "referenceNumber %q was already used by this merchant; expected a new one", ref)
}

// validateFields checks the fields in BJPAY's order; checkUsed says
// whether to ask the store if the reference was used.
func (s *Sandbox) validateFields(m *merchant, req *createRequest, checkUsed bool) (validated, error) {
	var v validated

	// 13: paymentCode names an active channel.
	f := req.PaymentCode
	if f.Bad != "" || f.S == "" { // checked first: the expected list is built only on failure
		return v, required(f, CodeInvalidChannel, "paymentCode", "one of: "+s.channelCodes)
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
	if err := required(f, CodeInvalidReference, "referenceNumber", "your own unique id, e.g. BJP05134e418d311b55e5cd9e13"); err != nil {
		return v, err
	}
	switch {
	case len(f.S) > maxReferenceLen:
		return v, codeErr(CodeInvalidReference, "referenceNumber is %d characters long; expected at most %d", len(f.S), maxReferenceLen)
	case !validReference(f.S):
		return v, codeErr(CodeInvalidReference, "referenceNumber %q has characters other than letters, digits, '-', '_' and '.'", f.S)
	case strings.Trim(f.S, ".") == "":
		// "." and ".." cannot be inquired: URL paths resolve them away.
		return v, codeErr(CodeInvalidReference, "referenceNumber %q is only dots; expected at least one letter or digit", f.S)
	case checkUsed && s.store.Used(m.ClientID, f.S):
		return v, errUsed(f.S)
	}
	v.ref = f.S

	// 16: customerEmail.
	f = req.CustomerEmail
	if err := required(f, CodeInvalidEmail, "customerEmail", "an address such as budi@example.com"); err != nil {
		return v, err
	}
	if !validEmail(f.S) {
		return v, codeErr(CodeInvalidEmail, "customerEmail %q is not an email address; expected e.g. budi@example.com", f.S)
	}
	v.email = f.S

	// 17: customerPhoneNumber.
	f = req.CustomerPhoneNumber
	if err := required(f, CodeInvalidPhone, "customerPhoneNumber", "digits such as 62123224456"); err != nil {
		return v, err
	}
	if !validPhone(f.S) {
		return v, codeErr(CodeInvalidPhone, "customerPhoneNumber %q is not a phone number; expected 8 to 15 digits with an optional leading '+', e.g. 62123224456", f.S)
	}
	v.phone = f.S

	// 15 and 18: items.
	items, sum, sumOK, err := validateItems(req.Items)
	if err != nil {
		return v, err
	}
	v.items = items

	// 12: totalAmount.
	n := req.TotalAmount
	switch {
	case n.Bad != "":
		return v, codeErr(CodeInvalidAmount, "totalAmount %s", n.Bad)
	case !n.Set:
		return v, codeErr(CodeInvalidAmount, "totalAmount is missing; expected a positive whole number of rupiah, e.g. 58000")
	case n.N <= 0 || n.N != math.Trunc(n.N):
		return v, codeErr(CodeInvalidAmount, "totalAmount %s is not a positive whole number of rupiah", num(n.N))
	case n.N < float64(ch.MinAmount):
		return v, codeErr(CodeInvalidAmount, "totalAmount %s is below the minimum of %s, %d", num(n.N), ch.PaymentCode, ch.MinAmount)
	case n.N > float64(ch.MaxAmount):
		return v, codeErr(CodeInvalidAmount, "totalAmount %s is above the maximum of %s, %d", num(n.N), ch.PaymentCode, ch.MaxAmount)
	case !sumOK || int64(n.N) != sum:
		total := "more than " + num(maxSafeAmount)
		if sumOK {
			total = strconv.FormatInt(sum, 10)
		}
		return v, codeErr(CodeInvalidAmount, "totalAmount %s is not the sum of the items' amount × quantity, %s", num(n.N), total)
	}
	v.amount = int64(n.N)

	// 19: currency, only when sent.
	if f = req.Currency; f.Bad != "" {
		return v, codeErr(CodeInvalidCurrency, "currency %s", f.Bad)
	} else if f.Set && f.S != "IDR" {
		return v, codeErr(CodeInvalidCurrency, "currency is %q; the only supported currency is \"IDR\"", f.S)
	}

	// No documented code for the rest: sandbox envelopes (HTTP 400).
	switch f = req.CustomerName; {
	case f.Bad != "":
		return v, errorf(KindInvalid, "customerName %s", f.Bad)
	case utf8.RuneCountInString(f.S) > maxTextLen:
		return v, errorf(KindInvalid, "customerName is %d characters long; expected at most %d", utf8.RuneCountInString(f.S), maxTextLen)
	}
	v.name = f.S
	for _, u := range []struct {
		field string
		f     jsonString
	}{{"finishNotifyUrl", req.FinishNotifyURL}, {"finishReturnUrl", req.FinishReturnURL}} {
		if len(u.f.S) > maxURLLen {
			return v, errorf(KindInvalid, "%s is %d bytes long; expected at most %d", u.field, len(u.f.S), maxURLLen)
		}
	}
	if f = req.FinishNotifyURL; f.Bad != "" {
		return v, errorf(KindInvalid, "finishNotifyUrl %s", f.Bad)
	} else if f.S != "" && !plainHTTPURL(f.S) {
		if msg := checkHTTPURL(f.S); msg != "" {
			return v, errorf(KindInvalid, "finishNotifyUrl %s", msg)
		}
	}
	// [sandbox] Without finishNotifyUrl the merchant's configured notify URL
	// (the portal's "Notification URL") is used, and shown in the response.
	v.notifyURL = f.S
	if v.notifyURL == "" {
		v.notifyURL = m.NotifyURL
	}
	if f = req.FinishReturnURL; f.Bad != "" {
		return v, errorf(KindInvalid, "finishReturnUrl %s", f.Bad)
	} else if f.S != "" && !plainHTTPURL(f.S) {
		// [sandbox] Any absolute URL, because apps may return to a custom
		// scheme (myapp://...), except schemes that run code in the browser
		// the hosted page redirects.
		u, err := url.Parse(f.S)
		if err != nil || !u.IsAbs() {
			return v, errorf(KindInvalid, "finishReturnUrl %q is not an absolute URL; expected e.g. https://my-cool-apps.com/thankyou", f.S)
		}
		if scheme := strings.ToLower(u.Scheme); scheme == "javascript" || scheme == "data" || scheme == "vbscript" {
			return v, errorf(KindInvalid, "finishReturnUrl has the scheme %q, which browsers run as code; expected an http(s) or app URL", u.Scheme)
		}
	}
	v.returnURL = f.S

	now := s.clocks.Now(m.ClientID)
	switch f = req.ExpiredAt; {
	case f.Bad != "":
		return v, errorf(KindInvalid, "expiredAt %s", f.Bad)
	case f.S == "":
		// [sandbox] No expiredAt: the channel's lifetime (default 24 h).
		v.expiredAt = now.Add(ch.Lifetime).In(notify.WIB).Truncate(time.Second)
	default:
		t, err := time.Parse(time.RFC3339, f.S)
		if err != nil {
			return v, errorf(KindInvalid, "expiredAt %q is not an RFC 3339 time; expected e.g. 2024-06-23T13:00:48+07:00", f.S)
		}
		if !t.After(now) {
			return v, errorf(KindInvalid, "expiredAt %s is not in the future (sandbox clock: %s)", f.S, now.In(notify.WIB).Format(time.RFC3339))
		}
		v.expiredAt = t
	}
	if !InRange(v.expiredAt) {
		// Only a clock set near the year 9999 gets here without an
		// expiredAt: the default lifetime runs past what RFC 3339 writes.
		return v, errorf(KindInvalid, "expiredAt %s is past the year 9999 (sandbox clock: %s); expected an earlier time, or set the sandbox clock back", v.expiredAt.Format(time.RFC3339), now.In(notify.WIB).Format(time.RFC3339))
	}
	return v, nil
}

// required checks a required string field's type and presence, answering
// with the field's code.
func required(f jsonString, code, field, expected string) error {
	switch {
	case f.Bad != "":
		return codeErr(code, "%s %s", field, f.Bad)
	case f.S == "":
		return codeErr(code, "%s is missing; expected %s", field, expected)
	}
	return nil
}

// validateItems checks each item for code 15 (name, amount) and then 18
// (quantity), and returns them with the sum of amount × quantity; sumOK is
// false when the sum exceeds what a JavaScript Number holds exactly.
//
// [sandbox] Amounts are whole rupiah (IDR has no minor unit in use), so the
// sum is compared exactly, in integers.
func validateItems(f jsonItems) (items []store.Item, sum int64, sumOK bool, err error) {
	switch {
	case f.Bad != "":
		return nil, 0, false, codeErr(CodeInvalidItem, "items %s", f.Bad)
	case len(f.Items) == 0:
		return nil, 0, false, codeErr(CodeInvalidItem, "items is missing or empty; expected e.g. [{\"name\":\"MLBB Diamond - 250\",\"quantity\":1,\"amount\":58000}]")
	case len(f.Items) > maxItems:
		return nil, 0, false, codeErr(CodeInvalidItem, "items has %d entries; expected at most %d", len(f.Items), maxItems)
	}
	items = make([]store.Item, len(f.Items))
	sumOK = true
	for i, it := range f.Items {
		switch {
		case it.Bad != "":
			return nil, 0, false, codeErr(CodeInvalidItem, "items[%d] %s", i, it.Bad)
		case it.Name.Bad != "":
			return nil, 0, false, codeErr(CodeInvalidItem, "items[%d].name %s", i, it.Name.Bad)
		case strings.TrimSpace(it.Name.S) == "":
			return nil, 0, false, codeErr(CodeInvalidItem, "items[%d].name is missing or blank", i)
		case utf8.RuneCountInString(it.Name.S) > maxTextLen:
			return nil, 0, false, codeErr(CodeInvalidItem, "items[%d].name is %d characters long; expected at most %d", i, utf8.RuneCountInString(it.Name.S), maxTextLen)
		case it.Amount.Bad != "":
			return nil, 0, false, codeErr(CodeInvalidItem, "items[%d].amount %s", i, it.Amount.Bad)
		case !it.Amount.Set:
			return nil, 0, false, codeErr(CodeInvalidItem, "items[%d].amount is missing; expected the unit price in rupiah, e.g. 58000", i)
		case it.Amount.N <= 0 || it.Amount.N != math.Trunc(it.Amount.N):
			return nil, 0, false, codeErr(CodeInvalidItem, "items[%d].amount %s is not a positive whole number of rupiah", i, num(it.Amount.N))
		case it.Amount.N > maxSafeAmount:
			return nil, 0, false, codeErr(CodeInvalidItem, "items[%d].amount %s is above %s, the largest whole number a JavaScript Number holds exactly", i, num(it.Amount.N), num(maxSafeAmount))
		case it.Quantity.Bad != "":
			return nil, 0, false, codeErr(CodeInvalidQuantity, "items[%d].quantity %s", i, it.Quantity.Bad)
		case !it.Quantity.Set:
			return nil, 0, false, codeErr(CodeInvalidQuantity, "items[%d].quantity is missing; expected a whole number of at least 1", i)
		case it.Quantity.N < 1 || it.Quantity.N != math.Trunc(it.Quantity.N):
			return nil, 0, false, codeErr(CodeInvalidQuantity, "items[%d].quantity %s is not a whole number of at least 1", i, num(it.Quantity.N))
		case it.Quantity.N > maxSafeAmount:
			return nil, 0, false, codeErr(CodeInvalidQuantity, "items[%d].quantity %s is above %s, the largest whole number a JavaScript Number holds exactly", i, num(it.Quantity.N), num(maxSafeAmount))
		}
		items[i] = store.Item{Name: it.Name.S, Quantity: int64(it.Quantity.N), Amount: int64(it.Amount.N)}
		if sumOK {
			hi, line := bits.Mul64(uint64(items[i].Amount), uint64(items[i].Quantity))
			total, carry := bits.Add64(uint64(sum), line, 0)
			sumOK = hi == 0 && carry == 0 && total <= maxSafeAmount
			sum = int64(total)
		}
	}
	return items, sum, sumOK, nil
}

// num renders a number from a request for a message, without exponents.
func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// Bounds of the create body's free-text fields. [sandbox] BJPAY documents
// none; these hold any real order (a name, a product title, a URL) while
// keeping what one payment holds, and what each notify carries, to a few
// kilobytes: without them a 1 MiB customer name made every notify attempt
// keep a megabyte.
const (
	maxReferenceLen = 64   // referenceNumber, characters
	maxTextLen      = 255  // customerName and each item's name, characters
	maxURLLen       = 2048 // finishNotifyUrl and finishReturnUrl, bytes
	maxItems        = 100  // entries of items
)

// plainHTTPURL reports whether s is an http(s) URL of the plainest kind:
// a host of letters, digits, dots and hyphens, an optional port, then a
// path and query of unreserved characters and /?=&+. url.Parse takes
// every such URL as absolute, with its scheme and a host, so the checks
// of both URL fields pass it without parsing, which allocates; any other
// URL is parsed.
func plainHTTPURL(s string) bool {
	rest, ok := strings.CutPrefix(s, "https://")
	if !ok {
		if rest, ok = strings.CutPrefix(s, "http://"); !ok {
			return false
		}
	}
	host, path := rest, ""
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		host, path = rest[:i], rest[i:]
	}
	name, port, hasPort := strings.Cut(host, ":")
	if name == "" || hasPort && (port == "" || len(port) > 5) {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !alnum(c) && c != '.' && c != '-' {
			return false
		}
	}
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return false
		}
	}
	for i := 0; i < len(path); i++ {
		if c := path[i]; !alnum(c) && !strings.ContainsRune("-._~/?=&+", rune(c)) {
			return false
		}
	}
	return true
}

func alnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }

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

// checkRequestTime validates X-Request-Time against wall time.
func (s *Sandbox) checkRequestTime(v string) error {
	if v == "" {
		return codeErr(CodeInvalidRequestTime, "X-Request-Time header is missing; expected the current time as ISO 8601, e.g. 2024-09-20T20:32:36+07:00")
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return codeErr(CodeInvalidRequestTime, "X-Request-Time %q is not in BJPAY's format; expected YYYY-MM-DDTHH:mm:ss with a ±HH:MM offset or Z, e.g. 2024-09-20T20:32:36+07:00", v)
	}
	// [sandbox] BJPAY documents code 23 but no tolerance; default ±5m.
	now := s.wallNow()
	skew := s.settings.RequestTimeSkew
	// Compare before subtracting: Sub saturates for times centuries away.
	var off time.Duration
	dir := "ahead of"
	switch {
	case t.After(now.Add(skew)):
		off = t.Sub(now)
	case t.Before(now.Add(-skew)):
		off, dir = now.Sub(t), "behind"
	default:
		return nil
	}
	return codeErr(CodeInvalidRequestTime, "X-Request-Time %s is %s %s the sandbox's wall clock (%s); allowed skew is ±%s", v, off.Truncate(time.Second), dir, now.In(notify.WIB).Format(time.RFC3339), skew)
}
