package mock_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock"
	"github.com/bjpay/bjpay-sandbox/signer"
)

// TestSecretsStayOut: a merchant's client secret, once configured, never
// comes back: not in logs (at debug level), the journal, the control API's
// lists, the dashboard, the transaction page, or any error message, even
// for the requests that carry it wrongly.
func TestSecretsStayOut(t *testing.T) {
	const id, secret = "redaction-client-0001", "s3cr3t-never-shown-4242"
	var logs bytes.Buffer
	cfg := mock.DefaultConfig()
	cfg.Merchants = append(cfg.Merchants, mock.Merchant{Name: "Redacted", ClientID: id, ClientSecret: secret})
	clock, _ := mock.NewSandboxClock(mock.ClockVirtual, 1)
	sb, err := mock.New(mock.Options{Config: cfg, Clock: clock, Seed: 1,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	sb.Start()
	defer sb.Close(context.Background())
	h := sb.Handler()
	rc := newReceiver(t)
	var answers bytes.Buffer
	send := func(method, path string, header http.Header, body []byte) {
		rec := do(t, h, method, path, header, body)
		answers.WriteString(rec.Body)
	}
	headers := func(id, secret string) http.Header {
		return http.Header{"Content-Type": {"application/json"}, "X-Client-Id": {id}, "X-Client-Secret": {secret},
			"X-Request-Time": {time.Now().Format(signer.TimeLayout)}}
	}
	send("POST", createPath, headers(id, secret), with(map[string]any{"referenceNumber": "RED-1", "finishNotifyUrl": rc.URL, "expiredAt": nil}))
	send("POST", createPath, headers(id, secret+"x"), with(nil))          // wrong secret
	send("POST", createPath, headers(secret, secret), with(nil))          // the secret pasted as the id
	send("POST", createPath, headers(id, secret), []byte(`{"x":`+secret)) // in a malformed body
	send("POST", inquiryPath+"RED-1", headers(id, secret), nil)
	e := &engine{sb: sb, h: h}
	code, body := e.control(t, "POST", "/_sandbox/transactions/RED-1/pay", "")
	if code != 200 {
		t.Fatalf("pay: %d %s", code, body)
	}
	waitFor(t, "the notify", func() bool { return len(sb.Deliveries(id, "RED-1")) == 1 })
	tx := sb.Transactions(id)[0]
	pages := []string{"/_sandbox/merchants", "/_sandbox/transactions", "/_sandbox/deliveries", "/_sandbox/stats",
		"/_sandbox/", "/_sandbox/ui/transactions/" + tx.TransactionNumber, "/_sandbox/pay/" + tx.TransactionNumber}
	for _, p := range pages {
		_, body := e.control(t, "GET", p, "")
		answers.WriteString(body)
	}
	for what, text := range map[string]string{"logs": logs.String(), "answers and pages": answers.String()} {
		if strings.Contains(text, secret) {
			i := strings.Index(text, secret)
			t.Errorf("%s show the client secret: …%s…", what, text[max(0, i-80):min(len(text), i+len(secret)+20)])
		}
	}
	if !strings.Contains(logs.String(), "request rejected") || !strings.Contains(answers.String(), "RED-1") {
		t.Fatalf("the test did not exercise what it checks: logs %d bytes, answers %d bytes", logs.Len(), answers.Len())
	}
}
