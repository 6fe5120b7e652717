package mock_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

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

// BenchmarkNotify measures signed PAID notifies delivered per second to a
// local receiver, end to end: transition, queue, signing, HTTP, journal.
func BenchmarkNotify(b *testing.B) {
	e := newEngine(b, "")
	var got atomic.Int64
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got.Add(1) }))
	defer rc.Close()
	for i := 0; i < b.N; i++ {
		e.create(b, "BENCH-"+strconv.Itoa(i), rc.URL, nil)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if code, body := e.control(b, "POST", "/_sandbox/transactions/BENCH-"+strconv.Itoa(i)+"/pay?clientId="+demoID, ""); code != 200 {
			b.Fatalf("pay: %d %s", code, body)
		}
	}
	for got.Load() < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "notifies/s")
}
