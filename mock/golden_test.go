package mock_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/bjpay/bjpay-sandbox/mock"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestWireFormat pins the exact bytes merchants receive, for a fixed seed
// and clock. Run `go test ./mock -run TestWireFormat -update` after a
// deliberate change and review the diff.
func TestWireFormat(t *testing.T) {
	tests := []struct {
		name string
		path string
		body []byte
	}{
		{"channels", channelsPath, nil},
		{"create_gopay", createPath, with(nil)},
		{"create_va_bni", createPath, with(map[string]any{"paymentCode": "VA-BNI", "referenceNumber": "INV-2"})},
		{"create_qris", createPath, with(map[string]any{"paymentCode": "QRIS", "referenceNumber": "INV-3"})},
		{"create_shopeepay", createPath, with(map[string]any{"paymentCode": "SHOPEEPAY", "referenceNumber": "INV-4"})},
		{"inquiry", inquiryPath + "INV-2", nil},
		{"error_amount", createPath, with(map[string]any{"referenceNumber": "INV-5", "totalAmount": 1})},
		{"error_not_found", "/api/merchant/nope", nil},
	}
	h := newSandbox(t, mock.Config{}).Handler()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := post(t, h, tt.path, tt.body)
			golden := filepath.Join("testdata", tt.name+".golden.json")
			if *update {
				if err := os.WriteFile(golden, []byte(r.Body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if r.Body != string(want) {
				t.Errorf("%s changed:\ngot  %s\nwant %s", golden, r.Body, want)
			}
		})
	}
}
