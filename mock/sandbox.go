package mock

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/delivery"
	"github.com/bjpay/bjpay-sandbox/mock/listen"
	"github.com/bjpay/bjpay-sandbox/mock/store"
	"github.com/bjpay/bjpay-sandbox/mock/store/memstore"
	"github.com/bjpay/bjpay-sandbox/scenarios"
)

// Options configure a Sandbox. The zero value of every field but Config has
// a sensible default.
type Options struct {
	// Config holds merchants, channels and settings; DefaultConfig() when
	// it has neither merchants nor channels.
	Config Config
	// Store keeps the sandbox's state: a new in-memory store (memstore)
	// when nil; a boltstore for a sandbox that survives restarts. What the
	// store holds already (transactions, pending notifies) is taken up by
	// New. The sandbox closes the store when it is closed; when New fails,
	// the store is the caller's to close.
	Store store.Store
	// StoreName names the store for GET /_sandbox/stats: "memory",
	// "bbolt", "postgresql"; "memory" when Store is nil.
	StoreName string
	// Clock drives the payments' lifecycle: expiry, timelines, notify
	// delays and retries. A real clock at speed 1 when nil.
	Clock *SandboxClock
	// WallNow is the wall clock, for the X-Request-Time skew check and the
	// X-Request-Time of notifies; time.Now when nil. Tests override it.
	WallNow func() time.Time
	// Seed seeds the faker behind payment destinations. The same seed and
	// the same sequence of creates give the same output.
	Seed int64
	// PublicURL is the sandbox's base URL as merchants' customers reach it,
	// for hosted-page links. When empty, it is taken from each request's
	// Host header.
	PublicURL string
	// Scenarios are the user's scenarios; they come before the embedded
	// library (scenarios.Library), and replace library entries of the same
	// name.
	Scenarios []scenarios.Scenario
	// NotifyWorkers bounds the notifies in flight at once;
	// DefaultNotifyWorkers when zero.
	NotifyWorkers int
	// NoSandboxHeaders leaves X-Sandbox-Delivery-Id and X-Sandbox-Attempt
	// off notifies.
	NoSandboxHeaders bool
	// ExposeControl lets clients other than loopback ones use the control
	// API (and the dashboard). [sandbox] By default only loopback clients
	// may: a sandbox listening on every interface, as in a container,
	// must not hand its clock and its payments to the network by accident.
	// Health, the OpenAPI document and the hosted payment page answer
	// everyone.
	ExposeControl bool
	// AdminToken, when set, lets clients other than loopback ones use the
	// control API and the dashboard by presenting it: the header
	// "Authorization: Bearer <token>", or the cookie a browser gets by
	// opening any dashboard page with ?token=<token> once. It takes
	// precedence over ExposeControl, which opens them to everyone.
	AdminToken string
	// AllowHosts are host names, besides loopback names and IP addresses,
	// the control API and the dashboard answer to in the Host header (the
	// name of a container, of a proxy): see guard.go. The PublicURL's host
	// is one without saying.
	AllowHosts []string
	// TrustedProxies are the addresses (or CIDR ranges) of reverse proxies
	// whose X-Forwarded-For names the client, for limiting failed token
	// attempts per client rather than per proxy.
	TrustedProxies []string
	// MaxPendingNotifies bounds the notifies waiting (queued, or scheduled
	// for a delay or a retry): beyond it creates answer 503 until the
	// backlog drains. DefaultMaxPendingNotifies when zero.
	MaxPendingNotifies int
	// NotifyAllow, when not empty, is the only place notifies may go: host
	// names, IP addresses or CIDR ranges. Link-local and cloud metadata
	// addresses are refused unless an entry covers them (see
	// delivery/outbound.go).
	NotifyAllow []string
	// Retention bounds what the sandbox holds: finished payments and
	// journal attempts beyond it are evicted, oldest first (see
	// Retention). The zero value keeps everything; serve keeps
	// DefaultRetain, DefaultMaxTransactions and DefaultMaxJournal.
	Retention Retention
	// Logger receives structured logs; discarded when nil.
	Logger *slog.Logger
}

// DefaultNotifyWorkers is how many notifies are in flight at most unless
// configured. [sandbox] Enough for a load test of a slow webhook endpoint
// (64 at 100 ms each is 640 notifies a second); each costs a goroutine
// and an idle connection.
const DefaultNotifyWorkers = 64

// MinAdminToken is the shortest admin token New accepts. [sandbox] 16
// characters; a token the sandbox makes itself carries 128 random bits.
const MinAdminToken = 16

// DefaultMaxPendingNotifies is the default bound on waiting notifies.
// [sandbox] A sandbox under a sustained overload (creates faster than its
// merchants acknowledge notifies) would otherwise grow until it is out of
// memory; a million waiting notifies hold about 1 GiB.
const DefaultMaxPendingNotifies = 1_000_000

