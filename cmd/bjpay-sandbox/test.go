package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/bjpay/bjpay-sandbox/features"
	"github.com/bjpay/bjpay-sandbox/mock"
	"github.com/bjpay/bjpay-sandbox/scenarios"
)

const testExamples = `  # The demo merchant, in two shells:
  go run ./cmd/demo-merchant
  bjpay-sandbox test --merchant cmd/demo-merchant/merchant.yaml

  # In CI: a JUnit report, and only what BJPAY's docs oblige:
  bjpay-sandbox test --merchant merchant.yaml --format junit:report.xml --tags @required

  # Fail on best-practice scenarios too:
  bjpay-sandbox test --merchant merchant.yaml --strict
`

// formatsFlag collects --format specs: NAME or NAME:FILE.
type formatsFlag []string

func (f *formatsFlag) String() string { return strings.Join(*f, ",") }

func (f *formatsFlag) Set(s string) error {
	specs := []string{s}
	if !strings.Contains(s, ":") { // a list of names: pretty,progress
		specs = strings.Split(s, ",")
	}
	for _, spec := range specs {
		name, file, hasFile := strings.Cut(spec, ":")
		switch name {
		case "pretty", "progress", "junit", "cucumber", "events":
		default:
			return fmt.Errorf("unknown format %q; expected pretty, progress, junit, cucumber or events, optionally with :FILE (repeat --format for several)", name)
		}
		switch {
		case hasFile && file == "":
			return fmt.Errorf("format %q names no file after the colon", spec)
		case strings.Contains(file, ","):
			// godog separates formats with commas and cannot take the file.
			return fmt.Errorf("report file %q contains a comma; choose a path without one", file)
		}
		*f = append(*f, spec)
	}
	return nil
}

func runTest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		driverPath  string
		tags        string
		formats     formatsFlag
		strict      bool
		concurrency int
		window      time.Duration
		wait        time.Duration
		adminToken  string
	)
	fs := newFlagSet("test", "--merchant merchant.yaml [--tags EXPR] [--format SPEC]... [--strict] [--concurrency N]", testExamples, stderr)
	fs.StringVar(&driverPath, "merchant", "", "the merchant driver `FILE` (see the README)")
	fs.StringVar(&tags, "tags", "", "godog tag `EXPR`ession selecting scenarios, e.g. @required or '@recommended && ~@clock'")
	fs.Var(&formats, "format", "report `SPEC`: pretty, progress, junit, cucumber or events, with :FILE to write a file; repeatable\n(default pretty, to stdout)")
	fs.BoolVar(&strict, "strict", false, "fail (exit 1) when a @recommended scenario fails, not only a @required one")
	fs.IntVar(&concurrency, "concurrency", 1, "scenarios run at once")
	fs.DurationVar(&window, "replay-window", features.DefaultReplayWindow, "the merchant's replay window: the replay scenario sends a notify a minute older")
	fs.DurationVar(&wait, "wait", 30*time.Second, "how long to wait for the merchant's notifyUrl to accept connections")
	fs.StringVar(&adminToken, "admin-token", "", "with sandbox.url: the running sandbox's admin `TOKEN`, sent on control API calls (prefer $BJPAY_SANDBOX_ADMIN_TOKEN)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if driverPath == "" {
		return usagef("Run 'bjpay-sandbox test --help' for an example.", "missing --merchant: the merchant driver file")
	}
	if concurrency < 1 {
		return usagef("", "--concurrency %d must be at least 1", concurrency)
	}
	if window <= 0 || window > 12*time.Hour {
		return usagef("", "--replay-window %s must be positive and at most 12h", window)
	}
	driver, err := features.LoadDriver(driverPath)
	if err != nil {
		var list scenarios.ErrorList
		if errors.As(err, &list) {
			for _, e := range list {
				fmt.Fprintln(stderr, e)
			}
			return &usageError{msg: fmt.Sprintf("%s: %d problem(s)", driverPath, len(list)), quiet: true}
		}
		return usagef("", "%v", err)
	}
	if len(formats) == 0 {
		formats = formatsFlag{"pretty"}
		if concurrency > 1 {
			formats = formatsFlag{"progress"} // pretty interleaves concurrent scenarios
		}
	}

	m := driver.Merchant
	client := &http.Client{}
	if adminToken != "" {
		client.Transport = adminTransport{token: adminToken, next: http.DefaultTransport}
	}
	sandboxURL := strings.TrimRight(driver.Sandbox.URL, "/")
	if sandboxURL == "" {
		base, stop, err := startSandbox(driver)
		if err != nil {
			return err
		}
		defer stop()
		sandboxURL = base
	} else if err := useSandbox(ctx, client, sandboxURL, m, wait); err != nil {
		fmt.Fprintf(stderr, "bjpay-sandbox test: sandbox.url %s: %v\n", sandboxURL, err)
		return errSilent
	}

	if err := waitReachable(ctx, m.NotifyURL, wait); err != nil {
		fmt.Fprintf(stderr, "bjpay-sandbox test: the merchant is not reachable at its notifyUrl %s after %s: %v\nStart it first, configured with the BJPAY base URL %s.\n", m.NotifyURL, wait, err, sandboxURL)
		return errSilent
	}

	expr := tags
	var notRun []string
	if m.Checkout == nil {
		notRun = features.ScenariosTagged("merchant", features.CheckoutTag)
		expr = joinTags(expr, "~"+features.CheckoutTag)
	}
	results, err := os.MkdirTemp("", "bjpay-test-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(results)
	resultsFile := filepath.Join(results, "cucumber.json")

	fmt.Fprintf(stdout, "bjpay-sandbox test: sandbox on %s, merchant %s, notifies to %s\n\n", sandboxURL, m.ClientID, m.NotifyURL)
	suite := godog.TestSuite{
		Name: "bjpay-merchant-conformance",
		ScenarioInitializer: features.InitializeConformance(features.Conformance{
			SandboxURL: sandboxURL, Merchant: m, ReplayWindow: window, Client: client,
		}),
		Options: &godog.Options{
			FS: features.FS, Paths: []string{"merchant"}, Tags: expr, Strict: true,
			Format: strings.Join(append(slices.Clone(formats), "cucumber:"+resultsFile), ","),
			Output: stdout, Concurrency: concurrency, NoColors: !isTerminal(stdout),
		},
	}
	status := suite.Run()

	sum, err := summarize(resultsFile)
	if err != nil {
		fmt.Fprintf(stderr, "bjpay-sandbox test: reading the results: %v\n", err)
		return errSilent
	}
	if status != 0 && sum.total() == 0 {
		return errors.New("godog could not run the suite (see above)")
	}
	sum.print(stdout, notRun, m.OrderStatus == nil, strict)
	if sum.requiredFailed > 0 || (strict && sum.recommendedFailed > 0) || sum.total() == 0 {
		return errSilent
	}
	return nil
}

