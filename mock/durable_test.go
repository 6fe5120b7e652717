package mock_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock"
	"github.com/bjpay/bjpay-sandbox/mock/delivery"
	"github.com/bjpay/bjpay-sandbox/mock/store"
	"github.com/bjpay/bjpay-sandbox/mock/store/boltstore"
)

// newDurable builds a sandbox on dir whose clocks stand at testNow, as
// newSandbox does; the caller closes it.
func newDurable(t testing.TB, dir string) *mock.Sandbox {
	t.Helper()
	clock, err := mock.NewSandboxClock(mock.ClockVirtual, 1)
	if err != nil {
		t.Fatal(err)
	}
	clock.Set(testNow)
	st, err := boltstore.Open(dir)
	if err != nil {
		t.Fatalf("boltstore.Open(%s): %v", dir, err)
	}
	sb, err := mock.New(mock.Options{Clock: clock, WallNow: func() time.Time { return testNow }, Seed: 42,
		PublicURL: "http://sandbox.test", Store: st})
	if err != nil {
		st.Close()
		t.Fatalf("mock.New on %s: %v", dir, err)
	}
	sb.Start()
	return sb
}

// switchReceiver answers 500 until healthy is set, then 200.
func switchReceiver(t *testing.T) (*httptest.Server, *atomic.Bool) {
	var healthy atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if healthy.Load() {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)
	return srv, &healthy
}

// ctl calls the control API of h.
func ctl(t *testing.T, h http.Handler, method, path, body string) (int, string) {
	t.Helper()
	return (&engine{h: h}).control(t, method, path, body)
}

func outcomes(sb *mock.Sandbox, outcome string) map[string]bool {
	ids := map[string]bool{}
	for _, a := range sb.Deliveries("", "") {
		if a.Outcome == outcome {
			ids[a.DeliveryID] = true
		}
	}
	return ids
}

