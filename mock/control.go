package mock

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/bjpay/bjpay-sandbox/scenarios"
	"github.com/gorilla/mux"
)

// ControlPrefix is where the sandbox's own API lives, apart from BJPAY's.
const ControlPrefix = "/_sandbox"

// controlRoutes registers the control API: JSON, GET for reading, POST for
// acting. Successes answer the resource itself; failures the sandbox
// envelope ({"code": "<HTTP status>", "message": ...}).
func (s *Sandbox) controlRoutes(r *mux.Router) {
	// On the main router, not a subrouter: mux reports a wrong method on a
	// subrouter's path as 404 instead of 405.
	c := controlRouter{s, r}

	// Health, for container checks and scripts waiting for start-up.
	c.Public("/health", s.ctlHealth).Methods(http.MethodGet)

	// Counts, for load tests of a webhook endpoint: "were all notifies
	// delivered?" without listing the journal.
	c.HandleFunc("/stats", s.ctlStats).Methods(http.MethodGet)

	// This API's OpenAPI document, public: it describes, it reveals nothing.
	c.Public("/openapi.yaml", serveOpenAPI).Methods(http.MethodGet)

	// Merchants: credentials created on the fly isolate parallel tests.
	c.HandleFunc("/merchants", s.ctlListMerchants).Methods(http.MethodGet)
	c.HandleFunc("/merchants", s.ctlCreateMerchant).Methods(http.MethodPost)

	// Transactions, and simulating the customer or the channel.
	c.HandleFunc("/transactions", s.ctlListTransactions).Methods(http.MethodGet)
	c.HandleFunc("/transactions/{referenceNumber}", s.ctlGetTransaction).Methods(http.MethodGet)
	c.HandleFunc("/transactions/{referenceNumber}/{action:pay|fail|expire}", s.ctlTransition).Methods(http.MethodPost)
	c.HandleFunc("/transactions/{referenceNumber}/notify", s.ctlResend).Methods(http.MethodPost)

	// The delivery journal.
	c.HandleFunc("/deliveries", s.ctlDeliveries).Methods(http.MethodGet)

	// The sandbox clock.
	c.HandleFunc("/clock", s.ctlClock).Methods(http.MethodGet)
	c.HandleFunc("/clock/advance", s.ctlAdvance).Methods(http.MethodPost)
	c.HandleFunc("/clock/set", s.ctlSetClock).Methods(http.MethodPost)

	// Scenarios: list, or load a YAML file replacing the user's scenarios.
	c.HandleFunc("/scenarios", s.ctlScenarios).Methods(http.MethodGet)
	c.HandleFunc("/scenarios", s.ctlLoadScenarios).Methods(http.MethodPost)

	// Back to the state at start.
	c.HandleFunc("/reset", s.ctlReset).Methods(http.MethodPost)
}

type controlRouter struct {
	s *Sandbox
	r *mux.Router
}

// HandleFunc registers a control endpoint: loopback clients, clients
// presenting the admin token, or everyone when the sandbox was started
// with Options.ExposeControl and no token.
func (c controlRouter) HandleFunc(path string, f http.HandlerFunc) *mux.Route {
	s := c.s
	return c.r.HandleFunc(ControlPrefix+path, func(w http.ResponseWriter, r *http.Request) {
		if err := s.admit(w, r); err != nil {
			if err != errRedirected {
				s.writeError(w, r, err)
			}
			return
		}
		f(w, r)
	})
}

// adminCookie carries the admin token for a browser.
const adminCookie = "bjpay_sandbox_admin"

// errRedirected: admit answered already (a redirect that sets the cookie).
var errRedirected = &Error{Code: "redirected"}

