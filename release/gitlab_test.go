package release_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
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

const componentPath = "templates/bjpay-conformance.yml"

// gitlabInput is an input of a component's spec.
type gitlabInput struct {
	Description string   `yaml:"description"`
	Default     *string  `yaml:"default"`
	Options     []string `yaml:"options"`
	Regex       string   `yaml:"regex"`
}

// gitlabJob is the part of a job the tests read; other keys fail them.
type gitlabJob struct {
	Stage     string            `yaml:"stage"`
	Image     string            `yaml:"image"`
	Variables map[string]string `yaml:"variables"`
	Script    []string          `yaml:"script"`
	Artifacts struct {
		When    string `yaml:"when"`
		Reports struct {
			JUnit string `yaml:"junit"`
		} `yaml:"reports"`
		Paths []string `yaml:"paths"`
	} `yaml:"artifacts"`
}

// gitlabInputRef is an interpolation of an input, as GitLab writes it.
var gitlabInputRef = regexp.MustCompile(`\$\[\[\s*inputs\.([a-z][a-z-]*)\s*\]\]`)

// loadComponent reads the component's two YAML documents: the spec of its
// inputs, then its job, as a node to interpolate.
func loadComponent(t *testing.T) (raw string, inputs map[string]gitlabInput, jobs yaml.Node) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, componentPath))
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var header struct {
		Spec struct {
			Inputs map[string]gitlabInput `yaml:"inputs"`
		} `yaml:"spec"`
	}
	if err := dec.Decode(&header); err != nil {
		t.Fatalf("%s: the spec header: %v", componentPath, err)
	}
	if err := dec.Decode(&jobs); err != nil {
		t.Fatalf("%s: the document after ---: %v", componentPath, err)
	}
	if err := dec.Decode(new(yaml.Node)); err != io.EOF {
		t.Fatalf("%s: want two documents, spec then jobs (%v)", componentPath, err)
	}
	return string(data), header.Spec.Inputs, jobs
}

// interpolate replaces $[[ inputs.NAME ]] in every string of the jobs, as
// GitLab does once the file is parsed, and decodes the one job.
func interpolate(t *testing.T, jobs yaml.Node, values map[string]string) (string, gitlabJob) {
	t.Helper()
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.ScalarNode {
			n.Value = gitlabInputRef.ReplaceAllStringFunc(n.Value, func(m string) string {
				v, ok := values[gitlabInputRef.FindStringSubmatch(m)[1]]
				if !ok {
					t.Fatalf("%s: %s names no input", componentPath, m)
				}
				return v
			})
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&jobs)
	var all map[string]yaml.Node
	if err := jobs.Decode(&all); err != nil || len(all) != 1 {
		t.Fatalf("%s: want one job (%v)", componentPath, err)
	}
	for name, n := range all {
		var job gitlabJob
		var b bytes.Buffer
		if err := yaml.NewEncoder(&b).Encode(&n); err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(&b)
		dec.KnownFields(true)
		if err := dec.Decode(&job); err != nil {
			t.Fatalf("%s: job %s: %v", componentPath, name, err)
		}
		return name, job
	}
	panic("unreachable")
}

