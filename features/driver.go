package features

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"
	"time"

	"github.com/bjpay/bjpay-sandbox/scenarios"
)

// Driver is a merchant driver file: where the sandbox listens, and how to
// reach the merchant under test.
//
//	sandbox:
//	  listen: 127.0.0.1:18080  # or url: http://sandbox:8080, a running one
//	merchant:
//	  clientId: 2f9d6a0e-1c3b-4d5e-8f70-123456789abc
//	  clientSecret: merchant-secret
//	  notifyUrl: http://127.0.0.1:3000/webhook/bjpay
//	  checkout:            # optional
//	    method: POST
//	    url: http://127.0.0.1:3000/checkout
//	    body: '{"amount": {{.Amount}}, "paymentCode": "{{.PaymentCode}}"}'
//	    referenceNumber: referenceNumber
//	  orderStatus:         # optional; needs checkout
//	    method: GET
//	    url: http://127.0.0.1:3000/orders/{{.ReferenceNumber}}
//	    status: status
//	    paid: PAID
//	    credited: credited # optional
//	    within: 5s         # optional
//	  timeout: 10s         # optional
type Driver struct {
	At      scenarios.Positions `yaml:"-"`
	Sandbox struct {
		At scenarios.Positions `yaml:"-"`
		// Listen is where the test command starts a sandbox of its own,
		// the base URL the merchant is configured to call.
		Listen string `yaml:"listen"`
		// URL, instead, is a sandbox already running (in docker-compose,
		// say) that the merchant calls; its control API must be reachable.
		URL string `yaml:"url"`
	} `yaml:"sandbox"`
	Merchant Merchant `yaml:"merchant"`
}

// Merchant is the merchant under test.
type Merchant struct {
	At scenarios.Positions `yaml:"-"`
	// ClientID and ClientSecret are the credentials the merchant calls the
	// sandbox with; the notifies to it are signed under them.
	ClientID     string `yaml:"clientId"`
	ClientSecret string `yaml:"clientSecret"`
	// NotifyURL is the merchant's notify endpoint, used when a payment
	// carries no finishNotifyUrl, and for payments the harness creates.
	NotifyURL string `yaml:"notifyUrl"`
	// Checkout, when set, makes the merchant start a payment through its
	// own code, which calls the sandbox's Create Payment.
	Checkout *Checkout `yaml:"checkout"`
	// OrderStatus, when set, reads the merchant's view of an order. It
	// needs Checkout: a merchant knows only the orders it created.
	OrderStatus *OrderStatus `yaml:"orderStatus"`
	// Timeout bounds each call to the merchant (checkout, order status);
	// 0 leaves it to the test command's --call-timeout.
	Timeout time.Duration `yaml:"timeout"`
}

// Checkout says how to make the merchant start a payment. URL and Body are
// Go templates over CheckoutData.
type Checkout struct {
	At     scenarios.Positions `yaml:"-"`
	Method string              `yaml:"method"`
	URL    string              `yaml:"url"`
	Body   string              `yaml:"body"`
	// ReferenceNumber is the dot path of the field of the merchant's JSON
	// answer that holds the payment's referenceNumber, e.g. "data.ref".
	ReferenceNumber string `yaml:"referenceNumber"`

	url, body *template.Template
}

// CheckoutData is what the checkout templates can use.
type CheckoutData struct {
	Amount      int64
	PaymentCode string
}

// OrderStatus says how to read an order's state from the merchant. URL is
// a Go template over OrderData.
type OrderStatus struct {
	At     scenarios.Positions `yaml:"-"`
	Method string              `yaml:"method"`
	URL    string              `yaml:"url"`
	// Status is the dot path of the order's status in the JSON answer.
	Status string `yaml:"status"`
	// Paid is the merchant's status value for a paid order.
	Paid string `yaml:"paid"`
	// Credited, when set, is the dot path of a number in the answer that
	// changes when the merchant credits the order (a count of credits or
	// the amount credited): the duplicate scenarios check it moves once.
	Credited string `yaml:"credited"`
	// Within is how long the merchant may take to apply a notify it has
	// acknowledged (one that queues notifies applies them later): reads
	// are repeated until the order matches or Within has passed, and a
	// check that an order stays as it was reads through all of it.
	// DefaultWithin when 0.
	Within time.Duration `yaml:"within"`

	url *template.Template
}

