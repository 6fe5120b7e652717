package mock

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// The create body is decoded into these tolerant field types instead of
// plain strings and numbers. A plain field with the wrong JSON type makes
// encoding/json stop with one error for the whole body; these record the
// problem in the field and let decoding go on, so the validator can report
// the documented code of the first field in BJPAY's order (a number for
// customerEmail is code 16, a string for totalAmount is code 12).
//
// Each UnmarshalJSON starts from the zero value, so a duplicated key keeps
// only its last value, as encoding/json and JavaScript's JSON.parse do.

// jsonString is a JSON string field.
type jsonString struct {
	S   string
	Set bool   // present and not null
	Bad string // when the value was not a string: what is wrong, e.g. `must be a string, got the number 7`
}

func (f *jsonString) UnmarshalJSON(data []byte) error {
	*f = jsonString{}
	switch {
	case string(data) == "null":
		return nil
	case data[0] != '"':
		f.Set, f.Bad = true, "must be a string, got "+describeJSON(data)
		return nil
	}
	f.Set = true
	// Fast path: no escapes and valid UTF-8, the bytes between the quotes are the string.
	if inner := data[1 : len(data)-1]; bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		f.S = string(inner)
		return nil
	}
	return json.Unmarshal(data, &f.S)
}

// jsonNumber is a JSON number field.
type jsonNumber struct {
	N   float64
	Set bool
	Bad string // when the value was not a usable number: what is wrong
}

func (f *jsonNumber) UnmarshalJSON(data []byte) error {
	*f = jsonNumber{}
	if string(data) == "null" {
		return nil
	}
	f.Set = true
	if c := data[0]; c != '-' && (c < '0' || c > '9') {
		f.Bad = "must be a JSON number, got " + describeJSON(data)
		return nil
	}
	n, err := strconv.ParseFloat(string(data), 64)
	if err != nil {
		f.Bad = "is " + string(data) + ", beyond what a JavaScript Number can hold"
		return nil
	}
	f.N = n
	return nil
}

// jsonItems is the items array; each element is checked on its own.
type jsonItems struct {
	Items []jsonItem
	Bad   string
}

func (f *jsonItems) UnmarshalJSON(data []byte) error {
	*f = jsonItems{}
	switch {
	case string(data) == "null":
		return nil
	case data[0] != '[':
		f.Bad = "must be an array, got " + describeJSON(data)
		return nil
	}
	return json.Unmarshal(data, &f.Items)
}

type jsonItem struct {
	Name     jsonString `json:"name"`
	Quantity jsonNumber `json:"quantity"`
	Amount   jsonNumber `json:"amount"`
	Bad      string     `json:"-"` // when the element was not an object
}

func (f *jsonItem) UnmarshalJSON(data []byte) error {
	*f = jsonItem{}
	if data[0] != '{' {
		f.Bad = "must be an object, got " + describeJSON(data)
		return nil
	}
	type plain jsonItem // without this method, to avoid recursion
	return json.Unmarshal(data, (*plain)(f))
}

// describeJSON names a JSON value for "must be X, got Y" messages, quoting
// short values so the merchant recognises what they sent.
func describeJSON(data []byte) string {
	const max = 40
	v := string(data)
	if len(v) > max {
		v = v[:max] + "…"
	}
	switch data[0] {
	case '"':
		return "the string " + v
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "the boolean " + v
	case 'n':
		return "null"
	}
	return "the number " + v
}