// TestComponentFile checks the component's structure: GitLab's layout (a
// spec of inputs, ---, the job), every input described and used, inputs
// reaching the script only through variables, and the JUnit report
// declared where the script writes it.
func TestComponentFile(t *testing.T) {
	raw, inputs, jobs := loadComponent(t)
	_, body, _ := strings.Cut(raw, "\n---\n")
	for name, in := range inputs {
		if in.Description == "" {
			t.Errorf("input %s has no description", name)
		}
		if !strings.Contains(body, "inputs."+name+" ]]") {
			t.Errorf("input %s is declared but never used", name)
		}
		if in.Default != nil && in.Options != nil && !slices.Contains(in.Options, *in.Default) {
			t.Errorf("input %s: default %q is not one of its options %q", name, *in.Default, in.Options)
		}
	}
	if d := inputs["merchant"].Default; d != nil {
		t.Errorf("input merchant has a default (%q); every merchant has its own driver file", *d)
	}
	// Each input interpolated as <name>, to see where it lands.
	values := map[string]string{}
	for name := range inputs {
		values[name] = "<" + name + ">"
	}
	_, job := interpolate(t, jobs, values)
	for i, line := range job.Script {
		if regexp.MustCompile(`<[a-z-]+>`).MatchString(line) {
			t.Errorf("script item %d pastes an input into the script; pass it through variables:\n%s", i, line)
		}
	}
	for k, v := range job.Variables {
		if !regexp.MustCompile(`^<[a-z-]+>$`).MatchString(v) {
			t.Errorf("variable %s is %q; want one input", k, v)
		}
	}
	var reportsVar string
	for k, v := range job.Variables {
		if v == "<reports-dir>" {
			reportsVar = k
		}
	}
	script := strings.Join(job.Script, "\n")
	switch {
	case job.Artifacts.When != "always":
		t.Errorf("artifacts.when is %q; want always, so a failing run's report reaches the merge request", job.Artifacts.When)
	case job.Artifacts.Reports.JUnit != "<reports-dir>/junit.xml" || reportsVar == "" ||
		!strings.Contains(script, `--format "junit:$`+reportsVar+`/junit.xml"`):
		t.Errorf("artifacts.reports.junit is %q; want the file the script's --format junit: writes, via the variable of reports-dir (%q)", job.Artifacts.Reports.JUnit, reportsVar)
	case !slices.Contains(job.Artifacts.Paths, "<reports-dir>/") || !strings.Contains(script, `--format "html:$`+reportsVar+`/report.html"`):
		t.Errorf("artifacts.paths %q; want the reports folder, which holds the HTML report", job.Artifacts.Paths)
	}
	if job.Stage != "<stage>" || job.Image != "<image>" {
		t.Errorf("stage %q, image %q; want the inputs", job.Stage, job.Image)
	}
}

