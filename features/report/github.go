package report

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// maxGitHubReason caps a reason in the job summary's table, and
// maxAnnotation in an annotation: the first line of a failure (its
// reason; the request and answer follow on the next lines) can quote the
// merchant's answer.
const (
	maxGitHubReason = 300
	maxAnnotation   = 1000
)

// WriteGitHubSummary writes the run as GitHub-flavoured Markdown for a
// GitHub Actions job summary ($GITHUB_STEP_SUMMARY): the verdict, the
// counts, and one row per failed scenario — its name, its tag and the
// first line of its reason, those that fail the run marked as errors,
// @recommended ones without --strict as warnings, as in the exit status.
func (r *Run) WriteGitHubSummary(w io.Writer, n Notes) error {
	var b strings.Builder
	icon := "✅"
	if r.Failed() {
		icon = "❌"
	}
	fmt.Fprintf(&b, "### %s BJPAY conformance: %s\n\n", icon, markdownText(r.Verdict()))
	if r.Subject != "" {
		fmt.Fprintf(&b, "%s\n\n", markdownText(r.Subject))
	}
	c := r.Counts()
	fmt.Fprintf(&b, "| | passed | failed |\n|---|---:|---:|\n| `@required` | %d | %d |\n| `@recommended` | %d | %d |\n\n",
		c.RequiredPassed, c.RequiredFailed, c.RecommendedPassed, c.RecommendedFailed)

	var rows []*Scenario
	for _, g := range r.Groups() {
		rows = append(append(rows, g.Root), g.Others...)
	}
	switch {
	case len(rows) > 0:
		b.WriteString("| | scenario | tag | reason |\n|---|---|---|---|\n")
		for _, s := range rows {
			mark, reason := "❌ error", strings.TrimSpace(firstLine(s.Error))
			if s.Status == NotEnforced {
				mark = "⚠️ warning"
				reason += " (a failure only with --strict)"
			}
			fmt.Fprintf(&b, "| %s | %s | `%s` | %s |\n", mark, markdownText(s.Name), s.Level, markdownText(capRunes(reason, maxGitHubReason)))
		}
		b.WriteString("\n")
	case c.Ran() > 0:
		fmt.Fprintf(&b, "All %d scenarios that ran passed.\n\n", c.Ran())
	}
	if r.Interrupted != "" {
		fmt.Fprintf(&b, "Interrupted (%s): %d scenario(s) not run to their end.\n\n", markdownText(r.Interrupted), c.NotRun)
	}
	if len(n.NotRun) > 0 {
		fmt.Fprintf(&b, "Not run, for lack of `merchant.checkout` in the driver file: %d scenario(s).\n\n", len(n.NotRun))
	}
	switch {
	case n.NoOrderStatus:
		b.WriteString("Not checked, for lack of `merchant.orderStatus`: the merchant's order states.\n\n")
	case n.NoCredited:
		b.WriteString("Not checked, for lack of `merchant.orderStatus.credited`: that a duplicate PAID notify credits an order once.\n\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteGitHubAnnotations writes GitHub Actions workflow commands, each
// with a scenario's reason: an ::error for each scenario that fails the run, a ::warning for each
// @recommended one that fails without --strict, and an ::error with the
// verdict when the run fails with no scenario to blame (none ran, or it
// was interrupted). GitHub shows the first ten of each kind per step; the
// job summary lists them all.
func (r *Run) WriteGitHubAnnotations(w io.Writer) error {
	var b strings.Builder
	blamed := false
	for _, g := range r.Groups() {
		for _, s := range append([]*Scenario{g.Root}, g.Others...) {
			kind := "error"
			if s.Status == NotEnforced {
				kind = "warning"
			} else {
				blamed = true
			}
			writeWorkflowCommand(&b, kind, "BJPAY conformance "+s.Level+": "+s.Name, capRunes(strings.TrimSpace(firstLine(s.Error)), maxAnnotation))
		}
	}
	if r.Failed() && (!blamed || r.Interrupted != "") {
		writeWorkflowCommand(&b, "error", "BJPAY conformance", r.Verdict())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteGitHubNotRun is the job summary and the ::error of a run stopped
// before its first scenario (an unreachable merchant, a failed preflight):
// why, as the command printed it.
func WriteGitHubNotRun(commands, summary io.Writer, why string) error {
	why = strings.TrimSpace(why)
	var b strings.Builder
	writeWorkflowCommand(&b, "error", "BJPAY conformance: no scenario was run", why)
	if _, err := io.WriteString(commands, b.String()); err != nil {
		return err
	}
	// In a fenced block the text is literal; only a fence could end it.
	md := "### ❌ BJPAY conformance: FAIL: no scenario was run\n\n```\n" + strings.ReplaceAll(why, "```", "'''") + "\n```\n\n"
	_, err := io.WriteString(summary, md)
	return err
}

// writeWorkflowCommand writes ::kind title=TITLE::MESSAGE, escaped as
// GitHub's toolkit escapes them (@actions/core's command.ts): in the
// message %, CR and LF; in a property those and : and , too.
func writeWorkflowCommand(b *strings.Builder, kind, title, msg string) {
	fmt.Fprintf(b, "::%s title=%s::%s\n", kind, escapeProperty(title), escapeData(msg))
}

var (
	dataEscaper     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	propertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

func escapeData(s string) string     { return dataEscaper.Replace(s) }
func escapeProperty(s string) string { return propertyEscaper.Replace(s) }

// markdownEscaper makes text literal in a Markdown table cell: HTML is
// shown, not rendered; emphasis, code, links and the cell separator are
// escaped; a line break would end the row.
var markdownEscaper = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;",
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "|", `\|`, "~", `\~`,
	"\r\n", " ", "\n", " ", "\r", " ")

func markdownText(s string) string { return markdownEscaper.Replace(s) }

// capRunes shortens s to at most n runes, marking the cut.
func capRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
