package release_test

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// The CI integrations (action.yml, templates/bjpay-conformance.yml) are
// tested here, beside the release they download: their scripts run with
// the shells CI runs them with, against release archives named and laid
// out as .goreleaser.yaml makes them, and a demo merchant with a bug.

// archiveName renders .goreleaser.yaml's archive name for a platform, with
// its extension (format_overrides: zip on windows).
func archiveName(t *testing.T, version, goos, goarch string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		ProjectName string `yaml:"project_name"`
		Archives    []struct {
			NameTemplate    string   `yaml:"name_template"`
			Formats         []string `yaml:"formats"`
			FormatOverrides []struct {
				Goos    string   `yaml:"goos"`
				Formats []string `yaml:"formats"`
			} `yaml:"format_overrides"`
		} `yaml:"archives"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil || len(cfg.Archives) != 1 || len(cfg.Archives[0].Formats) != 1 {
		t.Fatalf(".goreleaser.yaml: want one archives entry with one format (%v)", err)
	}
	a := cfg.Archives[0]
	vars := map[string]string{"ProjectName": cfg.ProjectName, "Version": version, "Os": goos, "Arch": goarch}
	name := regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`).ReplaceAllStringFunc(a.NameTemplate, func(m string) string {
		v, ok := vars[regexp.MustCompile(`\w+`).FindString(m)]
		if !ok {
			t.Fatalf(".goreleaser.yaml: name_template %q uses %s; teach this test (and the CI scripts) its value", a.NameTemplate, m)
		}
		return v
	})
	format := a.Formats[0]
	for _, o := range a.FormatOverrides {
		if o.Goos == goos {
			format = o.Formats[0]
		}
	}
	return name + "." + format
}

// makeRelease writes a release as GoReleaser lays it out below a
// download URL: DIR/vVERSION/ARCHIVE for each platform, with the
// executable exe in it (bjpay-sandbox, .exe on windows) beside README.md
// and LICENSE, and DIR/vVERSION/checksums.txt. It returns DIR.
func makeRelease(t *testing.T, version string, exe []byte, platforms ...string) string {
	t.Helper()
	dir := t.TempDir()
	rel := filepath.Join(dir, "v"+version)
	if err := os.MkdirAll(rel, 0o755); err != nil {
		t.Fatal(err)
	}
	var sums strings.Builder
	for _, p := range platforms {
		goos, goarch, _ := strings.Cut(p, "/")
		name := archiveName(t, version, goos, goarch)
		files := map[string][]byte{"README.md": []byte("# bjpay-sandbox\n"), "LICENSE": []byte("MIT\n")}
		if goos == "windows" {
			files["bjpay-sandbox.exe"] = exe
		} else {
			files["bjpay-sandbox"] = exe
		}
		data := writeArchive(t, name, files)
		if err := os.WriteFile(filepath.Join(rel, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&sums, "%x  %s\n", sha256.Sum256(data), name)
	}
	if err := os.WriteFile(filepath.Join(rel, "checksums.txt"), []byte(sums.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeArchive packs files into a .tar.gz or, by name, a .zip, every file
// executable as GoReleaser packs binaries.
func writeArchive(t *testing.T, name string, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if strings.HasSuffix(name, ".zip") {
		z := zip.NewWriter(&buf)
		for n, data := range files {
			h := &zip.FileHeader{Name: n, Method: zip.Deflate}
			h.SetMode(0o755)
			w, err := z.CreateHeader(h)
			if err == nil {
				_, err = w.Write(data)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := z.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for n, data := range files {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o755, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var builds sync.Map // package path → *build

type build struct {
	once sync.Once
	dir  string
	err  error
	out  []byte
}

// goBuild builds a command of this module once per test binary, stamped
// with version, and returns the executable's path.
func goBuild(t *testing.T, pkg, version string) string {
	t.Helper()
	v, _ := builds.LoadOrStore(pkg+"@"+version, &build{})
	b := v.(*build)
	b.once.Do(func() {
		b.dir, b.err = os.MkdirTemp("", "bjpay-release-test-")
		if b.err != nil {
			return
		}
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-X main.buildVersion="+version, "-o", b.dir+"/", pkg)
		cmd.Dir = repoRoot
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		b.out, b.err = cmd.CombinedOutput()
	})
	if b.err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, b.err, b.out)
	}
	return filepath.Join(b.dir, filepath.Base(pkg))
}

// TestMain removes what goBuild built.
func TestMain(m *testing.M) {
	code := m.Run()
	builds.Range(func(_, v any) bool {
		if b := v.(*build); b.dir != "" {
			os.RemoveAll(b.dir)
		}
		return true
	})
	os.Exit(code)
}

// demoMerchant starts cmd/demo-merchant with bug ("" for none), calling a
// sandbox that the suite starts on a free address, and writes its driver
// file. The demo merchant applies a notify before it answers, so 300 ms of
// order reads (orderStatus.within) are plenty.
func demoMerchant(t *testing.T, bug string) (driver string) {
	t.Helper()
	sandbox := freeAddr(t)
	args := []string{"--addr", "127.0.0.1:0", "--sandbox-url", "http://" + sandbox, "--client-id", "m-1", "--client-secret", "s-1"}
	if bug != "" {
		args = append(args, "--bug", bug)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, goBuild(t, "./cmd/demo-merchant", ""), args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	logs, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	// Its first log line says where it listens: url=http://127.0.0.1:PORT.
	urls := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(logs)
		for s.Scan() {
			if m := regexp.MustCompile(`url=(http://\S+)`).FindStringSubmatch(s.Text()); m != nil {
				urls <- m[1]
			}
		}
		close(urls)
	}()
	var url string
	select {
	case url = <-urls:
	case <-time.After(10 * time.Second):
	}
	if url == "" {
		t.Fatal("demo-merchant did not say where it listens")
	}
	yaml := fmt.Sprintf(`sandbox:
  listen: %s
merchant:
  clientId: m-1
  clientSecret: s-1
  notifyUrl: %[2]s/webhook/bjpay
  checkout:
    url: %[2]s/checkout
    body: '{"amount": {{.Amount}}, "paymentCode": "{{.PaymentCode}}"}'
    referenceNumber: referenceNumber
  orderStatus:
    url: %[2]s/orders/{{.ReferenceNumber}}
    status: status
    paid: PAID
    credited: credited
    within: 300ms
`, sandbox, url)
	driver = filepath.Join(t.TempDir(), "merchant.yaml")
	if err := os.WriteFile(driver, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return driver
}

// freeAddr returns a loopback address nobody listens on (for a moment).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// cleanEnv is this process's environment without the variables of CI
// systems (a CI run of these tests must not write into its own job's
// summary) and with extra added.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "GITHUB_") || strings.HasPrefix(name, "RUNNER_") || strings.HasPrefix(name, "CI_") || strings.HasPrefix(name, "BJPAY_SANDBOX_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// readAll reads a file, "" when it does not exist.
func readAll(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(data)
}
