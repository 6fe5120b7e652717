package scenarios

import (
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// testConfig is a small schema shaped like the sandbox's real configs. Name
// has no yaml tag on purpose: its key is "name", as in yaml.v3.
type testConfig struct {
	At      Positions `yaml:"-"`
	Name    string
	Timeout time.Duration     `yaml:"timeout"`
	Count   int               `yaml:"count"`
	Enabled bool              `yaml:"enabled"`
	Ratio   float64           `yaml:"ratio"`
	Items   []testItem        `yaml:"items"`
	Labels  map[string]string `yaml:"labels"`
	Child   *testItem         `yaml:"child"`
}

type testItem struct {
	At   Positions `yaml:"-"`
	Code string    `yaml:"code"`
	Min  int64     `yaml:"min"`
}

// testTree is recursive, so that an alias inside its own anchor can be
// followed more than once.
type testTree struct {
	Kids []testTree `yaml:"kids"`
}

// decode decodes src as file.yaml into a fresh testConfig.
func decode(t *testing.T, src string) (testConfig, error) {
	t.Helper()
	var c testConfig
	err := Decode("file.yaml", []byte(src), &c)
	return c, err
}

// errorText is the text users see for err, which Decode must return as an
// ErrorList; "" for nil.
func errorText(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Decode returned %T (%v), want an ErrorList", err, err)
	}
	return list.Error()
}

// withoutPositions returns c with every Positions cleared, so that values
// and positions can be compared apart.
func withoutPositions(c testConfig) testConfig {
	c.At = nil
	c.Items = append([]testItem(nil), c.Items...)
	for i := range c.Items {
		c.Items[i].At = nil
	}
	if c.Child != nil {
		child := *c.Child
		child.At = nil
		c.Child = &child
	}
	return c
}

const validDoc = `# A complete configuration.
name: checkout
timeout: 1m30s
count: 3
enabled: true
ratio: 0.25
items:
  - code: A1
    min: 10
  - code: B2
    min: -5
labels:
  team: payments
  tier: "1"
child:
  code: C3
`

