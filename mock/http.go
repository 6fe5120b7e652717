package mock

import (
	"strings"
	"sync"
	"time"

	"encoding/json"
	"errors"
	"github.com/bjpay/bjpay-sandbox/scenarios"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"

	"github.com/bjpay/bjpay-sandbox/signer"
	"github.com/gorilla/mux"
)

// Header names of BJPAY's API and the sandbox's own.
const (
	HeaderClientID     = "X-Client-Id"
	HeaderClientSecret = "X-Client-Secret"
	HeaderRequestTime  = signer.HeaderRequestTime
	// HeaderSandboxError marks answers BJPAY does not document (the
	// sandbox envelopes), so nobody mistakes them for a BJPAY code.
	HeaderSandboxError = "X-Sandbox-Error"
)

// envelope is every JSON answer: BJPAY's {"code","message"} plus "data" on
// success. [sandbox] BJPAY shows code and message; "data" and
// "sandboxDetail" are the sandbox's.
type envelope struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Detail  string `json:"sandboxDetail,omitempty"`
	Data    any    `json:"data,omitempty"`
}

// routes registers the BJPAY surface. Even 404 and 405 answer with the
// envelope, so a merchant's client never meets an HTML error page.
func (s *Sandbox) routes() http.Handler {
	r := mux.NewRouter()
	// Keep paths as sent: mux would otherwise answer unclean ones
	// (//x, /a/../b) with a bare 301 instead of the envelope.
	r.SkipClean(true)

	// Get Available Payment: the channel catalogue.
	r.Handle("/api/merchant/payment-channel", s.bjpay(s.handleChannels)).Methods(http.MethodPost)
	// Create Payment.
	create := s.bjpay(s.handleCreate)
	r.Handle(createPath, create).Methods(http.MethodPost)
	// Get Invoice (inquiry) by the merchant's reference number.
	r.Handle("/api/merchant/transaction/inquiry/{referenceNumber}", s.bjpay(s.handleInquiry)).Methods(http.MethodPost)

	s.controlRoutes(r)
	s.uiRoutes(controlRouter{s, r})

	// [sandbox] BJPAY documents no answer for unknown routes or methods:
	// the sandbox envelope with the HTTP status as the code.
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.HasPrefix(req.URL.Path, ControlPrefix+"/") {
			s.writeError(w, req, sandboxErr(http.StatusNotFound, "no control API endpoint at %s; see the README's control API section", req.URL.Path))
			return
		}
		s.writeError(w, req, sandboxErr(http.StatusNotFound, "no BJPAY endpoint at %s; expected POST /api/merchant/payment-channel, /api/merchant/transaction/create or /api/merchant/transaction/inquiry/{referenceNumber}", req.URL.Path))
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.HasPrefix(req.URL.Path, ControlPrefix+"/") {
			w.Header().Set("Allow", strings.Join(allowedMethods(r, req), ", "))
			s.writeError(w, req, sandboxErr(http.StatusMethodNotAllowed, "method %s is not allowed on %s; the control API reads with GET and acts with POST", req.Method, req.URL.Path))
			return
		}
		w.Header().Set("Allow", http.MethodPost)
		s.writeError(w, req, sandboxErr(http.StatusMethodNotAllowed, "method %s is not allowed on %s; every BJPAY API call is POST", req.Method, req.URL.Path))
	})
	return router{r, create}
}

// router is the mux router with a shortcut for the hot path: Create
// Payment skips the walk through the routes' regular expressions, to the
// handler the router would pick.
type router struct {
	*mux.Router // Walk is promoted, for the OpenAPI test
	create      http.Handler
}

func (rt router) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method == http.MethodPost && req.URL.Path == createPath {
		rt.create.ServeHTTP(w, req)
		return
	}
	rt.Router.ServeHTTP(w, req)
}

const createPath = "/api/merchant/transaction/create"

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

// call is what the common checks hand to a BJPAY handler.
type call struct {
	r        *http.Request
	merchant *merchant
	body     []byte
}

// bjpay wraps a handler with the checks every BJPAY call goes through, in
// the sandbox's documented order: content type (415), body size (413),
// credentials (01), X-Request-Time (23). Route and method (404, 405) were
// checked by the router.
func (s *Sandbox) bjpay(h func(c *call) (any, *Error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
			s.writeError(w, r, err)
			return
		}
		buf := buffers.Get().(*[]byte)
		defer putBuffer(buf)
		body, err := readBody(w, r, s.settings.MaxBodyBytes, (*buf)[:0])
		*buf = body // grown or not, the buffer goes back to the pool
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		m, err := s.authenticate(r.Header.Get(HeaderClientID), r.Header.Get(HeaderClientSecret), remoteAddr(r))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := s.checkRequestTime(r.Header.Get(HeaderRequestTime)); err != nil {
			s.writeError(w, r, err)
			return
		}
		data, err := h(&call{r: r, merchant: m, body: body})
		if err == errDrop {
			dropConnection(w)
			return
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, envelope{Code: CodeOK, Message: codes[CodeOK].message, Data: data})
	})
}

func (s *Sandbox) handleChannels(c *call) (any, *Error) {
	return s.channelsData, nil
}

