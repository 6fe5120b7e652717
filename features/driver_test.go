package features_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/features"
)

// TestDriverTemplateBounds: a template that would loop or print without
// end is refused when the driver file is loaded, at once.
func TestDriverTemplateBounds(t *testing.T) {
	const head = "sandbox: {listen: \"127.0.0.1:18080\"}\nmerchant:\n  clientId: id\n  clientSecret: secret\n  notifyUrl: http://127.0.0.1:3000/n\n  checkout:\n    url: http://127.0.0.1:3000/checkout\n    referenceNumber: ref\n"
	for _, tt := range []struct{ body, want string }{
		{`"{{range 100000000000}}{{end}}"`, "uses {{range}}"},
		{`"{{if .Amount}}{{range $i := 100000000000}}x{{end}}{{end}}"`, "uses {{range}}"},
		{`"{{define \"x\"}}{{range 100000000000}}{{end}}{{end}}{{template \"x\"}}"`, "uses {{range}}"},
		{`"{{printf \"%0100000d\" 1}}"`, "renders more than 65536 bytes"},
		{`"{\"amount\": {{.Amount}}}"`, ""},
	} {
		_, err := features.ParseDriver("driver.yaml", []byte(head+"    body: "+tt.body+"\n"))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("body %s: %v, want it accepted", tt.body, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("body %s: %v, want an error containing %q", tt.body, err, tt.want)
		}
	}
}

// TestDriverOrderStatus: the driver's combinations and durations are
// checked when it is loaded, each problem at its position.
func TestDriverOrderStatus(t *testing.T) {
	const head = "sandbox: {listen: \"127.0.0.1:18080\"}\nmerchant:\n  clientId: id\n  clientSecret: secret\n  notifyUrl: http://127.0.0.1:3000/n\n"
	const checkout = "  checkout:\n    url: http://127.0.0.1:3000/checkout\n    referenceNumber: ref\n"
	const status = "  orderStatus:\n    url: http://127.0.0.1:3000/orders/{{.ReferenceNumber}}\n    status: status\n    paid: PAID\n"
	for _, tt := range []struct{ name, body, want string }{
		{"orderStatus without checkout", status, "driver.yaml:7:5: merchant.orderStatus needs merchant.checkout"},
		{"both", checkout + status + "    credited: credited\n    within: 1s\n  timeout: 3s\n", ""},
		{"within too long", checkout + status + "    within: 2m\n", "driver.yaml:13:13: merchant.orderStatus.within is 2m0s; expected a duration from 0s to 1m"},
		{"negative timeout", checkout + "  timeout: -1s\n", "driver.yaml:9:12: merchant.timeout is -1s; expected a duration from 0s to 5m"},
		{"timeout not a duration", "  timeout: 10\n", "driver.yaml:6:12:"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, err := features.ParseDriver("driver.yaml", []byte(head+tt.body))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("%v, want it accepted", err)
			case tt.want == "" && (d.Merchant.Timeout != 3*time.Second || d.Merchant.OrderStatus.Within != time.Second || d.Merchant.OrderStatus.Credited != "credited"):
				t.Errorf("merchant %+v, orderStatus %+v: want timeout 3s, within 1s, credited", d.Merchant, *d.Merchant.OrderStatus)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("%v, want an error containing %q", err, tt.want)
			}
		})
	}
}
