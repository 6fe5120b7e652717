// Package worktree gives tests a git repository holding the work tree as it
// is, committed: for builds that record the VCS revision (go build
// -buildvcs, GoReleaser), which need a checkout whose revision is known.
// A git worktree's .git is a file, which the go command does not take for a
// repository, and uncommitted changes would make the build "modified".
package worktree

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Commit copies the files of the repository at root that git tracks or
// would track (as they are in the work tree) into a new repository in a
// temporary directory, commits them, and returns the directory and the
// commit's full hash. The test fails if git is missing.
func Commit(t testing.TB, root string) (dir, head string) {
	t.Helper()
	git, err := exec.LookPath("git")
	if err != nil {
		t.Fatalf("git is needed to make a repository for the build: %v", err)
	}
	files, err := exec.Command(git, "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files in %s (the tests run in a checkout): %v", root, err)
	}
	dir = t.TempDir()
	for _, name := range strings.Split(strings.TrimSuffix(string(files), "\x00"), "\x00") {
		info, err := os.Stat(filepath.Join(root, name))
		if os.IsNotExist(err) {
			continue // deleted in the work tree
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, info.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	Git(t, dir, "init", "-q")
	Git(t, dir, "add", "-A")
	Git(t, dir, "-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "-q", "--no-gpg-sign", "-m", "work tree")
	return dir, Git(t, dir, "rev-parse", "HEAD")
}

// Git runs git in dir and returns its output, trimmed; the test fails if
// git does.
func Git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}
