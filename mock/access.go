package mock

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"sync"

	"github.com/bjpay/bjpay-sandbox/mock/store"
)

// What the control API sets per merchant, cached from the store: its
// scoped token and its relay. [sandbox] BJPAY has neither; a team sharing
// one sandbox gives each developer their merchant's token, which opens the
// control API and the dashboard for that merchant only (scope.go).

// TokenPrefix starts every merchant token, so that secret scanners and
// people can tell one from a client secret.
const TokenPrefix = "sbxtok_"

// tokenBytes is a merchant token's randomness. [sandbox] 160 bits from
// crypto/rand: past guessing, with the wrong-token limit of admit.go on
// top.
const tokenBytes = 20

type access struct {
	store store.Store

	mu       sync.RWMutex
	controls map[string]store.Control // by client id, as stored
	byDigest map[[sha256.Size]byte]string
}

func (ac *access) init(st store.Store) {
	ac.store = st
	ac.reset()
}

// reset forgets every control, as the store's Reset does.
func (ac *access) reset() {
	ac.mu.Lock()
	ac.controls, ac.byDigest = map[string]store.Control{}, map[[sha256.Size]byte]string{}
	ac.mu.Unlock()
}

// load caches the stored controls.
func (ac *access) load(ctx context.Context) error {
	cs, err := ac.store.Controls(ctx)
	if err != nil {
		return err
	}
	ac.mu.Lock()
	defer ac.mu.Unlock()
	for id, c := range cs {
		ac.put(id, c)
	}
	return nil
}

// reload caches the stored controls afresh: on a shared store, other
// replicas make, replace and drop them.
func (ac *access) reload(ctx context.Context) error {
	cs, err := ac.store.Controls(ctx)
	if err != nil {
		return err
	}
	ac.mu.Lock()
	defer ac.mu.Unlock()
	ac.controls, ac.byDigest = map[string]store.Control{}, map[[sha256.Size]byte]string{}
	for id, c := range cs {
		ac.put(id, c)
	}
	return nil
}

// put caches c as the merchant's control; mu is held.
func (ac *access) put(clientID string, c store.Control) {
	if old, ok := ac.controls[clientID]; ok && old.TokenHash != "" {
		if d, ok := digestOf(old.TokenHash); ok {
			delete(ac.byDigest, d)
		}
	}
	if c == (store.Control{}) {
		delete(ac.controls, clientID)
		return
	}
	ac.controls[clientID] = c
	if d, ok := digestOf(c.TokenHash); ok {
		ac.byDigest[d] = clientID
	}
}

func digestOf(hexHash string) ([sha256.Size]byte, bool) {
	var d [sha256.Size]byte
	n, err := hex.Decode(d[:], []byte(hexHash))
	return d, err == nil && n == sha256.Size
}

// update changes the merchant's control with change, stores it, then
// caches it; nothing changes when the store refuses.
func (ac *access) update(ctx context.Context, clientID string, change func(*store.Control)) error {
	ac.mu.Lock()
	defer ac.mu.Unlock()
	c := ac.controls[clientID]
	change(&c)
	if err := ac.store.SetControl(ctx, clientID, c); err != nil {
		return err
	}
	ac.put(clientID, c)
	return nil
}

// merchantOf returns the client id whose token is token. The token is
// looked up by its SHA-256 digest, and the digest found compared again in
// constant time: a map's timing can only tell about digests, which nobody
// can steer towards a token without a preimage.
func (ac *access) merchantOf(token string) (string, bool) {
	d := sha256.Sum256([]byte(token))
	ac.mu.RLock()
	defer ac.mu.RUnlock()
	id, ok := ac.byDigest[d]
	if !ok {
		return "", false
	}
	stored, _ := digestOf(ac.controls[id].TokenHash)
	return id, subtle.ConstantTimeCompare(stored[:], d[:]) == 1
}

// newToken makes a merchant's token and stores its digest in place of the
// previous one, which stops working at once. The token is returned here
// and kept nowhere.
func (ac *access) newToken(ctx context.Context, clientID string) (string, error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	token := TokenPrefix + hex.EncodeToString(b)
	d := sha256.Sum256([]byte(token))
	err := ac.update(ctx, clientID, func(c *store.Control) { c.TokenHash = hex.EncodeToString(d[:]) })
	return token, err
}

// relays reports whether the merchant's relay is on.
func (ac *access) relays(clientID string) bool {
	ac.mu.RLock()
	defer ac.mu.RUnlock()
	return ac.controls[clientID].Relay
}

// setRelay switches the merchant's relay on or off.
func (ac *access) setRelay(ctx context.Context, clientID string, on bool) error {
	return ac.update(ctx, clientID, func(c *store.Control) { c.Relay = on })
}
