package mock

import (
	"net/http"
	"time"
)

func (s *Sandbox) ctlClock(w http.ResponseWriter, r *http.Request) error {
	return writeControl(w, http.StatusOK, s.clockView())
}

// ctlAdvance moves the clock forward and answers once everything that
// became due (expiries, timeline steps, retries) has run, so the caller can
// look at the result at once. Notifies it triggers are delivered after.
func (s *Sandbox) ctlAdvance(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		By string `json:"by"`
	}
	if _, err := decodeControl(w, r, &in); err != nil {
		return err
	}
	d, err := time.ParseDuration(in.By)
	if err != nil || d < 0 {
		return errorf(KindInvalid, "by is %q; expected a duration of 0 or more such as \"90s\", \"15m\" or \"24h\"", in.By)
	}
	if to := s.clock.Now().Add(d); !InRange(to) || to.Before(s.clock.Now()) {
		return errorf(KindInvalid, "advancing by %s would take the clock past the year 9999", in.By)
	}
	s.AdvanceClock(d)
	return writeControl(w, http.StatusOK, s.clockView())
}

func (s *Sandbox) ctlSetClock(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Now string `json:"now"`
	}
	if _, err := decodeControl(w, r, &in); err != nil {
		return err
	}
	t, err := time.Parse(time.RFC3339, in.Now)
	if err != nil || !InRange(t) {
		return errorf(KindInvalid, "now is %q; expected an RFC 3339 time such as 2024-06-23T13:00:48+07:00", in.Now)
	}
	s.SetClock(t)
	return writeControl(w, http.StatusOK, s.clockView())
}
