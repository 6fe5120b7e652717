package mock

import (
	"net/http"

	"github.com/gorilla/mux"
)

// RouteScope is the scope a guarded route declared ("admin", "any" or
// "merchant"), "" when it declared none: for the router-walk test.
func RouteScope(h http.Handler, route *mux.Route) string {
	return h.(handler).scopes[route].name
}
