package mock

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/delivery"
	"github.com/bjpay/bjpay-sandbox/mock/listen"
)

// The relay: a merchant whose relay is on (access.go) has its notifies go
// to its listener, `bjpay-sandbox listen` on a developer's laptop, over the
// WebSocket the listener opened (control_listen.go), whatever their notify
// URL. [sandbox] BJPAY has no such thing; it spares a developer behind NAT
// a tunnel. Relay stays on when the listener drops: attempts are then
// journalled listener-offline and retried on their schedule, and reach
// the listener once it is back.

// relay is the notifier's delivery.Relay.
type relay struct{ s *Sandbox }

func (r relay) Relays(clientID string) bool { return r.s.access.relays(clientID) }

// Listening: on a shared store, the notifier leaves the attempts of a
// merchant whose listener is not here to the replica holding it.
func (r relay) Listening(clientID string) bool { return r.s.listeners.get(clientID) != nil }

func (r relay) Forward(ctx context.Context, clientID string, n delivery.Relayed) (delivery.Answer, error) {
	l := r.s.listeners.get(clientID)
	if l == nil {
		return delivery.Answer{}, delivery.ErrListenerOffline
	}
	return l.forward(ctx, n)
}

// link is a listener's connection as the relay uses it (the WebSocket, in
// control_listen.go).
type link interface {
	// write sends one message; a failure ends the connection.
	write(ctx context.Context, m listen.Message) error
}

// listener is one connected listener.
type listener struct {
	clientID  string
	forwardTo string
	since     time.Time
	byToken   bool // connected with the merchant's own token, not the admin's
	conn      link

	stopc chan stopRequest // the first request to close it
	gone  chan struct{}    // closed when the connection has ended

	mu      sync.Mutex
	seq     uint64
	waiting map[string]chan delivery.Answer // by message id
}

// stopRequest is a close code and its reason: a fixed sentence, since a
// WebSocket close reason holds at most 125 bytes.
type stopRequest struct {
	code   int
	reason string
}

func newListener(clientID, forwardTo string, since time.Time, byToken bool, conn link) *listener {
	return &listener{clientID: clientID, forwardTo: forwardTo, since: since, byToken: byToken, conn: conn,
		stopc: make(chan stopRequest, 1), gone: make(chan struct{}), waiting: map[string]chan delivery.Answer{}}
}

// forward sends n to the listener and waits for its answer, for the
// listener to leave, or for ctx (the attempt's timeout).
func (l *listener) forward(ctx context.Context, n delivery.Relayed) (delivery.Answer, error) {
	answer := make(chan delivery.Answer, 1)
	l.mu.Lock()
	l.seq++
	id := strconv.FormatUint(l.seq, 10)
	l.waiting[id] = answer
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		delete(l.waiting, id)
		l.mu.Unlock()
	}()
	m := listen.Message{Type: listen.TypeNotify, ID: id, Notify: &listen.Notify{DeliveryID: n.DeliveryID, Attempt: n.Attempt,
		ReferenceNumber: n.ReferenceNumber, Status: n.Status, TimeoutMs: n.Timeout.Milliseconds(), Header: n.Header, Body: n.Body}}
	if err := l.conn.write(ctx, m); err != nil {
		if ctx.Err() != nil {
			return delivery.Answer{}, ctx.Err()
		}
		return delivery.Answer{}, fmt.Errorf("the listener's connection failed (%v), and %w", err, delivery.ErrListenerOffline)
	}
	select {
	case a := <-answer:
		return a, nil
	case <-l.gone:
		return delivery.Answer{}, fmt.Errorf("the listener disconnected before answering, and %w", delivery.ErrListenerOffline)
	case <-ctx.Done():
		return delivery.Answer{}, ctx.Err()
	}
}

// answered hands the listener's answer to the attempt waiting for it; an
// answer nobody waits for any more (past its timeout) is dropped.
func (l *listener) answered(id string, a *listen.Answer) error {
	if a == nil {
		return errors.New("an answer message without its answer")
	}
	l.mu.Lock()
	ch := l.waiting[id]
	l.mu.Unlock()
	if ch != nil {
		select {
		case ch <- delivery.Answer{URL: a.URL, Status: a.Status, Body: a.Body, Error: a.Error,
			Latency: time.Duration(a.LatencyMs * float64(time.Millisecond))}:
		default: // answered twice: the first counts
		}
	}
	return nil
}

