package main

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/bjpay/bjpay-sandbox/features"
	"github.com/bjpay/bjpay-sandbox/scenarios"
)

// These tests check without a container engine what can be checked so:
// the Dockerfile's build command builds, the binary starts as the image
// starts it and passes its own health check, and docker-compose.yml is
// valid Compose whose commands, flags, variables, ports and URLs fit
// together. .ci/containers builds and runs both for real, with podman; the
// checks marked "(seen in the real build)" keep what it showed.

const repoRoot = "../.."

// dockerInstr is one Dockerfile instruction, continuation lines joined.
type dockerInstr struct {
	line      int
	cmd, args string // cmd upper-case
}

// dockerStage is a FROM and what follows it.
type dockerStage struct {
	name, from string
	instrs     []dockerInstr
}

// get returns the args of the stage's last instruction cmd, or "".
func (s dockerStage) get(cmd string) string {
	for _, in := range slices.Backward(s.instrs) {
		if in.cmd == cmd {
			return in.args
		}
	}
	return ""
}

// parseDockerfile reads the instructions of a Dockerfile by stage: enough
// of the format for the files this repository writes.
func parseDockerfile(t *testing.T, path string) []dockerStage {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var (
		stages  []dockerStage
		pending string
		start   int
	)
	for i, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if pending == "" && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if pending == "" {
			start = i + 1
		}
		if cont, ok := strings.CutSuffix(trimmed, `\`); ok {
			pending += cont + " "
			continue
		}
		full := pending + trimmed
		pending = ""
		cmd, args, _ := strings.Cut(full, " ")
		in := dockerInstr{start, strings.ToUpper(cmd), strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			from, name, _ := strings.Cut(in.args, " AS ")
			stages = append(stages, dockerStage{name: strings.TrimSpace(name), from: strings.TrimSpace(from)})
			continue
		}
		if len(stages) == 0 {
			t.Fatalf("%s:%d: %s before the first FROM", path, in.line, in.cmd)
		}
		stages[len(stages)-1].instrs = append(stages[len(stages)-1].instrs, in)
	}
	return stages
}

// execForm decodes a JSON-array instruction argument, ["a", "b"].
func execForm(t *testing.T, what, args string) []string {
	t.Helper()
	var argv []string
	if err := json.Unmarshal([]byte(args), &argv); err != nil || len(argv) == 0 {
		t.Fatalf("%s %s: not the exec form [\"cmd\", ...]: %v", what, args, err)
	}
	return argv
}

// runFlags matches the flags of a RUN instruction before its command
// (--mount=type=cache,..., --network=none), which sh would not take.
var runFlags = regexp.MustCompile(`^(--[a-z]+=\S+\s+)+`)

// builtImage is the image's binaries, built with the Dockerfile's command.
type builtImage struct {
	dir     string // holds bjpay-sandbox and demo-merchant
	version string
	stages  map[string]dockerStage
}

// buildAsDockerfile runs the go build line of the Dockerfile's build stage,
// output redirected to a temporary directory.
func buildAsDockerfile(t *testing.T) builtImage {
	t.Helper()
	img := builtImage{dir: t.TempDir(), version: "v0.0.0-packaging-test", stages: map[string]dockerStage{}}
	var build, flags string
	for _, st := range parseDockerfile(t, filepath.Join(repoRoot, "Dockerfile")) {
		img.stages[st.name] = st
		for _, in := range st.instrs {
			if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
				flags = runFlags.FindString(in.args)
				build = strings.TrimPrefix(in.args, flags)
			}
		}
	}
	// A cache mount keeps Go's build cache between builds only where the
	// golang image has it: root's, /root/.cache/go-build. Elsewhere it
	// silently caches nothing, and each build compiles everything again.
	for _, f := range strings.Fields(flags) {
		if strings.HasPrefix(f, "--mount=type=cache") && !strings.Contains(f, ",target=/root/.cache/go-build") {
			t.Errorf("Dockerfile: the go build's %s is not Go's build cache in the golang image, /root/.cache/go-build", f)
		}
	}
	if build == "" {
		t.Fatal("Dockerfile: no RUN ... go build line")
	}
	if !strings.Contains(build, "-o /out/ ") {
		t.Fatalf("Dockerfile: the go build line no longer writes to /out/; update this test: %s", build)
	}
	cmd := exec.Command("sh", "-c", strings.Replace(build, "-o /out/ ", "-o "+img.dir+"/ ", 1))
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "VERSION="+img.version)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the Dockerfile's build command failed: %v\n%s", err, out)
	}
	return img
}

// imageEnv is the environment a stage's ENV lines give, on top of this
// process's (without its BJPAY_SANDBOX_ variables), with overrides.
func imageEnv(st dockerStage, overrides ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BJPAY_SANDBOX_") {
			env = append(env, kv)
		}
	}
	for _, in := range st.instrs {
		if in.cmd == "ENV" {
			env = append(env, in.args)
		}
	}
	return append(env, overrides...)
}

func TestPackaging(t *testing.T) {
	img := buildAsDockerfile(t)
	sandbox, ok := img.stages["sandbox"]
	if !ok {
		t.Fatal("Dockerfile has no stage named sandbox")
	}

	t.Run("image stages", func(t *testing.T) {
		// The build image's Go is the one go.mod asks for: with an older
		// one the build stops (the golang image sets GOTOOLCHAIN=local),
		// and .ci/containers stands in for exactly this tag with the
		// machine's Go. (Seen in the real build.)
		mod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
		if err != nil {
			t.Fatal(err)
		}
		goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(mod)
		if from := img.stages["build"].from; goVersion == nil || from != "golang:"+string(goVersion[1]) {
			t.Errorf("the build stage is FROM %q; want golang:%s, go.mod's Go", from, goVersion[1])
		}
		// ./reports is written on every compose run and CI run: in the
		// build context, it would invalidate COPY . . and the layers after
		// it each time. (Seen in the real build.)
		ignore, err := os.ReadFile(filepath.Join(repoRoot, ".dockerignore"))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{".git", "/reports/"} {
			if !slices.Contains(strings.Fields(string(ignore)), want) {
				t.Errorf(".dockerignore lacks %s", want)
			}
		}
		for _, name := range []string{"sandbox", "demo-merchant"} {
			st := img.stages[name]
			if !strings.HasPrefix(st.from, "gcr.io/distroless/static") && st.from != "scratch" {
				t.Errorf("stage %s is FROM %q; want a static base (distroless/static or scratch)", name, st.from)
			}
			if u := st.get("USER"); u == "" || u == "root" || u == "0" || strings.HasPrefix(u, "0:") {
				t.Errorf("stage %s runs as USER %q; want a non-root user", name, u)
			}
		}
		for _, bin := range []string{"bjpay-sandbox", "demo-merchant"} {
			f, err := elf.Open(filepath.Join(img.dir, bin))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range f.Progs {
				if p.Type == elf.PT_INTERP {
					t.Errorf("%s is dynamically linked; distroless/static needs a static binary (CGO_ENABLED=0)", bin)
				}
			}
			f.Close()
		}
		out, err := exec.Command(filepath.Join(img.dir, "bjpay-sandbox"), "version").Output()
		if err != nil || !strings.Contains(string(out), img.version) {
			t.Errorf("version: %v %q; want the stamped %s", err, out, img.version)
		}
	})

	t.Run("sandbox starts as the image starts it", func(t *testing.T) {
		// ENTRYPOINT + CMD with the image's ENV; the address moved to a
		// free loopback port, as -p would map it.
		entry := execForm(t, "ENTRYPOINT", sandbox.get("ENTRYPOINT"))
		argv := append(entry[1:], execForm(t, "CMD", sandbox.get("CMD"))...)
		env := imageEnv(sandbox, "BJPAY_SANDBOX_ADDR="+freeAddr(t))
		if entry[0] != "bjpay-sandbox" {
			t.Fatalf("ENTRYPOINT runs %q; want bjpay-sandbox", entry[0])
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		serve := exec.CommandContext(ctx, filepath.Join(img.dir, "bjpay-sandbox"), argv...)
		serve.Env = env
		var serveErr bytes.Buffer
		serve.Stderr = &serveErr
		start := time.Now()
		if err := serve.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() {
			_ = serve.Process.Signal(os.Interrupt)
			if err := serve.Wait(); err != nil {
				t.Errorf("serve did not stop cleanly on SIGINT: %v\n%s", err, serveErr.String())
			}
		}()

		health := sandbox.get("HEALTHCHECK")
		_, check, ok := strings.Cut(health, "CMD ")
		if !ok {
			t.Fatalf("HEALTHCHECK %q has no CMD", health)
		}
		hc := execForm(t, "HEALTHCHECK CMD", check)
		probe := func(extra ...string) (string, error) {
			cmd := exec.Command(filepath.Join(img.dir, hc[0]), append(hc[1:], extra...)...)
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			return string(out), err
		}
		out, err := probe("--wait", "10s")
		if err != nil || !strings.Contains(out, `"status": "ok"`) {
			t.Fatalf("the HEALTHCHECK command failed: %v\n%s\nserve's log:\n%s", err, out, serveErr.String())
		}
		t.Logf("exec to healthy: %s", time.Since(start).Round(time.Millisecond))
		if out, err := probe(); err != nil {
			t.Errorf("one HEALTHCHECK probe: %v\n%s", err, out)
		}
	})

	t.Run("health fails when nothing listens", func(t *testing.T) {
		cmd := exec.Command(filepath.Join(img.dir, "bjpay-sandbox"), "health")
		cmd.Env = imageEnv(sandbox, "BJPAY_SANDBOX_ADDR="+freeAddr(t))
		out, err := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(string(out), "connection refused") {
			t.Errorf("exit %d (%v), want 1 naming the refusal:\n%s", code, err, out)
		}
	})

	t.Run("docker-compose.yml", func(t *testing.T) {
		checkCompose(t, img)
	})
}

// checkCompose loads docker-compose.yml with compose-go, the loader of the
// Compose specification, and checks that its parts fit together.
func checkCompose(t *testing.T, img builtImage) {
	// The published ports' defaults, as a plain `docker compose up` has them.
	t.Setenv("SANDBOX_PORT", "")
	t.Setenv("DEMO_MERCHANT_PORT", "")
	opts, err := cli.NewProjectOptions([]string{filepath.Join(repoRoot, "docker-compose.yml")},
		cli.WithWorkingDirectory(repoRoot), cli.WithProfiles([]string{"test"}), cli.WithOsEnv)
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	svc := func(name string) types.ServiceConfig {
		s, err := p.GetService(name)
		if err != nil {
			t.Fatalf("docker-compose.yml: %v", err)
		}
		return s
	}
	sandbox, merchant, conformance := svc("sandbox"), svc("demo-merchant"), svc("conformance")
	checkComposeReplicas(t)
	env := func(s types.ServiceConfig, k string) string {
		if v := s.Environment[k]; v != nil {
			return *v
		}
		return ""
	}

	// Which service runs in which profile, and which image target.
	for _, tt := range []struct {
		s        types.ServiceConfig
		profiles []string
		target   string
	}{
		{sandbox, nil, "sandbox"},
		{merchant, nil, "demo-merchant"},
		{conformance, []string{"test"}, "sandbox"},
	} {
		if !slices.Equal(tt.s.Profiles, tt.profiles) {
			t.Errorf("%s: profiles %v, want %v", tt.s.Name, tt.s.Profiles, tt.profiles)
		}
		if tt.s.Build == nil || tt.s.Build.Target != tt.target {
			t.Errorf("%s: build %+v, want target %s", tt.s.Name, tt.s.Build, tt.target)
		} else if _, ok := img.stages[tt.target]; !ok {
			t.Errorf("%s: build target %q is not a Dockerfile stage", tt.s.Name, tt.target)
		}
	}

	// The sandbox: port 8080 published, health checked, control API
	// exposed on purpose, scenarios mounted where it reads them.
	if len(sandbox.Ports) != 1 || sandbox.Ports[0].Target != 8080 || sandbox.Ports[0].Published != "8080" || sandbox.Ports[0].HostIP != "127.0.0.1" {
		t.Errorf("sandbox ports %+v; want 8080 published on the host's loopback (the control API is exposed)", sandbox.Ports)
	}
	// The hosted page's links (BJPAY_SANDBOX_PUBLIC_URL) reach the
	// sandbox where it is published. (Seen in the real build, where the
	// port moves: SANDBOX_PORT.)
	if u, err := url.Parse(env(sandbox, "BJPAY_SANDBOX_PUBLIC_URL")); err != nil || len(sandbox.Ports) != 1 || u.Host != "127.0.0.1:"+sandbox.Ports[0].Published {
		t.Errorf("sandbox BJPAY_SANDBOX_PUBLIC_URL is %q; want http://127.0.0.1:<the published port>", env(sandbox, "BJPAY_SANDBOX_PUBLIC_URL"))
	}
	if addr := env(sandbox, "BJPAY_SANDBOX_ADDR"); addr != ":8080" {
		t.Errorf("sandbox BJPAY_SANDBOX_ADDR is %q; want :8080, every interface, the published port", addr)
	}
	if hc := sandbox.HealthCheck; hc == nil || !slices.Equal(hc.Test, types.HealthCheckTest{"CMD", "bjpay-sandbox", "health"}) {
		t.Errorf("sandbox healthcheck %+v; want [CMD bjpay-sandbox health]", hc)
	}
	if env(sandbox, "BJPAY_SANDBOX_EXPOSE_CONTROL") != "true" {
		t.Errorf("sandbox: the conformance service needs the control API; BJPAY_SANDBOX_EXPOSE_CONTROL must be true")
	}
	// serve refuses an exposed control API without a token; the suite
	// presents the same one.
	if tok := env(sandbox, "BJPAY_SANDBOX_ADMIN_TOKEN"); tok == "" || env(conformance, "BJPAY_SANDBOX_ADMIN_TOKEN") != tok {
		t.Errorf("sandbox admin token %q, conformance's %q; want the same, not empty", tok, env(conformance, "BJPAY_SANDBOX_ADMIN_TOKEN"))
	}
	scnDir := env(sandbox, "BJPAY_SANDBOX_SCENARIOS")
	mounted := false
	for _, v := range sandbox.Volumes {
		if v.Target == scnDir {
			mounted = true
			if v.Source != filepath.Join(p.WorkingDir, "scenarios") {
				t.Errorf("sandbox mounts %s at %s; want ./scenarios", v.Source, v.Target)
			}
			if list, err := scenarios.Load(v.Source); err != nil || len(list) == 0 {
				t.Errorf("the scenarios mounted from %s do not load: %d scenario(s), %v", v.Source, len(list), err)
			}
		}
	}
	if !mounted {
		t.Errorf("sandbox: BJPAY_SANDBOX_SCENARIOS is %q but nothing is mounted there", scnDir)
	}

	// Every command is a real subcommand with real flags and variables:
	// run with --help after its arguments, a command line exits 0 only
	// when every flag before it exists and parses; the help lists each
	// flag's variable.
	sandboxEntry := execForm(t, "ENTRYPOINT", img.stages["sandbox"].get("ENTRYPOINT"))
	sandboxCmd := execForm(t, "CMD", img.stages["sandbox"].get("CMD"))
	for _, c := range []struct {
		what string
		s    types.ServiceConfig
		argv []string
	}{
		{"sandbox command", sandbox, append(sandboxEntry, orDefault(sandbox.Command, sandboxCmd)...)},
		{"sandbox healthcheck", sandbox, sandbox.HealthCheck.Test[1:]},
		{"conformance command", conformance, append(sandboxEntry, conformance.Command...)},
	} {
		t.Run(c.what, func(t *testing.T) {
			if c.argv[0] != "bjpay-sandbox" {
				t.Fatalf("runs %q; want bjpay-sandbox", c.argv[0])
			}
			for k, v := range c.s.Environment {
				if strings.HasPrefix(k, "BJPAY_SANDBOX_") && v != nil {
					t.Setenv(k, *v) // restored when the subtest ends
				}
			}
			code, help, stderr := runCLI(t, append(c.argv[1:], "--help")...)
			if code != 0 {
				t.Fatalf("%q is not a valid command line (exit %d):\n%s", c.argv, code, stderr)
			}
			if c.what == "sandbox healthcheck" {
				return // shares serve's environment; only --addr is its own
			}
			for k := range c.s.Environment {
				if strings.HasPrefix(k, "BJPAY_SANDBOX_") && !strings.Contains(help, "[$"+k+"]") {
					t.Errorf("%s sets no flag of %q", k, c.argv[:2])
				}
			}
		})
	}
	help := exec.Command(filepath.Join(img.dir, "demo-merchant"), append(slices.Clone(merchant.Command), "--help")...)
	if out, err := help.CombinedOutput(); err != nil {
		t.Errorf("demo-merchant command %q is not a valid command line: %v\n%s", merchant.Command, err, out)
	}

	// The URLs fit: the demo merchant calls the sandbox service on its
	// port, the driver file points at both services, the credentials agree.
	flags := map[string]string{}
	for _, a := range merchant.Command {
		k, v, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		flags[k] = v
	}
	if want := "http://sandbox:8080"; flags["sandbox-url"] != want {
		t.Errorf("demo-merchant --sandbox-url %q; want %s", flags["sandbox-url"], want)
	}
	var driverPath string
	for _, v := range conformance.Volumes {
		if v.Target == strings.TrimPrefix(conformance.Command[1], "--merchant=") {
			driverPath = v.Source
		}
	}
	d, err := features.LoadDriver(driverPath)
	if err != nil {
		t.Fatalf("the conformance driver file %q: %v", driverPath, err)
	}
	for _, u := range []struct{ what, url, host string }{
		{"sandbox.url", d.Sandbox.URL, "sandbox:8080"},
		{"merchant.notifyUrl", d.Merchant.NotifyURL, "demo-merchant:" + strings.TrimPrefix(flags["addr"], ":")},
		{"demo-merchant --public-url", flags["public-url"], "demo-merchant:" + strings.TrimPrefix(flags["addr"], ":")},
	} {
		if pu, err := url.Parse(u.url); err != nil || pu.Host != u.host {
			t.Errorf("%s is %q; want host %s, the service on the compose network", u.what, u.url, u.host)
		}
	}
	creds := fmt.Sprint(env(sandbox, "BJPAY_SANDBOX_CLIENT_ID"), env(sandbox, "BJPAY_SANDBOX_CLIENT_SECRET"))
	for what, got := range map[string]string{
		"demo-merchant flags": fmt.Sprint(flags["client-id"], flags["client-secret"]),
		"driver file":         fmt.Sprint(d.Merchant.ClientID, d.Merchant.ClientSecret),
	} {
		if got != creds {
			t.Errorf("%s credentials differ from the sandbox service's BJPAY_SANDBOX_CLIENT_ID/SECRET", what)
		}
	}

	// The conformance run waits for both services and writes its report
	// into a mounted folder.
	for dep, cond := range map[string]string{"sandbox": types.ServiceConditionHealthy, "demo-merchant": types.ServiceConditionStarted} {
		if got := conformance.DependsOn[dep].Condition; got != cond {
			t.Errorf("conformance depends_on %s: %q, want %q", dep, got, cond)
		}
	}
	report := ""
	for _, a := range conformance.Command {
		if f, ok := strings.CutPrefix(a, "--format=junit:"); ok {
			report = filepath.Dir(f)
		}
	}
	if !slices.ContainsFunc(conformance.Volumes, func(v types.ServiceVolumeConfig) bool { return v.Target == report && !v.ReadOnly }) {
		t.Errorf("conformance writes its JUnit report to %q, which is not a writable mount", report)
	}
}

func orDefault(cmd, def []string) []string {
	if len(cmd) == 0 {
		return def
	}
	return cmd
}

// checkComposeReplicas checks the replicas profile of docker-compose.yml:
// two replicas on the one PostgreSQL service, started once it is healthy,
// each published on its own loopback port, and serve takes their flags.
func checkComposeReplicas(t *testing.T) {
	opts, err := cli.NewProjectOptions([]string{filepath.Join(repoRoot, "docker-compose.yml")},
		cli.WithWorkingDirectory(repoRoot), cli.WithProfiles([]string{"replicas"}), cli.WithOsEnv)
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("docker-compose.yml, profile replicas: %v", err)
	}
	var dsn string
	ports := map[string]bool{}
	for _, name := range []string{"replica-a", "replica-b"} {
		s, err := p.GetService(name)
		if err != nil {
			t.Fatalf("docker-compose.yml, profile replicas: %v", err)
		}
		db := s.Environment["BJPAY_SANDBOX_DATABASE"]
		if db == nil || !strings.Contains(*db, "@postgres:5432/") || dsn != "" && *db != dsn {
			t.Errorf("%s: BJPAY_SANDBOX_DATABASE %v; want the postgres service's database, the same for both", name, db)
		} else {
			dsn = *db
		}
		if dep, ok := s.DependsOn["postgres"]; !ok || dep.Condition != "service_healthy" {
			t.Errorf("%s: depends_on %+v; want postgres, healthy", name, s.DependsOn)
		}
		if len(s.Ports) != 1 || s.Ports[0].HostIP != "127.0.0.1" || ports[s.Ports[0].Published] {
			t.Errorf("%s: ports %+v; want one of its own, on the host's loopback", name, s.Ports)
		} else {
			ports[s.Ports[0].Published] = true
		}
		for k, v := range s.Environment {
			if strings.HasPrefix(k, "BJPAY_SANDBOX_") && v != nil && k != "BJPAY_SANDBOX_DATABASE" {
				t.Setenv(k, *v)
			}
		}
		if code, _, stderr := runCLI(t, "serve", "--help"); code != 0 {
			t.Errorf("%s: serve with its environment: exit %d\n%s", name, code, stderr)
		}
	}
}
