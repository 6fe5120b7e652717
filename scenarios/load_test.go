package scenarios

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	standard := []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 6 * time.Hour}
	for _, tc := range []struct {
		name     string
		delivery string // the YAML of delivery:, "" for none
		want     Delivery
	}{
		{
			"no delivery section",
			"",
			Delivery{Timeout: 10 * time.Second, Retries: standard, Variant: "valid"},
		},
		{
			"retries not written",
			"{timeout: 3s}",
			Delivery{Timeout: 3 * time.Second, Retries: standard, Variant: "valid"},
		},
		{
			"explicit [] means no retry",
			"{retries: []}",
			Delivery{Timeout: 10 * time.Second, Retries: []time.Duration{}, Variant: "valid"},
		},
		{
			"explicit null means no retry too: retries was written",
			"{retries: ~}",
			Delivery{Timeout: 10 * time.Second, Variant: "valid"},
		},
		{
			"everything written is kept",
			"{timeout: 1s, retries: [2s], delay: 3s, duplicates: 4, variant: wrong-key}",
			Delivery{Timeout: time.Second, Retries: []time.Duration{2 * time.Second}, Delay: 3 * time.Second, Duplicates: 4, Variant: "wrong-key"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := "scenarios:\n  - name: s\n    create: {latency: 1ms}\n"
			if tc.delivery != "" {
				src += "    delivery: " + tc.delivery + "\n"
			}
			got := parseOne(t, src).Delivery
			got.At = nil
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Delivery:\ngot  %+v\nwant %+v", got, tc.want)
			}
			if len(got.Retries) == 0 && len(tc.want.Retries) > 0 {
				t.Error("got no retries, want the default schedule")
			}
		})
	}

	if got, want := DefaultDelivery(), (Delivery{Timeout: 10 * time.Second, Retries: standard, Variant: "valid"}); !reflect.DeepEqual(got, want) {
		t.Errorf("DefaultDelivery() = %+v, want %+v", got, want)
	}
	// Every scenario owns its schedule: changing one leaves the others.
	a, b := DefaultDelivery(), DefaultDelivery()
	a.Retries[0] = time.Hour
	if b.Retries[0] != time.Minute {
		t.Error("two scenarios share one default retry schedule")
	}
}

func TestParseValues(t *testing.T) {
	s := parseOne(t, `scenarios:
  - name: full
    description: Every key.
    match:
      clientId: c
      paymentCode: [GOPAY, QRIS]
      reference: "^FULL-"
      amount: {min: 1000, max: 50000}
    create: {latency: 200ms}
    timeline:
      - {after: 2s, status: PAID}
      - {after: 3s, notify: EXPIRED}
    delivery: {timeout: 5s, retries: [1s], delay: 1s, duplicates: 1, variant: amount-changed}
`)
	want := Scenario{
		Name:        "full",
		Description: "Every key.",
		Match: Match{
			ClientID: "c", PaymentCode: []string{"GOPAY", "QRIS"}, Reference: "^FULL-",
			Amount: &AmountRange{Min: ptr(1000), Max: ptr(50000)},
		},
		Create: Create{Latency: 200 * time.Millisecond},
		Timeline: []Step{
			{After: 2 * time.Second, Status: "PAID"},
			{After: 3 * time.Second, Notify: "EXPIRED"},
		},
		Delivery: Delivery{Timeout: 5 * time.Second, Retries: []time.Duration{time.Second}, Delay: time.Second, Duplicates: 1, Variant: "amount-changed"},
		File:     "s.yaml",
	}
	if got := stripPositions(s); !reflect.DeepEqual(got, want) {
		t.Errorf("Parse:\ngot  %+v\nwant %+v", got, want)
	}
	if got, want := s.Timeline[1].At.Of("notify").String(), "s.yaml:12:29"; got != want {
		t.Errorf("position of timeline[1].notify = %s, want %s", got, want)
	}
}

// stripPositions returns s without its positions and compiled pattern, to
// compare values alone.
func stripPositions(s Scenario) Scenario {
	s.At, s.Match.At, s.Create.At, s.Delivery.At = nil, nil, nil, nil
	s.reference, s.prefix, s.hasPrefix = nil, "", false
	if s.Match.Amount != nil {
		a := *s.Match.Amount
		a.At = nil
		s.Match.Amount = &a
	}
	s.Timeline = slices.Clone(s.Timeline)
	for i := range s.Timeline {
		s.Timeline[i].At = nil
	}
	return s
}

