package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// fuzzSeeds are the scenario files in the repository, valid and broken,
// then inputs that have tripped YAML loaders before.
func fuzzSeeds(t testing.TB) [][]byte {
	t.Helper()
	files := []string{"examples.yaml", "bench.yaml", "library/defaults.yaml"}
	broken, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var seeds [][]byte
	for _, file := range append(files, broken...) {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, data)
	}
	var bomb strings.Builder // "billion laughs", as in TestDecodeAliasBomb
	bomb.WriteString("scenarios:\n  - &a0 {name: x, timeline: [{after: 0s, status: PAID}]}\n")
	for i := 1; i <= 9; i++ {
		bomb.WriteString("  - &a" + strconv.Itoa(i) + " {<<: [" + strings.Repeat("*a"+strconv.Itoa(i-1)+", ", 9) + "*a" + strconv.Itoa(i-1) + "]}\n")
	}
	for _, s := range []string{
		"",
		"---",
		"--- ~",
		"\ufeffscenarios: []",
		"scenarios:\n  - name: a\n    timeline: [{after: 0s, status: PAID}]\n---\nscenarios: []\n",
		"scenarios: &s\n  - name: a\n    match: *s\n",
		"scenarios:\n  - name: x\n    match: {reference: \"^\\uFFFD\"}\n    timeline: [{after: 0s, status: PAID}]\n",
		"scenarios:\n  - name: x\n    match: {reference: \"^PAID-(?i)\"}\n    timeline: [{after: 0s, status: PAID}]\n",
		"scenarios:\n  - name: x\n    match: {reference: \"(?i)^paid-\"}\n    timeline: [{after: 0s, status: PAID}]\n",
		"scenarios:\n  - name: x\n    match: {reference: \"^P$\"}\n    timeline: [{after: 0s, status: PAID}]\n",
		"scenarios:\n  - name: x\n    match: {reference: \"^$\", amount: {min: -9223372036854775808, max: 9223372036854775807}}\n    timeline: [{after: 0s, status: PAID}]\n",
		"scenarios:\n  - name: x\n    match: {amount: {min: 9223372036854775808}}\n",
		"scenarios:\n  - name: x\n    timeline: [{after: 1e400s, status: PAID}]\n",
		"scenarios:\n  - name: x\n    delivery: {retries: [-1s, 0s, 2562047h47m16.854775807s]}\n",
		"scenarios:\n\t- name: x\n",
		"scenarios:\r  - name: x\r    timeline: [{after: 0s, status: PAID}]\r",
		"scenarios:\u2028  - name: x\u0085",
		"scenarios: [{name: x, timeline: [{after: 0s, status: PAID}], <<: {name: y}}]",
		"scenarios: [*unknown]",
		"scenarios: [{name: \"a\\nb\"}]",
		"scenarios:\n  - name: x\n    description: \"\\x00\\xff\"\n",
		"!!binary scenarios: []",
		"? [a, b]\n: c\n",
		"{scenarios: [{name: x, create: {status: 503, drop: true}}]}",
		bomb.String(),
	} {
		seeds = append(seeds, []byte(s))
	}
	return seeds
}

