package features_test

import (
	"strings"
	"testing"

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
