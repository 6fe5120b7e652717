package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock"
	"github.com/bjpay/bjpay-sandbox/mock/notify"
	"github.com/bjpay/bjpay-sandbox/signer"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// fixtureArgs fix everything that could vary, so the output is the same
// on every run.
var fixtureArgs = []string{"fixture", "--client-id", "test-client-id", "--client-secret", "test-client-secret",
	"--seed", "42", "--time", "2026-11-24T10:00:00+07:00"}

// runCLI runs the command line args and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = exitCode(run(context.Background(), args, &out, &errOut), &errOut)
	return code, out.String(), errOut.String()
}

// checkCLI compares what runCLI returned with what a case wants: the exit
// code, lines stdout must hold, and a piece of stderr ("" holds anywhere).
func checkCLI(t *testing.T, code int, stdout, stderr string, wantCode int, wantStdout []string, wantStderr string) {
	t.Helper()
	if code != wantCode {
		t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, wantCode, stdout, stderr)
	}
	for _, w := range wantStdout {
		if !strings.Contains(stdout, w) {
			t.Errorf("stdout lacks %q:\n%s", w, stdout)
		}
	}
	if !strings.Contains(stderr, wantStderr) {
		t.Errorf("stderr lacks %q:\n%s", wantStderr, stderr)
	}
}

// TestFixtureGolden pins the output of every format for a fixed seed and
// time. Run `go test ./cmd/bjpay-sandbox -run TestFixtureGolden -update`
// after a deliberate change and review the diff.
func TestFixtureGolden(t *testing.T) {
	for _, format := range []string{"json", "http", "curl"} {
		t.Run(format, func(t *testing.T) {
			code, got, stderr := runCLI(t, append(fixtureArgs, "--format", format)...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q; want 0 and nothing, as seed and time were given", code, stderr)
			}
			golden := filepath.Join("testdata", "fixture."+format+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("%s changed:\ngot\n%s\nwant\n%s", golden, got, want)
			}
			_, again, _ := runCLI(t, append(fixtureArgs, "--format", format)...)
			if again != got {
				t.Errorf("a second run gave other bytes")
			}
		})
	}
}

// TestFixtureJSON checks the json format as a merchant's test reads it:
// every fixture's headers and body verify as its expect says.
func TestFixtureJSON(t *testing.T) {
	code, out, _ := runCLI(t, append(fixtureArgs, "--count", "2")...)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var fixtures []struct {
		Name, Variant, Expect, Why, Method, URL string
		Headers                                 map[string]string
		Body                                    string
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fixtures); err != nil {
		t.Fatalf("stdout is not a JSON array of fixtures: %v\n%s", err, out)
	}
	if len(fixtures) != 2*len(notify.Variants()) {
		t.Fatalf("%d fixtures, want 2 of each of %d variants", len(fixtures), len(notify.Variants()))
	}
	key := signer.Key("test-client-id", "test-client-secret")
	for _, f := range fixtures {
		h := http.Header{}
		for k, v := range f.Headers {
			h.Set(k, v)
		}
		verified := signer.VerifyNotify(key, h, []byte(f.Body)) == nil
		at, _ := time.Parse(signer.TimeLayout, h.Get(signer.HeaderRequestTime))
		fresh := at.Equal(time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC))
		if accept := verified && fresh; accept != (f.Expect == "accept") {
			t.Errorf("%s: verifies %v, fresh %v, but expect is %q", f.Name, verified, fresh, f.Expect)
		}
		if f.Method != "POST" || f.URL != mock.DefaultFixtureNotifyURL || f.Why == "" || !strings.HasPrefix(f.Name, f.Variant+"-") {
			t.Errorf("%s: method %q, url %q, why %q, variant %q", f.Name, f.Method, f.URL, f.Why, f.Variant)
		}
	}
}

// receiver is a merchant's webhook that records what it received and
// answers 200 to a valid notify, 401 otherwise.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	got  []received
	key  string
	code int // answer to a valid notify; 200 when zero
}

type received struct {
	header http.Header
	body   []byte
	valid  bool
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{key: signer.Key("test-client-id", "test-client-secret")}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		err := signer.VerifyNotify(r.key, req.Header, body)
		r.mu.Lock()
		r.got = append(r.got, received{req.Header, body, err == nil})
		r.mu.Unlock()
		w.Header().Set("X-Merchant", "demo")
		if err != nil {
			http.Error(w, "bad signature: "+err.Error(), http.StatusUnauthorized)
			return
		}
		w.WriteHeader(max(r.code, http.StatusOK))
		io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) last(t *testing.T) received {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.got) == 0 {
		t.Fatal("the receiver got nothing")
	}
	return r.got[len(r.got)-1]
}

