package report

import (
	"bytes"
	"cmp"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Skipped  int          `xml:"skipped,attr"`
		Errors   int          `xml:"errors,attr"`
		Time     string       `xml:"time,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name     string      `xml:"name,attr"`
		Tests    int         `xml:"tests,attr"`
		Failures int         `xml:"failures,attr"`
		Skipped  int         `xml:"skipped,attr"`
		Errors   int         `xml:"errors,attr"`
		Time     string      `xml:"time,attr"`
		Cases    []junitCase `xml:"testcase"`
	}
	junitCase struct {
		Classname string        `xml:"classname,attr"`
		Name      string        `xml:"name,attr"`
		Time      string        `xml:"time,attr"`
		Failure   *junitMessage `xml:"failure,omitempty"`
		Skipped   *junitMessage `xml:"skipped,omitempty"`
		SystemOut string        `xml:"system-out,omitempty"`
	}
	junitMessage struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr,omitempty"`
		Text    string `xml:",chardata"`
	}
)

// WriteJUnit writes the run as JUnit XML, one testsuite per feature and
// one testcase per scenario. A testcase fails only where the run fails
// for it: a @recommended failure without --strict, the scenario an
// interruption stopped and those it left are <skipped> with the reason.
func (r *Run) WriteJUnit(w io.Writer) error {
	all := junitSuites{Name: "bjpay-merchant-conformance", Time: seconds(r.Elapsed)}
	index := map[string]int{}
	for i := range r.Scenarios {
		s := &r.Scenarios[i]
		n, ok := index[s.URI]
		if !ok {
			n = len(all.Suites)
			index[s.URI] = n
			all.Suites = append(all.Suites, junitSuite{Name: s.Feature})
		}
		suite := &all.Suites[n]
		c := junitCase{Classname: s.URI, Name: s.Name, Time: seconds(s.Duration), SystemOut: transcript(s)}
		switch s.Status {
		case Failed:
			c.Failure = &junitMessage{Message: firstLine(s.Error), Type: s.Level, Text: s.Error}
			suite.Failures++
		case NotEnforced:
			c.Skipped = &junitMessage{Message: "recommended practice not followed (a failure only with --strict): " + firstLine(s.Error), Text: s.Error}
			suite.Skipped++
		case Interrupted:
			c.Skipped = &junitMessage{Message: "interrupted while under way: " + r.Interrupted}
			suite.Skipped++
		case NotRun:
			c.Skipped = &junitMessage{Message: "not run: " + cmp.Or(r.Interrupted, "skipped")}
			suite.Skipped++
		}
		suite.Tests++
		suite.Cases = append(suite.Cases, c)
	}
	for i := range all.Suites {
		s := &all.Suites[i]
		var d time.Duration
		for _, c := range s.Cases {
			f, _ := strconv.ParseFloat(c.Time, 64)
			d += time.Duration(f * float64(time.Second))
		}
		s.Time = seconds(d)
		all.Tests += s.Tests
		all.Failures += s.Failures
		all.Skipped += s.Skipped
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(all); err != nil {
		return fmt.Errorf("report: junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// WriteCucumber writes godog's cucumber JSON report, with the statuses
// made to agree with the run's exit status: the failing step of a
// @recommended scenario without --strict, and of the scenario an
// interruption stopped, is "skipped", its message kept and prefixed with
// why.
func (r *Run) WriteCucumber(w io.Writer) error {
	status := map[string]Status{}
	for _, s := range r.Scenarios {
		status[s.URI+"\x00"+strconv.Itoa(s.Line)] = s.Status
	}
	var data []any
	if len(r.cucumber) > 0 {
		dec := json.NewDecoder(bytes.NewReader(r.cucumber))
		dec.UseNumber() // numbers written back as they were
		if err := dec.Decode(&data); err != nil {
			return fmt.Errorf("report: cucumber: %w", err)
		}
	}
	for _, f := range data {
		feature, _ := f.(map[string]any)
		uri, _ := feature["uri"].(string)
		elements, _ := feature["elements"].([]any)
		for _, e := range elements {
			el, _ := e.(map[string]any)
			line, _ := el["line"].(json.Number)
			var prefix string
			switch status[uri+"\x00"+line.String()] {
			case NotEnforced:
				prefix = "recommended practice not followed (a failure only with --strict): "
			case Interrupted:
				prefix = "interrupted while under way (" + r.Interrupted + "): "
			default:
				continue
			}
			steps, _ := el["steps"].([]any)
			for _, st := range steps {
				res, _ := st.(map[string]any)["result"].(map[string]any)
				if res == nil || res["status"] == "passed" || res["status"] == "skipped" {
					continue
				}
				msg, _ := res["error_message"].(string)
				res["status"], res["error_message"] = "skipped", prefix+msg
			}
		}
	}
	if data == nil {
		data = []any{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "    ")
	if err := enc.Encode(data); err != nil {
		return fmt.Errorf("report: cucumber: %w", err)
	}
	return nil
}

// transcript is the scenario's requests and answers as text.
func transcript(s *Scenario) string {
	var b strings.Builder
	for _, x := range s.Exchanges {
		fmt.Fprintf(&b, "%s:\n  %s", x.Title, x.Request)
		if x.Why != "" {
			fmt.Fprintf(&b, "  why: %s\n", x.Why)
		}
		fmt.Fprintf(&b, "  answer: %s", x.Answer)
	}
	return b.String()
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }
