package mock_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/delivery"
	"github.com/bjpay/bjpay-sandbox/mock/store"
	"github.com/bjpay/bjpay-sandbox/signer"
)

// TestMerchantClocksAndResets: two merchants share a sandbox. Advancing
// one merchant's clock expires its payments and runs its retries, and
// leaves the other's pending payments and deliveries as they were; the
// global clock then moves only the merchant without a clock of its own;
// resetting one merchant forgets its payments, deliveries and clock, and
// nothing of the other's.
func TestMerchantClocksAndResets(t *testing.T) {
	e := newEngine(t, "")
	rc := newReceiver(t, 500, 500, 500, 500, 500, 500, 500, 500) // every first attempt fails
	const (
		a, aSecret = "shop-a", "shop-a-secret"
		b, bSecret = "shop-b", "shop-b-secret"
	)
	for _, m := range [][2]string{{a, aSecret}, {b, bSecret}} {
		if code, body := e.control(t, http.MethodPost, "/_sandbox/merchants", `{"clientId":"`+m[0]+`","clientSecret":"`+m[1]+`"}`); code != http.StatusCreated {
			t.Fatalf("create merchant %s: %d %s", m[0], code, body)
		}
	}
	create := func(clientID, secret, ref string) {
		t.Helper()
		h := validHeaders()
		h.Set("X-Client-Id", clientID)
		h.Set("X-Client-Secret", secret)
		h.Set("X-Request-Time", time.Now().Format(signer.TimeLayout))
		if r := do(t, e.h, http.MethodPost, createPath, h, with(map[string]any{"referenceNumber": ref, "finishNotifyUrl": rc.URL, "expiredAt": nil})); r.Status != 200 {
			t.Fatalf("create %s for %s: %d %s", ref, clientID, r.Status, r.Body)
		}
	}
	status := func(clientID, ref string) string {
		t.Helper()
		_, body := e.control(t, http.MethodGet, "/_sandbox/transactions/"+ref+"?clientId="+clientID, "")
		var tx struct{ Status string }
		_ = json.Unmarshal([]byte(body), &tx)
		return tx.Status
	}
	attempts := func(clientID string) []string {
		var out []string
		for _, at := range e.sb.Deliveries(clientID, "") {
			out = append(out, at.Outcome)
		}
		return out
	}
	for _, m := range [][2]string{{a, aSecret}, {b, bSecret}} {
		create(m[0], m[1], "PENDING-1")
		create(m[0], m[1], "PAID-1") // the library pays it at once; its notify fails, to be retried in 1 m
	}
	waitFor(t, "both first attempts", func() bool { return len(attempts(a)) == 1 && len(attempts(b)) == 1 })

	// A's clock, 48 h on: its payment expires, its retries run; B's do not.
	if code, body := e.control(t, http.MethodPost, "/_sandbox/merchants/"+a+"/clock/advance", `{"by":"48h"}`); code != 200 || !strings.Contains(body, `"own": true`) {
		t.Fatalf("advance A's clock: %d %s", code, body)
	}
	if got := status(a, "PENDING-1"); got != store.StatusExpired {
		t.Errorf("A's PENDING-1 after A's clock moved 48 h: %s, want EXPIRED", got)
	}
	if got := status(b, "PENDING-1"); got != store.StatusPending {
		t.Errorf("B's PENDING-1 after A's clock moved: %s, want PENDING", got)
	}
	waitFor(t, "A's retry and its expiry notify", func() bool { return len(attempts(a)) >= 3 })
	if got := attempts(b); len(got) != 1 {
		t.Errorf("B's attempts after A's clock moved: %v, want its first only", got)
	}

	// The global clock, 48 h on: B follows it, A (its own clock) does not.
	_, before := e.control(t, http.MethodGet, "/_sandbox/merchants/"+a+"/clock", "")
	e.sb.AdvanceClock(48 * time.Hour)
	if got := status(b, "PENDING-1"); got != store.StatusExpired {
		t.Errorf("B's PENDING-1 after the global clock moved 48 h: %s, want EXPIRED", got)
	}
	if _, after := e.control(t, http.MethodGet, "/_sandbox/merchants/"+a+"/clock", ""); clockNow(t, after).Sub(clockNow(t, before)) > time.Minute {
		t.Errorf("the global advance moved A's own clock: %s then %s", before, after)
	}
	// B's chains run as far as the advance reaches: each of its two
	// notifies delivered, or its next retry due after B's clock. (Which
	// attempts fail depends on the order both merchants' attempts reach the
	// receiver.)
	waitFor(t, "B's notifies delivered or waiting beyond its clock", func() bool {
		_, body := e.control(t, http.MethodGet, "/_sandbox/merchants/"+b+"/clock", "")
		now := clockNow(t, body)
		last := map[string]delivery.Attempt{}
		for _, at := range e.sb.Deliveries(b, "") {
			if at.Attempt > last[at.DeliveryID].Attempt {
				last[at.DeliveryID] = at
			}
		}
		for _, at := range last {
			if at.Outcome != delivery.OutcomeDelivered && (at.NextAttemptAt == nil || !at.NextAttemptAt.After(now)) {
				return false
			}
		}
		return len(last) == 2
	})

	// Reset A: its payments, deliveries and clock go; B's stay.
	bTxs, bAttempts := len(e.sb.Transactions(b)), len(attempts(b))
	if code, body := e.control(t, http.MethodPost, "/_sandbox/merchants/"+a+"/reset", ""); code != 200 {
		t.Fatalf("reset A: %d %s", code, body)
	}
	if n := len(e.sb.Transactions(a)); n != 0 {
		t.Errorf("A has %d transactions after its reset", n)
	}
	if got := attempts(a); len(got) != 0 {
		t.Errorf("A's journal after its reset: %v", got)
	}
	if _, body := e.control(t, http.MethodGet, "/_sandbox/merchants/"+a+"/clock", ""); !strings.Contains(body, `"own": false`) {
		t.Errorf("A's clock after its reset: %s, want the global one", body)
	}
	if n, m := len(e.sb.Transactions(b)), len(attempts(b)); n != bTxs || m != bAttempts {
		t.Errorf("B after A's reset: %d transactions, %d attempts; was %d, %d", n, m, bTxs, bAttempts)
	}
	create(a, aSecret, "PENDING-1") // A's reference is free again, its credentials intact
	if code, _ := e.control(t, http.MethodPost, "/_sandbox/merchants/nobody/reset", ""); code != http.StatusNotFound {
		t.Errorf("reset of an unknown merchant: %d, want 404", code)
	}
}
