package features

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cucumber/godog"

	"github.com/bjpay/bjpay-sandbox/signer"
)

// webhook is a merchant's notify endpoint run by the steps of the sandbox's
// own notify features: it answers as the scenario plans and records what
// it received.
type webhook struct {
	srv  *httptest.Server
	mu   sync.Mutex
	plan []int // answers in order; 200 once spent
	got  []receivedNotify
}

type receivedNotify struct {
	header http.Header
	body   []byte
}

func (h *webhook) received() []receivedNotify {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]receivedNotify(nil), h.got...)
}

// notifyWorld adds a webhook to apiWorld for the notify features.
type notifyWorld struct {
	*apiWorld
	api  sandboxAPI
	hook *webhook
}

func initNotifySteps(sc *godog.ScenarioContext, w *apiWorld) {
	n := &notifyWorld{apiWorld: w, api: sandboxAPI{w.target.BaseURL, w.target.Client}}
	sc.After(func(ctx context.Context, _ *godog.Scenario, _ error) (context.Context, error) {
		if n.hook != nil {
			n.hook.srv.Close()
		}
		return ctx, nil
	})
	sc.Step(`^a webhook that answers (\d+)(?: and then (\d+))?$`, n.startWebhook)
	sc.Step(`^the merchant creates a payment with a reference starting "([^"]*)" that notifies the webhook$`, n.createNotifying)
	sc.Step(`^the sandbox clock passes the payment's expiry$`, func(ctx context.Context) error {
		return n.api.passExpiry(ctx, n.target.ClientID, n.ref)
	})
	sc.Step(`^the webhook receives (\d+) notif(?:y|ies)$`, n.receives)
	sc.Step(`^notify (\d+) says "(PAID|EXPIRED|FAILED)"$`, n.says)
	sc.Step(`^every notify is validly signed with the merchant's key$`, func() error { return n.everyVerifies("") })
	sc.Step(`^every notify fails verification with "([^"]+)"$`, n.everyVerifies)
	sc.Step(`^every notify is validly signed but stamped an hour (ago|ahead)$`, n.stampedAnHour)
	sc.Step(`^the notifies carry the same body$`, n.sameBody)
	sc.Step(`^the sandbox journal shows the outcomes "([^"]+)"$`, n.outcomes)
	sc.Step(`^the payment is (PENDING|PAID|EXPIRED|FAILED) on the sandbox$`, n.stored)
}

func (n *notifyWorld) startWebhook(first, then string) error {
	h := &webhook{}
	for _, s := range []string{first, then} {
		if code, err := strconv.Atoi(s); err == nil {
			h.plan = append(h.plan, code)
		}
	}
	h.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.got = append(h.got, receivedNotify{r.Header.Clone(), body})
		status := http.StatusOK
		if len(h.plan) > 0 {
			status, h.plan = h.plan[0], h.plan[1:]
		}
		h.mu.Unlock()
		rw.WriteHeader(status)
	}))
	n.hook = h
	return nil
}

func (n *notifyWorld) createNotifying(ctx context.Context, prefix string) error {
	if n.hook == nil {
		return errors.New("no webhook: a step 'a webhook that answers ...' must come first")
	}
	n.ref = newReference(prefix)
	body := n.exampleBody()
	body["finishNotifyUrl"] = n.hook.srv.URL + "/webhook/bjpay"
	if err := n.post(ctx, "/api/merchant/transaction/create", body); err != nil {
		return err
	}
	return n.answerIs(http.StatusOK, "OK", "Success")
}

// receives waits for n notifies, then a moment more to see there is no
// extra one.
func (n *notifyWorld) receives(count int) error {
	deadline := time.Now().Add(DefaultDeliveryWait)
	for len(n.hook.received()) < count && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if got := n.hook.received(); len(got) != count {
		return fmt.Errorf("expected the webhook to receive %d notify(ies) for %s, got %d:\n%s", count, n.ref, len(got), describe(got))
	}
	return nil
}

