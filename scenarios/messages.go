package scenarios

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// The texts users see, kept together so that they read alike: each says what
// was found and what a valid file has instead. Decode prefixes a message about
// a value with the value's path (items[1].min: ...); key messages name the
// mapping with "in <path>".
const (
	msgEmptyFile      = "file is empty; expected a YAML mapping"
	msgSecondDocument = "a second YAML document starts here; expected exactly one document in the file"
	msgWrongType      = "expected %s, got %s"
	msgAliasCycle     = "alias *%s is used inside the value it names; expected an alias to a value defined before it"
	msgBadMerge       = "the merge key << expects a mapping or a list of mappings, got %s"
	msgSyntax         = "invalid YAML: "

	msgFileTooBig = "file is %d bytes, over the limit of %d bytes (256 KiB) for a scenario file, which falls here; expected a smaller file, such as these scenarios split across files"
	msgAliasText  = "alias *%s brings the text aliases add to the document to %d bytes, over the limit of %d (1 MiB); expected fewer aliases of long values"
	msgAliasNodes = "alias *%s brings the values aliases add to the document over the limit of %d; expected fewer aliases, or aliases of aliases nested less deep"
)

func unknownKeyMsg(key, path string, names []string) string {
	if len(names) == 0 {
		return fmt.Sprintf("unknown key %q%s; expected no keys here", key, in(path))
	}
	return fmt.Sprintf("unknown key %q%s; expected one of: %s", key, in(path), strings.Join(names, ", "))
}

func duplicateKeyMsg(key, path string, firstLine int) string {
	return fmt.Sprintf("duplicate key %q%s (first set on line %d)", key, in(path), firstLine)
}

func keyNotScalarMsg(path, got string) string {
	return fmt.Sprintf("expected a key name%s, got %s", in(path), got)
}

func in(path string) string {
	if path == "" {
		return ""
	}
	return " in " + path
}

// describe says what a node holds, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "the alias *" + n.Value
	}
	switch n.Tag {
	case "!!null":
		return "null"
	case "!!int", "!!float":
		return "the number " + n.Value
	case "!!bool":
		return "the boolean " + n.Value
	}
	return quote(n.Value)
}

// quote quotes s, cut short so that one long or multi-line value does not
// swamp the message.
func quote(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) <= max {
		return strconv.Quote(s)
	}
	r := []rune(s)
	return strconv.Quote(string(r[:max])) + "..."
}

// expected says what a field of type t takes. n is what the file held; an
// integer too big for t gets t's range, since "expected an integer" would be
// no help there.
func expected(t reflect.Type, n *yaml.Node) string {
	switch t {
	case durationType:
		return `a duration such as "90s", "5m" or "24h"`
	case timeType:
		return "an RFC 3339 time such as 2024-06-23T13:00:48+07:00"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if whole(n) {
			bits := t.Bits()
			return fmt.Sprintf("an integer between %d and %d", int64(-1)<<(bits-1), int64(1)<<(bits-1)-1)
		}
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if whole(n) && !strings.HasPrefix(n.Value, "-") {
			return fmt.Sprintf("an integer between 0 and %d", uint64(1)<<t.Bits()-1)
		}
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	}
	return t.String()
}

// whole reports whether n is a number with no fractional part.
func whole(n *yaml.Node) bool {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		return true
	}
	_, ok := wholeFloat(n)
	return ok
}

// wholeFloat returns the value of a !!float node that has no fractional
// part, such as 2.0 or 1e3.
func wholeFloat(n *yaml.Node) (float64, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!float" {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
	return f, err == nil && f == math.Trunc(f) && !math.IsInf(f, 0)
}

// hint adds how to fix a near miss: a duration written as a bare number.
func hint(t reflect.Type, n *yaml.Node) string {
	if t == durationType && (n.Tag == "!!int" || n.Tag == "!!float") {
		return fmt.Sprintf(`; add a unit, e.g. "%ss"`, n.Value)
	}
	return ""
}

var (
	// lineRE finds the line number yaml.v3 puts in its syntax errors
	// ("yaml: line 3: ...").
	lineRE = regexp.MustCompile(`^yaml: line (\d+): `)
	// anchorRE matches the one syntax error yaml.v3 gives no line for at all.
	anchorRE = regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced$`)
)

// syntaxError turns a yaml.v3 parse error into an Error. Only the line is
// known, and it is the line yaml.v3 reports.
func syntaxError(file string, data []byte, err error) *Error {
	msg := err.Error()
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{Pos: Pos{File: file, Line: line}, Msg: msgSyntax + msg[len(m[0]):]}
	}
	if m := anchorRE.FindStringSubmatch(msg); m != nil {
		return &Error{
			Pos: findAlias(file, data, m[1]),
			Msg: fmt.Sprintf("%salias *%s refers to no anchor; expected &%s on a value before it", msgSyntax, m[1], m[1]),
		}
	}
	// yaml.v3 leaves "line N: " out exactly when the problem is on the first
	// line.
	return &Error{Pos: Pos{File: file, Line: 1}, Msg: msgSyntax + strings.TrimPrefix(msg, "yaml: ")}
}

// findAlias finds the first "*name" in data that is a whole alias, for the
// position of an alias whose anchor is missing; line 1 if none is (a file
// yaml.v3 read as UTF-16, say).
func findAlias(file string, data []byte, name string) Pos {
	ref := []byte("*" + name)
	for off := 0; ; {
		i := bytes.Index(data[off:], ref)
		if i < 0 {
			return Pos{File: file, Line: 1}
		}
		i += off
		end := i + len(ref)
		// The name ends where yaml.v3's does: at the first byte that
		// cannot be in one, such as the ':' of "*a: x".
		if end == len(data) || !isAnchorByte(data[end]) {
			before := data[:i]
			lineStart := bytes.LastIndexByte(before, '\n') + 1
			return Pos{
				File: file,
				Line: bytes.Count(before, []byte("\n")) + 1,
				Col:  utf8.RuneCount(before[lineStart:]) + 1,
			}
		}
		off = end
	}
}

// isAnchorByte reports whether c may be part of an anchor or alias name, as
// yaml.v3 reads them.
func isAnchorByte(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || c == '_' || c == '-'
}
