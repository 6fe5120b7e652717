package main

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/cmd/demo-merchant/shop"
	"github.com/bjpay/bjpay-sandbox/mock"
)

// shopDriver starts the demo shop with cfg (calling cfg.SandboxURL) and
// writes a driver file for it with the credentials m-1 / s-1, sandboxLine
// under sandbox:, and the order's status at statusPath.
func shopDriver(t *testing.T, cfg shop.Config, sandboxLine, statusPath string) string {
	t.Helper()
	var h http.Handler
	merchant := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(merchant.Close)
	cfg.PublicURL = merchant.URL
	h = shop.New(cfg).Handler()
	return writeDriver(t, "sandbox:\n  "+sandboxLine+"\nmerchant:\n  clientId: m-1\n  clientSecret: s-1\n  notifyUrl: "+merchant.URL+"/webhook/bjpay\n"+
		"  checkout:\n    url: "+merchant.URL+"/checkout\n    body: '{\"amount\": {{.Amount}}, \"paymentCode\": \"{{.PaymentCode}}\"}'\n    referenceNumber: referenceNumber\n"+
		"  orderStatus:\n    url: "+merchant.URL+"/orders/{{.ReferenceNumber}}\n    status: "+statusPath+"\n    paid: PAID\n    within: 300ms\n")
}

