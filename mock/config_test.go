package mock_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock"
)

func TestDefaultConfig(t *testing.T) {
	cfg := mock.DefaultConfig()
	if len(cfg.Merchants) != 1 || cfg.Merchants[0].ClientID != demoID {
		t.Errorf("merchants = %+v, want the demo merchant", cfg.Merchants)
	}
	if len(cfg.Channels) != 10 {
		t.Errorf("%d channels, want 10", len(cfg.Channels))
	}
	if cfg.Settings.RequestTimeSkew != 5*time.Minute || cfg.Settings.PaymentLifetime != 24*time.Hour {
		t.Errorf("settings = %+v, want skew 5m, lifetime 24h", cfg.Settings)
	}
}

// TestParseConfigOverlay: sections a file writes replace the defaults';
// the others stay.
func TestParseConfigOverlay(t *testing.T) {
	yml := `
settings:
  requestTimeSkew: 1m
merchants:
  - name: Toko Budi
    clientId: toko-budi
    clientSecret: rahasia
    notifyUrl: http://127.0.0.1:3000/notify
    allowedIps: [127.0.0.1, 10.0.0.0/8]
`
	cfg, err := mock.ParseConfig("sandbox.yaml", []byte(yml), mock.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Merchants) != 1 || cfg.Merchants[0].ClientID != "toko-budi" || len(cfg.Merchants[0].AllowedIPs) != 2 {
		t.Errorf("merchants = %+v, want only toko-budi", cfg.Merchants)
	}
	if len(cfg.Channels) != 10 {
		t.Errorf("channels were replaced; want the 10 defaults, got %d", len(cfg.Channels))
	}
	if cfg.Settings.RequestTimeSkew != time.Minute || cfg.Settings.MaxBodyBytes != 1<<20 {
		t.Errorf("settings = %+v, want skew 1m from the file and the default body limit", cfg.Settings)
	}
}

// TestParseConfigErrors: every problem is reported, with its position.
func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"unknown key", "merchants:\n  - clientId: a\n    clientSecret: b\n    secret: c\n",
			`sandbox.yaml:4:5: unknown key "secret" in merchants[0]`},
		{"missing secret", "merchants:\n  - clientId: a\n",
			"sandbox.yaml:2:5: merchants[0].clientSecret is missing"},
		{"duplicate client id", "merchants:\n  - {clientId: a, clientSecret: b}\n  - {clientId: a, clientSecret: c}\n",
			`sandbox.yaml:3:16: merchants[1].clientId "a" is used by another merchant`},
		{"bad notify URL", "merchants:\n  - {clientId: a, clientSecret: b, notifyUrl: localhost:3000}\n",
			`sandbox.yaml:2:47: merchants[0].notifyUrl "localhost:3000" is not an absolute http(s) URL`},
		{"bad IP", "merchants:\n  - {clientId: a, clientSecret: b, allowedIps: [1.2.3]}\n",
			`merchants[0].allowedIps[0] "1.2.3" is neither an IP address nor a CIDR range`},
		{"bad dest type", "channels:\n  - {paymentCode: X, paymentName: X, paymentType: EWALLET, paymentDestType: WEB, minAmount: 1, maxAmount: 2, feeType: FLAT}\n",
			`sandbox.yaml:2:77: channels[0].paymentDestType is "WEB"; expected DIRECT, REDIRECT or DEEPLINK`},
		{"max below min", "channels:\n  - {paymentCode: X, paymentName: X, paymentType: QRIS, paymentDestType: DIRECT, minAmount: 10, maxAmount: 2, feeType: FLAT}\n",
			"channels[0].maxAmount 2 is below minAmount 10"},
		{"bad fee type", "channels:\n  - {paymentCode: X, paymentName: X, paymentType: QRIS, paymentDestType: DIRECT, minAmount: 1, maxAmount: 2, feeType: PCT}\n",
			`channels[0].feeType is "PCT"; expected FLAT or PERCENT`},
		{"deeplink without prefix", "channels:\n  - {paymentCode: X, paymentName: X, paymentType: EWALLET, paymentDestType: DEEPLINK, minAmount: 1, maxAmount: 2, feeType: FLAT}\n",
			"channels[0].destPrefix is missing"},
		{"fractional flat fee", "channels:\n  - {paymentCode: X, paymentName: X, paymentType: QRIS, paymentDestType: DIRECT, minAmount: 1000, maxAmount: 2000, fee: 2.5, feeType: FLAT}\n",
			"channels[0].fee 2.5 is not whole rupiah"},
		{"flat fee above minimum", "channels:\n  - {paymentCode: X, paymentName: X, paymentType: QRIS, paymentDestType: DIRECT, minAmount: 1000, maxAmount: 2000, fee: 3500, feeType: FLAT}\n",
			"channels[0].fee 3500 is above minAmount 1000"},
		{"percent with three decimals", "channels:\n  - {paymentCode: X, paymentName: X, paymentType: QRIS, paymentDestType: DIRECT, minAmount: 1000, maxAmount: 2000, fee: 0.125, feeType: PERCENT}\n",
			"channels[0].fee 0.125% has more than two decimals"},
		{"bad duration", "settings:\n  requestTimeSkew: five minutes\n",
			`sandbox.yaml:2:20: settings.requestTimeSkew: expected a duration`},
		{"negative skew", "settings:\n  requestTimeSkew: -1m\n",
			"sandbox.yaml:2:20: settings.requestTimeSkew must be a positive duration"},
		{"no merchants", "merchants: []\n", "merchants: at least one merchant is needed"},
		{"empty file", "", "sandbox.yaml:1:1: file is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mock.ParseConfig("sandbox.yaml", []byte(tt.yaml), mock.DefaultConfig())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

func TestParseConfigReportsAllAtOnce(t *testing.T) {
	yml := "merchants:\n  - clientId: a\n  - clientSecret: b\n"
	_, err := mock.ParseConfig("s.yaml", []byte(yml), mock.DefaultConfig())
	want := "s.yaml:2:5: merchants[0].clientSecret is missing\ns.yaml:3:5: merchants[1].clientId is missing; expected the merchant's client id (a UUID in production)"
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
}
