package report_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bjpay/bjpay-sandbox/features/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s changed (go test -run %s -update, then review the diff):\ngot\n%s\nwant\n%s", path, t.Name(), got, want)
	}
}

// TestGitHub pins the job summary and the workflow commands of the
// testdata run: errors where the run fails, warnings for @recommended
// failures without --strict, and the verdict when interrupted. Run
// `go test ./features/report -run TestGitHub -update` after a deliberate
// change and review the diff.
func TestGitHub(t *testing.T) {
	for _, tt := range []struct {
		name        string
		strict      bool
		interrupted string
	}{
		{name: "lenient"},
		{name: "strict", strict: true},
		{name: "interrupted", interrupted: "terminated signal received"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.strict, tt.interrupted)
			var summary, commands bytes.Buffer
			if err := r.WriteGitHubSummary(&summary, report.Notes{NoCredited: true}); err != nil {
				t.Fatal(err)
			}
			if err := r.WriteGitHubAnnotations(&commands); err != nil {
				t.Fatal(err)
			}
			golden(t, "github-"+tt.name+".md", summary.String())
			golden(t, "github-"+tt.name+".commands", commands.String())
		})
	}
}

// TestGitHubEscaping: what a scenario's failure quotes (a merchant's
// answer) cannot break a table row, render as HTML, or end a workflow
// command early, and a pass says so.
func TestGitHubEscaping(t *testing.T) {
	const cucumber = `[{"uri":"merchant/x.feature","name":"X","elements":[
 {"name":"A | B <b>50%</b>, c","line":3,"type":"scenario","tags":[{"name":"@required"}],
  "steps":[{"keyword":"Then ","name":"it fails","line":4,"result":{"status":"failed","error_message":"got 100% <script>, a: b\r\n| second line"}}]},
 {"name":"Passes","line":9,"type":"scenario","tags":[{"name":"@required"}],
  "steps":[{"keyword":"Then ","name":"it passes","line":10,"result":{"status":"passed"}}]}]}]`
	r, err := report.New([]byte(cucumber), nil, false, "")
	if err != nil {
		t.Fatal(err)
	}
	var summary, commands bytes.Buffer
	if err := r.WriteGitHubSummary(&summary, report.Notes{}); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteGitHubAnnotations(&commands); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ what, got, want string }{
		{"summary row", summary.String(), "| ❌ error | A \\| B &lt;b&gt;50%&lt;/b&gt;, c | `@required` | got 100% &lt;script&gt;, a: b |\n"},
		{"annotation", commands.String(), "::error title=BJPAY conformance @required%3A A | B <b>50%25</b>%2C c::got 100%25 <script>, a: b\n"},
	} {
		if !strings.Contains(tt.got, tt.want) {
			t.Errorf("%s: want %q in\n%s", tt.what, tt.want, tt.got)
		}
	}
	if n := strings.Count(commands.String(), "\n"); n != 1 {
		t.Errorf("%d workflow command lines, want 1 (the failure only):\n%s", n, commands.String())
	}

	pass, err := report.New([]byte(strings.Replace(cucumber, `"status":"failed"`, `"status":"passed"`, 1)), nil, false, "")
	if err != nil {
		t.Fatal(err)
	}
	summary.Reset()
	commands.Reset()
	if err := pass.WriteGitHubSummary(&summary, report.Notes{}); err != nil {
		t.Fatal(err)
	}
	if err := pass.WriteGitHubAnnotations(&commands); err != nil {
		t.Fatal(err)
	}
	if s := summary.String(); !strings.HasPrefix(s, "### ✅ BJPAY conformance: PASS\n") || !strings.Contains(s, "All 2 scenarios that ran passed.") {
		t.Errorf("a pass:\n%s", s)
	}
	if commands.Len() != 0 {
		t.Errorf("a pass printed workflow commands:\n%s", commands.String())
	}
}

func TestGitHubNotRun(t *testing.T) {
	var summary, commands bytes.Buffer
	why := "the merchant is not reachable at its notifyUrl http://127.0.0.1:3000/webhook after 30s: connection refused\nStart it first."
	if err := report.WriteGitHubNotRun(&commands, &summary, why); err != nil {
		t.Fatal(err)
	}
	if want := "### ❌ BJPAY conformance: FAIL: no scenario was run\n\n```\n" + why + "\n```\n"; !strings.HasPrefix(summary.String(), want) {
		t.Errorf("summary:\n%s\nwant it to begin\n%s", summary.String(), want)
	}
	if want := "::error title=BJPAY conformance%3A no scenario was run::the merchant is not reachable at its notifyUrl http://127.0.0.1:3000/webhook after 30s: connection refused%0AStart it first.\n"; commands.String() != want {
		t.Errorf("commands:\n%q\nwant\n%q", commands.String(), want)
	}
}
