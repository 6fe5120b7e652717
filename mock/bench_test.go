package mock_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock"
	"github.com/bjpay/bjpay-sandbox/mock/store"
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

// BenchmarkExpire measures one clock advance that expires 100,000 PENDING
// payments: each transition, and its EXPIRED notify queued for delivery
// (to a local receiver, which starts receiving them meanwhile).
func BenchmarkExpire(b *testing.B) {
	const n = 100_000
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer rc.Close()
	for b.Loop() {
		b.StopTimer()
		e := newEngine(b, "")
		body := func(i int) []byte {
			return with(map[string]any{"referenceNumber": "EXP-" + strconv.Itoa(i), "finishNotifyUrl": rc.URL, "expiredAt": nil})
		}
		header := validHeaders()
		header.Set("X-Request-Time", time.Now().Format(time.RFC3339))
		for i := range n {
			req := httptest.NewRequest(http.MethodPost, createPath, bytes.NewReader(body(i)))
			req.Header = header
			rec := httptest.NewRecorder()
			e.h.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatalf("create: %d %s", rec.Code, rec.Body)
			}
		}
		b.StartTimer()
		start := time.Now()
		e.sb.AdvanceClock(25 * time.Hour) // past the default 24 h lifetime
		took := time.Since(start)
		b.StopTimer()
		expired := 0
		for _, tx := range e.sb.Transactions("") {
			if tx.Status == store.StatusExpired {
				expired++
			}
		}
		if expired != n {
			b.Fatalf("%d of %d payments expired after the advance", expired, n)
		}
		b.ReportMetric(took.Seconds(), "s/advance")
		b.ReportMetric(n/took.Seconds(), "expired/s")
		b.StartTimer()
	}
}

// BenchmarkCreateParallel measures creates from 16 × GOMAXPROCS clients
// at once, in memory and in durable mode, where each create waits for the
// commit of its record and concurrent ones share a commit (db.Batch).
func BenchmarkCreateParallel(b *testing.B) {
	for _, mode := range []string{"memory", "durable"} {
		b.Run(mode, func(b *testing.B) {
			var sb *mock.Sandbox
			if mode == "durable" {
				sb = newDurable(b, b.TempDir())
				defer sb.Close(context.Background())
			} else {
				sb = newSandbox(b, mock.Config{})
			}
			h := sb.Handler()
			var n atomic.Int64
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				header := validHeaders()
				for pb.Next() {
					body := with(map[string]any{"paymentCode": "VA-BNI", "referenceNumber": "BENCH-" + strconv.FormatInt(n.Add(1), 10)})
					req := httptest.NewRequest(http.MethodPost, "/api/merchant/transaction/create", bytes.NewReader(body))
					req.Header = header
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != 200 {
						b.Errorf("status %d: %s", rec.Code, rec.Body)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "creates/s")
		})
	}
}

// BenchmarkCreateHandler measures what the create handler itself
// allocates: unlike BenchmarkCreate, the request and the response writer
// are reused, as net/http's server reuses its own per connection, so the
// allocations counted are the handler's (and the store's) alone.
func BenchmarkCreateHandler(b *testing.B) {
	for _, code := range []string{"VA-BNI", "QRIS", "GOPAY"} {
		b.Run(code, func(b *testing.B) {
			h := newSandbox(b, mock.Config{}).Handler()
			bodies := make([][]byte, b.N)
			for i := range bodies {
				bodies[i] = with(map[string]any{"paymentCode": code, "referenceNumber": "BENCH-" + strconv.Itoa(i)})
			}
			req := httptest.NewRequest(http.MethodPost, createPath, nil)
			req.Header = validHeaders()
			var body bytes.Reader
			w := &discardWriter{header: http.Header{}}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				body.Reset(bodies[i])
				req.Body = io.NopCloser(&body)
				clear(w.header)
				w.code = 0
				h.ServeHTTP(w, req)
				if w.code != 200 {
					b.Fatalf("status %d", w.code)
				}
			}
		})
	}
}

// discardWriter is a ResponseWriter that keeps the status alone.
type discardWriter struct {
	header http.Header
	code   int
}

func (w *discardWriter) Header() http.Header { return w.header }
func (w *discardWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}
func (w *discardWriter) Write(p []byte) (int, error) {
	w.WriteHeader(200)
	return len(p), nil
}

// BenchmarkHeldPayment measures the memory a held PENDING payment costs
// once created (the store's record and index, its expiry's event): the
// live heap after a collection, per payment, over b.N payments.
func BenchmarkHeldPayment(b *testing.B) {
	sb := newSandbox(b, mock.Config{})
	h := sb.Handler()
	header := validHeaders()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		body := with(map[string]any{"paymentCode": "GOPAY", "referenceNumber": "HELD-" + strconv.Itoa(i)})
		req := httptest.NewRequest(http.MethodPost, createPath, bytes.NewReader(body))
		req.Header = header
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(b.N), "B/held")
	if got := len(sb.Transactions("")); got < b.N {
		b.Fatalf("%d payments held, want %d", got, b.N)
	}
}
