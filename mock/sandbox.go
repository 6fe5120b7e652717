package mock

import (
	"context"
	"slices"
	"sync"

	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"github.com/bjpay/bjpay-sandbox/scenarios"
	"github.com/bjpay/bjpay-sandbox/signer"
	"log/slog"
	"math"
	"math/bits"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"
)

// Options configure a Sandbox. The zero value of every field but Config has
// a sensible default.
type Options struct {
	// Config holds merchants, channels and settings; DefaultConfig() when
	// it has neither merchants nor channels.
	Config Config
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
	// MaxPendingNotifies bounds the notifies waiting (queued, or scheduled
	// for a delay or a retry): beyond it creates answer 503 until the
	// backlog drains. DefaultMaxPendingNotifies when zero.
	MaxPendingNotifies int
	// NotifyAllow, when not empty, is the only place notifies may go: host
	// names, IP addresses or CIDR ranges. Link-local and cloud metadata
	// addresses are refused unless an entry covers them (see outbound.go).
	NotifyAllow []string
	// Logger receives structured logs; discarded when nil.
	Logger *slog.Logger
	// DataDir, when set, makes the sandbox durable: merchants made through
	// the control API, transactions, the delivery journal and pending
	// deliveries are kept in DataDir/sandbox.db (see durable.go) and
	// loaded again by the next New on the same directory. The directory is
	// created 0700 and the file 0600: it holds client secrets. Empty keeps
	// everything in memory only.
	DataDir string
}

// DefaultNotifyWorkers is how many notifies are in flight at most unless
// configured. [sandbox] Enough for a load test of a slow webhook endpoint
// (64 at 100 ms each is 640 notifies a second); each costs a goroutine
// and an idle connection.
const DefaultNotifyWorkers = 64

// DefaultMaxPendingNotifies is the default bound on waiting notifies.
// [sandbox] A sandbox under a sustained overload (creates faster than its
// merchants acknowledge notifies) would otherwise grow until it is out of
// memory; a million waiting notifies hold about 1 GiB.
const DefaultMaxPendingNotifies = 1_000_000

// Sandbox is the mock BJPAY: merchants, channels and transactions behind
// BJPAY's HTTP surface, notifies to merchants, and the control API
// (Handler serves both). Close stops it.
type Sandbox struct {
	settings     Settings
	channels     map[string]*Channel
	channelCodes string          // active codes, for error messages
	channelsData json.RawMessage // Get Available Payment's data, encoded once
	store        *store
	clock        *SandboxClock
	sched        *scheduler
	notifier     *notifier
	journal      *journal
	wallNow      func() time.Time
	dest         *destGen
	publicURL    string
	log          *slog.Logger
	seq          atomic.Uint64
	handler      http.Handler
	// version counts changes to transactions and the journal, for the
	// dashboard's live updates: one atomic add, nothing more, on the hot path.
	version   atomic.Uint64
	exposeCtl bool
	maxPend   int64              // Options.MaxPendingNotifies
	adminHash *[sha256.Size]byte // of Options.AdminToken; nil without one
	closeOnce sync.Once
	durable   *durable // the state file; nil in memory mode

	mu        sync.RWMutex
	merchants map[string]*merchant
	initial   []Merchant // the configured merchants, restored by reset

	scenarios atomic.Pointer[[]scenarios.Scenario] // user's, then the library
}

type merchant struct {
	Merchant
	secretHash [sha256.Size]byte
	key        string // signer.Key(clientId, clientSecret): signs its notifies
	allowed    []netip.Prefix
}

func newMerchant(m Merchant) *merchant {
	mm := &merchant{Merchant: m, secretHash: sha256.Sum256([]byte(m.ClientSecret)), key: signer.Key(m.ClientID, m.ClientSecret)}
	for _, ip := range m.AllowedIPs {
		p, _ := parseIPRange(ip) // validated by Config.Validate
		mm.allowed = append(mm.allowed, p)
	}
	return mm
}

