package mock_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock"
	"github.com/bjpay/bjpay-sandbox/mock/delivery"
)

// TestNotifyPolicy: refused notifies end at once, given up with the
// reason in the journal and no retries; allowed ones are delivered.
func TestNotifyPolicy(t *testing.T) {
	rc := newReceiver(t)
	for _, tt := range []struct {
		name    string
		allow   []string
		url     string
		outcome string
		error   string
	}{
		{"metadata address", nil, "http://169.254.169.254/latest/meta-data/", delivery.OutcomeGaveUp, "link-local or cloud metadata"},
		{"metadata over IPv6", nil, "http://[fd00:ec2::254]/", delivery.OutcomeGaveUp, "link-local or cloud metadata"},
		{"loopback without allowlist", nil, rc.URL, delivery.OutcomeDelivered, ""},
		{"not in the allowlist", []string{"shop.test"}, rc.URL, delivery.OutcomeGaveUp, "127.0.0.1 is not in the notify allowlist"},
		{"in the allowlist", []string{"127.0.0.0/8"}, rc.URL, delivery.OutcomeDelivered, ""},
		// Issue 16: the forms a probe got through, and others that decode to
		// a metadata address; a loopback merchant however written.
		{"zoned link-local", nil, "http://[fe80::a9fe:a9fe%25eth0]/", delivery.OutcomeGaveUp, "fe80::a9fe:a9fe%eth0 is a link-local or cloud metadata address"},
		{"IPv4-compatible", nil, "http://[::169.254.169.254]/", delivery.OutcomeGaveUp, "carries 169.254.169.254 as an IPv4-compatible address"},
		{"NAT64", nil, "http://[64:ff9b::a9fe:a9fe]/", delivery.OutcomeGaveUp, "carries 169.254.169.254 as NAT64"},
		{"decimal IPv4", nil, "http://2852039166/", delivery.OutcomeGaveUp, "169.254.169.254 written as one decimal number"},
		{"Alibaba metadata in hex", nil, "http://0x64.0x64.0x64.0xc8/", delivery.OutcomeGaveUp, "100.100.100.200 written in hex"},
		{"IPv4-mapped loopback", nil, strings.Replace(rc.URL, "127.0.0.1", "[::ffff:127.0.0.1]", 1), delivery.OutcomeDelivered, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clock, _ := mock.NewSandboxClock(mock.ClockVirtual, 1)
			sb, err := mock.New(mock.Options{Config: mock.DefaultConfig(), Clock: clock, Seed: 1, NotifyAllow: tt.allow})
			if err != nil {
				t.Fatal(err)
			}
			sb.Start()
			defer sb.Close(context.Background())
			e := &engine{sb: sb, h: sb.Handler()}
			e.create(t, "POL-1", tt.url, nil)
			if code, body := e.control(t, "POST", "/_sandbox/transactions/POL-1/pay", ""); code != 200 {
				t.Fatalf("pay: %d %s", code, body)
			}
			waitFor(t, "the attempt", func() bool { return len(sb.Deliveries(demoID, "POL-1")) == 1 })
			sb.AdvanceClock(24 * time.Hour) // past every retry, were there one
			time.Sleep(20 * time.Millisecond)
			got := sb.Deliveries(demoID, "POL-1")
			if len(got) != 1 || got[0].Outcome != tt.outcome || !strings.Contains(got[0].Error, tt.error) {
				t.Fatalf("journal %+v, want one attempt %s with an error containing %q", got, tt.outcome, tt.error)
			}
		})
	}
	if _, err := mock.New(mock.Options{NotifyAllow: []string{"http://x"}}); err == nil || !strings.Contains(err.Error(), "not a host name") {
		t.Errorf("New with a bad allowlist: %v, want an error naming the entry", err)
	}
}
