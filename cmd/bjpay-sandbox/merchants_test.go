package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The merchants of features/testdata/merchants are shops written the way
// Python (Flask), PHP (the built-in server, plain files) and Node
// (node:http) teams write them, each with a switch, MISTAKE, for
// realistic mistakes of its own, and a correct mode; the Python one also
// has a queue-based correct mode (QUEUE=1: acknowledge at once, apply half
// a second later). .ci/run installs their interpreters; without one a test
// fails in CI and skips elsewhere.
const merchantsDir = "../../features/testdata/merchants"

// Scenario names, as the reports give them.
const (
	scValid      = "A valid PAID notify is acknowledged and pays the order"
	scRetried    = "A duplicate PAID notify is acknowledged again and credits the order once (as BJPAY retries it)"
	scConcurrent = "A duplicate PAID notify is acknowledged again and credits the order once (at the same time)"
	scStaysPaidE = "A paid order stays paid when a later EXPIRED notify arrives"
	scStaysPaidF = "A paid order stays paid when a later FAILED notify arrives"
	scAhead      = "A notify stamped further ahead than the replay window is refused"
	scCanonical  = "A notify whose JSON is formatted differently is accepted"
	scUnknown    = "A valid notify for an order the merchant never created is acknowledged"
	scE2EPaid    = "A payment made through the checkout becomes paid"
	scE2EExpired = "An unpaid payment that expires never becomes paid"
)

func scForged(status, variant string) string {
	if status == "PAID" {
		return "A notify that BJPAY did not sign as sent is refused (" + variant + ")"
	}
	return "A forged " + status + " notify is refused and leaves the order as it was (" + variant + ")"
}

// merchantRuns are the cases: each merchant's correct modes pass --strict,
// and each mistake fails exactly the scenarios listed.
// The report must point at the bug: says are in the output, never are not.
var merchantRuns = []struct {
	lang, mistake string
	queue         bool
	fail          []string
	says, never   []string
}{
	{lang: "python"},
	{lang: "python", queue: true},
	{lang: "python", mistake: "wallet-every-paid", fail: []string{scRetried, scConcurrent},
		says: []string{"duplicate PAID notifies credit the order again: 1 further failure(s)", "to read 58000 after the two notifies, as one credit makes it", "but it came to read 116000"}},
	{lang: "python", mistake: "amount-as-string", fail: []string{scValid, scRetried, scConcurrent, scStaysPaidE, scStaysPaidF, scCanonical, scE2EPaid, scE2EExpired},
		says:  []string{"valid notifies are refused (HTTP 400): 7 further failure(s)", "a business refusal of a notify that is validly signed and matches the order"},
		never: []string{signatureHint}},
	{lang: "python", mistake: "ignore-status", fail: []string{scE2EExpired}, says: []string{"never to be paid within 400ms (merchant.orderStatus.within), but it came to read status \"PAID\""}},
	{lang: "python", mistake: "past-only-window", fail: []string{scAhead},
		says: []string{"its X-Request-Time is 6m0s after the moment it was sent; the replay window is 5m0s (--replay-window)", "variant valid, X-Request-Time 6m0s after it was sent"}},
	{lang: "php"},
	{lang: "php", mistake: "verify-paid-only", fail: []string{
		scForged("EXPIRED", "wrong-key"), scForged("EXPIRED", "missing-signature"), scForged("EXPIRED", "tampered-signature"),
		scForged("FAILED", "wrong-key"), scForged("FAILED", "missing-signature"), scForged("FAILED", "tampered-signature")},
		says: []string{"notifies BJPAY did not sign as sent are acknowledged: 5 further failure(s)", "made with a key other than md5(client_id:client_secret)"}},
	{lang: "php", mistake: "number-format", fail: validRefusedAll,
		says: []string{"FAILED @required: " + scValid + "\n    valid notifies are refused (HTTP 401): 8 further failure(s)", signatureHint}},
	{lang: "php", mistake: "regex-fields", fail: []string{scCanonical}, never: []string{signatureHint}},
	{lang: "php", mistake: "unknown-500", fail: []string{scUnknown},
		says: []string{"it failed with HTTP 500: an error in its notify handler, see its logs"}, never: []string{signatureHint}},
	{lang: "node"},
	{lang: "node", mistake: "key-without-colon", fail: validRefusedAll, says: []string{signatureHint}},
	{lang: "node", mistake: "unverified-unknown", fail: []string{scForged("PAID", "reference-changed")},
		says: []string{`The body's referenceNumber has "-X" appended to the reference that was signed`}},
	{lang: "node", mistake: "double-credit-race", fail: []string{scConcurrent}, says: []string{"but it came to read 2: the duplicate was credited again"}},
	{lang: "node", mistake: "unknown-404", fail: []string{scUnknown}, says: []string{"it refused it with HTTP 404"}, never: []string{signatureHint}},
}

