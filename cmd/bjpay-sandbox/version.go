package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
)

// The release stamp, set at build time by GoReleaser (.goreleaser.yaml) or
// the Dockerfile:
//
//	go build -ldflags "-X main.buildVersion=v1.2.3 -X main.buildCommit=0123abc -X main.buildDate=2026-11-24T10:00:00Z" ./cmd/bjpay-sandbox
var buildVersion, buildCommit, buildDate string

// version says which build this is, from the best source there is: the
// release stamp; else what the Go toolchain recorded (the module version
// that `go install module@version` saw, the VCS revision and whether the
// work tree was modified, when built in a checkout with -buildvcs); else
// "(devel)", as Go itself says of an unversioned build.
func version() string {
	bi, _ := debug.ReadBuildInfo()
	return describeVersion(buildVersion, buildCommit, buildDate, bi)
}

// describeVersion is version's logic, apart from the process's own build
// information, for tests.
func describeVersion(stamp, commit, date string, bi *debug.BuildInfo) string {
	if stamp != "" {
		return stamp + details(commit, date, false)
	}
	v := "(devel)"
	if bi == nil {
		return v
	}
	if bi.Main.Version != "" {
		v = bi.Main.Version
	}
	var revision, modified, at string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value
		case "vcs.time":
			at = s.Value
		}
	}
	if len(revision) > 12 {
		revision = revision[:12]
	}
	return v + details(revision, at, modified == "true")
}

// details renders the commit, date and dirty flag that are known, e.g.
// " (commit 0123456789ab, modified, 2026-11-24T10:00:00Z)".
func details(commit, date string, modified bool) string {
	var parts []string
	if commit != "" {
		parts = append(parts, "commit "+commit)
	}
	if modified {
		parts = append(parts, "modified")
	}
	if date != "" {
		parts = append(parts, date)
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func runVersion(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", "", "  bjpay-sandbox version\n", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "bjpay-sandbox %s %s %s/%s\n", version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