// New builds and starts a sandbox. The configuration must be valid
// (ParseConfig and DefaultConfig validate); New returns an error otherwise.
// Call Close to stop its scheduler and notifier.
func New(opts Options) (*Sandbox, error) {
	cfg := opts.Config
	if len(cfg.Merchants) == 0 && len(cfg.Channels) == 0 {
		cfg = DefaultConfig()
	}
	if err := cfg.Validate("config"); err != nil {
		return nil, fmt.Errorf("new sandbox: %w", err)
	}
	s := &Sandbox{
		settings:  cfg.Settings,
		merchants: make(map[string]*merchant, len(cfg.Merchants)),
		initial:   cfg.Merchants,
		channels:  make(map[string]*Channel, len(cfg.Channels)),
		clock:     opts.Clock,
		wallNow:   opts.WallNow,
		dest:      newDestGen(opts.Seed),
		publicURL: strings.TrimRight(opts.PublicURL, "/"),
		log:       opts.Logger,
	}
	changed := func() { s.version.Add(1) }
	s.store, s.journal = newStore(changed), &journal{changed: changed}
	if s.clock == nil {
		s.clock, _ = NewSandboxClock(ClockReal, 1)
	}
	if s.wallNow == nil {
		s.wallNow = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	workers := opts.NotifyWorkers
	if workers <= 0 {
		workers = DefaultNotifyWorkers
	}
	for _, m := range cfg.Merchants {
		s.merchants[m.ClientID] = newMerchant(m)
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
	policy, err := parseNotifyAllow(opts.NotifyAllow)
	if err != nil {
		return nil, fmt.Errorf("new sandbox: notify allowlist: %w", err)
	}
	s.sched = newScheduler(s.clock, s.expire)
	s.notifier = newNotifier(workers, s.clock, s.sched, s.journal, s.wallNow, s.log, !opts.NoSandboxHeaders, policy)
	s.exposeCtl = opts.ExposeControl
	s.maxPend = int64(opts.MaxPendingNotifies)
	if s.maxPend <= 0 {
		s.maxPend = DefaultMaxPendingNotifies
	}
	if opts.AdminToken != "" {
		h := sha256.Sum256([]byte(opts.AdminToken))
		s.adminHash = &h
	}
	if opts.DataDir != "" {
		if s.durable, err = openDurable(opts.DataDir); err != nil {
			s.Close(context.Background())
			return nil, &DataError{fmt.Errorf("new sandbox: %w", err)}
		}
		s.notifier.db = s.durable.db
		if err := s.load(); err != nil {
			s.Close(context.Background())
			return nil, &DataError{fmt.Errorf("new sandbox: %w", err)}
		}
	}
	s.handler = s.routes()
	return s, nil
}

// DataFile is the path of the state file in durable mode, "" in memory mode.
func (s *Sandbox) DataFile() string {
	if s.durable == nil {
		return ""
	}
	return s.durable.path
}

// Close stops the sandbox's background work: no new notify attempt
// starts; attempts in flight get until ctx is done. Every notify that
// will not be delivered is recorded in the journal as interrupted; in
// durable mode they stay pending in the state file, and resume at the next
// start, which Close then closes. Calling it again does nothing.
func (s *Sandbox) Close(ctx context.Context) {
	s.closeOnce.Do(func() {
		s.sched.close()
		s.notifier.close(ctx)
		if s.durable != nil {
			if err := s.durable.close(); err != nil {
				s.log.Error("data file close failed", "file", s.durable.path, "error", err)
			}
		}
	})
}

// Handler returns the sandbox's HTTP handler: BJPAY's surface and the
// control API under /_sandbox.
func (s *Sandbox) Handler() http.Handler { return s.handler }

// Clock returns the sandbox clock.
func (s *Sandbox) Clock() *SandboxClock { return s.clock }

// SetScenarios replaces the user's scenarios; the embedded library stays
// behind them.
func (s *Sandbox) SetScenarios(user []scenarios.Scenario) {
	all := scenarios.Merge(user, scenarios.Library())
	s.scenarios.Store(&all)
}

// Scenarios returns the scenarios in the order they are tried.
func (s *Sandbox) Scenarios() []scenarios.Scenario { return slices.Clone(*s.scenarios.Load()) }

// merchant returns the merchant with clientID, or nil.
func (s *Sandbox) merchant(clientID string) *merchant {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.merchants[clientID]
}

// authenticate finds the merchant for the credentials and checks the caller's
// address against its allowlist.
func (s *Sandbox) authenticate(clientID, secret string, remote netip.Addr) (*merchant, *Error) {
	if clientID == "" {
		return nil, codeErr(CodeUnauthorized, "X-Client-Id header is missing; expected your client id")
	}
	if secret == "" {
		return nil, codeErr(CodeUnauthorized, "X-Client-Secret header is missing; expected your client secret")
	}
	m := s.merchant(clientID)
	// Compare digests in constant time so the comparison leaks neither the
	// secret nor its length.
	got := sha256.Sum256([]byte(secret))
	if m == nil {
		return nil, codeErr(CodeUnauthorized, "X-Client-Id %s is not a merchant of this sandbox; expected the client id printed at start or one from the config", masked(clientID))
	}
	if subtle.ConstantTimeCompare(got[:], m.secretHash[:]) != 1 {
		return nil, codeErr(CodeUnauthorized, "X-Client-Secret does not match the secret of client %q", clientID)
	}
	if len(m.allowed) > 0 && !allowedAddr(m.allowed, remote) {
		// [sandbox] BJPAY whitelists merchants' server IPs but documents no
		// code for a call from elsewhere: 01 with HTTP 403.
		return nil, codeErr(CodeUnauthorized, "calls for client %q are not allowed from %s; allowed: %s", clientID, remote, strings.Join(m.AllowedIPs, ", ")).withStatus(http.StatusForbidden)
	}
	return m, nil
}

func allowedAddr(allowed []netip.Prefix, a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range allowed {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// checkRequestTime validates X-Request-Time against wall time.
func (s *Sandbox) checkRequestTime(v string) *Error {
	if v == "" {
		return codeErr(CodeInvalidRequestTime, "X-Request-Time header is missing; expected the current time as ISO 8601, e.g. 2024-09-20T20:32:36+07:00")
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return codeErr(CodeInvalidRequestTime, "X-Request-Time %q is not in BJPAY's format; expected YYYY-MM-DDTHH:mm:ss with a ±HH:MM offset or Z, e.g. 2024-09-20T20:32:36+07:00", v)
	}
	// [sandbox] BJPAY documents code 23 but no tolerance; default ±5m.
	now := s.wallNow()
	skew := s.settings.RequestTimeSkew
	// Compare before subtracting: Sub saturates for times centuries away.
	var off time.Duration
	dir := "ahead of"
	switch {
	case t.After(now.Add(skew)):
		off = t.Sub(now)
	case t.Before(now.Add(-skew)):
		off, dir = now.Sub(t), "behind"
	default:
		return nil
	}
	return codeErr(CodeInvalidRequestTime, "X-Request-Time %s is %s %s the sandbox's wall clock (%s); allowed skew is ±%s", v, off.Truncate(time.Second), dir, now.In(wib).Format(time.RFC3339), skew)
}

// logs reports whether log writes Info records. The hot paths ask first,
// so that a quiet sandbox (--log-level warn) does not build their
// attributes for nothing.
func logs(log *slog.Logger) bool { return log.Enabled(context.Background(), slog.LevelInfo) }

// masked shows enough of an unrecognised client id to spot a typo, but not
// all of it: a client secret pasted into the wrong header must not end up
// in responses and logs.
func masked(id string) string {
	if len(id) <= 8 {
		return fmt.Sprintf("of %d characters", len(id))
	}
	return fmt.Sprintf("%q… (%d characters)", id[:4], len(id))
}

// create validates and stores a new transaction.
// sc is the scenario that matched the request, or nil.
func (s *Sandbox) create(m *merchant, req *createRequest, publicURL string, sc *scenarios.Scenario) (Transaction, *Error) {
	v, err := s.validate(m, req)
	if err != nil {
		return Transaction{}, err
	}
	now := s.clock.Now().In(wib).Truncate(time.Second)
	ch := v.channel
	fee := feeFor(ch, v.amount)
	n := s.seq.Add(1)
	tx := &Transaction{
		TransactionNumber:   transactionNumber(now, n),
		ReferenceNumber:     v.ref,
		PaymentCode:         ch.PaymentCode,
		PaymentName:         ch.PaymentName,
		CustomerName:        v.name,
		CustomerEmail:       v.email,
		CustomerPhoneNumber: v.phone,
		FinishNotifyURL:     v.notifyURL,
		FinishReturnURL:     v.returnURL,
		ExpiredAt:           v.expiredAt,
		TotalAmount:         v.amount,
		Fee:                 fee,
		TotalReceived:       v.amount - fee,
		PaymentDestType:     ch.PaymentDestType,
		Status:              StatusPending,
		Items:               v.items,
		CreatedAt:           now,
		ClientID:            m.ClientID,
		policy:              policyOf(sc),
	}
	if sc != nil {
		tx.Scenario = sc.Name
	}
	tx.PaymentDest, tx.PaymentDestName = s.dest.dest(ch, tx, m.Name, publicURL+"/_sandbox/pay/"+tx.TransactionNumber)
	pack(tx)
	created := *tx // the answer: as created, whatever happens to tx once it is shared
	if !s.store.insert(tx, n) {
		// Lost a race with a concurrent create of the same reference.
		return Transaction{}, codeErr(CodeInvalidReference, "referenceNumber %q was already used by this merchant; expected a new one", v.ref)
	}
	if s.durable != nil {
		// Committed before the 200: an acknowledged payment survives a crash.
		if err := s.storeTransaction(txID{tx.ClientID, tx.ReferenceNumber, tx.TransactionNumber}); err != nil {
			s.plan(tx, sc)
			return Transaction{}, err
		}
	}
	if logs(s.log) {
		s.log.Info("transaction created", "clientId", m.ClientID, "referenceNumber", tx.ReferenceNumber,
			"transactionNumber", tx.TransactionNumber, "paymentCode", tx.PaymentCode, "totalAmount", tx.TotalAmount,
			"scenario", tx.Scenario)
	}
	s.plan(tx, sc)
	return created, nil
}

// pack moves tx's own strings into one allocation: a held payment is then
// a handful of objects for the garbage collector to trace, not a dozen.
// Strings shared with the configuration (channel names, client id) stay
// where they are.
func pack(tx *Transaction) {
	var fields [16]*string
	f := append(fields[:0], &tx.TransactionNumber, &tx.ReferenceNumber, &tx.CustomerName, &tx.CustomerEmail,
		&tx.CustomerPhoneNumber, &tx.FinishNotifyURL, &tx.FinishReturnURL, &tx.PaymentDest, &tx.PaymentDestName)
	for i := range tx.Items {
		f = append(f, &tx.Items[i].Name)
	}
	n := 0
	for _, p := range f {
		n += len(*p)
	}
	var b strings.Builder
	b.Grow(n)
	for _, p := range f {
		b.WriteString(*p)
	}
	all := b.String()
	for _, p := range f {
		*p, all = all[:len(*p)], all[len(*p):]
	}
}

// feeFor is the channel's fee on amount. [sandbox] A PERCENT fee is
// rounded half up to whole rupiah, computed in integers (hundredths of a
// percent) so that 0.7 % of 5500 is exactly 38.5 → 39.
func feeFor(ch *Channel, amount int64) int64 {
	if ch.FeeType != FeePercent {
		return int64(ch.Fee) // whole rupiah, checked by Validate
	}
	bp := uint64(math.Round(ch.Fee * 100)) // at most two decimals, checked by Validate
	// amount < 2^53 and bp ≤ 10000, so hi < 10000 and Div64 cannot panic.
	hi, lo := bits.Mul64(uint64(amount), bp)
	lo, carry := bits.Add64(lo, 5000, 0)
	q, _ := bits.Div64(hi+carry, lo, 10000)
	return int64(q)
}

// inquire returns the merchant's transaction with reference ref.
func (s *Sandbox) inquire(m *merchant, ref string) (Transaction, *Error) {
	tx, ok := s.store.get(m.ClientID, ref)
	if !ok {
		// [sandbox] An unknown reference (or another merchant's) is code 14
		// with HTTP 404.
		return Transaction{}, codeErr(CodeInvalidReference, "no transaction with referenceNumber %q for client %q", ref, m.ClientID).withStatus(http.StatusNotFound)
	}
	return tx, nil
}
