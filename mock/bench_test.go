package mock_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/bjpay/bjpay-sandbox/mock"
)

// BenchmarkCreate measures the create handler end to end in process:
// checks, decoding, validation, destination, store, encoding.
func BenchmarkCreate(b *testing.B) {
	for _, code := range []string{"VA-BNI", "QRIS", "GOPAY"} {
		b.Run(code, func(b *testing.B) {
			h := newSandbox(b, mock.Config{}).Handler()
			bodies := make([][]byte, b.N)
			for i := range bodies {
				bodies[i] = with(map[string]any{"paymentCode": code, "referenceNumber": "BENCH-" + strconv.Itoa(i)})
			}
			header := validHeaders()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				req := httptest.NewRequest(http.MethodPost, "/api/merchant/transaction/create", bytes.NewReader(bodies[i]))
				req.Header = header
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}

// BenchmarkChannels measures the cheapest authenticated call.
func BenchmarkChannels(b *testing.B) {
	h := newSandbox(b, mock.Config{}).Handler()
	header := validHeaders()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest(http.MethodPost, "/api/merchant/payment-channel", nil)
		req.Header = header
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
