package mock_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gorilla/mux"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	"github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
	"github.com/pb33f/libopenapi/orderedmap"

	"github.com/bjpay/bjpay-sandbox/mock"
	"github.com/bjpay/bjpay-sandbox/signer"
)

// openAPI parses the embedded document into its model.
func openAPI(t *testing.T) (libopenapi.Document, *v3.Document) {
	t.Helper()
	doc, err := libopenapi.NewDocument(mock.OpenAPI())
	if err != nil {
		t.Fatalf("mock/openapi.yaml does not parse: %v", err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatalf("mock/openapi.yaml does not build an OpenAPI 3 model: %v", err)
	}
	return doc, &model.Model
}

// validatorOptions make the validator stricter than its defaults: formats
// (date-time, email) are checked, and a property, query parameter or header
// the document does not declare is an error even where the schema allows
// more, so an undocumented field in an answer fails the test.
var validatorOptions = []config.Option{config.WithFormatAssertions(), config.WithStrictMode()}

func newOpenAPIValidator(t *testing.T) validator.Validator {
	t.Helper()
	doc, _ := openAPI(t)
	v, errs := validator.NewValidator(doc, validatorOptions...)
	if len(errs) > 0 {
		t.Fatalf("validator for mock/openapi.yaml: %v", errs)
	}
	return v
}

// describeErrors renders validation errors one per line, with the schema
// failures under each.
func describeErrors(errs []*errors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "\n  - %s: %s", e.Message, e.Reason)
		if e.SpecLine > 0 {
			fmt.Fprintf(&b, " (openapi.yaml:%d:%d)", e.SpecLine, e.SpecCol)
		}
		for _, f := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n      %s", f.Error())
		}
	}
	return b.String()
}

// TestOpenAPIDocument: the document is valid OpenAPI 3.1.
func TestOpenAPIDocument(t *testing.T) {
	doc, _ := openAPI(t)
	if v := doc.GetVersion(); v != "3.1.0" {
		t.Errorf("openapi: %q, want 3.1.0", v)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		t.Errorf("mock/openapi.yaml is not valid OpenAPI 3.1:%s", describeErrors(verrs))
	}
}

// TestOpenAPIExamples: every example in the document conforms to the
// schema beside it, so the examples a developer copies are right.
func TestOpenAPIExamples(t *testing.T) {
	_, model := openAPI(t)
	sv := schema_validation.NewSchemaValidatorWithLogger(slog.New(slog.DiscardHandler), validatorOptions...)
	n := 0
	check := func(where string, schema *base.SchemaProxy, value interface{ Decode(any) error }) {
		t.Helper()
		if schema == nil || value == nil {
			return
		}
		n++
		var v any
		if err := value.Decode(&v); err != nil {
			t.Errorf("%s: example does not decode: %v", where, err)
			return
		}
		raw, err := json.Marshal(v)
		if err != nil {
			t.Errorf("%s: example is not JSON: %v", where, err)
			return
		}
		if ok, errs := sv.ValidateSchemaBytes(schema.Schema(), raw); !ok {
			t.Errorf("%s: example does not match its schema:%s\nexample: %s", where, describeErrors(errs), raw)
		}
	}
	content := func(where string, c *orderedmap.Map[string, *v3.MediaType]) {
		for mt, m := range c.FromOldest() {
			if m.Example != nil {
				check(where+" "+mt+" example", m.Schema, m.Example)
			}
			if m.Examples != nil {
				for name, ex := range m.Examples.FromOldest() {
					if ex.Value != nil {
						check(where+" "+mt+" examples."+name, m.Schema, ex.Value)
					}
				}
			}
		}
	}
	operations := func(prefix string, item *v3.PathItem) {
		for method, op := range item.GetOperations().FromOldest() {
			where := strings.ToUpper(method) + " " + prefix
			if op.RequestBody != nil && op.RequestBody.Content != nil {
				content(where+" request", op.RequestBody.Content)
			}
			for _, p := range append(slices.Clone(item.Parameters), op.Parameters...) {
				if p.Example != nil {
					check(where+" parameter "+p.Name, p.Schema, p.Example)
				}
			}
			if op.Responses == nil || op.Responses.Codes == nil {
				continue
			}
			for code, r := range op.Responses.Codes.FromOldest() {
				if r.Content != nil {
					content(where+" "+code, r.Content)
				}
			}
		}
	}
	for path, item := range model.Paths.PathItems.FromOldest() {
		operations(path, item)
	}
	for name, item := range model.Webhooks.FromOldest() {
		operations("webhook "+name, item)
	}
	if n < 30 {
		t.Errorf("checked %d examples; the walk is missing some", n)
	}
}

