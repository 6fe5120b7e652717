package mock_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock"
	"github.com/bjpay/bjpay-sandbox/mock/delivery"
	"github.com/bjpay/bjpay-sandbox/mock/store"
	"github.com/bjpay/bjpay-sandbox/signer"
)

// TestControlAPI walks the control API as a test suite would use it.
func TestControlAPI(t *testing.T) {
	e := newEngine(t, "")
	rc := newReceiver(t)
	e.create(t, "CTL-1", rc.URL, nil)
	e.create(t, "CTL-2", rc.URL, nil)

	// A second merchant created on the fly, with the same reference.
	code, body := e.control(t, "POST", "/_sandbox/merchants", `{"notifyUrl":"`+rc.URL+`"}`)
	var m struct{ ClientID, ClientSecret, NotifyURL string }
	if err := json.Unmarshal([]byte(body), &m); code != 201 || err != nil || m.ClientID == "" || m.ClientSecret == "" {
		t.Fatalf("create merchant: %d %s", code, body)
	}
	h := validHeaders()
	h.Set("X-Client-Id", m.ClientID)
	h.Set("X-Client-Secret", m.ClientSecret)
	h.Set("X-Request-Time", time.Now().Format(time.RFC3339))
	if r := do(t, e.h, "POST", createPath, h, with(map[string]any{"referenceNumber": "CTL-1", "expiredAt": nil})); r.Status != 200 {
		t.Fatalf("create by the new merchant: %d %s", r.Status, r.Body)
	}

	tests := []struct {
		name, method, path, body string
		status                   int
		contains                 string
	}{
		{"health", "GET", "/_sandbox/health", "", 200, `"status": "ok"`},
		{"clock", "GET", "/_sandbox/clock", "", 200, `"mode": "virtual"`},
		{"list all", "GET", "/_sandbox/transactions", "", 200, `"referenceNumber": "CTL-2"`},
		{"list by client", "GET", "/_sandbox/transactions?clientId=" + m.ClientID, "", 200, `"clientId": "` + m.ClientID + `"`},
		{"list by status", "GET", "/_sandbox/transactions?status=paid", "", 200, `[]`},
		{"ambiguous reference", "GET", "/_sandbox/transactions/CTL-1", "", 409, "add ?clientId="},
		{"reference with client", "GET", "/_sandbox/transactions/CTL-1?clientId=" + demoID, "", 200, `"status": "PENDING"`},
		{"unknown reference", "GET", "/_sandbox/transactions/NOPE", "", 404, `no transaction with referenceNumber \"NOPE\"`},
		{"resend while pending", "POST", "/_sandbox/transactions/CTL-2/notify", "", 409, "is PENDING"},
		{"fail", "POST", "/_sandbox/transactions/CTL-2/fail", "", 200, `"status": "FAILED"`},
		{"pay after fail", "POST", "/_sandbox/transactions/CTL-2/pay", "", 409, "already FAILED"},
		{"resend", "POST", "/_sandbox/transactions/CTL-2/notify", "", 202, `"status": "FAILED"`},
		{"unknown action", "POST", "/_sandbox/transactions/CTL-2/refund", "", 404, "no control API endpoint"},
		{"wrong method", "DELETE", "/_sandbox/transactions", "", 405, "reads with GET and acts with POST"},
		{"advance bad", "POST", "/_sandbox/clock/advance", `{"by":"tomorrow"}`, 400, `by is \"tomorrow\"`},
		{"advance negative", "POST", "/_sandbox/clock/advance", `{"by":"-1h"}`, 400, "a duration of 0 or more"},
		{"advance unknown field", "POST", "/_sandbox/clock/advance", `{"hours":1}`, 400, `unknown field \"hours\"`},
		{"set bad", "POST", "/_sandbox/clock/set", `{"now":"noon"}`, 400, "RFC 3339"},
		{"merchant with a short id", "POST", "/_sandbox/merchants", `{"clientId":"abc","clientSecret":"s"}`, 201, `"clientId": "abc"`},
		{"merchant id with space", "POST", "/_sandbox/merchants", `{"clientId":"a b"}`, 400, "clientId must be 1 to 128 printable ASCII"},
		{"set year 1", "POST", "/_sandbox/clock/set", `{"now":"0001-01-01T00:00:00Z"}`, 200, `"mode": "virtual"`},
		{"set year 9999", "POST", "/_sandbox/clock/set", `{"now":"9999-12-01T00:00:00Z"}`, 200, `"now": "9999-12-01`},
		{"advance past 9999", "POST", "/_sandbox/clock/advance", `{"by":"2000h"}`, 400, "past the year 9999"},
		{"set back", "POST", "/_sandbox/clock/set", `{"now":"2026-11-24T10:00:00+07:00"}`, 200, `"now": "2026-11-24T10:00:00+07:00"`},
		{"trailing garbage", "POST", "/_sandbox/clock/set", `{"now":"2026-11-24T10:00:00+07:00"} x`, 400, "more after the JSON object"},
		{"merchant taken", "POST", "/_sandbox/merchants", `{"clientId":"` + demoID + `"}`, 409, "exists"},
		{"merchant bad URL", "POST", "/_sandbox/merchants", `{"notifyUrl":"nope"}`, 400, "not an absolute http(s) URL"},
		{"merchants hide secrets", "GET", "/_sandbox/merchants", "", 200, demoID},
		{"scenarios", "GET", "/_sandbox/scenarios", "", 200, `"name": "paid-now"`},
		{"load bad scenarios", "POST", "/_sandbox/scenarios", "scenarios:\n  - name: x\n    colour: red\n", 400, "request-body.yaml:3:5"},
		{"load scenarios", "POST", "/_sandbox/scenarios", "scenarios:\n  - name: mine\n    match: {reference: \"^MINE-\"}\n    timeline: [{after: 0s, status: PAID}]\n", 200, `"name": "mine"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := e.control(t, tt.method, tt.path, tt.body)
			if code != tt.status || !strings.Contains(body, tt.contains) {
				t.Errorf("%s %s: got %d %s\nwant %d containing %s", tt.method, tt.path, code, body, tt.status, tt.contains)
			}
			if strings.Contains(body, demoSecret) || strings.Contains(body, m.ClientSecret) {
				t.Errorf("answer shows a client secret: %s", body)
			}
		})
	}

	// Reset: transactions, journal and on-the-fly merchants are gone.
	if code, body := e.control(t, "POST", "/_sandbox/reset", ""); code != 200 {
		t.Fatalf("reset: %d %s", code, body)
	}
	if _, body := e.control(t, "GET", "/_sandbox/transactions", ""); strings.TrimSpace(body) != "[]" {
		t.Errorf("transactions after reset: %s", body)
	}
	if _, body := e.control(t, "GET", "/_sandbox/deliveries", ""); strings.TrimSpace(body) != "[]" {
		t.Errorf("deliveries after reset: %s", body)
	}
	if _, body := e.control(t, "GET", "/_sandbox/merchants", ""); strings.Contains(body, m.ClientID) {
		t.Errorf("on-the-fly merchant survived the reset: %s", body)
	}
}

// TestCloseInterrupts: Close records every notify it will not deliver.
func TestCloseInterrupts(t *testing.T) {
	e := newEngine(t, "")
	rc := newReceiver(t, 500) // first attempt fails: a retry is pending in a minute
	e.create(t, "PAID-CLOSE", rc.URL, nil)
	waitFor(t, "attempt 1", func() bool { return len(e.sb.Deliveries("", "PAID-CLOSE")) == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	e.sb.Close(ctx)
	got := e.sb.Deliveries("", "PAID-CLOSE")
	if len(got) != 2 || got[1].Outcome != "interrupted" || got[1].Attempt != 2 {
		t.Fatalf("journal after Close: %+v, want attempt 2 recorded as interrupted", got)
	}
}

// TestResetDuringDelivery: an attempt in flight when the sandbox is reset
// is neither journalled nor retried afterwards.
func TestResetDuringDelivery(t *testing.T) {
	e := newEngine(t, "")
	arrived, release := make(chan struct{}, 4), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		w.WriteHeader(500)
	}))
	defer srv.Close()
	e.create(t, "PAID-RESET", srv.URL, nil)
	<-arrived
	e.sb.Reset()
	close(release)
	time.Sleep(50 * time.Millisecond)
	e.sb.AdvanceClock(24 * time.Hour)
	time.Sleep(50 * time.Millisecond)
	if got := e.sb.Deliveries("", ""); len(got) != 0 {
		t.Errorf("journal after reset: %+v, want empty", got)
	}
	select {
	case <-arrived:
		t.Errorf("the merchant was called again after the reset")
	default:
	}
}

// TestAdHocNotify: a notify request with a body sends exactly what it
// asks for, once, and leaves the transaction as it was.
func TestAdHocNotify(t *testing.T) {
	e := newEngine(t, "")
	rc := newReceiver(t, 500) // the first notify is refused, the rest acknowledged
	e.create(t, "ADHOC-1", rc.URL, map[string]any{"paymentCode": "VA-BNI"})

	send := func(body string) (int, map[string]any) {
		t.Helper()
		code, out := e.control(t, "POST", "/_sandbox/transactions/ADHOC-1/notify", body)
		var v map[string]any
		_ = json.Unmarshal([]byte(out), &v)
		if code != 202 {
			t.Logf("answer: %s", out)
		}
		return code, v
	}
	// Refused and not retried: exactly one attempt, given up.
	code, v := send(`{"status":"PAID","variant":"wrong-key","totalAmount":59000,"requestTimeOffset":"-6m","retry":false}`)
	ids, _ := v["deliveryIds"].([]any)
	why, _ := v["why"].(string)
	if code != 202 || len(ids) != 1 || v["status"] != "PAID" || v["variant"] != "wrong-key" || !strings.Contains(why, "key other than md5") {
		t.Fatalf("ad hoc notify: %d %v", code, v)
	}
	waitFor(t, "the ad hoc attempt", func() bool { return len(e.sb.Deliveries(demoID, "ADHOC-1")) == 1 })
	e.sb.AdvanceClock(2 * time.Hour) // a retry would now be due; the expiry (24h) not
	time.Sleep(20 * time.Millisecond)
	if a := e.sb.Deliveries(demoID, "ADHOC-1"); len(a) != 1 || a[0].Outcome != delivery.OutcomeGaveUp || a[0].DeliveryID != ids[0] {
		t.Errorf("attempts %+v; want one, given up, with id %v", a, ids[0])
	}
	got := rc.all()[0]
	if got.Note.TotalAmount != 59000 || got.Note.Status != "PAID" {
		t.Errorf("sent %+v; want totalAmount 59000, PAID", got.Note)
	}
	if err := signer.VerifyNotify(signer.Key("wrong-key", demoKey()), got.Header, got.Body); err != nil {
		t.Errorf("not signed under the wrong key: %v", err)
	}
	at, _ := time.Parse(signer.TimeLayout, got.Header.Get(signer.HeaderRequestTime))
	if off := time.Since(at); off < 6*time.Minute-5*time.Second || off > 6*time.Minute+5*time.Second {
		t.Errorf("X-Request-Time %s is %s old, want about 6m", got.Header.Get(signer.HeaderRequestTime), off)
	}
	if _, body := e.control(t, "GET", "/_sandbox/transactions/ADHOC-1", ""); !strings.Contains(body, `"status": "PENDING"`) {
		t.Errorf("an ad hoc notify changed the transaction: %s", body)
	}

	// A valid one with the stored values verifies under the merchant's key.
	if code, _ := send(`{"status":"EXPIRED"}`); code != 202 {
		t.Fatal(code)
	}
	waitFor(t, "the second notify", func() bool { return len(rc.all()) == 2 })
	if second := rc.all()[1]; signer.VerifyNotify(demoKey(), second.Header, second.Body) != nil || second.Note.Status != "EXPIRED" || second.Note.TotalAmount != 58000 {
		t.Errorf("second notify %+v does not verify as a valid EXPIRED one", second.Note)
	}

	for _, tt := range []struct{ body, want string }{
		{`{}`, "is PENDING; give the status to announce"},
		{`{"status":"PENDING"}`, `status is \"PENDING\"; expected PAID, FAILED or EXPIRED`},
		{`{"status":"PAID","variant":"forged"}`, `unknown notify variant \"forged\"`},
		{`{"status":"PAID","totalAmount":0}`, "totalAmount is 0; expected a positive whole number"},
		{`{"status":"PAID","requestTimeOffset":"yesterday"}`, `requestTimeOffset is \"yesterday\"`},
		{`{"status":"PAID","requestTimeOffset":"48h"}`, "within ±24h"},
		{`{"status":"PAID","colour":"red"}`, `unknown field \"colour\"`},
	} {
		code, out := e.control(t, "POST", "/_sandbox/transactions/ADHOC-1/notify", tt.body)
		if code != 400 || !strings.Contains(out, tt.want) {
			t.Errorf("%s: got %d %s; want 400 saying %s", tt.body, code, out, tt.want)
		}
	}
}

// TestControlLoopbackOnly: without ExposeControl the control API answers
// loopback clients only; health answers everyone, and so does BJPAY's
// surface.
func TestControlLoopbackOnly(t *testing.T) {
	for _, expose := range []bool{false, true} {
		sb, err := mock.New(mock.Options{Config: mock.DefaultConfig(), Seed: 1, ExposeControl: expose})
		if err != nil {
			t.Fatal(err)
		}
		sb.Start()
		t.Cleanup(func() { sb.Close(context.Background()) })
		tests := []struct {
			remote, method, path string
			status               int // without ExposeControl; with it, every request passes the guard
		}{
			{"127.0.0.1:5000", "GET", "/_sandbox/clock", 200},
			{"127.9.9.9:5000", "GET", "/_sandbox/clock", 200},
			{"[::1]:5000", "GET", "/_sandbox/transactions", 200},
			{"[::ffff:127.0.0.1]:5000", "GET", "/_sandbox/deliveries", 200},
			{"172.18.0.1:5000", "GET", "/_sandbox/clock", 403},
			{"[2001:db8::1]:5000", "POST", "/_sandbox/clock/advance", 403},
			{"192.0.2.1:1234", "POST", "/_sandbox/reset", 403},
			{"not-an-address", "GET", "/_sandbox/merchants", 403},
			{"172.18.0.1:5000", "GET", "/_sandbox/health", 200},
			{"172.18.0.1:5000", "POST", "/api/merchant/payment-channel", 415}, // BJPAY surface: its own checks, not the guard
		}
		for _, tt := range tests {
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(`{"by":"1m"}`))
			req.Host = sandboxHost
			if strings.HasPrefix(tt.path, mock.ControlPrefix) {
				req.Header.Set("Content-Type", "application/json") // as the README's curl examples send
			}
			req.RemoteAddr = tt.remote
			rec := httptest.NewRecorder()
			sb.Handler().ServeHTTP(rec, req)
			want := tt.status
			if expose && want == 403 {
				want = 200
			}
			if rec.Code != want {
				t.Errorf("expose=%v %s %s from %s: %d %s, want %d", expose, tt.method, tt.path, tt.remote, rec.Code, rec.Body, want)
			}
			if rec.Code == 403 && !strings.Contains(rec.Body.String(), "--admin-token") {
				t.Errorf("403 does not say how to reach the control API: %s", rec.Body)
			}
		}
	}
}

