package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServer runs the real serve code on a free port until the test ends.
func startServer(t *testing.T, o serveOptions) (base string, stdout, stderr *syncBuffer) {
	t.Helper()
	stdout, stderr = &syncBuffer{}, &syncBuffer{}
	o.addr = "127.0.0.1:0"
	if o.clockMode == "" { // the flags' defaults
		o.clockMode, o.speed, o.workers, o.maxPending = "real", 1, 16, 1000
	}
	srv, err := newServer(o, stderr)
	if err != nil {
		t.Fatalf("newServer: %v", err)
	}
	srv.printBanner(stdout)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(shutdownTimeout + time.Second):
			t.Errorf("Run did not return after cancel")
		}
	})
	return srv.URL(), stdout, stderr
}

func call(t *testing.T, base, path, clientID, secret string, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Client-Id", clientID)
	req.Header.Set("X-Client-Secret", secret)
	req.Header.Set("X-Request-Time", time.Now().Format("2006-01-02T15:04:05-07:00"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return resp.StatusCode, env
}

func TestServeDefaults(t *testing.T) {
	base, stdout, _ := startServer(t, serveOptions{logLevel: slog.LevelInfo})
	const id, secret = "2f9d6a0e-4c1b-4e8a-9b7d-5a3c1e0f8b21", "sandbox-secret-change-me"
	for _, want := range []string{base, id, secret, "VA-BNI", "curl -s -X POST"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("banner does not show %q:\n%s", want, stdout)
		}
	}
	if status, env := call(t, base, "/api/merchant/payment-channel", id, secret, ""); status != 200 || env["code"] != "OK" {
		t.Fatalf("channels: %d %v", status, env)
	}
	expires := time.Now().Add(time.Hour).Format(time.RFC3339)
	body := `{"paymentCode":"VA-BNI","referenceNumber":"CLI-1","customerName":"Budi","customerEmail":"budi@example.com",
		"customerPhoneNumber":"62123224456","expiredAt":"` + expires + `","totalAmount":58000,
		"items":[{"name":"MLBB Diamond - 250","quantity":1,"amount":58000}]}`
	if status, env := call(t, base, "/api/merchant/transaction/create", id, secret, body); status != 200 || env["code"] != "OK" {
		t.Fatalf("create: %d %v", status, env)
	}
	status, env := call(t, base, "/api/merchant/transaction/inquiry/CLI-1", id, secret, "")
	if data, _ := env["data"].(map[string]any); status != 200 || data["referenceNumber"] != "CLI-1" || data["status"] != "PENDING" {
		t.Fatalf("inquiry: %d %v", status, env)
	}
}

// TestServeKeepsSecretsOutOfOutput: a secret the user gives is used but
// never printed, logged or echoed.
func TestServeKeepsSecretsOutOfOutput(t *testing.T) {
	const id, secret, token = "my-client", "my-very-secret-value", "my-admin-token-value"
	base, stdout, stderr := startServer(t, serveOptions{clientID: id, clientSecret: secret, adminToken: token, exposeCtl: true, logLevel: slog.LevelDebug})
	if status, _ := call(t, base, "/api/merchant/payment-channel", id, secret, ""); status != 200 {
		t.Fatalf("channels with the given credentials: %d", status)
	}
	if status, env := call(t, base, "/api/merchant/payment-channel", id, secret+"-wrong", ""); status != 401 || strings.Contains(env["sandboxDetail"].(string), secret) {
		t.Fatalf("wrong secret: %d %v", status, env)
	}
	if status, _ := call(t, base, "/api/merchant/payment-channel", "2f9d6a0e-4c1b-4e8a-9b7d-5a3c1e0f8b21", "sandbox-secret-change-me", ""); status != 401 {
		t.Errorf("the demo credentials still work after --client-id/--client-secret: %d", status)
	}
	for name, out := range map[string]string{"stdout": stdout.String(), "stderr": stderr.String()} {
		if strings.Contains(out, secret) || strings.Contains(out, token) {
			t.Errorf("%s shows the client secret or the admin token:\n%s", name, out)
		}
	}
	if !strings.Contains(stdout.String(), id) {
		t.Errorf("banner does not show the client id %q", id)
	}
}

// TestBannerSecret: the demo merchant's public secret is printed unless the
// user supplied the first merchant's credentials.
func TestBannerSecret(t *testing.T) {
	dir := t.TempDir()
	settingsOnly := filepath.Join(dir, "settings.yaml")
	merchants := filepath.Join(dir, "merchants.yaml")
	if err := os.WriteFile(settingsOnly, []byte("settings:\n  requestTimeSkew: 1m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(merchants, []byte("merchants:\n  - {clientId: toko, clientSecret: rahasia-toko}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		opts       serveOptions
		shown, hid string
	}{
		{"defaults", serveOptions{}, "sandbox-secret-change-me", ""},
		{"settings-only config", serveOptions{configPath: settingsOnly}, "sandbox-secret-change-me", ""},
		{"merchants from config", serveOptions{configPath: merchants}, "read -r secret", "rahasia-toko"},
		{"credentials from flags", serveOptions{clientID: "me", clientSecret: "flag-secret"}, "(as configured; not printed)", "flag-secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stdout, _ := startServer(t, tt.opts)
			if !strings.Contains(stdout.String(), tt.shown) {
				t.Errorf("banner does not show %q:\n%s", tt.shown, stdout)
			}
			if tt.hid != "" && strings.Contains(stdout.String(), tt.hid) {
				t.Errorf("banner shows the secret %q:\n%s", tt.hid, stdout)
			}
		})
	}
}

func TestServeConfigFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sandbox.yaml")
	yml := "merchants:\n  - name: Toko\n    clientId: toko\n    clientSecret: rahasia\n"
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	base, _, _ := startServer(t, serveOptions{configPath: path})
	if status, env := call(t, base, "/api/merchant/payment-channel", "toko", "rahasia", ""); status != 200 {
		t.Fatalf("merchant from the config file: %d %v", status, env)
	}
}

