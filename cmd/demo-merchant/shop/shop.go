// Package shop is a small, correct BJPAY integration: a checkout that
// creates payments, a notify handler that verifies and applies them, and
// an orders endpoint. It is the reference the conformance suite is proven
// against, and an example to copy.
//
// The notify handler does, in order, what every BJPAY merchant should:
//
//  1. refuse a notify without a valid X-Signature (signer.VerifyNotify);
//  2. refuse one whose X-Request-Time is outside the replay window;
//  3. acknowledge one for an order it does not know (nothing to do, and a
//     refusal would only make BJPAY retry it);
//  4. refuse one whose totalAmount is not the order's;
//  5. apply it idempotently: a duplicate is acknowledged again, a PAID
//     order never goes back to EXPIRED or FAILED.
//
// Config.Bug switches on one known mistake at a time, to show that the
// conformance suite catches it.
package shop

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bjpay/bjpay-sandbox/signer"
)

// Bug is a deliberate mistake of the notify handler.
type Bug string

// The bugs, each a mistake real integrations make.
const (
	// BugSkipSignature trusts every notify without checking X-Signature.
	BugSkipSignature Bug = "skip-signature"
	// BugAmountDecimals signs the amount as "58000.00" instead of as
	// JavaScript renders it ("58000"), so valid notifies fail to verify.
	BugAmountDecimals Bug = "amount-decimals"
	// BugRawMD5Key uses the 16 raw MD5 bytes as the HMAC key instead of
	// their 32-character hex string.
	BugRawMD5Key Bug = "raw-md5-key"
	// BugDuplicate409 answers 409 to a notify it has already applied, so
	// BJPAY keeps retrying it.
	BugDuplicate409 Bug = "duplicate-409"
	// BugExpiredOverwritesPaid lets a later EXPIRED or FAILED notify undo a
	// payment.
	BugExpiredOverwritesPaid Bug = "expired-overwrites-paid"
	// BugIgnoreAmount marks an order paid whatever amount the notify says.
	BugIgnoreAmount Bug = "ignore-amount"
	// BugNoReplayCheck accepts a validly signed notify of any age.
	BugNoReplayCheck Bug = "no-replay-check"
)

// Bugs lists every Bug.
var Bugs = []Bug{BugSkipSignature, BugAmountDecimals, BugRawMD5Key, BugDuplicate409,
	BugExpiredOverwritesPaid, BugIgnoreAmount, BugNoReplayCheck}

// ParseBug returns the Bug named s ("" is none).
func ParseBug(s string) (Bug, error) {
	for _, b := range Bugs {
		if string(b) == s {
			return b, nil
		}
	}
	if s == "" {
		return "", nil
	}
	names := make([]string, len(Bugs))
	for i, b := range Bugs {
		names[i] = string(b)
	}
	return "", fmt.Errorf("unknown bug %q; expected one of %s", s, strings.Join(names, ", "))
}

// Config configures a Shop.
type Config struct {
	// SandboxURL is the BJPAY base URL: the sandbox, or https://api.bjpay.co.id.
	SandboxURL             string
	ClientID, ClientSecret string
	// PublicURL is the shop's own base URL as BJPAY reaches it, for
	// finishNotifyUrl and finishReturnUrl.
	PublicURL string
	// ReplayWindow is how far X-Request-Time may be from the shop's clock.
	ReplayWindow time.Duration
	Bug          Bug
	Client       *http.Client
	Logger       *slog.Logger
}

// Order statuses; the same words as BJPAY's.
const (
	Pending = "PENDING"
	Paid    = "PAID"
	Expired = "EXPIRED"
	Failed  = "FAILED"
)

// Order is one checkout.
type Order struct {
	ReferenceNumber string `json:"referenceNumber"`
	Amount          int64  `json:"amount"`
	PaymentCode     string `json:"paymentCode"`
	Status          string `json:"status"`
	// Credited counts how often the order was credited: never more than 1.
	Credited int `json:"credited"`
}