// TestComponentRun runs the component's job script as a GitLab runner
// does — its items in one shell with set -e, the job's variables
// interpolated and exported — with sh (dash here; busybox in Alpine) and
// bash, downloading a release of the real binary over HTTP with curl or,
// in an image without it, wget, against a demo merchant.
func TestComponentRun(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skipf("the component's job runs on Linux or macOS runners; this is %s", runtime.GOOS)
	}
	exe, err := os.ReadFile(goBuild(t, "./cmd/bjpay-sandbox", "1.2.3"))
	if err != nil {
		t.Fatal(err)
	}
	platform := runtime.GOOS + "/" + runtime.GOARCH
	release := makeRelease(t, "1.2.3", exe, platform)
	tampered := makeRelease(t, "1.2.3", exe, platform)
	name := archiveName(t, "1.2.3", runtime.GOOS, runtime.GOARCH)
	if err := os.WriteFile(filepath.Join(tampered, "v1.2.3", name), writeArchive(t, name, map[string][]byte{"bjpay-sandbox": []byte("#!/bin/sh\n")}), 0o644); err != nil {
		t.Fatal(err)
	}
	serve := func(dir string) string {
		mux := http.NewServeMux()
		mux.Handle("/releases/download/", http.StripPrefix("/releases/download/", http.FileServer(http.Dir(dir))))
		mux.Handle("/releases/latest", http.RedirectHandler("/releases/tag/v1.2.3", http.StatusFound)) // as github.com does
		mux.HandleFunc("/releases/tag/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "the release page") })
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		return srv.URL + "/releases/download"
	}
	releaseURL, tamperedURL := serve(release), serve(tampered)
	noCurl := pathWithout(t, "curl")

	const wrongKey = "A notify that BJPAY did not sign as sent is refused (wrong-key)"
	tests := []struct {
		name     string
		shell    string
		path     string // PATH, when not this process's
		bug      string
		inputs   map[string]string
		code     int
		log      string
		failures int // in the JUnit report
	}{
		{name: "broken merchant with sh", shell: "sh", bug: "skip-signature", inputs: map[string]string{"version": "v1.2.3", "tags": "@required", "concurrency": "4"},
			code: 1, log: "FAILED @required: " + wrongKey, failures: 10},
		{name: "latest with wget and strict", shell: "sh", path: noCurl, inputs: map[string]string{"tags": "@required", "strict": "true", "concurrency": "4"},
			code: 0, log: "Result: PASS\n"},
		{name: "latest with curl and bash", shell: "bash", inputs: map[string]string{"tags": "@required && ~@checkout", "concurrency": "4"},
			code: 0, log: "Result: PASS\n"},
		{name: "tampered archive", shell: "sh", inputs: map[string]string{"version": "1.2.3", "release-url": tamperedURL},
			code: 1, log: "bjpay-conformance: " + name + " does not match its checksum in checksums.txt of v1.2.3"},
	}
	_, spec, jobs := loadComponent(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			values := map[string]string{"merchant": demoMerchant(t, tt.bug), "release-url": releaseURL}
			maps.Copy(values, tt.inputs)
			for name, in := range spec {
				v, given := values[name]
				switch {
				case !given && in.Default == nil:
					t.Fatalf("input %s is required", name)
				case !given:
					values[name] = *in.Default
				case in.Options != nil && !slices.Contains(in.Options, v):
					t.Fatalf("input %s: %q is not one of %q", name, v, in.Options)
				case in.Regex != "" && !regexp.MustCompile(in.Regex).MatchString(v):
					t.Fatalf("input %s: %q does not match %s", name, v, in.Regex)
				}
			}
			var jobCopy yaml.Node
			b, _ := yaml.Marshal(&jobs)
			if err := yaml.Unmarshal(b, &jobCopy); err != nil {
				t.Fatal(err)
			}
			_, job := interpolate(t, jobCopy, values)

			project := t.TempDir()
			env := cleanEnv("CI=true", "GITLAB_CI=true", "CI_PROJECT_DIR="+project, "TMPDIR="+t.TempDir())
			if tt.path != "" {
				env = append(env, "PATH="+tt.path)
			}
			for _, k := range slices.Sorted(maps.Keys(job.Variables)) {
				env = append(env, k+"="+job.Variables[k])
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, tt.shell, "-c", "set -e\n"+strings.Join(job.Script, "\n"))
			cmd.Dir, cmd.Env = project, env
			out, _ := cmd.CombinedOutput()
			if code := cmd.ProcessState.ExitCode(); code != tt.code || !strings.Contains(string(out), tt.log) {
				t.Fatalf("exit %d, want %d with %q in the log:\n%s", code, tt.code, tt.log, out)
			}
			if strings.Contains(tt.log, "checksum") {
				return
			}
			if !strings.Contains(string(out), "bjpay-sandbox 1.2.3") {
				t.Errorf("the script did not run the release's binary:\n%s", out)
			}
			// What GitLab collects: the JUnit report for the merge request,
			// the folder with the HTML report.
			data, err := os.ReadFile(filepath.Join(project, job.Artifacts.Reports.JUnit))
			var junit struct {
				Tests    int `xml:"tests,attr"`
				Failures int `xml:"failures,attr"`
			}
			if err == nil {
				err = xml.Unmarshal(data, &junit)
			}
			if err != nil || junit.Tests == 0 || junit.Failures != tt.failures {
				t.Errorf("artifacts.reports.junit %s: %v, %d tests, %d failures; want %d failures", job.Artifacts.Reports.JUnit, err, junit.Tests, junit.Failures, tt.failures)
			}
			if tt.failures > 0 && !bytes.Contains(data, []byte(`name="`+wrongKey+`"`)) {
				t.Errorf("the JUnit report does not name %q", wrongKey)
			}
			if _, err := os.Stat(filepath.Join(project, job.Artifacts.Paths[0], "report.html")); err != nil {
				t.Errorf("artifacts.paths: %v", err)
			}
		})
	}
}

// pathWithout is a PATH of one directory holding links to every command
// on this process's PATH except those named: an image without curl, say.
func pathWithout(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			link := filepath.Join(dir, e.Name())
			if slices.Contains(names, e.Name()) {
				continue
			}
			if _, err := os.Lstat(link); err == nil {
				continue // an earlier PATH entry has it
			}
			if err := os.Symlink(filepath.Join(d, e.Name()), link); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}
