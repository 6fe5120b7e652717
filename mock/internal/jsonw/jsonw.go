// Package jsonw appends JSON values to byte slices, for the hand-written
// encoders of the bodies on the sandbox's hot paths (a transaction in every
// create answer, a notify body in every attempt). Their output is byte for
// byte what encoding/json writes with HTML escaping off; each encoder's
// test holds it to that.
package jsonw

import (
	"bytes"
	"encoding/json"
	"time"
)

// AppendString appends s as a JSON string. Plain printable ASCII, all that
// merchants send nearly always, is copied as is; anything else goes through
// encoding/json (Quote), so its escaping rules apply unchanged.
func AppendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return append(b, Quote(s)...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// AppendTime appends t as time.Time's MarshalJSON does: RFC 3339 with
// nanoseconds as needed, for years 1 to 9999 (where the two agree).
func AppendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// Quote returns s as a JSON string, without HTML escaping.
func Quote(s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // cannot fail for a string
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