// TestControlAllow: a 405 on the control API names the methods the path
// takes, as HTTP requires.
func TestControlAllow(t *testing.T) {
	h := newSandbox(t, mock.Config{}).Handler()
	tests := []struct{ method, path, allow string }{
		{"DELETE", "/_sandbox/transactions", "GET"},
		{"GET", "/_sandbox/clock/advance", "POST"},
		{"PUT", "/_sandbox/merchants", "GET, POST"},
		{"PATCH", "/_sandbox/transactions/REF-1/pay", "POST"},
	}
	for _, tt := range tests {
		r := do(t, h, tt.method, tt.path, http.Header{}, nil)
		if r.Status != 405 || r.Header.Get("Allow") != tt.allow {
			t.Errorf("%s %s: %d Allow %q, want 405 Allow %q", tt.method, tt.path, r.Status, r.Header.Get("Allow"), tt.allow)
		}
	}
}

// TestStats: the counts follow transactions and attempts as they change,
// and the backlog empties once every notify is delivered or scheduled.
func TestStats(t *testing.T) {
	e := newEngine(t, "")
	ok := newReceiver(t)
	failing := newReceiver(t, 500)
	stats := func() (s struct {
		Store        string
		Transactions map[string]int
		Attempts     map[string]int
		Backlog      struct{ Queued, Scheduled, InFlight int }
	}) {
		t.Helper()
		code, body := e.control(t, "GET", "/_sandbox/stats", "")
		if code != 200 {
			t.Fatalf("stats: %d %s", code, body)
		}
		if err := json.Unmarshal([]byte(body), &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if got := stats().Store; got != "memory" {
		t.Errorf("stats: store %q; want memory", got)
	}
	e.create(t, "ST-1", ok.URL, nil)
	e.create(t, "ST-2", failing.URL, nil)
	e.create(t, "ST-3", "", nil)
	if got := stats().Transactions; got[store.StatusPending] != 3 || got[store.StatusPaid] != 0 {
		t.Fatalf("after 3 creates: %v, want 3 PENDING", got)
	}
	for _, c := range []string{"ST-1/pay", "ST-2/pay", "ST-3/fail"} {
		if code, body := e.control(t, "POST", "/_sandbox/transactions/"+c, ""); code != 200 {
			t.Fatalf("%s: %d %s", c, code, body)
		}
	}
	waitFor(t, "both attempts", func() bool {
		a := stats().Attempts
		return a[delivery.OutcomeDelivered] == 1 && a[delivery.OutcomeRetrying] == 1
	})
	s := stats()
	want := map[string]int{store.StatusPending: 0, store.StatusPaid: 2, store.StatusFailed: 1, store.StatusExpired: 0}
	if fmt.Sprint(s.Transactions) != fmt.Sprint(want) {
		t.Errorf("transactions %v, want %v", s.Transactions, want)
	}
	// ST-3 has the demo merchant's notify URL, none on the defaults.
	if s.Attempts[delivery.OutcomeNoURL] != 1 || s.Attempts[delivery.OutcomeGaveUp] != 0 {
		t.Errorf("attempts %v, want one no-url and none given up", s.Attempts)
	}
	if s.Backlog.Queued != 0 || s.Backlog.InFlight != 0 || s.Backlog.Scheduled != 1 {
		t.Errorf("backlog %+v, want only ST-2's retry scheduled", s.Backlog)
	}
	if code, body := e.control(t, "POST", "/_sandbox/reset", ""); code != 200 {
		t.Fatalf("reset: %d %s", code, body)
	}
	if s := stats(); s.Transactions[store.StatusPaid] != 0 || s.Attempts[delivery.OutcomeDelivered] != 0 || s.Backlog.Scheduled != 0 {
		t.Errorf("after reset: %+v, want all zero", s)
	}
}

// TestAdminToken: with a token, clients use the control API and the
// dashboard by presenting it (header, or the cookie a dashboard link with
// ?token= sets), loopback ones too, and nothing answers the token back.
func TestAdminToken(t *testing.T) {
	const token = "s3cret-admin-token"
	sb, err := mock.New(mock.Options{Config: mock.DefaultConfig(), Seed: 1, AdminToken: token, ExposeControl: true})
	if err != nil {
		t.Fatal(err)
	}
	sb.Start()
	t.Cleanup(func() { sb.Close(context.Background()) })
	const remote = "172.18.0.1:5000"
	for _, tt := range []struct {
		name           string
		remote, method string
		path           string
		header         map[string]string
		status         int
		location       string // for 303
	}{
		{"loopback needs a token too", "127.0.0.1:5000", "GET", "/_sandbox/clock", nil, 401, ""},
		{"loopback with the token", "127.0.0.1:5000", "GET", "/_sandbox/clock", map[string]string{"Authorization": "Bearer " + token}, 200, ""},
		{"loopback dashboard", "[::1]:5000", "GET", "/_sandbox/", nil, 401, ""},
		{"no token", remote, "GET", "/_sandbox/clock", nil, 401, ""},
		{"no token, dashboard", remote, "GET", "/_sandbox/", nil, 401, ""},
		{"wrong bearer", remote, "GET", "/_sandbox/clock", map[string]string{"Authorization": "Bearer nope"}, 403, ""},
		{"not a bearer", remote, "GET", "/_sandbox/clock", map[string]string{"Authorization": "Basic " + token}, 401, ""},
		{"bearer", remote, "POST", "/_sandbox/clock/advance", map[string]string{"Authorization": "Bearer " + token}, 200, ""},
		{"cookie", remote, "GET", "/_sandbox/", map[string]string{"Cookie": "bjpay_sandbox_token=" + token}, 200, ""},
		{"wrong cookie", remote, "GET", "/_sandbox/", map[string]string{"Cookie": "bjpay_sandbox_token=nope"}, 403, ""},
		{"link with the token", remote, "GET", "/_sandbox/?status=PAID&token=" + token, nil, 303, "/_sandbox/?status=PAID"},
		{"link with a wrong token", remote, "GET", "/_sandbox/?token=nope", nil, 403, ""},
		{"query token on a POST", remote, "POST", "/_sandbox/reset?token=" + token, nil, 401, ""},
		{"public pages stay public", remote, "GET", "/_sandbox/health", nil, 200, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(`{"by":"1m"}`))
			req.Host = sandboxHost
			req.Header.Set("Content-Type", "application/json") // as the README's curl examples send
			req.RemoteAddr = tt.remote
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			sb.Handler().ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("%d %s, want %d", rec.Code, rec.Body, tt.status)
			}
			if strings.Contains(rec.Body.String(), token) || strings.Contains(rec.Header().Get("Location"), token) {
				t.Errorf("the answer shows the token: %v %s", rec.Header(), rec.Body)
			}
			if rec.Code == 401 && rec.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if tt.status == 303 {
				if loc := rec.Header().Get("Location"); loc != tt.location {
					t.Errorf("Location %q, want %q", loc, tt.location)
				}
				c := rec.Result().Cookies()
				if len(c) != 1 || c[0].Value != token || !c[0].HttpOnly || c[0].SameSite != http.SameSiteStrictMode || c[0].Path != "/_sandbox/" {
					t.Errorf("cookie %+v, want the token, HttpOnly, SameSite=Strict, Path=/_sandbox/", c)
				}
			}
		})
	}
}