// TestOpenAPIWebhookExample: the webhook's documented example is signed as
// its description says, with the credentials of BJPAY's reference vector
// (bjpay-api.md §6).
func TestOpenAPIWebhookExample(t *testing.T) {
	_, model := openAPI(t)
	op := model.Webhooks.GetOrZero("paymentNotification").Post
	header := http.Header{}
	for _, p := range op.Parameters {
		var v string
		if p.Example != nil && p.Example.Decode(&v) == nil && !strings.HasPrefix(p.Name, "X-Sandbox-") {
			header.Set(p.Name, v)
		}
	}
	var body any
	if err := op.RequestBody.Content.GetOrZero("application/json").Examples.GetOrZero("docs").Value.Decode(&body); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(body)
	if err := signer.VerifyNotify(signer.Key("test-client-id", "test-client-secret"), header, raw); err != nil {
		t.Errorf("the webhook example's X-Signature does not verify: %v\nheaders %v\nbody %s", err, header, raw)
	}
}

// TestOpenAPIRoutes: every route the router serves is documented, and
// every documented operation is served.
func TestOpenAPIRoutes(t *testing.T) {
	_, model := openAPI(t)
	documented := map[string]bool{}
	for path, item := range model.Paths.PathItems.FromOldest() {
		for method := range item.GetOperations().FromOldest() {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}

	sb := newSandbox(t, mock.Config{})
	router, ok := sb.Handler().(interface{ Walk(mux.WalkFunc) error })
	if !ok {
		t.Fatalf("Handler() is a %T, want a *mux.Router or one embedding it", sb.Handler())
	}
	served := map[string]bool{}
	err := router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		if route.GetHandler() == nil {
			return nil // a subrouter's entry, not an endpoint; Walk visits its routes too
		}
		tpl, err := route.GetPathTemplate()
		if err != nil {
			return fmt.Errorf("a route without a path template: %w", err)
		}
		methods, err := route.GetMethods()
		if err != nil {
			methods = []string{"ANY"} // no method matcher: answers every method
		}
		for _, path := range expandTemplate(tpl) {
			for _, m := range methods {
				served[m+" "+path] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	if undocumented, unserved := notIn(served, documented), notIn(documented, served); len(undocumented)+len(unserved) > 0 {
		t.Errorf("the router and mock/openapi.yaml disagree\nserved but not documented:%s\ndocumented but not served:%s",
			bulleted(undocumented), bulleted(unserved))
	}
	if len(served) < 20 {
		t.Errorf("found %d routes; the walk is missing some: %v", len(served), served)
	}
}

// notIn returns the keys of a that b lacks, sorted.
func notIn(a, b map[string]bool) []string {
	var out []string
	for k := range a {
		if !b[k] {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// bulleted renders items one per line, or "none".
func bulleted(items []string) string {
	if len(items) == 0 {
		return " none"
	}
	return "\n  " + strings.Join(items, "\n  ")
}

// literalAlternatives is a mux variable pattern that lists fixed values,
// such as pay|fail|expire.
var literalAlternatives = regexp.MustCompile(`^[A-Za-z0-9._~-]+(\|[A-Za-z0-9._~-]+)*$`)

// expandTemplate turns a mux path template into the OpenAPI paths it
// stands for: a variable whose pattern lists fixed values
// ({action:pay|fail|expire}) becomes one path per value, since OpenAPI has
// no alternatives in paths; any other pattern is dropped ({n:[0-9]+} → {n}).
func expandTemplate(tpl string) []string {
	open := strings.IndexByte(tpl, '{')
	if open < 0 {
		return []string{tpl}
	}
	end := closingBrace(tpl, open)
	name, pattern, hasPattern := strings.Cut(tpl[open+1:end], ":")
	heads := []string{"{" + name + "}"}
	if hasPattern && literalAlternatives.MatchString(pattern) {
		heads = strings.Split(pattern, "|")
	}
	var out []string
	for _, head := range heads {
		for _, rest := range expandTemplate(tpl[end+1:]) {
			out = append(out, tpl[:open]+head+rest)
		}
	}
	return out
}

// closingBrace returns the index of the brace closing the one at open; a
// pattern may hold braces of its own ({id:[0-9]{4}}).
func closingBrace(s string, open int) int {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			if depth--; depth == 0 {
				return i
			}
		}
	}
	return len(s) - 1 // unbalanced: mux refuses such templates anyway
}

func TestExpandTemplate(t *testing.T) {
	tests := []struct {
		tpl  string
		want []string
	}{
		{"/_sandbox/clock", []string{"/_sandbox/clock"}},
		{"/api/merchant/transaction/inquiry/{referenceNumber}", []string{"/api/merchant/transaction/inquiry/{referenceNumber}"}},
		{"/_sandbox/transactions/{referenceNumber}/{action:pay|fail|expire}", []string{
			"/_sandbox/transactions/{referenceNumber}/pay",
			"/_sandbox/transactions/{referenceNumber}/fail",
			"/_sandbox/transactions/{referenceNumber}/expire",
		}},
		{"/x/{id:[0-9]{4}}/y", []string{"/x/{id}/y"}},
		{"/{a:b|c}/{d:e|f}", []string{"/b/e", "/b/f", "/c/e", "/c/f"}},
		{"/{only:one}", []string{"/one"}},
	}
	for _, tt := range tests {
		if got := expandTemplate(tt.tpl); !slices.Equal(got, tt.want) {
			t.Errorf("expandTemplate(%q) = %q, want %q", tt.tpl, got, tt.want)
		}
	}
}

// exchange is one request to the sandbox whose answer must conform to the
// document.
type exchange struct {
	name         string
	method, path string
	header       http.Header // nil: none
	body         []byte
	remote       string // the client's address; loopback when empty
	status       int    // the HTTP status the answer must have
	// request says the request conforms too, so it is validated with the
	// answer. Requests that are wrong on purpose are not.
	request bool
	// as validates the answer against this method's operation: a method a
	// path does not serve (405) has no operation of its own in OpenAPI, so
	// its answer is documented on the path's POST.
	as string
	// after runs once the answer is checked, e.g. to wait for a notify.
	after func(t *testing.T)
	// link is "next" when the answer must link a next page (a Link
	// header), "none" when it must not; "" checks nothing.
	link string
}

// TestOpenAPIConformance drives a real sandbox through every documented
// operation, happy and failing, and validates each answer (and each valid
// request) against the document, then each notify the merchant received
// against the webhook.
func TestOpenAPIConformance(t *testing.T) {
	sb := newSandbox(t, mock.Config{})
	h := sb.Handler()
	rc := newReceiver(t)
	v := newOpenAPIValidator(t)

	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	withHeader := func(name, value string) http.Header {
		hd := validHeaders()
		if value == "" {
			hd.Del(name)
		} else {
			hd.Set(name, value)
		}
		return hd
	}
	journalled := func(ref string, n int) func(t *testing.T) {
		return func(t *testing.T) {
			waitFor(t, fmt.Sprintf("%d journal entries for %s", n, ref), func() bool { return len(sb.Deliveries(demoID, ref)) >= n })
		}
	}
	const scenarioYAML = "scenarios:\n  - name: slow-customer\n    description: Paid 30 s after creation.\n    match: {reference: \"^SLOWPAY-\"}\n    timeline:\n      - {after: 30s, status: PAID}\n"

	tests := []exchange{
		// BJPAY API.
		{name: "channels", method: "POST", path: channelsPath, header: validHeaders(), status: 200, request: true},
		{name: "create docs example", method: "POST", path: createPath, header: validHeaders(), body: with(nil), status: 200, request: true},
		{name: "create VA", method: "POST", path: createPath, header: validHeaders(), status: 200, request: true,
			body: with(map[string]any{"referenceNumber": "OAS-1", "paymentCode": "VA-BNI", "finishNotifyUrl": rc.URL})},
		{name: "create QRIS", method: "POST", path: createPath, header: validHeaders(), status: 200, request: true,
			body: with(map[string]any{"referenceNumber": "OAS-2", "paymentCode": "QRIS", "finishNotifyUrl": rc.URL, "currency": "IDR"})},
		{name: "create REDIRECT", method: "POST", path: createPath, header: validHeaders(), status: 200, request: true,
			body: with(map[string]any{"referenceNumber": "OAS-3", "paymentCode": "DANA", "finishNotifyUrl": rc.URL})},
		{name: "create without URLs or expiry", method: "POST", path: createPath, header: validHeaders(), status: 200, request: true,
			body: with(map[string]any{"referenceNumber": "OAS-NOURL", "finishNotifyUrl": nil, "finishReturnUrl": nil, "expiredAt": nil})},
		{name: "01 no secret", method: "POST", path: createPath, header: withHeader("X-Client-Secret", ""), body: with(nil), status: 401},
		{name: "01 wrong secret", method: "POST", path: channelsPath, header: withHeader("X-Client-Secret", "nope"), status: 401},
		{name: "12 sum", method: "POST", path: createPath, header: validHeaders(), body: with(map[string]any{"totalAmount": 50000}), status: 400},
		{name: "13 inactive", method: "POST", path: createPath, header: validHeaders(), body: with(map[string]any{"paymentCode": "VA-BCA"}), status: 400},
		{name: "14 reused", method: "POST", path: createPath, header: validHeaders(), body: with(nil), status: 400},
		{name: "16 email", method: "POST", path: createPath, header: validHeaders(), body: with(map[string]any{"referenceNumber": "OAS-X", "customerEmail": "bangjeff"}), status: 400},
		{name: "23 format", method: "POST", path: createPath, header: withHeader("X-Request-Time", "20.09.2024"), body: with(nil), status: 400},
		{name: "23 missing", method: "POST", path: channelsPath, header: withHeader("X-Request-Time", ""), status: 400},
		{name: "400 expiredAt in the past", method: "POST", path: createPath, header: validHeaders(), status: 400,
			body: with(map[string]any{"referenceNumber": "OAS-X", "expiredAt": "2024-06-23T13:00:48+07:00"})},
		{name: "400 not JSON", method: "POST", path: createPath, header: validHeaders(), body: []byte(`{"paymentCode":`), status: 400},
		{name: "413", method: "POST", path: createPath, header: validHeaders(), body: bytes.Repeat([]byte(" "), 1<<20+1), status: 413},
		{name: "415", method: "POST", path: createPath, header: withHeader("Content-Type", "text/plain"), body: with(nil), status: 415},
		{name: "415 channels without Content-Type", method: "POST", path: channelsPath, header: withHeader("Content-Type", ""), status: 415},
		{name: "405", method: "GET", path: createPath, status: 405, as: "POST"},
		{name: "inquiry", method: "POST", path: inquiryPath + "BJP05134e418d311b55e5cd9e13", header: validHeaders(), status: 200, request: true},
		{name: "inquiry unknown", method: "POST", path: inquiryPath + "NOPE", header: validHeaders(), status: 404, request: true},

		// Control API.
		{name: "health", method: "GET", path: "/_sandbox/health", status: 200, request: true},
		{name: "health from elsewhere", method: "GET", path: "/_sandbox/health", remote: "192.0.2.1:1234", status: 200, request: true},
		{name: "openapi.yaml", method: "GET", path: "/_sandbox/openapi.yaml", status: 200, request: true},
		{name: "control from elsewhere", method: "GET", path: "/_sandbox/clock", remote: "192.0.2.1:1234", status: 403, request: true},
		{name: "clock", method: "GET", path: "/_sandbox/clock", status: 200, request: true},
		{name: "advance", method: "POST", path: "/_sandbox/clock/advance", header: jsonHeader, body: []byte(`{"by":"1m"}`), status: 200, request: true},
		{name: "advance bad", method: "POST", path: "/_sandbox/clock/advance", header: jsonHeader, body: []byte(`{"by":"soon"}`), status: 400, request: true},
		{name: "advance unknown field", method: "POST", path: "/_sandbox/clock/advance", header: jsonHeader, body: []byte(`{"hours":1}`), status: 400},
		{name: "set", method: "POST", path: "/_sandbox/clock/set", header: jsonHeader, body: []byte(`{"now":"2026-11-24T10:00:00+07:00"}`), status: 200, request: true},
		{name: "set too large", method: "POST", path: "/_sandbox/clock/set", header: jsonHeader, body: bytes.Repeat([]byte(" "), 64<<10+1), status: 413},
		{name: "transactions", method: "GET", path: "/_sandbox/transactions", status: 200, request: true},
		{name: "transactions filtered", method: "GET", path: "/_sandbox/transactions?clientId=" + demoID + "&status=pending&referenceNumber=OAS", status: 200, request: true},
		{name: "transactions paged", method: "GET", path: "/_sandbox/transactions?limit=1", status: 200, request: true, link: "next"},
		{name: "transactions last page", method: "GET", path: "/_sandbox/transactions?limit=1000", status: 200, request: true, link: "none"},
		{name: "transactions bad limit", method: "GET", path: "/_sandbox/transactions?limit=5000", status: 400}, // wrong on purpose: only the answer conforms
		{name: "transaction", method: "GET", path: "/_sandbox/transactions/OAS-1", status: 200, request: true},
		{name: "transaction with owner", method: "GET", path: "/_sandbox/transactions/OAS-1?clientId=" + demoID, status: 200, request: true},
		{name: "transaction unknown", method: "GET", path: "/_sandbox/transactions/NOPE", status: 404, request: true},
		{name: "resend while pending", method: "POST", path: "/_sandbox/transactions/OAS-1/notify", status: 409, request: true},
		{name: "pay", method: "POST", path: "/_sandbox/transactions/OAS-1/pay", status: 200, request: true, after: journalled("OAS-1", 1)},
		{name: "pay again", method: "POST", path: "/_sandbox/transactions/OAS-1/pay", status: 409, request: true},
		{name: "pay unknown", method: "POST", path: "/_sandbox/transactions/NOPE/pay", status: 404, request: true},
		{name: "pay without URL", method: "POST", path: "/_sandbox/transactions/OAS-NOURL/pay", status: 200, request: true, after: journalled("OAS-NOURL", 1)},
		{name: "fail", method: "POST", path: "/_sandbox/transactions/OAS-2/fail", status: 200, request: true, after: journalled("OAS-2", 1)},
		{name: "expire", method: "POST", path: "/_sandbox/transactions/OAS-3/expire", status: 200, request: true, after: journalled("OAS-3", 1)},
		{name: "resend", method: "POST", path: "/_sandbox/transactions/OAS-1/notify", status: 202, request: true, after: journalled("OAS-1", 2)},
		{name: "ad hoc notify", method: "POST", path: "/_sandbox/transactions/OAS-1/notify", header: jsonHeader, status: 202, request: true,
			body: []byte(`{"status":"EXPIRED","variant":"stale-timestamp","totalAmount":59000,"requestTimeOffset":"-6m","retry":false}`), after: journalled("OAS-1", 3)},
		{name: "ad hoc notify bad", method: "POST", path: "/_sandbox/transactions/OAS-1/notify", header: jsonHeader, body: []byte(`{"status":"PENDING"}`), status: 400},
		{name: "deliveries", method: "GET", path: "/_sandbox/deliveries", status: 200, request: true},
		{name: "deliveries paged", method: "GET", path: "/_sandbox/deliveries?limit=1", status: 200, request: true, link: "next"},
		{name: "deliveries bad cursor", method: "GET", path: "/_sandbox/deliveries?cursor=nope", status: 400, request: true},
		{name: "stats", method: "GET", path: "/_sandbox/stats", status: 200, request: true},
		{name: "deliveries filtered", method: "GET", path: "/_sandbox/deliveries?clientId=" + demoID + "&referenceNumber=OAS-1", status: 200, request: true},
		{name: "merchants", method: "GET", path: "/_sandbox/merchants", status: 200, request: true},
		{name: "merchant create", method: "POST", path: "/_sandbox/merchants", header: jsonHeader, body: []byte(`{"name":"Toko Budi","notifyUrl":"https://toko-budi.example/webhook/bjpay"}`), status: 201, request: true},
		{name: "merchant create empty", method: "POST", path: "/_sandbox/merchants", status: 201, request: true},
		{name: "merchant taken", method: "POST", path: "/_sandbox/merchants", header: jsonHeader, body: []byte(`{"clientId":"` + demoID + `"}`), status: 409, request: true},
		{name: "merchant bad URL", method: "POST", path: "/_sandbox/merchants", header: jsonHeader, body: []byte(`{"notifyUrl":"nope"}`), status: 400, request: true},
		{name: "merchant create given", method: "POST", path: "/_sandbox/merchants", header: jsonHeader, body: []byte(`{"clientId":"oas-merchant","clientSecret":"oas-secret"}`), status: 201, request: true},
		{name: "whoami", method: "GET", path: "/_sandbox/whoami", status: 200, request: true},
		{name: "token rotated", method: "POST", path: "/_sandbox/merchants/oas-merchant/token", status: 200, request: true},
		{name: "token of nobody", method: "POST", path: "/_sandbox/merchants/nope/token", status: 404, request: true},
		{name: "relay", method: "GET", path: "/_sandbox/merchants/oas-merchant/relay", status: 200, request: true},
		{name: "relay on", method: "POST", path: "/_sandbox/merchants/oas-merchant/relay", header: jsonHeader, body: []byte(`{"on":true}`), status: 200, request: true},
		{name: "relay off", method: "POST", path: "/_sandbox/merchants/oas-merchant/relay", header: jsonHeader, body: []byte(`{"on":false}`), status: 200, request: true},
		{name: "relay without a body", method: "POST", path: "/_sandbox/merchants/oas-merchant/relay", status: 400},
		{name: "relay of nobody", method: "GET", path: "/_sandbox/merchants/nope/relay", status: 404, request: true},
		{name: "listen without a WebSocket", method: "GET", path: "/_sandbox/listen?clientId=oas-merchant", status: 426, request: true},
		{name: "listen without a merchant", method: "GET", path: "/_sandbox/listen", status: 400, request: true},
		{name: "create by that merchant", method: "POST", path: createPath, status: 200, request: true,
			header: http.Header{"Content-Type": {"application/json"}, "X-Client-Id": {"oas-merchant"}, "X-Client-Secret": {"oas-secret"}, "X-Request-Time": validHeaders()["X-Request-Time"]},
			body:   with(map[string]any{"referenceNumber": "OAS-1", "finishNotifyUrl": nil})},
		{name: "transaction ambiguous", method: "GET", path: "/_sandbox/transactions/OAS-1", status: 409, request: true},
		{name: "pay ambiguous", method: "POST", path: "/_sandbox/transactions/OAS-1/pay", status: 409, request: true},
		{name: "scenarios", method: "GET", path: "/_sandbox/scenarios", status: 200, request: true},
		{name: "scenarios load", method: "POST", path: "/_sandbox/scenarios", header: http.Header{"Content-Type": {"application/yaml"}}, body: []byte(scenarioYAML), status: 200, request: true},
		{name: "scenarios load bad", method: "POST", path: "/_sandbox/scenarios", header: http.Header{"Content-Type": {"application/yaml"}}, body: []byte("scenarios:\n  - name: x\n    colour: red\n"), status: 400, request: true},
		{name: "reset", method: "POST", path: "/_sandbox/reset", status: 200, request: true},
	}
	for _, ex := range tests {
		t.Run(ex.name, func(t *testing.T) {
			req, resp := send(h, ex)
			if resp.StatusCode != ex.status {
				t.Fatalf("%s %s: status %d, want %d; body %s", ex.method, ex.path, resp.StatusCode, ex.status, readBody(resp))
			}
			if ex.as != "" {
				req.Method = ex.as
			}
			var ok bool
			var errs []*errors.ValidationError
			if ex.request {
				ok, errs = v.ValidateHttpRequestResponse(req, resp)
			} else {
				ok, errs = v.ValidateHttpResponse(req, resp)
			}
			if !ok {
				t.Errorf("%s %s does not conform to mock/openapi.yaml:%s\nrequest headers %v\nrequest body %.500s\nanswer %d %v\n%.2000s",
					ex.method, ex.path, describeErrors(errs), ex.header, ex.body, resp.StatusCode, resp.Header, readBody(resp))
			}
			if link := resp.Header.Get("Link"); ex.link != "" && (link != "") != (ex.link == "next") {
				t.Errorf("Link %q; want a next page: %v", link, ex.link == "next")
			}
			if ex.after != nil {
				ex.after(t)
			}
		})
	}

	t.Run("notifies match the webhook", func(t *testing.T) {
		_, model := openAPI(t)
		got := rc.all()
		if len(got) < 5 { // pay, fail, expire, resend, ad hoc
			t.Fatalf("the merchant received %d notifies, want at least 5", len(got))
		}
		for i, n := range got {
			if err := checkNotify(model, n.Header, n.Body); err != "" {
				t.Errorf("notify %d does not match the paymentNotification webhook: %s\nheaders %v\nbody %s", i+1, err, n.Header, n.Body)
			}
		}
	})
}

// send sends ex to h, and returns a fresh copy of the request (the
// handler consumed the original's body) with the answer.
func send(h http.Handler, ex exchange) (*http.Request, *http.Response) {
	newRequest := func() *http.Request {
		req := httptest.NewRequest(ex.method, ex.path, bytes.NewReader(ex.body))
		req.Host = sandboxHost
		req.Header = ex.header.Clone()
		if req.Header == nil {
			req.Header = http.Header{}
		}
		req.RemoteAddr = loopbackClient
		if ex.remote != "" {
			req.RemoteAddr = ex.remote
		}
		return req
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, newRequest())
	return newRequest(), rec.Result()
}

// readBody returns the answer's body and leaves it readable again.
func readBody(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return string(b)
}

// checkNotify checks a notify the merchant received against the webhook:
// its required headers are there and its body matches the schema. It
// returns what is wrong, or "".
func checkNotify(model *v3.Document, header http.Header, body []byte) string {
	op := model.Webhooks.GetOrZero("paymentNotification").Post
	var problems []string
	for _, p := range op.Parameters {
		if p.In == "header" && p.Required != nil && *p.Required && header.Get(p.Name) == "" {
			problems = append(problems, "header "+p.Name+" is missing")
		}
	}
	schema := op.RequestBody.Content.GetOrZero("application/json").Schema.Schema()
	sv := schema_validation.NewSchemaValidatorWithLogger(slog.New(slog.DiscardHandler), validatorOptions...)
	if ok, errs := sv.ValidateSchemaBytes(schema, body); !ok {
		problems = append(problems, "body:"+describeErrors(errs))
	}
	return strings.Join(problems, "; ")
}

// TestOpenAPIServed: GET /_sandbox/openapi.yaml answers the embedded
// document to every client, loopback or not.
func TestOpenAPIServed(t *testing.T) {
	h := newSandbox(t, mock.Config{}).Handler()
	for _, remote := range []string{loopbackClient, "[::1]:5000", "192.0.2.1:1234", "172.18.0.1:5000", "[2001:db8::1]:443"} {
		t.Run(remote, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/_sandbox/openapi.yaml", nil)
			req.RemoteAddr = remote
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d, want 200; body %.300s", rec.Code, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/yaml" {
				t.Errorf("Content-Type %q, want application/yaml", ct)
			}
			if !bytes.Equal(rec.Body.Bytes(), mock.OpenAPI()) {
				t.Errorf("body is not the embedded document (%d bytes, want %d)", rec.Body.Len(), len(mock.OpenAPI()))
			}
		})
	}
}
