package report_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"html"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/bjpay/bjpay-sandbox/features"
	"github.com/bjpay/bjpay-sandbox/features/report"
)

const (
	valid    = "A valid PAID notify is acknowledged and pays the order"
	wrongKey = "A notify that BJPAY did not sign as sent is refused (wrong-key)"
	e2ePaid  = "A payment made through the checkout becomes paid"
	expires  = "An unpaid payment that expires never becomes paid"
	ahead    = "A notify stamped further ahead than the replay window is refused"
	json2    = "A notify whose JSON is formatted differently is accepted"
	timeout  = "The merchant answers within the sandbox's timeout"
)

// run builds a Run from testdata/cucumber.json, a report as godog writes
// it: three failures from one cause (a refused valid notify), a
// @recommended failure of its own, the scenario an interruption stopped
// and one it left.
func run(t *testing.T, strict bool, interrupted string) *report.Run {
	t.Helper()
	data, err := os.ReadFile("testdata/cucumber.json")
	if err != nil {
		t.Fatal(err)
	}
	refused := "valid notifies are refused (HTTP 401)"
	records := map[string]features.Record{
		valid:   {Scenario: valid, Cause: refused, Exchanges: []features.Exchange{{Title: "notify PAID CONF-1, variant valid", Request: "POST http://127.0.0.1:3000/webhook\n", Answer: "HTTP 401 in 1.0 ms\n  <script>alert(1)</script>\n", Why: "It is signed exactly as BJPAY signs."}}},
		e2ePaid: {Scenario: e2ePaid, Cause: refused},
		expires: {Scenario: expires, Cause: refused},
		ahead:   {Scenario: ahead, Cause: "notifies stamped outside the replay window are acknowledged"},
		json2:   {Scenario: json2, Interrupted: interrupted != ""},
	}
	r, err := report.New(data, records, strict, interrupted)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestStatuses(t *testing.T) {
	tests := []struct {
		name        string
		strict      bool
		interrupted string
		want        map[string]report.Status
		counts      report.Counts
		failed      bool
	}{
		{name: "interrupted", interrupted: "terminated signal received",
			want: map[string]report.Status{valid: report.Failed, wrongKey: report.Passed, e2ePaid: report.Failed,
				expires: report.NotEnforced, ahead: report.NotEnforced, json2: report.Interrupted, timeout: report.NotRun},
			counts: report.Counts{RequiredPassed: 1, RequiredFailed: 2, RecommendedFailed: 2, NotRun: 2}, failed: true},
		{name: "strict", strict: true,
			want:   map[string]report.Status{expires: report.Failed, ahead: report.Failed, json2: report.Failed, timeout: report.NotRun},
			counts: report.Counts{RequiredPassed: 1, RequiredFailed: 2, RecommendedFailed: 3, NotRun: 1}, failed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.strict, tt.interrupted)
			got := map[string]report.Status{}
			for _, s := range r.Scenarios {
				got[s.Name] = s.Status
			}
			for name, want := range tt.want {
				if got[name] != want {
					t.Errorf("%s: %q, want %q", name, got[name], want)
				}
			}
			if c := r.Counts(); c != tt.counts {
				t.Errorf("counts %+v, want %+v", c, tt.counts)
			}
			if r.Failed() != tt.failed {
				t.Errorf("Failed() = %v, want %v", r.Failed(), tt.failed)
			}
		})
	}
}

// TestGroups: failures sharing a root cause come together under the
// simplest @required one, @required groups first.
func TestGroups(t *testing.T) {
	groups := run(t, false, "").Groups()
	var got []string
	for _, g := range groups {
		line := g.Root.Name
		for _, o := range g.Others {
			line += " > " + o.Name
		}
		got = append(got, line)
	}
	want := []string{valid + " > " + e2ePaid + " > " + expires, ahead, json2}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("groups:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSummary(t *testing.T) {
	var b bytes.Buffer
	run(t, false, "terminated signal received").WriteSummary(&b, report.Notes{NoCredited: true})
	for _, want := range []string{
		"BJPAY conformance: @required 1 passed, 2 failed; @recommended 0 passed, 2 failed\n",
		"  FAILED @required: " + valid + "\n    valid notifies are refused (HTTP 401): 2 further failure(s) follow from it:\n      FAILED @required: " + e2ePaid + "\n      FAILED @recommended: " + expires + "\n",
		"  FAILED @recommended: " + ahead + "\n",
		"Interrupted (terminated signal received): 2 scenario(s) not run to their end, skipped in the JUnit, cucumber and HTML reports\n  - " + json2 + " (under way)\n",
		"Not checked, for lack of merchant.orderStatus.credited",
		"Result: INTERRUPTED: terminated signal received; the results above are partial\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, b.String())
		}
	}
}

