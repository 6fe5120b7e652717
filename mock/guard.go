package mock

import (
	"crypto/subtle"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// What keeps a web page from driving a developer's sandbox. [sandbox]
// BJPAY has no control API; the sandbox's runs next to a browser, with
// public demo credentials, so every control route and dashboard page
// checks, before anything else:
//
//   - the Host header names the sandbox (checkHost): a loopback name, an IP
//     address, the --public-url host or an --allow-host one. A DNS
//     rebinding attack reaches the sandbox under the attacker's own host
//     name: 421 Misdirected Request.
//   - the request is not cross-site (checkSite): an Origin other than the
//     sandbox's own, or Sec-Fetch-Site cross-site or same-site (another
//     port of localhost), is refused with 403 — top-level navigations to a
//     page excepted, which show the user a page and let the other site
//     read nothing.
//   - a body is JSON, or YAML for a scenario upload (checkBody): 415
//     otherwise, so that no simple cross-site form can post one.
//   - a browser that holds the dashboard's CSRF cookie sends it back in a
//     header (checkCSRF): the dashboard's own script does.
//
// Health, the OpenAPI document, the hosted payment page and its assets,
// and BJPAY's surface (its credentials protect it; merchants reach it by
// any name) answer any host. The hosted page's Pay and Cancel are refused
// cross-site too.

// Media types of request bodies.
var (
	jsonBody = []string{"application/json"}
	yamlBody = []string{"application/yaml", "application/x-yaml", "text/yaml", "application/json"}
)

// allowedHost reports whether host (a Host header's name, without the
// port) names this sandbox.
func (s *Sandbox) allowedHost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "" || host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return true // an address is no rebinding: the attack needs the attacker's name
	}
	return s.hosts[host]
}

func (s *Sandbox) checkHost(r *http.Request) error {
	host := r.Host
	if h, _, err := splitHostPort(host); err == nil {
		host = h
	}
	if s.allowedHost(host) {
		return nil
	}
	return errorf(KindMisdirected, "the Host header %q does not name this sandbox; its control API and dashboard answer loopback names, IP addresses, the --public-url host and the hosts given with --allow-host (BJPAY_SANDBOX_ALLOW_HOST), to keep pages on other sites from reaching it through DNS rebinding", r.Host)
}

// splitHostPort is net.SplitHostPort for a Host header, whose port is
// optional.
func splitHostPort(hostport string) (host, port string, err error) {
	u, err := url.Parse("http://" + hostport)
	if err != nil {
		return "", "", err
	}
	return u.Hostname(), u.Port(), nil
}

// checkSite refuses requests a browser sends on behalf of another site.
// As Go's http.CrossOriginProtection does, Sec-Fetch-Site decides when a
// browser sends it (every current one does), and Origin otherwise: a page
// served with Referrer-Policy: no-referrer, as the sandbox's are, posts
// its own forms with "Origin: null".
func checkSite(r *http.Request) error {
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
		r.Header.Get("Sec-Fetch-Mode") == "navigate" && r.Header.Get("Sec-Fetch-Dest") == "document" {
		return nil // a top-level navigation: the user sees a page, no other site reads it
	}
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "same-origin", "none":
		return nil
	case "":
	default:
		return errorf(KindForbidden, "this request comes from another site (Sec-Fetch-Site: %s); the control API and the dashboard answer their own pages and non-browser clients only", site)
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil // not a browser's cross-origin request
	}
	if u, err := url.Parse(origin); err == nil && origin != "null" && strings.EqualFold(u.Host, r.Host) {
		return nil
	}
	return errorf(KindForbidden, "this request comes from the page %q, not from the sandbox's own (%s); the control API and the dashboard answer their own pages and non-browser clients only", origin, r.Host)
}

// checkBody requires a body, when there is one, to be of one of types.
func checkBody(r *http.Request, types []string) error {
	if r.ContentLength == 0 || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return nil
	}
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		for _, t := range types {
			if mt == t {
				return nil
			}
		}
	}
	if ct == "" {
		ct = "none"
	}
	return errorf(KindMediaType, "Content-Type %s is not accepted here; send the body as %s (e.g. curl -H 'Content-Type: %s')", ct, strings.Join(types, ", "), types[0])
}

// The dashboard's CSRF token: a random value in a cookie its script can
// read (SameSite=Strict: no other site's request carries it), sent back
// in a header on every POST; double-submit, so the sandbox keeps no
// sessions.
const (
	csrfCookie = "bjpay_sandbox_csrf"
	csrfHeader = "X-Sandbox-CSRF"
)

// checkCSRF: a request that carries the cookie carries the token too.
func checkCSRF(r *http.Request) error {
	if r.Method != http.MethodPost {
		return nil
	}
	c, err := r.Cookie(csrfCookie)
	if err != nil {
		return nil // not a browser that opened the dashboard: the other checks apply
	}
	if got := r.Header.Get(csrfHeader); got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(c.Value)) != 1 {
		return errorf(KindForbidden, "the %s header does not match the dashboard's %s cookie; reload the dashboard", csrfHeader, csrfCookie)
	}
	return nil
}

// setCSRFCookie gives a browser opening a dashboard page its token, once.
func setCSRFCookie(w http.ResponseWriter, r *http.Request) {
	if _, err := r.Cookie(csrfCookie); err == nil {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: randomHex(16), Path: ControlPrefix + "/",
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
}
