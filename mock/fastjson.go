package mock

import (
	"strconv"
	"unicode/utf8"
)

// fastDecodeCreate decodes the create bodies merchants send nearly always
// (known field names spelt exactly, strings without escapes, numbers,
// nulls, items as objects) in one pass without reflection, and reports
// whether it could. For anything else it gives up, and decodeCreate uses
// encoding/json, whose answers and messages stay the reference:
// FuzzFastDecodeCreate checks that both agree wherever this one decodes.
//
// The body is copied into one string, and every string field is a slice
// of it: one allocation for all of them, instead of one each.
func fastDecodeCreate(body []byte) (req createRequest, ok bool) {
	d := fastDecoder{b: string(body)}
	d.ws()
	if !d.object(func(key string) bool {
		switch key {
		case "items":
			return d.items(&req.Items)
		case "totalAmount":
			return d.num(&req.TotalAmount)
		}
		if f := req.stringField(key); f != nil {
			return d.str(f)
		}
		return false
	}) {
		return createRequest{}, false
	}
	d.ws()
	return req, d.i == len(d.b)
}

// stringField names createRequest's string fields by their JSON keys.
func (req *createRequest) stringField(key string) *jsonString {
	switch key {
	case "paymentCode":
		return &req.PaymentCode
	case "referenceNumber":
		return &req.ReferenceNumber
	case "customerName":
		return &req.CustomerName
	case "customerEmail":
		return &req.CustomerEmail
	case "customerPhoneNumber":
		return &req.CustomerPhoneNumber
	case "finishNotifyUrl":
		return &req.FinishNotifyURL
	case "finishReturnUrl":
		return &req.FinishReturnURL
	case "expiredAt":
		return &req.ExpiredAt
	case "currency":
		return &req.Currency
	}
	return nil
}

// fastDecoder reads a copy of the body: the strings it returns are
// slices of b, which nothing else holds or changes.
type fastDecoder struct {
	b string
	i int
}

func (d *fastDecoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\r', '\n':
			d.i++
		default:
			return
		}
	}
}

func (d *fastDecoder) next(c byte) bool {
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// object reads {"key": value, ...}; value reads each value after its colon.
func (d *fastDecoder) object(value func(key string) bool) bool {
	if !d.next('{') {
		return false
	}
	d.ws()
	if d.next('}') {
		return true
	}
	for {
		key, ok := d.rawString()
		if !ok {
			return false
		}
		d.ws()
		if !d.next(':') {
			return false
		}
		d.ws()
		if !value(key) {
			return false
		}
		d.ws()
		if d.next('}') {
			return true
		}
		if !d.next(',') {
			return false
		}
		d.ws()
	}
}

// rawString reads a string without escapes or control characters, in
// valid UTF-8, and returns it.
func (d *fastDecoder) rawString() (string, bool) {
	if !d.next('"') {
		return "", false
	}
	start := d.i
	for ; d.i < len(d.b); d.i++ {
		switch c := d.b[d.i]; {
		case c == '"':
			s := d.b[start:d.i]
			d.i++
			return s, utf8.ValidString(s)
		case c == '\\' || c < 0x20:
			return "", false
		}
	}
	return "", false
}

func (d *fastDecoder) null() bool {
	if len(d.b)-d.i >= 4 && d.b[d.i:d.i+4] == "null" {
		d.i += 4
		return true
	}
	return false
}

// str reads a string or null into f, as jsonString.UnmarshalJSON would.
func (d *fastDecoder) str(f *jsonString) bool {
	if d.null() {
		*f = jsonString{}
		return true
	}
	s, ok := d.rawString()
	*f = jsonString{S: s, Set: true}
	return ok
}

// num reads a number or null into f, as jsonNumber.UnmarshalJSON would.
func (d *fastDecoder) num(f *jsonNumber) bool {
	if d.null() {
		*f = jsonNumber{}
		return true
	}
	start := d.i
	d.next('-')
	switch {
	case d.next('0'):
	case d.i < len(d.b) && d.b[d.i] >= '1' && d.b[d.i] <= '9':
		d.digits()
	default:
		return false
	}
	if d.next('.') && !d.digits() {
		return false
	}
	if d.next('e') || d.next('E') {
		_ = d.next('+') || d.next('-')
		if !d.digits() {
			return false
		}
	}
	n, err := strconv.ParseFloat(d.b[start:d.i], 64)
	*f = jsonNumber{N: n, Set: true}
	return err == nil // out of range: encoding/json's path words the message
}

// digits reads one or more digits.
func (d *fastDecoder) digits() bool {
	start := d.i
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	return d.i > start
}

// items reads the items array (or null) into f.
func (d *fastDecoder) items(f *jsonItems) bool {
	*f = jsonItems{}
	if d.null() {
		return true
	}
	if !d.next('[') {
		return false
	}
	d.ws()
	if d.next(']') {
		f.Items = []jsonItem{}
		return true
	}
	for {
		var it jsonItem
		if !d.object(func(key string) bool {
			switch key {
			case "name":
				return d.str(&it.Name)
			case "quantity":
				return d.num(&it.Quantity)
			case "amount":
				return d.num(&it.Amount)
			}
			return false
		}) {
			return false
		}
		f.Items = append(f.Items, it)
		d.ws()
		if d.next(']') {
			return true
		}
		if !d.next(',') {
			return false
		}
		d.ws()
	}
}
