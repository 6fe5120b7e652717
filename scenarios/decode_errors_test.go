package scenarios

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// TestDecodeErrors checks the exact message of each kind of problem, on its
// own.
func TestDecodeErrors(t *testing.T) {
	long := strings.Repeat("abcdefghij", 5)
	for _, tc := range []struct {
		name, src, want string
	}{
		// Syntax: only the line is known, and it is the one yaml.v3 gives.
		{
			"syntax error",
			"name: x\ncount: 1\nenabled: a: b\n",
			"file.yaml:3: invalid YAML: mapping values are not allowed in this context",
		},
		{
			// yaml.v3 leaves the line out for the first line.
			"syntax error on the first line",
			"name: a: b\n",
			"file.yaml:1: invalid YAML: mapping values are not allowed in this context",
		},
		{
			// yaml.v3 gives no position at all; Decode finds the alias.
			"alias to no anchor",
			"name: x\ncount: *nope\n",
			"file.yaml:2:8: invalid YAML: alias *nope refers to no anchor; expected &nope on a value before it",
		},
		{
			// The alias ends at the ':'; found by FuzzParse, which got a
			// position without a line.
			"alias to no anchor as a key",
			"name: x\n*nope: 1\n",
			"file.yaml:2:1: invalid YAML: alias *nope refers to no anchor; expected &nope on a value before it",
		},
		{
			"second document",
			"name: x\n---\nname: y\n",
			"file.yaml:2:1: a second YAML document starts here; expected exactly one document in the file",
		},
		{
			"second document is not YAML",
			"name: x\n---\nname: [\n",
			"file.yaml:3: invalid YAML: did not find expected node content",
		},

		// Keys.
		{
			"unknown key",
			"name: x\nnmae: y\n",
			`file.yaml:2:1: unknown key "nmae"; expected one of: name, timeout, count, enabled, ratio, items, labels, child`,
		},
		{
			"unknown key in a list item",
			"items:\n  - code: a\n    max: 3\n",
			`file.yaml:3:5: unknown key "max" in items[0]; expected one of: code, min`,
		},
		{
			"duplicate key",
			"count: 1\nname: x\ncount: 2\n",
			`file.yaml:3:1: duplicate key "count" (first set on line 1)`,
		},
		{
			"duplicate key in a nested mapping",
			"child:\n  code: a\n  code: b\n",
			`file.yaml:3:3: duplicate key "code" in child (first set on line 2)`,
		},
		{
			"duplicate key in a map",
			"labels:\n  team: a\n  team: b\n",
			`file.yaml:3:3: duplicate key "team" in labels (first set on line 2)`,
		},
		{
			"list as a key",
			"labels: {[a]: b}\n",
			"file.yaml:1:10: expected a key name in labels, got a list",
		},

		// Types.
		{
			"quoted string for int",
			"count: \"5\"\n",
			`file.yaml:1:8: count: expected an integer, got "5"`,
		},
		{
			"word for int",
			"count: many\n",
			`file.yaml:1:8: count: expected an integer, got "many"`,
		},
		{
			"fraction for int",
			"items:\n  - code: a\n  - code: b\n    min: 1.5\n",
			"file.yaml:4:10: items[1].min: expected an integer, got the number 1.5",
		},
		{
			"negative fraction for int",
			"items:\n  - code: a\n    min: 2.0\n  - code: b\n    min: -0.5\n",
			"file.yaml:5:10: items[1].min: expected an integer, got the number -0.5",
		},
		{
			"int too big",
			"count: 9223372036854775808\n",
			"file.yaml:1:8: count: expected an integer between -9223372036854775808 and 9223372036854775807, got the number 9223372036854775808",
		},
		{
			// yaml.v3 alone would store this as a negative number.
			"float too big for int",
			"count: 1e19\n",
			"file.yaml:1:8: count: expected an integer between -9223372036854775808 and 9223372036854775807, got the number 1e19",
		},
		{
			"mapping for string",
			"name: {first: a}\n",
			"file.yaml:1:7: name: expected a string, got a mapping",
		},
		{
			"list for mapping",
			"child: [a, b]\n",
			"file.yaml:1:8: child: expected a mapping, got a list",
		},
		{
			"list for map",
			"labels: [a]\n",
			"file.yaml:1:9: labels: expected a mapping, got a list",
		},
		{
			"scalar for list",
			"items: A1\n",
			`file.yaml:1:8: items: expected a list, got "A1"`,
		},
		{
			"scalar for list item",
			"items:\n  - A1\n",
			`file.yaml:2:5: items[0]: expected a mapping, got "A1"`,
		},
		{
			"word for duration",
			"timeout: abc\n",
			`file.yaml:1:10: timeout: expected a duration such as "90s", "5m" or "24h", got "abc"`,
		},
		{
			"bare number for duration",
			"timeout: 30\n",
			`file.yaml:1:10: timeout: expected a duration such as "90s", "5m" or "24h", got the number 30; add a unit, e.g. "30s"`,
		},
		{
			"word for bool",
			"enabled: maybe\n",
			`file.yaml:1:10: enabled: expected true or false, got "maybe"`,
		},
		{
			"word for float",
			"ratio: half\n",
			`file.yaml:1:8: ratio: expected a number, got "half"`,
		},
		{
			"list for map value",
			"labels:\n  team: [a]\n",
			"file.yaml:2:9: labels.team: expected a string, got a list",
		},
		{
			"map key that is not a plain name",
			"labels:\n  a.b: [x]\n",
			`file.yaml:2:8: labels["a.b"]: expected a string, got a list`,
		},
		{
			"long value cut short",
			"count: " + long + "\n",
			`file.yaml:1:8: count: expected an integer, got "` + long[:40] + `"...`,
		},

		// The top of the file.
		{
			"list at the top",
			"- a\n- b\n",
			"file.yaml:1:1: expected a mapping, got a list",
		},
		{
			"scalar at the top",
			"hello\n",
			`file.yaml:1:1: expected a mapping, got "hello"`,
		},
		{
			"null at the top",
			"~\n",
			"file.yaml:1:1: expected a mapping, got null",
		},

		// Aliases and merge keys.
		{
			"alias of the wrong type is reported where it is used",
			"child: &c\n  code: a\n  min: *c\n",
			"file.yaml:3:8: child.min: expected an integer, got a mapping",
		},
		{
			"merge of a scalar",
			"child: {<<: 5}\n",
			"file.yaml:1:13: child: the merge key << expects a mapping or a list of mappings, got the number 5",
		},
		{
			"merge of itself",
			"child: &c {code: a, <<: *c}\n",
			"file.yaml:1:25: child: alias *c is used inside the value it names; expected an alias to a value defined before it",
		},
		{
			"merged unknown key",
			"items:\n  - {<<: {code: a, max: 3}}\n",
			`file.yaml:2:20: unknown key "max" in items[0]; expected one of: code, min`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decode(t, tc.src)
			if got := errorText(t, err); got != tc.want {
				t.Errorf("error:\ngot  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestDecodeGolden checks the whole text users see for files with several
// problems: all of them, one per line, sorted by position. Run
// `go test ./scenarios -update` to rewrite the .golden files.
func TestDecodeGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/*.yaml files")
	}
	for _, file := range files {
		if strings.HasPrefix(filepath.Base(file), "lint_") {
			continue // scenario files, checked by TestLintGolden
		}
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var c testConfig
			got := errorText(t, Decode(filepath.Base(file), data, &c)) + "\n"
			checkGolden(t, strings.TrimSuffix(file, ".yaml")+".golden", got)
		})
	}
}

// checkGolden compares got with the golden file, rewriting it first under
// -update.
func checkGolden(t *testing.T, golden, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("errors:\ngot\n%s\nwant\n%s", got, want)
	}
}