// TestTokenGuessing: the admin token is at least 16 characters; its
// scheme is read in any case; ten wrong tokens in a minute from one client
// stop that client (not others) for the rest of the minute, the right
// token included; behind a trusted proxy, clients are told apart by
// X-Forwarded-For, which an untrusted peer cannot set for itself.
func TestTokenGuessing(t *testing.T) {
	if _, err := mock.New(mock.Options{AdminToken: "fifteen-chars-x"}); err == nil || !strings.Contains(err.Error(), "at least 16") {
		t.Errorf("a 15-character admin token: %v, want an error asking for 16", err)
	}
	const token = "sixteen-chars-ok"
	sb, err := mock.New(mock.Options{Config: mock.DefaultConfig(), Seed: 1, AdminToken: token, ExposeControl: true, TrustedProxies: []string{"10.0.0.0/8"}})
	if err != nil {
		t.Fatal(err)
	}
	h := sb.Handler()
	get := func(remote, auth, forwarded string) int {
		req := httptest.NewRequest(http.MethodGet, "/_sandbox/clock", nil)
		req.Host, req.RemoteAddr = sandboxHost, remote
		req.Header.Set("Authorization", auth)
		if forwarded != "" {
			req.Header.Set("X-Forwarded-For", forwarded)
		}
		return serve(h, req).Code
	}
	if code := get("172.18.0.1:5000", "bearer "+token, ""); code != http.StatusOK {
		t.Errorf("lower-case scheme: %d, want 200", code)
	}
	if code := get("172.18.0.1:5000", "BEARER  "+token, ""); code != http.StatusOK {
		t.Errorf("upper-case scheme, two spaces: %d, want 200", code)
	}
	for i := range 10 {
		if code := get("172.18.0.2:5000", "Bearer wrong-token-"+strconv.Itoa(i), ""); code != http.StatusForbidden {
			t.Fatalf("wrong token %d: %d, want 403", i+1, code)
		}
	}
	if code := get("172.18.0.2:5001", "Bearer "+token, ""); code != http.StatusTooManyRequests {
		t.Errorf("the right token after ten wrong ones: %d, want 429", code)
	}
	if code := get("172.18.0.3:5000", "Bearer "+token, ""); code != http.StatusOK {
		t.Errorf("another client: %d, want 200", code)
	}
	// Behind the proxy 10.0.0.1: ten wrong tokens from one forwarded client.
	for i := range 10 {
		get("10.0.0.1:4000", "Bearer wrong-"+strconv.Itoa(i), "198.51.100.7")
	}
	if code := get("10.0.0.1:4000", "Bearer "+token, "198.51.100.7"); code != http.StatusTooManyRequests {
		t.Errorf("the guessing client behind the proxy: %d, want 429", code)
	}
	if code := get("10.0.0.1:4000", "Bearer "+token, "198.51.100.8"); code != http.StatusOK {
		t.Errorf("another client behind the same proxy: %d, want 200", code)
	}
	// An untrusted peer's X-Forwarded-For is not believed: it is still 172.18.0.2.
	if code := get("172.18.0.2:5002", "Bearer "+token, "192.0.2.99"); code != http.StatusTooManyRequests {
		t.Errorf("a stopped client naming another in X-Forwarded-For: %d, want 429", code)
	}
}

