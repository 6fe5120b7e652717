// Package release_test checks the release the way it is made: GoReleaser
// (.goreleaser.yaml) validates the configuration and builds a snapshot of
// the work tree, and the archives, checksums, Homebrew cask and Scoop
// manifest it writes are read back, and the host's binary run. The CI
// integrations that download a release (action.yml, the GitLab component
// templates/bjpay-conformance.yml) run their scripts here too, against
// releases laid out the same way.
package release_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	gomaps "maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/release/worktree"
)

const repoRoot = ".."

// goreleaser finds the GoReleaser binary: $GORELEASER, else on PATH.
// .ci/run installs the pinned version; without it the test fails in CI and
// is skipped elsewhere.
func goreleaser(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("GORELEASER"); p != "" {
		return p
	}
	p, err := exec.LookPath("goreleaser")
	if err != nil {
		const how = "go install github.com/goreleaser/goreleaser/v2@v2.17.0 (the version .ci/run pins)"
		if os.Getenv("CI") != "" {
			t.Fatalf("goreleaser is not installed: %s", how)
		}
		t.Skipf("goreleaser is not installed: %s", how)
	}
	return p
}

func TestGoReleaserCheck(t *testing.T) {
	cmd := exec.Command(goreleaser(t), "check")
	cmd.Dir = repoRoot
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "1 configuration file(s) validated") {
		t.Fatalf("goreleaser check: %v\n%s", err, out)
	}
}

