package report

import (
	"fmt"
	"io"
)

// Notes are what a run left out for lack of parts of the driver file.
type Notes struct {
	// NotRun are the scenarios left out for lack of merchant.checkout.
	NotRun []string
	// NoOrderStatus: the order states were not read.
	NoOrderStatus bool
	// NoCredited: the credits were not read.
	NoCredited bool
}

// WriteSummary writes the run's closing summary: the counts, the failures
// grouped by root cause, what was left out, and the verdict.
func (r *Run) WriteSummary(w io.Writer, n Notes) {
	c := r.Counts()
	fmt.Fprintf(w, "\nBJPAY conformance: @required %d passed, %d failed; @recommended %d passed, %d failed\n",
		c.RequiredPassed, c.RequiredFailed, c.RecommendedPassed, c.RecommendedFailed)
	for _, g := range r.Groups() {
		fmt.Fprintf(w, "  FAILED %s: %s\n", g.Root.Level, g.Root.Name)
		if len(g.Others) == 0 {
			continue
		}
		fmt.Fprintf(w, "    %s: %d further failure(s) follow from it:\n", g.Cause, len(g.Others))
		for _, s := range g.Others {
			fmt.Fprintf(w, "      FAILED %s: %s\n", s.Level, s.Name)
		}
	}
	if r.Interrupted != "" {
		fmt.Fprintf(w, "Interrupted (%s): %d scenario(s) not run to their end, skipped in the JUnit, cucumber and HTML reports\n", r.Interrupted, c.NotRun)
		for _, s := range r.Scenarios {
			if s.Status == Interrupted {
				fmt.Fprintf(w, "  - %s (under way)\n", s.Name)
			}
		}
	}
	if len(n.NotRun) > 0 {
		fmt.Fprintf(w, "Not run, for lack of merchant.checkout in the driver file (%d):\n", len(n.NotRun))
		for _, name := range n.NotRun {
			fmt.Fprintf(w, "  - %s\n", name)
		}
	}
	switch {
	case n.NoOrderStatus:
		fmt.Fprintln(w, "Not checked, for lack of merchant.orderStatus: the merchant's order states (\"... if its status can be read\").")
	case n.NoCredited:
		fmt.Fprintln(w, "Not checked, for lack of merchant.orderStatus.credited: that a duplicate PAID notify credits an order once (\"... if its credits can be read\").")
	}
	fmt.Fprintln(w, "Result: "+r.Verdict())
}

// Verdict is the run's one-line result.
func (r *Run) Verdict() string {
	c := r.Counts()
	switch {
	case r.Interrupted != "":
		return "INTERRUPTED: " + r.Interrupted + "; the results above are partial"
	case c.Ran() == 0:
		return "FAIL: no scenario ran (check --tags)"
	case c.RequiredFailed > 0:
		return "FAIL: the integration does not do what BJPAY's docs oblige"
	case r.Strict && c.RecommendedFailed > 0:
		return "FAIL (--strict): recommended practice not followed"
	case c.RecommendedFailed > 0:
		return "PASS, with recommended practice not followed (--strict makes this a failure)"
	}
	return "PASS"
}
