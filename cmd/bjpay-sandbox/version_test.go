package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/bjpay/bjpay-sandbox/release/worktree"
)

func TestDescribeVersion(t *testing.T) {
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	tests := []struct {
		name                string
		stamp, commit, date string
		bi                  *debug.BuildInfo
		want                string
	}{
		{name: "release stamp", stamp: "v1.2.3", commit: "0123abc", date: "2026-11-24T10:00:00Z",
			bi: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, want: "v1.2.3 (commit 0123abc, 2026-11-24T10:00:00Z)"},
		{name: "stamp alone (docker build --build-arg VERSION=)", stamp: "v1.2.3", want: "v1.2.3"},
		{name: "go install module@version", bi: &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, want: "v1.2.3"},
		{name: "go build in a clean checkout", bi: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"},
			Settings: vcs("vcs.revision", "f0dd7f3a1b2c3d4e5f60718293a4b5c6d7e8f901", "vcs.modified", "false", "vcs.time", "2026-11-24T03:00:00Z")},
			want: "(devel) (commit f0dd7f3a1b2c, 2026-11-24T03:00:00Z)"},
		{name: "go build in a modified checkout", bi: &debug.BuildInfo{Main: debug.Module{Version: "v0.1.1-0.20261124030000-f0dd7f3a1b2c+dirty"},
			Settings: vcs("vcs.revision", "f0dd7f3a1b2c3d4e5f60718293a4b5c6d7e8f901", "vcs.modified", "true")},
			want: "v0.1.1-0.20261124030000-f0dd7f3a1b2c+dirty (commit f0dd7f3a1b2c, modified)"},
		{name: "-buildvcs=false, go run", bi: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, want: "(devel)"},
		{name: "no build information", want: "(devel)"},
		{name: "empty main version", bi: &debug.BuildInfo{}, want: "(devel)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := describeVersion(tt.stamp, tt.commit, tt.date, tt.bi); got != tt.want {
				t.Errorf("describeVersion = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestVersionOfBuilds builds the real binary the ways a user does and
// checks what `version` says. GOFLAGS is set per build, since machines
// (this one: -buildvcs=false) and CI differ in what they put there.
func TestVersionOfBuilds(t *testing.T) {
	clone, head := worktree.Commit(t, repoRoot)
	head = head[:12]
	tests := []struct {
		name    string
		flags   []string
		want    []string // in `version`'s output
		notWant []string
	}{
		{name: "release stamp", flags: []string{"-buildvcs=false", "-ldflags=-X main.buildVersion=v9.8.7 -X main.buildCommit=abc1234 -X main.buildDate=2026-11-24T10:00:00Z"},
			want: []string{"bjpay-sandbox v9.8.7 (commit abc1234, 2026-11-24T10:00:00Z) go1."}},
		{name: "checkout with -buildvcs", flags: []string{"-buildvcs=true"}, want: []string{"(commit " + head + ", 20"}, notWant: []string{"modified", "(devel)"}},
		{name: "-buildvcs=false", flags: []string{"-buildvcs=false"}, want: []string{"bjpay-sandbox (devel) go1."}},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin := filepath.Join(dir, "bjpay-sandbox-"+string(rune('a'+i)))
			build := exec.Command("go", append(append([]string{"build", "-o", bin}, tt.flags...), "./cmd/bjpay-sandbox")...)
			build.Dir = clone
			build.Env = append(os.Environ(), "GOFLAGS=", "CGO_ENABLED=0")
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("go build %v: %v\n%s", tt.flags, err, out)
			}
			out, err := exec.Command(bin, "version").Output()
			if err != nil {
				t.Fatalf("version: %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("version printed %q; want it to contain %q", out, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(string(out), w) {
					t.Errorf("version printed %q; want no %q", out, w)
				}
			}
		})
	}
}
