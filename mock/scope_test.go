package mock_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock"
	"github.com/bjpay/bjpay-sandbox/mock/store"
	"github.com/bjpay/bjpay-sandbox/mock/store/boltstore"
	"github.com/gorilla/mux"
)

const scopeAdminToken = "scope-test-admin-token"

// asClient sends one control request with token ("" for none) from
// remote, and answers the status and body.
func asClient(h http.Handler, remote, token, method, path, body string) (int, string) {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Host, req.RemoteAddr = sandboxHost, remote
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := serve(h, req)
	return rec.Code, rec.Body.String()
}

// twoMerchants is a sandbox with an admin token shared by merchant A (the
// configured demo merchant, whose token comes from a rotation) and
// merchant B (made through the control API), each with a payment of its
// own and one with the reference both use.
type twoMerchants struct {
	sb           *mock.Sandbox
	h            http.Handler
	a, b         string // client ids
	tokA, tokB   string
	txA          string // A's transaction number of SCOPE-A
	secretB, log string
	logs         *bytes.Buffer
}

func newTwoMerchants(t *testing.T, st store.Store) *twoMerchants {
	t.Helper()
	clock, err := mock.NewSandboxClock(mock.ClockVirtual, 1)
	if err != nil {
		t.Fatal(err)
	}
	clock.Set(testNow)
	logs := &bytes.Buffer{}
	sb, err := mock.New(mock.Options{Config: mock.DefaultConfig(), Clock: clock, WallNow: func() time.Time { return testNow },
		Seed: 1, AdminToken: scopeAdminToken, Store: st, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	sb.Start()
	t.Cleanup(func() { sb.Close(context.Background()) })
	m := &twoMerchants{sb: sb, h: sb.Handler(), a: demoID, logs: logs}
	code, body := asClient(m.h, loopbackClient, scopeAdminToken, "POST", "/_sandbox/merchants/"+demoID+"/token", "")
	var rot struct{ ClientID, Token string }
	if err := json.Unmarshal([]byte(body), &rot); code != 200 || err != nil || rot.ClientID != demoID {
		t.Fatalf("rotate A's token: %d %s", code, body)
	}
	m.tokA = rot.Token
	code, body = asClient(m.h, loopbackClient, scopeAdminToken, "POST", "/_sandbox/merchants", `{"name":"B"}`)
	var b struct{ ClientID, ClientSecret, Token string }
	if err := json.Unmarshal([]byte(body), &b); code != 201 || err != nil || b.Token == "" {
		t.Fatalf("create B: %d %s", code, body)
	}
	m.b, m.tokB, m.secretB = b.ClientID, b.Token, b.ClientSecret
	for _, tok := range []string{m.tokA, m.tokB} {
		if !regexp.MustCompile(`^sbxtok_[0-9a-f]{40}$`).MatchString(tok) {
			t.Fatalf("token %q is not sbxtok_ and 40 hex digits (160 bits)", tok)
		}
	}
	create := func(id, secret, ref string) string {
		hd := validHeaders()
		hd.Set("X-Client-Id", id)
		hd.Set("X-Client-Secret", secret)
		r := do(t, m.h, "POST", createPath, hd, with(map[string]any{"referenceNumber": ref, "finishNotifyUrl": nil}))
		var tx struct{ TransactionNumber string }
		if err := json.Unmarshal(r.Data, &tx); r.Status != 200 || err != nil {
			t.Fatalf("create %s by %s: %d %s", ref, id, r.Status, r.Body)
		}
		return tx.TransactionNumber
	}
	m.txA = create(m.a, demoSecret, "SCOPE-A")
	create(m.b, m.secretB, "SCOPE-B")
	create(m.a, demoSecret, "SCOPE-BOTH")
	create(m.b, m.secretB, "SCOPE-BOTH")
	return m
}

type guardedRoute struct{ method, template, scope string }

// guardedRoutes walks the router for every route guarded registered, with
// the scope it declared.
func guardedRoutes(t *testing.T, h http.Handler) []guardedRoute {
	t.Helper()
	var out []guardedRoute
	err := h.(interface{ Walk(mux.WalkFunc) error }).Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		if route.GetName() != "guarded" {
			return nil
		}
		tmpl, err := route.GetPathTemplate()
		if err != nil {
			return err
		}
		methods, err := route.GetMethods()
		if err != nil {
			return err
		}
		for _, m := range methods {
			out = append(out, guardedRoute{m, tmpl, mock.RouteScope(h, route)})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 22 {
		t.Fatalf("found %d guarded routes; the walk lost some", len(out))
	}
	return out
}

// TestScopes walks every guarded route of a sandbox two merchants share:
// each declares a scope; merchant B's token on merchant A's resources is
// refused with 403 naming the scope needed, and so is a merchant's token
// on the sandbox's global routes; A's token reaches A's own; lists with
// B's token show B's own only. A new route (the per-merchant clock, reset)
// is covered as soon as it is registered: one without a scope fails here.
func TestScopes(t *testing.T) {
	m := newTwoMerchants(t, nil)
	vars := regexp.MustCompile(`\{([a-zA-Z]+)(:[^}]*)?\}`)
	ofA := map[string]string{"clientId": m.a, "referenceNumber": "SCOPE-A", "transactionNumber": m.txA, "action": "pay"}
	pathOf := func(r guardedRoute, of map[string]string) string {
		p := vars.ReplaceAllStringFunc(r.template, func(v string) string { return of[vars.FindStringSubmatch(v)[1]] })
		if r.scope == "merchant" && !strings.Contains(r.template, "{") {
			p += "?clientId=" + of["clientId"] // a list, asked for A's
		}
		return p
	}
	refused := func(code int) bool { return code == 401 || code == 403 }
	routes := guardedRoutes(t, m.h)
	// A's token resets A's payments on POST /merchants/{clientId}/reset:
	// that route goes last, so the others still find A's.
	resets := func(r guardedRoute) int {
		if strings.HasSuffix(r.template, "}/reset") {
			return 1
		}
		return 0
	}
	slices.SortStableFunc(routes, func(x, y guardedRoute) int { return resets(x) - resets(y) })
	count := map[string]int{}
	for _, r := range routes {
		count[r.scope]++
	}
	t.Logf("%d guarded routes by scope: %v", len(routes), count)
	paidChecked := false
	for _, r := range routes {
		if resets(r) == 1 && !paidChecked { // before A resets its payments
			paidChecked = true
			if code, body := asClient(m.h, loopbackClient, scopeAdminToken, "GET", "/_sandbox/transactions/SCOPE-A", ""); code != 200 || !strings.Contains(body, `"status": "PAID"`) {
				t.Errorf("A's SCOPE-A after A paid it and B was refused: %d %s", code, body)
			}
		}
		name := r.method + " " + r.template
		path := pathOf(r, ofA)
		code, body := asClient(m.h, loopbackClient, m.tokB, r.method, path, "")
		switch r.scope {
		case "":
			t.Errorf("%s declares no scope: give guarded one (scope.go)", name)
		case "admin":
			if code != 403 || !strings.Contains(body, "needs the scope admin") {
				t.Errorf("%s with a merchant's token: %d %s; want 403 saying it needs the scope admin", name, code, body)
			}
		case "any":
			if refused(code) {
				t.Errorf("%s with a merchant's token: %d %s; want it answered", name, code, body)
			}
		case "merchant":
			if want := "needs the scope merchant:" + m.a; code != 403 || !strings.Contains(body, want) {
				t.Errorf("%s on A's with B's token: %d %s; want 403 saying %q", name, code, body, want)
			}
			if code, body := asClient(m.h, loopbackClient, m.tokA, r.method, path, ""); refused(code) {
				t.Errorf("%s on A's with A's token: %d %s; want it answered", name, code, body)
			}
		default:
			t.Errorf("%s declares the unknown scope %q", name, r.scope)
		}
		if r.method == http.MethodGet { // the admin reads everything
			if code, body := asClient(m.h, loopbackClient, scopeAdminToken, r.method, path, ""); refused(code) {
				t.Errorf("%s with the admin token: %d %s; want it answered", name, code, body)
			}
		}
	}

	// Lists without ?clientId= are the merchant's own; a reference both
	// merchants use is the caller's.
	for _, path := range []string{"/_sandbox/transactions", "/_sandbox/", "/_sandbox/deliveries", "/_sandbox/transactions/SCOPE-BOTH"} {
		code, body := asClient(m.h, loopbackClient, m.tokB, "GET", path, "")
		if code != 200 || strings.Contains(body, "SCOPE-A") || strings.Contains(body, m.a) {
			t.Errorf("GET %s with B's token: %d, showing A's: %.300s", path, code, body)
		}
	}
	if code, body := asClient(m.h, loopbackClient, m.tokB, "GET", "/_sandbox/transactions/SCOPE-BOTH", ""); !strings.Contains(body, m.b) {
		t.Errorf("B's SCOPE-BOTH: %d %s; want B's own", code, body)
	}

	// Tokens are never logged.
	for _, tok := range []string{m.tokA, m.tokB, scopeAdminToken} {
		if strings.Contains(m.logs.String(), tok) {
			t.Errorf("the log shows a token:\n%s", m.logs)
		}
	}
}

// TestMerchantTokens: who a token stands for, on loopback and elsewhere,
// with and without an admin token; a rotation invalidates the old token at
// once; wrong merchant tokens count against the guessing limit.
func TestMerchantTokens(t *testing.T) {
	m := newTwoMerchants(t, nil)
	const remote = "192.0.2.7:5000"
	whoami := func(remote, token string) (int, string) {
		return asClient(m.h, remote, token, "GET", "/_sandbox/whoami", "")
	}
	for _, tt := range []struct {
		name, remote, token string
		status              int
		contains            string
	}{
		{"loopback without a token, once there is an admin token", loopbackClient, "", 401, "loopback ones included"},
		{"loopback with the admin token", loopbackClient, scopeAdminToken, 200, `"scope": "admin"`},
		{"loopback with A's token", loopbackClient, m.tokA, 200, `"clientId": "` + m.a + `"`},
		{"another host with B's token", remote, m.tokB, 200, `"clientId": "` + m.b + `"`},
		{"a token of nobody", remote, "sbxtok_" + strings.Repeat("0", 40), 403, "neither the sandbox's admin token nor a merchant's"},
	} {
		if code, body := whoami(tt.remote, tt.token); code != tt.status || !strings.Contains(body, tt.contains) {
			t.Errorf("%s: %d %s; want %d with %q", tt.name, code, body, tt.status, tt.contains)
		}
	}

	// Rotation: the old token stops at once, the new one works.
	code, body := asClient(m.h, loopbackClient, scopeAdminToken, "POST", "/_sandbox/merchants/"+m.a+"/token", "")
	var rot struct{ Token string }
	if err := json.Unmarshal([]byte(body), &rot); code != 200 || err != nil || rot.Token == m.tokA {
		t.Fatalf("rotate: %d %s", code, body)
	}
	if code, _ := whoami(loopbackClient, m.tokA); code != 403 {
		t.Errorf("A's old token after the rotation: %d, want 403", code)
	}
	if code, body := whoami(loopbackClient, rot.Token); code != 200 || !strings.Contains(body, m.a) {
		t.Errorf("A's new token: %d %s", code, body)
	}
	if code, body := asClient(m.h, loopbackClient, rot.Token, "POST", "/_sandbox/merchants/"+m.a+"/token", ""); code != 403 {
		t.Errorf("a merchant rotating its own token: %d %s; want 403 (admin only)", code, body)
	}

	// Guessing merchant tokens is limited as guessing the admin's is.
	const guesser = "198.51.100.9:5000"
	for range 10 {
		whoami(guesser, "sbxtok_"+strings.Repeat("1", 40))
	}
	if code, _ := whoami(guesser, m.tokB); code != http.StatusTooManyRequests {
		t.Errorf("B's right token after 10 wrong ones: %d, want 429", code)
	}

	// Without an admin token, loopback stays the admin; a merchant's token
	// still narrows what it sees, and opens the control API to other hosts.
	open := newSandbox(t, mock.Config{})
	code, body = asClient(open.Handler(), loopbackClient, "", "POST", "/_sandbox/merchants", `{}`)
	var c struct{ ClientID, Token string }
	if err := json.Unmarshal([]byte(body), &c); code != 201 || err != nil {
		t.Fatalf("create: %d %s", code, body)
	}
	for _, tt := range []struct {
		name, remote, token string
		status              int
		contains            string
	}{
		{"loopback without a token", loopbackClient, "", 200, `"scope": "admin"`},
		{"loopback with a merchant's token", loopbackClient, c.Token, 200, `"clientId": "` + c.ClientID + `"`},
		{"another host with a merchant's token", remote, c.Token, 200, `"clientId": "` + c.ClientID + `"`},
		{"another host without a token", remote, "", 403, "loopback clients only"},
	} {
		if code, body := asClient(open.Handler(), tt.remote, tt.token, "GET", "/_sandbox/whoami", ""); code != tt.status || !strings.Contains(body, tt.contains) {
			t.Errorf("no admin token, %s: %d %s; want %d with %q", tt.name, code, body, tt.status, tt.contains)
		}
	}
}

// TestTokensStoredHashed: the store keeps a token's SHA-256 digest, never
// the token, and a durable store keeps it (and the relay) across a
// restart.
func TestTokensStoredHashed(t *testing.T) {
	dir := t.TempDir()
	st, err := boltstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := newTwoMerchants(t, st)
	if code, body := asClient(m.h, loopbackClient, m.tokB, "POST", "/_sandbox/merchants/"+m.b+"/relay", `{"on":true}`); code != 200 {
		t.Fatalf("relay on: %d %s", code, body)
	}
	m.sb.Close(context.Background())
	file, err := os.ReadFile(filepath.Join(dir, boltstore.FileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{m.tokA, m.tokB} {
		digest := sha256.Sum256([]byte(tok))
		if bytes.Contains(file, []byte(tok)) || !bytes.Contains(file, []byte(hex.EncodeToString(digest[:]))) {
			t.Errorf("the data file holds the token itself, or not its SHA-256 digest")
		}
	}
	again := newDurable(t, dir)
	defer again.Close(context.Background())
	for _, tt := range []struct{ token, want string }{{m.tokA, m.a}, {m.tokB, m.b}} {
		if code, body := asClient(again.Handler(), "192.0.2.7:5000", tt.token, "GET", "/_sandbox/whoami", ""); code != 200 || !strings.Contains(body, tt.want) {
			t.Errorf("a token after the restart: %d %s; want %s's", code, body, tt.want)
		}
	}
	if code, body := asClient(again.Handler(), loopbackClient, "", "GET", "/_sandbox/merchants/"+m.b+"/relay", ""); code != 200 || !strings.Contains(body, `"on": true`) {
		t.Errorf("B's relay after the restart: %d %s; want on", code, body)
	}
}
