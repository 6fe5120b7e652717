package features_test

import (
	"errors"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/features"
	"github.com/bjpay/bjpay-sandbox/scenarios"
)

// FuzzParseDriver: ParseDriver never panics. It returns either a driver
// that passes every check it promises, or a sorted ErrorList of one-line
// messages at file:line(:col) positions inside the file (a YAML syntax
// error may know only the line).
func FuzzParseDriver(f *testing.F) {
	for _, file := range []string{"../cmd/demo-merchant/merchant.yaml", "../cmd/demo-merchant/merchant.compose.yaml"} {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	const creds = "merchant:\n  clientId: id\n  clientSecret: secret\n  notifyUrl: http://127.0.0.1:3000/n\n"
	for _, s := range []string{
		"", "---", "~", "[]", "sandbox: 1",
		"sandbox: {listen: \"127.0.0.1:18080\"}\n" + creds, // what conformance_test.go writes
		"sandbox: {listen: \":0\"}\n" + creds,
		"sandbox: {listen: \"[::1]:18080\", url: http://x}\n" + creds,
		"sandbox: {url: \"http://[::1\"}\n" + creds,
		"sandbox: {url: \"ftp://x\"}\n" + creds,
		"sandbox: {listen: \"127.0.0.1\"}\nmerchant: {clientId: \"a b\", clientSecret: \"\\x7f\", notifyUrl: \"//x\"}\n",
		"sandbox: {listen: \"h:1\"}\n" + creds + "  checkout:\n    method: delete\n    url: \"{{.Amout}}\"\n    body: \"{{\"\n",
		"sandbox: {listen: \"h:1\"}\n" + creds + "  checkout:\n    method: put\n    url: \"http://h/{{.PaymentCode}}?a={{.Amount}}\"\n    body: \"{{if .Amount}}{{.Amount}}{{else}}{{.PaymentCode | printf \\\"%q\\\"}}{{end}}\"\n    referenceNumber: a.b\n",
		"sandbox: {listen: \"h:1\"}\n" + creds + "  orderStatus:\n    url: \"{{.ReferenceNumber}}\"\n",
		"sandbox: {listen: \"h:1\"}\n" + creds + "  orderStatus:\n    url: \"http://h/{{template \\\"x\\\"}}\"\n    status: s\n    paid: P\n",
		"sandbox: {listen: \"h:1\"}\n" + creds + "  orderStatus: &o\n    url: *o\n",
		"sandbox: {listen: \"h:1\"}\n" + creds + "  orderStatus: {url: \"http://h/{{.ReferenceNumber}}\", status: s, paid: P, extra: 1}\n",
		"sandbox: {listen: \"h:1\"}\n" + creds + "  timeout: 2s\n  checkout: {url: \"http://h/c\", referenceNumber: r}\n  orderStatus: {url: \"http://h/{{.ReferenceNumber}}\", status: s, paid: P, credited: c, within: 1s}\n",
		"sandbox: {listen: \"h:1\"}\n" + creds + "  timeout: -1s\n  orderStatus: {url: \"http://h/{{.ReferenceNumber}}\", status: s, paid: P, within: 2m}\n",
		"sandbox:\n  listen: h:1\nmerchant:\n  clientId: *x\n",
		"sandbox: {listen: h:1}\nmerchant: {<<: {clientId: a, clientSecret: b, notifyUrl: \"https://h\"}}\n",
	} {
		f.Add([]byte(s))
	}
	const file = "driver.yaml"
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := features.ParseDriver(file, data)
		if err != nil {
			if d != nil {
				t.Fatalf("ParseDriver returned both a driver and an error: %v", err)
			}
			checkErrorList(t, file, data, err)
			return
		}
		if d == nil {
			t.Fatal("ParseDriver returned neither a driver nor an error")
		}
		checkDriver(t, d)
	})
}

// checkDriver fails unless d passes the checks ParseDriver promises.
func checkDriver(t *testing.T, d *features.Driver) {
	t.Helper()
	if (d.Sandbox.Listen == "") == (d.Sandbox.URL == "") {
		t.Fatalf("sandbox has listen %q and url %q; want exactly one", d.Sandbox.Listen, d.Sandbox.URL)
	}
	if d.Sandbox.URL != "" && !httpURL(d.Sandbox.URL) {
		t.Fatalf("sandbox.url %q is not an absolute http(s) URL", d.Sandbox.URL)
	}
	m := d.Merchant
	for _, c := range []string{m.ClientID, m.ClientSecret} {
		if c == "" || len(c) > 128 || strings.ContainsFunc(c, func(r rune) bool { return r <= ' ' || r > '~' }) {
			t.Fatalf("credential %q does not fit an HTTP header as it is", c)
		}
	}
	if !httpURL(m.NotifyURL) {
		t.Fatalf("merchant.notifyUrl %q is not an absolute http(s) URL", m.NotifyURL)
	}
	methods := []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch}
	if c := m.Checkout; c != nil {
		if !contains(methods, c.Method) || c.URL == "" || c.ReferenceNumber == "" {
			t.Fatalf("checkout %+v: want a method of %v, a url and a referenceNumber", *c, methods)
		}
	}
	if o := m.OrderStatus; o != nil {
		if !contains(methods, o.Method) || o.URL == "" || o.Status == "" || o.Paid == "" {
			t.Fatalf("orderStatus %+v: want a method of %v, a url, a status and paid", *o, methods)
		}
		if m.Checkout == nil {
			t.Fatal("orderStatus without checkout: the merchant knows no order to read")
		}
		if o.Within < 0 || o.Within > time.Minute {
			t.Fatalf("orderStatus.within %s: want 0 to 1m", o.Within)
		}
	}
	if m.Timeout < 0 || m.Timeout > 5*time.Minute {
		t.Fatalf("merchant.timeout %s: want 0 to 5m", m.Timeout)
	}
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// checkErrorList fails unless err is a non-empty, sorted
// scenarios.ErrorList of one-line messages at positions inside data, in
// file.
func checkErrorList(t *testing.T, file string, data []byte, err error) {
	t.Helper()
	var list scenarios.ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		t.Fatalf("error is %T, not a non-empty scenarios.ErrorList: %v", err, err)
	}
	// An upper bound on the lines YAML sees: \r, \n, \r\n, NEL, LS and PS
	// all break lines.
	text := string(data)
	lines := 1
	for _, br := range []string{"\n", "\r", "\u0085", "\u2028", "\u2029"} {
		lines += strings.Count(text, br)
	}
	for i, e := range list {
		p := e.Pos
		switch {
		case p.File != file:
			t.Fatalf("error %q names file %q, want %q", e, p.File, file)
		case p.Line < 1 || p.Line > lines:
			t.Fatalf("error %q is at line %d; the file has %d lines", e, p.Line, lines)
		case p.Col < 1 && !strings.HasPrefix(e.Msg, "invalid YAML: "):
			t.Fatalf("error %q has no column", e)
		case strings.ContainsAny(e.Msg, "\r\n"):
			t.Fatalf("error %q is on more than one line: only its first would carry a position", e)
		case i > 0 && (p.Line < list[i-1].Pos.Line || p.Line == list[i-1].Pos.Line && p.Col < list[i-1].Pos.Col):
			t.Fatalf("errors out of order: %q before %q", list[i-1], e)
		}
		want := file + ":" + strconv.Itoa(p.Line)
		if p.Col > 0 {
			want += ":" + strconv.Itoa(p.Col)
		}
		if !strings.HasPrefix(e.Error(), want+": ") {
			t.Fatalf("error %q does not start with %s", e, want)
		}
	}
}
