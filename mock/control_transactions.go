package mock

import (
	"net/http"
	"slices"
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
	f := store.Filter{ClientID: q.Get("clientId"), Status: strings.ToUpper(q.Get("status")), Reference: q.Get("referenceNumber")}
	txs, _, err := s.store.List(r.Context(), f)
	if err != nil {
		return s.storeFailed("read the transactions", err)
	}
	out := make([]txView, len(txs))
	for i := range txs {
		out[i] = view(&txs[i])
	}
	return writeControl(w, http.StatusOK, out)
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

func (s *Sandbox) ctlDeliveries(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	as, _, err := s.store.Attempts(r.Context(), store.AttemptFilter{ClientID: q.Get("clientId"), Reference: q.Get("referenceNumber")})
	if err != nil {
		return s.storeFailed("read the journal", err)
	}
	slices.Reverse(as)
	return writeControl(w, http.StatusOK, as)
}
