package scenarios

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestLintGolden checks the exact text `scenarios lint` shows for files that
// break every validation rule: message and position of each problem, all of
// them at once, in file order. Run `go test ./scenarios -update` to rewrite
// the .golden files, then read the diff.
func TestLintGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "lint_*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/lint_*.yaml files")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			list, err := Parse(filepath.Base(file), data)
			if list != nil {
				t.Errorf("Parse returned %d scenarios with errors, want none", len(list))
			}
			got := errorText(t, err) + "\n"
			checkGolden(t, strings.TrimSuffix(file, ".yaml")+".golden", got)
		})
	}
}

// TestParseErrors covers the problems of a file as a whole, which the
// golden file, a valid list of scenarios, cannot show.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{
			"empty file",
			"# nothing yet\n",
			"s.yaml:1:1: file is empty; expected a YAML mapping",
		},
		{
			"no scenarios key",
			"{}\n",
			"s.yaml:1:1: scenarios: expected a list of at least one scenario, got none",
		},
		{
			"empty list",
			"scenarios: []\n",
			"s.yaml:1:12: scenarios: expected a list of at least one scenario, got none",
		},
		{
			// A null item decodes to a zero Scenario with no positions of
			// its own; it is reported where the item is.
			"null scenario",
			"scenarios:\n  - ~\n",
			"s.yaml:2:5: scenarios[0]: name is missing; expected a name such as \"paid-after-delay\"\n" +
				"s.yaml:2:5: scenarios[0]: no create, timeline or delivery, so the scenario would change nothing; expected at least one of them",
		},
		{
			// Decoding problems stop the file before validation: the values
			// are not trustworthy.
			"unknown key",
			"scenarios:\n  - name: a\n    timelime: []\n",
			`s.yaml:3:5: unknown key "timelime" in scenarios[0]; expected one of: name, description, match, create, timeline, delivery`,
		},
		{
			"list where a mapping belongs",
			"scenarios:\n  - name: a\n    match: {paymentCode: GOPAY}\n",
			`s.yaml:3:26: scenarios[0].match.paymentCode: expected a list, got "GOPAY"`,
		},
		{
			"duplicate name in one file",
			"scenarios:\n  - {name: a, create: {drop: true}}\n  - {name: a, create: {drop: true}}\n",
			`s.yaml:3:12: scenarios[1].name: "a" is already the name of the scenario at s.yaml:2; expected a name used once across all loaded files`,
		},
		{
			"amount min above max when both are negative is one problem each",
			"scenarios:\n  - name: a\n    match: {amount: {min: -1, max: -2}}\n    create: {drop: true}\n",
			"s.yaml:3:27: scenarios[0].match.amount.min: expected an amount of 0 or more, got -1\n" +
				"s.yaml:3:36: scenarios[0].match.amount.max: expected an amount of 0 or more, got -2",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("s.yaml", []byte(tc.src))
			if got := errorText(t, err); got != tc.want {
				t.Errorf("error:\ngot  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestValidateIsPure checks that validation reads the decoded values and
// changes nothing: defaults are a later step, so that what validation sees is
// what the file says.
func TestValidateIsPure(t *testing.T) {
	const name = "lint_errors.yaml"
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var before, after fileSchema
	if err := Decode(name, data, &before); err != nil {
		t.Fatal(err)
	}
	if err := Decode(name, data, &after); err != nil {
		t.Fatal(err)
	}
	var c checker
	c.file(&after, Pos{File: name, Line: 1, Col: 1})
	if len(c.errs) == 0 {
		t.Fatal("no problems found; the test needs a file with some")
	}
	if !reflect.DeepEqual(before, after) {
		t.Error("validation changed the scenarios it checked")
	}
}

func TestDuration(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"0s", "0s"},
		{"1m", "1m"},
		{"90s", "1m30s"},
		{"1h", "1h"},
		{"1h30m", "1h30m"},
		{"6h0m5s", "6h0m5s"},
		{"-1s", "-1s"},
		{"250ms", "250ms"},
	} {
		t.Run(tc.src, func(t *testing.T) {
			d, err := time.ParseDuration(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			if got := duration(d); got != tc.want {
				t.Errorf("duration(%s) = %q, want %q", tc.src, got, tc.want)
			}
		})
	}
}
