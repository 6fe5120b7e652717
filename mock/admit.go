package mock

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Who may use the control API and the dashboard, and for whom they act
// (a principal): loopback clients, as the admin, while the sandbox has no
// admin token; clients presenting the admin token, as the admin; clients
// presenting a merchant's token, as that merchant (scope.go says what each
// route lets a merchant do); everyone, as the admin, with
// Options.ExposeControl and no admin token. Once the sandbox has an admin
// token, loopback clients need a token too: a shared sandbox behind a
// reverse proxy on its host sees every client as loopback.

// tokenCookie carries a token (the admin's or a merchant's) for a browser.
const tokenCookie = "bjpay_sandbox_token"

// errRedirected: admit answered already (a redirect that sets the cookie).
var errRedirected = errors.New("redirected")

// principal is whom a control request acts for: the admin (every
// merchant) or one merchant.
type principal struct {
	clientID string // "" for the admin
}

var admin = principal{}

func (p principal) isAdmin() bool { return p.clientID == "" }

// scope names what p may reach, as refusals say it.
func (p principal) scope() string {
	if p.isAdmin() {
		return "admin"
	}
	return "merchant:" + p.clientID
}

// admit decides whether r may use the control API and the dashboard, and
// for whom. Tokens are compared as SHA-256 digests in constant time, and
// never appear in an answer or a log.
func (s *Sandbox) admit(w http.ResponseWriter, r *http.Request) (principal, error) {
	loopback := remoteAddr(r).Unmap().IsLoopback()
	open := s.adminHash == nil && (loopback || s.exposeCtl) // the admin without a token
	// A browser opening a page with ?token= once gets the cookie, and the
	// token leaves the address bar (and the history) at once.
	if q := r.URL.Query(); r.Method == http.MethodGet && q.Has("token") {
		p, err := s.checkToken(r, q.Get("token"))
		if err != nil {
			return p, err
		}
		http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: q.Get("token"), Path: ControlPrefix + "/",
			HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
		q.Del("token")
		u := *r.URL
		u.RawQuery = q.Encode()
		http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
		return p, errRedirected
	}
	if token, ok := bearer(r.Header.Get("Authorization")); ok && token != "" {
		return s.checkToken(r, token)
	}
	if c, err := r.Cookie(tokenCookie); err == nil && c.Value != "" {
		if id, ok := s.access.merchantOf(c.Value); ok && open {
			return principal{id}, nil // the browser asked for this merchant's view
		}
		if !open {
			return s.checkToken(r, c.Value)
		}
		// A cookie left by an earlier run where the client needs none.
	}
	switch {
	case open:
		return admin, nil
	case s.adminHash != nil:
		w.Header().Set("WWW-Authenticate", `Bearer realm="bjpay-sandbox control API"`)
		who := "clients other than loopback ones (this one is " + r.RemoteAddr + ")"
		if loopback {
			who = "every client, loopback ones included, since the sandbox has an admin token"
		}
		return admin, errorf(KindUnauthorized, "the control API needs a token from %s: the admin token, or a merchant's token (POST /_sandbox/merchants answers one); send \"Authorization: Bearer <token>\", or open a dashboard page with ?token=<token> once", who)
	}
	return admin, errorf(KindForbidden, "the control API answers loopback clients only, and this request came from %s; present a merchant's token (Authorization: Bearer <token>), or start the sandbox with --admin-token (BJPAY_SANDBOX_ADMIN_TOKEN) to reach it from other hosts with that token", r.RemoteAddr)
}

// bearer reads the token of an Authorization header. The scheme is matched
// case-insensitively, as HTTP's authentication schemes are (RFC 9110).
func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// checkToken finds whose token this is, the admin's or a merchant's, after
// refusing a client that failed too often lately: guessing is limited to
// failLimit tries a minute from each client, whichever token it guesses.
func (s *Sandbox) checkToken(r *http.Request, token string) (principal, error) {
	client := s.clientAddr(r)
	if s.failures.blocked(client, s.wallNow()) {
		return admin, errorf(KindTooMany, "too many wrong tokens from %s in the last minute; wait a minute and retry", client)
	}
	if s.isAdminToken(token) {
		return admin, nil
	}
	if id, ok := s.access.merchantOf(token); ok {
		return principal{id}, nil
	}
	s.failures.add(client, s.wallNow())
	return admin, errorf(KindForbidden, "the token sent is neither the sandbox's admin token nor a merchant's (a merchant's token stops working when it is rotated, or at a reset)")
}

func (s *Sandbox) isAdminToken(token string) bool {
	if s.adminHash == nil {
		return false
	}
	got := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(got[:], s.adminHash[:]) == 1
}

// failLimit is how many wrong tokens a client may send in a minute.
// [sandbox] Enough for typos, far too few to guess a token of 16 or more
// characters.
const failLimit = 10

// failures counts failed token attempts per client, in one-minute windows.
// It holds at most maxClients clients; beyond, windows that ended are
// dropped, and if none has, new clients go uncounted rather than the
// memory growing.
type failures struct {
	mu      sync.Mutex
	clients map[netip.Addr]*window
}

type window struct {
	start time.Time
	n     int
}

const maxClients = 10_000

func (f *failures) blocked(client netip.Addr, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.clients[client]
	return w != nil && now.Sub(w.start) < time.Minute && w.n >= failLimit
}

func (f *failures) add(client netip.Addr, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.clients == nil {
		f.clients = map[netip.Addr]*window{}
	}
	w := f.clients[client]
	if w == nil || now.Sub(w.start) >= time.Minute {
		if w == nil && len(f.clients) >= maxClients {
			for a, old := range f.clients {
				if now.Sub(old.start) >= time.Minute {
					delete(f.clients, a)
				}
			}
			if len(f.clients) >= maxClients {
				return
			}
		}
		w = &window{start: now}
		f.clients[client] = w
	}
	w.n++
}

// clientAddr is the address failed attempts are counted against: the
// connection's peer, or, when that is a trusted proxy, the last address in
// X-Forwarded-For that is not one.
func (s *Sandbox) clientAddr(r *http.Request) netip.Addr {
	addr := remoteAddr(r).Unmap()
	if !s.trusted(addr) {
		return addr
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return addr // a hop we cannot read: count the proxy
		}
		if a = a.Unmap(); !s.trusted(a) {
			return a
		}
	}
	return addr
}

func (s *Sandbox) trusted(a netip.Addr) bool {
	for _, p := range s.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// allowHosts reads Options.AllowHosts: host names, without scheme, port or
// path; the host of publicURL is added.
func allowHosts(names []string, publicURL string) (map[string]bool, error) {
	hosts := map[string]bool{}
	for _, n := range names {
		n = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(n), "."))
		if n == "" || strings.ContainsAny(n, ":/@?# ") {
			return nil, fmt.Errorf("allowed host %q is not a host name; expected a name such as sandbox or sandbox.example.com, without scheme, port or path", n)
		}
		hosts[n] = true
	}
	if u, err := url.Parse(publicURL); err == nil && u.Hostname() != "" {
		hosts[strings.ToLower(u.Hostname())] = true
	}
	return hosts, nil
}
