package mock_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/bjpay/bjpay-sandbox/mock"
	"github.com/gorilla/mux"
)

// controlRoutes walks the sandbox's router for the routes its guard
// protects: every control endpoint and dashboard page, found in the
// router itself so that a new one cannot be left out.
func controlRoutes(t *testing.T, h http.Handler) (routes []struct{ method, path string }) {
	t.Helper()
	walker, ok := h.(interface{ Walk(mux.WalkFunc) error })
	if !ok {
		t.Fatal("the handler does not expose its router's Walk")
	}
	vars := regexp.MustCompile(`\{([a-zA-Z]+)(:[^}]*)?\}`)
	sample := map[string]string{"referenceNumber": "GUARD-1", "action": "pay", "transactionNumber": "SBX2026112400000001", "clientId": demoID}
	err := walker.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		if route.GetName() != "guarded" {
			return nil
		}
		tmpl, err := route.GetPathTemplate()
		if err != nil {
			return err
		}
		path := vars.ReplaceAllStringFunc(tmpl, func(v string) string { return sample[vars.FindStringSubmatch(v)[1]] })
		methods, err := route.GetMethods()
		if err != nil {
			return err
		}
		for _, m := range methods {
			routes = append(routes, struct{ method, path string }{m, path})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) < 17 {
		t.Fatalf("found %d guarded routes; the walk lost some", len(routes))
	}
	return routes
}

// TestGuard: on every control route and dashboard page, a Host that does not
// name the sandbox (DNS rebinding) is 421, a request from another site is
// 403, a body that is not JSON (a simple cross-site form's) is 415 — each
// refused before it changes or reads anything — while the same request as
// the sandbox's own page or curl sends it passes the guard.
func TestGuard(t *testing.T) {
	sb := newSandbox(t, mock.Config{})
	h := sb.Handler()
	before := len(sb.Transactions(""))
	type attack struct {
		name   string
		header map[string]string
		host   string
		body   string
		status int
	}
	attacks := []attack{
		{"DNS rebinding", nil, "attacker.example:8080", "", http.StatusMisdirectedRequest},
		{"rebinding to a name that ends in localhost's", nil, "evil-localhost:8080", "", http.StatusMisdirectedRequest},
		{"another origin", map[string]string{"Origin": "http://attacker.example"}, "", "", http.StatusForbidden},
		{"another port of localhost", map[string]string{"Origin": "http://localhost:3000"}, "", "", http.StatusForbidden},
		{"an opaque origin", map[string]string{"Origin": "null"}, "", "", http.StatusForbidden},
		{"Sec-Fetch-Site cross-site", map[string]string{"Sec-Fetch-Site": "cross-site"}, "", "", http.StatusForbidden},
		{"Sec-Fetch-Site same-site", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "http://localhost:8080"}, "", "", http.StatusForbidden},
		{"cross-site, though the Origin looks right", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "http://localhost:8080"}, "", "", http.StatusForbidden},
	}
	for _, r := range controlRoutes(t, h) {
		cases := attacks
		if r.method == http.MethodPost {
			cases = append(cases,
				attack{"a form's body", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "", `{"by":"48h"}`, http.StatusUnsupportedMediaType},
				attack{"text/plain, as a simple cross-site fetch", map[string]string{"Content-Type": "text/plain"}, "", `{"by":"48h"}`, http.StatusUnsupportedMediaType},
				attack{"no content type", nil, "", `{"by":"48h"}`, http.StatusUnsupportedMediaType})
		}
		for _, a := range cases {
			req := httptest.NewRequest(r.method, r.path, strings.NewReader(a.body))
			req.Host, req.RemoteAddr = sandboxHost, loopbackClient
			if a.host != "" {
				req.Host = a.host
			}
			for k, v := range a.header {
				req.Header.Set(k, v)
			}
			rec := serve(h, req)
			if rec.Code != a.status || !strings.Contains(rec.Body.String(), `"message"`) {
				t.Errorf("%s %s, %s: %d %s; want %d with a message", r.method, r.path, a.name, rec.Code, rec.Body, a.status)
			}
		}
		// The sandbox's own page, and curl, pass the guard (the handler may
		// then answer anything but the guard's statuses).
		for _, ok := range []map[string]string{
			{"Origin": "http://localhost:8080", "Sec-Fetch-Site": "same-origin", "Content-Type": "application/json"},
			{"Content-Type": "application/json"},
		} {
			req := httptest.NewRequest(r.method, r.path, strings.NewReader(""))
			req.Host, req.RemoteAddr = sandboxHost, loopbackClient
			for k, v := range ok {
				req.Header.Set(k, v)
			}
			if rec := serve(h, req); rec.Code == http.StatusMisdirectedRequest || rec.Code == http.StatusForbidden || rec.Code == http.StatusUnsupportedMediaType {
				t.Errorf("%s %s as the sandbox's own page sends it (%v): %d %s", r.method, r.path, ok, rec.Code, rec.Body)
			}
		}
	}
	if after := len(sb.Transactions("")); after != before {
		t.Errorf("the attacks left %d transactions, there were %d", after, before)
	}
}

// TestGuardHosts: the names the control API answers to.
func TestGuardHosts(t *testing.T) {
	sb, err := mock.New(mock.Options{Config: mock.DefaultConfig(), Seed: 1, PublicURL: "https://sandbox.example.com/base", AllowHosts: []string{"sandbox", "Proxy.Internal."}})
	if err != nil {
		t.Fatal(err)
	}
	h := sb.Handler()
	for _, tt := range []struct {
		host   string
		status int
	}{
		{"localhost:8080", 200},
		{"LOCALHOST", 200},
		{"app.localhost:8080", 200},
		{"127.0.0.1:8080", 200},
		{"[::1]:8080", 200},
		{"192.168.1.20:8080", 200}, // an address is no rebinding
		{"sandbox:8080", 200},      // --allow-host
		{"proxy.internal", 200},
		{"sandbox.example.com", 200}, // --public-url
		{"", 200},                    // HTTP/1.0 without Host
		{"sandbox.attacker.example:8080", 421},
		{"example.com", 421},
		{"localhost.attacker.example", 421},
	} {
		req := httptest.NewRequest(http.MethodGet, "/_sandbox/clock", nil)
		req.Host, req.RemoteAddr = tt.host, loopbackClient
		if rec := serve(h, req); rec.Code != tt.status {
			t.Errorf("Host %q: %d %s, want %d", tt.host, rec.Code, rec.Body, tt.status)
		}
	}
	// Public routes answer any host, for probes and customers' phones.
	for _, path := range []string{"/_sandbox/health", "/_sandbox/openapi.yaml", "/_sandbox/static/sandbox.css"} {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Host, req.RemoteAddr = "attacker.example", loopbackClient
		if rec := serve(h, req); rec.Code != http.StatusOK {
			t.Errorf("GET %s from any host: %d, want 200", path, rec.Code)
		}
	}
	for _, bad := range []string{"http://sandbox", "sandbox:8080", "a/b", ""} {
		if _, err := mock.New(mock.Options{AllowHosts: []string{bad}}); err == nil || !strings.Contains(err.Error(), "not a host name") {
			t.Errorf("AllowHosts %q: %v, want an error saying it is not a host name", bad, err)
		}
	}
}