// stop asks the connection's owner to close it with code and reason.
func (l *listener) stop(code int, reason string) {
	select {
	case l.stopc <- stopRequest{code, reason}:
	default: // asked already
	}
}

// listeners are the connected listeners, at most one per merchant: one
// that connects replaces the merchant's previous one, which is closed
// with listen.CloseReplaced (and does not reconnect), so that two laptops
// never share or steal a merchant's notifies unnoticed.
type listeners struct {
	mu       sync.Mutex
	byClient map[string]*listener
	closed   bool
	wg       sync.WaitGroup // the connections being served
}

// add registers l, replacing the merchant's previous listener; false when
// the sandbox is closing. remove must follow a true.
func (ls *listeners) add(l *listener) bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.closed {
		return false
	}
	if ls.byClient == nil {
		ls.byClient = map[string]*listener{}
	}
	if old := ls.byClient[l.clientID]; old != nil {
		old.stop(listen.CloseReplaced, "another listener of this merchant connected")
	}
	ls.byClient[l.clientID] = l
	ls.wg.Add(1)
	return true
}

// remove forgets l once its connection has ended: attempts waiting for its
// answers learn it is gone.
func (ls *listeners) remove(l *listener) {
	ls.mu.Lock()
	if ls.byClient[l.clientID] == l {
		delete(ls.byClient, l.clientID)
	}
	ls.mu.Unlock()
	close(l.gone)
	ls.wg.Done()
}

func (ls *listeners) get(clientID string) *listener {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.byClient[clientID]
}

// all returns the connected listeners.
func (ls *listeners) all() []*listener {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	out := make([]*listener, 0, len(ls.byClient))
	for _, l := range ls.byClient {
		out = append(out, l)
	}
	return out
}

// stop closes the merchant's listener ("" for every one); only those
// that connected with the merchant's own token when byTokenOnly.
func (ls *listeners) stop(clientID string, byTokenOnly bool, code int, reason string) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	for id, l := range ls.byClient {
		if (clientID == "" || id == clientID) && (!byTokenOnly || l.byToken) {
			l.stop(code, reason)
		}
	}
}

// closeAll closes every listener, refuses new ones and waits until their
// connections have ended.
func (ls *listeners) closeAll(code int, reason string) {
	ls.mu.Lock()
	ls.closed = true
	ls.mu.Unlock()
	ls.stop("", false, code, reason)
	ls.wg.Wait()
}

// relayView is a merchant's relay as the control API shows it.
type relayView struct {
	ClientID string        `json:"clientId"`
	On       bool          `json:"on"`
	Listener *listenerView `json:"listener,omitempty"`
}

type listenerView struct {
	ForwardTo string    `json:"forwardTo,omitempty"`
	Since     time.Time `json:"since"`
}

func (s *Sandbox) relayView(clientID string) relayView {
	v := relayView{ClientID: clientID, On: s.access.relays(clientID)}
	if l := s.listeners.get(clientID); l != nil {
		v.Listener = &listenerView{ForwardTo: l.forwardTo, Since: l.since}
	}
	return v
}

// SetRelay switches the merchant's relay on or off. Switching it off
// closes its listener (listen.CloseRelayOff), which then stops.
func (s *Sandbox) SetRelay(ctx context.Context, clientID string, on bool) error {
	if s.merchants.get(ctx, clientID) == nil {
		return errorf(KindNotFound, "no merchant with clientId %q", clientID)
	}
	if err := s.access.setRelay(ctx, clientID, on); err != nil {
		return s.storeFailed("save the relay of merchant "+clientID, err)
	}
	if !on {
		s.listeners.stop(clientID, false, listen.CloseRelayOff, "relay was switched off")
	}
	s.log.Info("relay switched", "clientId", clientID, "on", on)
	return nil
}
