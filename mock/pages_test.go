package mock_test

import (
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// controlPage is a control API answer with its Link header.
type controlPage struct {
	code int
	body string
	next string // the Link rel="next" target, if any
}

func (e *engine) page(t *testing.T, path string) controlPage {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	req.Host = sandboxHost
	req.RemoteAddr = loopbackClient
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	p := controlPage{code: rec.Code, body: rec.Body.String()}
	if link := rec.Header().Get("Link"); link != "" {
		target, rel, _ := strings.Cut(link, ">; ")
		if rel != `rel="next"` || !strings.HasPrefix(target, "<") {
			t.Errorf("Link %q, want <...>; rel=\"next\"", link)
		}
		p.next = strings.TrimPrefix(target, "<")
	}
	return p
}

// TestListPages: the control API's lists come a page at a time, newest
// first, the next page in a Link header with the same filters, bodies bare
// JSON arrays; a wrong limit or cursor is a 400 saying what is expected.
func TestListPages(t *testing.T) {
	e := newEngine(t, "")
	rc := newReceiver(t)
	for _, ref := range []string{"PG-1", "PG-2", "PG-3", "PG-4", "PG-5"} {
		e.create(t, ref, rc.URL, nil)
	}
	for _, ref := range []string{"PG-2", "PG-4"} {
		e.control(t, "POST", "/_sandbox/transactions/"+ref+"/pay", "")
		waitFor(t, "the notify of "+ref, func() bool { return len(e.sb.Deliveries("", ref)) == 1 })
	}
	follow := func(path string) ([][]string, []string) {
		var pages [][]string
		var links []string
		for path != "" && len(pages) < 10 {
			p := e.page(t, path)
			var entries []struct{ ReferenceNumber string }
			if err := json.Unmarshal([]byte(p.body), &entries); p.code != 200 || err != nil || !strings.HasPrefix(p.body, "[") {
				t.Fatalf("GET %s: %d %v %s; want a JSON array", path, p.code, err, p.body)
			}
			var refs []string
			for _, en := range entries {
				refs = append(refs, en.ReferenceNumber)
			}
			pages, links = append(pages, refs), append(links, p.next)
			path = p.next
		}
		return pages, links
	}
	for _, tt := range []struct {
		path  string
		want  [][]string
		keeps string // what every Link keeps of the query
	}{
		{"/_sandbox/transactions?limit=2", [][]string{{"PG-5", "PG-4"}, {"PG-3", "PG-2"}, {"PG-1"}}, "limit=2"},
		{"/_sandbox/transactions?status=pending&limit=2", [][]string{{"PG-5", "PG-3"}, {"PG-1"}}, "status=pending"},
		{"/_sandbox/transactions", [][]string{{"PG-5", "PG-4", "PG-3", "PG-2", "PG-1"}}, ""},
		{"/_sandbox/deliveries?limit=1", [][]string{{"PG-4"}, {"PG-2"}}, "limit=1"},
		{"/_sandbox/deliveries?referenceNumber=PG-2&limit=1", [][]string{{"PG-2"}}, ""},
	} {
		t.Run(tt.path, func(t *testing.T) {
			pages, links := follow(tt.path)
			if !slices.EqualFunc(pages, tt.want, slices.Equal) {
				t.Errorf("pages %q, want %q", pages, tt.want)
			}
			for _, l := range links[:len(links)-1] {
				if !strings.Contains(l, tt.keeps) || !strings.Contains(l, "cursor=") || !strings.HasPrefix(l, strings.SplitN(tt.path, "?", 2)[0]+"?") {
					t.Errorf("Link target %q does not keep %q and add a cursor", l, tt.keeps)
				}
			}
			if last := links[len(links)-1]; last != "" {
				t.Errorf("the last page links to %q", last)
			}
		})
	}
	for _, tt := range []struct{ path, want string }{
		{"/_sandbox/transactions?limit=0", `limit is \"0\"; expected a whole number of entries per page from 1 to 1000 (default 100)`},
		{"/_sandbox/transactions?limit=1001", `limit is \"1001\"`},
		{"/_sandbox/deliveries?limit=ten", `limit is \"ten\"`},
		{"/_sandbox/transactions?cursor=bogus", `cursor \"bogus\" is not one this sandbox gave for its transactions`},
		{"/_sandbox/deliveries?cursor=bogus", `cursor \"bogus\" is not one this sandbox gave for its journal`},
		{"/_sandbox/?limit=0", `limit is \"0\"`},
	} {
		if p := e.page(t, tt.path); p.code != 400 || !strings.Contains(p.body, tt.want) {
			t.Errorf("GET %s: %d %s; want 400 saying %s", tt.path, p.code, p.body, tt.want)
		}
	}
}

// TestDashboardPages: the dashboard shows a page of transactions with a
// link to the next, keeping the filters; its rows' notify summaries come
// with it.
func TestDashboardPages(t *testing.T) {
	e := newEngine(t, "")
	for i := range 7 {
		e.create(t, "DP-"+string(rune('A'+i)), "", nil)
	}
	body := page(t, e.h, "GET", "/_sandbox/?limit=3&reference=dp-", nil, "").Body.String()
	if !strings.Contains(body, ">DP-G<") || strings.Contains(body, ">DP-D<") || !strings.Contains(body, "3 matching, newest first; older ones on the next page") {
		t.Fatalf("first page:\n%s", body)
	}
	i := strings.Index(body, `rel="next"`)
	j := strings.LastIndex(body[:max(i, 0)], `href="`)
	if i < 0 || j < 0 {
		t.Fatalf("no link to the next page:\n%s", body)
	}
	next := strings.ReplaceAll(body[j+len(`href="`):strings.Index(body[j+len(`href="`):], `"`)+j+len(`href="`)], "&amp;", "&")
	if !strings.Contains(next, "reference=dp-") || !strings.Contains(next, "limit=3") {
		t.Errorf("next page %q drops the filters", next)
	}
	body = page(t, e.h, "GET", next, nil, "").Body.String()
	if !strings.Contains(body, ">DP-D<") || strings.Contains(body, ">DP-G<") || !strings.Contains(body, "« Newest") {
		t.Errorf("second page (%s):\n%s", next, body)
	}
}
