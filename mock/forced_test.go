package mock_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestForcedCreate: scenarios that make the create call fail as a broken
// gateway would, over a real connection.
func TestForcedCreate(t *testing.T) {
	e := newEngine(t, `
scenarios:
  - name: quick-slow
    match: {reference: "^LAG-"}
    create: {latency: 300ms}
`)
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	send := func(ref string) (*http.Response, error) {
		req, _ := http.NewRequest("POST", srv.URL+createPath, strings.NewReader(string(with(map[string]any{"referenceNumber": ref, "expiredAt": nil}))))
		req.Header = validHeaders()
		req.Header.Set("X-Request-Time", time.Now().Format(time.RFC3339))
		return http.DefaultClient.Do(req)
	}
	tests := []struct {
		ref      string
		status   int
		contains string
		created  bool
	}{
		{"ERR12-1", 400, `"code":"12","message":"Invalid Amount","sandboxDetail":"forced by scenario \"error-12\""`, false},
		{"ERR01-1", 401, `"code":"01"`, false},
		{"DOWN-1", 503, `"code":"503"`, false},
		{"LAG-1", 200, `"code":"OK"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			start := time.Now()
			resp, err := send(tt.ref)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.contains) {
				t.Errorf("got %d %s, want %d containing %s", resp.StatusCode, body, tt.status, tt.contains)
			}
			if tt.ref == "LAG-1" && time.Since(start) < 300*time.Millisecond {
				t.Errorf("answered after %s, want at least the scenario's 300ms", time.Since(start))
			}
			code, _ := e.control(t, "GET", "/_sandbox/transactions/"+tt.ref, "")
			if (code == 200) != tt.created {
				t.Errorf("transaction exists: %v, want %v", code == 200, tt.created)
			}
		})
	}
	t.Run("DROP-1", func(t *testing.T) {
		resp, err := send("DROP-1")
		if err == nil {
			resp.Body.Close()
			t.Fatalf("got an answer %d, want the connection closed", resp.StatusCode)
		}
		if code, _ := e.control(t, "GET", "/_sandbox/transactions/DROP-1", ""); code != 404 {
			t.Errorf("a dropped create left a transaction")
		}
	})
}
