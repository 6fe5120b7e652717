package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/store"
	"github.com/bjpay/bjpay-sandbox/mock/store/boltstore"
	"github.com/bjpay/bjpay-sandbox/mock/store/memstore"
	"github.com/bjpay/bjpay-sandbox/mock/store/pgstore"
	"github.com/bjpay/bjpay-sandbox/scenarios"

	"github.com/bjpay/bjpay-sandbox/mock"
)

const serveExamples = `  # Start on the embedded defaults (demo merchant, default channels):
  bjpay-sandbox serve

  # Use your app's sandbox credentials and listen on every interface:
  bjpay-sandbox serve --addr :8080 --client-id 2f9d6a0e-... --client-secret s3cr3t

  # Your own merchants and channels, reproducible VA numbers:
  bjpay-sandbox serve --config sandbox.yaml --seed 42
`

// serveOptions are serve's flags.
type serveOptions struct {
	addr         string
	configPath   string
	seed         int64
	clientID     string
	clientSecret string
	publicURL    string
	logLevel     slog.Level
	clockMode    string
	speed        float64
	scenarios    []string
	workers      int
	noDebugHdrs  bool
	exposeCtl    bool
	pprofAddr    string
	notifyAllow  []string
	allowHosts   []string
	proxies      []string
	adminToken   string
	tlsCert      string
	tlsKey       string
	maxPending   int
	dataDir      string
	database     string
	maxConns     int
	retention    mock.Retention
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o serveOptions
	fs := newFlagSet("serve", "[--addr HOST:PORT] [--config FILE] [--seed N] [--client-id ID --client-secret SECRET]", serveExamples, stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "`HOST:PORT` to listen on (:8080 for every interface, :0 for any free port)")
	fs.StringVar(&o.configPath, "config", "", "YAML `FILE` with merchants, channels and settings, overlaid on the embedded defaults")
	fs.Int64Var(&o.seed, "seed", 0, "`N` seeds the generated VA numbers, QR strings and deeplinks; 0 picks one at random and prints it")
	fs.StringVar(&o.clientID, "client-id", "", "replace the first merchant's client `ID` (the demo merchant's, on the defaults)")
	fs.StringVar(&o.clientSecret, "client-secret", "", "replace the first merchant's client `SECRET`")
	fs.StringVar(&o.publicURL, "public-url", "", "base `URL` customers reach the sandbox at, for hosted payment page links (default: from each request's Host)")
	fs.TextVar(&o.logLevel, "log-level", slog.LevelInfo, "log `LEVEL`: debug, info, warn or error")
	fs.StringVar(&o.clockMode, "clock", mock.ClockReal, "sandbox clock `MODE`: real (wall time, --speed times faster) or virtual (moves only through the control API)")
	fs.Float64Var(&o.speed, "speed", 1, "`FACTOR` the real clock runs at: 60 makes an hour pass in a minute")
	fs.Func("scenarios", "scenario YAML `PATH` (a file or a directory of *.yaml); repeat or separate with commas for several", func(v string) error {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				o.scenarios = append(o.scenarios, p)
			}
		}
		return nil
	})
	fs.IntVar(&o.workers, "notify-workers", mock.DefaultNotifyWorkers, "`N` notifies in flight at most")
	fs.IntVar(&o.maxPending, "max-pending-notifies", mock.DefaultMaxPendingNotifies, "`N` notifies waiting for delivery at most; beyond, creates answer 503 until they drain")
	fs.IntVar(&o.maxConns, "max-conns", 0, maxConnsUsage)
	o.retention.Age = mock.DefaultRetain
	fs.Func("retain", "keep a finished payment (PAID, FAILED or EXPIRED, its notifies delivered or given up) `DURATION` of wall time after it finished (7d, 36h, 90m), and a journal attempt as long after it was made, then evict them; 0 keeps them for ever (default 7d)", func(v string) (err error) {
		o.retention.Age, err = mock.ParseRetain(v)
		return err
	})
	fs.IntVar(&o.retention.MaxTransactions, "max-transactions", mock.DefaultMaxTransactions, "hold `N` payments at most: beyond, finished ones are evicted, those that finished first first (PENDING ones and those with a notify still to deliver never are); 0: no bound")
	fs.IntVar(&o.retention.MaxJournal, "max-journal", mock.DefaultMaxJournal, "hold `N` delivery journal attempts at most, evicting the oldest; 0: no bound")
	fs.BoolVar(&o.noDebugHdrs, "no-sandbox-headers", false, "leave the X-Sandbox-Delivery-Id and X-Sandbox-Attempt headers off notifies")
	fs.BoolVar(&o.exposeCtl, "expose-control", false, "kept for compatibility: --admin-token alone opens the control API and dashboard (/_sandbox/...) to other hosts; refused without it")
	fs.StringVar(&o.adminToken, "admin-token", "", "`TOKEN` that opens the control API and dashboard to any client presenting it (Authorization: Bearer TOKEN), other hosts included; once it is set, loopback clients need a token too (this one, or a merchant's). Prefer $BJPAY_SANDBOX_ADMIN_TOKEN, which ps does not show")
	fs.Func("allow-host", "also answer the control API and dashboard under the host `NAME` in the Host header (a container's service name, a proxy's); comma-separated or repeated. Loopback names, IP addresses and the --public-url host need none: other names are refused (421) to stop DNS rebinding", func(v string) error {
		o.allowHosts = append(o.allowHosts, strings.Split(v, ",")...)
		return nil
	})
	fs.Func("trusted-proxy", "`ADDRESS` or CIDR range of a reverse proxy in front of the sandbox whose X-Forwarded-For names the client, so wrong admin tokens are limited per client, not per proxy; comma-separated or repeated", func(v string) error {
		o.proxies = append(o.proxies, strings.Split(v, ",")...)
		return nil
	})
	fs.Func("notify-allow", "only send notifies to these `HOSTS`: names, IP addresses or CIDR ranges, comma-separated or repeated (default: anywhere but link-local and cloud metadata addresses)", func(v string) error {
		o.notifyAllow = append(o.notifyAllow, strings.Split(v, ",")...)
		return nil
	})
	fs.StringVar(&o.tlsCert, "tls-cert", "", "serve HTTPS with this PEM certificate `FILE` (with --tls-key), for clients that insist on https")
	fs.StringVar(&o.tlsKey, "tls-key", "", "the PEM private key `FILE` of --tls-cert")
	fs.StringVar(&o.database, "database", "", "keep the state in PostgreSQL at `URL` (postgres://user:password@host:5432/dbname), shared by every replica started on it; prefer $BJPAY_SANDBOX_DATABASE, which ps does not show")
	fs.StringVar(&o.dataDir, "data-dir", "", "keep merchants, payments, the delivery journal and pending notifies in `DIR`/sandbox.db, across restarts and crashes (default: in memory, lost at exit)")
	fs.StringVar(&o.pprofAddr, "pprof", "", "serve Go's pprof profiles on `HOST:PORT` (a loopback address), for performance work; see PERFORMANCE.md")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if o.adminToken != "" && len(o.adminToken) < mock.MinAdminToken {
		return usagef("", "--admin-token has %d characters; it must have at least %d, e.g. the output of 'openssl rand -hex 16'", len(o.adminToken), mock.MinAdminToken)
	}
	if o.exposeCtl && o.adminToken == "" {
		return usagef("Run 'bjpay-sandbox serve --help' for the flags.", "--expose-control needs --admin-token: clients from other hosts present it (Authorization: Bearer TOKEN); set BJPAY_SANDBOX_ADMIN_TOKEN, e.g. to the output of 'openssl rand -hex 16'")
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return usagef("Run 'bjpay-sandbox serve --help' for the flags.", "--tls-cert and --tls-key go together; got only --%s", map[bool]string{true: "tls-cert", false: "tls-key"}[o.tlsCert != ""])
	}
	if (o.clientID == "") != (o.clientSecret == "") {
		return usagef("Run 'bjpay-sandbox serve --help' for the flags.", "--client-id and --client-secret go together; got only --%s", map[bool]string{true: "client-id", false: "client-secret"}[o.clientID != ""])
	}
	srv, err := newServer(o, stderr)
	if err != nil {
		return err
	}
	gcPercent, memLimit := TuneGC()
	srv.log.Debug("garbage collector", "GOGC", gcPercent, "GOMEMLIMIT", memLimit)
	if o.pprofAddr != "" {
		stop, err := startPprof(o.pprofAddr, srv.log)
		if err != nil {
			srv.sandbox.Close(context.Background())
			_ = srv.ln.Close()
			return err
		}
		defer stop()
	}
	srv.printBanner(stdout)
	return srv.Run(ctx)
}