// writeFiles creates files (name -> content) in a new directory and returns
// it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoad(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"b.yml":         "scenarios:\n  - name: b1\n    create: {drop: true}\n",
		"a.yaml":        "scenarios:\n  - name: a1\n    create: {drop: true}\n  - name: a2\n    create: {drop: true}\n",
		"notes.txt":     "not a scenario file",
		"sub/c.yaml":    "scenarios:\n  - name: c1\n    create: {drop: true}\n",
		"extra/x.other": "scenarios:\n  - name: x1\n    create: {drop: true}\n",
	})
	for _, tc := range []struct {
		name  string
		paths []string
		want  []string // name@file
	}{
		{"nothing", nil, nil},
		{
			"a directory: its yaml and yml files in name order, not recursive",
			[]string{dir},
			[]string{"a1@a.yaml", "a2@a.yaml", "b1@b.yml"},
		},
		{
			"files in the order given; any extension when named",
			[]string{filepath.Join(dir, "extra/x.other"), filepath.Join(dir, "b.yml")},
			[]string{"x1@extra/x.other", "b1@b.yml"},
		},
		{
			"a file named twice is loaded once",
			[]string{filepath.Join(dir, "b.yml"), dir},
			[]string{"b1@b.yml", "a1@a.yaml", "a2@a.yaml"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			list, err := Load(tc.paths...)
			if err != nil {
				t.Fatalf("Load:\n%v", err)
			}
			var got []string
			for _, s := range list {
				rel, _ := filepath.Rel(dir, s.File)
				got = append(got, s.Name+"@"+filepath.ToSlash(rel))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Load:\ngot  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"one/a.yaml": "scenarios:\n  - name: same\n    create: {drop: true}\n",
		"one/b.yaml": "# a comment first\nscenarios:\n  - name: other\n    create: {drop: true}\n  - name: same\n    create: {drop: true}\n",
		"bad/a.yaml": "scenarios:\n  - name: Bad\n    create: {drop: true}\n",
		"bad/b.yaml": "scenarios:\n  - name: fine\n    create: {status: 404}\n",
		"empty/x.md": "# no scenarios here",
	})
	in := func(p string) string { return filepath.Join(dir, p) }
	for _, tc := range []struct {
		name  string
		paths []string
		want  string // with DIR for dir
	}{
		{
			"duplicate name across files, reported at the second with where the first is",
			[]string{in("one")},
			`DIR/one/b.yaml:5:11: scenarios[1].name: "same" is already the name of the scenario at DIR/one/a.yaml:2; expected a name used once across all loaded files`,
		},
		{
			"every problem of every file at once",
			[]string{in("bad"), in("one")},
			`DIR/bad/a.yaml:2:11: scenarios[0].name: expected lower-case letters, digits and dashes, starting with a letter or digit (such as "paid-after-delay"), got "Bad"` + "\n" +
				`DIR/bad/b.yaml:3:22: scenarios[0].create.status: expected an HTTP status from 500 to 599, got 404; for a documented BJPAY error use error: instead` + "\n" +
				`DIR/one/b.yaml:5:11: scenarios[1].name: "same" is already the name of the scenario at DIR/one/a.yaml:2; expected a name used once across all loaded files`,
		},
		{
			"a path that does not exist is named",
			[]string{in("one/a.yaml"), in("missing.yaml")},
			"DIR/missing.yaml: cannot read: no such file or directory; expected a scenario file or a directory of them",
		},
		{
			"a path below a file",
			[]string{in("one/a.yaml/x.yaml")},
			"DIR/one/a.yaml/x.yaml: cannot read: not a directory; expected a scenario file or a directory of them",
		},
		{
			"a directory without scenario files",
			[]string{in("empty")},
			"DIR/empty: directory holds no .yaml or .yml files; expected scenario files directly inside it",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			list, err := Load(tc.paths...)
			if list != nil {
				t.Errorf("Load returned %d scenarios with errors, want none", len(list))
			}
			got := strings.ReplaceAll(errorText(t, err), dir, "DIR")
			if got != tc.want {
				t.Errorf("error:\ngot\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestLoadUnreadableEntry covers a directory entry that looks like a
// scenario file but cannot be read as one: a link to a directory. Unlike a
// file without read permission, that fails for root too.
func TestLoadUnreadableEntry(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a.yaml": "scenarios:\n  - name: a\n    create: {drop: true}\n"})
	if err := os.Symlink(t.TempDir(), filepath.Join(dir, "b.yaml")); err != nil {
		t.Skipf("cannot make a symbolic link here: %v", err)
	}
	_, err := Load(dir)
	want := filepath.Join(dir, "b.yaml") + ": cannot read: is a directory; expected a scenario file or a directory of them"
	if got := errorText(t, err); got != want {
		t.Errorf("error:\ngot  %s\nwant %s", got, want)
	}
}

func TestLoadUnreadableFile(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads files whatever their mode")
	}
	dir := writeFiles(t, map[string]string{"locked.yaml": "scenarios: []\n"})
	path := filepath.Join(dir, "locked.yaml")
	if err := os.Chmod(path, 0); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir)
	want := path + ": cannot read: permission denied; expected a scenario file or a directory of them"
	if got := errorText(t, err); got != want {
		t.Errorf("error:\ngot  %s\nwant %s", got, want)
	}
}