func (s *Sandbox) handleCreate(c *call) (any, *Error) {
	if n := s.notifier.pending.Load(); n >= s.maxPend {
		// Overload, not bad input: the sandbox's own 503, with the way out.
		return nil, sandboxErr(http.StatusServiceUnavailable, "the sandbox has %d notifies waiting for delivery, its limit (--max-pending-notifies); it takes no new payments until they drain: retry shortly, make the merchant's notify endpoint answer faster, or raise the limit", n).withRetryAfter()
	}
	req, err := decodeCreate(c.body)
	if err != nil {
		return nil, err
	}
	// The shared list, read only: no copy on the hot path.
	sc := scenarios.Select(*s.scenarios.Load(), scenarios.Payment{
		ClientID: c.merchant.ClientID, PaymentCode: req.PaymentCode.S,
		ReferenceNumber: req.ReferenceNumber.S, Amount: int64(req.TotalAmount.N),
	})
	if sc != nil {
		if err := s.forceCreate(c, sc); err != nil {
			return nil, err
		}
	}
	tx, err := s.create(c.merchant, &req, s.baseURL(c.r), sc)
	if err != nil {
		return nil, err
	}
	return encodeTransaction(&tx), nil
}

// forceCreate applies a scenario's create section: latency first, then a
// forced answer instead of the payment, if any.
func (s *Sandbox) forceCreate(c *call, sc *scenarios.Scenario) *Error {
	cr := sc.Create
	if cr.Latency > 0 {
		t := time.NewTimer(cr.Latency)
		select {
		case <-t.C:
		case <-c.r.Context().Done(): // the caller gave up: create nothing
			t.Stop()
			return errDrop
		}
	}
	switch {
	case cr.Error != "":
		if _, ok := codes[cr.Error]; ok {
			return codeErr(cr.Error, "forced by scenario %q", sc.Name)
		}
	case cr.Status != 0:
		return sandboxErr(cr.Status, "forced by scenario %q: the sandbox plays a failing gateway", sc.Name)
	case cr.Drop:
		return errDrop
	}
	return nil
}

// errDrop asks the wrapper to close the connection without an answer.
var errDrop = &Error{Code: "drop"}

func (s *Sandbox) handleInquiry(c *call) (any, *Error) {
	tx, err := s.inquire(c.merchant, mux.Vars(c.r)["referenceNumber"])
	if err != nil {
		return nil, err
	}
	return encodeTransaction(&tx), nil
}

// pooledJSON is data already encoded into a pooled buffer (the hot paths'
// transactions): writeJSON writes it and returns the buffer. Handing a
// *Transaction over instead would move the transaction to the heap.
type pooledJSON *[]byte

func encodeTransaction(tx *Transaction) pooledJSON {
	buf := buffers.Get().(*[]byte)
	*buf = tx.appendJSON((*buf)[:0])
	return buf
}

// dropConnection closes the client's connection without an answer, as a
// gateway that crashes mid-request would.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	// Not hijackable (HTTP/2, a test recorder): abort the handler, which
	// net/http turns into a reset stream or closed connection.
	panic(http.ErrAbortHandler)
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

// checkContentType requires application/json (parameters such as charset
// allowed). BJPAY lists the header for every request; [sandbox] the sandbox
// enforces it even on body-less calls, with its own 415 envelope.
func checkContentType(v string) *Error {
	if v == "" {
		return sandboxErr(http.StatusUnsupportedMediaType, "Content-Type header is missing; expected application/json")
	}
	mt, _, err := mime.ParseMediaType(v)
	if err != nil || mt != "application/json" {
		return sandboxErr(http.StatusUnsupportedMediaType, "Content-Type %q is not supported; expected application/json", v)
	}
	return nil
}

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
func readBody(w http.ResponseWriter, r *http.Request, max int64, dst []byte) ([]byte, *Error) {
	if r.ContentLength > max {
		return dst, sandboxErr(http.StatusRequestEntityTooLarge, "request body is %d bytes; the limit is %d", r.ContentLength, max)
	}
	body, err := readAll(http.MaxBytesReader(w, r.Body, max), dst)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return body, sandboxErr(http.StatusRequestEntityTooLarge, "request body is larger than the limit of %d bytes", max)
		}
		return body, sandboxErr(http.StatusBadRequest, "request body could not be read: %v", err)
	}
	return body, nil
}

// readAll is io.ReadAll appending to dst.
func readAll(r io.Reader, dst []byte) ([]byte, error) {
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

func remoteAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr()
}

// writeError renders every failure: the envelope, the status from the code
// table, and X-Sandbox-Error on the sandbox's own envelopes. It also logs
// the rejection, so a developer sees why without reading the response.
func (s *Sandbox) writeError(w http.ResponseWriter, r *http.Request, e *Error) {
	if logs(s.log) {
		s.log.Info("request rejected", "method", r.Method, "path", r.URL.Path, "status", e.Status,
			"code", e.Code, "reason", e.explanation())
	}
	if e.Sandbox {
		w.Header().Set(HeaderSandboxError, "true")
	}
	if e.retryAfter {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, e.Status, envelope{Code: e.Code, Message: e.Message, Detail: e.Detail})
}

// jsonContentType is shared by every answer's header: net/http only reads it.
var jsonContentType = []string{"application/json"}

func writeJSON(w http.ResponseWriter, status int, v envelope) {
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	if buf, ok := v.Data.(pooledJSON); ok {
		// Code and message come from the code table: plain ASCII.
		for _, part := range [...]string{`{"code":"`, v.Code, `","message":"`, v.Message, `","data":`} {
			_, _ = io.WriteString(w, part)
		}
		_, _ = w.Write(*buf)
		_, _ = io.WriteString(w, "}\n")
		putBuffer(buf)
		return
	}
	if raw, ok := v.Data.(json.RawMessage); ok && v.Detail == "" {
		// Data encoded once in advance (the channel list): write it as is
		// instead of having encoding/json re-validate it on every call.
		for _, part := range [...]string{`{"code":"`, v.Code, `","message":"`, v.Message, `","data":`} {
			_, _ = io.WriteString(w, part)
		}
		_, _ = w.Write(raw)
		_, _ = io.WriteString(w, "}\n")
		return
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
