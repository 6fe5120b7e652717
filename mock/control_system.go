package mock

import (
	"net/http"

	"github.com/bjpay/bjpay-sandbox/scenarios"
)

func (s *Sandbox) ctlHealth(w http.ResponseWriter, r *http.Request) error {
	return writeControl(w, http.StatusOK, map[string]any{"status": "ok", "clock": s.clockView()})
}

func (s *Sandbox) ctlStats(w http.ResponseWriter, r *http.Request) error {
	st, err := s.stats(r.Context())
	if err != nil {
		return s.storeFailed("read its counts", err)
	}
	return writeControl(w, http.StatusOK, st)
}

func (s *Sandbox) ctlScenarios(w http.ResponseWriter, r *http.Request) error {
	return writeControl(w, http.StatusOK, s.scenarioViews())
}

// ctlLoadScenarios replaces the user's scenarios with the YAML body, checked
// exactly as `bjpay-sandbox scenarios lint` checks files.
func (s *Sandbox) ctlLoadScenarios(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, s.settings.MaxBodyBytes, nil)
	if err != nil {
		return err
	}
	list, perr := scenarios.Parse(storedScenarios, body)
	if perr != nil {
		return errorf(KindInvalid, "%s", perr)
	}
	if err := s.loadScenarios(r.Context(), body, list); err != nil {
		return err
	}
	s.log.Info("scenarios loaded", "count", len(list), "from", "control API")
	return s.ctlScenarios(w, r)
}

func (s *Sandbox) ctlReset(w http.ResponseWriter, r *http.Request) error {
	if err := s.Reset(); err != nil {
		return err
	}
	s.log.Info("reset")
	return writeControl(w, http.StatusOK, map[string]string{"status": "reset"})
}