// Sandbox is the mock BJPAY: merchants, channels and transactions behind
// BJPAY's HTTP surface, notifies to merchants, and the control API
// (Handler serves both).
type Sandbox struct {
	settings     Settings
	channels     map[string]*Channel
	channelCodes string          // active codes, for error messages
	channelsData json.RawMessage // Get Available Payment's data, encoded once
	store        store.Store
	storeName    string
	shared       store.Shared // the store, when several replicas share it (shared.go); nil otherwise
	timers       *timers      // runs a shared store's due events; nil otherwise
	clocks       *clocks      // the global clock and merchants' own, with their schedulers
	notifier     *delivery.Notifier
	defaultPol   delivery.Policy
	wallNow      func() time.Time
	dest         *destGen
	publicURL    string
	log          *slog.Logger
	handler      handler
	exposeCtl    bool
	maxPend      int64              // Options.MaxPendingNotifies
	adminHash    *[sha256.Size]byte // of Options.AdminToken; nil without one
	hosts        map[string]bool    // Options.AllowHosts and the PublicURL's host, lower case
	proxies      []netip.Prefix     // Options.TrustedProxies
	failures     failures           // failed token attempts by client
	sweeper      *sweeper           // evicts what Options.Retention keeps no more
	access       access             // merchants' tokens and relays
	listeners    listeners          // connected `bjpay-sandbox listen` clients
	closeOnce    sync.Once

	merchants merchants
	scenarios atomic.Pointer[[]scenarios.Scenario] // user's, then the library
}

