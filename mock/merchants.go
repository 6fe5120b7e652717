package mock

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"sync"

	"github.com/bjpay/bjpay-sandbox/mock/store"
	"github.com/bjpay/bjpay-sandbox/signer"
)

// merchants are the credentials the sandbox accepts: the configured ones,
// which a reset brings back, and those made through the control API, which
// the store keeps. Lookups are on every call, so the merchants are cached
// with what authentication needs, computed once.
type merchants struct {
	store   store.Store
	initial []Merchant

	mu   sync.RWMutex
	byID map[string]*merchant
}

// merchant is a merchant ready for authentication and signing.
type merchant struct {
	Merchant
	secretHash [sha256.Size]byte
	key        string // signer.Key(clientId, clientSecret): signs its notifies
	allowed    []netip.Prefix
}

func newMerchant(m Merchant) *merchant {
	mm := &merchant{Merchant: m, secretHash: sha256.Sum256([]byte(m.ClientSecret)), key: signer.Key(m.ClientID, m.ClientSecret)}
	for _, ip := range m.AllowedIPs {
		p, _ := parseIPRange(ip) // validated by Config.Validate
		mm.allowed = append(mm.allowed, p)
	}
	return mm
}

func (ms *merchants) init(configured []Merchant, st store.Store) {
	ms.store, ms.initial = st, configured
	ms.reset()
}

// reset forgets the merchants made through the control API.
func (ms *merchants) reset() {
	byID := make(map[string]*merchant, len(ms.initial))
	for _, m := range ms.initial {
		byID[m.ClientID] = newMerchant(m)
	}
	ms.mu.Lock()
	ms.byID = byID
	ms.mu.Unlock()
}

// load caches the stored merchants. The configuration wins over a stored
// merchant with the same client id.
func (ms *merchants) load(ctx context.Context) error {
	stored, err := ms.store.Merchants(ctx)
	if err != nil {
		return err
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	for _, m := range stored {
		if _, configured := ms.byID[m.ClientID]; !configured {
			ms.byID[m.ClientID] = newMerchant(merchantOf(m))
		}
	}
	return nil
}

// reload caches the configured merchants and the stored ones afresh: on a
// shared store, other replicas make them, and a reset on one forgets them.
func (ms *merchants) reload(ctx context.Context) error {
	stored, err := ms.store.Merchants(ctx)
	if err != nil {
		return err
	}
	byID := make(map[string]*merchant, len(ms.initial)+len(stored))
	ms.mu.RLock()
	old := ms.byID
	ms.mu.RUnlock()
	for _, m := range ms.initial {
		byID[m.ClientID] = old[m.ClientID]
	}
	for _, m := range stored {
		if _, configured := byID[m.ClientID]; configured {
			continue
		}
		if o := old[m.ClientID]; o != nil && o.ClientSecret == m.ClientSecret {
			byID[m.ClientID] = o // what authentication needs, computed once
		} else {
			byID[m.ClientID] = newMerchant(merchantOf(m))
		}
	}
	ms.mu.Lock()
	ms.byID = byID
	ms.mu.Unlock()
	return nil
}

func merchantOf(m store.Merchant) Merchant {
	return Merchant{Name: m.Name, ClientID: m.ClientID, ClientSecret: m.ClientSecret, NotifyURL: m.NotifyURL}
}

// get returns the merchant with clientID, or nil. One made elsewhere since
// (another process on the same store) is looked up in the store.
func (ms *merchants) get(ctx context.Context, clientID string) *merchant {
	ms.mu.RLock()
	m := ms.byID[clientID]
	ms.mu.RUnlock()
	if m != nil {
		return m
	}
	sm, err := ms.store.Merchant(ctx, clientID)
	if err != nil {
		return nil
	}
	m = newMerchant(merchantOf(sm))
	ms.mu.Lock()
	ms.byID[clientID] = m
	ms.mu.Unlock()
	return m
}

// add stores a merchant made through the control API.
func (ms *merchants) add(ctx context.Context, m store.Merchant) error {
	ms.mu.RLock()
	_, taken := ms.byID[m.ClientID]
	ms.mu.RUnlock()
	if !taken {
		if err := ms.store.AddMerchant(ctx, m); errors.Is(err, store.ErrConflict) {
			taken = true
		} else if err != nil {
			return err
		}
	}
	if taken {
		return errorf(KindConflict, "a merchant with clientId %q exists; omit clientId to get a fresh one", m.ClientID)
	}
	ms.mu.Lock()
	ms.byID[m.ClientID] = newMerchant(merchantOf(m))
	ms.mu.Unlock()
	return nil
}

// ids returns every client id, sorted.
func (ms *merchants) ids() []string {
	ms.mu.RLock()
	out := make([]string, 0, len(ms.byID))
	for id := range ms.byID {
		out = append(out, id)
	}
	ms.mu.RUnlock()
	sort.Strings(out)
	return out
}

// merchantView is a merchant without its secret.
type merchantView struct {
	Name       string   `json:"name"`
	ClientID   string   `json:"clientId"`
	NotifyURL  string   `json:"notifyUrl,omitempty"`
	AllowedIPs []string `json:"allowedIps,omitempty"`
}

// views lists the merchants by client id, without secrets.
func (ms *merchants) views() []merchantView {
	ms.mu.RLock()
	out := make([]merchantView, 0, len(ms.byID))
	for _, m := range ms.byID {
		out = append(out, merchantView{m.Name, m.ClientID, m.NotifyURL, m.AllowedIPs})
	}
	ms.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ClientID < out[j].ClientID })
	return out
}

