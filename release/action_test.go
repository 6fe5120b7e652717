package release_test

import (
	"bufio"
	"context"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// actionFile is action.yml, decoded strictly: a key GitHub's metadata
// syntax does not have fails the test.
type actionFile struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Author      string `yaml:"author"`
	Branding    struct{ Icon, Color string }
	Inputs      map[string]actionInput `yaml:"inputs"`
	Outputs     map[string]struct{ Description, Value string }
	Runs        struct {
		Using string       `yaml:"using"`
		Steps []actionStep `yaml:"steps"`
	} `yaml:"runs"`
}

type actionInput struct {
	Description string  `yaml:"description"`
	Required    bool    `yaml:"required"`
	Default     *string `yaml:"default"`
}

type actionStep struct {
	ID    string            `yaml:"id"`
	If    string            `yaml:"if"`
	Shell string            `yaml:"shell"`
	Run   string            `yaml:"run"`
	Uses  string            `yaml:"uses"`
	Env   map[string]string `yaml:"env"`
	With  map[string]string `yaml:"with"`
}

func loadAction(t *testing.T) actionFile {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	var a actionFile
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	return a
}

// actionExpr is every expression the action may use in a run step's env:
// the test evaluates these, and a script sees inputs only through env.
var actionExpr = regexp.MustCompile(`^\$\{\{ (inputs\.([a-z-]+)|github\.action_ref|steps\.([a-z]+)\.outputs\.([a-z]+)) \}\}$`)

