package features

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cucumber/godog"

	"github.com/bjpay/bjpay-sandbox/signer"
)

// exchange is one HTTP request and its answer, kept for assertions and for
// error messages that show exactly what was sent and what came back.
type exchange struct {
	method, url string
	reqHeader   http.Header
	reqBody     []byte
	status      int
	header      http.Header
	body        []byte
	latency     time.Duration
	err         error // no answer
}

// sandboxCallTimeout bounds each call to the sandbox: they answer at once,
// but a sandbox that does not must not hold a run forever.
const sandboxCallTimeout = 30 * time.Second

// send makes the request, bounded by timeout, and records the exchange. A
// transport error is kept in x.err, not returned: whether it is a failure
// is the step's call.
func send(ctx context.Context, client *http.Client, timeout time.Duration, method, url string, header http.Header, body []byte) *exchange {
	x := &exchange{method: method, url: url, reqHeader: header, reqBody: body}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, method, url, bytes.NewReader(body))
	if err != nil {
		x.err = err
		return x
	}
	maps.Copy(req.Header, header)
	start := time.Now()
	resp, err := client.Do(req)
	if err == nil {
		defer resp.Body.Close()
		x.status, x.header = resp.StatusCode, resp.Header
		x.body, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	}
	x.latency = time.Since(start)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		x.err = fmt.Errorf("the run was interrupted: %w", context.Cause(ctx))
	case cctx.Err() != nil:
		x.err = fmt.Errorf("no answer within %s", timeout)
	default:
		x.err = err
	}
	if x.err != nil {
		x.status = 0 // a body cut short is no answer
	}
	return x
}

// bjpayHeader is the header of a BJPAY API call: the four documented
// headers, X-Request-Time now, then the overrides.
func bjpayHeader(clientID, clientSecret string, overrides map[string]string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Client-Id", clientID)
	h.Set("X-Client-Secret", clientSecret)
	h.Set(signer.HeaderRequestTime, time.Now().Format(signer.TimeLayout))
	for k, v := range overrides {
		h.Set(k, v)
	}
	return h
}

// String renders the exchange as a transcript, with X-Client-Secret
// redacted.
func (x *exchange) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "  request:  %s", x.request())
	fmt.Fprintf(&b, "  answer:   %s", x.answer())
	return b.String()
}

// request renders what was sent: method, URL, headers (X-Client-Secret
// redacted) and body.
func (x *exchange) request() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", x.method, x.url)
	writeHeaders(&b, x.reqHeader)
	if len(x.reqBody) > 0 {
		fmt.Fprintf(&b, "            %s\n", x.reqBody)
	}
	return b.String()
}

// answer renders what came back: the status, the latency and the body.
func (x *exchange) answer() string {
	if x.status == 0 {
		return fmt.Sprintf("none: %v\n", x.err)
	}
	a := fmt.Sprintf("HTTP %d in %s\n", x.status, x.latency.Round(time.Microsecond))
	if len(x.body) > 0 {
		a += fmt.Sprintf("            %s\n", bytes.TrimSpace(x.body))
	}
	return a
}

func writeHeaders(b *strings.Builder, h http.Header) {
	for _, name := range slices.Sorted(maps.Keys(h)) {
		for _, v := range h[name] {
			if strings.EqualFold(name, "X-Client-Secret") {
				v = "(redacted)"
			}
			fmt.Fprintf(b, "            %s: %s\n", name, v)
		}
	}
}

// sandboxAPI is the sandbox's control API.
type sandboxAPI struct {
	base   string
	client *http.Client
}

// control calls the control API and decodes its JSON answer into out (if
// not nil). Any answer but 2xx is an error showing the exchange.
func (s sandboxAPI) control(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	x := send(ctx, s.client, sandboxCallTimeout, method, strings.TrimRight(s.base, "/")+"/_sandbox"+path, http.Header{"Content-Type": {"application/json"}}, body)
	if x.err != nil || x.status/100 != 2 {
		return fmt.Errorf("the sandbox's control API refused a call:\n%s", x)
	}
	if out != nil {
		if err := json.Unmarshal(x.body, out); err != nil {
			return fmt.Errorf("the sandbox's control API answered something else than expected: %v\n%s", err, x)
		}
	}
	return nil
}

// attempt is one delivery attempt in the sandbox's journal.
type attempt struct {
	DeliveryID      string            `json:"deliveryId"`
	Attempt         int               `json:"attempt"`
	ReferenceNumber string            `json:"referenceNumber"`
	Status          string            `json:"status"`
	Variant         string            `json:"variant"`
	URL             string            `json:"url"`
	SentAt          time.Time         `json:"sentAt"`
	RequestHeaders  map[string]string `json:"requestHeaders"`
	RequestBody     string            `json:"requestBody"`
	ResponseStatus  int               `json:"responseStatus"`
	ResponseBody    string            `json:"responseBody"`
	LatencyMs       float64           `json:"latencyMs"`
	Error           string            `json:"error"`
	Outcome         string            `json:"outcome"`
}

// String shows the notify as it was sent and what the merchant answered.
func (a *attempt) String() string {
	return fmt.Sprintf("  notify sent (%s):\n            %s  merchant answered: %s", a.label(), a.request(), a.answer())
}

