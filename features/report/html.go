package report

import (
	"fmt"
	"html/template"
	"io"
	"strings"
)

// maxHTMLText caps each transcript and message in the HTML report, so a
// merchant that answers a megabyte page keeps the report small.
const maxHTMLText = 16 << 10

// WriteHTML writes the run as one self-contained HTML page: the verdict,
// the failures grouped by root cause, and every scenario with its steps,
// the reason it failed, the requests it sent and the merchant's answers.
// It loads nothing (no script, stylesheet, font or image from anywhere)
// and links only within itself, so it opens offline, from a CI artefact.
func (r *Run) WriteHTML(w io.Writer) error {
	c := r.Counts()
	index := map[*Scenario]int{}
	for i := range r.Scenarios {
		index[&r.Scenarios[i]] = i
	}
	data := struct {
		Run    *Run
		Counts Counts
		Groups []Group
		Index  map[*Scenario]int
	}{r, c, r.Groups(), index}
	if err := htmlPage.Execute(w, data); err != nil {
		return fmt.Errorf("report: html: %w", err)
	}
	return nil
}

var htmlPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"cap": func(s string) string {
		if len(s) <= maxHTMLText {
			return s
		}
		return s[:maxHTMLText] + fmt.Sprintf("\n… (%d more bytes)", len(s)-maxHTMLText)
	},
	"class": func(s Status) string { return strings.ReplaceAll(string(s), " ", "-") },
	"secs":  func(s *Scenario) string { return fmt.Sprintf("%.2f s", s.Duration.Seconds()) },
	"idx":   func(m map[*Scenario]int, s *Scenario) int { return m[s] },
	"open":  func(s Status) bool { return s == Failed || s == NotEnforced || s == Interrupted },
	"fail":  func(r *Run) bool { return r.Failed() },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>BJPAY conformance: {{.Run.Verdict}}</title>
<style>
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:72rem;padding:1rem 1.5rem 3rem;color:#1d2330;background:#fff}
h1{font-size:1.5rem;margin:.5rem 0}h2{font-size:1.2rem;margin:2rem 0 .5rem;border-bottom:1px solid #d8dde6}h3{font-size:1rem;margin:1rem 0 .3rem}h4{font-size:.9rem;margin:.6rem 0 .2rem;color:#4a5468}
.verdict{font-size:1.1rem;font-weight:600;padding:.6rem .8rem;border-radius:6px}
.verdict.pass{background:#e3f6e8;color:#14532d}.verdict.fail{background:#fde8e8;color:#7f1d1d}
pre{background:#f5f7fa;border:1px solid #e1e5ec;border-radius:4px;padding:.5rem .7rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all;font:12.5px/1.4 ui-monospace,Menlo,Consolas,monospace;margin:.2rem 0}
details.scenario{border:1px solid #d8dde6;border-radius:6px;margin:.4rem 0;padding:.2rem .8rem}
details.scenario>summary{cursor:pointer;padding:.3rem 0;list-style-position:outside}
.badge{display:inline-block;min-width:6.5rem;text-align:center;font-size:.8rem;font-weight:600;border-radius:4px;padding:0 .4rem;margin-right:.4rem}
.passed .badge,.badge.passed{background:#e3f6e8;color:#14532d}.failed .badge{background:#fde8e8;color:#991b1b}
.not-enforced .badge{background:#fff4d6;color:#854d0e}.interrupted .badge,.not-run .badge{background:#eceff4;color:#4a5468}
.level{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85rem;color:#4a5468}.where{color:#6b7385;font-size:.85rem}
ol.steps{margin:.3rem 0;padding-left:1.4rem}ol.steps li.failed{color:#991b1b;font-weight:600}ol.steps li.skipped{color:#8a93a6}
.why{background:#fff8e6;border-left:3px solid #e0a100;padding:.3rem .6rem;margin:.3rem 0}
.exchange{border-top:1px dashed #d8dde6;margin-top:.6rem}
ul.groups>li{margin:.3rem 0}ul.groups p{margin:.1rem 0 .1rem 1rem;color:#4a5468}
a{color:#1d4ed8}
</style>
</head>
<body>
<header>
<h1>BJPAY conformance</h1>
<p class="verdict {{if fail .Run}}fail{{else}}pass{{end}}" id="verdict">Result: {{.Run.Verdict}}</p>
<p id="counts">@required {{.Counts.RequiredPassed}} passed, {{.Counts.RequiredFailed}} failed; @recommended {{.Counts.RecommendedPassed}} passed, {{.Counts.RecommendedFailed}} failed{{if .Counts.NotRun}}; {{.Counts.NotRun}} not run{{end}}.{{if .Run.Strict}} Run with --strict: @recommended failures fail the run.{{else}} Without --strict, @recommended failures are reported but do not fail the run.{{end}}</p>
{{with .Run.Subject}}<p>{{.}}</p>{{end}}
</header>
{{if .Groups}}
<section id="failures">
<h2>Failures</h2>
<ul class="groups">
{{range .Groups}}<li><a href="#s-{{idx $.Index .Root}}">{{if eq .Root.Status "not enforced"}}NOT ENFORCED{{else}}FAILED{{end}} {{.Root.Level}}: {{.Root.Name}}</a>
{{if .Others}}<p>{{.Cause}}: {{len .Others}} further failure(s) follow from it:</p>
<ul>{{range .Others}}<li><a href="#s-{{idx $.Index .}}">{{.Level}}: {{.Name}}</a></li>{{end}}</ul>{{end}}
</li>
{{end}}</ul>
</section>
{{end}}
<section id="scenarios">
<h2>Scenarios</h2>
{{range $i, $s := .Run.Scenarios}}<details class="scenario {{class $s.Status}}" id="s-{{$i}}"{{if open $s.Status}} open{{end}}>
<summary><span class="badge">{{$s.Status}}</span> <span class="level">{{$s.Level}}</span> {{$s.Name}} <span class="where">{{$s.URI}}:{{$s.Line}} · {{secs $s}}</span></summary>
{{if $s.Error}}<h3>Reason</h3>{{with $s.Cause}}<p>Root cause: {{.}}</p>{{end}}<pre class="reason">{{cap $s.Error}}</pre>{{end}}
<ol class="steps">{{range $s.Steps}}<li class="{{.Status}}">{{.Keyword}} {{.Text}}{{if ne .Status "passed"}} — {{.Status}}{{end}}</li>{{end}}</ol>
{{range $s.Exchanges}}<div class="exchange">
<h3>{{.Title}}</h3>
{{with .Why}}<p class="why">{{.}}</p>{{end}}
<h4>Request sent</h4><pre>{{cap .Request}}</pre>
<h4>Answer</h4><pre>{{cap .Answer}}</pre>
</div>{{end}}
</details>
{{end}}
</section>
</body>
</html>
`))