// admit decides whether r may use the control API and the dashboard.
// Tokens are compared as SHA-256 digests in constant time, and never
// appear in an answer or a log.
func (s *Sandbox) admit(w http.ResponseWriter, r *http.Request) *Error {
	if remoteAddr(r).Unmap().IsLoopback() {
		return nil
	}
	if s.adminHash == nil {
		if s.exposeCtl {
			return nil
		}
		return sandboxErr(http.StatusForbidden, "the control API answers loopback clients only, and this request came from %s; start the sandbox with --admin-token (BJPAY_SANDBOX_ADMIN_TOKEN) to reach it from other hosts with that token", r.RemoteAddr)
	}
	// A browser opening a page with ?token= once gets the cookie, and the
	// token leaves the address bar (and the history) at once.
	if q := r.URL.Query(); r.Method == http.MethodGet && q.Has("token") {
		if !s.isAdminToken(q.Get("token")) {
			return sandboxErr(http.StatusForbidden, "the token in ?token= is not the sandbox's admin token")
		}
		http.SetCookie(w, &http.Cookie{Name: adminCookie, Value: q.Get("token"), Path: ControlPrefix + "/",
			HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
		q.Del("token")
		u := *r.URL
		u.RawQuery = q.Encode()
		http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
		return errRedirected
	}
	token, bearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !bearer {
		token = ""
		if c, err := r.Cookie(adminCookie); err == nil {
			token = c.Value
		}
	}
	switch {
	case token == "":
		w.Header().Set("WWW-Authenticate", `Bearer realm="bjpay-sandbox control API"`)
		return sandboxErr(http.StatusUnauthorized, "the control API needs the admin token from clients other than loopback ones (this one is %s); send \"Authorization: Bearer <token>\", or open a dashboard page with ?token=<token> once", r.RemoteAddr)
	case !s.isAdminToken(token):
		return sandboxErr(http.StatusForbidden, "the admin token sent is not the sandbox's")
	}
	return nil
}

func (s *Sandbox) isAdminToken(token string) bool {
	got := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(got[:], s.adminHash[:]) == 1
}

// Public registers an endpoint every client may use: it reads or changes
// nothing a merchant's test depends on.
func (c controlRouter) Public(path string, f http.HandlerFunc) *mux.Route {
	return c.r.HandleFunc(ControlPrefix+path, f)
}

func writeControl(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func (s *Sandbox) ctlHealth(w http.ResponseWriter, r *http.Request) {
	writeControl(w, http.StatusOK, map[string]any{"status": "ok", "clock": s.clockView()})
}

// stats is what GET /_sandbox/stats answers.
type stats struct {
	Transactions map[string]int `json:"transactions"` // by status
	Attempts     map[string]int `json:"attempts"`     // delivery attempts by outcome
	Backlog      backlog        `json:"backlog"`
}

func (s *Sandbox) ctlStats(w http.ResponseWriter, r *http.Request) {
	writeControl(w, http.StatusOK, stats{Transactions: s.store.statusCounts(), Attempts: s.journal.outcomeCounts(), Backlog: s.notifier.backlog()})
}

// merchantView is a merchant without its secret.
type merchantView struct {
	Name       string   `json:"name"`
	ClientID   string   `json:"clientId"`
	NotifyURL  string   `json:"notifyUrl,omitempty"`
	AllowedIPs []string `json:"allowedIps,omitempty"`
}

func (s *Sandbox) ctlListMerchants(w http.ResponseWriter, r *http.Request) {
	writeControl(w, http.StatusOK, s.merchantViews())
}

// merchantViews lists the merchants by client id, without secrets.
func (s *Sandbox) merchantViews() []merchantView {
	s.mu.RLock()
	out := make([]merchantView, 0, len(s.merchants))
	for _, m := range s.merchants {
		out = append(out, merchantView{m.Name, m.ClientID, m.NotifyURL, m.AllowedIPs})
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ClientID < out[j].ClientID })
	return out
}

// ctlCreateMerchant registers a merchant; missing credentials are
// generated. The answer is the only place the secret is shown.
func (s *Sandbox) ctlCreateMerchant(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name         string `json:"name"`
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
		NotifyURL    string `json:"notifyUrl"`
	}
	if err := decodeControl(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if in.ClientID == "" {
		in.ClientID = newUUID()
	}
	if in.ClientSecret == "" {
		in.ClientSecret = "sbx_" + randomHex(16)
	}
	for field, v := range map[string]string{"clientId": in.ClientID, "clientSecret": in.ClientSecret} {
		if !validCredential(v) {
			s.writeError(w, r, sandboxErr(http.StatusBadRequest, "%s must be 1 to 128 printable ASCII characters without spaces; omit it to have one generated", field))
			return
		}
	}
	if in.Name == "" {
		in.Name = "Merchant " + in.ClientID
	}
	if in.NotifyURL != "" {
		if msg := checkHTTPURL(in.NotifyURL); msg != "" {
			s.writeError(w, r, sandboxErr(http.StatusBadRequest, "notifyUrl %s", msg))
			return
		}
	}
	m := Merchant{Name: in.Name, ClientID: in.ClientID, ClientSecret: in.ClientSecret, NotifyURL: in.NotifyURL}
	s.mu.Lock()
	_, taken := s.merchants[m.ClientID]
	if !taken {
		s.merchants[m.ClientID] = newMerchant(m)
	}
	s.mu.Unlock()
	if taken {
		s.writeError(w, r, sandboxErr(http.StatusConflict, "a merchant with clientId %q exists; omit clientId to get a fresh one", m.ClientID))
		return
	}
	if s.durable != nil {
		if err := s.storeMerchant(m); err != nil {
			s.mu.Lock()
			delete(s.merchants, m.ClientID)
			s.mu.Unlock()
			s.writeError(w, r, err)
			return
		}
	}
	s.log.Info("merchant created", "clientId", m.ClientID)
	writeControl(w, http.StatusCreated, map[string]string{
		"name": m.Name, "clientId": m.ClientID, "clientSecret": m.ClientSecret, "notifyUrl": m.NotifyURL,
	})
}

// txView is a transaction as the control API shows it: with its owner and
// scenario.
type txView struct {
	*Transaction
	ClientID string `json:"clientId"`
	Scenario string `json:"scenario,omitempty"`
}

func view(tx *Transaction) txView { return txView{tx, tx.ClientID, tx.Scenario} }

func (s *Sandbox) ctlListTransactions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	clientID, status, ref := q.Get("clientId"), strings.ToUpper(q.Get("status")), q.Get("referenceNumber")
	txs := s.store.list(func(tx *Transaction) bool {
		return (clientID == "" || tx.ClientID == clientID) && (status == "" || tx.Status == status) &&
			(ref == "" || strings.Contains(tx.ReferenceNumber, ref))
	})
	out := make([]txView, len(txs))
	for i := range txs {
		out[i] = view(&txs[i])
	}
	writeControl(w, http.StatusOK, out)
}

// findTransaction resolves {referenceNumber} and the optional ?clientId=.
func (s *Sandbox) findTransaction(r *http.Request) (Transaction, *Error) {
	ref, clientID := mux.Vars(r)["referenceNumber"], r.URL.Query().Get("clientId")
	// Look the reference up per merchant: O(merchants), not O(transactions).
	owners := []string{clientID}
	if clientID == "" {
		s.mu.RLock()
		owners = make([]string, 0, len(s.merchants))
		for id := range s.merchants {
			owners = append(owners, id)
		}
		s.mu.RUnlock()
		sort.Strings(owners)
	}
	var txs []Transaction
	for _, id := range owners {
		if tx, ok := s.store.get(id, ref); ok {
			txs = append(txs, tx)
		}
	}
	switch len(txs) {
	case 0:
		if clientID != "" {
			return Transaction{}, sandboxErr(http.StatusNotFound, "no transaction with referenceNumber %q for client %q", ref, clientID)
		}
		return Transaction{}, sandboxErr(http.StatusNotFound, "no transaction with referenceNumber %q", ref)
	case 1:
		return txs[0], nil
	}
	owners = owners[:0]
	for _, tx := range txs {
		owners = append(owners, tx.ClientID)
	}
	return Transaction{}, sandboxErr(http.StatusConflict, "referenceNumber %q is used by %d merchants; add ?clientId= with one of: %s", ref, len(txs), strings.Join(owners, ", "))
}

func (s *Sandbox) ctlGetTransaction(w http.ResponseWriter, r *http.Request) {
	tx, err := s.findTransaction(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeControl(w, http.StatusOK, view(&tx))
}

// ctlTransition simulates the customer paying, the channel failing, or the
// payment running out of time.
func (s *Sandbox) ctlTransition(w http.ResponseWriter, r *http.Request) {
	tx, err := s.findTransaction(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	to := map[string]string{"pay": StatusPaid, "fail": StatusFailed, "expire": StatusExpired}[mux.Vars(r)["action"]]
	tx, err = s.transition(txID{tx.ClientID, tx.ReferenceNumber, tx.TransactionNumber}, to, "control API")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeControl(w, http.StatusOK, view(&tx))
}

// ctlResend sends a notify for a transaction now. Without a body it resends
// the notify of the current (terminal) status, delivered as the
// transaction's scenario says. With a body it sends an ad hoc notify, to test
// a merchant: any status (even one contradicting the stored one, which does
// not change), any variant, another totalAmount (validly signed), an
// X-Request-Time shifted from wall time, with or without retries; it is
// sent once, at once, whatever the scenario says about duplicates and delay.
func (s *Sandbox) ctlResend(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Status            string  `json:"status"`
		Variant           Variant `json:"variant"`
		TotalAmount       *int64  `json:"totalAmount"`
		RequestTimeOffset string  `json:"requestTimeOffset"`
		Retry             *bool   `json:"retry"`
	}
	raw, rerr := readBody(w, r, 64<<10, nil)
	if rerr != nil {
		s.writeError(w, r, rerr)
		return
	}
	adHoc := len(bytes.TrimSpace(raw)) > 0
	if adHoc {
		if err := decodeStrict(raw, &in); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	tx, err := s.findTransaction(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !adHoc {
		if tx.Status == StatusPending {
			s.writeError(w, r, sandboxErr(http.StatusConflict, "transaction %q is PENDING; BJPAY notifies results only (PAID, FAILED, EXPIRED): pay, fail or expire it first, or send an ad hoc notify with a body such as {\"status\": \"PAID\"}", tx.ReferenceNumber))
			return
		}
		ids := s.notify(&tx, tx.Status)
		writeControl(w, http.StatusAccepted, resendView{tx.ReferenceNumber, tx.Status, tx.policy.variant, tx.policy.variant.why(), tx.FinishNotifyURL, ids})
		return
	}

	p := *tx.policy
	p.delay, p.duplicates = 0, 0
	note := NotificationOf(&tx, tx.Status)
	switch in.Status {
	case "":
		if tx.Status == StatusPending {
			s.writeError(w, r, sandboxErr(http.StatusBadRequest, "transaction %q is PENDING; give the status to announce: PAID, FAILED or EXPIRED", tx.ReferenceNumber))
			return
		}
	case StatusPaid, StatusFailed, StatusExpired:
		note.Status = in.Status
	default:
		s.writeError(w, r, sandboxErr(http.StatusBadRequest, "status is %q; expected PAID, FAILED or EXPIRED", in.Status))
		return
	}
	if in.Variant != "" {
		v, verr := ParseVariant(string(in.Variant))
		if verr != nil {
			s.writeError(w, r, sandboxErr(http.StatusBadRequest, "variant: %v", verr))
			return
		}
		p.variant = v
	}
	if in.TotalAmount != nil {
		if *in.TotalAmount <= 0 || *in.TotalAmount > maxSafeAmount {
			s.writeError(w, r, sandboxErr(http.StatusBadRequest, "totalAmount is %d; expected a positive whole number of rupiah up to %d", *in.TotalAmount, int64(maxSafeAmount)))
			return
		}
		note.TotalAmount = *in.TotalAmount
	}
	if in.RequestTimeOffset != "" {
		d, perr := time.ParseDuration(in.RequestTimeOffset)
		if perr != nil || d.Abs() > 24*time.Hour {
			s.writeError(w, r, sandboxErr(http.StatusBadRequest, "requestTimeOffset is %q; expected a duration within ±24h such as \"-6m\"", in.RequestTimeOffset))
			return
		}
		p.timeOffset = d
	}
	if in.Retry != nil && !*in.Retry {
		p.retries = []time.Duration{}
	}
	ids := s.notifyAs(&tx, note, &p)
	writeControl(w, http.StatusAccepted, resendView{tx.ReferenceNumber, note.Status, p.variant, p.variant.why(), tx.FinishNotifyURL, ids})
}

// resendView answers a notify request: what is being sent, and the delivery
// ids to look for in /_sandbox/deliveries.
type resendView struct {
	ReferenceNumber string  `json:"referenceNumber"`
	Status          string  `json:"status"`
	Variant         Variant `json:"variant"`
	// Why is the variant's sentence (SignedNotify.Why): what was signed and
	// what is sent, so a test harness can say why a merchant must refuse it.
	Why         string   `json:"why"`
	NotifyURL   string   `json:"notifyUrl"`
	DeliveryIDs []string `json:"deliveryIds"`
}

func (s *Sandbox) ctlDeliveries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	writeControl(w, http.StatusOK, s.journal.list(q.Get("clientId"), q.Get("referenceNumber")))
}

// Transactions returns the merchant's transactions ("" for every
// merchant's), newest first.
func (s *Sandbox) Transactions(clientID string) []Transaction {
	return s.store.list(func(tx *Transaction) bool { return clientID == "" || tx.ClientID == clientID })
}

// Deliveries returns the journal's attempts for a merchant and reference
// ("" matches all), in the order they ended.
func (s *Sandbox) Deliveries(clientID, ref string) []Attempt { return s.journal.list(clientID, ref) }

type clockJSON struct {
	Now   time.Time `json:"now"`
	Mode  string    `json:"mode"`
	Speed float64   `json:"speed"`
}

func (s *Sandbox) clockView() clockJSON {
	return clockJSON{Now: s.clock.Now().In(wib).Truncate(time.Millisecond), Mode: s.clock.Mode(), Speed: s.clock.Speed()}
}

func (s *Sandbox) ctlClock(w http.ResponseWriter, r *http.Request) {
	writeControl(w, http.StatusOK, s.clockView())
}

// ctlAdvance moves the clock forward and answers once everything that
// became due (expiries, timeline steps, retries) has run, so the caller can
// look at the result at once. Notifies it triggers are delivered after.
func (s *Sandbox) ctlAdvance(w http.ResponseWriter, r *http.Request) {
	var in struct {
		By string `json:"by"`
	}
	if err := decodeControl(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	d, err := time.ParseDuration(in.By)
	if err != nil || d < 0 {
		s.writeError(w, r, sandboxErr(http.StatusBadRequest, "by is %q; expected a duration of 0 or more such as \"90s\", \"15m\" or \"24h\"", in.By))
		return
	}
	if to := s.clock.Now().Add(d); !InRange(to) || to.Before(s.clock.Now()) {
		s.writeError(w, r, sandboxErr(http.StatusBadRequest, "advancing by %s would take the clock past the year 9999", in.By))
		return
	}
	s.AdvanceClock(d)
	writeControl(w, http.StatusOK, s.clockView())
}

// AdvanceClock moves the sandbox clock forward by d and returns once
// everything that became due has run.
func (s *Sandbox) AdvanceClock(d time.Duration) {
	s.clock.Advance(d)
	s.sched.runDue()
}

func (s *Sandbox) ctlSetClock(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Now string `json:"now"`
	}
	if err := decodeControl(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	t, err := time.Parse(time.RFC3339, in.Now)
	if err != nil || !InRange(t) {
		s.writeError(w, r, sandboxErr(http.StatusBadRequest, "now is %q; expected an RFC 3339 time such as 2024-06-23T13:00:48+07:00", in.Now))
		return
	}
	s.clock.Set(t)
	s.sched.runDue()
	writeControl(w, http.StatusOK, s.clockView())
}

// scenarioView is a scenario as the control API lists it.
type scenarioView struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	File        string `json:"file"`
	Line        int    `json:"line,omitempty"`
}

func (s *Sandbox) ctlScenarios(w http.ResponseWriter, r *http.Request) {
	writeControl(w, http.StatusOK, s.scenarioViews())
}

// scenarioViews lists the scenarios in the order they are tried.
func (s *Sandbox) scenarioViews() []scenarioView {
	list := s.Scenarios()
	out := make([]scenarioView, len(list))
	for i, sc := range list {
		out[i] = scenarioView{sc.Name, sc.Description, sc.File, sc.At[""].Line}
	}
	return out
}

// ctlLoadScenarios replaces the user's scenarios with the YAML body, checked
// exactly as `bjpay-sandbox scenarios lint` checks files.
func (s *Sandbox) ctlLoadScenarios(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r, s.settings.MaxBodyBytes, nil)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	list, perr := scenarios.Parse("request-body.yaml", body)
	if perr != nil {
		s.writeError(w, r, sandboxErr(http.StatusBadRequest, "%s", perr))
		return
	}
	s.SetScenarios(list)
	s.log.Info("scenarios loaded", "count", len(list), "from", "control API")
	s.ctlScenarios(w, r)
}

// Reset forgets every transaction, delivery and pending notify, restores
// the configured merchants (dropping those made through the control API)
// and puts the clock back on wall time. Scenarios stay as loaded. In
// durable mode the state file is emptied too.
func (s *Sandbox) Reset() {
	s.store.reset()
	s.notifier.discardPending()
	s.journal.reset()
	s.mu.Lock()
	s.merchants = make(map[string]*merchant, len(s.initial))
	for _, m := range s.initial {
		s.merchants[m.ClientID] = newMerchant(m)
	}
	s.mu.Unlock()
	if s.durable != nil {
		if err := s.resetDurable(); err != nil {
			s.log.Error("data file reset failed", "file", s.durable.path, "error", err)
		}
	}
	s.clock.Set(s.wallNow())
}

func (s *Sandbox) ctlReset(w http.ResponseWriter, r *http.Request) {
	s.Reset()
	s.log.Info("reset")
	writeControl(w, http.StatusOK, map[string]string{"status": "reset"})
}

// decodeControl reads an optional JSON object body strictly: unknown
// fields and anything after the object are errors.
func decodeControl(w http.ResponseWriter, r *http.Request, v any) *Error {
	body, err := readBody(w, r, 64<<10, nil)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	return decodeStrict(body, v)
}

// decodeStrict decodes one JSON object from body: unknown fields and
// anything after the object are errors.
func decodeStrict(body []byte, v any) *Error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return sandboxErr(http.StatusBadRequest, "request body: %v", err)
	}
	if dec.More() {
		return sandboxErr(http.StatusBadRequest, "request body has more after the JSON object; expected one object")
	}
	return nil
}

// validCredential accepts what fits in an HTTP header as it is: 1 to 128
// printable ASCII characters, no spaces.
func validCredential(v string) bool {
	if len(v) == 0 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] > '~' {
			return false
		}
	}
	return true
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newUUID returns a random version 4 UUID, the form BJPAY client ids take.
func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return fmt.Sprintf("%s-%s-%s-%s-%s", h[0:8], h[8:12], h[12:16], h[16:20], h[20:])
}