// signatureHint is shown only after a 401 or 403 to a valid notify.
const signatureHint = "The notify is validly signed: X-Signature is HMAC-SHA256(md5(clientId:clientSecret) as hex"

// validRefusedAll is every scenario that needs a valid notify acknowledged.
var validRefusedAll = []string{scValid, scRetried, scConcurrent, scStaysPaidE, scStaysPaidF, scCanonical, scUnknown, scE2EPaid, scE2EExpired}

// serveCommand is the command line that serves lang's shop on addr.
func serveCommand(lang, addr string) []string {
	switch lang {
	case "python":
		return []string{"python3", "app.py"}
	case "php":
		return []string{"php", "-S", addr, "index.php"}
	}
	return []string{"node", "server.js"}
}

// missingInterpreter says why lang's shop cannot run here, "" when it can.
func missingInterpreter(lang string) string {
	probe := map[string][]string{"python": {"python3", "-c", "import flask"}, "php": {"php", "--version"}, "node": {"node", "--version"}}[lang]
	if out, err := exec.Command(probe[0], probe[1:]...).CombinedOutput(); err != nil {
		return lang + " merchant: " + strings.Join(probe, " ") + ": " + err.Error() + " " + strings.TrimSpace(string(out)) + " (.ci/run installs it)"
	}
	return ""
}

// startMerchant starts lang's shop on addr, calling the sandbox at
// sandboxAddr, with env (MISTAKE=..., QUEUE=1); it is killed when the test
// ends. output collects what it prints.
func startMerchant(t *testing.T, argv []string, lang, addr, sandboxAddr string, output *syncBuffer, env ...string) error {
	_, port, _ := strings.Cut(addr, ":")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = filepath.Join(merchantsDir, lang)
	cmd.Env = append(os.Environ(), "PORT="+port, "BJPAY_BASE_URL=http://"+sandboxAddr, "DATA_DIR="+t.TempDir(),
		"BJPAY_CLIENT_ID=2f9d6a0e-1c3b-4d5e-8f70-123456789abc", "BJPAY_CLIENT_SECRET=merchant-secret", "PYTHONUNBUFFERED=1")
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = output, output
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its children go with it
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	})
	return nil
}

// merchantDriver writes lang's driver file with the addresses of a run,
// and orderStatus.within: the checked-in 1s for the queued shop, 400ms for
// the others, which apply a notify before they answer it.
func merchantDriver(t *testing.T, lang, merchantAddr, sandboxAddr string, queued bool) (string, error) {
	data, err := os.ReadFile(filepath.Join(merchantsDir, lang, "merchant.yaml"))
	if err != nil {
		return "", err
	}
	within := "within: 400ms"
	if queued {
		within = "within: 1s"
	}
	yaml := strings.NewReplacer("127.0.0.1:3000", merchantAddr, "127.0.0.1:18080", sandboxAddr, "within: 1s", within).Replace(string(data))
	path := filepath.Join(t.TempDir(), "merchant.yaml")
	return path, os.WriteFile(path, []byte(yaml), 0o600)
}

// pickAddr returns a loopback address nobody listens on (for a moment),
// and never one it returned before: runs side by side pick theirs at
// nearly the same time, and the kernel may hand a port just closed to the
// next listen. Two runs given one port would each bind it or fail, and
// one run's suite could then drive the other run's merchant, which
// creates its payments in the other sandbox (seen once in CI).
func pickAddr() (string, error) {
	pickedMu.Lock()
	defer pickedMu.Unlock()
	for {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		addr := ln.Addr().String()
		ln.Close()
		if !picked[addr] {
			picked[addr] = true
			return addr, nil
		}
	}
}

var (
	pickedMu sync.Mutex
	picked   = map[string]bool{}
)

// merchantOutcome is what one run of the suite against a merchant gave.
type merchantOutcome struct {
	code           int
	stdout, stderr string
	failed         []string
	merchantOutput string
	took           time.Duration
	err            error // the run could not be made
}

