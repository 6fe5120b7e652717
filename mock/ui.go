package mock

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/notify"
	"github.com/bjpay/bjpay-sandbox/mock/store"
	"github.com/gorilla/mux"
)

// The browser pages: the dashboard (developers, loopback unless the
// control API is exposed) and the hosted payment page (customers, anyone).
// Server-rendered html/template pages that read without JavaScript; a
// little vanilla JS adds the buttons' actions, live updates and the
// countdown. Every asset is embedded: no CDN, no web font, so the pages work
// offline.

//go:embed web
var webFS embed.FS

// pages holds each page's template, parsed once with the shared layout.
var pages = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, page := range []string{"dashboard", "transaction", "pay", "notfound"} {
		out[page] = template.Must(template.New("layout.html").Funcs(uiFuncs).ParseFS(webFS, "web/layout.html", "web/"+page+".html"))
	}
	return out
}()

var uiFuncs = template.FuncMap{
	"rupiah": rupiah,
	"when":   func(t time.Time) string { return t.In(notify.WIB).Format("2 Jan 2006 15:04:05 MST") },
	"lower":  strings.ToLower,
	"pretty": prettyJSON,
	"path":   url.PathEscape,
	"query":  url.QueryEscape,
	"list":   func(v ...string) []string { return v },
	// trusted marks a URL the sandbox checked when the payment was created
	// (finishReturnUrl: no javascript:, data: or vbscript:) or made itself
	// (a deeplink), so an app scheme such as gojek:// or myapp:// is kept.
	"trusted": func(s string) template.URL { return template.URL(s) },
}

// rupiah formats an amount as Indonesians write it: Rp58.000.
func rupiah(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-Rp" + b.String()
	}
	return "Rp" + b.String()
}

// prettyJSON indents a JSON body for reading; anything else stays as it is.
func prettyJSON(s string) string {
	var buf bytes.Buffer
	if json.Indent(&buf, []byte(s), "", "  ") != nil {
		return s
	}
	return buf.String()
}

// uiRoutes registers the pages. The dashboard is a control surface
// (loopback only unless exposed); the hosted payment page and the assets
// are public, since customers' phones open them.
func (s *Sandbox) uiRoutes(c controlRouter) {
	// The dashboard: transactions, clock, scenarios.
	// With a merchant's token: that merchant's only.
	c.guarded("/", queryClient, http.HandlerFunc(s.uiDashboard)).Methods(http.MethodGet)
	// A transaction with its delivery history.
	c.guarded("/ui/transactions/{transactionNumber}", numberOwner, http.HandlerFunc(s.uiTransaction)).Methods(http.MethodGet)
	// What changed since: the dashboard polls it for live updates.
	c.guarded("/ui/version", anyScope, http.HandlerFunc(s.uiVersion)).Methods(http.MethodGet)

	// The hosted payment page, and its Pay / Cancel form.
	c.public("/pay/{transactionNumber}", http.HandlerFunc(s.payPage)).Methods(http.MethodGet)
	c.public("/pay/{transactionNumber}", http.HandlerFunc(s.payAction)).Methods(http.MethodPost)
	c.public("/pay/{transactionNumber}/qr.svg", http.HandlerFunc(s.payQR)).Methods(http.MethodGet)

	// CSS and JS of both.
	c.public("/static/{file}", http.HandlerFunc(s.serveStatic)).Methods(http.MethodGet)
}

// staticFS holds the pages' CSS and JS, one flat folder.
var staticFS, _ = fs.Sub(webFS, "web/static")