// server is the running sandbox: a bound listener and an HTTP server. Tests
// build one on 127.0.0.1:0, Run it, and cancel the context to stop it.
type server struct {
	cfg       mock.Config
	state     string // where the state is kept, for the banner
	sandbox   *mock.Sandbox
	http      *http.Server
	ln        net.Listener
	log       *slog.Logger
	seed      int64
	ownSecret bool // the first merchant's secret came from the user: never print it
	exposeCtl bool // an admin token opens the control API to every host
	tls       bool
}

// newServer loads the configuration, builds the sandbox and binds the
// listener, so that the address is known (and taken) before Run.
func newServer(o serveOptions, stderr io.Writer) (*server, error) {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: o.logLevel}))
	cfg := mock.DefaultConfig()
	ownSecret := false // the first merchant's secret is the user's, not the public demo one
	if o.configPath != "" {
		var err error
		if cfg, err = mock.LoadConfig(o.configPath); err != nil {
			return nil, err
		}
		_, ownSecret = cfg.At["merchants"]
	}
	if o.clientID != "" {
		for i, m := range cfg.Merchants[1:] {
			if m.ClientID == o.clientID {
				return nil, usagef("", "--client-id %q is already the client id of merchants[%d] in %s; --client-id replaces the first merchant's", o.clientID, i+1, o.configPath)
			}
		}
		cfg.Merchants[0].ClientID, cfg.Merchants[0].ClientSecret = o.clientID, o.clientSecret
		ownSecret = true
	}
	clock, err := mock.NewSandboxClock(o.clockMode, o.speed)
	if err != nil {
		return nil, usagef("Run 'bjpay-sandbox serve --help' for the flags.", "--clock/--speed: %v", err)
	}
	var user []scenarios.Scenario
	if len(o.scenarios) > 0 {
		if user, err = scenarios.Load(o.scenarios...); err != nil {
			return nil, err
		}
	}
	if o.maxPending < 1 {
		return nil, usagef("", "--max-pending-notifies is %d; expected at least 1", o.maxPending)
	}
	if o.workers < 1 {
		return nil, usagef("", "--notify-workers is %d; expected at least 1", o.workers)
	}
	switch r := o.retention; {
	case r.MaxTransactions < 0:
		return nil, usagef("", "--max-transactions is %d; expected 0 (no bound) or more", r.MaxTransactions)
	case r.MaxJournal < 0:
		return nil, usagef("", "--max-journal is %d; expected 0 (no bound) or more", r.MaxJournal)
	}
	maxConns, err := connLimit(o.maxConns, o.workers)
	if err != nil {
		return nil, err
	}
	seed := o.seed
	if seed == 0 {
		seed = rand.Int64N(1<<31-1) + 1 // gofakeit treats 0 as "random, unreported"
	}
	if o.database != "" && o.dataDir != "" {
		return nil, usagef("Run 'bjpay-sandbox serve --help' for the flags.", "--database and --data-dir are two places to keep the state; give one")
	}
	st, kind, state, err := openStore(o.dataDir, o.database)
	if err != nil {
		return nil, err
	}
	sb, err := mock.New(mock.Options{Config: cfg, Store: st, StoreName: kind, Seed: seed, PublicURL: o.publicURL, Logger: log, Clock: clock,
		Scenarios: user, NotifyWorkers: o.workers, NoSandboxHeaders: o.noDebugHdrs, ExposeControl: o.exposeCtl,
		AdminToken: o.adminToken, NotifyAllow: o.notifyAllow, MaxPendingNotifies: o.maxPending,
		AllowHosts: o.allowHosts, TrustedProxies: o.proxies, Retention: o.retention})
	if err != nil {
		st.Close()
		return nil, usagef("Run 'bjpay-sandbox serve --help' for the flags.", "%v", err)
	}
	var tlsConfig *tls.Config
	if o.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			sb.Close(context.Background())
			return nil, usagef("", "--tls-cert %s / --tls-key %s: %v; expected PEM files of a certificate and its private key", o.tlsCert, o.tlsKey, err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		sb.Close(context.Background())
		return nil, fmt.Errorf("listen on %s: %w", o.addr, err)
	}
	conns := newConnLimiter(ln, maxConns) // under TLS: it counts TCP connections
	ln = conns
	log.Info("connection limit", "max_conns", maxConns)
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	return &server{
		cfg:     cfg,
		state:   state,
		sandbox: sb,
		ln:      ln,
		log:     log,
		seed:    seed,
		http: &http.Server{
			Handler:           sb.Handler(),
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    64 << 10,
			ConnState:         conns.trackState,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		ownSecret: ownSecret,
		exposeCtl: o.adminToken != "",
		tls:       tlsConfig != nil,
	}, nil
}