// TestCommandLine runs the CLI as a user would and checks exit codes and
// messages.
func TestCommandLine(t *testing.T) {
	dir := t.TempDir()
	badYAML := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badYAML, []byte("merchants:\n  - clientId: a\n    colour: red\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	twoMerchants := filepath.Join(dir, "two.yaml")
	if err := os.WriteFile(twoMerchants, []byte("merchants:\n  - {clientId: m1, clientSecret: a}\n  - {clientId: m2, clientSecret: b}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	goodScn := filepath.Join(dir, "good.yaml")
	badScn := filepath.Join(dir, "bad-scn.yaml")
	if err := os.WriteFile(goodScn, []byte("scenarios:\n  - name: mine\n    match: {reference: \"^MINE-\"}\n    timeline: [{after: 0s, status: PAID}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(badScn, []byte("scenarios:\n  - name: Bad Name\n    timeline: [{after: 0s, status: DONE}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ref := []string{"--client-id", "test-client-id", "--client-secret", "test-client-secret",
		"--timestamp", "2024-09-20T20:32:36+07:00", "--reference", "TX_556622123344", "--payment-code", "GOPAY", "--amount", "15000"}
	const refSig = "f5a8097de89bbe64ff66137c931d19e737f1574995bcada84558d58728e658bf"
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		code     int
		stdout   string // substring; exact when it ends in "\n" and starts with "="
		stderr   string
		notInEnv string
	}{
		{name: "no arguments", args: nil, code: 2, stderr: "a subcommand is needed"},
		{name: "help", args: []string{"help"}, code: 0, stdout: "Subcommands:"},
		{name: "unknown subcommand", args: []string{"srve"}, code: 2, stderr: `unknown subcommand "srve"`},
		{name: "help of a subcommand", args: []string{"help", "sign"}, code: 0, stdout: "Examples:"},
		{name: "serve --help", args: []string{"serve", "--help"}, code: 0, stdout: "[$BJPAY_SANDBOX_CLIENT_ID]"},
		{name: "serve -h", args: []string{"serve", "-h"}, code: 0, stdout: "Usage:\n  bjpay-sandbox serve"},
		{name: "usage after a mistake goes to stderr", args: []string{"sign", "--nope"}, code: 2, stderr: "Usage:\n  bjpay-sandbox sign"},
		{name: "scenarios --help", args: []string{"scenarios", "--help"}, code: 0, stdout: "lint PATH... | list [PATH...]"},
		{name: "test --help", args: []string{"test", "--help"}, code: 0, stdout: "--merchant"},
		{name: "sign empty reference and code", args: []string{"sign", "--client-id", "test-client-id", "--client-secret", "test-client-secret",
			"--timestamp", "2024-09-20T20:32:36+07:00", "--reference", "", "--payment-code", "", "--amount", "15000"}, code: 0, stdout: "=e99560b8ee32f2d11b5dcd6946df82b6fbe9d348b166a55c5329ca7df8e18fd9\n"},
		{name: "sign empty reference from env", args: []string{"sign", "--client-id", "test-client-id", "--client-secret", "test-client-secret",
			"--timestamp", "2024-09-20T20:32:36+07:00", "--payment-code", "", "--amount", "15000"}, env: map[string]string{"BJPAY_SANDBOX_REFERENCE": ""}, code: 0, stdout: "=e99560b8ee32f2d11b5dcd6946df82b6fbe9d348b166a55c5329ca7df8e18fd9\n"},
		{name: "sign reference left out", args: []string{"sign", "--client-id", "test-client-id", "--client-secret", "test-client-secret",
			"--timestamp", "2024-09-20T20:32:36+07:00", "--payment-code", "GOPAY", "--amount", "15000"}, code: 2, stderr: "missing --reference"},
		{name: "verify empty signature", args: append(append([]string{"verify"}, ref...), "--signature", ""), code: 1, stderr: "invalid: signature does not match"},
		{name: "serve unknown flag", args: []string{"serve", "--port", "8080"}, code: 2, stderr: "flag provided but not defined: -port"},
		{name: "serve bad seed", args: []string{"serve", "--seed", "abc"}, code: 2, stderr: `invalid value "abc" for flag -seed`},
		{name: "serve bad log level", args: []string{"serve", "--log-level", "loud"}, code: 2, stderr: "invalid value"},
		{name: "serve stray argument", args: []string{"serve", "now"}, code: 2, stderr: `serve takes no arguments, got ["now"]`},
		{name: "serve id without secret", args: []string{"serve", "--client-id", "x"}, code: 2, stderr: "--client-id and --client-secret go together"},
		{name: "serve bad address", args: []string{"serve", "--addr", "nohost:99999"}, code: 1, stderr: "listen on nohost:99999"},
		{name: "serve missing config", args: []string{"serve", "--config", filepath.Join(dir, "nope.yaml")}, code: 1, stderr: "nope.yaml: no such file"},
		{name: "serve bad config", args: []string{"serve", "--config", badYAML}, code: 1, stderr: badYAML + `:3:5: unknown key "colour"`},
		{name: "serve client id of another merchant", args: []string{"serve", "--config", twoMerchants, "--client-id", "m2", "--client-secret", "x"}, code: 2, stderr: `--client-id "m2" is already the client id of merchants[1]`},
		{name: "serve bad clock", args: []string{"serve", "--clock", "fast"}, code: 2, stderr: `clock mode "fast": expected "real" or "virtual"`},
		{name: "serve zero speed", args: []string{"serve", "--speed", "0"}, code: 2, stderr: "expected a positive factor"},
		{name: "serve no workers", args: []string{"serve", "--notify-workers", "0"}, code: 2, stderr: "--notify-workers is 0"},
		{name: "serve bad notify allowlist", args: []string{"serve", "--notify-allow", "shop.test,http://x"}, code: 2, stderr: `notify allowlist: "http://x" is not a host name`},
		{name: "serve exposed without a token", args: []string{"serve", "--expose-control"}, code: 2, stderr: "--expose-control needs --admin-token"},
		{name: "serve missing scenarios", args: []string{"serve", "--scenarios", filepath.Join(dir, "none.yaml")}, code: 1, stderr: "none.yaml"},
		{name: "serve bad scenarios", args: []string{"serve", "--scenarios", badScn}, code: 1, stderr: badScn + ":2:11: scenarios[0].name"},
		{name: "scenarios without action", args: []string{"scenarios"}, code: 2, stderr: "scenarios needs an action: lint or list"},
		{name: "scenarios lint without path", args: []string{"scenarios", "lint"}, code: 2, stderr: "needs at least one file or directory"},
		{name: "scenarios lint bad", args: []string{"scenarios", "lint", badScn}, code: 1, stdout: badScn + ":3:", stderr: "problem(s)"},
		{name: "scenarios lint good", args: []string{"scenarios", "lint", goodScn}, code: 0, stdout: "=ok: 1 scenario(s)\n"},
		{name: "scenarios list", args: []string{"scenarios", "list", goodScn}, code: 0, stdout: "mine "},
		{name: "scenarios list library", args: []string{"scenarios", "list"}, code: 0, stdout: "paid-now"},
		{name: "serve bad env", args: []string{"serve"}, env: map[string]string{"BJPAY_SANDBOX_SEED": "many"}, code: 2, stderr: `invalid value "many" in $BJPAY_SANDBOX_SEED for --seed`},
		{name: "sign reference vector", args: append([]string{"sign"}, ref...), code: 0, stdout: "=" + refSig + "\n"},
		{name: "sign from env", args: []string{"sign", "--amount", "15000"}, env: map[string]string{
			"BJPAY_SANDBOX_CLIENT_ID": "test-client-id", "BJPAY_SANDBOX_CLIENT_SECRET": "test-client-secret",
			"BJPAY_SANDBOX_TIMESTAMP": "2024-09-20T20:32:36+07:00", "BJPAY_SANDBOX_REFERENCE": "TX_556622123344",
			"BJPAY_SANDBOX_PAYMENT_CODE": "GOPAY"}, code: 0, stdout: "=" + refSig + "\n"},
		{name: "sign amount as JS renders it", args: append(append([]string{"sign"}, ref[:10]...), "--amount", "15000.0"), code: 0, stdout: "=" + refSig + "\n"},
		{name: "sign missing flags", args: []string{"sign", "--client-id", "x"}, code: 2, stderr: "missing --client-secret, --timestamp, --reference, --payment-code, --amount"},
		{name: "sign bad amount", args: append(append([]string{"sign"}, ref[:10]...), "--amount", "15.000,00"), code: 2, stderr: "--amount:"},
		{name: "verify valid", args: append(append([]string{"verify"}, ref...), "--signature", refSig), code: 0, stdout: "=valid\n"},
		{name: "verify invalid", args: append(append([]string{"verify"}, ref...), "--signature", strings.Repeat("0", 64)), code: 1, stderr: "invalid: signature does not match"},
		{name: "verify upper-case hex", args: append(append([]string{"verify"}, ref...), "--signature", strings.ToUpper(refSig)), code: 1, stderr: "invalid"},
		{name: "verify without signature", args: append([]string{"verify"}, ref...), code: 2, stderr: "missing --signature"},
		{name: "fixture without credentials", args: []string{"fixture"}, code: 2, stderr: "missing --client-id, --client-secret"},
		{name: "fixture bad time", args: []string{"fixture", "--client-id", "a", "--client-secret", "b", "--time", "2026-11-24 10:00"}, code: 2, stderr: `--time "2026-11-24 10:00" is not an RFC 3339 time`},
		{name: "fixture bad format", args: []string{"fixture", "--client-id", "a", "--client-secret", "b", "--format", "yaml"}, code: 2, stderr: `--format "yaml" is not a format; expected json, http or curl`},
		{name: "fixture bad variant", args: []string{"fixture", "--client-id", "a", "--client-secret", "b", "--variant", "valid,forged"}, code: 2, stderr: `unknown notify variant "forged"; expected one of valid,`},
		{name: "fixture zero count", args: []string{"fixture", "--client-id", "a", "--client-secret", "b", "--count", "0"}, code: 2, stderr: "--count 0 is out of range; expected 1 to 10000"},
		{name: "fixture bad amount", args: []string{"fixture", "--client-id", "a", "--client-secret", "b", "--amount", "0"}, code: 2, stderr: "--amount 0 is not a positive whole number"},
		{name: "fixture decimal amount", args: []string{"fixture", "--client-id", "a", "--client-secret", "b", "--amount", "15000.5"}, code: 2, stderr: `invalid value "15000.5" for flag -amount`},
		{name: "fixture empty reference", args: []string{"fixture", "--client-id", "a", "--client-secret", "b", "--reference", ""}, code: 2, stderr: "--reference is empty"},
		{name: "fixture bad status and channel", args: []string{"fixture", "--client-id", "a", "--client-secret", "b", "--status", "DONE", "--payment-code", "BITCOIN"}, code: 2, stderr: `status "DONE" is not a status a notify reports`},
		{name: "fixture bad channel", args: []string{"fixture", "--client-id", "a", "--client-secret", "b", "--payment-code", "BITCOIN"}, code: 2, stderr: `payment code "BITCOIN" is not in the channel catalogue; expected one of VA-BNI`},
		{name: "fixture from env", args: []string{"fixture", "--seed", "1", "--time", "2026-11-24T10:00:00+07:00", "--variant", "missing-signature"},
			env: map[string]string{"BJPAY_SANDBOX_CLIENT_ID": "a", "BJPAY_SANDBOX_CLIENT_SECRET": "b", "BJPAY_SANDBOX_FORMAT": "curl"}, code: 0, stdout: "# missing-signature-1: a correct merchant must reject it."},
		{name: "notify --help", args: []string{"notify", "--help"}, code: 0, stdout: "[$BJPAY_SANDBOX_URL]"},
		{name: "health of nothing", args: []string{"health", "--addr", "127.0.0.1:1"}, code: 1, stderr: "bjpay-sandbox health: http://127.0.0.1:1/_sandbox/health: "}, // the table cancels ctx; refusal is checked in TestPackaging
		{name: "health bad addr", args: []string{"health", "--addr", "8080"}, code: 2, stderr: `--addr "8080" is not HOST:PORT`},
		{name: "health bad wait", args: []string{"health", "--wait", "-1s"}, code: 2, stderr: "--wait not negative; got 3s and -1s"},
		{name: "listen --help", args: []string{"listen", "--help"}, code: 0, stdout: "[$BJPAY_SANDBOX_SANDBOX_URL]"},
		{name: "listen without sandbox", args: []string{"listen", "--token", "t", "--forward-to", "http://localhost:3000/webhook"}, code: 2, stderr: "missing --sandbox"},
		{name: "listen sandbox not a URL", args: []string{"listen", "--sandbox", "sandbox.example.com", "--token", "t", "--forward-to", "http://localhost:3000/webhook"}, code: 2, stderr: `--sandbox "sandbox.example.com" is not an absolute http(s) URL`},
		{name: "listen without token or merchant", args: []string{"listen", "--sandbox", "http://127.0.0.1:1", "--forward-to", "http://localhost:3000/webhook"}, code: 2, stderr: "missing --token (or $BJPAY_SANDBOX_TOKEN)"},
		{name: "listen without forward-to", args: []string{"listen", "--sandbox", "http://127.0.0.1:1", "--token", "t"}, code: 2, stderr: "missing --forward-to"},
		{name: "listen forward-to not a URL", args: []string{"listen", "--sandbox", "http://127.0.0.1:1", "--token", "t", "--forward-to", "localhost:3000"}, code: 2, stderr: `--forward-to "localhost:3000" is not an absolute http(s) URL`},
		{name: "listen off and forward-to", args: []string{"listen", "--sandbox", "http://127.0.0.1:1", "--token", "t", "--off", "--forward-to", "http://localhost:3000/webhook"}, code: 2, stderr: "--off and --forward-to do not go together"},
		{name: "listen missing CA file", args: []string{"listen", "--sandbox", "https://127.0.0.1:1", "--token", "t", "--forward-to", "http://localhost:3000/webhook", "--ca-cert", filepath.Join(dir, "none.pem")}, code: 2, stderr: "none.pem: no such file"},
		{name: "listen CA file without a certificate", args: []string{"listen", "--sandbox", "https://127.0.0.1:1", "--token", "t", "--forward-to", "http://localhost:3000/webhook", "--ca-cert", goodScn}, code: 2, stderr: "no PEM CERTIFICATE block"},
		{name: "listen off on nothing", args: []string{"listen", "--sandbox", "http://127.0.0.1:1", "--token", "t", "--off"}, code: 1, stderr: `Get "http://127.0.0.1:1/_sandbox/whoami"`}, // the table cancels ctx
		{name: "test with both tokens", args: []string{"test", "--merchant", goodScn, "--admin-token", "a", "--token", "b"}, code: 2, stderr: "--admin-token and --token do not go together"},
		{name: "version", args: []string{"version"}, code: 0, stdout: "bjpay-sandbox "},
		{name: "--version", args: []string{"--version"}, code: 0, stdout: "bjpay-sandbox "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // a serve that gets this far stops at once
			code := exitCode(run(ctx, tt.args, &stdout, &stderr), &stderr)
			if code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, &stdout, &stderr)
			}
			check := func(name, got, want string) {
				if strings.HasPrefix(want, "=") {
					if got != want[1:] {
						t.Errorf("%s = %q, want %q", name, got, want[1:])
					}
				} else if !strings.Contains(got, want) {
					t.Errorf("%s does not contain %q:\n%s", name, want, got)
				}
			}
			check("stdout", stdout.String(), tt.stdout)
			check("stderr", stderr.String(), tt.stderr)
		})
	}
}

// TestTokenTransport: the test command's client sends the token on the
// sandbox's control API calls only, never to BJPAY's surface, another
// host or the merchant.
func TestTokenTransport(t *testing.T) {
	got := map[string]string{}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got[r.Host+r.URL.Path] = r.Header.Get("Authorization")
	})
	sandbox, merchant := httptest.NewServer(handler), httptest.NewServer(handler)
	defer sandbox.Close()
	defer merchant.Close()
	host := strings.TrimPrefix(sandbox.URL, "http://")
	client := &http.Client{Transport: tokenTransport{token: "tok", host: host, next: http.DefaultTransport}}
	for _, tt := range []struct{ url, want string }{
		{sandbox.URL + "/_sandbox/merchants", "Bearer tok"},
		{sandbox.URL + "/_sandbox/transactions/X/pay", "Bearer tok"},
		{sandbox.URL + "/api/merchant/payment-channel", ""},
		{sandbox.URL + "/_sandboxes", ""},
		{merchant.URL + "/webhook/bjpay", ""},
		{merchant.URL + "/_sandbox/merchants", ""},
	} {
		resp, err := client.Get(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		key := strings.TrimPrefix(tt.url, "http://")
		if got[key] != tt.want {
			t.Errorf("%s: Authorization %q, want %q", tt.url, got[key], tt.want)
		}
	}
}

// TestBannerTryWorks runs the banner's "Try:" command in a shell, as a
// newcomer pastes it, and expects the channel list: with the public demo
// secret, and with a secret of their own, which the command asks for.
func TestBannerTryWorks(t *testing.T) {
	for _, tool := range []string{"sh", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is needed to run the banner's command (.ci/run installs curl): %v", tool, err)
			}
			t.Skipf("%s not installed; apt-get install -y %s", tool, tool)
		}
	}
	tests := []struct {
		name  string
		opts  serveOptions
		stdin string // what the user types
	}{
		{"demo merchant", serveOptions{}, ""},
		{"--client-secret", serveOptions{clientID: "my-id", clientSecret: "my s3cr3t 'quoted'"}, "my s3cr3t 'quoted'\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stdout, _ := startServer(t, tt.opts)
			_, try, ok := strings.Cut(stdout.String(), "Try:\n")
			if !ok {
				t.Fatalf("banner has no Try: section:\n%s", stdout)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, "sh", "-c", try)
			cmd.Stdin = strings.NewReader(tt.stdin)
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), `"code":"OK"`) || !strings.Contains(string(out), `"paymentCode":"VA-BNI"`) {
				t.Errorf("the banner's command\n%s\nanswered %v:\n%s", try, err, out)
			}
		})
	}
}