// runAgainstMerchant starts the merchant and runs the suite against it
// with --strict, as a merchant's CI would.
func runAgainstMerchant(t *testing.T, argv []string, lang, merchantAddr, sandboxAddr string, env ...string) merchantOutcome {
	var o merchantOutcome
	output := &syncBuffer{}
	defer func() { o.merchantOutput = output.String() }()
	if o.err = startMerchant(t, argv, lang, merchantAddr, sandboxAddr, output, env...); o.err != nil {
		return o
	}
	driver, err := merchantDriver(t, lang, merchantAddr, sandboxAddr, slices.Contains(env, "QUEUE=1"))
	if o.err = err; err != nil {
		return o
	}
	report := filepath.Join(t.TempDir(), "cucumber.json")
	begin := time.Now()
	// --wait is generous: on a loaded 2-core machine, six interpreters
	// starting at once beside the race-enabled tests have taken over 20 s
	// to import Flask. A merchant that is up costs nothing more.
	o.code, o.stdout, o.stderr = runCLI(t, "test", "--merchant", driver, "--strict", "--concurrency", "4", "--wait", "90s",
		"--format", "progress", "--format", "cucumber:"+report)
	o.took = time.Since(begin)
	if data, err := os.ReadFile(report); err == nil {
		o.failed = failedIn(data)
	}
	return o
}

// TestMerchantsInOtherLanguages runs `bjpay-sandbox test --strict` against
// every merchant mode: each correct one passes, each mistake fails exactly
// the scenarios that catch it. The runs go side by side, six at a time,
// since they mostly wait on reads through orderStatus.within; each subtest
// then checks its own.
func TestMerchantsInOtherLanguages(t *testing.T) {
	missing := map[string]string{}
	results := make([]chan merchantOutcome, len(merchantRuns))
	slots := make(chan struct{}, 6)
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait) // before the merchants are killed
	for i, mr := range merchantRuns {
		results[i] = make(chan merchantOutcome, 1)
		if _, checked := missing[mr.lang]; !checked {
			missing[mr.lang] = missingInterpreter(mr.lang)
		}
		if missing[mr.lang] != "" {
			continue
		}
		var env []string
		if mr.mistake != "" {
			env = append(env, "MISTAKE="+mr.mistake)
		}
		if mr.queue {
			env = append(env, "QUEUE=1")
		}
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			// Addresses are picked at the last moment: a free port picked
			// early may be some connection's by the time it is bound.
			addr, err1 := pickAddr()
			sandboxAddr, err2 := pickAddr()
			if err := errors.Join(err1, err2); err != nil {
				results[i] <- merchantOutcome{err: err}
				return
			}
			results[i] <- runAgainstMerchant(t, serveCommand(mr.lang, addr), mr.lang, addr, sandboxAddr, env...)
		})
	}
	for i, mr := range merchantRuns {
		mode := mr.mistake
		switch {
		case mr.queue:
			mode = "queue"
		case mode == "":
			mode = "correct"
		}
		t.Run(mr.lang+"/"+mode, func(t *testing.T) {
			if why := missing[mr.lang]; why != "" {
				if os.Getenv("CI") != "" {
					t.Fatal(why)
				}
				t.Skip(why + "; CI installs it and fails without it")
			}
			o := <-results[i]
			if o.err != nil {
				t.Fatalf("%v\nmerchant:\n%s", o.err, o.merchantOutput)
			}
			want := slices.Sorted(slices.Values(mr.fail))
			slices.Sort(o.failed)
			wantCode := map[bool]int{true: 0, false: 1}[len(want) == 0]
			if o.code != wantCode || !slices.Equal(o.failed, want) {
				t.Errorf("exit %d, want %d; failed scenarios:\n  %s\nwant:\n  %s\nstdout:\n%s\nstderr:\n%s\nmerchant:\n%s",
					o.code, wantCode, strings.Join(o.failed, "\n  "), strings.Join(want, "\n  "), o.stdout, o.stderr, o.merchantOutput)
			}
			for _, say := range mr.says {
				if !strings.Contains(o.stdout, say) {
					t.Errorf("the report does not say %q:\n%s", say, o.stdout)
				}
			}
			for _, never := range mr.never {
				if strings.Contains(o.stdout, never) {
					t.Errorf("the report says %q, which misleads here:\n%s", never, o.stdout)
				}
			}
			t.Logf("exit %d, %d scenario(s) failed as they must, in %s", o.code, len(o.failed), o.took.Round(100*time.Millisecond))
		})
	}
}

// failedIn returns the names of the failed scenarios of a cucumber report.
func failedIn(report []byte) []string {
	var features []struct {
		Elements []struct {
			Name  string `json:"name"`
			Steps []struct {
				Result struct{ Status string } `json:"result"`
			} `json:"steps"`
		} `json:"elements"`
	}
	if json.Unmarshal(bytes.TrimSpace(report), &features) != nil {
		return []string{"(the cucumber report is not JSON)"}
	}
	var failed []string
	for _, f := range features {
		for _, sc := range f.Elements {
			for _, st := range sc.Steps {
				if st.Result.Status == "failed" {
					failed = append(failed, sc.Name)
					break
				}
			}
		}
	}
	return failed
}
