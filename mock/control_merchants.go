package mock

import (
	"net/http"

	"github.com/bjpay/bjpay-sandbox/mock/store"
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
// generated. The answer is the only place the secret is shown.
func (s *Sandbox) ctlCreateMerchant(w http.ResponseWriter, r *http.Request) error {
	var in store.Merchant
	if _, err := decodeControl(w, r, &in); err != nil {
		return err
	}
	m, err := s.AddMerchant(r.Context(), in)
	if err != nil {
		return err
	}
	return writeControl(w, http.StatusCreated, map[string]string{
		"name": m.Name, "clientId": m.ClientID, "clientSecret": m.ClientSecret, "notifyUrl": m.NotifyURL,
	})
}
