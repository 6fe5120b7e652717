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

// Who may use the control API and the dashboard: loopback clients, and
// others with the admin token (or everyone, with Options.ExposeControl and
// no token).

// adminCookie carries the admin token for a browser.
const adminCookie = "bjpay_sandbox_admin"

// errRedirected: admit answered already (a redirect that sets the cookie).
var errRedirected = errors.New("redirected")

// admit decides whether r may use the control API and the dashboard.
// Tokens are compared as SHA-256 digests in constant time, and never
// appear in an answer or a log.
func (s *Sandbox) admit(w http.ResponseWriter, r *http.Request) error {
	if remoteAddr(r).Unmap().IsLoopback() {
		return nil
	}
	if s.adminHash == nil {
		if s.exposeCtl {
			return nil
		}
		return errorf(KindForbidden, "the control API answers loopback clients only, and this request came from %s; start the sandbox with --admin-token (BJPAY_SANDBOX_ADMIN_TOKEN) to reach it from other hosts with that token", r.RemoteAddr)
	}
	// A browser opening a page with ?token= once gets the cookie, and the
	// token leaves the address bar (and the history) at once.
	if q := r.URL.Query(); r.Method == http.MethodGet && q.Has("token") {
		if err := s.checkToken(r, q.Get("token")); err != nil {
			return err
		}
		http.SetCookie(w, &http.Cookie{Name: adminCookie, Value: q.Get("token"), Path: ControlPrefix + "/",
			HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
		q.Del("token")
		u := *r.URL
		u.RawQuery = q.Encode()
		http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
		return errRedirected
	}
	token, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		if c, err := r.Cookie(adminCookie); err == nil {
			token = c.Value
		}
	}
	if token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="bjpay-sandbox control API"`)
		return errorf(KindUnauthorized, "the control API needs the admin token from clients other than loopback ones (this one is %s); send \"Authorization: Bearer <token>\", or open a dashboard page with ?token=<token> once", r.RemoteAddr)
	}
	return s.checkToken(r, token)
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

// checkToken compares token with the admin token, after refusing a client
// that failed too often lately: guessing is limited to failLimit tries a
// minute from each client.
func (s *Sandbox) checkToken(r *http.Request, token string) error {
	client := s.clientAddr(r)
	if s.failures.blocked(client, s.wallNow()) {
		return errorf(KindTooMany, "too many wrong tokens from %s in the last minute; wait a minute and retry", client)
	}
	if !s.isAdminToken(token) {
		s.failures.add(client, s.wallNow())
		return errorf(KindForbidden, "the admin token sent is not the sandbox's")
	}
	return nil
}

func (s *Sandbox) isAdminToken(token string) bool {
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
