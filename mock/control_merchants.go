package mock

import (
	"net/http"

	"github.com/bjpay/bjpay-sandbox/mock/listen"
	"github.com/bjpay/bjpay-sandbox/mock/store"
	"github.com/gorilla/mux"
)

func (s *Sandbox) ctlListMerchants(w http.ResponseWriter, r *http.Request) error {
	return writeControl(w, http.StatusOK, s.merchants.views())
}

// ctlResetMerchant forgets one merchant's payments, deliveries and clock.
func (s *Sandbox) ctlResetMerchant(w http.ResponseWriter, r *http.Request) error {
	id, err := s.pathMerchant(r)
	if err != nil {
		return err
	}
	if err := s.ResetMerchant(r.Context(), id); err != nil {
		return err
	}
	s.log.Info("merchant reset", "clientId", id)
	return writeControl(w, http.StatusOK, map[string]string{"status": "reset", "clientId": id})
}

// ctlCreateMerchant registers a merchant; missing credentials are
// generated. The answer is the only place the secret and the merchant's
// control API token are shown.
func (s *Sandbox) ctlCreateMerchant(w http.ResponseWriter, r *http.Request) error {
	var in store.Merchant
	if _, err := decodeControl(w, r, &in); err != nil {
		return err
	}
	m, err := s.AddMerchant(r.Context(), in)
	if err != nil {
		return err
	}
	out := map[string]string{"name": m.Name, "clientId": m.ClientID, "clientSecret": m.ClientSecret, "notifyUrl": m.NotifyURL}
	token, err := s.access.newToken(r.Context(), m.ClientID)
	if err != nil {
		// The merchant is stored, so the answer says it was created (an
		// error would deny a change that was made), without a token:
		// rotating makes one once the store takes changes again.
		s.log.Warn("merchant created without a token", "clientId", m.ClientID, "error", err)
		out["tokenError"] = "the token could not be saved (" + err.Error() + "); POST " + ControlPrefix + "/merchants/" + m.ClientID + "/token makes one"
	} else {
		out["token"] = token
	}
	return writeControl(w, http.StatusCreated, out)
}

// ctlRotateToken makes a merchant's token anew, configured merchants'
// included (the only way they get one): the previous token stops working
// at once, and listeners connected with it are closed.
func (s *Sandbox) ctlRotateToken(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["clientId"]
	if s.merchants.get(r.Context(), id) == nil {
		return errorf(KindNotFound, "no merchant with clientId %q", id)
	}
	token, err := s.access.newToken(r.Context(), id)
	if err != nil {
		return s.storeFailed("save the token of merchant "+id, err)
	}
	s.listeners.stop(id, true, listen.CloseRevoked, "the token was rotated")
	s.log.Info("merchant token rotated", "clientId", id)
	return writeControl(w, http.StatusOK, map[string]string{"clientId": id, "token": token})
}

// ctlWhoami says whom the request acts for: a tool given a token learns
// which merchant it is (bjpay-sandbox listen --off, test --token).
func (s *Sandbox) ctlWhoami(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r)
	v := map[string]string{"scope": "admin"}
	if !p.isAdmin() {
		v = map[string]string{"scope": "merchant", "clientId": p.clientID}
	}
	return writeControl(w, http.StatusOK, v)
}