// New builds a sandbox on opts and takes up what its store holds:
// merchants, payments still to expire or to follow their scenario, and
// notifies still to deliver. It starts nothing: Start does. The
// configuration must be valid (ParseConfig and DefaultConfig validate).
func New(opts Options) (*Sandbox, error) {
	cfg := opts.Config
	if len(cfg.Merchants) == 0 && len(cfg.Channels) == 0 {
		cfg = DefaultConfig()
	}
	if err := cfg.Validate("config"); err != nil {
		return nil, fmt.Errorf("new sandbox: %w", err)
	}
	var err error
	s := &Sandbox{
		settings:   cfg.Settings,
		channels:   make(map[string]*Channel, len(cfg.Channels)),
		store:      opts.Store,
		storeName:  opts.StoreName,
		wallNow:    opts.WallNow,
		dest:       newDestGen(opts.Seed),
		publicURL:  strings.TrimRight(opts.PublicURL, "/"),
		log:        opts.Logger,
		exposeCtl:  opts.ExposeControl,
		maxPend:    int64(opts.MaxPendingNotifies),
		defaultPol: delivery.DefaultPolicy(),
	}
	if s.store == nil {
		s.store, s.storeName = memstore.New(), "memory"
	}
	if opts.Clock == nil {
		opts.Clock, _ = NewSandboxClock(ClockReal, 1)
	}
	s.clocks = newClocks(opts.Clock, s.expireDue)
	if s.wallNow == nil {
		s.wallNow = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxPend <= 0 {
		s.maxPend = DefaultMaxPendingNotifies
	}
	if r := opts.Retention; r.Age < 0 || r.MaxTransactions < 0 || r.MaxJournal < 0 {
		return nil, fmt.Errorf("new sandbox: retention %+v: expected no negative bound (0 for none)", r)
	}
	if opts.AdminToken != "" {
		if len(opts.AdminToken) < MinAdminToken {
			return nil, fmt.Errorf("new sandbox: the admin token has %d characters; it must have at least %d (e.g. the output of 'openssl rand -hex 16')", len(opts.AdminToken), MinAdminToken)
		}
		h := sha256.Sum256([]byte(opts.AdminToken))
		s.adminHash = &h
	}
	if s.hosts, err = allowHosts(opts.AllowHosts, s.publicURL); err != nil {
		return nil, fmt.Errorf("new sandbox: %w", err)
	}
	for _, p := range opts.TrustedProxies {
		pfx, perr := parseIPRange(strings.TrimSpace(p))
		if perr != nil {
			return nil, fmt.Errorf("new sandbox: trusted proxy %q is neither an IP address nor a CIDR range such as 10.0.0.0/8", p)
		}
		s.proxies = append(s.proxies, pfx)
	}
	workers := opts.NotifyWorkers
	if workers <= 0 {
		workers = DefaultNotifyWorkers
	}
	var active []string
	for _, c := range cfg.Channels {
		if c.Lifetime == 0 {
			c.Lifetime = cfg.Settings.PaymentLifetime
		}
		s.channels[c.PaymentCode] = &c
		if c.IsActive {
			active = append(active, c.PaymentCode)
		}
	}
	s.channelCodes = strings.Join(active, ", ")
	data, err := json.Marshal(cfg.Channels)
	if err != nil {
		return nil, fmt.Errorf("new sandbox: encode channels: %w", err)
	}
	s.channelsData = data
	s.SetScenarios(opts.Scenarios)
	s.sweeper = newSweeper(s.store, opts.Retention, s.log)
	s.access.init(s.store)
	s.notifier, err = delivery.New(delivery.Options{Workers: workers, Clocks: s.clocks, WallNow: s.wallNow,
		Store: s.store, Log: s.log, SandboxHeaders: !opts.NoSandboxHeaders, Allow: opts.NotifyAllow,
		Relay: relay{s}})
	if err != nil {
		return nil, fmt.Errorf("new sandbox: %w", err)
	}
	s.merchants.init(cfg.Merchants, s.store)
	if s.shared, _ = s.store.(store.Shared); s.shared != nil {
		s.timers = newTimers(s)
		if err := s.initShared(context.Background()); err != nil {
			return nil, fmt.Errorf("new sandbox: %w", err)
		}
	}
	if err := s.takeUp(context.Background()); err != nil {
		return nil, fmt.Errorf("new sandbox: %w", err)
	}
	s.handler = s.routes()
	return s, nil
}

// takeUp carries on with what the store holds: payments' expiries and
// timelines are planned again, and pending notifies sent.
func (s *Sandbox) takeUp(ctx context.Context) error {
	if err := s.merchants.load(ctx); err != nil {
		return fmt.Errorf("stored merchants: %w", err)
	}
	if err := s.access.load(ctx); err != nil {
		return fmt.Errorf("stored tokens and relays: %w", err)
	}
	if s.shared != nil {
		return nil // what is due, any replica claims from the store
	}
	txs, _, err := s.store.List(ctx, store.Filter{})
	if err != nil {
		return fmt.Errorf("stored transactions: %w", err)
	}
	for i := range txs {
		s.replan(&txs[i], s.clocks.Now(txs[i].ClientID))
	}
	pending, err := s.store.Pending(ctx)
	if err != nil {
		return fmt.Errorf("pending notifies: %w", err)
	}
	s.notifier.Send(pending)
	return nil
}

// Start starts the scheduler, the notifier's workers and the retention's
// sweep: payments expire, scenarios play out, notifies go out and what the
// retention keeps no more is evicted. Handler serves before Start too.
func (s *Sandbox) Start() {
	s.clocks.start()
	s.timers.start()
	s.notifier.Start()
	s.sweeper.start()
}

// Close stops the sandbox's background work: no new notify attempt
// starts; attempts in flight get until ctx is done. Every notify that
// will not be delivered is recorded in the journal as interrupted (a
// durable store keeps it pending, for the next start). Then it closes the
// store. Calling it again does nothing.
func (s *Sandbox) Close(ctx context.Context) {
	s.closeOnce.Do(func() {
		s.sweeper.close()
		s.timers.close()
		s.clocks.close()
		s.notifier.Close(ctx) // relayed attempts in flight still reach their listeners
		s.listeners.closeAll(listen.CloseGoingAway, "the sandbox is stopping")
		if err := s.store.Close(); err != nil {
			s.log.Error("store close failed", "error", err)
		}
	})
}

// Clock returns the sandbox clock.
func (s *Sandbox) Clock() *SandboxClock { return s.clocks.global }

// SetScenarios replaces the user's scenarios; the embedded library stays
// behind them.
func (s *Sandbox) SetScenarios(user []scenarios.Scenario) {
	all := scenarios.Merge(user, scenarios.Library())
	s.scenarios.Store(&all)
}

// Scenarios returns the scenarios in the order they are tried.
func (s *Sandbox) Scenarios() []scenarios.Scenario { return slices.Clone(*s.scenarios.Load()) }

// logs reports whether log writes Info records. The hot paths ask first,
// so that a quiet sandbox (--log-level warn) does not build their
// attributes for nothing.
func logs(log *slog.Logger) bool { return log.Enabled(context.Background(), slog.LevelInfo) }

// storeFailed logs a failure of the store to do what (e.g. "save payment
// INV-1") and returns the error its caller answers: nothing was changed.
// [sandbox] BJPAY documents no such answer: the sandbox's 503 (with
// Retry-After), since the failure is its own and may pass.
func (s *Sandbox) storeFailed(what string, err error) *Error {
	s.log.Error("store failed", "what", what, "error", err)
	return errorf(KindUnavailable, "the sandbox could not %s (%v); nothing was changed: retry, or see the sandbox's log", what, err)
}