func describe(got []receivedNotify) string {
	var b strings.Builder
	for i, r := range got {
		fmt.Fprintf(&b, "  %d: X-Request-Time %s, X-Signature %s\n     %s\n", i+1, r.header.Get(signer.HeaderRequestTime), r.header.Get(signer.HeaderSignature), r.body)
	}
	return b.String()
}

func (n *notifyWorld) says(i int, status string) error {
	got := n.hook.received()
	if i < 1 || i > len(got) {
		return fmt.Errorf("there is no notify %d; the webhook received %d", i, len(got))
	}
	var body struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(got[i-1].body, &body); err != nil || body.Status != status {
		return fmt.Errorf("expected notify %d to say %q, got status %q (%v):\n%s", i, status, body.Status, err, got[i-1].body)
	}
	return nil
}

// everyVerifies checks every notify with signer.VerifyNotify under the
// merchant's key: success when check is "", else that failed check.
func (n *notifyWorld) everyVerifies(check string) error {
	key := signer.Key(n.target.ClientID, n.target.ClientSecret)
	for i, r := range n.hook.received() {
		err := signer.VerifyNotify(key, r.header, r.body)
		var verr *signer.VerifyError
		switch {
		case check == "" && err != nil:
			return fmt.Errorf("expected notify %d to verify, got %v:\n%s", i+1, err, describe([]receivedNotify{r}))
		case check != "" && (!errors.As(err, &verr) || string(verr.Check) != check):
			return fmt.Errorf("expected notify %d to fail verification with %s, got %v:\n%s", i+1, check, err, describe([]receivedNotify{r}))
		}
	}
	return nil
}

func (n *notifyWorld) stampedAnHour(dir string) error {
	if err := n.everyVerifies(""); err != nil {
		return err
	}
	for i, r := range n.hook.received() {
		at, err := time.Parse(signer.TimeLayout, r.header.Get(signer.HeaderRequestTime))
		if err != nil {
			return fmt.Errorf("notify %d: X-Request-Time: %v", i+1, err)
		}
		off := time.Until(at)
		if dir == "ago" {
			off = -off
		}
		if off < 59*time.Minute || off > 61*time.Minute {
			return fmt.Errorf("expected notify %d to be stamped an hour %s, got X-Request-Time %s", i+1, dir, r.header.Get(signer.HeaderRequestTime))
		}
	}
	return nil
}

func (n *notifyWorld) sameBody() error {
	got := n.hook.received()
	for i := 1; i < len(got); i++ {
		if string(got[i].body) != string(got[0].body) {
			return fmt.Errorf("expected the same body in every notify:\n%s", describe(got))
		}
	}
	return nil
}

func (n *notifyWorld) outcomes(ctx context.Context, want string) error {
	var attempts []attempt
	if err := n.api.control(ctx, http.MethodGet, "/deliveries?clientId="+n.target.ClientID+"&referenceNumber="+n.ref, nil, &attempts); err != nil {
		return err
	}
	got := make([]string, len(attempts))
	for i, a := range attempts { // newest first: read back in the order they were made
		got[len(got)-1-i] = a.Outcome
	}
	if strings.Join(got, ", ") != want {
		return fmt.Errorf("expected the journal's outcomes for %s to be %q, got %q", n.ref, want, strings.Join(got, ", "))
	}
	return nil
}

func (n *notifyWorld) stored(ctx context.Context, status string) error {
	var tx struct {
		Status string `json:"status"`
	}
	if err := n.api.control(ctx, http.MethodGet, "/transactions/"+n.ref+"?clientId="+n.target.ClientID, nil, &tx); err != nil {
		return err
	}
	if tx.Status != status {
		return fmt.Errorf("expected payment %s to be %s on the sandbox, got %s", n.ref, status, tx.Status)
	}
	return nil
}
