package mock

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/gorilla/mux"
)

// The HTTP layer: routes, the one place errors become answers, and what
// every handler shares. Handlers parse, call the sandbox, render.

// Header names of BJPAY's API and the sandbox's own.
const (
	HeaderClientID     = "X-Client-Id"
	HeaderClientSecret = "X-Client-Secret"
	HeaderRequestTime  = "X-Request-Time"
	// HeaderSandboxError marks answers BJPAY does not document (the
	// sandbox envelopes), so nobody mistakes them for a BJPAY code.
	HeaderSandboxError = "X-Sandbox-Error"
)

// statusOf is the HTTP status of each kind of failure, the only table of
// them. [sandbox] BJPAY documents codes, not statuses.
func statusOf(e *Error) int {
	switch e.Kind {
	case KindInvalid:
		return http.StatusBadRequest
	case KindUnauthorized:
		return http.StatusUnauthorized
	case KindForbidden:
		return http.StatusForbidden
	case KindNotFound:
		return http.StatusNotFound
	case KindMethod:
		return http.StatusMethodNotAllowed
	case KindMisdirected:
		return http.StatusMisdirectedRequest
	case KindConflict:
		return http.StatusConflict
	case KindTooLarge:
		return http.StatusRequestEntityTooLarge
	case KindMediaType:
		return http.StatusUnsupportedMediaType
	case KindUnavailable:
		return http.StatusServiceUnavailable
	case KindTooMany:
		return http.StatusTooManyRequests
	case KindUpgrade:
		return http.StatusUpgradeRequired
	case KindForced:
		return e.Status
	}
	return http.StatusInternalServerError
}

// envelope is every JSON answer: BJPAY's {"code","message"} plus "data" on
// success. [sandbox] BJPAY shows code and message; "data" and
// "sandboxDetail" are the sandbox's.
type envelope struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Detail  string `json:"sandboxDetail,omitempty"`
	Data    any    `json:"data,omitempty"`
}

// handler is the sandbox's whole HTTP surface: the mux router, with a
// shortcut for the hot path. Create Payment skips the walk through the
// routes' regular expressions, to the handler the router would pick.
// Middleware for every route therefore wraps handler (in routes), never
// the router's Use, which the shortcut would skip.
type handler struct {
	*mux.Router // Walk is promoted, for the OpenAPI test
	create      http.Handler
	scopes      map[*mux.Route]scope
}

const createPath = "/api/merchant/transaction/create"

func (h handler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method == http.MethodPost && req.URL.Path == createPath {
		h.create.ServeHTTP(w, req)
		return
	}
	h.Router.ServeHTTP(w, req)
}

// Handler returns the sandbox's HTTP handler: BJPAY's surface and the
// control API under /_sandbox.
func (s *Sandbox) Handler() http.Handler { return s.handler }

// routes registers every route. Even 404 and 405 answer with the envelope,
// so a merchant's client never meets an HTML error page.
func (s *Sandbox) routes() handler {
	r := mux.NewRouter()
	// Keep paths as sent: mux would otherwise answer unclean ones
	// (//x, /a/../b) with a bare 301 instead of the envelope.
	r.SkipClean(true)
	create := s.apiRoutes(r)
	c := controlRouter{s, r, map[*mux.Route]scope{}}
	s.controlRoutes(c)
	s.uiRoutes(c)

	// [sandbox] BJPAY documents no answer for unknown routes or methods:
	// the sandbox envelope with the HTTP status as the code.
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.HasPrefix(req.URL.Path, ControlPrefix+"/") {
			s.writeError(w, req, errorf(KindNotFound, "no control API endpoint at %s; see the README's control API section", req.URL.Path))
			return
		}
		s.writeError(w, req, errorf(KindNotFound, "no BJPAY endpoint at %s; expected POST /api/merchant/payment-channel, /api/merchant/transaction/create or /api/merchant/transaction/inquiry/{referenceNumber}", req.URL.Path))
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.HasPrefix(req.URL.Path, ControlPrefix+"/") {
			w.Header().Set("Allow", strings.Join(allowedMethods(r, req), ", "))
			s.writeError(w, req, errorf(KindMethod, "method %s is not allowed on %s; the control API reads with GET and acts with POST", req.Method, req.URL.Path))
			return
		}
		w.Header().Set("Allow", http.MethodPost)
		s.writeError(w, req, errorf(KindMethod, "method %s is not allowed on %s; every BJPAY API call is POST", req.Method, req.URL.Path))
	})
	return handler{r, create, c.scopes}
}

// allowedMethods lists the methods the router serves at req's path, for
// the Allow header HTTP requires on a 405.
func allowedMethods(r *mux.Router, req *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		probe := req.Clone(req.Context())
		probe.Method = m
		var match mux.RouteMatch
		if r.Match(probe, &match) && match.MatchErr == nil {
			out = append(out, m)
		}
	}
	return out
}