func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDurableRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	recv, healthy := switchReceiver(t)
	sb := newDurable(t, dir)
	h := sb.Handler()

	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data dir: %v, mode %v; want 0700", err, fi.Mode().Perm())
	}
	if fi, err := os.Stat(filepath.Join(dir, boltstore.FileName)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("data file: %v; want mode 0600", err)
	}

	if code, body := ctl(t, h, http.MethodPost, "/_sandbox/merchants", `{"clientId":"durable-shop","clientSecret":"durable-secret"}`); code != http.StatusCreated {
		t.Fatalf("create merchant: %d %s", code, body)
	}
	shop := validHeaders()
	shop.Set("X-Client-Id", "durable-shop")
	shop.Set("X-Client-Secret", "durable-secret")

	creates := []struct {
		ref    string
		header http.Header
		pay    bool // through the control API
	}{
		{"PAYME-1", validHeaders(), true},
		{"PAYME-2", shop, true},
		{"FLAKY-1", validHeaders(), false}, // paid at once by its scenario, retries [1s, 2s, 4s, 8s]
		{"KEEP-1", validHeaders(), false},  // stays PENDING
		{"DELAY-1", shop, false},           // paid 2 s after creation: still ahead at the restart
		{"NOURL-1", validHeaders(), true},  // its notify, with no URL, only journalled: the last delivery id
	}
	for _, c := range creates {
		url := any(recv.URL)
		if strings.HasPrefix(c.ref, "NOURL-") {
			url = nil
		}
		r := do(t, h, http.MethodPost, "/api/merchant/transaction/create", c.header, with(map[string]any{"referenceNumber": c.ref, "finishNotifyUrl": url}))
		if r.Status != http.StatusOK {
			t.Fatalf("create %s: %d %s", c.ref, r.Status, r.Body)
		}
		if c.pay {
			if code, body := ctl(t, h, http.MethodPost, "/_sandbox/transactions/"+c.ref+"/pay", ""); code != http.StatusOK {
				t.Fatalf("pay %s: %d %s", c.ref, code, body)
			}
		}
	}
	waitFor(t, "three notifies retrying", func() bool { return len(outcomes(sb, delivery.OutcomeRetrying)) == 3 })
	sb.Close(context.Background())
	wantTxs, wantJournal := asJSON(t, sb.Transactions("")), asJSON(t, sb.Deliveries("", ""))
	usedIDs := map[string]bool{}
	for _, a := range sb.Deliveries("", "") {
		usedIDs[a.DeliveryID] = true
	}
	if n := len(outcomes(sb, delivery.OutcomeInterrupted)); n != 3 {
		t.Errorf("journal after Close: %d deliveries interrupted, want 3", n)
	}

	// The restart: same dir, the receiver healthy now.
	healthy.Store(true)
	sb = newDurable(t, dir)
	defer sb.Close(context.Background())
	h = sb.Handler()
	if got := asJSON(t, sb.Transactions("")); got != wantTxs {
		t.Errorf("transactions after restart:\n got %s\nwant %s", got, wantTxs)
	}
	if got := asJSON(t, sb.Deliveries("", "")); got != wantJournal {
		t.Errorf("journal after restart:\n got %s\nwant %s", got, wantJournal)
	}
	if _, body := ctl(t, h, http.MethodGet, "/_sandbox/merchants", ""); !strings.Contains(body, `"durable-shop"`) {
		t.Errorf("merchant made through the control API is gone: %s", body)
	}
	var st struct {
		Transactions map[string]int
		Backlog      struct{ Queued, Scheduled, InFlight int }
	}
	if _, body := ctl(t, h, http.MethodGet, "/_sandbox/stats", ""); json.Unmarshal([]byte(body), &st) != nil || st.Backlog.Scheduled != 3 {
		t.Errorf("stats after restart: %s; want 3 deliveries scheduled", body)
	}
	if want := map[string]int{"PENDING": 2, "PAID": 4, "FAILED": 0, "EXPIRED": 0}; asJSON(t, st.Transactions) != asJSON(t, want) {
		t.Errorf("transactions by status after restart: %v, want %v", st.Transactions, want)
	}

	// Advancing the clock brings the retries (due 1 s to 1 m after the
	// first attempts) and DELAY-1's payment.
	sb.AdvanceClock(time.Hour)
	waitFor(t, "four notifies delivered", func() bool { return len(outcomes(sb, delivery.OutcomeDelivered)) == 4 })
	for _, a := range sb.Deliveries("", "") {
		if a.Outcome == delivery.OutcomeDelivered && a.ReferenceNumber != "DELAY-1" && a.Attempt != 2 {
			t.Errorf("%s delivered at attempt %d, want 2 (the attempt interrupted by the stop does not count)", a.DeliveryID, a.Attempt)
		}
		if a.ReferenceNumber == "DELAY-1" && usedIDs[a.DeliveryID] {
			t.Errorf("DELAY-1's notify reuses delivery id %s of the first run", a.DeliveryID)
		}
	}
	// A second restart finds the journal as the first run left it, and
	// this run's attempts after it (none overwritten).
	journal := asJSON(t, sb.Deliveries("", ""))
	sb.Close(context.Background())
	sb = newDurable(t, dir)
	defer sb.Close(context.Background())
	h = sb.Handler()
	if got := asJSON(t, sb.Deliveries("", "")); got != journal {
		t.Errorf("journal after the second restart:\n got %s\nwant %s", got, journal)
	}
	// Numbers go on after the stored ones.
	r := post(t, h, "/api/merchant/transaction/create", with(map[string]any{"referenceNumber": "AFTER-1"}))
	var tx struct{ TransactionNumber string }
	_ = json.Unmarshal(r.Data, &tx)
	if !strings.HasSuffix(tx.TransactionNumber, "00000007") {
		t.Errorf("transaction number after restart %q; want the 7th", tx.TransactionNumber)
	}
	// KEEP-1 still expires at its expiredAt.
	sb.AdvanceClock(48 * time.Hour)
	if got, _ := json.Marshal(sb.Transactions("")); !strings.Contains(string(got), `"referenceNumber":"KEEP-1"`) {
		t.Fatal("KEEP-1 lost")
	}
	for _, tx := range sb.Transactions("") {
		if tx.ReferenceNumber == "KEEP-1" && tx.Status != store.StatusExpired {
			t.Errorf("KEEP-1 is %s after its expiredAt, want EXPIRED", tx.Status)
		}
	}

	// Reset empties the file too.
	if code, body := ctl(t, h, http.MethodPost, "/_sandbox/reset", ""); code != http.StatusOK {
		t.Fatalf("reset: %d %s", code, body)
	}
	sb.Close(context.Background())
	sb = newDurable(t, dir)
	defer sb.Close(context.Background())
	if n, j := len(sb.Transactions("")), len(sb.Deliveries("", "")); n != 0 || j != 0 {
		t.Errorf("after reset and restart: %d transactions, %d attempts; want none", n, j)
	}
	if _, body := ctl(t, sb.Handler(), http.MethodGet, "/_sandbox/merchants", ""); strings.Contains(body, "durable-shop") {
		t.Errorf("merchant survived the reset: %s", body)
	}
}
