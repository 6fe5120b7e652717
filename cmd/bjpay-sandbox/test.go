package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/bjpay/bjpay-sandbox/features"
	"github.com/bjpay/bjpay-sandbox/features/report"
	"github.com/bjpay/bjpay-sandbox/mock"
	"github.com/bjpay/bjpay-sandbox/scenarios"
)

const testExamples = `  # The demo merchant, in two shells:
  go run ./cmd/demo-merchant
  bjpay-sandbox test --merchant cmd/demo-merchant/merchant.yaml

  # In CI: JUnit and HTML reports, and only what BJPAY's docs oblige:
  bjpay-sandbox test --merchant merchant.yaml --format junit:report.xml --format html:report.html --tags @required

  # Fail on best-practice scenarios too; give up after 5 minutes in all:
  bjpay-sandbox test --merchant merchant.yaml --strict --timeout 5m

  # In GitHub Actions: a job summary and ::error annotations (action.yml does this):
  bjpay-sandbox test --merchant merchant.yaml --format pretty --format github
`

// Defaults of the test command.
const (
	// defaultRunTimeout bounds a whole run: the full suite takes about a
	// minute and a half with the default orderStatus.within, one scenario
	// at a time, so ten leave a slow merchant room and stop a hung one
	// well before a CI job's limit.
	defaultRunTimeout = 10 * time.Minute
	// testShutdown bounds the stop of the sandbox the run started: a
	// notify still in flight to a merchant that does not answer is of no
	// use once the run is over.
	testShutdown = 2 * time.Second
)

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
		case "pretty", "progress", "junit", "cucumber", "events", "html", "github":
		default:
			return fmt.Errorf("unknown format %q; expected pretty, progress, junit, cucumber, events, html or github, optionally with :FILE (repeat --format for several)", name)
		}
		switch {
		case name == "github" && hasFile:
			return fmt.Errorf("format %q: github takes no file; it appends its job summary to the file $GITHUB_STEP_SUMMARY names", spec)
		case hasFile && file == "":
			return fmt.Errorf("format %q names no file after the colon", spec)
		case strings.Contains(file, ",") && name != "junit" && name != "cucumber" && name != "html":
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
		callTimeout time.Duration
		runTimeout  time.Duration
		adminToken  string
		token       string
	)
	fs := newFlagSet("test", "--merchant merchant.yaml [--tags EXPR] [--format SPEC]... [--strict] [--concurrency N]", testExamples, stderr)
	fs.StringVar(&driverPath, "merchant", "", "the merchant driver `FILE` (see the README)")
	fs.StringVar(&tags, "tags", "", "godog tag `EXPR`ession selecting scenarios, e.g. @required or '@recommended && ~@clock'")
	fs.Var(&formats, "format", "report `SPEC`: pretty, progress, junit, cucumber, events or html, with :FILE to write a file; repeatable\n(default pretty, to stdout); github: ::error/::warning lines on stdout and a job summary appended to $GITHUB_STEP_SUMMARY")
	fs.BoolVar(&strict, "strict", false, "fail (exit 1) when a @recommended scenario fails, not only a @required one")
	fs.IntVar(&concurrency, "concurrency", 1, "scenarios run at once")
	fs.DurationVar(&window, "replay-window", features.DefaultReplayWindow, "the merchant's replay window: the replay scenarios send notifies stamped a minute further off")
	fs.DurationVar(&wait, "wait", 30*time.Second, "how long to wait for the merchant's notifyUrl to accept connections")
	fs.DurationVar(&callTimeout, "call-timeout", features.DefaultCallTimeout, "how long one call to the merchant (checkout, order status) may take; wins over the driver's merchant.timeout when given")
	fs.DurationVar(&runTimeout, "timeout", defaultRunTimeout, "how long the whole run may take; then it stops as on Ctrl-C")
	fs.StringVar(&adminToken, "admin-token", "", "with sandbox.url: the running sandbox's admin `TOKEN`, sent on control API calls (prefer $BJPAY_SANDBOX_ADMIN_TOKEN)")
	fs.StringVar(&token, "token", "", "with sandbox.url, instead of --admin-token: the merchant's own control API `TOKEN`, which reaches that merchant only (its payments, deliveries and own clock, which the @clock scenarios move); the merchant must exist (prefer $BJPAY_SANDBOX_TOKEN)")
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
	if callTimeout <= 0 || callTimeout > 5*time.Minute {
		return usagef("", "--call-timeout %s must be positive and at most 5m", callTimeout)
	}
	if runTimeout <= 0 {
		return usagef("", "--timeout %s must be positive", runTimeout)
	}
	// godog takes its report files as a comma-separated list, the run's
	// results file in the temporary directory among them.
	if tmp := os.TempDir(); strings.Contains(tmp, ",") {
		return fmt.Errorf("test: the temporary directory %s has a comma in its path, which godog cannot take in a report path; set TMPDIR to another directory", tmp)
	}
	if adminToken != "" && token != "" {
		return usagef("", "--admin-token and --token do not go together: give the admin token, or the merchant's")
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
	godogFormats, reports := splitFormats(formats)

	m := driver.Merchant
	if m.Timeout == 0 || flagGiven(fs, "call-timeout") {
		m.Timeout = callTimeout
	}
	// Everything from here on stops at Ctrl-C, SIGTERM or --timeout.
	ctx, cancel := context.WithTimeoutCause(ctx, runTimeout, fmt.Errorf("--timeout %s passed", runTimeout))
	defer cancel()
	started := time.Now()
	c := features.Conformance{Merchant: m, ReplayWindow: window, CallTimeout: callTimeout, Client: &http.Client{},
		Recorder: features.NewRecorder()}
	if t := cmp.Or(adminToken, token); t != "" && driver.Sandbox.URL != "" {
		u, err := url.Parse(driver.Sandbox.URL)
		if err != nil {
			return usagef("", "sandbox.url %q: %v", driver.Sandbox.URL, err)
		}
		c.Client.Transport = tokenTransport{token: t, host: u.Host, next: http.DefaultTransport}
	}
	// stopEarly ends a run stopped before the suite: the reports say so.
	stopEarly := func() error {
		run, _ := report.New(nil, nil, strict, interruption(ctx))
		return finish(run, report.Notes{}, reports, stdout, stderr, started)
	}

	var rejected *rejections
	c.SandboxURL = strings.TrimRight(driver.Sandbox.URL, "/")
	if c.SandboxURL == "" {
		rejected = &rejections{}
		base, stop, err := startSandbox(driver, rejected)
		if err != nil {
			return err
		}
		defer func() { stop(ctx.Err() != nil) }()
		c.SandboxURL = base
	} else if err := useSandbox(ctx, c.Client, c.SandboxURL, m, wait, token != ""); err != nil {
		if ctx.Err() != nil {
			return stopEarly()
		}
		return noScenarioRun(reports, fmt.Sprintf("sandbox.url %s: %v\n", c.SandboxURL, err), stdout, stderr)
	}

	if err := waitReachable(ctx, m.NotifyURL, wait); err != nil {
		if ctx.Err() != nil {
			return stopEarly()
		}
		return noScenarioRun(reports, fmt.Sprintf("the merchant is not reachable at its notifyUrl %s after %s: %v\nStart it first, configured with the BJPAY base URL %s.\n", m.NotifyURL, wait, err, c.SandboxURL), stdout, stderr)
	}
	if err := c.Preflight(ctx); err != nil {
		if ctx.Err() != nil {
			return stopEarly()
		}
		return noScenarioRun(reports, fmt.Sprintf("preflight: %v\n%sNo scenario was run.\n", err, rejected), stdout, stderr)
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

	fmt.Fprintf(stdout, "bjpay-sandbox test: sandbox on %s, merchant %s, notifies to %s\n\n", c.SandboxURL, m.ClientID, m.NotifyURL)
	suite := godog.TestSuite{
		Name:                "bjpay-merchant-conformance",
		ScenarioInitializer: features.InitializeConformance(c),
		Options: &godog.Options{
			FS: features.FS, Paths: []string{"merchant"}, Tags: expr, Strict: true,
			Format: strings.Join(append(godogFormats, "cucumber:"+resultsFile), ","),
			Output: stdout, Concurrency: concurrency, NoColors: !isTerminal(stdout),
			DefaultContext: ctx,
		},
	}
	status := suite.Run()

	data, err := os.ReadFile(resultsFile)
	if err != nil {
		fmt.Fprintf(stderr, "bjpay-sandbox test: reading the results: %v\n", err)
		return errSilent
	}
	run, err := report.New(data, c.Recorder.Records(), strict, interruption(ctx))
	if err != nil {
		fmt.Fprintf(stderr, "bjpay-sandbox test: %v\n", err)
		return errSilent
	}
	if status != 0 && len(run.Scenarios) == 0 && run.Interrupted == "" {
		return errors.New("godog could not run the suite (see above)")
	}
	run.Subject = fmt.Sprintf("Merchant %s, notifies to %s, sandbox %s.", m.ClientID, m.NotifyURL, c.SandboxURL)
	o := m.OrderStatus
	notes := report.Notes{NotRun: notRun, NoOrderStatus: o == nil, NoCredited: o != nil && o.Credited == ""}
	run.WriteSummary(stdout, notes)
	return finish(run, notes, reports, stdout, stderr, started)
}

// interruption says why ctx is done, "" when it is not.
func interruption(ctx context.Context) string {
	if ctx.Err() == nil {
		return ""
	}
	return context.Cause(ctx).Error()
}

// flagGiven reports whether the flag was set, on the command line or by
// its environment variable.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// startSandbox starts a sandbox on the driver's sandbox.listen with the
// merchant under test as its only merchant, keeping the requests it
// rejects in rejected; stop shuts it down, at once when the run was
// interrupted (notifies in flight are dropped).
func startSandbox(driver *features.Driver, rejected *rejections) (baseURL string, stop func(interrupted bool), err error) {
	cfg := mock.DefaultConfig()
	m := driver.Merchant
	cfg.Merchants = []mock.Merchant{{Name: "Merchant under test", ClientID: m.ClientID, ClientSecret: m.ClientSecret, NotifyURL: m.NotifyURL}}
	sb, err := mock.New(mock.Options{Config: cfg, Seed: 1, NotifyWorkers: mock.DefaultNotifyWorkers, Logger: slog.New(rejected)})
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
	return "http://" + ln.Addr().String(), func(interrupted bool) {
		limit := testShutdown
		if interrupted {
			limit = 0
		}
		shutdown, cancel := context.WithTimeout(context.Background(), limit)
		defer cancel()
		if srv.Shutdown(shutdown) != nil {
			_ = srv.Close() // requests still in flight
		}
		sb.Close(shutdown)
	}, nil
}

// useSandbox readies a sandbox that is already running: it waits up to
// wait for it to be healthy, and registers the merchant under test through
// the control API unless the sandbox knows its credentials already. With
// the merchant's own token (merchantToken), it checks that the token is
// that merchant's, and registers nothing: only the admin may.
func useSandbox(ctx context.Context, suiteClient *http.Client, base string, m features.Merchant, wait time.Duration, merchantToken bool) error {
	client := *suiteClient
	client.Timeout = 10 * time.Second
	if _, err := waitHealthy(ctx, &client, base+mock.ControlPrefix+"/health", wait); err != nil {
		return fmt.Errorf("not healthy after %s: %w", wait, err)
	}
	if merchantToken {
		if err := checkTokenOf(ctx, &client, base, m.ClientID); err != nil {
			return err
		}
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
	if merchantToken {
		return fmt.Errorf("it knows client id %s with another secret (Get Available Payment answered 401); give the driver file the secret the sandbox has", m.ClientID)
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

// checkTokenOf checks that the token the client sends is the merchant's.
func checkTokenOf(ctx context.Context, client *http.Client, base, clientID string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+mock.ControlPrefix+"/whoami", nil)
	if err != nil {
		return err
	}
	status, body, err := do(client, req)
	if err != nil {
		return err
	}
	var who struct{ Scope, ClientID string }
	if status != http.StatusOK || json.Unmarshal([]byte(body), &who) != nil {
		return fmt.Errorf("--token: the sandbox answered %d: %s", status, body)
	}
	if who.ClientID != clientID {
		return fmt.Errorf("--token is the token of %s, not of the merchant under test (%s); give its own, or the admin token with --admin-token", cmp.Or(who.ClientID, "the admin"), clientID)
	}
	return nil
}

// tokenTransport adds a token (the admin's or the merchant's) to control
// API calls to the sandbox's host, below the suite's request logging, so
// the token never appears in a report, and never reaches the merchant.
type tokenTransport struct {
	token string
	host  string // the sandbox's host:port
	next  http.RoundTripper
}

func (t tokenTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host == t.host && strings.HasPrefix(r.URL.Path, mock.ControlPrefix+"/") {
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
