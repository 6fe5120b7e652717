package mock_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bjpay/bjpay-sandbox/mock"
	"github.com/bjpay/bjpay-sandbox/mock/notify"
	"github.com/bjpay/bjpay-sandbox/mock/store"
	"github.com/bjpay/bjpay-sandbox/signer"
)

// The pages in a real browser: Debian's headless Chromium, driven over the
// DevTools protocol by chromedp. .ci/run installs chromium; in CI (CI set)
// a missing browser fails the tests, elsewhere it skips them with the
// command that installs one. Screenshots go to $BJPAY_SCREENSHOTS, by
// default reports/screenshots at the repository root.

// browser starts a headless Chromium for the test and returns its context.
func browser(t *testing.T, flags ...chromedp.ExecAllocatorOption) context.Context {
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
	opts = append(opts, flags...)
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

// inBrowser runs steps, each wait bounded (so a page that never shows
// what is awaited fails in seconds, not at the test's deadline).
func inBrowser(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// screenshot saves the page as an artefact to look at.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("BJPAY_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("..", "reports", "screenshots")
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

// shop is a merchant for the browser tests: a notify endpoint that
// verifies what it gets, and the page customers return to.
type shop struct {
	*httptest.Server
	mu       sync.Mutex
	verified []notify.Notification
}

func newShop(t *testing.T) *shop {
	s := &shop{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/webhook":
			body, _ := io.ReadAll(r.Body)
			var n notify.Notification
			if err := json.Unmarshal(body, &n); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			if err := signer.VerifyNotify(signer.Key(demoID, demoSecret), r.Header, body); err != nil {
				http.Error(w, err.Error(), http.StatusUnauthorized)
				return
			}
			s.mu.Lock()
			s.verified = append(s.verified, n)
			s.mu.Unlock()
		case "/thankyou":
			fmt.Fprint(w, `<!doctype html><title>Thank you</title><h1 id="thanks">Terima kasih! Thank you for your order.</h1>`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *shop) notified(ref, status string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.verified {
		if n.ReferenceNumber == ref && n.Status == status {
			return true
		}
	}
	return false
}

// liveSandbox is a sandbox on a real clock behind a real listener, as a
// developer runs it.
func liveSandbox(t *testing.T) *httptest.Server {
	sb, err := mock.New(mock.Options{Config: mock.DefaultConfig(), Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	sb.Start()
	t.Cleanup(func() { sb.Close(context.Background()) })
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	return srv
}

// createPayment calls Create Payment as a merchant's backend would.
func createPayment(t *testing.T, base, ref, code string, fields map[string]any) store.Transaction {
	t.Helper()
	f := map[string]any{"referenceNumber": ref, "paymentCode": code, "expiredAt": nil}
	for k, v := range fields {
		f[k] = v
	}
	req, _ := http.NewRequest(http.MethodPost, base+createPath, bytes.NewReader(with(f)))
	req.Header = validHeaders()
	req.Header.Set("X-Request-Time", time.Now().Format(signer.TimeLayout))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Code string            `json:"code"`
		Data store.Transaction `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || env.Code != "OK" {
		t.Fatalf("create %s: %d %v %+v", ref, resp.StatusCode, err, env)
	}
	return env.Data
}

// TestBrowserCheckout walks the customer's flow and the developer's view:
// the dashboard is open, a payment is created through the API and appears
// on it without a reload; the customer opens the hosted page on a phone,
// pays, and lands on finishReturnUrl with the notify delivered; the
// dashboard shows the delivery, and its buttons act.
func TestBrowserCheckout(t *testing.T) {
	ctx := browser(t)
	sandbox, merchant := liveSandbox(t), newShop(t)

	// The developer's dashboard, open before anything exists.
	inBrowser(t, ctx, "empty dashboard",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(sandbox.URL+"/_sandbox/"),
		chromedp.WaitVisible(`//p[contains(., "No transactions yet")]`),
	)
	tx := createPayment(t, sandbox.URL, "BROWSER-1", "DANA", map[string]any{
		"finishNotifyUrl": merchant.URL + "/webhook", "finishReturnUrl": merchant.URL + "/thankyou"})
	inBrowser(t, ctx, "the new payment did not appear on the open dashboard", chromedp.WaitVisible(`//a[text()="BROWSER-1"]`))
	screenshot(t, ctx, "dashboard")

	// The customer, on a phone, at the paymentDest BJPAY returned.
	if !strings.HasPrefix(tx.PaymentDest, sandbox.URL+"/_sandbox/pay/") {
		t.Fatalf("paymentDest %q is not the hosted page", tx.PaymentDest)
	}
	inBrowser(t, ctx, "hosted page",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(tx.PaymentDest),
		chromedp.WaitVisible(`#countdown`),
	)
	amount, err := chromedp.Run(ctx, chromedp.Text(`h1.amount`))
	if err != nil {
		t.Fatal(err)
	}
	if amount != "Rp58.000" {
		t.Errorf("hosted page amount %q, want Rp58.000", amount)
	}
	screenshot(t, ctx, "pay-redirect-mobile")
	inBrowser(t, ctx, "pay", chromedp.Click(`button[value="pay"]`), chromedp.WaitVisible(`#thanks`))
	landed, _ := chromedp.Run(ctx, chromedp.Location())
	thanks, _ := chromedp.Run(ctx, chromedp.Text(`#thanks`))
	if landed != merchant.URL+"/thankyou" || !strings.Contains(thanks, "Thank you") {
		t.Errorf("after Pay the browser is at %q (%q), want finishReturnUrl %s", landed, thanks, merchant.URL+"/thankyou")
	}
	waitFor(t, "the PAID notify, verified by the merchant", func() bool { return merchant.notified("BROWSER-1", "PAID") })

	// Back to the dashboard: the delivery is there, and Resend works.
	inBrowser(t, ctx, "transaction page",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(sandbox.URL+"/_sandbox/ui/transactions/"+tx.TransactionNumber),
		chromedp.WaitVisible(`//h2[text()="Deliveries (1)"]`),
		chromedp.Click(`//article//summary[text()="Request"]`),
	)
	head, _ := chromedp.Run(ctx, chromedp.Text(`#tx-head h1`))
	if !strings.Contains(head, "PAID") {
		t.Errorf("transaction heading %q, want PAID", head)
	}
	screenshot(t, ctx, "transaction")
	inBrowser(t, ctx, "resend from the dashboard",
		chromedp.Click(`//button[contains(., "Resend the PAID notify")]`),
		chromedp.WaitVisible(`//h2[text()="Deliveries (2)"]`),
	)
}

// TestBrowserDirectChannels: a QRIS payment's page draws its QR code and
// "Simulate payment" pays it; with no finishReturnUrl the page itself says
// so. The dashboard's clock form expires a pending payment.
func TestBrowserDirectChannels(t *testing.T) {
	ctx := browser(t)
	sandbox, merchant := liveSandbox(t), newShop(t)
	qris := createPayment(t, sandbox.URL, "BROWSER-QRIS", "QRIS", map[string]any{"finishNotifyUrl": merchant.URL + "/webhook", "finishReturnUrl": nil})
	va := createPayment(t, sandbox.URL, "BROWSER-VA", "VA-BNI", map[string]any{"finishNotifyUrl": merchant.URL + "/webhook"})

	inBrowser(t, ctx, "QRIS page",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(sandbox.URL+"/_sandbox/pay/"+qris.TransactionNumber),
		chromedp.WaitVisible(`img.qr`),
	)
	qrWidth, err := chromedp.Run(ctx, chromedp.Poll[int](`document.querySelector("img.qr").complete && document.querySelector("img.qr").naturalWidth`))
	if err != nil {
		t.Fatalf("QR image: %v", err)
	}
	if qrWidth == 0 {
		t.Error("the QR image did not load")
	}
	screenshot(t, ctx, "pay-qris-mobile")
	inBrowser(t, ctx, "simulate payment", chromedp.Click(`button[value="pay"]`), chromedp.WaitVisible(`.result-paid`))
	result, _ := chromedp.Run(ctx, chromedp.Text(`.result-paid h2`))
	if result != "Payment received" {
		t.Errorf("after paying: %q, want Payment received", result)
	}
	waitFor(t, "the QRIS PAID notify", func() bool { return merchant.notified("BROWSER-QRIS", "PAID") })

	inBrowser(t, ctx, "VA page", chromedp.Navigate(sandbox.URL+"/_sandbox/pay/"+va.TransactionNumber))
	number, _ := chromedp.Run(ctx, chromedp.Text(`#va-number`))
	if number != va.PaymentDest {
		t.Errorf("VA page shows %q, want %s", number, va.PaymentDest)
	}
	screenshot(t, ctx, "pay-va-mobile")

	// A day later on the sandbox clock, through the dashboard's form.
	inBrowser(t, ctx, "advance the clock from the dashboard",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(sandbox.URL+"/_sandbox/"),
		chromedp.SetValue(`#advance-by`, "25h"),
		chromedp.Click(`//button[text()="Advance"]`),
		chromedp.WaitVisible(`//tr[td/a[text()="BROWSER-VA"]]//span[text()="EXPIRED"]`),
	)
	waitFor(t, "the VA EXPIRED notify", func() bool { return merchant.notified("BROWSER-VA", "EXPIRED") })
}

// TestBrowserCrossSite: a page of another site, open in the developer's
// browser (which has the dashboard open too, cookies and all), tries every
// kind of request a page can make against the control API, the dashboard
// and the hosted page: fetches as simple requests, form posts (with the
// JSON-in-a-text/plain-form trick), image loads. None of them changes or
// reads anything. The browser reaching the sandbox under another host name
// (DNS rebinding) reads nothing either. Then the dashboard's own button
// still works.
func TestBrowserCrossSite(t *testing.T) {
	ctx := browser(t, chromedp.Flag("host-resolver-rules", "MAP rebind.test 127.0.0.1"))
	sandbox := liveSandbox(t)
	tx := createPayment(t, sandbox.URL, "XSITE-1", "DANA", nil)
	clockBefore := getBody(t, sandbox.URL+"/_sandbox/clock")

	// The developer's dashboard, open: its CSRF cookie is in the browser.
	inBrowser(t, ctx, "dashboard", chromedp.Navigate(sandbox.URL+"/_sandbox/"), chromedp.WaitVisible(`//a[text()="XSITE-1"]`))

	// The other site: localhost is another site than 127.0.0.1.
	target := sandbox.URL
	attacks := []string{
		`fetch(T+"/_sandbox/transactions/XSITE-1/pay", {method: "POST", mode: "no-cors", credentials: "include"})`,
		`fetch(T+"/_sandbox/clock/advance", {method: "POST", mode: "no-cors", credentials: "include", body: '{"by":"48h"}'})`,
		`fetch(T+"/_sandbox/clock/advance", {method: "POST", mode: "no-cors", credentials: "include", headers: {"Content-Type": "text/plain"}, body: '{"by":"48h"}'})`,
		`fetch(T+"/_sandbox/merchants", {method: "POST", mode: "no-cors", credentials: "include", body: '{"clientId":"evil","clientSecret":"evil-secret"}'})`,
		`fetch(T+"/_sandbox/scenarios", {method: "POST", mode: "no-cors", credentials: "include", body: 'scenarios:\n  - {name: evil, match: {reference: "^"}, create: {status: 503}}\n'})`,
		`fetch(T+"/_sandbox/transactions", {credentials: "include"}).then(r => r.text()).then(b => { leaked += b })`,
		`form(T+"/_sandbox/transactions/XSITE-1/fail", "text/plain", '{"x":"', '"}')`,
		`form(T+"/_sandbox/clock/advance", "text/plain", '{"by":"48h","x":"', '"}')`,
		`form(T+"/_sandbox/reset", "application/x-www-form-urlencoded", "x", "1")`,
		`form(T+"/_sandbox/pay/` + tx.TransactionNumber + `", "application/x-www-form-urlencoded", "action", "cancel")`,
		`img(T+"/_sandbox/reset")`,
	}
	page := `<!doctype html><title>attacker</title><body><script>
const T = ` + fmt.Sprintf("%q", target) + `;
let leaked = "";
function form(action, enctype, name, value) {
  return new Promise((done) => {
    const frame = document.createElement("iframe");
    frame.name = "f" + Math.random().toString(36).slice(2);
    frame.onload = () => done();
    document.body.appendChild(frame);
    const f = document.createElement("form");
    f.method = "POST"; f.action = action; f.enctype = enctype; f.target = frame.name;
    const i = document.createElement("input");
    i.name = name; i.value = value; f.appendChild(i);
    document.body.appendChild(f);
    f.submit();
    setTimeout(done, 3000);
  });
}
function img(src) {
  return new Promise((done) => { const i = new Image(); i.onload = i.onerror = () => done(); i.src = src; });
}
Promise.allSettled([` + strings.Join(attacks, ",\n") + `]).then(() => {
  document.title = "done";
  document.body.dataset.leaked = leaked;
});
</script></body>`
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	}))
	t.Cleanup(attacker.Close)
	attackerURL := strings.Replace(attacker.URL, "127.0.0.1", "localhost", 1)
	inBrowser(t, ctx, "the other site's page", chromedp.Navigate(attackerURL))
	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.Run(pctx, chromedp.Poll[bool](`document.title === "done"`)); err != nil {
		t.Fatalf("the other site's page did not finish its attacks: %v", err)
	}
	leaked, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.leaked`))
	if strings.Contains(leaked, "XSITE-1") {
		t.Errorf("the other site read the transactions: %q", leaked)
	}

	// Nothing changed.
	got := getBody(t, sandbox.URL+"/_sandbox/transactions/XSITE-1")
	if !strings.Contains(got, `"status": "PENDING"`) {
		t.Errorf("after the attacks XSITE-1 is not PENDING: %s", got)
	}
	if moved := clockNow(t, getBody(t, sandbox.URL+"/_sandbox/clock")).Sub(clockNow(t, clockBefore)); moved > time.Hour {
		t.Errorf("the clock moved %s", moved)
	}
	if ms := getBody(t, sandbox.URL+"/_sandbox/merchants"); strings.Contains(ms, "evil") {
		t.Errorf("the other site made a merchant: %s", ms)
	}
	if sc := getBody(t, sandbox.URL+"/_sandbox/scenarios"); strings.Contains(sc, "evil") {
		t.Errorf("the other site loaded a scenario: %s", sc)
	}

	// The sandbox under another name, as after DNS rebinding: the browser
	// reads a refusal, not the transactions.
	port := sandbox.URL[strings.LastIndex(sandbox.URL, ":")+1:]
	inBrowser(t, ctx, "rebinding", chromedp.Navigate("http://rebind.test:"+port+"/_sandbox/transactions"))
	rebound, _ := chromedp.Run(ctx, chromedp.Text(`body`))
	if !strings.Contains(rebound, `"421"`) || strings.Contains(rebound, "XSITE-1") {
		t.Errorf("the sandbox under another host name answered: %q", rebound)
	}

	// The dashboard's own Pay button works.
	inBrowser(t, ctx, "pay from the dashboard",
		chromedp.Navigate(sandbox.URL+"/_sandbox/ui/transactions/"+tx.TransactionNumber),
		chromedp.Click(`//button[contains(., "Pay")]`),
		chromedp.WaitVisible(`//h1[contains(., "PAID")]`),
	)
}

// clockNow reads the time of a clock answer.
func clockNow(t *testing.T, body string) time.Time {
	t.Helper()
	var c struct{ Now time.Time }
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		t.Fatalf("clock answer %q: %v", body, err)
	}
	return c.Now
}

// getBody GETs url from the test, as curl would.
func getBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
