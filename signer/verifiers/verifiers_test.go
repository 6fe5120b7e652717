// Package verifiers_test runs signer/verifiers/run for every language, on
// the public vectors, the extra vectors of testdata/, and fixtures written
// by the real `bjpay-sandbox fixture`.
package verifiers_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The languages and the tool each needs; .ci/run installs the missing ones.
var languages = []struct{ name, tool string }{
	{"php", "php"}, {"node", "node"}, {"python", "python3"}, {"java", "mvn"}, {"ruby", "ruby"}, {"csharp", "mcs"}, {"go", "go"},
}

// fixtureSet is one `bjpay-sandbox fixture` run: its flags, and the
// credentials and time a verifier is given.
type fixtureSet struct {
	name, id, secret, now string
	flags                 []string
}

var fixtureSets = []fixtureSet{
	{"every variant ×3", "my-id", "my-secret", "2026-11-24T10:00:00+07:00", []string{"--seed", "42", "--count", "3"}},
	{"QRIS EXPIRED, UTC now", "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "sk_live_8f2b1c9d0e7a4b6c", "2026-11-24T03:00:00Z",
		[]string{"--seed", "7", "--count", "2", "--payment-code", "QRIS", "--status", "EXPIRED"}},
	{"Unicode credentials and reference, FAILED", "klien:Ünïcödé", "rahasia 🔑 \"quoted\"", "2027-01-01T00:00:00+07:00",
		[]string{"--seed", "9", "--reference", "Pembayaran #12 — terima kasih", "--status", "FAILED", "--payment-code", "DANA", "--amount", "999999999"}},
}

// result is what a run printed last and how it exited.
type result struct {
	summary string
	code    int
	output  string
}

func run(t *testing.T, stdin []byte, args ...string) result {
	t.Helper()
	cmd := exec.Command("./run", args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	return result{summary: lines[len(lines)-1], code: code, output: out.String()}
}

func (r result) expect(t *testing.T, what string, summary string, code int) {
	t.Helper()
	if r.summary != summary || r.code != code {
		t.Errorf("%s: got %q, exit %d; want %q, exit %d\n%s", what, r.summary, r.code, summary, code, r.output)
	}
}

func readLines(t *testing.T, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(bytes.TrimSpace(data), []byte("\n"))
}

func TestVerifiers(t *testing.T) {
	public := readLines(t, "../testdata/public.jsonl")
	extra := readLines(t, "testdata/extra.jsonl")
	// One vector whose signature is not the amount's: every runner must fail it.
	tampered := bytes.Replace(public[0], []byte(`"amount":15000`), []byte(`"amount":15000.01`), 1)

	bin := filepath.Join(t.TempDir(), "bjpay-sandbox")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/bjpay-sandbox").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	type fixtures struct {
		fixtureSet
		json           []byte
		total, accepts int
	}
	var sets []fixtures
	for _, s := range fixtureSets {
		out, err := exec.Command(bin, append([]string{"fixture", "--client-id", s.id, "--client-secret", s.secret, "--time", s.now}, s.flags...)...).Output()
		if err != nil {
			t.Fatalf("fixture %s: %v", s.name, err)
		}
		var fs []struct{ Expect string }
		if err := json.Unmarshal(out, &fs); err != nil {
			t.Fatalf("fixture %s: %v", s.name, err)
		}
		f := fixtures{fixtureSet: s, json: out, total: len(fs)}
		for _, x := range fs {
			if x.Expect == "accept" {
				f.accepts++
			}
		}
		sets = append(sets, f)
	}

	for _, lang := range languages {
		t.Run(lang.name, func(t *testing.T) {
			if _, err := exec.LookPath(lang.tool); err != nil {
				if os.Getenv("CI") != "" {
					t.Fatalf("%s is needed for the %s verifier (.ci/run installs it): %v", lang.tool, lang.name, err)
				}
				t.Skipf("%s not installed; .ci/run shows how to install it", lang.tool)
			}
			run(t, bytes.Join(public, nil), lang.name).expect(t, "public vectors", fmt.Sprintf("%d passed, 0 failed", len(public)), 0)
			run(t, bytes.Join(extra, nil), lang.name).expect(t, "extra vectors", fmt.Sprintf("%d passed, 0 failed", len(extra)), 0)
			run(t, tampered, lang.name).expect(t, "a tampered vector", "0 passed, 1 failed", 1)
			run(t, []byte("{\"client_id\": \"truncated\n"), lang.name).expect(t, "a line that is not a vector", "0 passed, 1 failed", 1)
			for _, s := range sets {
				args := []string{lang.name, "--fixtures", "--now", s.now, "--client-id", s.id, "--client-secret", s.secret}
				run(t, s.json, args...).expect(t, "fixtures "+s.name, fmt.Sprintf("%d passed, 0 failed", s.total), 0)
			}
			// Under another secret, the notifies a merchant must accept fail
			// verification, and the broken ones are still refused.
			s := sets[0]
			wrong := []string{lang.name, "--fixtures", "--now", s.now, "--client-id", s.id, "--client-secret", s.secret + "x"}
			run(t, s.json, wrong...).expect(t, "fixtures under another secret", fmt.Sprintf("%d passed, %d failed", s.total-s.accepts, s.accepts), 1)
			// Just outside the replay window, past and future, the notifies
			// a merchant must accept are refused: the window is checked
			// both ways.
			at, err := time.Parse(time.RFC3339, s.now)
			if err != nil {
				t.Fatal(err)
			}
			for _, shift := range []time.Duration{301 * time.Second, -301 * time.Second} {
				now := at.Add(shift).Format(time.RFC3339)
				args := []string{lang.name, "--fixtures", "--now", now, "--client-id", s.id, "--client-secret", s.secret}
				run(t, s.json, args...).expect(t, "fixtures at "+now, fmt.Sprintf("%d passed, %d failed", s.total-s.accepts, s.accepts), 1)
			}
		})
	}
}

func TestRunUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "run: a language is needed"},
		{[]string{"cobol"}, `run: unknown language "cobol"`},
		{[]string{"go", "--fixtures", "--now", "2026-11-24T10:00:00+07:00"}, "run: --fixtures needs --client-id"},
		{[]string{"go", "--fixtures", "--now", "yesterday", "--client-id", "a", "--client-secret", "b"}, `run: --now "yesterday" is not an RFC 3339 time`},
		{[]string{"go", "--now", "2026-11-24T10:00:00+07:00"}, "run: --now only with --fixtures"},
		{[]string{"go", "--verbose"}, `run: unknown argument "--verbose"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := run(t, nil, tt.args...)
			if r.code != 2 || !strings.Contains(r.output, tt.want) {
				t.Errorf("exit %d, output:\n%s\nwant exit 2 and %q", r.code, r.output, tt.want)
			}
		})
	}
}
