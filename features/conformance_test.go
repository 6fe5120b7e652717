package features_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/cucumber/godog"

	"github.com/bjpay/bjpay-sandbox/cmd/demo-merchant/shop"
	"github.com/bjpay/bjpay-sandbox/features"
	"github.com/bjpay/bjpay-sandbox/mock"
)

const (
	merchantID     = "2f9d6a0e-1c3b-4d5e-8f70-123456789abc"
	merchantSecret = "merchant-secret"
)

// demoSetup runs a sandbox and the demo merchant with bug, wired to each
// other, and returns the conformance target the driver file would give.
// The demo merchant applies a notify before it answers: 300 ms of order
// reads (orderStatus.within) are plenty.
func demoSetup(t *testing.T, bug shop.Bug, checkout bool) features.Conformance {
	t.Helper()
	var h http.Handler // the merchant's, once it knows its own URL
	merchant := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(merchant.Close)
	notifyURL := merchant.URL + "/webhook/bjpay"

	// The sandbox knows the merchant as the test command configures it.
	cfg := mock.DefaultConfig()
	cfg.Merchants = []mock.Merchant{{Name: "Merchant under test", ClientID: merchantID, ClientSecret: merchantSecret, NotifyURL: notifyURL}}
	sb, err := mock.New(mock.Options{Config: cfg, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	sb.Start()
	sandbox := httptest.NewServer(sb.Handler())
	t.Cleanup(func() { sandbox.Close(); sb.Close(context.Background()) })

	h = shop.New(shop.Config{SandboxURL: sandbox.URL, ClientID: merchantID, ClientSecret: merchantSecret, Bug: bug, PublicURL: merchant.URL}).Handler()

	yaml := "sandbox: {listen: \"" + strings.TrimPrefix(sandbox.URL, "http://") + "\"}\nmerchant:\n" +
		"  clientId: " + merchantID + "\n  clientSecret: " + merchantSecret + "\n  notifyUrl: " + notifyURL + "\n"
	if checkout {
		yaml += "  checkout:\n    url: " + merchant.URL + "/checkout\n    body: '{\"amount\": {{.Amount}}, \"paymentCode\": \"{{.PaymentCode}}\"}'\n    referenceNumber: referenceNumber\n" +
			"  orderStatus:\n    url: " + merchant.URL + "/orders/{{.ReferenceNumber}}\n    status: status\n    paid: PAID\n    credited: credited\n    within: 300ms\n"
	}
	d, err := features.ParseDriver("demo.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("driver: %v\n%s", err, yaml)
	}
	return features.Conformance{SandboxURL: sandbox.URL, Merchant: d.Merchant}
}

// TestMerchantConformance runs the conformance suite against the demo
// merchant, each scenario a subtest: every scenario passes, @recommended
// ones included.
func TestMerchantConformance(t *testing.T) {
	for _, checkout := range []bool{true, false} {
		name := map[bool]string{true: "with checkout", false: "notify receiver only"}[checkout]
		t.Run(name, func(t *testing.T) {
			c := demoSetup(t, "", checkout)
			o := opts
			o.TestingT, o.FS, o.Paths = t, features.FS, []string{"merchant"}
			if !checkout {
				o.Tags = "~" + features.CheckoutTag
			}
			suite := godog.TestSuite{Name: "merchant", ScenarioInitializer: features.InitializeConformance(c), Options: &o}
			if status := suite.Run(); status != 0 {
				t.Fatalf("godog exited with status %d", status)
			}
		})
	}
}

// TestConformanceCatchesBugs proves the suite can fail: against each bug
// of the demo merchant, exactly the scenarios that should catch it fail.
func TestConformanceCatchesBugs(t *testing.T) {
	refused := func(v string) string { return "A notify that BJPAY did not sign as sent is refused (" + v + ")" }
	forged := func(status, v string) string {
		return "A forged " + status + " notify is refused and leaves the order as it was (" + v + ")"
	}
	const (
		valid      = "A valid PAID notify is acknowledged and pays the order"
		retried    = "A duplicate PAID notify is acknowledged again and credits the order once (as BJPAY retries it)"
		concurrent = "A duplicate PAID notify is acknowledged again and credits the order once (at the same time)"
		staysPaidE = "A paid order stays paid when a later EXPIRED notify arrives"
		staysPaidF = "A paid order stays paid when a later FAILED notify arrives"
		replay     = "A replayed notify older than the replay window is refused"
		ahead      = "A notify stamped further ahead than the replay window is refused"
		canonical  = "A notify whose JSON is formatted differently is accepted"
		amount     = "A validly signed notify with another amount than the order's does not pay it"
		unknown    = "A valid notify for an order the merchant never created is acknowledged"
		e2ePaid    = "A payment made through the checkout becomes paid"
		e2eExpired = "An unpaid payment that expires never becomes paid"
	)
	// Every scenario that relies on a valid notify being accepted.
	validRefused := []string{valid, retried, concurrent, staysPaidE, staysPaidF, canonical, unknown, e2ePaid, e2eExpired}
	tests := []struct {
		bug  shop.Bug
		fail []string
	}{
		{shop.BugSkipSignature, []string{
			refused("tampered-signature"), refused("wrong-key"), refused("missing-signature"), refused("reference-changed"),
			forged("EXPIRED", "wrong-key"), forged("EXPIRED", "missing-signature"), forged("EXPIRED", "tampered-signature"),
			forged("FAILED", "wrong-key"), forged("FAILED", "missing-signature"), forged("FAILED", "tampered-signature"),
			replay, ahead}},
		{shop.BugAmountDecimals, validRefused},
		{shop.BugRawMD5Key, validRefused},
		{shop.BugDuplicate409, []string{retried, concurrent}},
		{shop.BugExpiredOverwritesPaid, []string{staysPaidE, staysPaidF}},
		{shop.BugIgnoreAmount, []string{amount}},
		{shop.BugNoReplayCheck, []string{replay, ahead}},
	}
	if len(tests) != len(shop.Bugs) {
		t.Fatalf("the table covers %d bugs, shop.Bugs has %d", len(tests), len(shop.Bugs))
	}
	for _, tt := range tests {
		t.Run(string(tt.bug), func(t *testing.T) {
			t.Parallel() // each its own sandbox and merchant; mostly waiting on reads through a window
			c := demoSetup(t, tt.bug, true)
			var report bytes.Buffer
			o := godog.Options{Format: "cucumber", Output: &report, Strict: true, Concurrency: 4, FS: features.FS, Paths: []string{"merchant"}}
			suite := godog.TestSuite{Name: "merchant", ScenarioInitializer: features.InitializeConformance(c), Options: &o}
			if status := suite.Run(); status == 0 {
				t.Errorf("godog exited with status 0 against a merchant with bug %s", tt.bug)
			}
			got := failedScenarios(t, report.Bytes())
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tt.fail))
			if !slices.Equal(got, want) {
				t.Errorf("failed scenarios:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
}

// failedScenarios reads the names of the failed scenarios from godog's
// cucumber JSON report.
func failedScenarios(t *testing.T, report []byte) []string {
	t.Helper()
	var features []struct {
		Elements []struct {
			Name  string `json:"name"`
			Steps []struct {
				Result struct{ Status string } `json:"result"`
			} `json:"steps"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(report, &features); err != nil {
		t.Fatalf("cucumber report: %v\n%s", err, report)
	}
	var failed []string
	for _, f := range features {
		for _, sc := range f.Elements {
			for _, st := range sc.Steps {
				if st.Result.Status == "failed" {
					failed = append(failed, sc.Name)
					break
				}
			}
		}
	}
	return failed
}
