package mock_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock"
	"github.com/bjpay/bjpay-sandbox/mock/delivery"
	"github.com/bjpay/bjpay-sandbox/mock/store"
	"github.com/bjpay/bjpay-sandbox/mock/store/memstore"
	"github.com/bjpay/bjpay-sandbox/signer"
)

// failingStore is a store whose writes fail while failing is set, as a
// durable store's do when its disk is full.
type failingStore struct {
	*memstore.Store
	failing atomic.Bool
}

var errDiskFull = errors.New("no space left on device (injected)")

func (f *failingStore) Create(ctx context.Context, tx *store.Transaction) error {
	if f.failing.Load() {
		return errDiskFull
	}
	return f.Store.Create(ctx, tx)
}

func (f *failingStore) Update(ctx context.Context, clientID, ref string, change func(*store.Transaction) ([]delivery.Record, error)) (store.Transaction, error) {
	if !f.failing.Load() {
		return f.Store.Update(ctx, clientID, ref, change)
	}
	tx, err := f.Store.Get(ctx, clientID, ref)
	if err != nil {
		return tx, err
	}
	next := tx
	if _, err := change(&next); err != nil {
		return tx, err
	}
	return tx, errDiskFull
}

func (f *failingStore) AddDeliveries(ctx context.Context, rs []delivery.Record) error {
	if f.failing.Load() {
		return errDiskFull
	}
	return f.Store.AddDeliveries(ctx, rs)
}

func (f *failingStore) AddMerchant(ctx context.Context, m store.Merchant) error {
	if f.failing.Load() {
		return errDiskFull
	}
	return f.Store.AddMerchant(ctx, m)
}

// TestStoreFailureLeavesNothing: a change the store could not save
// answers 503 with Retry-After, and leaves nothing behind: no payment (its
// reference free, no expiry, no scenario step, no notify), no status
// change and no notify, no merchant.
func TestStoreFailureLeavesNothing(t *testing.T) {
	st := &failingStore{Store: memstore.New()}
	clock, _ := mock.NewSandboxClock(mock.ClockVirtual, 1)
	sb, err := mock.New(mock.Options{Config: mock.DefaultConfig(), Store: st, Clock: clock, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	sb.Start()
	defer sb.Close(context.Background())
	h := sb.Handler()
	rc := newReceiver(t)
	createReq := func(ref string) response {
		hd := validHeaders()
		hd.Set("X-Request-Time", time.Now().Format(signer.TimeLayout))
		return do(t, h, http.MethodPost, createPath, hd, with(map[string]any{"referenceNumber": ref, "finishNotifyUrl": rc.URL, "expiredAt": nil}))
	}
	unavailable := func(what string, status int, header http.Header, body string) {
		t.Helper()
		if status != http.StatusServiceUnavailable || header.Get("Retry-After") == "" || !strings.Contains(body, "injected") || !strings.Contains(body, "nothing was changed") {
			t.Errorf("%s while the store fails: %d (Retry-After %q) %s; want 503 saying why and that nothing changed", what, status, header.Get("Retry-After"), body)
		}
	}

	// A create, of a payment the library's PAID- scenario pays at once.
	st.failing.Store(true)
	r := createReq("PAID-1")
	unavailable("create", r.Status, r.Header, r.Body)
	sb.AdvanceClock(48 * time.Hour) // past any expiry
	time.Sleep(50 * time.Millisecond)
	if txs, as := sb.Transactions(""), sb.Deliveries("", ""); len(txs) != 0 || len(as) != 0 || len(rc.all()) != 0 {
		t.Fatalf("after a failed create: %d transactions, %d attempts, %d notifies; want none", len(txs), len(as), len(rc.all()))
	}
	st.failing.Store(false)
	if r := createReq("PAID-1"); r.Status != http.StatusOK {
		t.Fatalf("the same reference once the store works: %d %s; want 200", r.Status, r.Body)
	}
	waitFor(t, "PAID-1's notify", func() bool { return len(rc.all()) == 1 })

	// A status change through the control API, and the hosted page.
	if r := createReq("KEEP-1"); r.Status != http.StatusOK {
		t.Fatalf("create KEEP-1: %d %s", r.Status, r.Body)
	}
	st.failing.Store(true)
	for _, path := range []string{"/_sandbox/transactions/KEEP-1/pay", "/_sandbox/transactions/KEEP-1/fail", "/_sandbox/transactions/PAID-1/notify"} {
		req := newControlRequest(http.MethodPost, path)
		rec := serve(h, req)
		unavailable(path, rec.Code, rec.Header(), rec.Body.String())
	}
	sb.AdvanceClock(48 * time.Hour) // KEEP-1's expiry comes, and cannot be saved either
	time.Sleep(50 * time.Millisecond)
	for _, tx := range sb.Transactions("") {
		if tx.ReferenceNumber == "KEEP-1" && tx.Status != store.StatusPending {
			t.Errorf("KEEP-1 is %s after failed changes, want PENDING", tx.Status)
		}
	}
	if n := len(sb.Deliveries("", "KEEP-1")); n != 0 || len(rc.all()) != 1 {
		t.Errorf("after failed changes: %d attempts for KEEP-1, %d notifies received; want 0 and 1", n, len(rc.all()))
	}

	// A merchant.
	rec := serve(h, newControlRequestBody(http.MethodPost, "/_sandbox/merchants", `{"clientId":"new-shop","clientSecret":"s3cret"}`))
	unavailable("merchant", rec.Code, rec.Header(), rec.Body.String())
	if rec := serve(h, newControlRequest(http.MethodGet, "/_sandbox/merchants")); strings.Contains(rec.Body.String(), "new-shop") {
		t.Errorf("a merchant the store did not save is listed: %s", rec.Body)
	}

	// Once the store works again, so does everything.
	st.failing.Store(false)
	if rec := serve(h, newControlRequest(http.MethodPost, "/_sandbox/transactions/KEEP-1/pay")); rec.Code != http.StatusOK {
		t.Errorf("pay once the store works: %d %s", rec.Code, rec.Body)
	}
	waitFor(t, "KEEP-1's notify", func() bool { return len(rc.all()) == 2 })
}

func newControlRequest(method, path string) *http.Request {
	return newControlRequestBody(method, path, "")
}

func newControlRequestBody(method, path, body string) *http.Request {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Host = sandboxHost
	req.Header.Set("Content-Type", "application/json") // as the README's curl examples send
	req.RemoteAddr = loopbackClient
	return req
}

func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}
