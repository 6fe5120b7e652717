package mock

import (
	_ "embed"
	"fmt"
	"maps"
	"math"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/bjpay/bjpay-sandbox/scenarios"
)

//go:embed defaults.yaml
var defaultsYAML []byte

// Config is the sandbox's configuration: merchants, the channel catalogue and
// a few settings. DefaultConfig gives the embedded defaults; LoadConfig
// overlays a file on them.
type Config struct {
	At        scenarios.Positions `yaml:"-"`
	Settings  Settings            `yaml:"settings"`
	Merchants []Merchant          `yaml:"merchants"`
	Channels  []Channel           `yaml:"channels"`
}

// Settings tune how strict the BJPAY surface is.
type Settings struct {
	At scenarios.Positions `yaml:"-"`
	// RequestTimeSkew is how far an incoming X-Request-Time may be from wall
	// time. [sandbox] BJPAY documents code 23 but not the tolerance.
	RequestTimeSkew time.Duration `yaml:"requestTimeSkew"`
	// MaxBodyBytes bounds request bodies; larger ones answer 413.
	MaxBodyBytes int64 `yaml:"maxBodyBytes"`
	// PaymentLifetime is how long a payment stays PENDING when the create
	// call gives no expiredAt and its channel sets no lifetime.
	PaymentLifetime time.Duration `yaml:"paymentLifetime"`
}

// Merchant is one set of credentials the sandbox accepts.
type Merchant struct {
	At           scenarios.Positions `yaml:"-"`
	Name         string              `yaml:"name"`
	ClientID     string              `yaml:"clientId"`
	ClientSecret string              `yaml:"clientSecret"`
	// NotifyURL stands for the "Notification URL" of BJPAY's Merchant
	// Portal: used when a create call gives no finishNotifyUrl.
	NotifyURL string `yaml:"notifyUrl"`
	// AllowedIPs, when not empty, lists the addresses or CIDR ranges this
	// merchant may call from, as BJPAY whitelists merchants' server IPs.
	AllowedIPs []string `yaml:"allowedIps"`
}

// Channel is one payment channel of the catalogue. Its JSON form is an
// entry of Get Available Payment; [sandbox] BJPAY does not document those
// fields, these are the sandbox's.
type Channel struct {
	At              scenarios.Positions `yaml:"-" json:"-"`
	PaymentCode     string              `yaml:"paymentCode" json:"paymentCode"`
	PaymentName     string              `yaml:"paymentName" json:"paymentName"`
	PaymentType     string              `yaml:"paymentType" json:"paymentType"`
	PaymentDestType string              `yaml:"paymentDestType" json:"paymentDestType"`
	MinAmount       int64               `yaml:"minAmount" json:"minAmount"`
	MaxAmount       int64               `yaml:"maxAmount" json:"maxAmount"`
	Fee             float64             `yaml:"fee" json:"fee"`
	FeeType         string              `yaml:"feeType" json:"feeType"`
	IsActive        bool                `yaml:"isActive" json:"isActive"`
	// DestPrefix starts generated VA numbers (DIRECT) or is the deeplink
	// base (DEEPLINK). Sandbox-only; not sent to merchants.
	DestPrefix string `yaml:"destPrefix" json:"-"`
	// Lifetime overrides Settings.PaymentLifetime for this channel.
	Lifetime time.Duration `yaml:"lifetime" json:"-"`
}

// Payment destination types, as BJPAY documents them.
const (
	DestDirect   = "DIRECT"
	DestRedirect = "REDIRECT"
	DestDeeplink = "DEEPLINK"
)

// Fee types of the channel catalogue.
const (
	FeeFlat    = "FLAT"
	FeePercent = "PERCENT"
)

// DefaultConfig returns the embedded defaults: one demo merchant and the
// channel catalogue described in the README.
func DefaultConfig() Config {
	cfg, err := ParseConfig("defaults.yaml", defaultsYAML, Config{})
	if err != nil {
		panic("mock: embedded defaults.yaml is invalid: " + err.Error())
	}
	return cfg
}