// TestFixtureOut writes one file per fixture in each format, then sends
// the http and curl files as a user would (raw over TCP, and with sh) and
// checks that the receiver gets the fixture's exact bytes.
func TestFixtureOut(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is needed to run the curl fixtures (.ci/run installs it)")
	}
	recv := newReceiver(t)
	dir := t.TempDir()
	var want []mock.Fixture
	{
		code, out, _ := runCLI(t, append(fixtureArgs, "--notify-url", recv.URL+"/webhook?src=bjpay")...)
		if code != 0 {
			t.Fatalf("json to stdout: exit %d", code)
		}
		var all []struct {
			Name, Body string
			Headers    map[string]string
		}
		if err := json.Unmarshal([]byte(out), &all); err != nil {
			t.Fatal(err)
		}
		for _, f := range all {
			h := http.Header{}
			for k, v := range f.Headers {
				h[k] = []string{v}
			}
			want = append(want, mock.Fixture{Name: f.Name, SignedNotify: notify.SignedNotify{Header: h, Body: []byte(f.Body)}})
		}
	}
	for _, format := range []string{"json", "http", "curl"} {
		code, stdout, stderr := runCLI(t, append(fixtureArgs, "--notify-url", recv.URL+"/webhook?src=bjpay", "--format", format, "--out", dir)...)
		if code != 0 || stdout != "" || !strings.Contains(stderr, "wrote 9 files to "+dir) {
			t.Fatalf("%s --out: exit %d, stdout %q, stderr %q", format, code, stdout, stderr)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3*len(want) {
		t.Errorf("%d files in --out, want %d", len(entries), 3*len(want))
	}

	for _, f := range want {
		t.Run(f.Name, func(t *testing.T) {
			// The json file is the array's element.
			var one map[string]any
			data, err := os.ReadFile(filepath.Join(dir, f.Name+".json"))
			if err != nil || json.Unmarshal(data, &one) != nil || one["body"] != string(f.Body) {
				t.Errorf("%s.json: %v; body %v, want %s", f.Name, err, one["body"], f.Body)
			}

			// The http file, written to a socket as it is.
			raw, err := os.ReadFile(filepath.Join(dir, f.Name+".http"))
			if err != nil {
				t.Fatal(err)
			}
			conn, err := net.Dial("tcp", strings.TrimPrefix(recv.URL, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			conn.Write(raw)
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("%s.http: no HTTP answer: %v", f.Name, err)
			}
			resp.Body.Close()
			conn.Close()
			checkReceived(t, "http", recv.last(t), f)

			// The curl file, run by sh.
			script := filepath.Join(dir, f.Name+".sh")
			if st, err := os.Stat(script); err != nil || st.Mode()&0o111 == 0 {
				t.Errorf("%s is not executable: %v", script, err)
			}
			if out, err := exec.Command("sh", script).CombinedOutput(); err != nil {
				t.Fatalf("sh %s: %v\n%s", script, err, out)
			} else if !bytes.Contains(out, []byte("X-Merchant: demo")) {
				t.Errorf("sh %s printed no response headers:\n%s", script, out)
			}
			checkReceived(t, "curl", recv.last(t), f)
		})
	}
}

// checkReceived checks the receiver got f's body byte for byte and its
// BJPAY headers unchanged.
func checkReceived(t *testing.T, how string, got received, f mock.Fixture) {
	t.Helper()
	if !bytes.Equal(got.body, f.Body) {
		t.Errorf("%s: the receiver got body\n%q\nwant\n%q", how, got.body, f.Body)
	}
	for _, name := range []string{"Content-Type", signer.HeaderRequestTime, signer.HeaderSignature} {
		if g, w := got.header.Values(name), f.Header.Values(name); !slices.Equal(g, w) {
			t.Errorf("%s: header %s = %q, want %q", how, name, g, w)
		}
	}
	wantValid := !strings.HasPrefix(f.Name, "tampered") && !strings.HasPrefix(f.Name, "wrong-key") &&
		!strings.HasPrefix(f.Name, "missing") && !strings.Contains(f.Name, "-changed")
	if got.valid != wantValid {
		t.Errorf("%s: the receiver's signature check says %v, want %v", how, got.valid, wantValid)
	}
}

// TestFixtureSeedNotice: without --seed and --time the output cannot be
// reproduced unless the user is told what was used.
func TestFixtureSeedNotice(t *testing.T) {
	code, out, stderr := runCLI(t, "fixture", "--client-id", "a", "--client-secret", "b", "--variant", "valid")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	seed, at, ok := reproduceFlags(stderr)
	if !ok {
		t.Fatalf("stderr %q does not say the seed and time to reproduce", stderr)
	}
	code, again, _ := runCLI(t, "fixture", "--client-id", "a", "--client-secret", "b", "--variant", "valid", "--seed", seed, "--time", at)
	if code != 0 || again != out {
		t.Errorf("rerun with --seed %s --time %s gave other bytes:\n%s\nwant\n%s", seed, at, again, out)
	}
}

// reproduceFlags reads N and T out of fixture's notice
// "fixture: add --seed N --time T to reproduce this output".
func reproduceFlags(notice string) (seed, at string, ok bool) {
	f := strings.Fields(notice)
	if len(f) < 6 || f[0] != "fixture:" || f[1] != "add" || f[2] != "--seed" || f[4] != "--time" {
		return "", "", false
	}
	return f[3], f[5], true
}

func TestNotify(t *testing.T) {
	recv := newReceiver(t)
	stop := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-stop }))
	defer slow.Close()
	defer close(stop) // before slow.Close, which waits for the handler
	redirect := httptest.NewServer(http.RedirectHandler(recv.URL, http.StatusFound))
	defer redirect.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	creds := []string{"--client-id", "test-client-id", "--client-secret", "test-client-secret"}
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr string
		valid  bool // the receiver's verdict, when it is reached
	}{
		{name: "valid", args: []string{"--url", recv.URL + "/hook", "--reference", "ORDER-42", "--payment-code", "GOPAY", "--amount", "58000"},
			code: 0, valid: true, stdout: []string{"> POST " + recv.URL + "/hook\n", "> X-Signature: ", `"referenceNumber":"ORDER-42"`, `"totalAmount":58000`,
				"< HTTP/1.1 200 OK in ", "< X-Merchant: demo\n", `{"ok":true}`}},
		{name: "rejected variant", args: []string{"--url", recv.URL, "--variant", "wrong-key"},
			code: 1, stdout: []string{"< HTTP/1.1 401 Unauthorized", "bad signature"}},
		{name: "accepted bad variant", args: []string{"--url", recv.URL, "--variant", "stale-timestamp"},
			code: 0, valid: true, stderr: "warning: the merchant acknowledged a stale-timestamp notify, which a correct merchant rejects"},
		{name: "redirect not followed", args: []string{"--url", redirect.URL},
			code: 1, stdout: []string{"< HTTP/1.1 302 Found"}, stderr: "answered 302, not 2xx: BJPAY would retry"},
		{name: "timeout", args: []string{"--url", slow.URL, "--timeout", "200ms"}, code: 1, stderr: "no answer within --timeout 200ms"},
		{name: "unreachable", args: []string{"--url", closed.URL}, code: 1, stderr: "connection refused"},
		{name: "no url", args: nil, code: 2, stderr: "missing --url"},
		{name: "relative url", args: []string{"--url", "localhost:3000/hook"}, code: 2, stderr: `--url "localhost:3000/hook" is not an absolute http(s) URL`},
		{name: "two variants", args: []string{"--url", recv.URL, "--variant", "valid,wrong-key"}, code: 2, stderr: `unknown notify variant "valid,wrong-key"`},
		{name: "bad timeout", args: []string{"--url", recv.URL, "--timeout", "0s"}, code: 2, stderr: "--timeout 0s must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recv.mu.Lock()
			before := len(recv.got)
			recv.mu.Unlock()
			code, stdout, stderr := runCLI(t, append(append([]string{"notify"}, creds...), tt.args...)...)
			checkCLI(t, code, stdout, stderr, tt.code, tt.stdout, tt.stderr)
			if strings.Contains(stdout+stderr, "test-client-secret") {
				t.Errorf("the client secret was printed")
			}
			recv.mu.Lock()
			got := recv.got[before:]
			recv.mu.Unlock()
			if tt.valid && (len(got) != 1 || !got[0].valid) {
				t.Errorf("the receiver got %d notifies (%+v); want one valid", len(got), got)
			}
		})
	}
}