// startSandbox starts a sandbox on the driver's sandbox.listen with the
// merchant under test as its only merchant; stop shuts it down.
func startSandbox(driver *features.Driver) (baseURL string, stop func(), err error) {
	cfg := mock.DefaultConfig()
	m := driver.Merchant
	cfg.Merchants = []mock.Merchant{{Name: "Merchant under test", ClientID: m.ClientID, ClientSecret: m.ClientSecret, NotifyURL: m.NotifyURL}}
	sb, err := mock.New(mock.Options{Config: cfg, Seed: 1, NotifyWorkers: mock.DefaultNotifyWorkers,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", driver.Sandbox.Listen)
	if err != nil {
		sb.Close(context.Background())
		return "", nil, fmt.Errorf("sandbox.listen %s: %w (is another sandbox running there?)", driver.Sandbox.Listen, err)
	}
	sb.Start()
	srv := &http.Server{Handler: sb.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() {
		shutdown, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		_ = srv.Shutdown(shutdown)
		sb.Close(shutdown)
	}, nil
}

// useSandbox readies a sandbox that is already running: it waits up to
// wait for it to be healthy, and registers the merchant under test through
// the control API unless the sandbox knows its credentials already.
func useSandbox(ctx context.Context, suiteClient *http.Client, base string, m features.Merchant, wait time.Duration) error {
	client := *suiteClient
	client.Timeout = 10 * time.Second
	if _, err := waitHealthy(ctx, &client, base+mock.ControlPrefix+"/health", wait); err != nil {
		return fmt.Errorf("not healthy after %s: %w", wait, err)
	}
	// A BJPAY call with the merchant's credentials says whether it is known.
	call := func() (int, string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/merchant/payment-channel", nil)
		if err != nil {
			return 0, "", err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(mock.HeaderClientID, m.ClientID)
		req.Header.Set(mock.HeaderClientSecret, m.ClientSecret)
		req.Header.Set(mock.HeaderRequestTime, time.Now().Format(time.RFC3339))
		return do(&client, req)
	}
	status, body, err := call()
	if err != nil || status == http.StatusOK {
		return err
	}
	if status != http.StatusUnauthorized {
		return fmt.Errorf("Get Available Payment with the merchant's credentials answered %d: %s", status, body)
	}
	reg, _ := json.Marshal(map[string]string{"name": "Merchant under test", "clientId": m.ClientID, "clientSecret": m.ClientSecret, "notifyUrl": m.NotifyURL})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+mock.ControlPrefix+"/merchants", strings.NewReader(string(reg)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	switch status, body, err := do(&client, req); {
	case err != nil:
		return err
	case status == http.StatusConflict:
		return fmt.Errorf("it knows client id %s with another secret (Get Available Payment answered 401); give the driver file the secret the sandbox has", m.ClientID)
	case status != http.StatusCreated:
		return fmt.Errorf("registering the merchant through POST %s/merchants answered %d: %s", mock.ControlPrefix, status, body)
	}
	return nil
}

// adminTransport adds the admin token to control API calls, below the
// suite's request logging, so the token never appears in a report.
type adminTransport struct {
	token string
	next  http.RoundTripper
}

func (t adminTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasPrefix(r.URL.Path, mock.ControlPrefix+"/") {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+t.token)
	}
	return t.next.RoundTrip(r)
}

// do sends req and reads at most 4 KiB of the answer.
func do(client *http.Client, req *http.Request) (int, string, error) {
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	return resp.StatusCode, strings.TrimSpace(string(b)), nil
}

// isTerminal reports whether w is a terminal that takes colours (and
// NO_COLOR is not set).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func joinTags(a, b string) string {
	if a == "" {
		return b
	}
	return "(" + a + ") && " + b
}

// waitReachable waits until rawURL's host accepts TCP connections.
func waitReachable(ctx context.Context, rawURL string, limit time.Duration) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	host := net.JoinHostPort(u.Hostname(), port)
	deadline := time.Now().Add(limit)
	for {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", host)
		if err == nil {
			conn.Close()
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// summary counts scenario results by tag.
type summary struct {
	requiredPassed, requiredFailed       int
	recommendedPassed, recommendedFailed int
	failed                               []string // "@tag: name"
}

func (s summary) total() int {
	return s.requiredPassed + s.requiredFailed + s.recommendedPassed + s.recommendedFailed
}

// summarize reads godog's cucumber JSON report.
func summarize(path string) (summary, error) {
	var s summary
	data, err := os.ReadFile(path)
	if err != nil {
		return s, err
	}
	type tag struct {
		Name string `json:"name"`
	}
	var report []struct {
		Tags     []tag `json:"tags"`
		Elements []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Tags  []tag  `json:"tags"`
			Steps []struct {
				Result struct {
					Status string `json:"status"`
				} `json:"result"`
			} `json:"steps"`
		} `json:"elements"`
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return s, nil
	}
	if err := json.Unmarshal(data, &report); err != nil {
		return s, err
	}
	for _, f := range report {
		for _, sc := range f.Elements {
			if sc.Type != "scenario" {
				continue
			}
			has := func(name string) bool {
				return slices.Contains(sc.Tags, tag{name}) || slices.Contains(f.Tags, tag{name})
			}
			failed := false
			for _, st := range sc.Steps {
				failed = failed || (st.Result.Status != "passed" && st.Result.Status != "skipped")
			}
			switch {
			case has("@required") && failed:
				s.requiredFailed++
				s.failed = append(s.failed, "@required: "+sc.Name)
			case has("@required"):
				s.requiredPassed++
			case failed:
				s.recommendedFailed++
				s.failed = append(s.failed, "@recommended: "+sc.Name)
			default:
				s.recommendedPassed++
			}
		}
	}
	return s, nil
}

func (s summary) print(w io.Writer, notRun []string, noOrderStatus, strict bool) {
	fmt.Fprintf(w, "\nBJPAY conformance: @required %d passed, %d failed; @recommended %d passed, %d failed\n",
		s.requiredPassed, s.requiredFailed, s.recommendedPassed, s.recommendedFailed)
	for _, f := range s.failed {
		fmt.Fprintf(w, "  FAILED %s\n", f)
	}
	if len(notRun) > 0 {
		fmt.Fprintf(w, "Not run, for lack of merchant.checkout in the driver file (%d):\n", len(notRun))
		for _, name := range notRun {
			fmt.Fprintf(w, "  - %s\n", name)
		}
	}
	if noOrderStatus {
		fmt.Fprintln(w, "Not checked, for lack of merchant.orderStatus: the merchant's order states (\"... if its status can be read\").")
	}
	switch {
	case s.total() == 0:
		fmt.Fprintln(w, "Result: FAIL: no scenario ran (check --tags)")
	case s.requiredFailed > 0:
		fmt.Fprintln(w, "Result: FAIL: the integration does not do what BJPAY's docs oblige")
	case strict && s.recommendedFailed > 0:
		fmt.Fprintln(w, "Result: FAIL (--strict): recommended practice not followed")
	case s.recommendedFailed > 0:
		fmt.Fprintln(w, "Result: PASS, with recommended practice not followed (--strict makes this a failure)")
	default:
		fmt.Fprintln(w, "Result: PASS")
	}
}