// label names the notify: status, reference, variant, how far its
// X-Request-Time was from the moment it was sent, and the delivery.
func (a *attempt) label() string {
	stamp := ""
	switch off := a.stampOffset(); {
	case off < -time.Second:
		stamp = fmt.Sprintf(", X-Request-Time %s before it was sent", (-off).Round(time.Second))
	case off > time.Second:
		stamp = fmt.Sprintf(", X-Request-Time %s after it was sent", off.Round(time.Second))
	}
	return fmt.Sprintf("%s %s, variant %s%s, delivery %s attempt %d", a.Status, a.ReferenceNumber, a.Variant, stamp, a.DeliveryID, a.Attempt)
}

// stampOffset is X-Request-Time minus the time the notify was sent: about
// zero, but for a notify stamped in the past or the future on purpose.
// X-Request-Time has whole seconds, cut short, so it is compared with the
// second the notify was sent in.
func (a *attempt) stampOffset() time.Duration {
	at, err := time.Parse(time.RFC3339, a.RequestHeaders[signer.HeaderRequestTime])
	if err != nil || a.SentAt.IsZero() {
		return 0
	}
	return at.Sub(a.SentAt.Truncate(time.Second))
}

func (a *attempt) request() string {
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s\n", a.URL)
	h := http.Header{}
	for k, v := range a.RequestHeaders {
		h[k] = []string{v}
	}
	writeHeaders(&b, h)
	fmt.Fprintf(&b, "            %s\n", a.RequestBody)
	return b.String()
}

func (a *attempt) answer() string {
	if a.ResponseStatus == 0 {
		return fmt.Sprintf("nothing after %.1f ms: %s\n", a.LatencyMs, a.Error)
	}
	s := fmt.Sprintf("HTTP %d in %.1f ms\n", a.ResponseStatus, a.LatencyMs)
	if body := strings.TrimSpace(a.ResponseBody); body != "" {
		s += fmt.Sprintf("            %s\n", body)
	}
	return s
}

// acknowledged reports whether the merchant answered 2xx.
func (a *attempt) acknowledged() bool { return a.ResponseStatus/100 == 2 }

// waitAttempt polls the journal until an attempt for ref matches, for up to
// limit: notifies are delivered in the background.
func (s sandboxAPI) waitAttempt(ctx context.Context, clientID, ref, what string, limit time.Duration, match func(*attempt) bool) (*attempt, error) {
	deadline := time.Now().Add(limit)
	var seen []attempt
	for {
		seen = seen[:0]
		if err := s.control(ctx, http.MethodGet, "/deliveries?clientId="+clientID+"&referenceNumber="+ref, nil, &seen); err != nil {
			return nil, err
		}
		for i := range seen {
			if seen[i].ReferenceNumber == ref && match(&seen[i]) {
				return &seen[i], nil
			}
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			for i := range seen {
				b.WriteString(seen[i].String())
			}
			return nil, fmt.Errorf("expected the sandbox to deliver %s for %s within %s, but the journal has %d attempt(s) for it:\n%s", what, ref, limit, len(seen), b.String())
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// clockLocks isolate the scenarios tagged @clock: they run alone among
// their merchant's scenarios, because moving its clock expires every
// payment of the merchant due in between. Every other scenario holds its
// merchant's lock shared. The clock moved is the merchant's own (a test
// clock), so other merchants of a shared sandbox, and suites run side by
// side in one test binary, do not wait and are not disturbed.
var clockLocks sync.Map // sandbox base URL and client id → *sync.RWMutex

func clockLock(base, clientID string) *sync.RWMutex {
	l, _ := clockLocks.LoadOrStore(strings.TrimRight(base, "/")+" "+clientID, new(sync.RWMutex))
	return l.(*sync.RWMutex)
}

// clockTag marks a scenario that moves the sandbox clock.
const clockTag = "@clock"

// isolateClock takes clockLock for the scenario and, after a @clock
// scenario, puts the merchant back on the sandbox's global clock, so later
// payments (whose expiredAt the merchant computes from its own clock) are
// not born expired.
func isolateClock(sc *godog.ScenarioContext, api func() sandboxAPI, clientID string) {
	var exclusive bool
	var lock *sync.RWMutex
	sc.Before(func(ctx context.Context, s *godog.Scenario) (context.Context, error) {
		lock = clockLock(api().base, clientID)
		exclusive = false
		for _, t := range s.Tags {
			exclusive = exclusive || t.Name == clockTag
		}
		if exclusive {
			lock.Lock()
		} else {
			lock.RLock()
		}
		return ctx, nil
	})
	sc.After(func(ctx context.Context, s *godog.Scenario, _ error) (context.Context, error) {
		if !exclusive {
			lock.RUnlock()
			return ctx, nil
		}
		defer lock.Unlock()
		err := api().control(context.WithoutCancel(ctx), http.MethodPost, "/merchants/"+url.PathEscape(clientID)+"/clock/reset", nil, nil)
		return ctx, err
	})
}

// passExpiry moves the merchant's clock just past the payment's expiredAt.
func (s sandboxAPI) passExpiry(ctx context.Context, clientID, ref string) error {
	var tx struct {
		ExpiredAt time.Time `json:"expiredAt"`
	}
	if err := s.control(ctx, http.MethodGet, "/transactions/"+ref+"?clientId="+clientID, nil, &tx); err != nil {
		return err
	}
	var clock struct {
		Now time.Time `json:"now"`
	}
	merchantClock := "/merchants/" + url.PathEscape(clientID) + "/clock"
	if err := s.control(ctx, http.MethodGet, merchantClock, nil, &clock); err != nil {
		return err
	}
	by := max(tx.ExpiredAt.Sub(clock.Now)+time.Second, 0)
	return s.control(ctx, http.MethodPost, merchantClock+"/advance", map[string]string{"by": by.String()}, nil)
}
