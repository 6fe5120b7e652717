package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bjpay/bjpay-sandbox/cmd/demo-merchant/shop"
)

// TestTestGitHubFormat runs `test --format github` as a GitHub Actions
// step does: the workflow commands on stdout, the job summary appended to
// the file GITHUB_STEP_SUMMARY names after what earlier steps wrote. The
// subtests set that variable, so they run one after the other.
func TestTestGitHubFormat(t *testing.T) {
	unreachable := filepath.Join(t.TempDir(), "unreachable.yaml")
	yaml := "sandbox: {listen: \"" + freeAddr(t) + "\"}\nmerchant: {clientId: a, clientSecret: b, notifyUrl: \"http://" + freeAddr(t) + "/hook\"}\n"
	if err := os.WriteFile(unreachable, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	const wrongKey = "A notify that BJPAY did not sign as sent is refused (wrong-key)"
	tests := []struct {
		name      string
		bug       shop.Bug
		driver    string // instead of the demo's
		args      []string
		noSummary bool // GITHUB_STEP_SUMMARY unset
		code      int
		stdout    []string
		summary   []string // in the summary file, or on stdout with noSummary
		stderr    string
	}{
		{name: "required failure", bug: shop.BugSkipSignature, args: []string{"--tags", "@required"}, code: 1,
			stdout: []string{"\n::error title=BJPAY conformance @required%3A " + wrongKey + "::expected the merchant to refuse the notify with a non-2xx status, but it acknowledged it with HTTP 200."},
			summary: []string{"### ❌ BJPAY conformance: FAIL: the integration does not do what BJPAY's docs oblige\n",
				"| ❌ error | " + wrongKey + " | `@required` | expected the merchant to refuse the notify with a non-2xx status, but it acknowledged it with HTTP 200."}},
		{name: "recommended failure", bug: shop.BugDuplicate409, args: []string{"--tags", "@recommended && ~@clock"}, code: 0,
			stdout:  []string{"\n::warning title=BJPAY conformance @recommended%3A A duplicate PAID notify is acknowledged again and credits the order once (as BJPAY retries it)::"},
			summary: []string{"### ✅ BJPAY conformance: PASS, with recommended practice not followed", "| ⚠️ warning | A duplicate PAID notify is acknowledged again and credits the order once (as BJPAY retries it) | `@recommended` |"}},
		{name: "strict", bug: shop.BugDuplicate409, args: []string{"--tags", "@recommended && ~@clock", "--strict"}, code: 1,
			stdout:  []string{"\n::error title=BJPAY conformance @recommended%3A A duplicate PAID notify"},
			summary: []string{"### ❌ BJPAY conformance: FAIL (--strict)", "| ❌ error | A duplicate PAID notify"}},
		{name: "pass outside GitHub Actions", args: []string{"--tags", "@required"}, noSummary: true, code: 0,
			summary: []string{"### ✅ BJPAY conformance: PASS\n", "All 13 scenarios that ran passed."},
			stderr:  "GITHUB_STEP_SUMMARY is not set (not in GitHub Actions?): the job summary follows on standard output"},
		{name: "merchant unreachable", driver: unreachable, args: []string{"--wait", "300ms"}, code: 1,
			stdout:  []string{"::error title=BJPAY conformance%3A no scenario was run::the merchant is not reachable at its notifyUrl"},
			summary: []string{"### ❌ BJPAY conformance: FAIL: no scenario was run\n\n```\nthe merchant is not reachable at its notifyUrl"}},
		{name: "github with a file", args: []string{"--format", "github:summary.md"}, code: 2,
			stderr: "github takes no file; it appends its job summary to the file $GITHUB_STEP_SUMMARY names"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			summaryFile := filepath.Join(t.TempDir(), "step_summary.md")
			const earlier = "An earlier step's summary.\n"
			if err := os.WriteFile(summaryFile, []byte(earlier), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Setenv("GITHUB_STEP_SUMMARY", summaryFile)
			if tt.noSummary {
				t.Setenv("GITHUB_STEP_SUMMARY", "")
			}
			driver := tt.driver
			if driver == "" {
				driver = demoDriver(t, tt.bug, true)
			}
			args := append([]string{"test", "--merchant", driver, "--format", "progress", "--format", "github", "--concurrency", "4"}, tt.args...)
			code, stdout, stderr := runCLI(t, args...)
			checkCLI(t, code, stdout, stderr, tt.code, tt.stdout, tt.stderr)
			data, err := os.ReadFile(summaryFile)
			if err != nil {
				t.Fatal(err)
			}
			summary := strings.TrimPrefix(string(data), earlier)
			if len(summary) == len(data) {
				t.Errorf("the summary file lost what an earlier step wrote:\n%s", data)
			}
			if tt.noSummary {
				if summary != "" {
					t.Errorf("GITHUB_STEP_SUMMARY unset, yet the old file got:\n%s", summary)
				}
				summary = stdout
			}
			for _, w := range tt.summary {
				if !strings.Contains(summary, w) {
					t.Errorf("summary lacks %q:\n%s", w, summary)
				}
			}
		})
	}
}

// TestTestCommandCommaInTempDir: godog cannot take a report path with a
// comma, and the run's results go to the temporary directory; test says
// so at once rather than failing after the preflight.
func TestTestCommandCommaInTempDir(t *testing.T) {
	tmp := filepath.Join(t.TempDir(), "a,b")
	if err := os.Mkdir(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", tmp)
	code, _, stderr := runCLI(t, "test", "--merchant", demoDriver(t, "", true))
	if want := "the temporary directory " + tmp + " has a comma in its path"; code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("exit %d, stderr:\n%s\nwant 1 and %q", code, stderr, want)
	}
}
