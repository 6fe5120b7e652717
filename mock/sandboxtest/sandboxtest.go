// Package sandboxtest runs a bjpay-sandbox inside a merchant's own Go
// tests: a BJPAY base URL, fresh credentials, a virtual clock, and helpers
// to pay, fail or expire payments and to wait for their notifies.
//
//	func TestCheckout(t *testing.T) {
//		sb := sandboxtest.New(t, sandboxtest.NotifyURL(merchant.URL+"/webhook/bjpay"))
//		app := myapp.New(sb.URL, sb.ClientID, sb.ClientSecret)
//		ref := app.Checkout(58000)            // calls POST {sb.URL}/api/merchant/transaction/create
//		sb.Pay(ref)
//		sb.WaitDelivery(ref, "PAID")          // the merchant acknowledged the signed notify
//		// ... assert the order is paid
//	}
package sandboxtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock"
	"github.com/bjpay/bjpay-sandbox/mock/delivery"
	"github.com/bjpay/bjpay-sandbox/mock/store"
	"github.com/bjpay/bjpay-sandbox/scenarios"
	"github.com/bjpay/bjpay-sandbox/signer"
)

// Sandbox is a running in-process sandbox with one fresh merchant.
type Sandbox struct {
	// URL replaces https://api.bjpay.co.id in the code under test.
	URL string
	// ClientID and ClientSecret are the merchant's credentials.
	ClientID, ClientSecret string

	t   testing.TB
	sb  *mock.Sandbox
	srv *httptest.Server
}

// Option configures New.
type Option func(*settings)

type settings struct {
	notifyURL string
	scenarios string
}

// NotifyURL sets the merchant's default notify URL (used when a create
// call has no finishNotifyUrl).
func NotifyURL(url string) Option { return func(s *settings) { s.notifyURL = url } }

// Scenarios loads scenario YAML (the format of `bjpay-sandbox scenarios
// lint`) ahead of the built-in library.
func Scenarios(yaml string) Option { return func(s *settings) { s.scenarios = yaml } }

// New starts a sandbox on a virtual clock (it moves only with Advance) and
// stops it when the test ends.
func New(t testing.TB, opts ...Option) *Sandbox {
	t.Helper()
	var set settings
	for _, o := range opts {
		o(&set)
	}
	var user []scenarios.Scenario
	if set.scenarios != "" {
		var err error
		if user, err = scenarios.Parse("sandboxtest.Scenarios", []byte(set.scenarios)); err != nil {
			t.Fatalf("sandboxtest: %v", err)
		}
	}
	cfg := mock.DefaultConfig()
	id, secret := newID(), "sbx_"+randomHex(16)
	cfg.Merchants = []mock.Merchant{{Name: "Test Merchant", ClientID: id, ClientSecret: secret, NotifyURL: set.notifyURL}}
	clock, err := mock.NewSandboxClock(mock.ClockVirtual, 1)
	if err != nil {
		t.Fatalf("sandboxtest: %v", err)
	}
	sb, err := mock.New(mock.Options{Config: cfg, Clock: clock, Scenarios: user, Seed: 1})
	if err != nil {
		t.Fatalf("sandboxtest: %v", err)
	}
	sb.Start()
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		sb.Close(ctx)
	})
	return &Sandbox{URL: srv.URL, ClientID: id, ClientSecret: secret, t: t, sb: sb, srv: srv}
}

// Key is the merchant's signing key, for checking notifies with signer.
func (s *Sandbox) Key() string { return signer.Key(s.ClientID, s.ClientSecret) }

// Pay marks the merchant's payment ref PAID and sends its notify.
func (s *Sandbox) Pay(ref string) store.Transaction { return s.act(ref, "pay") }

// Fail marks the payment FAILED and sends its notify.
func (s *Sandbox) Fail(ref string) store.Transaction { return s.act(ref, "fail") }

// Expire marks the payment EXPIRED and sends its notify.
func (s *Sandbox) Expire(ref string) store.Transaction { return s.act(ref, "expire") }

func (s *Sandbox) act(ref, action string) store.Transaction {
	s.t.Helper()
	resp, err := http.Post(s.URL+mock.ControlPrefix+"/transactions/"+ref+"/"+action+"?clientId="+s.ClientID, "application/json", nil)
	if err != nil {
		s.t.Fatalf("sandboxtest: %s %s: %v", action, ref, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		s.t.Fatalf("sandboxtest: %s %s: %s %s", action, ref, resp.Status, body)
	}
	return s.Transaction(ref)
}

// Transaction returns the merchant's payment ref as the sandbox holds it.
func (s *Sandbox) Transaction(ref string) store.Transaction {
	s.t.Helper()
	for _, tx := range s.sb.Transactions(s.ClientID) {
		if tx.ReferenceNumber == ref {
			return tx
		}
	}
	s.t.Fatalf("sandboxtest: no payment with referenceNumber %q for this merchant", ref)
	return store.Transaction{}
}

// Advance moves the virtual clock forward (expiries, timelines and notify
// retries that become due run before it returns).
func (s *Sandbox) Advance(d time.Duration) { s.sb.AdvanceClock(d) }

// Deliveries returns the journal of notify attempts for ref ("" for all).
func (s *Sandbox) Deliveries(ref string) []delivery.Attempt { return s.sb.Deliveries(s.ClientID, ref) }

// WaitDelivery waits (up to 10 s) for the notify announcing status for
// ref to be acknowledged by the merchant and returns that attempt. It fails
// the test at once when the notify cannot arrive by itself: the sandbox gave
// up or was stopped, there is no notify URL, or the next attempt waits for
// the virtual clock (call Advance first).
func (s *Sandbox) WaitDelivery(ref, status string) delivery.Attempt {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var last *delivery.Attempt
		for _, a := range s.Deliveries(ref) {
			if a.Status != status {
				continue
			}
			if a.Outcome == delivery.OutcomeDelivered {
				return a
			}
			last = &a
		}
		if last != nil {
			switch {
			case last.Outcome != delivery.OutcomeRetrying:
				s.t.Fatalf("sandboxtest: the %s notify for %s was not delivered: %s (%s)", status, ref, last.Outcome, last.Error)
			case last.NextAttemptAt.After(s.sb.Clock().Now()):
				s.t.Fatalf("sandboxtest: the %s notify for %s failed (%s); its next attempt is due at %s on the virtual clock: call Advance", status, ref, last.Error, last.NextAttemptAt)
			}
			// Due already (an Advance ran past it): the retry is on its way.
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("sandboxtest: no %s notify for %s within 10s; journal: %+v", status, ref, s.Deliveries(ref))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func newID() string {
	h := randomHex(16)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}
