package mock

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/bjpay/bjpay-sandbox/mock/store"
	"github.com/gorilla/mux"
)

// txView is a transaction as the control API shows it: with its owner and
// scenario.
type txView struct {
	*store.Transaction
	ClientID string `json:"clientId"`
	Scenario string `json:"scenario,omitempty"`
}

func view(tx *store.Transaction) txView { return txView{tx, tx.ClientID, tx.Scenario} }

func (s *Sandbox) ctlListTransactions(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	page, err := pageOf(q)
	if err != nil {
		return err
	}
	f := store.Filter{ClientID: q.Get("clientId"), Status: strings.ToUpper(q.Get("status")), Reference: q.Get("referenceNumber"), Page: page}
	txs, next, err := s.store.List(r.Context(), f)
	if err != nil {
		return s.listFailed("transactions", page, err)
	}
	out := make([]txView, len(txs))
	for i := range txs {
		out[i] = view(&txs[i])
	}
	linkNext(w, r, next)
	return writeControl(w, http.StatusOK, out)
}

// Pages of the control API's lists. [sandbox] BJPAY has no such lists:
// the sandbox's are newest first, 100 to a page unless ?limit= says
// otherwise, up to 1,000; the next page is in a Link header (RFC 8288)
// and the body stays a bare JSON array.
const (
	defaultPageLimit = 100
	maxPageLimit     = 1000
)

// pageOf reads ?limit= and ?cursor=.
func pageOf(q url.Values) (store.Page, error) {
	p := store.Page{Limit: defaultPageLimit, Cursor: q.Get("cursor")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageLimit {
			return p, errorf(KindInvalid, "limit is %q; expected a whole number of entries per page from 1 to %d (default %d)", v, maxPageLimit, defaultPageLimit)
		}
		p.Limit = n
	}
	return p, nil
}

// linkNext names the next page, when there is one, in a Link header: the
// request's own path and query with the cursor of the next page.
func linkNext(w http.ResponseWriter, r *http.Request, next string) {
	if next == "" {
		return
	}
	q := r.URL.Query()
	q.Set("cursor", next)
	w.Header().Set("Link", "<"+r.URL.EscapedPath()+"?"+q.Encode()+`>; rel="next"`)
}

// listFailed is the error of a list the store could not read: the client's
// when its cursor is not one the sandbox gave.
func (s *Sandbox) listFailed(what string, page store.Page, err error) error {
	if errors.Is(err, store.ErrBadCursor) {
		return errorf(KindInvalid, "cursor %q is not one this sandbox gave for its %s; expected the cursor of a page's Link header (rel=\"next\"), or none for the newest", page.Cursor, what)
	}
	return s.storeFailed("read the "+what, err)
}

// pathTransaction resolves {referenceNumber} and the optional ?clientId=.
func (s *Sandbox) pathTransaction(r *http.Request) (store.Transaction, error) {
	return s.findTransaction(r.Context(), mux.Vars(r)["referenceNumber"], r.URL.Query().Get("clientId"))
}

func (s *Sandbox) ctlGetTransaction(w http.ResponseWriter, r *http.Request) error {
	tx, err := s.pathTransaction(r)
	if err != nil {
		return err
	}
	return writeControl(w, http.StatusOK, view(&tx))
}

// ctlTransition simulates the customer paying, the channel failing, or the
// payment running out of time.
func (s *Sandbox) ctlTransition(w http.ResponseWriter, r *http.Request) error {
	tx, err := s.pathTransaction(r)
	if err != nil {
		return err
	}
	to := map[string]string{"pay": store.StatusPaid, "fail": store.StatusFailed, "expire": store.StatusExpired}[mux.Vars(r)["action"]]
	if tx, err = s.transition(r.Context(), idOf(&tx), to, "control API"); err != nil {
		return err
	}
	return writeControl(w, http.StatusOK, view(&tx))
}

// ctlResend sends a notify for a transaction now: without a body, the
// notify of its current (terminal) status; with one, an ad hoc notify.
func (s *Sandbox) ctlResend(w http.ResponseWriter, r *http.Request) error {
	var in adHoc
	body, err := decodeControl(w, r, &in)
	if err != nil {
		return err
	}
	tx, err := s.pathTransaction(r)
	if err != nil {
		return err
	}
	ask := &in
	if !body {
		ask = nil
	}
	sent, err := s.resend(r.Context(), &tx, ask)
	if err != nil {
		return err
	}
	return writeControl(w, http.StatusAccepted, sent)
}

// ctlDeliveries lists the journal newest first. [sandbox] It was in the
// order attempts were recorded; pages made newest first the better order:
// the first page, the one a client polls, is what just happened, and a
// cursor walks back into the past, unmoved by new attempts.
func (s *Sandbox) ctlDeliveries(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	page, err := pageOf(q)
	if err != nil {
		return err
	}
	as, next, err := s.store.Attempts(r.Context(), store.AttemptFilter{ClientID: q.Get("clientId"), Reference: q.Get("referenceNumber"), Page: page})
	if err != nil {
		return s.listFailed("journal", page, err)
	}
	linkNext(w, r, next)
	return writeControl(w, http.StatusOK, as)
}