// DefaultWithin is OrderStatus.Within when the driver file gives none.
// [sandbox] BJPAY says nothing of how soon a merchant applies a notify;
// five seconds leaves a queue-based merchant room and keeps a run short.
const DefaultWithin = 5 * time.Second

// OrderData is what the order status template can use.
type OrderData struct {
	ReferenceNumber string
}

// LoadDriver reads and checks a driver file. Its errors are a
// scenarios.ErrorList of file:line:col messages.
func LoadDriver(path string) (*Driver, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseDriver(path, data)
}

// ParseDriver decodes and checks a driver file's contents; file names it in
// error messages.
func ParseDriver(file string, data []byte) (*Driver, error) {
	var d Driver
	if err := scenarios.Decode(file, data, &d); err != nil {
		return nil, err
	}
	var errs scenarios.ErrorList
	whole := d.At.Of("")
	at := func(p scenarios.Positions, field string) scenarios.Pos {
		if pos := p.Of(field); pos.Line > 0 {
			return pos
		}
		return whole
	}
	switch sb := d.Sandbox; {
	case sb.Listen != "" && sb.URL != "":
		errs.Add(at(sb.At, "url"), "sandbox has both listen and url; expected one: listen to start a sandbox for the run, url to use one already running")
	case sb.URL != "":
		if msg := checkURL(sb.URL); msg != "" {
			errs.Add(at(sb.At, "url"), "sandbox.url %s", msg)
		}
	default:
		if _, port, err := net.SplitHostPort(sb.Listen); err != nil || port == "" {
			errs.Add(at(sb.At, "listen"), "sandbox.listen is %q; expected host:port, e.g. 127.0.0.1:18080, the base URL the merchant is configured to call (or sandbox.url, a sandbox already running)", sb.Listen)
		}
	}
	m := &d.Merchant
	for _, f := range []struct{ name, v string }{{"clientId", m.ClientID}, {"clientSecret", m.ClientSecret}} {
		if !validCredential(f.v) {
			errs.Add(at(m.At, f.name), "merchant.%s must be 1 to 128 printable ASCII characters without spaces", f.name)
		}
	}
	if msg := checkURL(m.NotifyURL); msg != "" {
		errs.Add(at(m.At, "notifyUrl"), "merchant.notifyUrl %s", msg)
	}
	if c := m.Checkout; c != nil {
		c.Method = checkMethod(&errs, at(c.At, "method"), "merchant.checkout.method", c.Method, http.MethodPost)
		c.url = checkTemplate(&errs, at(c.At, "url"), "merchant.checkout.url", c.URL, CheckoutData{Amount: 1, PaymentCode: "X"}, true)
		c.body = checkTemplate(&errs, at(c.At, "body"), "merchant.checkout.body", c.Body, CheckoutData{Amount: 1, PaymentCode: "X"}, false)
		if c.ReferenceNumber == "" {
			errs.Add(at(c.At, "referenceNumber"), "merchant.checkout.referenceNumber is missing; expected the dot path of the answer's field holding the referenceNumber, e.g. referenceNumber or data.ref")
		}
	}
	if o := m.OrderStatus; o != nil {
		o.Method = checkMethod(&errs, at(o.At, "method"), "merchant.orderStatus.method", o.Method, http.MethodGet)
		o.url = checkTemplate(&errs, at(o.At, "url"), "merchant.orderStatus.url", o.URL, OrderData{ReferenceNumber: "X"}, true)
		if o.Status == "" {
			errs.Add(at(o.At, "status"), "merchant.orderStatus.status is missing; expected the dot path of the answer's field holding the order's status, e.g. status")
		}
		if o.Paid == "" {
			errs.Add(at(o.At, "paid"), "merchant.orderStatus.paid is missing; expected the merchant's status value for a paid order, e.g. PAID")
		}
		if o.Within < 0 || o.Within > time.Minute {
			errs.Add(at(o.At, "within"), "merchant.orderStatus.within is %s; expected a duration from 0s to 1m (0 means the default, %s), how long the merchant may take to apply a notify it acknowledged", o.Within, DefaultWithin)
		}
		if m.Checkout == nil {
			errs.Add(at(o.At, ""), "merchant.orderStatus needs merchant.checkout: the harness can read only orders the merchant created through its checkout, and a merchant answers 404 for the others; add checkout, or remove orderStatus")
		}
	}
	if m.Timeout < 0 || m.Timeout > 5*time.Minute {
		errs.Add(at(m.At, "timeout"), "merchant.timeout is %s; expected a duration from 0s to 5m (0 means the test command's --call-timeout), how long one call to the merchant may take", m.Timeout)
	}
	errs.Sort()
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return &d, nil
}

