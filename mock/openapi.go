package mock

import (
	_ "embed"
	"net/http"
	"slices"
)

// openAPI is the OpenAPI 3.1 document (YAML) of both HTTP surfaces the
// sandbox serves: BJPAY's merchant API and the control API under /_sandbox,
// plus the notify webhook. It is embedded so that GET /_sandbox/openapi.yaml
// always describes the running binary; openapi_test.go keeps it in step with
// the router and with real answers.
//
//go:embed openapi.yaml
var openAPI []byte

// OpenAPI returns a copy of the document.
func OpenAPI() []byte { return slices.Clone(openAPI) }

// serveOpenAPI answers GET /_sandbox/openapi.yaml with the embedded document.
func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	// application/yaml is the media type RFC 9512 registers for YAML;
	// text/yaml and application/x-yaml are the unregistered older spellings.
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(openAPI)
}