// writeError renders every failure: the envelope, the status from the kind,
// and X-Sandbox-Error on the sandbox's own envelopes. It also logs the
// rejection, so a developer sees why without reading the response. An
// error that is no *Error is a bug: 500, logged.
func (s *Sandbox) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	if !errors.As(err, &e) {
		s.log.Error("unexpected error", "method", r.Method, "path", r.URL.Path, "error", err)
		e = &Error{Msg: "the sandbox failed: " + err.Error()}
	}
	status := statusOf(e)
	env := envelope{Code: e.Code, Message: codes[e.Code].message, Detail: e.Msg}
	if e.Code == "" { // the sandbox's own envelope: the status as the code, the explanation as the message
		env = envelope{Code: strconv.Itoa(status), Message: e.Msg}
		w.Header().Set(HeaderSandboxError, "true")
	}
	if logs(s.log) {
		s.log.Info("request rejected", "method", r.Method, "path", r.URL.Path, "status", status,
			"code", env.Code, "reason", e.Msg)
	}
	switch e.Kind {
	case KindUnavailable:
		w.Header().Set("Retry-After", "1")
	case KindTooMany:
		w.Header().Set("Retry-After", "60")
	}
	writeJSON(w, status, env)
}

// jsonContentType is shared by every answer's header: net/http only reads it.
var jsonContentType = []string{"application/json"}

func writeJSON(w http.ResponseWriter, status int, v envelope) {
	w.Header()["Content-Type"] = jsonContentType
	if buf, ok := v.Data.(pooledJSON); ok {
		writeEnvelope(w, status, v, *buf)
		putBuffer(buf)
		return
	}
	if raw, ok := v.Data.(json.RawMessage); ok && v.Detail == "" {
		// Data encoded once in advance (the channel list): write it as is
		// instead of having encoding/json re-validate it on every call.
		writeEnvelope(w, status, v, raw)
		return
	}
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// chunkingSize is the size of net/http's response buffer: a handler that
// writes no more than this before it returns gets Content-Length set for
// it, and a larger answer goes out chunked unless the handler sets it.
const chunkingSize = 2048

// writeEnvelope writes v with data already encoded, in one Write from a
// pooled buffer. Code and message come from the code table: plain ASCII.
func writeEnvelope(w http.ResponseWriter, status int, v envelope, data []byte) {
	buf := buffers.Get().(*[]byte)
	b := append((*buf)[:0], `{"code":"`...)
	b = append(b, v.Code...)
	b = append(b, `","message":"`...)
	b = append(b, v.Message...)
	b = append(b, `","data":`...)
	b = append(b, data...)
	b = append(b, "}\n"...)
	if len(b) > chunkingSize {
		// [sandbox] A large answer (a create with many items) is sent
		// with its length, as small ones are, rather than chunked.
		w.Header()["Content-Length"] = []string{strconv.Itoa(len(b))}
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
	*buf = b
	putBuffer(buf)
}

// pooledJSON is data already encoded into a pooled buffer (the hot paths'
// transactions): writeJSON writes it and returns the buffer. Handing a
// *Transaction over instead would move the transaction to the heap.
type pooledJSON *[]byte

// buffers recycles request bodies and answers on the hot path: the
// decoders copy what they keep, and answers are written before the
// buffer goes back.
var buffers = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

func putBuffer(b *[]byte) {
	if cap(*b) <= 64<<10 { // a rare big body is left to the collector
		*b = (*b)[:0]
		buffers.Put(b)
	}
}

// readBody appends at most max bytes of the body to dst. [sandbox] Larger
// bodies answer 413 in the sandbox envelope.
func readBody(w http.ResponseWriter, r *http.Request, max int64, dst []byte) ([]byte, error) {
	if r.ContentLength > max {
		return dst, errorf(KindTooLarge, "request body is %d bytes; the limit is %d", r.ContentLength, max)
	}
	start := len(dst)
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		// Read one byte past the limit at most, to know it was passed.
		room := dst[len(dst):cap(dst)]
		if left := max + 1 - int64(len(dst)-start); int64(len(room)) > left {
			room = room[:left]
		}
		n, err := r.Body.Read(room)
		dst = dst[:len(dst)+n]
		if int64(len(dst)-start) > max {
			tooLarge(w, dst[len(dst)-1:])
			return dst[:start+int(max)], errorf(KindTooLarge, "request body is larger than the limit of %d bytes", max)
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, errorf(KindInvalid, "request body could not be read: %v", err)
		}
	}
}

// tooLarge has http.MaxBytesReader refuse over, the byte past the limit,
// so that net/http does what it does for any body over such a limit: it
// answers with "Connection: close" and closes the connection after. The
// reader is not in front of every body because it costs an allocation.
func tooLarge(w http.ResponseWriter, over []byte) {
	_, _ = http.MaxBytesReader(w, io.NopCloser(bytes.NewReader(over)), 0).Read(make([]byte, 1))
}

// checkContentType requires application/json (parameters such as charset
// allowed). BJPAY lists the header for every request; [sandbox] the sandbox
// enforces it even on body-less calls, with its own 415 envelope.
func checkContentType(v string) error {
	switch v {
	case "application/json", "application/json; charset=utf-8", "application/json; charset=UTF-8":
		return nil // what clients nearly always send: no parsing
	case "":
		return errorf(KindMediaType, "Content-Type header is missing; expected application/json")
	}
	mt, _, err := mime.ParseMediaType(v)
	if err != nil || mt != "application/json" {
		return errorf(KindMediaType, "Content-Type %q is not supported; expected application/json", v)
	}
	return nil
}

func remoteAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr()
}

// baseURL is the sandbox's URL as seen by the caller, for hosted-page links.
func (s *Sandbox) baseURL(r *http.Request) string {
	if s.publicURL != "" {
		return s.publicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := r.Host
	if host == "" { // HTTP/1.0 without Host: the address the request came in on
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			host = a.String()
		}
	}
	return scheme + "://" + host
}