// URL is the base URL merchants should use instead of https://api.bjpay.co.id.
func (s *server) URL() string {
	addr := s.ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	scheme := "http://"
	if s.tls {
		scheme = "https://"
	}
	return scheme + net.JoinHostPort(host, fmt.Sprint(addr.Port))
}

// Run serves until ctx is done, then shuts down gracefully: requests in
// flight get up to shutdownTimeout to finish.
func (s *server) Run(ctx context.Context) error {
	s.log.Info("listening", "addr", s.ln.Addr().String(), "seed", s.seed, "version", version())
	s.sandbox.Start()
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.ln) }()
	select {
	case err := <-errc:
		s.sandbox.Close(context.Background())
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := s.http.Shutdown(sctx)
	s.sandbox.Close(sctx) // in-flight notifies finish or are journalled as interrupted
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && serr != nil {
		return fmt.Errorf("serve: %w", serr)
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	s.log.Info("stopped")
	return nil
}

const shutdownTimeout = 10 * time.Second

func clockLine(c *mock.SandboxClock) string {
	if c.Mode() == mock.ClockVirtual {
		return "virtual (moves only with POST /_sandbox/clock/advance or /set)"
	}
	if c.Speed() != 1 {
		return fmt.Sprintf("real × %g", c.Speed())
	}
	return "real"
}

// openStore opens the store the sandbox keeps its state in: PostgreSQL at
// database, a bbolt file in dataDir, or memory; state names it for the
// banner (a database's password redacted), kind for GET /_sandbox/stats.
func openStore(dataDir, database string) (st store.Store, kind, state string, err error) {
	if database != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		ps, err := pgstore.Open(ctx, database)
		if err != nil {
			return nil, "", "", fmt.Errorf("--database: %w", err)
		}
		return ps, "postgresql", ps.Name() + " (PostgreSQL, shared by every replica on it)", nil
	}
	if dataDir == "" {
		return memstore.New(), "memory", "in memory (lost at exit; --data-dir DIR or --database URL keeps it)", nil
	}
	bs, err := boltstore.Open(dataDir)
	if err != nil {
		return nil, "", "", fmt.Errorf("--data-dir %s: %w", dataDir, err)
	}
	return bs, "bbolt", bs.Path() + " (durable)", nil
}

