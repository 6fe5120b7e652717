package mock

import (
	"net/http"

	"github.com/bjpay/bjpay-sandbox/mock/store"
	"github.com/gorilla/mux"
)

// Sweep runs the retention's sweep now, as the background one does every
// sweepEvery, and returns what it evicted: tests need not wait for it.
func (s *Sandbox) Sweep() store.Evicted { return s.sweeper.sweep() }

// RouteScope is the scope a guarded route declared ("admin", "any" or
// "merchant"), "" when it declared none: for the router-walk test.
func RouteScope(h http.Handler, route *mux.Route) string {
	return h.(handler).scopes[route].name
}
