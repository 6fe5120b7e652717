package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/bjpay/bjpay-sandbox/features/report"
)

// reportSpec is a report the test command writes itself (godog writes the
// others): junit, cucumber or html, to file or, without one, to stdout;
// github, to stdout and $GITHUB_STEP_SUMMARY.
type reportSpec struct{ format, file string }

// splitFormats separates godog's own formats (pretty, progress, events)
// from the reports written from the run's results, which agree with the
// exit status and survive an interruption.
func splitFormats(formats []string) (godogFormats []string, reports []reportSpec) {
	for _, spec := range formats {
		name, file, _ := strings.Cut(spec, ":")
		switch name {
		case "junit", "cucumber", "html", "github":
			reports = append(reports, reportSpec{name, file})
		default:
			godogFormats = append(godogFormats, spec)
		}
	}
	return godogFormats, reports
}

// finish writes the reports and maps the run to the command's result:
// exit 1, with a line saying so, when it was interrupted or failed.
func finish(run *report.Run, notes report.Notes, reports []reportSpec, stdout, stderr io.Writer, started time.Time) error {
	run.Elapsed = time.Since(started)
	var written []string
	failed := false
	for _, r := range reports {
		var buf bytes.Buffer
		var err error
		switch r.format {
		case "github":
			err = writeGitHub(stdout, stderr, func(commands, summary io.Writer) error {
				if err := run.WriteGitHubAnnotations(commands); err != nil {
					return err
				}
				return run.WriteGitHubSummary(summary, notes)
			})
			if err != nil {
				fmt.Fprintf(stderr, "bjpay-sandbox test: github report: %v\n", err)
				failed = true
			}
			continue
		case "junit":
			err = run.WriteJUnit(&buf)
		case "cucumber":
			err = run.WriteCucumber(&buf)
		case "html":
			err = run.WriteHTML(&buf)
		}
		if err == nil && r.file == "" {
			_, err = stdout.Write(buf.Bytes())
		} else if err == nil {
			err = os.WriteFile(r.file, buf.Bytes(), 0o644)
			written = append(written, r.file)
		}
		if err != nil {
			fmt.Fprintf(stderr, "bjpay-sandbox test: %s report: %v\n", r.format, err)
			failed = true
		}
	}
	if run.Interrupted != "" {
		c := run.Counts()
		files := "none"
		if len(written) > 0 {
			files = strings.Join(written, ", ")
		}
		fmt.Fprintf(stderr, "bjpay-sandbox test: interrupted (%s) after %s: %d of %d scenario(s) ran to their end; partial reports written: %s\n",
			run.Interrupted, run.Elapsed.Round(100*time.Millisecond), c.Ran(), len(run.Scenarios), files)
		return errSilent
	}
	if failed || run.Failed() {
		return errSilent
	}
	return nil
}

// noScenarioRun ends a run stopped before its first scenario: why, on
// standard error and, with --format github, in the job summary and an
// ::error annotation.
func noScenarioRun(reports []reportSpec, why string, stdout, stderr io.Writer) error {
	fmt.Fprint(stderr, "bjpay-sandbox test: "+why)
	for _, r := range reports {
		if r.format == "github" {
			err := writeGitHub(stdout, stderr, func(commands, summary io.Writer) error {
				return report.WriteGitHubNotRun(commands, summary, why)
			})
			if err != nil {
				fmt.Fprintf(stderr, "bjpay-sandbox test: github report: %v\n", err)
			}
		}
	}
	return errSilent
}

// writeGitHub writes --format github: the workflow commands on stdout,
// where GitHub Actions reads them, and the Markdown summary appended to
// the file GITHUB_STEP_SUMMARY names (each step gets one; GitHub shows
// them on the run's page). Outside GitHub Actions the variable is unset:
// the summary then follows on stdout, and a line on stderr says so.
func writeGitHub(stdout, stderr io.Writer, write func(commands, summary io.Writer) error) error {
	var summary bytes.Buffer
	if err := write(stdout, &summary); err != nil {
		return err
	}
	path := os.Getenv("GITHUB_STEP_SUMMARY")
	if path == "" {
		fmt.Fprintln(stderr, "bjpay-sandbox test: GITHUB_STEP_SUMMARY is not set (not in GitHub Actions?): the job summary follows on standard output")
		_, err := stdout.Write(summary.Bytes())
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("GITHUB_STEP_SUMMARY: %w", err)
	}
	if _, err := f.Write(summary.Bytes()); err != nil {
		f.Close()
		return fmt.Errorf("GITHUB_STEP_SUMMARY %s: %w", path, err)
	}
	return f.Close()
}

// rejections is a slog handler for the sandbox the test command starts:
// it keeps the last requests the sandbox rejected, with the reason it
// logs, so that a preflight that fails can say what the sandbox received
// and why it refused it. It drops every other record: the run's output is
// the report.
type rejections struct {
	mu   sync.Mutex
	last []string
}

const maxRejections = 5

func (r *rejections) Enabled(context.Context, slog.Level) bool { return true }
func (r *rejections) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *rejections) WithGroup(string) slog.Handler            { return r }

func (r *rejections) Handle(_ context.Context, rec slog.Record) error {
	if rec.Message != "request rejected" {
		return nil
	}
	attrs := map[string]string{}
	rec.Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value.String()
		return true
	})
	line := fmt.Sprintf("%s %s: HTTP %s, code %s: %s", attrs["method"], attrs["path"], attrs["status"], attrs["code"], attrs["reason"])
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last = append(r.last, line)
	if len(r.last) > maxRejections {
		r.last = r.last[1:]
	}
	return nil
}

// String lists the rejections for a preflight failure, "" when there are
// none (or no sandbox of the run's own).
func (r *rejections) String() string {
	if r == nil {
		return ""
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.last) == 0 {
		return ""
	}
	return "The sandbox received, and refused:\n  " + strings.Join(r.last, "\n  ") + "\nIt expects the driver file's merchant.clientId with its merchant.clientSecret.\n"
}