// LoadConfig reads the file at path and overlays it on the embedded
// defaults.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("load config: %w", err)
	}
	return ParseConfig(path, data, DefaultConfig())
}

// ParseConfig decodes data strictly and overlays it on base: every section
// (and every settings key) the file writes replaces base's; the rest of base
// stays. The result is validated; errors carry file:line:col.
func ParseConfig(file string, data []byte, base Config) (Config, error) {
	var f Config
	if err := scenarios.Decode(file, data, &f); err != nil {
		return Config{}, err
	}
	cfg := base
	if _, ok := f.At["merchants"]; ok {
		cfg.Merchants = f.Merchants
	}
	if _, ok := f.At["channels"]; ok {
		cfg.Channels = f.Channels
	}
	at := make(scenarios.Positions, len(base.Settings.At)+len(f.Settings.At))
	maps.Copy(at, base.Settings.At)
	for key, pos := range f.Settings.At {
		at[key] = pos
		switch key {
		case "requestTimeSkew":
			cfg.Settings.RequestTimeSkew = f.Settings.RequestTimeSkew
		case "maxBodyBytes":
			cfg.Settings.MaxBodyBytes = f.Settings.MaxBodyBytes
		case "paymentLifetime":
			cfg.Settings.PaymentLifetime = f.Settings.PaymentLifetime
		}
	}
	cfg.Settings.At = at
	cfg.At = f.At
	if err := cfg.Validate(file); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Validate checks the configuration and reports every problem at once. It
// changes nothing; defaults are applied by New.
func (c Config) Validate(file string) error {
	var errs scenarios.ErrorList
	whole := scenarios.Pos{File: file, Line: 1, Col: 1}
	if p, ok := c.At[""]; ok {
		whole = p
	}
	if c.Settings.RequestTimeSkew <= 0 {
		errs.Add(posOr(c.Settings.At.Of("requestTimeSkew"), whole), "settings.requestTimeSkew must be a positive duration such as 5m, got %s", c.Settings.RequestTimeSkew)
	}
	if c.Settings.MaxBodyBytes <= 0 {
		errs.Add(posOr(c.Settings.At.Of("maxBodyBytes"), whole), "settings.maxBodyBytes must be a positive number of bytes, got %d", c.Settings.MaxBodyBytes)
	}
	if c.Settings.PaymentLifetime <= 0 {
		errs.Add(posOr(c.Settings.At.Of("paymentLifetime"), whole), "settings.paymentLifetime must be a positive duration such as 24h, got %s", c.Settings.PaymentLifetime)
	}

	if len(c.Merchants) == 0 {
		errs.Add(posOr(c.At.Of("merchants"), whole), "merchants: at least one merchant is needed")
	}
	ids := map[string]bool{}
	for i, m := range c.Merchants {
		at := func(field string) scenarios.Pos { return posOr(m.At.Of(field), whole) }
		path := fmt.Sprintf("merchants[%d]", i)
		switch {
		case m.ClientID == "":
			errs.Add(at("clientId"), "%s.clientId is missing; expected the merchant's client id (a UUID in production)", path)
		case ids[m.ClientID]:
			errs.Add(at("clientId"), "%s.clientId %q is used by another merchant; client ids must be unique", path, m.ClientID)
		}
		ids[m.ClientID] = true
		if m.ClientSecret == "" {
			errs.Add(at("clientSecret"), "%s.clientSecret is missing", path)
		}
		if m.NotifyURL != "" {
			if msg := checkHTTPURL(m.NotifyURL); msg != "" {
				errs.Add(at("notifyUrl"), "%s.notifyUrl %s", path, msg)
			}
		}
		for j, ip := range m.AllowedIPs {
			if _, err := parseIPRange(ip); err != nil {
				errs.Add(at("allowedIps"), "%s.allowedIps[%d] %q is neither an IP address nor a CIDR range such as 10.0.0.0/8", path, j, ip)
			}
		}
	}

	if len(c.Channels) == 0 {
		errs.Add(posOr(c.At.Of("channels"), whole), "channels: at least one channel is needed")
	}
	codes := map[string]bool{}
	for i, ch := range c.Channels {
		at := func(field string) scenarios.Pos { return posOr(ch.At.Of(field), whole) }
		path := fmt.Sprintf("channels[%d]", i)
		switch {
		case ch.PaymentCode == "":
			errs.Add(at("paymentCode"), "%s.paymentCode is missing; expected a code such as VA-BNI", path)
		case codes[ch.PaymentCode]:
			errs.Add(at("paymentCode"), "%s.paymentCode %q appears twice; channel codes must be unique", path, ch.PaymentCode)
		}
		codes[ch.PaymentCode] = true
		if ch.PaymentName == "" {
			errs.Add(at("paymentName"), "%s.paymentName is missing; expected a display name such as \"BNI Virtual Account\"", path)
		}
		if ch.PaymentType == "" {
			errs.Add(at("paymentType"), "%s.paymentType is missing; expected e.g. VIRTUAL_ACCOUNT, EWALLET or QRIS", path)
		}
		switch ch.PaymentDestType {
		case DestDirect, DestRedirect, DestDeeplink:
		default:
			errs.Add(at("paymentDestType"), "%s.paymentDestType is %q; expected DIRECT, REDIRECT or DEEPLINK", path, ch.PaymentDestType)
		}
		if ch.PaymentDestType == DestDeeplink && ch.DestPrefix == "" {
			errs.Add(at("destPrefix"), "%s.destPrefix is missing; a DEEPLINK channel needs its deeplink base, e.g. gojek://gopay/merchanttransfer", path)
		}
		if ch.MinAmount < 1 {
			errs.Add(at("minAmount"), "%s.minAmount must be at least 1, got %d", path, ch.MinAmount)
		}
		if ch.MaxAmount < ch.MinAmount {
			errs.Add(at("maxAmount"), "%s.maxAmount %d is below minAmount %d", path, ch.MaxAmount, ch.MinAmount)
		}
		if ch.MaxAmount > maxSafeAmount {
			errs.Add(at("maxAmount"), "%s.maxAmount %d is above %d, the largest integer a JavaScript Number holds exactly", path, ch.MaxAmount, int64(maxSafeAmount))
		}
		switch ch.FeeType {
		case FeeFlat:
			if ch.Fee != math.Trunc(ch.Fee) {
				errs.Add(at("fee"), "%s.fee %v is not whole rupiah; a FLAT fee is a whole number", path, ch.Fee)
			}
			if ch.Fee > float64(ch.MinAmount) {
				errs.Add(at("fee"), "%s.fee %v is above minAmount %d, so totalReceived could be negative", path, ch.Fee, ch.MinAmount)
			}
		case FeePercent:
			if ch.Fee > 100 {
				errs.Add(at("fee"), "%s.fee %v%% is above 100%%", path, ch.Fee)
			}
			if bp := ch.Fee * 100; math.Abs(bp-math.Round(bp)) > 1e-9 {
				errs.Add(at("fee"), "%s.fee %v%% has more than two decimals", path, ch.Fee)
			}
		default:
			errs.Add(at("feeType"), "%s.feeType is %q; expected FLAT or PERCENT", path, ch.FeeType)
		}
		if ch.Fee < 0 {
			errs.Add(at("fee"), "%s.fee must not be negative, got %v", path, ch.Fee)
		}
		if ch.Lifetime < 0 {
			errs.Add(at("lifetime"), "%s.lifetime must not be negative, got %s", path, ch.Lifetime)
		}
	}
	errs.Sort()
	return errs.Err()
}

func posOr(p, fallback scenarios.Pos) scenarios.Pos {
	if p.Line == 0 {
		return fallback
	}
	return p
}

// checkHTTPURL returns "" for an absolute http(s) URL, else what is wrong.
func checkHTTPURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Sprintf("%q is not an absolute http(s) URL; expected e.g. https://my-cool-apps.com/webhook/notify", s)
	}
	return ""
}

// parseIPRange accepts an address (1.2.3.4, ::1) or a CIDR range (10.0.0.0/8).
func parseIPRange(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
