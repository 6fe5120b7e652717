package mock

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/listen"
	"github.com/coder/websocket"
	"github.com/gorilla/mux"
)

// The listener's WebSocket (relay.go has what it carries). The guard has
// checked it as every control route: the Host, the Origin (a browser's
// WebSocket handshake carries one), the token, and the scope: a merchant's
// token listens for that merchant only.

// Keep-alive: a listener that answers no ping within pingTimeout is gone
// (a laptop put to sleep), so its merchant's attempts are journalled
// listener-offline instead of waiting for their timeout on a dead socket.
// [sandbox] Often enough for proxies that close idle connections after a
// minute.
const (
	pingEvery   = 25 * time.Second
	pingTimeout = 10 * time.Second
)

func (s *Sandbox) ctlListen(w http.ResponseWriter, r *http.Request) error {
	clientID := r.URL.Query().Get("clientId")
	if clientID == "" {
		return errorf(KindInvalid, "GET %s with the admin token needs ?clientId=: the merchant whose notifies to relay (bjpay-sandbox listen --client-id)", listen.Path)
	}
	if !isWebSocket(r) {
		w.Header().Set("Upgrade", "websocket")
		return errorf(KindUpgrade, "GET %s is the WebSocket of bjpay-sandbox listen; connect with a WebSocket client (Connection: Upgrade, Upgrade: websocket)", listen.Path)
	}
	if err := s.SetRelay(r.Context(), clientID, true); err != nil {
		return err
	}
	if err := s.holdListener(r.Context(), clientID); err != nil {
		return err
	}
	conn, err := websocket.Accept(w, r, nil) // checks the Origin again
	if err != nil {
		s.dropListener(clientID)
		return nil // Accept answered
	}
	conn.SetReadLimit(listen.MaxMessage)
	l := newListener(clientID, r.Header.Get(listen.HeaderForwardTo), s.wallNow(), !principalOf(r).isAdmin(), wsLink{conn})
	if !s.listeners.add(l) {
		_ = conn.Close(listen.CloseGoingAway, "the sandbox is stopping")
		s.dropListener(clientID)
		return nil
	}
	defer s.dropListener(clientID)
	defer s.listeners.remove(l)
	s.log.Info("listener connected", "clientId", clientID, "forwardTo", l.forwardTo)
	why := s.serveListener(l, conn)
	s.log.Info("listener disconnected", "clientId", clientID, "reason", why)
	return nil
}

// serveListener runs l's connection until it ends, and says why: it reads
// the listener's answers, pings it, and closes the connection when asked.
func (s *Sandbox) serveListener(l *listener, conn *websocket.Conn) string {
	ctx := context.Background() // the request's context ends with the handler's hijack
	hello, _ := json.Marshal(listen.Message{Type: listen.TypeHello, ClientID: l.clientID})
	if err := conn.Write(ctx, websocket.MessageText, hello); err != nil {
		_ = conn.CloseNow()
		return err.Error()
	}
	readErr := make(chan error, 1)
	go func() {
		for {
			_, data, err := conn.Read(ctx)
			if err == nil {
				var m listen.Message
				if err = json.Unmarshal(data, &m); err == nil && m.Type == listen.TypeAnswer {
					err = l.answered(m.ID, m.Answer)
				}
			}
			if err != nil {
				readErr <- err
				return
			}
		}
	}()
	tick := time.NewTicker(pingEvery)
	defer tick.Stop()
	for {
		select {
		case req := <-l.stopc:
			_ = conn.Close(websocket.StatusCode(req.code), req.reason)
			<-readErr
			return req.reason
		case err := <-readErr:
			_ = conn.CloseNow()
			return err.Error()
		case <-tick.C:
			pctx, cancel := context.WithTimeout(ctx, pingTimeout)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				_ = conn.CloseNow()
				<-readErr
				return "no answer to a ping within " + pingTimeout.String()
			}
		}
	}
}

// wsLink is a listener's WebSocket as the relay writes to it.
type wsLink struct{ conn *websocket.Conn }

func (c wsLink) write(ctx context.Context, m listen.Message) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return c.conn.Write(ctx, websocket.MessageText, b)
}

// isWebSocket reports whether r asks for a WebSocket.
func isWebSocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket") &&
		strings.Contains(strings.ToLower(r.Header.Get("Connection")), "upgrade")
}

func (s *Sandbox) ctlRelay(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["clientId"]
	if s.merchants.get(r.Context(), id) == nil {
		return errorf(KindNotFound, "no merchant with clientId %q", id)
	}
	return writeControl(w, http.StatusOK, s.relayView(id))
}

// ctlSetRelay switches a merchant's relay: {"on": true} or {"on": false}.
func (s *Sandbox) ctlSetRelay(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		On *bool `json:"on"`
	}
	if _, err := decodeControl(w, r, &in); err != nil {
		return err
	}
	if in.On == nil {
		return errorf(KindInvalid, `the body must say {"on": true} or {"on": false}`)
	}
	id := mux.Vars(r)["clientId"]
	if err := s.SetRelay(r.Context(), id, *in.On); err != nil {
		return err
	}
	return writeControl(w, http.StatusOK, s.relayView(id))
}
