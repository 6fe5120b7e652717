package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/listen"
	"github.com/coder/websocket"
)

// listenClient keeps a WebSocket to the sandbox open, reconnecting with
// backoff, and forwards each notify it brings to the local URL.
type listenClient struct {
	o           listenOptions
	sandbox     *http.Client
	local       *http.Client
	out, errOut *lockedWriter
	clientID    string // learnt from the first hello
}

// Reconnection backoff: from minBackoff, doubled at each failure up to
// maxBackoff, ±20 %; back to minBackoff once a connection was made.
const (
	minBackoff = 500 * time.Millisecond
	maxBackoff = 30 * time.Second
	// maxForwards bounds the notifies forwarded at once.
	maxForwards = 16
	// The listener pings the sandbox as the sandbox pings it: a sandbox
	// gone silently (a laptop changing networks, a proxy dropping the
	// connection) is noticed within pingEvery+pingTimeout, and reconnected.
	pingEvery   = 25 * time.Second
	pingTimeout = 10 * time.Second
)

// stopped ends run: the sandbox said not to reconnect.
type stopped struct {
	err error // nil: a clean stop (relay switched off)
}

func (s *stopped) Error() string { return fmt.Sprint(s.err) }

func (l *listenClient) run(ctx context.Context) error {
	backoff := minBackoff
	for {
		connected, err := l.session(ctx)
		if ctx.Err() != nil {
			return l.interrupted()
		}
		var stop *stopped
		if errors.As(err, &stop) {
			return stop.err
		}
		if connected {
			backoff = minBackoff
		}
		wait := time.Duration(float64(backoff) * (0.8 + 0.4*rand.Float64()))
		l.errOut.printf("> %v; reconnecting in %s\n", err, wait.Round(100*time.Millisecond))
		select {
		case <-ctx.Done():
			return l.interrupted()
		case <-time.After(wait):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// interrupted ends a run stopped by ^C or SIGTERM: a clean exit.
func (l *listenClient) interrupted() error {
	l.errOut.printf("> Stopped. Relay stays on for merchant %s: its notifies are journalled listener-offline and retried until you listen again, or 'bjpay-sandbox listen --off' sends them to their notify URLs.\n", l.merchant())
	return nil
}

func (l *listenClient) merchant() string {
	if l.clientID != "" {
		return l.clientID
	}
	if l.o.clientID != "" {
		return l.o.clientID
	}
	return "(yours)"
}

// session connects once and relays until the connection ends; it reports
// whether it connected, and why it ended.
func (l *listenClient) session(ctx context.Context) (connected bool, err error) {
	target := l.o.sandbox + listen.Path
	if l.o.clientID != "" {
		target += "?clientId=" + url.QueryEscape(l.o.clientID)
	}
	dialCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	header := http.Header{listen.HeaderForwardTo: {l.o.forwardTo}}
	if l.o.token != "" {
		header.Set("Authorization", "Bearer "+l.o.token)
	}
	conn, resp, err := websocket.Dial(dialCtx, target, &websocket.DialOptions{HTTPClient: l.sandbox, HTTPHeader: header})
	if err != nil {
		return false, l.refused(resp, err)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(listen.MaxMessage)
	_, data, err := conn.Read(dialCtx)
	var hello listen.Message
	if err == nil {
		err = json.Unmarshal(data, &hello)
	}
	if err != nil || hello.Type != listen.TypeHello {
		return false, fmt.Errorf("the sandbox did not greet the listener (%v)", err)
	}
	l.clientID = hello.ClientID
	l.errOut.printf("> Ready! Relaying the notifies of merchant %s to %s (^C to quit)\n", l.clientID, l.o.forwardTo)

	// Closing with a normal closure on ^C, by the goroutine that waits for
	// it, ends the read below; so does closing a connection that answers
	// no ping.
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(pingEvery)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				_ = conn.Close(websocket.StatusNormalClosure, "the listener stopped")
				return
			case <-done:
				return
			case <-tick.C:
				pctx, cancel := context.WithTimeout(ctx, pingTimeout)
				err := conn.Ping(pctx)
				cancel()
				if err != nil && ctx.Err() == nil {
					_ = conn.CloseNow()
					return
				}
			}
		}
	})
	sem := make(chan struct{}, maxForwards)
	for {
		var data []byte
		_, data, err = conn.Read(context.Background())
		if err != nil {
			break
		}
		var m listen.Message
		if json.Unmarshal(data, &m) != nil || m.Type != listen.TypeNotify || m.Notify == nil {
			continue // a message of a newer sandbox
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			l.relay(ctx, conn, m.ID, m.Notify)
		})
	}
	close(done)
	wg.Wait()
	switch websocket.CloseStatus(err) {
	case listen.CloseRelayOff:
		l.errOut.printf("> Relay was switched off for merchant %s (listen --off, a reset, or the control API); stopping.\n", l.clientID)
		return true, &stopped{}
	case listen.CloseReplaced:
		return true, &stopped{fmt.Errorf("another listener of merchant %s connected to the sandbox and takes its notifies now; stopping", l.clientID)}
	case listen.CloseRevoked:
		return true, errors.New("the sandbox closed the connection: the token was rotated")
	case listen.CloseGoingAway:
		return true, errors.New("the sandbox is stopping")
	}
	return true, fmt.Errorf("lost the connection to the sandbox (%v)", err)
}