// TestJUnit: the report fails exactly where the run fails: @recommended
// failures without --strict and the scenarios an interruption stopped or
// left are skipped, with the reason.
func TestJUnit(t *testing.T) {
	for _, strict := range []bool{false, true} {
		var b bytes.Buffer
		if err := run(t, strict, "").WriteJUnit(&b); err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Skipped  int `xml:"skipped,attr"`
			Suites   []struct {
				Cases []struct {
					Name    string `xml:"name,attr"`
					Failure *struct {
						Message string `xml:"message,attr"`
						Type    string `xml:"type,attr"`
					} `xml:"failure"`
					Skipped *struct {
						Message string `xml:"message,attr"`
					} `xml:"skipped"`
					Out string `xml:"system-out"`
				} `xml:"testcase"`
			} `xml:"testsuite"`
		}
		if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
			t.Fatalf("strict %v: %v\n%s", strict, err, b.String())
		}
		want := map[bool][3]int{false: {7, 2, 4}, true: {7, 5, 1}}[strict] // tests, failures, skipped
		if got := [3]int{doc.Tests, doc.Failures, doc.Skipped}; got != want {
			t.Errorf("strict %v: tests, failures, skipped = %v, want %v", strict, got, want)
		}
		for _, s := range doc.Suites {
			for _, c := range s.Cases {
				switch {
				case c.Name == valid && (c.Failure == nil || c.Failure.Type != "@required" || !strings.Contains(c.Out, "HTTP 401")):
					t.Errorf("strict %v: %s: failure %+v, system-out %q", strict, c.Name, c.Failure, c.Out)
				case c.Name == ahead && !strict && (c.Skipped == nil || !strings.HasPrefix(c.Skipped.Message, "recommended practice not followed")):
					t.Errorf("strict %v: %s: skipped %+v, want a skip saying why", strict, c.Name, c.Skipped)
				}
			}
		}
	}
}

// TestCucumber: the cucumber report's statuses agree with the run too, and
// it keeps godog's fields.
func TestCucumber(t *testing.T) {
	var b bytes.Buffer
	if err := run(t, false, "").WriteCucumber(&b); err != nil {
		t.Fatal(err)
	}
	var feats []struct {
		URI      string `json:"uri"`
		Elements []struct {
			Name  string `json:"name"`
			Steps []struct {
				Match struct {
					Location string `json:"location"`
				} `json:"match"`
				Result struct {
					Status string `json:"status"`
					Error  string `json:"error_message"`
				} `json:"result"`
			} `json:"steps"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(b.Bytes(), &feats); err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, f := range feats {
		for _, e := range f.Elements {
			last := e.Steps[len(e.Steps)-1]
			if e.Name == expires {
				last = e.Steps[len(e.Steps)-2] // the failing step; the last was skipped after it
			}
			status[e.Name] = last.Result.Status
			if e.Name == ahead && !strings.HasPrefix(last.Result.Error, "recommended practice not followed (a failure only with --strict): expected the merchant") {
				t.Errorf("%s: error %q", e.Name, last.Result.Error)
			}
			if last.Match.Location == "" {
				t.Errorf("%s: godog's match location was lost", e.Name)
			}
		}
	}
	want := map[string]string{valid: "failed", e2ePaid: "failed", expires: "skipped", ahead: "skipped", wrongKey: "passed"}
	for name, w := range want {
		if status[name] != w {
			t.Errorf("%s: %q, want %q", name, status[name], w)
		}
	}
}

// TestHTML: one page that names every scenario, escapes what merchants
// answer, and refers to nothing outside itself.
func TestHTML(t *testing.T) {
	var b bytes.Buffer
	if err := run(t, false, "").WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{valid, ahead, html.EscapeString(timeout), "valid notifies are refused (HTTP 401): 2 further failure(s) follow from it", "It is signed exactly as BJPAY signs.", "&lt;script&gt;alert(1)&lt;/script&gt;", `<a href="#s-0">`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script") {
		t.Error("the page has a script: a merchant's answer was not escaped")
	}
	for _, m := range regexp.MustCompile(`(?i)(?:src|href|action)\s*=\s*"([^"]*)"|url\(([^)]*)\)|@import`).FindAllStringSubmatch(page, -1) {
		if !strings.HasPrefix(m[1], "#") {
			t.Errorf("the page refers outside itself: %s", m[0])
		}
	}
}
