package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bjpay/bjpay-sandbox/cmd/demo-merchant/shop"
)

// The HTML report in a real browser: Debian's headless Chromium, driven
// by chromedp, with the launch options of mock/browser_test.go. .ci/run
// installs chromium; in CI (CI set) a missing browser fails the test,
// elsewhere it skips with the command that installs one.

// browser starts a headless Chromium for the test and returns its context.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("BJPAY_CHROMIUM")
	for _, p := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path != "" {
			break
		}
		path, _ = exec.LookPath(p)
	}
	if path == "" {
		msg := "no Chromium found: install it (apt-get install -y chromium) or set BJPAY_CHROMIUM to its path"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg + "; CI installs it and fails without it")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		// The machine's network is closed: without these Chromium keeps
		// trying to reach Google's services.
		chromedp.Flag("no-sandbox", true), // CI runs as root
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(alloc, chromedp.WithErrorf(t.Logf))
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return bctx
}

// inBrowser runs steps, each wait bounded.
func inBrowser(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// TestHTMLReport: --format html:FILE writes one page, under 1 MB for the
// full suite, that Chromium opens from the file with nothing to load: the
// verdict, the failures grouped by root cause, each linking to its
// scenario, which shows the reason, the notify sent and the merchant's
// answer.
func TestHTMLReport(t *testing.T) {
	ctx := browser(t)
	// raw-md5-key: every valid notify is refused with 401, one root cause
	// for nine failures.
	driver := demoDriver(t, shop.BugRawMD5Key, true)
	page := filepath.Join(t.TempDir(), "report.html")
	code, stdout, stderr := runCLI(t, "test", "--merchant", driver, "--format", "progress", "--format", "html:"+page, "--concurrency", "4")
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	info, err := os.Stat(page)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size() >= 1<<20 {
		t.Errorf("the report is %d bytes; it must stay under 1 MB", info.Size())
	}
	if data, _ := os.ReadFile(page); strings.Contains(string(data), "X-Client-Secret: s-1") || !strings.Contains(string(data), "X-Client-Secret: (redacted)") {
		t.Error("the report shows the client secret, or not the redacted header of the harness's own create")
	}

	inBrowser(t, ctx, "open the report", chromedp.EmulateViewport(1280, 900), chromedp.Navigate("file://"+page), chromedp.WaitVisible(`#verdict`))
	title, _ := chromedp.Run(ctx, chromedp.Title())
	verdict, _ := chromedp.Run(ctx, chromedp.Text(`#verdict`))
	if !strings.HasPrefix(title, "BJPAY conformance: FAIL") || !strings.Contains(verdict, "does not do what BJPAY's docs oblige") {
		t.Errorf("title %q, verdict %q", title, verdict)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("details.scenario").length`); n != 24 {
		t.Errorf("%d scenarios on the page, want the suite's 24", n)
	}
	// Nothing from anywhere: no request but the page itself.
	if n := eval[int](t, ctx, `performance.getEntriesByType("resource").length + document.querySelectorAll("script, link, img, iframe, object, [src]").length`); n != 0 {
		t.Errorf("the page loads %d resources; it must load none", n)
	}
	groups, _ := chromedp.Run(ctx, chromedp.Text(`#failures`))
	if !strings.Contains(groups, "FAILED @required: A valid PAID notify is acknowledged and pays the order") ||
		!strings.Contains(groups, "valid notifies are refused (HTTP 401): 8 further failure(s) follow from it") {
		t.Errorf("failures:\n%s", groups)
	}

	// The root failure's link leads to its scenario, open, with the reason
	// (the signature hint, since the merchant answered 401), the notify
	// sent and the answer.
	inBrowser(t, ctx, "follow the first failure", chromedp.Click(`#failures a`))
	target, _ := chromedp.Run(ctx, chromedp.Location())
	_, anchor, _ := strings.Cut(target, "#")
	text, err := chromedp.Run(ctx, chromedp.Text(`#`+anchor))
	if err != nil {
		t.Fatalf("scenario %q: %v", anchor, err)
	}
	for _, want := range []string{"A valid PAID notify is acknowledged and pays the order", "X-Signature is HMAC-SHA256(md5(clientId:clientSecret) as hex",
		"Request sent", "POST http://127.0.0.1", "X-Signature: ", "HTTP 401"} {
		if !strings.Contains(text, want) {
			t.Errorf("scenario #%s lacks %q:\n%.3000s", anchor, want, text)
		}
	}
	if open := eval[bool](t, ctx, `document.getElementById("`+anchor+`").open`); !open {
		t.Errorf("failed scenario #%s is closed; failures open by themselves", anchor)
	}
	screenshotTo(t, ctx, "conformance-report")
	t.Logf("report: %d bytes", info.Size())
}

// screenshotTo saves the page as an artefact to look at, in
// $BJPAY_SCREENSHOTS (reports/screenshots at the repository root).
func screenshotTo(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("BJPAY_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "reports", "screenshots")
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", file)
}