func writeDriver(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "merchant.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runningSandbox is a sandbox already running, with the demo merchant of
// the defaults and m-1 / s-1.
func runningSandbox(t *testing.T) string {
	t.Helper()
	cfg := mock.DefaultConfig()
	cfg.Merchants = append(cfg.Merchants, mock.Merchant{Name: "shop", ClientID: "m-1", ClientSecret: "s-1"})
	sb, err := mock.New(mock.Options{Config: cfg, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(func() { srv.Close(); sb.Close(context.Background()) })
	return srv.URL
}

// TestTestPreflight: a set-up mistake stops the run before any scenario,
// with one message saying what the sandbox received and what it expected,
// instead of a page of failed scenarios.
func TestTestPreflight(t *testing.T) {
	demo := mock.DefaultConfig().Merchants[0]
	tests := []struct {
		name string
		// driver returns the driver file's path.
		driver func(t *testing.T) string
		stderr []string
	}{
		{name: "another secret", driver: func(t *testing.T) string {
			listen := freeAddr(t)
			return shopDriver(t, shop.Config{SandboxURL: "http://" + listen, ClientID: "m-1", ClientSecret: "not-s-1"}, "listen: "+listen, "status")
		}, stderr: []string{
			"preflight: the merchant's checkout did not answer 2xx",
			"The sandbox received, and refused:\n  POST /api/merchant/transaction/create: HTTP 401, code 01: X-Client-Secret does not match the secret of client \"m-1\"",
			"It expects the driver file's merchant.clientId with its merchant.clientSecret.",
		}},
		{name: "another client id", driver: func(t *testing.T) string {
			listen := freeAddr(t)
			return shopDriver(t, shop.Config{SandboxURL: "http://" + listen, ClientID: "m-2-which-is-long", ClientSecret: "s-1"}, "listen: "+listen, "status")
		}, stderr: []string{"HTTP 401, code 01: X-Client-Id \"m-2-\"… (17 characters) is not a merchant of this sandbox"}},
		{name: "another merchant's credentials", driver: func(t *testing.T) string {
			base := runningSandbox(t)
			return shopDriver(t, shop.Config{SandboxURL: base, ClientID: demo.ClientID, ClientSecret: demo.ClientSecret}, "url: "+base, "status")
		}, stderr: []string{"preflight: credentials differ: the merchant created payment ORDER-", "with X-Client-Id " + demo.ClientID + ", but the driver file's merchant.clientId is m-1"}},
		{name: "another sandbox", driver: func(t *testing.T) string {
			return shopDriver(t, shop.Config{SandboxURL: runningSandbox(t), ClientID: "m-1", ClientSecret: "s-1"}, "listen: "+freeAddr(t), "status")
		}, stderr: []string{"but the sandbox at http://", "has no such payment: the merchant did not create it there", "Configure the merchant with BJPAY base URL"}},
		{name: "order status path", driver: func(t *testing.T) string {
			listen := freeAddr(t)
			return shopDriver(t, shop.Config{SandboxURL: "http://" + listen, ClientID: "m-1", ClientSecret: "s-1"}, "listen: "+listen, "state")
		}, stderr: []string{"preflight: merchant.orderStatus does not read the order the checkout just created: expected the order status answer to hold the status at \"state\" (merchant.orderStatus.status): no field \"state\""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "test", "--merchant", tt.driver(t), "--format", "progress")
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			for _, want := range append(tt.stderr, "No scenario was run.") {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if strings.Contains(stdout, "scenarios") || strings.Contains(stderr, "s-1\n") {
				t.Errorf("a scenario ran, or the secret was printed:\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
			}
		})
	}
}

// hangingMerchant answers nothing on the paths hang names until the test
// ends, and serves the demo shop on the others.
func hangingMerchant(t *testing.T, sandboxURL string, hang ...string) *httptest.Server {
	t.Helper()
	var h http.Handler
	stop := make(chan struct{})
	merchant := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, p := range hang {
			if strings.HasPrefix(r.URL.Path, p) {
				select {
				case <-stop:
				case <-r.Context().Done():
				}
				return
			}
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { close(stop); merchant.Close() })
	h = shop.New(shop.Config{SandboxURL: sandboxURL, ClientID: "m-1", ClientSecret: "s-1", PublicURL: merchant.URL}).Handler()
	return merchant
}

// TestTestNeverHangs: a merchant that never answers ends the run within
// the call timeout (--call-timeout, or the driver's merchant.timeout), and
// the whole run within --timeout (or $BJPAY_SANDBOX_TEST_TIMEOUT, not the
// BJPAY_SANDBOX_TIMEOUT other subcommands read), with its reports.
func TestTestNeverHangs(t *testing.T) {
	tests := []struct {
		name    string
		hang    []string
		extra   string // driver lines under merchant:
		args    []string
		env     map[string]string
		limit   time.Duration // generous: the bound is what is asserted, not the figure
		stderr  string
		skipped bool // the JUnit report shows skipped, interrupted scenarios
	}{
		{name: "checkout", hang: []string{"/checkout"}, args: []string{"--call-timeout", "1s"}, limit: 10 * time.Second,
			stderr: "no answer within 1s"},
		{name: "order status, merchant.timeout", hang: []string{"/orders/"}, extra: "  timeout: 1s\n", limit: 10 * time.Second,
			stderr: "merchant.orderStatus does not read the order the checkout just created: expected the merchant's order status to answer 2xx"},
		{name: "--call-timeout wins over merchant.timeout", hang: []string{"/checkout"}, extra: "  timeout: 4m\n", args: []string{"--call-timeout", "1s"}, limit: 10 * time.Second,
			stderr: "no answer within 1s"},
		{name: "notifies, --timeout", hang: []string{"/webhook/"}, args: []string{"--timeout", "3s"}, limit: 12 * time.Second,
			stderr: "bjpay-sandbox test: interrupted (--timeout 3s passed) after", skipped: true},
		{name: "notifies, $BJPAY_SANDBOX_TEST_TIMEOUT", hang: []string{"/webhook/"}, env: map[string]string{"BJPAY_SANDBOX_TEST_TIMEOUT": "2s", "BJPAY_SANDBOX_TIMEOUT": "1ms"}, limit: 12 * time.Second,
			stderr: "interrupted (--timeout 2s passed)", skipped: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			listen := freeAddr(t)
			m := hangingMerchant(t, "http://"+listen, tt.hang...)
			driver := writeDriver(t, "sandbox: {listen: \""+listen+"\"}\nmerchant:\n  clientId: m-1\n  clientSecret: s-1\n  notifyUrl: "+m.URL+"/webhook/bjpay\n"+tt.extra+
				"  checkout:\n    url: "+m.URL+"/checkout\n    body: '{\"amount\": {{.Amount}}, \"paymentCode\": \"{{.PaymentCode}}\"}'\n    referenceNumber: referenceNumber\n"+
				"  orderStatus:\n    url: "+m.URL+"/orders/{{.ReferenceNumber}}\n    status: status\n    paid: PAID\n    within: 1s\n")
			junit := filepath.Join(t.TempDir(), "report.xml")
			start := time.Now()
			code, stdout, stderr := runCLI(t, append([]string{"test", "--merchant", driver, "--format", "progress", "--format", "junit:" + junit}, tt.args...)...)
			took := time.Since(start)
			if code != 1 || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d, want 1 with %q\nstdout:\n%s\nstderr:\n%s", code, tt.stderr, stdout, stderr)
			}
			if took > tt.limit {
				t.Errorf("the run took %s; it must end within %s", took, tt.limit)
			}
			if tt.skipped {
				var totals struct {
					Tests    int `xml:"tests,attr"`
					Failures int `xml:"failures,attr"`
					Skipped  int `xml:"skipped,attr"`
				}
				data, err := os.ReadFile(junit)
				if err == nil {
					err = xml.Unmarshal(data, &totals)
				}
				if err != nil || totals.Tests == 0 || totals.Skipped == 0 || !strings.Contains(string(data), "interrupted while under way") {
					t.Errorf("partial JUnit report: %v, totals %+v\n%.2000s", err, totals, data)
				}
			}
			t.Logf("ended after %s", took.Round(10*time.Millisecond))
		})
	}
}