// checkMethod returns method in upper case, def when empty.
func checkMethod(errs *scenarios.ErrorList, pos scenarios.Pos, name, method, def string) string {
	if method == "" {
		return def
	}
	m := strings.ToUpper(method)
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch:
		return m
	}
	errs.Add(pos, "%s is %q; expected GET, POST, PUT or PATCH", name, method)
	return def
}

// checkTemplate parses s as a template and tries it on sample data, so a
// typo such as {{.Amout}} is reported now, with its position, rather than
// in the middle of a run.
func checkTemplate(errs *scenarios.ErrorList, pos scenarios.Pos, name, s string, sample any, isURL bool) *template.Template {
	if isURL && s == "" {
		errs.Add(pos, "%s is missing", name)
		return nil
	}
	t, err := template.New(name).Option("missingkey=error").Parse(s)
	if err != nil {
		errs.Add(pos, "%s is not a valid template: %v", name, err)
		return nil
	}
	// The data has no lists: a range could only loop on a number, and
	// {{range 100000000000}} would keep this check (and every request)
	// busy for hours.
	if slices.ContainsFunc(t.Templates(), func(d *template.Template) bool { return d.Tree != nil && hasRange(d.Tree.Root) }) {
		errs.Add(pos, "%s uses {{range}}; driver templates take only the fields %s", name, fieldsOf(sample))
		return nil
	}
	buf := &cappedBuffer{max: 64 << 10}
	if err := t.Execute(buf, sample); err != nil {
		errs.Add(pos, "%s: %v (the fields are %s)", name, err, fieldsOf(sample))
		return nil
	}
	if isURL {
		if msg := checkURL(buf.String()); msg != "" {
			errs.Add(pos, "%s %s", name, msg)
			return nil
		}
	}
	return t
}

// hasRange reports whether the template tree holds a range action.
func hasRange(n parse.Node) bool {
	switch n := n.(type) {
	case *parse.RangeNode:
		return true
	case *parse.ListNode:
		if n == nil {
			return false
		}
		for _, c := range n.Nodes {
			if hasRange(c) {
				return true
			}
		}
	case *parse.IfNode:
		return hasRange(n.List) || hasRange(n.ElseList)
	case *parse.WithNode:
		return hasRange(n.List) || hasRange(n.ElseList)
	}
	return false
}

// cappedBuffer fails writes beyond max bytes, so a template that prints
// without end stops.
type cappedBuffer struct {
	bytes.Buffer
	max int
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.max {
		return 0, fmt.Errorf("renders more than %d bytes", b.max)
	}
	return b.Buffer.Write(p)
}

func fieldsOf(sample any) string {
	switch sample.(type) {
	case CheckoutData:
		return "{{.Amount}} and {{.PaymentCode}}"
	default:
		return "{{.ReferenceNumber}}"
	}
}

// checkURL says what is wrong with an http(s) URL, or "".
func checkURL(s string) string {
	u, err := url.Parse(s)
	if s == "" {
		return "is missing"
	}
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Sprintf("is %q; expected an absolute http(s) URL", s)
	}
	return ""
}

// validCredential accepts what fits in an HTTP header as it is.
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
