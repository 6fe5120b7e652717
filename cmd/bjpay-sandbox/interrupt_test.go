package main

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/cmd/demo-merchant/shop"
)

// buildCLI builds the real binary, as the tests that signal or restart it
// need; CGO_ENABLED=0 in every one of them, so the build cache serves all.
func buildCLI(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bjpay-sandbox")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	build.Env = append(build.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startCLI starts cmd, capturing its output; exited reports its end, and
// the test's cleanup kills it if it is still running.
func startCLI(t *testing.T, cmd *exec.Cmd) (stdout, stderr *syncBuffer, exited <-chan error) {
	t.Helper()
	stdout, stderr = &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return stdout, stderr, done
}

// TestTestInterrupted: the real binary, sent SIGINT (Ctrl-C) or SIGTERM
// (a CI job cancelled) in the middle of a run, stops the scenario under
// way, writes the reports gathered so far and exits 1 with a line saying
// it was interrupted. The bound asserted is generous; the figure is
// logged.
func TestTestInterrupted(t *testing.T) {
	bin := buildCLI(t)
	for _, tt := range []struct {
		signal syscall.Signal
		line   string
	}{
		{syscall.SIGINT, "bjpay-sandbox test: interrupted (interrupt signal received) after "},
		{syscall.SIGTERM, "bjpay-sandbox test: interrupted (terminated signal received) after "},
	} {
		t.Run(tt.signal.String(), func(t *testing.T) {
			t.Parallel() // each its own process, sandbox and merchant
			listen := freeAddr(t)
			// within: 5s keeps the run going for a minute: long enough to
			// be stopped in the middle.
			driver := shopDriver(t, shop.Config{SandboxURL: "http://" + listen, ClientID: "m-1", ClientSecret: "s-1"}, "listen: "+listen, "status")
			data, _ := os.ReadFile(driver)
			if err := os.WriteFile(driver, []byte(strings.Replace(string(data), "within: 300ms", "within: 5s", 1)), 0o600); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			junit, cucumber, html := filepath.Join(dir, "report.xml"), filepath.Join(dir, "cucumber.json"), filepath.Join(dir, "report.html")
			cmd := exec.Command(bin, "test", "--merchant", driver, "--format", "progress",
				"--format", "junit:"+junit, "--format", "cucumber:"+cucumber, "--format", "html:"+html)
			stdout, stderr, exited := startCLI(t, cmd)

			// In the middle: some scenarios have run, most have not.
			for deadline := time.Now().Add(90 * time.Second); strings.Count(stdout.String(), ".") < 25; {
				if time.Now().After(deadline) {
					t.Fatalf("the run did not get going within 90 s\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
				}
				time.Sleep(50 * time.Millisecond)
			}
			sent := time.Now()
			if err := cmd.Process.Signal(tt.signal); err != nil {
				t.Fatal(err)
			}
			var err error
			select {
			case err = <-exited:
			case <-time.After(30 * time.Second):
				t.Fatalf("still running 30 s after %s\nstdout:\n%s\nstderr:\n%s", tt.signal, stdout, stderr)
			}
			took := time.Since(sent)
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(stderr.String(), tt.line) {
				t.Errorf("ended with %v, want exit 1 and %q\nstderr:\n%s", err, tt.line, stderr)
			}
			if took > 10*time.Second {
				t.Errorf("exited %s after %s; the bound is 5 s, with room for a loaded machine", took, tt.signal)
			}
			if !strings.Contains(stdout.String(), "Result: INTERRUPTED") {
				t.Errorf("the summary does not say the run was interrupted:\n%s", stdout)
			}

			var totals struct {
				Tests   int `xml:"tests,attr"`
				Skipped int `xml:"skipped,attr"`
			}
			if data, err := os.ReadFile(junit); err != nil || xml.Unmarshal(data, &totals) != nil || totals.Tests == 0 || totals.Skipped == 0 || totals.Skipped == totals.Tests {
				t.Errorf("JUnit report: %v, totals %+v: want some scenarios run and some skipped", err, totals)
			}
			var feats []any
			if data, err := os.ReadFile(cucumber); err != nil || json.Unmarshal(data, &feats) != nil || len(feats) == 0 {
				t.Errorf("cucumber report: %v, %d features", err, len(feats))
			}
			if data, err := os.ReadFile(html); err != nil || !strings.Contains(string(data), "Result: INTERRUPTED") {
				t.Errorf("HTML report: %v, interrupted: %v", err, strings.Contains(string(data), "INTERRUPTED"))
			}
			t.Logf("%s: exited %s after the signal, %d of %d scenarios skipped in the JUnit report; stderr: %s",
				tt.signal, took.Round(10*time.Millisecond), totals.Skipped, totals.Tests, strings.TrimSpace(stderr.String()))
		})
	}
}
