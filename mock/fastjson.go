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
func fastDecodeCreate(body []byte) (req createRequest, ok bool) {
	d := fastDecoder{b: body}
	d.ws()
	if !d.object(func(key []byte) bool {
		switch string(key) {
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
func (req *createRequest) stringField(key []byte) *jsonString {
	switch string(key) {
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

type fastDecoder struct {
	b []byte
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
func (d *fastDecoder) object(value func(key []byte) bool) bool {
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
// valid UTF-8, and returns its bytes.
func (d *fastDecoder) rawString() ([]byte, bool) {
	if !d.next('"') {
		return nil, false
	}
	start := d.i
	for ; d.i < len(d.b); d.i++ {
		switch c := d.b[d.i]; {
		case c == '"':
			s := d.b[start:d.i]
			d.i++
			return s, utf8.Valid(s)
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

func (d *fastDecoder) null() bool {
	if len(d.b)-d.i >= 4 && string(d.b[d.i:d.i+4]) == "null" {
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
	*f = jsonString{S: string(s), Set: true}
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
	n, err := strconv.ParseFloat(string(d.b[start:d.i]), 64)
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
		if !d.object(func(key []byte) bool {
			switch string(key) {
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
