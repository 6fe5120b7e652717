package mock

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/gorilla/mux"
)

// ControlPrefix is where the sandbox's own API lives, apart from BJPAY's.
const ControlPrefix = "/_sandbox"

// controlRoutes registers the control API: JSON, GET for reading, POST for
// acting. Successes answer the resource itself; failures the sandbox
// envelope ({"code": "<HTTP status>", "message": ...}). On the main router,
// not a subrouter: mux reports a wrong method on a subrouter's path as 404
// instead of 405.
func (s *Sandbox) controlRoutes(c controlRouter) {
	// Health, for container checks and scripts waiting for start-up.
	c.public("/health", s.json(s.ctlHealth)).Methods(http.MethodGet)
	// This API's OpenAPI document, public: it describes, it reveals nothing.
	c.public("/openapi.yaml", http.HandlerFunc(serveOpenAPI)).Methods(http.MethodGet)
	// Counts, for load tests of a webhook endpoint: "were all notifies
	// delivered?" without listing the journal.
	c.guarded("/stats", s.json(s.ctlStats)).Methods(http.MethodGet)

	// Merchants: credentials created on the fly isolate parallel tests.
	c.guarded("/merchants", s.json(s.ctlListMerchants)).Methods(http.MethodGet)
	c.guarded("/merchants", s.json(s.ctlCreateMerchant)).Methods(http.MethodPost)

	// Transactions, and simulating the customer or the channel.
	c.guarded("/transactions", s.json(s.ctlListTransactions)).Methods(http.MethodGet)
	c.guarded("/transactions/{referenceNumber}", s.json(s.ctlGetTransaction)).Methods(http.MethodGet)
	c.guarded("/transactions/{referenceNumber}/{action:pay|fail|expire}", s.json(s.ctlTransition)).Methods(http.MethodPost)
	c.guarded("/transactions/{referenceNumber}/notify", s.json(s.ctlResend)).Methods(http.MethodPost)

	// The delivery journal.
	c.guarded("/deliveries", s.json(s.ctlDeliveries)).Methods(http.MethodGet)

	// The sandbox clock.
	c.guarded("/clock", s.json(s.ctlClock)).Methods(http.MethodGet)
	c.guarded("/clock/advance", s.json(s.ctlAdvance)).Methods(http.MethodPost)
	c.guarded("/clock/set", s.json(s.ctlSetClock)).Methods(http.MethodPost)

	// Scenarios: list, or load a YAML file replacing the user's scenarios.
	c.guarded("/scenarios", s.json(s.ctlScenarios)).Methods(http.MethodGet)
	c.guarded("/scenarios", s.json(s.ctlLoadScenarios)).Methods(http.MethodPost)

	// Back to the state at start.
	c.guarded("/reset", s.json(s.ctlReset)).Methods(http.MethodPost)
}

type controlRouter struct {
	s *Sandbox
	r *mux.Router
}

// guarded registers a control endpoint (or dashboard page) for loopback
// clients, clients presenting the admin token, or everyone when the
// sandbox was started with Options.ExposeControl and no token.
func (c controlRouter) guarded(path string, h http.Handler) *mux.Route {
	s := c.s
	return c.r.HandleFunc(ControlPrefix+path, func(w http.ResponseWriter, r *http.Request) {
		if err := s.admit(w, r); err != nil {
			if !errors.Is(err, errRedirected) {
				s.writeError(w, r, err)
			}
			return
		}
		h.ServeHTTP(w, r)
	})
}

// public registers an endpoint every client may use: it reads or changes
// nothing a merchant's test depends on.
func (c controlRouter) public(path string, h http.Handler) *mux.Route {
	return c.r.Handle(ControlPrefix+path, h)
}

// json turns a control handler, which writes its answer or returns why
// not, into an http.Handler that renders that error.
func (s *Sandbox) json(f func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// adminCookie carries the admin token for a browser.
const adminCookie = "bjpay_sandbox_admin"

// errRedirected: admit answered already (a redirect that sets the cookie).
var errRedirected = errors.New("redirected")

// admit decides whether r may use the control API and the dashboard.
// Tokens are compared as SHA-256 digests in constant time, and never
// appear in an answer or a log.
func (s *Sandbox) admit(w http.ResponseWriter, r *http.Request) error {
	if remoteAddr(r).Unmap().IsLoopback() {
		return nil
	}
	if s.adminHash == nil {
		if s.exposeCtl {
			return nil
		}
		return errorf(KindForbidden, "the control API answers loopback clients only, and this request came from %s; start the sandbox with --admin-token (BJPAY_SANDBOX_ADMIN_TOKEN) to reach it from other hosts with that token", r.RemoteAddr)
	}
	// A browser opening a page with ?token= once gets the cookie, and the
	// token leaves the address bar (and the history) at once.
	if q := r.URL.Query(); r.Method == http.MethodGet && q.Has("token") {
		if !s.isAdminToken(q.Get("token")) {
			return errorf(KindForbidden, "the token in ?token= is not the sandbox's admin token")
		}
		http.SetCookie(w, &http.Cookie{Name: adminCookie, Value: q.Get("token"), Path: ControlPrefix + "/",
			HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
		q.Del("token")
		u := *r.URL
		u.RawQuery = q.Encode()
		http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
		return errRedirected
	}
	token, bearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !bearer {
		token = ""
		if c, err := r.Cookie(adminCookie); err == nil {
			token = c.Value
		}
	}
	switch {
	case token == "":
		w.Header().Set("WWW-Authenticate", `Bearer realm="bjpay-sandbox control API"`)
		return errorf(KindUnauthorized, "the control API needs the admin token from clients other than loopback ones (this one is %s); send \"Authorization: Bearer <token>\", or open a dashboard page with ?token=<token> once", r.RemoteAddr)
	case !s.isAdminToken(token):
		return errorf(KindForbidden, "the admin token sent is not the sandbox's")
	}
	return nil
}

func (s *Sandbox) isAdminToken(token string) bool {
	got := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(got[:], s.adminHash[:]) == 1
}

func writeControl(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
	return nil
}

// decodeControl reads an optional JSON object body strictly: unknown
// fields and anything after the object are errors. It reports whether
// there was a body.
func decodeControl(w http.ResponseWriter, r *http.Request, v any) (bool, error) {
	body, err := readBody(w, r, 64<<10, nil)
	if err != nil {
		return false, err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return false, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return true, errorf(KindInvalid, "request body: %v", err)
	}
	if dec.More() {
		return true, errorf(KindInvalid, "request body has more after the JSON object; expected one object")
	}
	return true, nil
}