// serveStatic answers an asset, revalidated on each load (no-cache): the
// binary's assets may change between runs.
func (s *Sandbox) serveStatic(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["file"]
	if _, err := fs.Stat(staticFS, name); err != nil {
		s.notFound(w, fmt.Sprintf("There is no asset %q.", name))
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeFileFS(w, r, staticFS, name)
}

// render writes a page. Pages allow only their own scripts and styles.
func (s *Sandbox) render(w http.ResponseWriter, status int, page string, data any) {
	var buf bytes.Buffer
	if err := pages[page].Execute(&buf, data); err != nil {
		s.log.Error("render page", "page", page, "err", err)
		http.Error(w, "the page could not be rendered: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self' http: https:; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// notFound renders the HTML 404 of the pages.
func (s *Sandbox) notFound(w http.ResponseWriter, what string) {
	s.render(w, http.StatusNotFound, "notfound", map[string]string{"Title": "Not found", "What": what})
}

// txRow is a dashboard line: a transaction and its deliveries in short.
type txRow struct {
	store.Transaction
	store.Notified
}

// uiDashboard renders a page of transactions, newest first, as the control
// API lists them: what it costs is the page's, never what the sandbox
// holds. Each row's notify summary comes from the store in constant time.
func (s *Sandbox) uiDashboard(w http.ResponseWriter, r *http.Request) {
	setCSRFCookie(w, r)
	q := r.URL.Query()
	page, err := pageOf(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	filter := struct{ ClientID, Status, Reference string }{q.Get("clientId"), strings.ToUpper(q.Get("status")), strings.TrimSpace(q.Get("reference"))}
	ctx := r.Context()
	version := s.store.Version() // before reading, so a change during it shows next time
	// A merchant's token sees its own merchant only (the guard pinned
	// ?clientId= to it); the admin sees every one, and the counts of all.
	p := principalOf(r)
	merchants := s.merchants.views()
	if !p.isAdmin() {
		merchants = slices.DeleteFunc(merchants, func(m merchantView) bool { return m.ClientID != p.clientID })
	}
	txs, next, err := s.store.List(ctx, store.Filter{ClientID: filter.ClientID, Status: filter.Status, Reference: filter.Reference, Page: page})
	if err != nil {
		s.writeError(w, r, s.listFailed("transactions", page, err))
		return
	}
	rows := make([]txRow, len(txs))
	for i := range txs {
		rows[i].Transaction = txs[i]
		if rows[i].Notified, err = s.store.Notified(ctx, txs[i].ClientID, txs[i].ReferenceNumber); err != nil {
			s.writeError(w, r, s.storeFailed("read the journal", err))
			return
		}
	}
	counts, err := s.store.StatusCounts(ctx)
	if err != nil {
		s.writeError(w, r, s.storeFailed("read its counts", err))
		return
	}
	retention, err := s.retentionView(ctx)
	if err != nil {
		s.writeError(w, r, s.storeFailed("read its counts", err))
		return
	}
	// The links to the newest page and to the next one keep the filters.
	pageURL := func(cursor string) string {
		q := url.Values{}
		for k, v := range map[string]string{"clientId": filter.ClientID, "status": filter.Status, "reference": filter.Reference, "cursor": cursor} {
			if v != "" {
				q.Set(k, v)
			}
		}
		if page.Limit != defaultPageLimit {
			q.Set("limit", strconv.Itoa(page.Limit))
		}
		if len(q) == 0 {
			return ControlPrefix + "/"
		}
		return ControlPrefix + "/?" + q.Encode()
	}
	var first, older string
	if page.Cursor != "" {
		first = pageURL("")
	}
	if next != "" {
		older = pageURL(next)
	}
	s.render(w, http.StatusOK, "dashboard", map[string]any{
		"Title": "Dashboard", "Clock": s.dashboardClock(filter.ClientID), "Filter": filter, "Filtered": filter != struct{ ClientID, Status, Reference string }{},
		"Merchants": merchants, "Admin": p.isAdmin(), "Statuses": store.Statuses, "Counts": counts, "Retention": retention,
		"Rows": rows, "Paged": page.Cursor != "", "First": first, "Older": older,
		"Scenarios": s.scenarioViews(), "Version": version,
	})
}

func (s *Sandbox) uiTransaction(w http.ResponseWriter, r *http.Request) {
	setCSRFCookie(w, r)
	version := s.store.Version()
	tx, err := s.store.GetByNumber(r.Context(), mux.Vars(r)["transactionNumber"])
	if err != nil {
		s.notFound(w, fmt.Sprintf("No transaction numbered %q. It may have been forgotten by a reset, or evicted once finished by the sandbox's retention (serve --retain, --max-transactions).", mux.Vars(r)["transactionNumber"]))
		return
	}
	notified, err := s.store.Notified(r.Context(), tx.ClientID, tx.ReferenceNumber)
	if err != nil {
		s.writeError(w, r, s.storeFailed("read the journal", err))
		return
	}
	deliveries := s.Deliveries(tx.ClientID, tx.ReferenceNumber)
	var merchantName string
	if m := s.merchants.get(r.Context(), tx.ClientID); m != nil {
		merchantName = m.Name
	}
	s.render(w, http.StatusOK, "transaction", map[string]any{
		"Title": tx.ReferenceNumber, "Tx": tx, "Merchant": merchantName, "Scenario": tx.Scenario,
		"Deliveries": deliveries, "Evicted": max(0, notified.Attempts-len(deliveries)), "Clock": s.clockView(),
		"Variants": notify.Variants(), "Version": version,
	})
}

// uiVersion answers the change counter; the dashboard reloads its content
// when it moves.
func (s *Sandbox) uiVersion(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	_ = writeControl(w, http.StatusOK, map[string]uint64{"version": s.store.Version()})
}

// dashboardClock is the clock the dashboard shows: the global one, or, when
// it lists one merchant's payments, that merchant's (the global one it
// follows, or its own).
func (s *Sandbox) dashboardClock(clientID string) merchantClockJSON {
	if clientID == "" || s.merchants.get(context.Background(), clientID) == nil {
		return merchantClockJSON{clockJSON: s.clockView()}
	}
	return s.merchantClockView(clientID)
}
