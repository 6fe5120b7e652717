package mock_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/delivery"
	"github.com/bjpay/bjpay-sandbox/mock/listen"
	"github.com/bjpay/bjpay-sandbox/signer"
	"github.com/coder/websocket"
)

// testListener is a bare listener: it records the notifies it gets and
// answers each with status.
type testListener struct {
	conn   *websocket.Conn
	hello  listen.Message
	status int

	mu       sync.Mutex
	notifies []*listen.Notify
	closed   chan error // the error that ended its reading
}

// dialListener opens the listener WebSocket of the sandbox at base with
// token (and ?clientId= when given), and starts answering.
func dialListener(t *testing.T, base, token, clientID string, status int, header http.Header) (*testListener, error) {
	t.Helper()
	if header == nil {
		header = http.Header{}
	}
	header.Set("Authorization", "Bearer "+token)
	header.Set(listen.HeaderForwardTo, "http://localhost:3000/webhook")
	u := base + listen.Path
	if clientID != "" {
		u += "?clientId=" + clientID
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: header})
	if err != nil {
		if resp != nil {
			return nil, &refusedDial{resp.StatusCode, err}
		}
		return nil, err
	}
	l := &testListener{conn: conn, status: status, closed: make(chan error, 1)}
	_, data, err := conn.Read(ctx)
	if err == nil {
		err = json.Unmarshal(data, &l.hello)
	}
	if err != nil || l.hello.Type != listen.TypeHello {
		conn.CloseNow()
		t.Fatalf("the first message: %s, %v; want a hello", data, err)
	}
	go l.serve()
	t.Cleanup(func() { conn.CloseNow() })
	return l, nil
}

type refusedDial struct {
	status int
	err    error
}

func (e *refusedDial) Error() string { return e.err.Error() }

func (l *testListener) serve() {
	for {
		_, data, err := l.conn.Read(context.Background())
		if err != nil {
			l.closed <- err
			return
		}
		var m listen.Message
		if err := json.Unmarshal(data, &m); err != nil || m.Type != listen.TypeNotify {
			continue
		}
		l.mu.Lock()
		l.notifies = append(l.notifies, m.Notify)
		l.mu.Unlock()
		if l.status == 0 {
			continue // never answers
		}
		answer, _ := json.Marshal(listen.Message{Type: listen.TypeAnswer, ID: m.ID,
			Answer: &listen.Answer{URL: "http://localhost:3000/webhook", Status: l.status, Body: "ok", LatencyMs: 1.5}})
		_ = l.conn.Write(context.Background(), websocket.MessageText, answer)
	}
}

func (l *testListener) got() []*listen.Notify {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*listen.Notify(nil), l.notifies...)
}

// closedWith waits for the sandbox to close l, and returns the code.
func (l *testListener) closedWith(t *testing.T) websocket.StatusCode {
	t.Helper()
	select {
	case err := <-l.closed:
		return websocket.CloseStatus(err)
	case <-time.After(10 * time.Second):
		t.Fatal("the sandbox did not close the listener within 10 s")
		return 0
	}
}

