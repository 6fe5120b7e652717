// Package report turns a conformance run into what people and CI read: the
// summary that ends `bjpay-sandbox test`, JUnit XML, cucumber JSON and a
// single-file HTML page. Every format agrees with the run's exit status: a
// failed @recommended scenario fails the run only with --strict, and
// without it is reported as skipped, with its reason, not as a failure.
//
// A Run is built from godog's cucumber JSON report (the scenarios, their
// steps and results, in file order) and the features.Recorder's records
// (each scenario's requests and answers, and its failure's root cause).
package report

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bjpay/bjpay-sandbox/features"
)

// Status is a scenario's outcome in the reports.
type Status string

// The statuses.
const (
	Passed Status = "passed"
	Failed Status = "failed"
	// NotEnforced is a failed @recommended scenario in a run without
	// --strict: reported, but not a failure of the run.
	NotEnforced Status = "not enforced"
	// Interrupted is the scenario under way when the run was stopped.
	Interrupted Status = "interrupted"
	// NotRun is a scenario the run did not reach.
	NotRun Status = "not run"
)

// Levels: the tag that says whether BJPAY's docs oblige a scenario.
const (
	Required    = "@required"
	Recommended = "@recommended"
)

// Run is the results of a conformance run.
type Run struct {
	// Scenarios in the order of the feature files.
	Scenarios []Scenario
	// Strict makes failed @recommended scenarios failures of the run.
	Strict bool
	// Interrupted says why the run stopped before its end ("terminated
	// signal received", "--timeout 10m0s passed"); empty when it did not.
	Interrupted string
	// Elapsed is how long the run took.
	Elapsed time.Duration
	// Subject says what was tested, for the HTML report's header.
	Subject string

	cucumber []byte // godog's report, for WriteCucumber
}

// Scenario is one scenario's result.
type Scenario struct {
	Feature string
	Name    string
	// URI and Line locate it: merchant/signature.feature:13.
	URI  string
	Line int
	// Level is Required or Recommended.
	Level  string
	Tags   []string
	Status Status
	Steps  []Step
	// Error is the failing step's message; Cause the root cause it may
	// share with other scenarios' failures (features.Record.Cause).
	Error, Cause string
	// Exchanges are the requests it sent and the answers it got.
	Exchanges []features.Exchange
	Duration  time.Duration
}

// Step is one step's result.
type Step struct {
	Keyword, Text string
	Line          int
	// Status is godog's: passed, failed, skipped, undefined, pending.
	Status   string
	Error    string
	Duration time.Duration
}

// failed reports whether the scenario failed, enforced or not.
func (s *Scenario) failed() bool { return s.Status == Failed || s.Status == NotEnforced }

// cucumber JSON, as godog writes it: the fields this package reads.
type (
	cukeFeature struct {
		URI      string        `json:"uri"`
		Name     string        `json:"name"`
		Elements []cukeElement `json:"elements"`
	}
	cukeElement struct {
		Name  string     `json:"name"`
		Line  int        `json:"line"`
		Type  string     `json:"type"`
		Tags  []cukeTag  `json:"tags"`
		Steps []cukeStep `json:"steps"`
	}
	cukeTag  struct{ Name string }
	cukeStep struct {
		Keyword string `json:"keyword"`
		Name    string `json:"name"`
		Line    int    `json:"line"`
		Result  struct {
			Status   string `json:"status"`
			Error    string `json:"error_message"`
			Duration int64  `json:"duration"` // nanoseconds
		} `json:"result"`
	}
)