func TestSnapshotRelease(t *testing.T) {
	bin := goreleaser(t)
	// The work tree, committed and tagged: GoReleaser reads the version
	// from the tag and the commit from git.
	repo, head := worktree.Commit(t, repoRoot)
	worktree.Git(t, repo, "tag", "v0.4.2")
	worktree.Git(t, repo, "remote", "add", "origin", "https://github.com/bjpay/bjpay-sandbox.git")
	dist := t.TempDir()
	config, err := os.ReadFile(filepath.Join(repoRoot, ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	configPath := filepath.Join(t.TempDir(), "goreleaser.yaml")
	if err := os.WriteFile(configPath, append(config, "\ndist: "+dist+"\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, bin, "release", "--snapshot", "--clean", "--skip=publish", "-f", configPath)
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("goreleaser release --snapshot: %v\n%s", err, out)
	}
	t.Logf("goreleaser release --snapshot took %s", time.Since(start).Round(time.Second))

	version := "0.4.3-snapshot+" + head[:7]
	sums := checksums(t, filepath.Join(dist, "checksums.txt"))
	var archives []string
	for _, os := range []string{"linux", "darwin", "windows"} {
		for _, arch := range []string{"amd64", "arm64"} {
			ext := map[bool]string{true: ".zip", false: ".tar.gz"}[os == "windows"]
			archives = append(archives, fmt.Sprintf("bjpay-sandbox_%s_%s_%s%s", version, os, arch, ext))
		}
	}
	t.Run("six archives with checksums", func(t *testing.T) {
		got, _ := filepath.Glob(filepath.Join(dist, "*_*_*.*[zg]*"))
		for i := range got {
			got[i] = filepath.Base(got[i])
		}
		if slices.Sort(got); !slices.Equal(got, sortedCopy(archives)) {
			t.Errorf("archives %q; want %q", got, sortedCopy(archives))
		}
		for _, a := range archives {
			data, err := os.ReadFile(filepath.Join(dist, a))
			if err != nil {
				t.Fatal(err)
			}
			if sum := sha256.Sum256(data); sums[a] != hex.EncodeToString(sum[:]) {
				t.Errorf("checksums.txt has %q for %s; the file's sha256 is %x", sums[a], a, sum)
			}
			exe := map[bool]string{true: "bjpay-sandbox.exe", false: "bjpay-sandbox"}[strings.HasSuffix(a, ".zip")]
			if names := slices.Sorted(gomaps.Keys(listArchive(t, filepath.Join(dist, a)))); !slices.Equal(names, sortedCopy([]string{exe, "README.md", "LICENSE"})) {
				t.Errorf("%s holds %q; want the binary, README.md and LICENSE", a, names)
			}
		}
	})

	t.Run("the host's binary is static and says its version", func(t *testing.T) {
		if runtime.GOOS != "linux" {
			t.Skipf("reads the linux archive; this is %s", runtime.GOOS)
		}
		name := fmt.Sprintf("bjpay-sandbox_%s_linux_%s.tar.gz", version, runtime.GOARCH)
		exe := filepath.Join(t.TempDir(), "bjpay-sandbox")
		if err := os.WriteFile(exe, listArchive(t, filepath.Join(dist, name))["bjpay-sandbox"], 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := elf.Open(exe)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s is dynamically linked; want a static binary (CGO_ENABLED=0)", name)
			}
		}
		out, err := exec.Command(exe, "version").Output()
		want := fmt.Sprintf("bjpay-sandbox %s (commit %s, ", version, head[:7])
		t.Logf("%s version: %s", name, out)
		if err != nil || !strings.HasPrefix(string(out), want) || !strings.Contains(string(out), " linux/"+runtime.GOARCH) {
			t.Errorf("version printed %q (%v); want it to start %q", out, err, want)
		}
	})

	t.Run("the action installs it", func(t *testing.T) {
		// action.yml's install step, from these very files laid out as a
		// GitHub release: RELEASE_URL/vVERSION/ARCHIVE.
		r := hostRunner(t)
		rel := t.TempDir()
		tag := filepath.Join(rel, "v"+version)
		if err := os.Mkdir(tag, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range append(archives, "checksums.txt") {
			if err := os.Symlink(filepath.Join(dist, f), filepath.Join(tag, f)); err != nil {
				t.Fatal(err)
			}
		}
		res := runAction(t, map[string]string{"merchant": "merchant.yaml", "version": "v" + version, "release-url": "file://" + rel}, r, "install")
		if res.failed != "" || !strings.Contains(res.log, "bjpay-sandbox "+version+" (commit "+head[:7]) {
			t.Errorf("the install step failed (%q) or installed another version:\n%s", res.failed, res.log)
		}
	})

	t.Run("Homebrew cask", func(t *testing.T) {
		cask, err := os.ReadFile(filepath.Join(dist, "homebrew", "Casks", "bjpay-sandbox.rb"))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`cask "bjpay-sandbox" do`, `version "` + version + `"`, `binary "bjpay-sandbox"`,
			`sha256 "` + sums[archives[2]] + `"`, `sha256 "` + sums[archives[3]] + `"`, // darwin amd64, arm64
			`url "https://github.com/bjpay/bjpay-sandbox/releases/download/v0.4.2/bjpay-sandbox_#{version}_darwin_arm64.tar.gz"`} { // the tag's release
			if !strings.Contains(string(cask), want) {
				t.Errorf("the cask has no %q:\n%s", want, cask)
			}
		}
	})

	t.Run("Scoop manifest", func(t *testing.T) {
		data, err := os.ReadFile(filepath.Join(dist, "scoop", "bjpay-sandbox.json"))
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Version      string
			Architecture map[string]struct {
				URL  string
				Bin  []string
				Hash string
			}
		}
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		if m.Version != version {
			t.Errorf("version %q; want %q", m.Version, version)
		}
		for arch, archive := range map[string]string{"64bit": archives[4], "arm64": archives[5]} {
			a := m.Architecture[arch]
			if a.Hash != sums[archive] || !strings.HasSuffix(a.URL, "/"+archive) || !slices.Equal(a.Bin, []string{"bjpay-sandbox.exe"}) {
				t.Errorf("architecture %s = %+v; want %s with its sha256 and bjpay-sandbox.exe", arch, a, archive)
			}
		}
	})
}

// checksums reads GoReleaser's checksums.txt: "sha256  name" lines.
func checksums(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if !ok {
			t.Fatalf("%s: %q is not \"sha256  name\"", path, line)
		}
		sums[name] = sum
	}
	return sums
}

// listArchive returns the regular files of a .tar.gz or .zip by name.
func listArchive(t *testing.T, path string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	if strings.HasSuffix(path, ".zip") {
		z, err := zip.OpenReader(path)
		if err != nil {
			t.Fatal(err)
		}
		defer z.Close()
		for _, f := range z.File {
			r, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			files[f.Name], err = io.ReadAll(r)
			r.Close()
			if err != nil {
				t.Fatal(err)
			}
		}
		return files
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if h.Typeflag == tar.TypeReg {
			if files[h.Name], err = io.ReadAll(tr); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}