// authenticate finds the merchant for the credentials and checks the
// caller's address against its allowlist.
func (s *Sandbox) authenticate(ctx context.Context, clientID, secret string, remote netip.Addr) (*merchant, error) {
	if clientID == "" {
		return nil, codeErr(CodeUnauthorized, "X-Client-Id header is missing; expected your client id")
	}
	if secret == "" {
		return nil, codeErr(CodeUnauthorized, "X-Client-Secret header is missing; expected your client secret")
	}
	m := s.merchants.get(ctx, clientID)
	// Compare digests in constant time so the comparison leaks neither the
	// secret nor its length.
	got := sha256.Sum256([]byte(secret))
	if m == nil {
		return nil, codeErr(CodeUnauthorized, "X-Client-Id %s is not a merchant of this sandbox; expected the client id printed at start or one from the config", masked(clientID))
	}
	if subtle.ConstantTimeCompare(got[:], m.secretHash[:]) != 1 {
		return nil, codeErr(CodeUnauthorized, "X-Client-Secret does not match the secret of client %q", clientID)
	}
	if len(m.allowed) > 0 && !allowedAddr(m.allowed, remote) {
		// [sandbox] BJPAY whitelists merchants' server IPs but documents no
		// code for a call from elsewhere: 01, filed as forbidden (HTTP 403).
		return nil, codeErr(CodeUnauthorized, "calls for client %q are not allowed from %s; allowed: %s", clientID, remote, strings.Join(m.AllowedIPs, ", ")).as(KindForbidden)
	}
	return m, nil
}

func allowedAddr(allowed []netip.Prefix, a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range allowed {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// masked shows enough of an unrecognised client id to spot a typo, but not
// all of it: a client secret pasted into the wrong header must not end up
// in responses and logs.
func masked(id string) string {
	if len(id) <= 8 {
		return fmt.Sprintf("of %d characters", len(id))
	}
	return fmt.Sprintf("%q… (%d characters)", id[:4], len(id))
}

// AddMerchant registers a merchant as the control API does: missing
// credentials are generated, the name too. The answer is the only place
// the secret is shown.
func (s *Sandbox) AddMerchant(ctx context.Context, m store.Merchant) (store.Merchant, error) {
	if m.ClientID == "" {
		m.ClientID = newUUID()
	}
	if m.ClientSecret == "" {
		m.ClientSecret = "sbx_" + randomHex(16)
	}
	for _, f := range []struct{ field, v string }{{"clientId", m.ClientID}, {"clientSecret", m.ClientSecret}} {
		if !validCredential(f.v) {
			return m, errorf(KindInvalid, "%s must be 1 to 128 printable ASCII characters without spaces; omit it to have one generated", f.field)
		}
	}
	if m.Name == "" {
		m.Name = "Merchant " + m.ClientID
	}
	if m.NotifyURL != "" {
		if msg := checkHTTPURL(m.NotifyURL); msg != "" {
			return m, errorf(KindInvalid, "notifyUrl %s", msg)
		}
	}
	var e *Error
	switch err := s.merchants.add(ctx, m); {
	case errors.As(err, &e):
		return m, err
	case err != nil:
		return m, s.storeFailed("save merchant "+m.ClientID, err)
	}
	s.log.Info("merchant created", "clientId", m.ClientID)
	return m, nil
}

// validCredential accepts what fits in an HTTP header as it is: 1 to 128
// printable ASCII characters, no spaces.
func validCredential(v string) bool {
	if len(v) == 0 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] > '~' {
			return false
		}
	}
	return true
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newUUID returns a random version 4 UUID, the form BJPAY client ids take.
func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return fmt.Sprintf("%s-%s-%s-%s-%s", h[0:8], h[8:12], h[12:16], h[16:20], h[20:])
}
