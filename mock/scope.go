package mock

import (
	"context"
	"errors"
	"net/http"

	"github.com/bjpay/bjpay-sandbox/mock/store"
	"github.com/gorilla/mux"
)

// Scopes: which merchant a control request concerns, declared per route
// and checked by the guard (control.go) before any handler runs, so that
// no handler can forget it. [sandbox] BJPAY has no control API.
//
//   - admin: the sandbox as a whole (the global clock, reset, scenario
//     uploads, the merchant list, stats, rotating tokens). A merchant's
//     token is refused.
//   - any: harmless to every token holder (reading the clock and the
//     scenarios, who am I, the dashboard's change counter).
//   - a merchant's: the route concerns the merchant its resolver names —
//     the {clientId} in the path, the owner of the {referenceNumber} or
//     {transactionNumber}, or ?clientId= on a list. A merchant's token is
//     refused (403, naming the scope needed) on another merchant's; a list
//     without ?clientId= is narrowed to its own. The admin reaches all.
//
// For a merchant's token the guard then pins ?clientId= to that merchant,
// so that every lookup the handler makes stays within it.

// scope is a route's declaration.
type scope struct {
	name string // "admin", "any" or "merchant"
	// concerns names the merchant a request concerns, for a merchant's
	// route: "" for every merchant (a list); own when the resource does
	// not exist (the handler answers 404 within own's).
	concerns func(s *Sandbox, r *http.Request, own string) (string, error)
}

var (
	adminScope = scope{name: "admin"}
	anyScope   = scope{name: "any"}
	// pathClient: the {clientId} path variable.
	pathClient = scope{"merchant", func(_ *Sandbox, r *http.Request, _ string) (string, error) {
		return mux.Vars(r)["clientId"], nil
	}}
	// queryClient: ?clientId=, a list's filter; none is every merchant.
	queryClient = scope{"merchant", func(_ *Sandbox, r *http.Request, _ string) (string, error) {
		return r.URL.Query().Get("clientId"), nil
	}}
	// referenceOwner: the merchant whose {referenceNumber} it is (by
	// ?clientId= when given): the caller's own first, else whoever has it.
	referenceOwner = scope{"merchant", func(s *Sandbox, r *http.Request, own string) (string, error) {
		if id := r.URL.Query().Get("clientId"); id != "" {
			return id, nil
		}
		ref := mux.Vars(r)["referenceNumber"]
		for _, id := range append([]string{own}, s.merchants.ids()...) {
			switch _, err := s.store.Get(r.Context(), id, ref); {
			case err == nil:
				return id, nil
			case !errors.Is(err, store.ErrNotFound):
				return "", err
			}
		}
		return own, nil
	}}
	// numberOwner: the merchant whose {transactionNumber} it is.
	numberOwner = scope{"merchant", func(s *Sandbox, r *http.Request, own string) (string, error) {
		tx, err := s.store.GetByNumber(r.Context(), mux.Vars(r)["transactionNumber"])
		if errors.Is(err, store.ErrNotFound) {
			return own, nil
		}
		return tx.ClientID, err
	}}
)

// permit checks that p may use route sc for r, and returns r narrowed to
// p: its principal in the context and, for a merchant, ?clientId= pinned
// to it.
func (s *Sandbox) permit(r *http.Request, sc scope, p principal) (*http.Request, error) {
	r = r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
	if p.isAdmin() || sc.name == "any" {
		return r, nil
	}
	if sc.concerns == nil {
		return r, errorf(KindForbidden, "%s %s needs the scope admin (the sandbox's --admin-token); the token sent has the scope %s", r.Method, r.URL.Path, p.scope())
	}
	owner, err := sc.concerns(s, r, p.clientID)
	if err != nil {
		return r, s.storeFailed("look up whom "+r.URL.Path+" concerns", err)
	}
	if owner != "" && owner != p.clientID {
		return r, errorf(KindForbidden, "%s %s concerns merchant %q: it needs the scope merchant:%s (that merchant's token) or admin; the token sent has the scope %s", r.Method, r.URL.Path, owner, owner, p.scope())
	}
	q := r.URL.Query()
	q.Set("clientId", p.clientID)
	u := *r.URL
	u.RawQuery = q.Encode()
	r.URL = &u
	return r, nil
}

type principalKey struct{}

// principalOf is whom r acts for; the admin for a request the guard did
// not see.
func principalOf(r *http.Request) principal {
	p, _ := r.Context().Value(principalKey{}).(principal)
	return p
}
