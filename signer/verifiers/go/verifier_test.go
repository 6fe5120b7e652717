package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/signer"
)

// BJPAY's documented reference vector (bjpay-api.md §6).
const (
	refTime      = "2024-09-20T20:32:36+07:00"
	refSignature = "f5a8097de89bbe64ff66137c931d19e737f1574995bcada84558d58728e658bf"
	refBody      = `{"referenceNumber":"TX_556622123344","paymentCode":"GOPAY","totalAmount":15000,"status":"PAID"}`
)

func TestVerifyNotify(t *testing.T) {
	key := signer.Key("test-client-id", "test-client-secret")
	sent, _ := time.Parse(time.RFC3339, refTime)
	header := func(sig string) http.Header {
		h := http.Header{}
		h.Set("X-Request-Time", refTime)
		if sig != "" {
			h.Set("X-Signature", sig)
		}
		return h
	}
	tests := []struct {
		name   string
		header http.Header
		body   string
		now    time.Time
		want   string // in the error; "" for valid
	}{
		{"valid", header(refSignature), refBody, sent, ""},
		{"at the window's past edge", header(refSignature), refBody, sent.Add(ReplayWindow), ""},
		{"at the window's future edge", header(refSignature), refBody, sent.Add(-ReplayWindow), ""},
		{"stale", header(refSignature), refBody, sent.Add(ReplayWindow + time.Second), "is 5m1s from now, outside ±5m0s"},
		{"from the future", header(refSignature), refBody, sent.Add(-ReplayWindow - time.Second), "is -5m1s from now"},
		{"no signature", header(""), refBody, sent, "the X-Signature header is missing"},
		{"another amount", header(refSignature), strings.Replace(refBody, "15000", "15000.5", 1), sent, `"2024-09-20T20:32:36+07:00:TX_556622123344:GOPAY:15000.5"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyNotify(key, tt.header, []byte(tt.body), tt.now)
			if got := ""; err != nil {
				got = err.Error()
				if tt.want == "" || !strings.Contains(got, tt.want) {
					t.Errorf("VerifyNotify = %q; want %q", got, tt.want)
				}
			} else if tt.want != "" {
				t.Errorf("VerifyNotify = nil; want an error with %q", tt.want)
			}
		})
	}
}

func TestNotifyHandler(t *testing.T) {
	var paid []string
	h := NotifyHandler("my-id", "my-secret", func(body []byte) error {
		if strings.Contains(string(body), "FAIL-DB") {
			return errors.New("database down")
		}
		paid = append(paid, string(body))
		return nil
	})
	signed := func(body string, at time.Time) *http.Request {
		req := httptest.NewRequest(http.MethodPost, "/webhook/bjpay", nil)
		if err := signer.SignNotify(req, signer.Key("my-id", "my-secret"), []byte(body), at); err != nil {
			t.Fatal(err)
		}
		return req
	}
	tests := []struct {
		name string
		req  *http.Request
		code int
	}{
		{"fresh", signed(`{"referenceNumber":"A-1","paymentCode":"QRIS","totalAmount":10000}`, time.Now()), 200},
		{"replayed an hour later", signed(`{"referenceNumber":"A-2","paymentCode":"QRIS","totalAmount":10000}`, time.Now().Add(-time.Hour)), 401},
		{"recording fails: BJPAY retries", signed(`{"referenceNumber":"FAIL-DB","paymentCode":"QRIS","totalAmount":10000}`, time.Now()), 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, tt.req)
			if rec.Code != tt.code {
				t.Errorf("status %d (%s); want %d", rec.Code, rec.Body, tt.code)
			}
		})
	}
	if len(paid) != 1 || !strings.Contains(paid[0], "A-1") {
		t.Errorf("paid %q; want only A-1", paid)
	}
}

// TestREADMEShowsThisCode: the README's Go verifier is verifier.go's code,
// imports included, and compiles as pasted under a package clause: built
// here in verifier.go's place (go build -overlay), so the tests above test
// what the README shows.
func TestREADMEShowsThisCode(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var snippet string
	for _, block := range strings.Split(string(readme), "```go\n")[1:] {
		if code, _, _ := strings.Cut(block, "```\n"); strings.Contains(code, "func VerifyNotify(") {
			snippet = code
		}
	}
	if snippet == "" {
		t.Fatal("README.md has no Go block with func VerifyNotify")
	}
	src, err := os.ReadFile("verifier.go")
	if err != nil {
		t.Fatal(err)
	}
	_, code, _ := strings.Cut(string(src), "// --- paste from here ---\n\n")
	code, _, _ = strings.Cut(code, "\n// --- paste to here ---")
	if snippet != code {
		t.Errorf("README.md's Go verifier differs from verifier.go's code between the paste markers; copy it:\n%s", code)
	}

	dir := t.TempDir()
	pasted := filepath.Join(dir, "pasted.go")
	if err := os.WriteFile(pasted, []byte("package main\n\n"+snippet), 0o644); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs("verifier.go")
	if err != nil {
		t.Fatal(err)
	}
	overlay, _ := json.Marshal(map[string]any{"Replace": map[string]string{abs: pasted}})
	if err := os.WriteFile(filepath.Join(dir, "overlay.json"), overlay, 0o644); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-overlay", filepath.Join(dir, "overlay.json"), "-o", filepath.Join(dir, "run"), ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Errorf("README.md's Go verifier does not compile as pasted: %v\n%s", err, out)
	}
}
