package mock

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/gorilla/mux"
)

// ControlPrefix is where the sandbox's own API lives, apart from BJPAY's.
const ControlPrefix = "/_sandbox"

// controlRoutes registers the control API: JSON, GET for reading, POST for
// acting. Successes answer the resource itself; failures the sandbox
// envelope ({"code": "<HTTP status>", "message": ...}). On the main router,
// not a subrouter: mux reports a wrong method on a subrouter's path as 404
// instead of 405. Each guarded route declares its scope (scope.go): whom a
// merchant's token may reach there.
func (s *Sandbox) controlRoutes(c controlRouter) {
	// Health, for container checks and scripts waiting for start-up.
	c.public("/health", s.json(s.ctlHealth)).Methods(http.MethodGet)
	// This API's OpenAPI document, public: it describes, it reveals nothing.
	c.public("/openapi.yaml", http.HandlerFunc(serveOpenAPI)).Methods(http.MethodGet)
	// Counts, for load tests of a webhook endpoint: "were all notifies
	// delivered?" without listing the journal.
	c.guarded("/stats", adminScope, s.json(s.ctlStats)).Methods(http.MethodGet)
	// Whom the token sent stands for: the admin, or a merchant.
	c.guarded("/whoami", anyScope, s.json(s.ctlWhoami)).Methods(http.MethodGet)

	// Merchants: credentials created on the fly isolate parallel tests.
	c.guarded("/merchants", adminScope, s.json(s.ctlListMerchants)).Methods(http.MethodGet)
	c.guarded("/merchants", adminScope, s.json(s.ctlCreateMerchant)).Methods(http.MethodPost)
	// A merchant's token, made anew: the old one stops working.
	c.guarded("/merchants/{clientId}/token", adminScope, s.json(s.ctlRotateToken)).Methods(http.MethodPost)
	// A merchant's relay: its notifies to its listener (bjpay-sandbox listen).
	c.guarded("/merchants/{clientId}/relay", pathClient, s.json(s.ctlRelay)).Methods(http.MethodGet)
	c.guarded("/merchants/{clientId}/relay", pathClient, s.json(s.ctlSetRelay)).Methods(http.MethodPost)
	// The listener's WebSocket: connecting switches the merchant's relay on.
	c.guarded("/listen", queryClient, s.json(s.ctlListen)).Methods(http.MethodGet)

	// Transactions, and simulating the customer or the channel.
	c.guarded("/transactions", queryClient, s.json(s.ctlListTransactions)).Methods(http.MethodGet)
	c.guarded("/transactions/{referenceNumber}", referenceOwner, s.json(s.ctlGetTransaction)).Methods(http.MethodGet)
	c.guarded("/transactions/{referenceNumber}/{action:pay|fail|expire}", referenceOwner, s.json(s.ctlTransition)).Methods(http.MethodPost)
	c.guarded("/transactions/{referenceNumber}/notify", referenceOwner, s.json(s.ctlResend)).Methods(http.MethodPost)

	// The delivery journal.
	c.guarded("/deliveries", queryClient, s.json(s.ctlDeliveries)).Methods(http.MethodGet)

	// The global clock, and each merchant's: its own once advanced or set
	// (test clocks for a shared sandbox), the global one again after reset.
	// Any token reads the global clock; only the admin moves it, since it
	// moves every merchant without a clock of its own.
	c.guarded("/clock", anyScope, s.json(s.ctlClock)).Methods(http.MethodGet)
	c.guarded("/clock/advance", adminScope, s.json(s.ctlAdvance)).Methods(http.MethodPost)
	c.guarded("/clock/set", adminScope, s.json(s.ctlSetClock)).Methods(http.MethodPost)
	c.guarded("/merchants/{clientId}/clock", pathClient, s.json(s.ctlMerchantClock)).Methods(http.MethodGet)
	c.guarded("/merchants/{clientId}/clock/advance", pathClient, s.json(s.ctlMerchantAdvance)).Methods(http.MethodPost)
	c.guarded("/merchants/{clientId}/clock/set", pathClient, s.json(s.ctlMerchantSetClock)).Methods(http.MethodPost)
	c.guarded("/merchants/{clientId}/clock/reset", pathClient, s.json(s.ctlMerchantResetClock)).Methods(http.MethodPost)
	// One merchant back to a clean slate: its payments, deliveries, clock.
	c.guarded("/merchants/{clientId}/reset", pathClient, s.json(s.ctlResetMerchant)).Methods(http.MethodPost)

	// Scenarios: list, or load a YAML file replacing the user's scenarios.
	c.guarded("/scenarios", anyScope, s.json(s.ctlScenarios)).Methods(http.MethodGet)
	c.guarded("/scenarios", adminScope, s.json(s.ctlLoadScenarios), yamlBody...).Methods(http.MethodPost)

	// Back to the state at start.
	c.guarded("/reset", adminScope, s.json(s.ctlReset)).Methods(http.MethodPost)
}

type controlRouter struct {
	s      *Sandbox
	r      *mux.Router
	scopes map[*mux.Route]scope // each guarded route's, for the router-walk test
}

// guarded registers a control endpoint (or dashboard page) of scope sc:
// for requests that name the sandbox and come from no other site
// (guard.go), from clients admit lets in (admit.go), which sc lets reach
// what they ask for (scope.go). A body must be of one of bodyTypes (JSON
// when none are given).
func (c controlRouter) guarded(path string, sc scope, h http.Handler, bodyTypes ...string) *mux.Route {
	s := c.s
	if len(bodyTypes) == 0 {
		bodyTypes = jsonBody
	}
	route := c.r.Name(guardedRoute).HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := s.checkHost(r)
		if err == nil {
			err = checkSite(r)
		}
		var p principal
		if err == nil {
			p, err = s.admit(w, r)
		}
		if err == nil {
			err = checkCSRF(r)
		}
		if err == nil {
			err = checkBody(r, bodyTypes)
		}
		if err == nil {
			r, err = s.permit(r, sc, p)
		}
		if err != nil {
			if !errors.Is(err, errRedirected) {
				s.writeError(w, r, err)
			}
			return
		}
		h.ServeHTTP(w, r)
	}).Path(ControlPrefix + path)
	c.scopes[route] = sc
	return route
}

// guardedRoute names the routes guarded registers, so a test walking the
// router finds them all.
const guardedRoute = "guarded"

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

// writeControl answers v as indented JSON. It is encoded before anything is
// written, so a value that cannot be encoded is an error to render, never
// a 200 with half a body.
func writeControl(w http.ResponseWriter, status int, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode the answer: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
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