// TestActionFile checks action.yml's structure: what GitHub requires, every
// input described and used, scripts that take inputs through env only, and
// the reports uploaded from where the suite writes them.
func TestActionFile(t *testing.T) {
	a := loadAction(t)
	raw, err := os.ReadFile(filepath.Join(repoRoot, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Name == "" || a.Description == "" || a.Runs.Using != "composite" {
		t.Errorf("name %q, description %q, runs.using %q: a composite action needs all three", a.Name, a.Description, a.Runs.Using)
	}
	if len(a.Description) > 125 {
		t.Errorf("description is %d characters; GitHub Marketplace shows 125", len(a.Description))
	}
	for name, in := range a.Inputs {
		if in.Description == "" || in.Required == (in.Default != nil) {
			t.Errorf("input %s: wants a description and either required or a default", name)
		}
		if !regexp.MustCompile(`inputs\.` + regexp.QuoteMeta(name) + `\b`).Match(raw) {
			t.Errorf("input %s is declared but never used", name)
		}
	}
	for _, m := range regexp.MustCompile(`inputs\.([a-z][a-z-]*)`).FindAllSubmatch(raw, -1) {
		if _, ok := a.Inputs[string(m[1])]; !ok {
			t.Errorf("%s: no such input", m[0])
		}
	}
	ids := map[string]bool{}
	var upload *actionStep
	for i, s := range a.Runs.Steps {
		if s.ID != "" {
			if ids[s.ID] {
				t.Errorf("step %d: id %s used twice", i, s.ID)
			}
			ids[s.ID] = true
		}
		switch {
		case (s.Run == "") == (s.Uses == ""):
			t.Errorf("step %d: wants run or uses, one of them", i)
		case s.Uses != "":
			upload = &a.Runs.Steps[i]
		case s.Shell != "bash":
			t.Errorf("step %s: shell %q; a composite action's run step names its shell, bash here", s.ID, s.Shell)
		case strings.Contains(s.Run, "${{"):
			t.Errorf("step %s: an expression in the script; pass it through env (an input must not become shell code)", s.ID)
		case s.If != "":
			t.Errorf("step %s: if %q; TestActionRun runs run steps unconditionally", s.ID, s.If)
		}
		for k, v := range s.Env {
			if !actionExpr.MatchString(v) {
				t.Errorf("step %s: env %s is %q; want one of the expressions TestActionRun evaluates", s.ID, k, v)
			}
		}
	}
	for name, o := range a.Outputs {
		m := actionExpr.FindStringSubmatch(o.Value)
		if m == nil || !ids[m[3]] {
			t.Errorf("output %s is %q; want ${{ steps.ID.outputs.NAME }} of a step", name, o.Value)
		}
	}
	switch {
	case upload == nil:
		t.Error("no step uploads the reports")
	case !strings.HasPrefix(upload.Uses, "actions/upload-artifact@v"):
		t.Errorf("the upload step uses %s; want actions/upload-artifact", upload.Uses)
	case upload.With["path"] != "${{ inputs.reports-dir }}" || upload.With["name"] != "${{ inputs.artifact-name }}":
		t.Errorf("the upload step's with: %v; want the reports-dir, named artifact-name", upload.With)
	case !strings.Contains(upload.If, "!cancelled()") || !strings.Contains(upload.If, "steps.test.outcome != 'skipped'"):
		t.Errorf("the upload step's if: %q; want it after a failed run too (!cancelled()), once the suite has run", upload.If)
	}
}

// runner is what GitHub Actions tells a step about where it runs.
type runner struct{ os, arch, actionRef string }

// hostRunner is this machine as a GitHub-hosted runner describes itself.
func hostRunner(t *testing.T) runner {
	os := map[string]string{"linux": "Linux", "darwin": "macOS", "windows": "Windows"}[runtime.GOOS]
	arch := map[string]string{"amd64": "X64", "arm64": "ARM64"}[runtime.GOARCH]
	if os == "" || arch == "" {
		t.Skipf("no GitHub runner is %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	return runner{os: os, arch: arch}
}

// actionResult is what a run of the action left.
type actionResult struct {
	workspace string
	log       string            // every step's output
	summary   string            // what the steps appended to their GITHUB_STEP_SUMMARY
	path      []string          // what they appended to GITHUB_PATH
	outputs   map[string]string // the action's outputs
	failed    string            // the id of the step that failed, "" when none did
	code      int               // its exit status
}

// runAction runs action.yml's run steps as the GitHub runner does — bash
// --noprofile --norc -eo pipefail, env evaluated, a GITHUB_OUTPUT,
// GITHUB_STEP_SUMMARY and GITHUB_PATH file per step, outputs passed on,
// later steps skipped after a failure — up to and including the step
// named last ("" for all). It cannot run the upload step (uses:), whose
// wiring TestActionFile checks.
func runAction(t *testing.T, with map[string]string, r runner, last string) actionResult {
	t.Helper()
	a := loadAction(t)
	inputs := map[string]string{}
	for name, in := range a.Inputs {
		if in.Default != nil {
			inputs[name] = *in.Default
		}
	}
	for k, v := range with {
		if _, ok := a.Inputs[k]; !ok {
			t.Fatalf("action.yml has no input %q", k)
		}
		inputs[k] = v
	}
	for name, in := range a.Inputs {
		if in.Required && inputs[name] == "" {
			t.Fatalf("input %s is required", name)
		}
	}
	res := actionResult{workspace: t.TempDir(), outputs: map[string]string{}}
	temp := t.TempDir()
	outputs := map[string]map[string]string{}
	eval := func(expr string) string {
		m := actionExpr.FindStringSubmatch(expr)
		switch {
		case m == nil:
			t.Fatalf("%q: not an expression this test evaluates", expr)
		case m[2] != "":
			return inputs[m[2]]
		case m[3] != "":
			return outputs[m[3]][m[4]]
		}
		return r.actionRef
	}
	var log strings.Builder
	for i, s := range a.Runs.Steps {
		if s.Run == "" {
			continue
		}
		dir := filepath.Join(temp, "step"+string(rune('0'+i)))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		script := filepath.Join(dir, "script.sh")
		if err := os.WriteFile(script, []byte(s.Run), 0o644); err != nil {
			t.Fatal(err)
		}
		files := map[string]string{}
		for _, f := range []string{"GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_PATH"} {
			files[f] = filepath.Join(dir, f)
			if err := os.WriteFile(files[f], nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		env := cleanEnv("CI=true", "GITHUB_ACTIONS=true", "GITHUB_WORKSPACE="+res.workspace,
			"RUNNER_OS="+r.os, "RUNNER_ARCH="+r.arch, "RUNNER_TEMP="+temp,
			"PATH="+strings.Join(append(slices.Clone(res.path), os.Getenv("PATH")), string(os.PathListSeparator)))
		for f, p := range files {
			env = append(env, f+"="+p)
		}
		for _, k := range slices.Sorted(maps.Keys(s.Env)) {
			env = append(env, k+"="+eval(s.Env[k]))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", "-eo", "pipefail", script)
		cmd.Dir, cmd.Env = res.workspace, env
		out, err := cmd.CombinedOutput()
		timedOut := ctx.Err() != nil
		cancel()
		log.Write(out)
		res.summary += readAll(t, files["GITHUB_STEP_SUMMARY"])
		for _, p := range strings.Split(strings.TrimSpace(readAll(t, files["GITHUB_PATH"])), "\n") {
			if p != "" {
				res.path = append([]string{p}, res.path...)
			}
		}
		outputs[s.ID] = map[string]string{}
		sc := bufio.NewScanner(strings.NewReader(readAll(t, files["GITHUB_OUTPUT"])))
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), "=")
			if !ok {
				t.Fatalf("step %s: GITHUB_OUTPUT line %q is not NAME=VALUE", s.ID, sc.Text())
			}
			outputs[s.ID][k] = v
		}
		if err != nil {
			res.failed, res.code = s.ID, cmd.ProcessState.ExitCode()
			if timedOut {
				t.Fatalf("step %s did not end within 3 minutes:\n%s", s.ID, log.String())
			}
			break
		}
		if s.ID == last {
			break
		}
	}
	res.log = log.String()
	for name, o := range a.Outputs {
		res.outputs[name] = eval(o.Value)
	}
	return res
}

// stubExe is a "binary" for any platform's archive: a script that says
// which it is, so the install step can run it here.
const stubExe = "#!/bin/sh\necho \"bjpay-sandbox 1.2.3 (a stub for the install test)\"\n"

// TestActionInstall runs the action's install step for each runner
// GitHub offers, against a release laid out as GoReleaser makes it,
// served from a file:// URL (the release-url input, for mirrors), and
// with the mistakes it must stop at.
func TestActionInstall(t *testing.T) {
	all := []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64", "windows/amd64", "windows/arm64"}
	release := makeRelease(t, "1.2.3", []byte(stubExe), all...)
	tampered := makeRelease(t, "1.2.3", []byte(stubExe), "linux/amd64")
	name := archiveName(t, "1.2.3", "linux", "amd64")
	if err := os.WriteFile(filepath.Join(tampered, "v1.2.3", name), writeArchive(t, name, map[string][]byte{"bjpay-sandbox": []byte("#!/bin/sh\necho forged\n")}), 0o644); err != nil {
		t.Fatal(err)
	}
	unlisted := makeRelease(t, "1.2.3", []byte(stubExe), "linux/amd64")
	if err := os.WriteFile(filepath.Join(unlisted, "v1.2.3", "checksums.txt"), []byte("0000  other.tar.gz\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stub := filepath.Join(t.TempDir(), "bjpay-sandbox")
	if err := os.WriteFile(stub, []byte(stubExe), 0o755); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		runner  runner
		with    map[string]string
		release string
		exe     string // the installed file's name; "" when the step must fail
		fails   string // its message
	}{
		{name: "linux x64", runner: runner{os: "Linux", arch: "X64"}, with: map[string]string{"version": "v1.2.3"}, exe: "bjpay-sandbox"},
		{name: "linux arm64", runner: runner{os: "Linux", arch: "ARM64"}, with: map[string]string{"version": "v1.2.3"}, exe: "bjpay-sandbox"},
		{name: "macos x64", runner: runner{os: "macOS", arch: "X64"}, with: map[string]string{"version": "v1.2.3"}, exe: "bjpay-sandbox"},
		{name: "macos arm64", runner: runner{os: "macOS", arch: "ARM64"}, with: map[string]string{"version": "v1.2.3"}, exe: "bjpay-sandbox"},
		{name: "windows x64", runner: runner{os: "Windows", arch: "X64"}, with: map[string]string{"version": "v1.2.3"}, exe: "bjpay-sandbox.exe"},
		{name: "windows arm64", runner: runner{os: "Windows", arch: "ARM64"}, with: map[string]string{"version": "v1.2.3"}, exe: "bjpay-sandbox.exe"},
		{name: "version without v", runner: runner{os: "Linux", arch: "X64"}, with: map[string]string{"version": "1.2.3"}, exe: "bjpay-sandbox"},
		{name: "the action's own tag", runner: runner{os: "Linux", arch: "X64", actionRef: "v1.2.3"}, exe: "bjpay-sandbox"},
		{name: "latest, not found", runner: runner{os: "Linux", arch: "X64", actionRef: "main"},
			fails: "::error title=bjpay-sandbox install::could not look up the latest release at file://"},
		{name: "no such version", runner: runner{os: "Linux", arch: "X64"}, with: map[string]string{"version": "v9.9.9"},
			fails: "could not download file://"},
		{name: "tampered archive", runner: runner{os: "Linux", arch: "X64"}, with: map[string]string{"version": "v1.2.3"}, release: tampered,
			fails: "::error title=bjpay-sandbox install::" + name + " does not match its checksum in checksums.txt of v1.2.3"},
		{name: "archive not in checksums.txt", runner: runner{os: "Linux", arch: "X64"}, with: map[string]string{"version": "v1.2.3"}, release: unlisted,
			fails: "checksums.txt of v1.2.3 does not list " + name},
		{name: "32-bit runner", runner: runner{os: "Linux", arch: "X86"}, with: map[string]string{"version": "v1.2.3"},
			fails: "no bjpay-sandbox release for runner architecture X86 (X64 and ARM64 have one)"},
		{name: "binary-path", runner: runner{os: "Linux", arch: "X86"}, with: map[string]string{"binary-path": stub}, exe: "bjpay-sandbox"},
		{name: "binary-path missing", runner: runner{os: "Linux", arch: "X64"}, with: map[string]string{"binary-path": stub + ".missing"},
			fails: "binary-path " + stub + ".missing is not an executable file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rel := tt.release
			if rel == "" {
				rel = release
			}
			with := map[string]string{"merchant": "merchant.yaml", "release-url": "file://" + rel}
			maps.Copy(with, tt.with)
			res := runAction(t, with, tt.runner, "install")
			if tt.exe == "" {
				if res.failed != "install" || !strings.Contains(res.log, tt.fails) {
					t.Errorf("the install step: failed %q, log:\n%s\nwant it to fail with %q", res.failed, res.log, tt.fails)
				}
				return
			}
			if res.failed != "" || !strings.Contains(res.log, "bjpay-sandbox 1.2.3 (a stub") {
				t.Fatalf("the install step failed (exit %d) or did not run the binary:\n%s", res.code, res.log)
			}
			if len(res.path) != 1 || filepath.Base(res.path[0]) != filepath.Base(filepath.Dir(filepath.Join(res.path[0], tt.exe))) {
				t.Errorf("GITHUB_PATH got %q; want the binary's directory", res.path)
			}
			if _, err := os.Stat(filepath.Join(res.path[0], tt.exe)); err != nil {
				t.Errorf("%s is not where GITHUB_PATH points: %v", tt.exe, err)
			}
		})
	}
}

// TestActionRun runs what the action runs, from the install of a release
// archive of the real binary to the suite against a demo merchant, with
// the GITHUB_* files in a temporary directory: the job summary names the
// broken merchant's failing scenarios, ::error lines annotate them, the
// reports are where the upload step takes them, and a pass says so.
func TestActionRun(t *testing.T) {
	r := hostRunner(t)
	exe, err := os.ReadFile(goBuild(t, "./cmd/bjpay-sandbox", "1.2.3"))
	if err != nil {
		t.Fatal(err)
	}
	release := makeRelease(t, "1.2.3", exe, runtime.GOOS+"/"+runtime.GOARCH)
	const wrongKey = "A notify that BJPAY did not sign as sent is refused (wrong-key)"
	tests := []struct {
		name    string
		bug     string
		with    map[string]string
		code    int
		summary []string
		log     []string
	}{
		{name: "broken merchant", bug: "skip-signature", with: map[string]string{"tags": "@required", "concurrency": "4"}, code: 1,
			summary: []string{"### ❌ BJPAY conformance: FAIL: the integration does not do what BJPAY's docs oblige\n",
				"| ❌ error | " + wrongKey + " | `@required` | expected the merchant to refuse the notify with a non-2xx status, but it acknowledged it with HTTP 200."},
			log: []string{"\n::error title=BJPAY conformance @required%3A " + wrongKey + "::expected the merchant to refuse the notify"}},
		{name: "correct merchant, strict", with: map[string]string{"tags": "@required", "strict": "true", "concurrency": "4"}, code: 0,
			summary: []string{"### ✅ BJPAY conformance: PASS\n", "All 13 scenarios that ran passed."}},
		{name: "bad strict", with: map[string]string{"strict": "yes"}, code: 2,
			log: []string{`::error title=BJPAY conformance::the strict input is "yes"; expected true or false`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			with := map[string]string{"merchant": demoMerchant(t, tt.bug), "version": "v1.2.3", "release-url": "file://" + release}
			maps.Copy(with, tt.with)
			res := runAction(t, with, r, "")
			t.Logf("the job summary:\n%s", res.summary)
			if !strings.Contains(res.log, "bjpay-sandbox 1.2.3") {
				t.Errorf("the install step did not run the release's binary:\n%s", res.log)
			}
			if got := map[bool]string{true: "test", false: ""}[tt.code != 0]; res.failed != got || res.code != tt.code {
				t.Fatalf("step %q failed with exit %d; want %q with %d\n%s", res.failed, res.code, got, tt.code, res.log)
			}
			for _, w := range tt.summary {
				if !strings.Contains(res.summary, w) {
					t.Errorf("the job summary lacks %q:\n%s", w, res.summary)
				}
			}
			for _, w := range tt.log {
				if !strings.Contains(res.log, w) {
					t.Errorf("the log lacks %q:\n%s", w, res.log)
				}
			}
			if tt.code == 2 {
				return
			}
			for name, want := range map[string]string{"junit": "bjpay-reports/junit.xml", "html": "bjpay-reports/report.html"} {
				if res.outputs[name] != want {
					t.Errorf("output %s is %q, want %q", name, res.outputs[name], want)
				}
				if info, err := os.Stat(filepath.Join(res.workspace, want)); err != nil || info.Size() == 0 {
					t.Errorf("the %s report, which the upload step takes: %v", name, err)
				}
			}
		})
	}
}
