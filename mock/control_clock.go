package mock

import (
	"net/http"
	"time"

	"github.com/gorilla/mux"
)

// The clocks: the global one, and each merchant's (GET, and the same
// bodies under /merchants/{clientId}/clock). A merchant follows the global
// clock until its own is advanced or set; /clock/reset puts it back.

func (s *Sandbox) ctlClock(w http.ResponseWriter, r *http.Request) error {
	return writeControl(w, http.StatusOK, s.clockView())
}

// ctlAdvance moves the global clock forward and answers once everything
// that became due (expiries, timeline steps, retries) has run, so the
// caller can look at the result at once. Notifies it triggers are
// delivered after.
func (s *Sandbox) ctlAdvance(w http.ResponseWriter, r *http.Request) error {
	d, err := readAdvance(w, r, s.clocks.global)
	if err != nil {
		return err
	}
	if err := s.AdvanceClock(d); err != nil {
		return err
	}
	return writeControl(w, http.StatusOK, s.clockView())
}

func (s *Sandbox) ctlSetClock(w http.ResponseWriter, r *http.Request) error {
	t, err := readSet(w, r)
	if err != nil {
		return err
	}
	if err := s.SetClock(t); err != nil {
		return err
	}
	return writeControl(w, http.StatusOK, s.clockView())
}

// pathMerchant is the {clientId} of the path, a merchant of the sandbox.
func (s *Sandbox) pathMerchant(r *http.Request) (string, error) {
	id := mux.Vars(r)["clientId"]
	if s.merchants.get(r.Context(), id) == nil {
		return "", errorf(KindNotFound, "no merchant with clientId %q", id)
	}
	return id, nil
}

func (s *Sandbox) ctlMerchantClock(w http.ResponseWriter, r *http.Request) error {
	id, err := s.pathMerchant(r)
	if err != nil {
		return err
	}
	return writeControl(w, http.StatusOK, s.merchantClockView(id))
}

func (s *Sandbox) ctlMerchantAdvance(w http.ResponseWriter, r *http.Request) error {
	id, err := s.pathMerchant(r)
	if err != nil {
		return err
	}
	clock, _ := s.clocks.of(id)
	d, err := readAdvance(w, r, clock)
	if err != nil {
		return err
	}
	if err := s.AdvanceMerchantClock(id, d); err != nil {
		return err
	}
	return writeControl(w, http.StatusOK, s.merchantClockView(id))
}

func (s *Sandbox) ctlMerchantSetClock(w http.ResponseWriter, r *http.Request) error {
	id, err := s.pathMerchant(r)
	if err != nil {
		return err
	}
	t, err := readSet(w, r)
	if err != nil {
		return err
	}
	if err := s.SetMerchantClock(id, t); err != nil {
		return err
	}
	return writeControl(w, http.StatusOK, s.merchantClockView(id))
}

func (s *Sandbox) ctlMerchantResetClock(w http.ResponseWriter, r *http.Request) error {
	id, err := s.pathMerchant(r)
	if err != nil {
		return err
	}
	if err := s.ResetMerchantClock(id); err != nil {
		return err
	}
	return writeControl(w, http.StatusOK, s.merchantClockView(id))
}

// readAdvance reads {"by": "24h"}: a duration of 0 or more that keeps
// clock within the years it can show.
func readAdvance(w http.ResponseWriter, r *http.Request, clock *SandboxClock) (time.Duration, error) {
	var in struct {
		By string `json:"by"`
	}
	if _, err := decodeControl(w, r, &in); err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(in.By)
	if err != nil || d < 0 {
		return 0, errorf(KindInvalid, "by is %q; expected a duration of 0 or more such as \"90s\", \"15m\" or \"24h\"", in.By)
	}
	if now := clock.Now(); !InRange(now.Add(d)) || now.Add(d).Before(now) {
		return 0, errorf(KindInvalid, "advancing by %s would take the clock past the year 9999", in.By)
	}
	return d, nil
}

// readSet reads {"now": "RFC 3339"}.
func readSet(w http.ResponseWriter, r *http.Request) (time.Time, error) {
	var in struct {
		Now string `json:"now"`
	}
	if _, err := decodeControl(w, r, &in); err != nil {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339, in.Now)
	if err != nil || !InRange(t) {
		return time.Time{}, errorf(KindInvalid, "now is %q; expected an RFC 3339 time such as 2024-06-23T13:00:48+07:00", in.Now)
	}
	return t, nil
}