// refused turns a failed handshake into the error to report: one that
// stops for answers a retry cannot change (a wrong token, another
// merchant, no such merchant), one to retry otherwise.
func (l *listenClient) refused(resp *http.Response, err error) error {
	if resp == nil {
		return fmt.Errorf("cannot reach the sandbox at %s (%v)", l.o.sandbox, err)
	}
	body, _ := io.ReadAll(resp.Body)
	msg := fmt.Errorf("the sandbox refused the listener (%d): %s", resp.StatusCode, sandboxMessage(string(bytes.TrimSpace(body))))
	switch resp.StatusCode {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusMisdirectedRequest:
		return &stopped{msg}
	}
	return msg
}

// relay forwards one notify and sends its answer back.
func (l *listenClient) relay(ctx context.Context, conn *websocket.Conn, id string, n *listen.Notify) {
	l.out.printf("%s   --> %s %s [%s, attempt %d]\n", time.Now().Format(time.DateTime), n.Status, n.ReferenceNumber, n.DeliveryID, n.Attempt)
	a := l.forward(ctx, n)
	if a.Error != "" {
		l.out.printf("%s  <--  [ERR] POST %s [%s] %s\n", time.Now().Format(time.DateTime), a.URL, n.DeliveryID, a.Error)
	} else {
		l.out.printf("%s  <--  [%d] POST %s [%s] %.1fms\n", time.Now().Format(time.DateTime), a.Status, a.URL, n.DeliveryID, a.LatencyMs)
	}
	b, _ := json.Marshal(listen.Message{Type: listen.TypeAnswer, ID: id, Answer: &a})
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_ = conn.Write(wctx, websocket.MessageText, b) // a lost answer is the sandbox's timeout: it retries
}

// forward POSTs the notify to the local URL, exactly as signed, within
// the attempt's timeout.
func (l *listenClient) forward(ctx context.Context, n *listen.Notify) listen.Answer {
	a := listen.Answer{URL: l.o.forwardTo}
	timeout := time.Duration(n.TimeoutMs) * time.Millisecond
	if timeout <= 0 || timeout > 5*time.Minute {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.o.forwardTo, bytes.NewReader(n.Body))
	if err != nil {
		a.Error = err.Error()
		return a
	}
	req.Header = n.Header.Clone()
	start := time.Now()
	resp, err := l.local.Do(req)
	a.LatencyMs = float64(time.Since(start).Microseconds()) / 1000
	switch uerr := (*url.Error)(nil); {
	case errors.Is(err, context.DeadlineExceeded):
		a.Error = fmt.Sprintf("no answer within the timeout of %s", timeout)
		return a
	case errors.As(err, &uerr):
		a.Error = uerr.Err.Error()
		return a
	case err != nil:
		a.Error = err.Error()
		return a
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, listen.MaxBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	a.Status, a.Body = resp.StatusCode, string(body)
	return a
}

// localClient posts to the local URL: straight there (no proxy from the
// environment), and, as the sandbox, without following redirects.
func localClient() *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	return &http.Client{Transport: transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// lockedWriter serialises the lines of concurrent forwards.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (w *lockedWriter) printf(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fmt.Fprintf(w.w, format, args...)
}