// retentionLine says, for the banner, what the sandbox keeps and what it
// evicted so far (a durable sandbox's file remembers).
func (s *server) retentionLine() string {
	r := s.sandbox.Retention()
	if r == (mock.Retention{}) {
		return "everything, for ever (--retain, --max-transactions, --max-journal bound it)"
	}
	var keep []string
	if r.Age > 0 {
		keep = append(keep, "finished payments and attempts "+mock.FormatRetain(r.Age))
	}
	if r.MaxTransactions > 0 {
		keep = append(keep, fmt.Sprintf("at most %d payments", r.MaxTransactions))
	}
	if r.MaxJournal > 0 {
		keep = append(keep, fmt.Sprintf("at most %d attempts", r.MaxJournal))
	}
	line := strings.Join(keep, ", ")
	if u, err := s.sandbox.Usage(context.Background()); err == nil {
		line += fmt.Sprintf("; evicted so far: %d payments, %d attempts (GET /_sandbox/stats)", u.Evicted.Transactions, u.Evicted.Attempts)
	}
	return line
}

func controlAudience(adminToken bool) string {
	if adminToken {
		return "clients with the admin token or a merchant's token, loopback ones too"
	}
	return "loopback clients, and others with a merchant's token"
}

// printBanner tells a newcomer where the sandbox is and how to call it.
// The demo merchant's secret is public and printed; a secret the user gave
// is not, so the "Try:" command asks for it instead, and works as printed
// either way. Its date is UTC because BSD date (macOS) has no %:z.
func (s *server) printBanner(w io.Writer) {
	base := s.URL()
	m := s.cfg.Merchants[0]
	secret, ask, secretHeader := m.ClientSecret, "", "'X-Client-Secret: "+m.ClientSecret+"'"
	if s.ownSecret {
		secret, secretHeader = "(as configured; not printed)", `"X-Client-Secret: $secret"`
		ask = "  printf 'X-Client-Secret: '; read -r secret\n"
	}
	var active []string
	for _, c := range s.cfg.Channels {
		if c.IsActive {
			active = append(active, c.PaymentCode)
		}
	}
	fmt.Fprintf(w, `bjpay-sandbox %s
  BJPAY base URL   %s   (use it instead of https://api.bjpay.co.id)
  merchant         %s (%d configured)
  X-Client-Id      %s
  X-Client-Secret  %s
  channels         %s
  seed             %d
  clock            %s
  state            %s
  retention        %s
  scenarios        %d (reference prefixes such as PAID-, DELAY-, EXPIRE- pick library ones)
  dashboard        %s/_sandbox/  (in a browser; %s)
  control API      %s/_sandbox/{health,transactions,deliveries,clock,scenarios}  (JSON)

Try:
%s  curl -s -X POST %s/api/merchant/payment-channel \
    -H 'Content-Type: application/json' -H 'X-Client-Id: %s' \
    -H %s -H "X-Request-Time: $(date -u +%%Y-%%m-%%dT%%H:%%M:%%S+00:00)"

`, version(), base, m.Name, len(s.cfg.Merchants), m.ClientID, secret, strings.Join(active, ", "), s.seed, clockLine(s.sandbox.Clock()), s.state, s.retentionLine(), len(s.sandbox.Scenarios()), base, controlAudience(s.exposeCtl), base, ask, base, m.ClientID, secretHeader)
}