// TestClockAtTheEndOfTime: with the clock set near the year 9999, a create
// whose expiry would pass it is refused, and the lists still answer JSON.
func TestClockAtTheEndOfTime(t *testing.T) {
	e := newEngine(t, "")
	if code, body := e.control(t, http.MethodPost, "/_sandbox/clock/set", `{"now":"9999-12-31T12:00:00Z"}`); code != http.StatusOK {
		t.Fatalf("set the clock: %d %s", code, body)
	}
	h := validHeaders()
	h.Set("X-Request-Time", time.Now().Format(time.RFC3339))
	r := do(t, e.h, http.MethodPost, createPath, h, with(map[string]any{"referenceNumber": "END-1", "expiredAt": nil}))
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "past the year 9999") {
		t.Errorf("create at the end of time: %d %s; want 400 saying why", r.Status, r.Body)
	}
	for _, path := range []string{"/_sandbox/transactions", "/_sandbox/deliveries", "/_sandbox/stats", "/_sandbox/clock"} {
		code, body := e.control(t, http.MethodGet, path, "")
		if code != http.StatusOK || !json.Valid([]byte(body)) || strings.TrimSpace(body) == "" {
			t.Errorf("GET %s at the end of time: %d %q; want 200 with JSON", path, code, body)
		}
	}
}