// TestRelay: two merchants' listeners on one sandbox, over real
// WebSockets. A's notify reaches A's listener only, signed as the sandbox
// signed it, and the journal records the listener's answer; the handshake
// goes through the guard (Origin, token, scope); a second listener of a
// merchant replaces the first, relay off and a rotated token close theirs
// with the codes that tell the listener to stop; a listener that leaves
// before answering leaves the attempt listener-offline.
func TestRelay(t *testing.T) {
	m := newTwoMerchants(t, nil)
	srv := httptest.NewServer(m.h)
	defer srv.Close()
	pay := func(ref, token string) {
		t.Helper()
		if code, body := asClient(m.h, loopbackClient, token, "POST", "/_sandbox/transactions/"+ref+"/pay", ""); code != 200 {
			t.Fatalf("pay %s: %d %s", ref, code, body)
		}
	}

	la, err := dialListener(t, srv.URL, m.tokA, "", 200, nil)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := dialListener(t, srv.URL, scopeAdminToken, m.b, 200, nil)
	if err != nil {
		t.Fatal(err)
	}
	if la.hello.ClientID != m.a || lb.hello.ClientID != m.b {
		t.Fatalf("hellos name %q and %q, want A and B", la.hello.ClientID, lb.hello.ClientID)
	}
	pay("SCOPE-A", m.tokA)
	waitFor(t, "A's notify journalled", func() bool { return len(m.sb.Deliveries(m.a, "SCOPE-A")) == 1 })
	a := m.sb.Deliveries(m.a, "SCOPE-A")[0]
	if a.Outcome != delivery.OutcomeDelivered || !a.Relayed || a.URL != "http://localhost:3000/webhook" || a.ResponseStatus != 200 || a.LatencyMs != 1.5 {
		t.Errorf("journal: %+v; want delivered through the listener, its URL, status and latency", a)
	}
	got := la.got()
	if len(got) != 1 || got[0].ReferenceNumber != "SCOPE-A" {
		t.Fatalf("A's listener got %d notifies, want SCOPE-A's", len(got))
	}
	if err := signer.VerifyNotify(signer.Key(demoID, demoSecret), got[0].Header, got[0].Body); err != nil || string(got[0].Body) != a.RequestBody {
		t.Errorf("the relayed notify does not verify with A's key (%v), or is not the journal's body", err)
	}
	if n := len(lb.got()); n != 0 {
		t.Errorf("B's listener got %d of A's notifies", n)
	}

	// The handshake is a control request like any other.
	for _, tt := range []struct {
		name, token, clientID string
		header                http.Header
		status                int
	}{
		{"from another site's page", m.tokA, "", http.Header{"Origin": {"http://attacker.example"}}, 403},
		{"for another merchant", m.tokB, m.a, nil, 403},
		{"without a token", "", "", nil, 401},
		{"the admin without a merchant", scopeAdminToken, "", nil, 400},
	} {
		_, err := dialListener(t, srv.URL, tt.token, tt.clientID, 200, tt.header)
		var refused *refusedDial
		if !errors.As(err, &refused) || refused.status != tt.status {
			t.Errorf("listening %s: %v; want refused with %d", tt.name, err, tt.status)
		}
	}

	// One listener per merchant: the newer replaces the older.
	la2, err := dialListener(t, srv.URL, m.tokA, "", 200, nil)
	if err != nil {
		t.Fatal(err)
	}
	if code := la.closedWith(t); code != listen.CloseReplaced {
		t.Errorf("the replaced listener was closed with %d, want %d", code, listen.CloseReplaced)
	}
	// Relay off closes A's listener; a rotated token B's.
	if code, body := asClient(m.h, loopbackClient, m.tokA, "POST", "/_sandbox/merchants/"+m.a+"/relay", `{"on":false}`); code != 200 || !strings.Contains(body, `"on": false`) {
		t.Fatalf("relay off: %d %s", code, body)
	}
	if code := la2.closedWith(t); code != listen.CloseRelayOff {
		t.Errorf("relay off closed the listener with %d, want %d", code, listen.CloseRelayOff)
	}
	lbTok, err := dialListener(t, srv.URL, m.tokB, "", 200, nil)
	if err != nil {
		t.Fatal(err)
	}
	if code := lb.closedWith(t); code != listen.CloseReplaced {
		t.Errorf("B's first listener: closed with %d, want %d", code, listen.CloseReplaced)
	}
	if code, body := asClient(m.h, loopbackClient, scopeAdminToken, "POST", "/_sandbox/merchants/"+m.b+"/token", ""); code != 200 {
		t.Fatalf("rotate B's token: %d %s", code, body)
	}
	if code := lbTok.closedWith(t); code != listen.CloseRevoked {
		t.Errorf("a listener of a rotated token was closed with %d, want %d", code, listen.CloseRevoked)
	}

	// A listener that takes a notify and leaves without answering.
	silent, err := dialListener(t, srv.URL, scopeAdminToken, m.b, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	pay("SCOPE-B", scopeAdminToken)
	waitFor(t, "the silent listener's notify", func() bool { return len(silent.got()) == 1 })
	silent.conn.CloseNow()
	waitFor(t, "B's attempt journalled", func() bool { return len(m.sb.Deliveries(m.b, "SCOPE-B")) == 1 })
	if a := m.sb.Deliveries(m.b, "SCOPE-B")[0]; a.Outcome != delivery.OutcomeListenerOffline || a.NextAttemptAt == nil || !strings.Contains(a.Error, "disconnected before answering") {
		t.Errorf("an attempt whose listener left: %s %q; want listener-offline, retried", a.Outcome, a.Error)
	}
	if code, body := asClient(m.h, loopbackClient, scopeAdminToken, "GET", "/_sandbox/merchants/"+m.b+"/relay", ""); code != 200 || !strings.Contains(body, `"on": true`) || strings.Contains(body, "listener") {
		t.Errorf("B's relay once its listener left: %d %s; want on, with no listener", code, body)
	}
}
