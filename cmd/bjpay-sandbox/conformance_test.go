package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bjpay/bjpay-sandbox/cmd/demo-merchant/shop"
	"github.com/bjpay/bjpay-sandbox/mock"
)

// freeAddr returns a loopback address nobody listens on (for a moment).
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// demoDriver starts the demo merchant with bug, calling a sandbox at a
// free address, and writes its driver file.
func demoDriver(t *testing.T, bug shop.Bug, checkout bool) string {
	t.Helper()
	listen := freeAddr(t)
	return writeDemoDriver(t, bug, checkout, "http://"+listen, "listen: "+listen)
}

// writeDemoDriver starts the demo merchant calling sandboxURL and writes
// its driver file with sandboxLine under sandbox:. The demo merchant
// applies a notify before it answers, so 300 ms of order reads
// (orderStatus.within) are plenty, and keep each run to seconds.
func writeDemoDriver(t *testing.T, bug shop.Bug, checkout bool, sandboxURL, sandboxLine string) string {
	t.Helper()
	var h http.Handler
	merchant := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(merchant.Close)
	h = shop.New(shop.Config{SandboxURL: sandboxURL, ClientID: "m-1", ClientSecret: "s-1", PublicURL: merchant.URL, Bug: bug}).Handler()

	yaml := "sandbox:\n  " + sandboxLine + "\nmerchant:\n  clientId: m-1\n  clientSecret: s-1\n  notifyUrl: " + merchant.URL + "/webhook/bjpay\n"
	if checkout {
		yaml += "  checkout:\n    method: POST\n    url: " + merchant.URL + "/checkout\n    body: '{\"amount\": {{.Amount}}, \"paymentCode\": \"{{.PaymentCode}}\"}'\n    referenceNumber: referenceNumber\n" +
			"  orderStatus:\n    method: GET\n    url: " + merchant.URL + "/orders/{{.ReferenceNumber}}\n    status: status\n    paid: PAID\n    credited: credited\n    within: 300ms\n"
	}
	path := filepath.Join(t.TempDir(), "merchant.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestTestCommand runs `bjpay-sandbox test` as a merchant's CI would, and
// checks its exit status, its summary and its reports.
func TestTestCommand(t *testing.T) {
	dir := t.TempDir()
	bad, unknown := filepath.Join(dir, "bad.yaml"), filepath.Join(dir, "unknown.yaml")
	if err := os.WriteFile(bad, []byte("sandbox:\n  listen: nowhere\nmerchant:\n  clientId: a\n  clientSecret: b\n  notifyUrl: http://127.0.0.1:1/x\n  checkout:\n    url: http://127.0.0.1:1/c\n    body: '{{.Amout}}'\n    referenceNumber: ref\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(unknown, []byte("sandbox: {listen: \"127.0.0.1:1\"}\nmerchant:\n  clientId: a\n  clientSecret: b\n  notifyUrl: http://127.0.0.1:1/x\n  colour: red\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		bug      shop.Bug
		checkout bool
		driver   string // instead of the demo's
		args     []string
		code     int
		stdout   []string
		stderr   string
	}{
		{name: "correct merchant", checkout: true, code: 0,
			stdout: []string{"@required 13 passed, 0 failed; @recommended 11 passed, 0 failed", "Result: PASS\n"}},
		{name: "correct merchant strict concurrent", checkout: true, args: []string{"--strict", "--concurrency", "8"}, code: 0,
			stdout: []string{"Result: PASS\n"}},
		{name: "signature not checked", bug: shop.BugSkipSignature, checkout: true, code: 1,
			stdout: []string{"FAILED @required: A notify that BJPAY did not sign as sent is refused (wrong-key)", "merchant answered: HTTP 200", "Result: FAIL: the integration does not do what BJPAY's docs oblige"}},
		{name: "duplicates refused", bug: shop.BugDuplicate409, checkout: true, code: 0,
			stdout: []string{"FAILED @recommended: A duplicate PAID notify", "Result: PASS, with recommended practice not followed"}},
		{name: "duplicates refused strict", bug: shop.BugDuplicate409, checkout: true, args: []string{"--strict"}, code: 1,
			stdout: []string{"Result: FAIL (--strict)"}},
		{name: "required only", bug: shop.BugDuplicate409, checkout: true, args: []string{"--tags", "@required", "--strict"}, code: 0,
			stdout: []string{"@required 13 passed, 0 failed; @recommended 0 passed, 0 failed"}},
		{name: "notify receiver only", checkout: false, code: 0,
			stdout: []string{"Not run, for lack of merchant.checkout in the driver file (3):", "  - A payment made through the checkout becomes paid", "Not checked, for lack of merchant.orderStatus"}},
		{name: "no scenario selected", checkout: true, args: []string{"--tags", "@nothing"}, code: 1, stdout: []string{"no scenario ran"}},
		{name: "bad driver file", driver: bad, code: 2,
			stderr: bad + ":2:11: sandbox.listen is \"nowhere\""},
		{name: "bad template", driver: bad, code: 2, stderr: `bad.yaml:9:11: merchant.checkout.body: template: merchant.checkout.body:1:2: executing "merchant.checkout.body" at <.Amout>`},
		{name: "unknown key", driver: unknown, code: 2, stderr: `unknown.yaml:6:3: unknown key "colour" in merchant`},
		{name: "report file with a comma", checkout: true, args: []string{"--format", "pretty:a,b.txt"}, code: 2, stderr: `report file "a,b.txt" contains a comma`},
		{name: "format list", checkout: true, args: []string{"--format", "progress,xml"}, code: 2, stderr: `unknown format "xml"`},
		{name: "missing driver", args: []string{"--merchant", filepath.Join(t.TempDir(), "none.yaml")}, driver: "-", code: 2, stderr: "no such file"},
		{name: "no driver", driver: "-", code: 2, stderr: "missing --merchant"},
		{name: "bad format", checkout: true, args: []string{"--format", "xml"}, code: 2, stderr: `unknown format "xml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // each run has its own sandbox and merchant, and mostly waits
			args := []string{"test"}
			switch tt.driver {
			case "":
				args = append(args, "--merchant", demoDriver(t, tt.bug, tt.checkout))
			case "-":
			default:
				args = append(args, "--merchant", tt.driver)
			}
			junit := filepath.Join(t.TempDir(), "report.xml")
			if tt.code != 2 {
				// Scenarios mostly wait on reads through orderStatus.within:
				// four at once keep a run to seconds.
				args = append(args, "--format", "progress", "--format", "junit:"+junit, "--concurrency", "4")
			}
			code, stdout, stderr := runCLI(t, append(args, tt.args...)...)
			checkCLI(t, code, stdout, stderr, tt.code, tt.stdout, tt.stderr)
			if strings.Contains(stdout+stderr, "s-1\n") || strings.Contains(stdout, "X-Client-Secret: s-1") {
				t.Errorf("the client secret was printed")
			}
			if tt.code != 2 {
				// The JUnit report agrees with the exit status: failures
				// exactly when the run fails.
				var junitTotals struct {
					Tests    int `xml:"tests,attr"`
					Failures int `xml:"failures,attr"`
				}
				report, err := os.ReadFile(junit)
				if err == nil {
					err = xml.Unmarshal(report, &junitTotals)
				}
				if err != nil || (junitTotals.Tests == 0) != (tt.name == "no scenario selected") || (junitTotals.Failures == 0) != (tt.code == 0 || junitTotals.Tests == 0) {
					t.Errorf("JUnit report: %v, totals %+v, exit %d", err, junitTotals, code)
				}
			}
		})
	}
}

// TestTestCommandUnreachableMerchant: a merchant that is not running gets
// one clear line, not a page of failed scenarios.
func TestTestCommandUnreachableMerchant(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.yaml")
	yaml := "sandbox: {listen: \"" + freeAddr(t) + "\"}\nmerchant: {clientId: a, clientSecret: b, notifyUrl: \"http://" + freeAddr(t) + "/hook\"}\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "test", "--merchant", path, "--wait", "300ms")
	if code != 1 || !strings.Contains(stderr, "the merchant is not reachable at its notifyUrl") || !strings.Contains(stderr, "connection refused") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}

// TestTestCommandRunningSandbox: with sandbox.url the suite runs against a
// sandbox already running, as in docker-compose, registering the merchant
// under test when the sandbox does not know it; on a shared sandbox with
// an admin token, with the merchant's own token (--token) instead.
func TestTestCommandRunningSandbox(t *testing.T) {
	const adminToken = "running-sandbox-admin-token"
	tests := []struct {
		name     string
		merchant *mock.Merchant // configured in the running sandbox besides the demo one
		down     bool
		extra    string // more driver lines under sandbox:
		tokenOf  string // run with --token, the token of this merchant, on a sandbox with an admin token
		code     int
		out      string
	}{
		{name: "registers the merchant", code: 0, out: "Result: PASS\n"},
		{name: "merchant configured", merchant: &mock.Merchant{Name: "shop", ClientID: "m-1", ClientSecret: "s-1"}, code: 0, out: "Result: PASS\n"},
		{name: "another secret", merchant: &mock.Merchant{Name: "shop", ClientID: "m-1", ClientSecret: "other"}, code: 1, out: "it knows client id m-1 with another secret"},
		{name: "sandbox down", down: true, code: 1, out: "not healthy after 300ms"},
		{name: "listen and url", extra: "\n  listen: 127.0.0.1:18080", code: 2, out: "sandbox has both listen and url"},
		{name: "the merchant's token", merchant: &mock.Merchant{Name: "shop", ClientID: "m-1", ClientSecret: "s-1"}, tokenOf: "m-1",
			code: 0, out: "Result: PASS\n"}, // @clock scenarios included: they move the merchant's own clock
		{name: "another merchant's token", merchant: &mock.Merchant{Name: "shop", ClientID: "m-1", ClientSecret: "s-1"}, tokenOf: demoClientID,
			code: 1, out: "--token is the token of " + demoClientID + ", not of the merchant under test (m-1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mock.DefaultConfig()
			if tt.merchant != nil {
				cfg.Merchants = append(cfg.Merchants, *tt.merchant)
			}
			opts := mock.Options{Config: cfg, Seed: 1}
			if tt.tokenOf != "" {
				opts.AdminToken = adminToken
			}
			sb, err := mock.New(opts)
			if err != nil {
				t.Fatal(err)
			}
			sb.Start()
			t.Cleanup(func() { sb.Close(context.Background()) })
			srv := httptest.NewServer(sb.Handler())
			t.Cleanup(srv.Close)
			if tt.down {
				srv.Close()
			}
			args := []string{"test", "--format", "progress", "--wait", "300ms", "--concurrency", "4"}
			if tt.tokenOf != "" {
				args = append(args, "--token", rotateToken(t, srv.URL, adminToken, tt.tokenOf))
			}
			driver := writeDemoDriver(t, "", true, srv.URL, "url: "+srv.URL+tt.extra)
			code, stdout, stderr := runCLI(t, append(args, "--merchant", driver)...)
			if code != tt.code || !strings.Contains(stdout+stderr, tt.out) {
				t.Errorf("exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", code, tt.code, tt.out, stdout, stderr)
			}
		})
	}
}

const demoClientID = "2f9d6a0e-4c1b-4e8a-9b7d-5a3c1e0f8b21"

// rotateToken makes a new token for the merchant clientID, as the admin.
func rotateToken(t *testing.T, base, adminToken, clientID string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/_sandbox/merchants/"+clientID+"/token", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	status, body, err := do(http.DefaultClient, req)
	var out struct{ Token string }
	if err != nil || status != 200 || json.Unmarshal([]byte(body), &out) != nil {
		t.Fatalf("rotate the token of %s: %d %s %v", clientID, status, body, err)
	}
	return out.Token
}
