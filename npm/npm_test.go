// Package npm_test packs the npm packages with npm/pack and installs them
// as a team without Go would: from the tarballs only, offline, with no Go
// on PATH, then runs the binary through the launcher.
package npm_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// npmPlatform is the host's @bjpay-sandbox/<os>-<cpu> suffix.
func npmPlatform(t *testing.T) string {
	os := map[string]string{"linux": "linux", "darwin": "darwin", "windows": "win32"}[runtime.GOOS]
	cpu := map[string]string{"amd64": "x64", "arm64": "arm64"}[runtime.GOARCH]
	if os == "" || cpu == "" {
		t.Skipf("no npm package for %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	return os + "-" + cpu
}

// nodeOnlyPath is a directory holding node, npm, npx and sh and nothing
// else, for a PATH on which there is no Go.
func nodeOnlyPath(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, tool := range []string{"node", "npm", "npx", "sh"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is needed for the npm package test: %v", tool, err)
			}
			t.Skipf("%s is not installed", tool)
		}
		if err := os.Symlink(p, filepath.Join(dir, tool)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestInstallFromTarballs(t *testing.T) {
	platform := npmPlatform(t)
	bin := nodeOnlyPath(t)
	const version = "1.2.3-npmtest"

	out := t.TempDir()
	pack := exec.Command("./pack", out)
	pack.Env = append(os.Environ(), "VERSION="+version)
	if b, err := pack.CombinedOutput(); err != nil {
		t.Fatalf("npm/pack: %v\n%s", err, b)
	}
	tarballs, _ := filepath.Glob(filepath.Join(out, "*.tgz"))
	for i := range tarballs {
		tarballs[i] = filepath.Base(tarballs[i])
	}
	want := []string{"bjpay-sandbox-" + version + ".tgz", "bjpay-sandbox-" + platform + "-" + version + ".tgz"} // sorted
	if slices.Sort(tarballs); !slices.Equal(tarballs, want) {
		t.Fatalf("npm/pack wrote %q; want %q (the main package and the host's)", tarballs, want)
	}

	// A fresh home and cache and an unreachable registry: npm gets nothing
	// but the tarballs, and finds no Go.
	home := t.TempDir()
	project := t.TempDir()
	env := []string{"PATH=" + bin, "HOME=" + home, "npm_config_cache=" + filepath.Join(home, "cache"),
		"npm_config_registry=http://127.0.0.1:9/", "npm_config_offline=true", "npm_config_update_notifier=false",
		"npm_config_fund=false", "npm_config_audit=false"}
	run := func(name string, args ...string) (string, string, error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir, cmd.Env = project, env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}
	if _, _, err := run("sh", "-c", "command -v go"); err == nil {
		t.Fatal("go is on the test's PATH; the install must work without it")
	}
	if _, stderr, err := run(filepath.Join(bin, "npm"), "install", "--offline", filepath.Join(out, want[0]), filepath.Join(out, want[1])); err != nil {
		t.Fatalf("npm install --offline from the tarballs: %v\n%s", err, stderr)
	}

	t.Run("npx bjpay-sandbox version", func(t *testing.T) {
		stdout, stderr, err := run(filepath.Join(bin, "npx"), "--offline", "bjpay-sandbox", "version")
		t.Logf("npx bjpay-sandbox version: %s", stdout)
		if err != nil || !strings.HasPrefix(stdout, "bjpay-sandbox "+version+" ") {
			t.Errorf("npx bjpay-sandbox version: %v, printed %q %s; want bjpay-sandbox %s ...", err, stdout, stderr, version)
		}
	})
	t.Run("npx bjpay-sandbox test --help", func(t *testing.T) {
		stdout, stderr, err := run(filepath.Join(bin, "npx"), "--offline", "bjpay-sandbox", "test", "--help")
		if err != nil || !strings.Contains(stdout, "bjpay-sandbox test --merchant merchant.yaml") {
			t.Errorf("npx bjpay-sandbox test --help: %v\nstdout: %s\nstderr: %s", err, stdout, stderr)
		}
	})
	t.Run("the exit status passes through", func(t *testing.T) {
		_, stderr, err := run(filepath.Join(bin, "npx"), "--offline", "bjpay-sandbox", "srve")
		if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 2 || !strings.Contains(stderr, `unknown subcommand "srve"`) {
			t.Errorf("a usage error: %v %s; want exit 2 and the message", err, stderr)
		}
	})
	t.Run("SIGTERM to the launcher stops serve gracefully", func(t *testing.T) {
		launcher := exec.Command(filepath.Join(project, "node_modules", ".bin", "bjpay-sandbox"), "serve", "--addr", "127.0.0.1:0")
		launcher.Dir, launcher.Env = project, env
		var stderr bytes.Buffer
		launcher.Stderr = &stderr
		stdout, err := launcher.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := launcher.Start(); err != nil {
			t.Fatal(err)
		}
		banner := bufio.NewScanner(stdout)
		if !banner.Scan() || !strings.HasPrefix(banner.Text(), "bjpay-sandbox ") {
			launcher.Process.Kill()
			t.Fatalf("serve printed no banner: %q %s", banner.Text(), &stderr)
		}
		go io.Copy(io.Discard, stdout)
		if err := launcher.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- launcher.Wait() }()
		select {
		case err := <-done:
			if err != nil || !strings.Contains(stderr.String(), "stopped") {
				t.Errorf("after SIGTERM: %v; want exit 0 and serve's \"stopped\":\n%s", err, &stderr)
			}
		case <-time.After(20 * time.Second):
			launcher.Process.Kill()
			t.Fatalf("the launcher did not stop within 20 s of SIGTERM:\n%s", &stderr)
		}
	})
	t.Run("npx bjpay-sandbox test passes a Node shop", func(t *testing.T) {
		// The conformance suite, run as a Node team would run it in CI:
		// through npx, against their shop (features/testdata/merchants/node),
		// with node and no Go on PATH. The suite starts its own sandbox.
		shopAddr, sandboxAddr := freeAddr(t), freeAddr(t)
		shopDir, err := filepath.Abs(filepath.Join("..", "features", "testdata", "merchants", "node"))
		if err != nil {
			t.Fatal(err)
		}
		_, port, _ := strings.Cut(shopAddr, ":")
		shop := exec.Command(filepath.Join(bin, "node"), "server.js")
		shop.Dir = shopDir
		shop.Env = append(slices.Clone(env), "PORT="+port, "BJPAY_BASE_URL=http://"+sandboxAddr)
		var shopOut bytes.Buffer
		shop.Stdout, shop.Stderr = &shopOut, &shopOut
		if err := shop.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = shop.Process.Kill(); _ = shop.Wait() }()
		data, err := os.ReadFile(filepath.Join(shopDir, "merchant.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		driver := filepath.Join(t.TempDir(), "merchant.yaml")
		yaml := strings.NewReplacer("127.0.0.1:3000", shopAddr, "127.0.0.1:18080", sandboxAddr).Replace(string(data))
		if err := os.WriteFile(driver, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		stdout, stderr, err := run(filepath.Join(bin, "npx"), "--offline", "bjpay-sandbox", "test", "--merchant", driver, "--wait", "60s", "--format", "progress")
		if err != nil || !strings.Contains(stdout, "@required") || !strings.Contains(stdout, "passed, 0 failed") {
			t.Errorf("npx bjpay-sandbox test against the Node shop: %v\nstdout: %s\nstderr: %s\nshop: %s", err, stdout, stderr, &shopOut)
		}
	})
	t.Run("without the platform package, a clear error", func(t *testing.T) {
		if err := os.RemoveAll(filepath.Join(project, "node_modules", "@bjpay-sandbox")); err != nil {
			t.Fatal(err)
		}
		_, stderr, err := run(filepath.Join(bin, "npx"), "--offline", "bjpay-sandbox", "version")
		if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 1 || !strings.Contains(stderr, "@bjpay-sandbox/"+platform+", the binary for "+platform+", is not installed") {
			t.Errorf("%v %s; want exit 1 and which package is missing", err, stderr)
		}
	})
}

func TestPackUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"out", "--everything"}, {"a", "b", "c"}} {
		cmd := exec.Command("./pack", args...)
		out, err := cmd.CombinedOutput()
		if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 2 || !strings.Contains(string(out), "usage: npm/pack OUTDIR [--all]") {
			t.Errorf("npm/pack %q: %v %s; want exit 2 and the usage", args, err, out)
		}
	}
}

// freeAddr is a loopback address nobody listens on (for a moment).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