// FuzzParse: Parse never panics. It returns either scenarios or an
// ErrorList whose every entry is a one-line message at a position of the
// file (file:line:col; a syntax error may know only the line), sorted.
// Scenarios, when it returns them, come out the same from a second parse,
// and a payment matches each of them the same whichever way it is
// matched: through the literal-prefix shortcut, the compiled pattern, or
// a pattern compiled on the fly as for a Scenario built in Go.
func FuzzParse(f *testing.F) {
	for i, data := range fuzzSeeds(f) {
		refs := []string{"PAID-1", "SLOWPAY-2", "BENCH-1-1", "paid-3", "\xff", "\ufffd-x", ""}
		codes := []string{"GOPAY", "QRIS", "VA-BNI", ""}
		f.Add(data, refs[i%len(refs)], codes[i%len(codes)], "2f9d6a0e-4c1b-4e8a-9b7d-5a3c1e0f8b21", int64(5000000*(i%3)))
	}
	const file = "fuzz.yaml"
	f.Fuzz(func(t *testing.T, data []byte, ref, code, clientID string, amount int64) {
		list, err := Parse(file, data)
		if err != nil {
			checkErrorList(t, file, data, err)
			if list != nil {
				t.Fatalf("Parse returned both scenarios and an error: %v", err)
			}
			return
		}
		again, err := Parse(file, data)
		if err != nil {
			t.Fatalf("the second parse failed where the first did not: %v", err)
		}
		if !reflect.DeepEqual(withoutRegexps(list), withoutRegexps(again)) {
			t.Fatalf("two parses differ:\n%+v\n%+v", list, again)
		}
		p := Payment{ClientID: clientID, PaymentCode: code, ReferenceNumber: ref, Amount: amount}
		for i := range list {
			s := &list[i]
			if s.File != file {
				t.Errorf("scenario %q has File %q, want %q", s.Name, s.File, file)
			}
			got := s.Matches(p)
			if again[i].Matches(p) != got {
				t.Fatalf("scenario %q matches %+v in one parse and not in the other", s.Name, p)
			}
			if s.hasPrefix && strings.HasPrefix(ref, s.prefix) != s.reference.MatchString(ref) {
				t.Fatalf("scenario %q: reference %q: the prefix shortcut %q says %v, the pattern %q says %v",
					s.Name, ref, s.prefix, strings.HasPrefix(ref, s.prefix), s.Match.Reference, s.reference.MatchString(ref))
			}
			inGo := *s
			inGo.reference, inGo.prefix, inGo.hasPrefix = nil, "", false
			if inGo.Matches(p) != got {
				t.Fatalf("scenario %q: matching %+v gives %v parsed and %v built in Go", s.Name, p, got, !got)
			}
		}
		if a, b := Select(list, p), Select(again, p); (a == nil) != (b == nil) || a != nil && a.Name != b.Name {
			t.Fatalf("Select picks differently in two parses: %v, %v", a, b)
		}
	})
}

// withoutRegexps returns copies of list with the compiled patterns
// replaced by their source, which is what they are compiled from.
func withoutRegexps(list []Scenario) []Scenario {
	out := make([]Scenario, len(list))
	for i, s := range list {
		if s.reference != nil && s.reference.String() != s.Match.Reference {
			s.Match.Reference += " (compiled from another pattern: " + s.reference.String() + ")"
		}
		s.reference = nil
		out[i] = s
	}
	return out
}

// checkErrorList fails unless err is a non-empty, sorted ErrorList of
// one-line messages at positions inside data, in file.
func checkErrorList(t *testing.T, file string, data []byte, err error) {
	t.Helper()
	var list ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		t.Fatalf("error is %T, not a non-empty ErrorList: %v", err, err)
	}
	// An upper bound on the lines YAML sees: \r, \n, \r\n, NEL, LS and PS
	// all break lines.
	lines := 1 + strings.Count(string(data), "\n") + strings.Count(string(data), "\r") +
		strings.Count(string(data), "\u0085") + strings.Count(string(data), "\u2028") + strings.Count(string(data), "\u2029")
	for i, e := range list {
		p := e.Pos
		switch {
		case p.File != file:
			t.Fatalf("error %q names file %q, want %q", e, p.File, file)
		case p.Line < 1 || p.Line > lines:
			t.Fatalf("error %q is at line %d; the file has %d lines", e, p.Line, lines)
		case p.Col < 1 && !strings.HasPrefix(e.Msg, msgSyntax):
			t.Fatalf("error %q has no column", e)
		case strings.ContainsAny(e.Msg, "\r\n"):
			t.Fatalf("error %q is on more than one line: only its first would carry a position", e)
		case i > 0 && lessPos(p, list[i-1].Pos):
			t.Fatalf("errors out of order: %q before %q", list[i-1], e)
		}
		want := file + ":" + strconv.Itoa(p.Line)
		if p.Col > 0 {
			want += ":" + strconv.Itoa(p.Col)
		}
		if !strings.HasPrefix(e.Error(), want+": ") {
			t.Fatalf("error %q does not start with %s", e, want)
		}
	}
}

func lessPos(a, b Pos) bool {
	if a.Line != b.Line {
		return a.Line < b.Line
	}
	return a.Col < b.Col
}