// New builds a Run from godog's cucumber JSON report and the recorder's
// records. interrupted is why the run stopped early, "" when it did not.
func New(cucumberJSON []byte, records map[string]features.Record, strict bool, interrupted string) (*Run, error) {
	r := &Run{Strict: strict, Interrupted: interrupted}
	if len(bytes.TrimSpace(cucumberJSON)) == 0 {
		return r, nil // no feature ran
	}
	var feats []cukeFeature
	if err := json.Unmarshal(cucumberJSON, &feats); err != nil {
		return nil, fmt.Errorf("report: reading godog's cucumber report: %w", err)
	}
	r.cucumber = cucumberJSON
	for _, f := range feats {
		for _, e := range f.Elements {
			if e.Type != "scenario" {
				continue
			}
			rec := records[e.Name]
			s := Scenario{Feature: f.Name, Name: e.Name, URI: f.URI, Line: e.Line, Level: Recommended,
				Cause: rec.Cause, Exchanges: rec.Exchanges}
			for _, t := range e.Tags {
				s.Tags = append(s.Tags, t.Name)
				if t.Name == Required {
					s.Level = Required
				}
			}
			ran, failed := false, false
			for _, st := range e.Steps {
				d := time.Duration(st.Result.Duration)
				s.Steps = append(s.Steps, Step{Keyword: strings.TrimSpace(st.Keyword), Text: st.Name, Line: st.Line,
					Status: st.Result.Status, Error: st.Result.Error, Duration: d})
				s.Duration += d
				switch st.Result.Status {
				case "passed":
					ran = true
				case "skipped":
				default: // failed, undefined, pending, ambiguous: the suite is strict
					ran, failed = true, true
					if s.Error == "" {
						s.Error = st.Result.Error
						if s.Error == "" {
							s.Error = "step " + st.Result.Status + ": " + st.Name
						}
					}
				}
			}
			switch {
			case failed && rec.Interrupted:
				s.Status = Interrupted
			case failed && s.Level == Recommended && !strict:
				s.Status = NotEnforced
			case failed:
				s.Status = Failed
			case ran:
				s.Status = Passed
			default:
				s.Status = NotRun
			}
			r.Scenarios = append(r.Scenarios, s)
		}
	}
	return r, nil
}

// Counts are a run's scenarios by level and outcome.
type Counts struct {
	RequiredPassed, RequiredFailed       int
	RecommendedPassed, RecommendedFailed int
	// NotRun counts the scenarios an interruption left, the one under
	// way included.
	NotRun int
}

// Ran is how many scenarios ran to their end.
func (c Counts) Ran() int {
	return c.RequiredPassed + c.RequiredFailed + c.RecommendedPassed + c.RecommendedFailed
}

// Counts counts the scenarios.
func (r *Run) Counts() Counts {
	var c Counts
	for _, s := range r.Scenarios {
		switch {
		case s.Status == NotRun || s.Status == Interrupted:
			c.NotRun++
		case s.Level == Required && s.failed():
			c.RequiredFailed++
		case s.Level == Required:
			c.RequiredPassed++
		case s.failed():
			c.RecommendedFailed++
		default:
			c.RecommendedPassed++
		}
	}
	return c
}

// Failed reports whether the run fails: a @required scenario failed (with
// Strict, a @recommended one too), none ran, or the run was interrupted.
func (r *Run) Failed() bool {
	c := r.Counts()
	return c.RequiredFailed > 0 || (r.Strict && c.RecommendedFailed > 0) || c.Ran() == 0 || r.Interrupted != ""
}

// Group is a failure and the failures that follow from its root cause.
type Group struct {
	Root   *Scenario
	Cause  string
	Others []*Scenario
}

// Groups returns the failed scenarios, @required first, those that share
// a root cause together under the one that shows it best: a @required
// scenario with the fewest steps, the simplest evidence.
func (r *Run) Groups() []Group {
	var failed []*Scenario
	for i := range r.Scenarios {
		if r.Scenarios[i].failed() {
			failed = append(failed, &r.Scenarios[i])
		}
	}
	level := func(s *Scenario) int { return map[bool]int{true: 0, false: 1}[s.Level == Required] }
	byCause := map[string][]*Scenario{}
	var groups []Group
	for _, s := range failed {
		if s.Cause == "" {
			groups = append(groups, Group{Root: s})
			continue
		}
		if byCause[s.Cause] == nil {
			groups = append(groups, Group{Cause: s.Cause})
		}
		byCause[s.Cause] = append(byCause[s.Cause], s)
	}
	for i := range groups {
		g := &groups[i]
		if g.Root != nil {
			continue
		}
		members := byCause[g.Cause]
		root := slices.MinFunc(members, func(a, b *Scenario) int {
			return cmp.Or(cmp.Compare(level(a), level(b)), cmp.Compare(len(a.Steps), len(b.Steps)))
		})
		g.Root = root
		for _, m := range members {
			if m != root {
				g.Others = append(g.Others, m)
			}
		}
		slices.SortStableFunc(g.Others, func(a, b *Scenario) int { return cmp.Compare(level(a), level(b)) })
	}
	slices.SortStableFunc(groups, func(a, b Group) int { return cmp.Compare(level(a.Root), level(b.Root)) })
	return groups
}