func TestDecodeValid(t *testing.T) {
	got, err := decode(t, validDoc)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	want := testConfig{
		Name:    "checkout",
		Timeout: 90 * time.Second,
		Count:   3,
		Enabled: true,
		Ratio:   0.25,
		Items:   []testItem{{Code: "A1", Min: 10}, {Code: "B2", Min: -5}},
		Labels:  map[string]string{"team": "payments", "tier": "1"},
		Child:   &testItem{Code: "C3"},
	}
	if g := withoutPositions(got); !reflect.DeepEqual(g, want) {
		t.Errorf("values:\ngot  %+v\nwant %+v", g, want)
	}
	if got.Child == nil || len(got.Items) != 2 {
		t.Fatalf("got Child %v and %d items, want a child and 2 items", got.Child, len(got.Items))
	}

	for _, tc := range []struct {
		name string
		got  Pos
		want string
	}{
		{"mapping", got.At[""], "file.yaml:2:1"},
		{"name", got.At.Of("name"), "file.yaml:2:7"},
		{"timeout", got.At.Of("timeout"), "file.yaml:3:10"},
		{"ratio", got.At.Of("ratio"), "file.yaml:6:8"},
		{"items list", got.At.Of("items"), "file.yaml:8:3"},
		{"items list, second item", got.At.Of("items[1]"), "file.yaml:10:5"},
		{"labels mapping", got.At.Of("labels"), "file.yaml:13:3"},
		{"missing key falls back to the mapping", got.At.Of("nosuchkey"), "file.yaml:2:1"},
		{"items[0] mapping", got.Items[0].At[""], "file.yaml:8:5"},
		{"items[0].code", got.Items[0].At.Of("code"), "file.yaml:8:11"},
		{"items[1].min", got.Items[1].At.Of("min"), "file.yaml:11:10"},
		{"child.code", got.Child.At.Of("code"), "file.yaml:16:9"},
		{"child.min is missing", got.Child.At.Of("min"), "file.yaml:16:3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.got.String(); got != tc.want {
				t.Errorf("position = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestDecodeEmpty(t *testing.T) {
	const want = "file.yaml:1:1: file is empty; expected a YAML mapping"
	for _, tc := range []struct {
		name, src string
	}{
		{"no bytes", ""},
		{"blank lines", "  \n\n   \n"},
		{"comments only", "# nothing here yet\n\n  # still nothing\n"},
		{"document marker only", "---\n# nothing\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decode(t, tc.src)
			if got := errorText(t, err); got != want {
				t.Errorf("error:\ngot  %s\nwant %s", got, want)
			}
		})
	}
}

func TestDecodeAnchors(t *testing.T) {
	const src = `name: &name checkout
labels: &labels
  team: payments
items:
  - &base
    code: A1
    min: 10
  - *base
  - <<: *base
    code: B2
child:
  <<: [*base, {code: ignored, min: 99}]
  min: 5
`
	got, err := decode(t, src)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	want := testConfig{
		Name:   "checkout",
		Labels: map[string]string{"team": "payments"},
		Items: []testItem{
			{Code: "A1", Min: 10},
			{Code: "A1", Min: 10}, // the alias
			{Code: "B2", Min: 10}, // merged, code written over
		},
		// The first merged mapping wins over the second; the key written
		// in child wins over both.
		Child: &testItem{Code: "A1", Min: 5},
	}
	if g := withoutPositions(got); !reflect.DeepEqual(g, want) {
		t.Fatalf("values:\ngot  %+v\nwant %+v", g, want)
	}
	for _, tc := range []struct {
		name string
		got  Pos
		want string
	}{
		{"aliased mapping is where the alias is", got.Items[1].At[""], "file.yaml:8:5"},
		{"aliased mapping's keys are in the anchor", got.Items[1].At.Of("code"), "file.yaml:6:11"},
		{"merged key is in the anchor", got.Items[2].At.Of("min"), "file.yaml:7:10"},
		{"key written over a merged one", got.Items[2].At.Of("code"), "file.yaml:10:11"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.got.String(); got != tc.want {
				t.Errorf("position = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestDecodeAliasCycle(t *testing.T) {
	const src = "kids: &k\n  - kids: *k\n"
	const want = "file.yaml:2:11: kids[0].kids[0].kids: alias *k is used inside the value it names; expected an alias to a value defined before it"
	var tree testTree
	err := Decode("file.yaml", []byte(src), &tree)
	if got := errorText(t, err); got != want {
		t.Errorf("error:\ngot  %s\nwant %s", got, want)
	}
}

// TestDecodeAliasBomb checks that aliases that multiply ("billion laughs")
// end in an error instead of running for ever.
func TestDecodeAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("items:\n  - &a0 {code: x, min: 1}\n")
	for i := 1; i <= 9; i++ {
		b.WriteString("  - &a" + string(rune('0'+i)) + " {<<: [")
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]}\n")
	}
	_, err := decode(t, b.String())
	got := errorText(t, err)
	const want = "over the limit of 25000; expected fewer aliases"
	if n := strings.Count(got, want); n != 1 {
		t.Errorf("error:\n%s\nwant it to say once %q", got, want)
	}
}

// TestDecodeIntegers checks the integer forms yaml.v3 accepts, including a
// float with no fractional part.
func TestDecodeIntegers(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want int
	}{
		{"count: 42", 42},
		{"count: -7", -7},
		{"count: 0x10", 16},
		{"count: 1_000", 1000},
		{"count: 2.0", 2},
		{"count: 1e3", 1000},
	} {
		t.Run(tc.src, func(t *testing.T) {
			got, err := decode(t, tc.src)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got.Count != tc.want {
				t.Errorf("Count = %d, want %d", got.Count, tc.want)
			}
		})
	}
}

func TestDecodeNull(t *testing.T) {
	const src = `name: ~
timeout: null
count:
child: null
items: ~
labels:
`
	// Explicit nulls must clear what was there, not merely leave it.
	got := testConfig{
		Name:   "before",
		Count:  7,
		Items:  []testItem{{Code: "x"}},
		Labels: map[string]string{"a": "b"},
		Child:  &testItem{Code: "y"},
	}
	if err := Decode("file.yaml", []byte(src), &got); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if g := withoutPositions(got); !reflect.DeepEqual(g, testConfig{}) {
		t.Errorf("values:\ngot  %+v\nwant the zero testConfig", g)
	}
	if got, want := got.At.Of("count").String(), "file.yaml:3:7"; got != want {
		t.Errorf("position of count = %s, want %s", got, want)
	}
}

func TestDecodeBadTarget(t *testing.T) {
	var nilConfig *testConfig
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"nil", nil, "scenarios: Decode needs a non-nil pointer, got <nil>"},
		{"not a pointer", testConfig{}, "scenarios: Decode needs a non-nil pointer, got scenarios.testConfig"},
		{"nil pointer", nilConfig, "scenarios: Decode needs a non-nil pointer, got *scenarios.testConfig"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Decode("file.yaml", []byte(validDoc), tc.v)
			if err == nil {
				t.Fatalf("Decode returned nil, want %q", tc.want)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("error = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestDecodeConcurrent decodes one document from many goroutines, for the
// race detector's sake: struct field lists are cached package-wide.
func TestDecodeConcurrent(t *testing.T) {
	type fresh struct { // a type no other test has decoded into
		Name  string `yaml:"name"`
		Count int    `yaml:"count"`
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			var f fresh
			errs[i] = Decode("file.yaml", []byte("name: x\ncount: 2\n"), &f)
			if errs[i] == nil && (f != fresh{Name: "x", Count: 2}) {
				errs[i] = errors.New("decoded wrong values")
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("goroutine %d: %v", i, err)
		}
	}
}

// benchDoc is a realistic file of about fifty lines.
var benchDoc = func() string {
	var b strings.Builder
	b.WriteString("name: checkout\ntimeout: 1m30s\ncount: 3\nenabled: true\nratio: 0.25\n")
	b.WriteString("labels:\n  team: payments\n  tier: \"1\"\n  region: id-jkt\n")
	b.WriteString("child:\n  code: C3\n  min: 1\nitems:\n")
	for i := range 12 {
		b.WriteString("  - code: ITEM" + string(rune('A'+i)) + "\n")
		b.WriteString("    min: 1000\n")
		b.WriteString("    # a comment, as real files have\n")
	}
	return b.String()
}()

func BenchmarkDecode(b *testing.B) {
	data := []byte(benchDoc)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var c testConfig
		if err := Decode("bench.yaml", data, &c); err != nil {
			b.Fatal(err)
		}
	}
}