// Shop is the merchant.
type Shop struct {
	cfg Config
	key string // signer.Key(ClientID, ClientSecret), computed once

	mu     sync.Mutex
	orders map[string]*Order
}

// New returns a shop.
func New(cfg Config) *Shop {
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.ReplayWindow <= 0 {
		cfg.ReplayWindow = 5 * time.Minute
	}
	return &Shop{cfg: cfg, key: signer.Key(cfg.ClientID, cfg.ClientSecret), orders: map[string]*Order{}}
}

// Handler serves POST /checkout, POST /webhook/bjpay and GET /orders/{ref}.
func (s *Shop) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /checkout", s.checkout)
	mux.HandleFunc("POST /webhook/bjpay", s.notify)
	mux.HandleFunc("GET /orders/{ref}", s.order)
	return mux
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// checkout creates an order and its BJPAY payment.
func (s *Shop) checkout(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Amount      int64  `json:"amount"`
		PaymentCode string `json:"paymentCode"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&in); err != nil || in.Amount <= 0 || in.PaymentCode == "" {
		reply(w, http.StatusBadRequest, map[string]string{"error": `expected {"amount": 58000, "paymentCode": "VA-BNI"}`})
		return
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	ref := "ORDER-" + hex.EncodeToString(b)
	public := strings.TrimRight(s.cfg.PublicURL, "/")
	body, _ := json.Marshal(map[string]any{
		"paymentCode": in.PaymentCode, "referenceNumber": ref,
		"customerName": "Budi Santoso", "customerEmail": "budi@example.com", "customerPhoneNumber": "6281234567890",
		"finishNotifyUrl": public + "/webhook/bjpay", "finishReturnUrl": public + "/orders/" + ref,
		"totalAmount": in.Amount,
		"items":       []any{map[string]any{"name": "Order " + ref, "quantity": 1, "amount": in.Amount}},
	})
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, strings.TrimRight(s.cfg.SandboxURL, "/")+"/api/merchant/transaction/create", bytes.NewReader(body))
	if err != nil {
		reply(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Client-Id", s.cfg.ClientID)
	req.Header.Set("X-Client-Secret", s.cfg.ClientSecret)
	req.Header.Set(signer.HeaderRequestTime, time.Now().Format(signer.TimeLayout))
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		reply(w, http.StatusBadGateway, map[string]string{"error": "BJPAY unreachable: " + err.Error()})
		return
	}
	defer resp.Body.Close()
	var created struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Data    struct {
			PaymentDest     string `json:"paymentDest"`
			PaymentDestType string `json:"paymentDestType"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&created); err != nil || created.Code != "OK" {
		reply(w, http.StatusBadGateway, map[string]string{"error": fmt.Sprintf("BJPAY refused the payment: HTTP %d, code %q, %s", resp.StatusCode, created.Code, created.Message)})
		return
	}
	s.mu.Lock()
	s.orders[ref] = &Order{ReferenceNumber: ref, Amount: in.Amount, PaymentCode: in.PaymentCode, Status: Pending}
	s.mu.Unlock()
	s.cfg.Logger.Info("order created", "referenceNumber", ref, "amount", in.Amount, "paymentCode", in.PaymentCode)
	reply(w, http.StatusCreated, map[string]string{
		"referenceNumber": ref, "status": Pending,
		"paymentDest": created.Data.PaymentDest, "paymentDestType": created.Data.PaymentDestType,
	})
}

// notification is what the handler reads of a notify.
type notification struct {
	ReferenceNumber string `json:"referenceNumber"`
	Status          string `json:"status"`
	TotalAmount     int64  `json:"totalAmount"`
}

