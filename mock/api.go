package mock

import (
	"errors"
	"net/http"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/store"
	"github.com/bjpay/bjpay-sandbox/scenarios"
	"github.com/gorilla/mux"
)

// apiRoutes registers BJPAY's surface and returns Create Payment's handler,
// for the router's shortcut.
func (s *Sandbox) apiRoutes(r *mux.Router) http.Handler {
	// Get Available Payment: the channel catalogue.
	r.Handle("/api/merchant/payment-channel", s.bjpay(s.handleChannels)).Methods(http.MethodPost)
	// Create Payment.
	create := s.bjpay(s.handleCreate)
	r.Handle(createPath, create).Methods(http.MethodPost)
	// Get Invoice (inquiry) by the merchant's reference number.
	r.Handle("/api/merchant/transaction/inquiry/{referenceNumber}", s.bjpay(s.handleInquiry)).Methods(http.MethodPost)
	return create
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
func (s *Sandbox) bjpay(h func(c call) (any, error)) http.Handler {
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
		m, err := s.authenticate(r.Context(), r.Header.Get(HeaderClientID), r.Header.Get(HeaderClientSecret), remoteAddr(r))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := s.checkRequestTime(r.Header.Get(HeaderRequestTime)); err != nil {
			s.writeError(w, r, err)
			return
		}
		data, err := h(call{r: r, merchant: m, body: body}) // by value: a *call would escape
		if errors.Is(err, errDrop) {
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

func (s *Sandbox) handleChannels(c call) (any, error) {
	return s.channelsData, nil
}

func (s *Sandbox) handleCreate(c call) (any, error) {
	if n := s.notifier.Pending(); n >= s.maxPend {
		// Overload, not bad input: the sandbox's own 503, with the way out.
		return nil, errorf(KindUnavailable, "the sandbox has %d notifies waiting for delivery, its limit (--max-pending-notifies); it takes no new payments until they drain: retry shortly, make the merchant's notify endpoint answer faster, or raise the limit", n)
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
		// Every notify the scenario can make counts against the bound: one
		// payment may not queue a scenario's worth of notifies past it.
		if n, cost := s.notifier.Pending()+s.clocks.promised(), int64(sc.Notifies()); n+cost > s.maxPend {
			return nil, errorf(KindUnavailable, "the sandbox has %d notifies waiting or scheduled, and scenario %q would add up to %d; its limit is %d (--max-pending-notifies): retry shortly, make the merchant's notify endpoint answer faster, or raise the limit", n, sc.Name, cost, s.maxPend)
		}
		if err := forceCreate(&c, sc); err != nil {
			return nil, err
		}
	}
	tx, err := s.create(c.r.Context(), c.merchant, &req, s.baseURL(c.r), sc)
	if err != nil {
		return nil, err
	}
	return encodeTransaction(&tx), nil
}

// forceCreate applies a scenario's create section: latency first, then a
// forced answer instead of the payment, if any.
func forceCreate(c *call, sc *scenarios.Scenario) error {
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
		return &Error{Kind: KindForced, Status: cr.Status, Msg: "forced by scenario \"" + sc.Name + "\": the sandbox plays a failing gateway"}
	case cr.Drop:
		return errDrop
	}
	return nil
}

// errDrop asks the wrapper to close the connection without an answer.
var errDrop = errors.New("drop the connection")

func (s *Sandbox) handleInquiry(c call) (any, error) {
	ref := mux.Vars(c.r)["referenceNumber"]
	tx, err := s.store.Get(c.r.Context(), c.merchant.ClientID, ref)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// [sandbox] An unknown reference (or another merchant's) is code
		// 14, filed as not found (HTTP 404).
		return nil, codeErr(CodeInvalidReference, "no transaction with referenceNumber %q for client %q", ref, c.merchant.ClientID).as(KindNotFound)
	case err != nil:
		return nil, s.storeFailed("read transaction "+ref, err)
	}
	return encodeTransaction(&tx), nil
}

func encodeTransaction(tx *store.Transaction) pooledJSON {
	buf := buffers.Get().(*[]byte)
	*buf = tx.AppendJSON((*buf)[:0])
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