// notify applies a BJPAY notify. Any 2xx tells BJPAY it arrived; anything
// else makes BJPAY retry it.
func (s *Shop) notify(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		reply(w, http.StatusBadRequest, map[string]string{"error": "unreadable body"})
		return
	}
	if err := s.verify(r.Header, body); err != nil {
		s.cfg.Logger.Warn("notify refused", "reason", err)
		reply(w, http.StatusUnauthorized, map[string]string{"error": err.Error()})
		return
	}
	var n notification
	if err := json.Unmarshal(body, &n); err != nil {
		reply(w, http.StatusBadRequest, map[string]string{"error": "body: " + err.Error()})
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[n.ReferenceNumber]
	switch {
	case !ok:
		s.cfg.Logger.Info("notify for an unknown order, ignored", "referenceNumber", n.ReferenceNumber)
		reply(w, http.StatusOK, map[string]string{"result": "unknown order, ignored"})
		return
	case n.TotalAmount != o.Amount && s.cfg.Bug != BugIgnoreAmount:
		reply(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("totalAmount %d is not the order's %d", n.TotalAmount, o.Amount)})
		return
	}
	switch {
	case n.Status == Paid && o.Status == Paid && s.cfg.Bug == BugDuplicate409:
		reply(w, http.StatusConflict, map[string]string{"error": "already paid"})
		return
	case n.Status == Paid && o.Status != Paid:
		o.Status = Paid
		o.Credited++
	case (n.Status == Expired || n.Status == Failed) && (o.Status == Pending || s.cfg.Bug == BugExpiredOverwritesPaid):
		o.Status = n.Status
	}
	// Anything else (a duplicate, a late EXPIRED after PAID) changes nothing
	// and is acknowledged: it did arrive.
	s.cfg.Logger.Info("notify applied", "referenceNumber", o.ReferenceNumber, "notified", n.Status, "order", o.Status)
	reply(w, http.StatusOK, map[string]string{"result": "ok", "status": o.Status})
}

// verify checks X-Signature and the age of X-Request-Time.
func (s *Shop) verify(h http.Header, body []byte) error {
	if s.cfg.Bug == BugSkipSignature {
		return nil
	}
	stamp := h.Get(signer.HeaderRequestTime)
	at, err := time.Parse(time.RFC3339, stamp)
	if err != nil {
		return fmt.Errorf("X-Request-Time %q is not a time", stamp)
	}
	if age := time.Since(at); age.Abs() > s.cfg.ReplayWindow && s.cfg.Bug != BugNoReplayCheck {
		return fmt.Errorf("X-Request-Time %s is %s away from now, more than %s: a replay?", stamp, age.Round(time.Second), s.cfg.ReplayWindow)
	}
	switch s.cfg.Bug {
	case BugAmountDecimals, BugRawMD5Key:
		return s.buggyVerify(h, body)
	}
	return signer.VerifyNotify(s.key, h, body)
}

// buggyVerify is signature checking as it goes wrong in practice.
func (s *Shop) buggyVerify(h http.Header, body []byte) error {
	var n struct {
		ReferenceNumber string  `json:"referenceNumber"`
		PaymentCode     string  `json:"paymentCode"`
		TotalAmount     float64 `json:"totalAmount"`
	}
	if err := json.Unmarshal(body, &n); err != nil {
		return err
	}
	amount := strconv.FormatFloat(n.TotalAmount, 'f', -1, 64)
	key := s.key
	switch s.cfg.Bug {
	case BugAmountDecimals:
		amount = strconv.FormatFloat(n.TotalAmount, 'f', 2, 64)
	case BugRawMD5Key:
		sum := md5.Sum([]byte(s.cfg.ClientID + ":" + s.cfg.ClientSecret))
		key = string(sum[:])
	}
	payload := h.Get(signer.HeaderRequestTime) + ":" + n.ReferenceNumber + ":" + n.PaymentCode + ":" + amount
	if !signer.Verify(key, payload, h.Get(signer.HeaderSignature)) {
		return fmt.Errorf("signature mismatch")
	}
	return nil
}

// order shows an order.
func (s *Shop) order(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	o, ok := s.orders[r.PathValue("ref")]
	var out Order
	if ok {
		out = *o
	}
	s.mu.Unlock()
	if !ok {
		reply(w, http.StatusNotFound, map[string]string{"error": "no such order"})
		return
	}
	reply(w, http.StatusOK, out)
}
