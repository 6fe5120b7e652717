// Command go is the Go verifier of BJPAY notifies that signer/verifiers/run
// drives: verifier.go is the code a Go merchant pastes (or imports the
// signer package for), run.go reads the test inputs.
package main

// --- paste from here ---

import (
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/bjpay/bjpay-sandbox/signer"
)

// ReplayWindow is how far X-Request-Time may be from the receiver's clock,
// either way. BJPAY documents none; five minutes keeps a captured notify
// from being replayed later and tolerates ordinary clock drift.
const ReplayWindow = 5 * time.Minute

// VerifyNotify checks a BJPAY notify from its raw headers and raw body:
// X-Signature is HMAC-SHA256(md5(clientId:clientSecret), X-Request-Time +
// ":" + referenceNumber + ":" + paymentCode + ":" + totalAmount as
// JavaScript writes it), compared in constant time, and X-Request-Time is
// within ReplayWindow of now. The error says why a notify is refused.
func VerifyNotify(key string, header http.Header, body []byte, now time.Time) error {
	if err := signer.VerifyNotify(key, header, body); err != nil {
		return err
	}
	ts := header.Get(signer.HeaderRequestTime)
	at, err := time.Parse(time.RFC3339, ts)
	if err != nil {
		return fmt.Errorf("X-Request-Time %q is not an ISO 8601 time such as 2024-09-20T20:32:36+07:00", ts)
	}
	if age := now.Sub(at); age > ReplayWindow || age < -ReplayWindow {
		return fmt.Errorf("X-Request-Time %s is %s from now, outside ±%s: a replay or a wrong clock", ts, age.Round(time.Second), ReplayWindow)
	}
	return nil
}

// NotifyHandler answers BJPAY's notifies: 401 with the reason for one that
// fails verification, else 200 once paid(body) has recorded it.
func NotifyHandler(clientID, clientSecret string, paid func(body []byte) error) http.Handler {
	key := signer.Key(clientID, clientSecret)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "cannot read the body: "+err.Error(), http.StatusBadRequest)
			return
		}
		if err := VerifyNotify(key, r.Header, body, time.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if err := paid(body); err != nil { // mark the order paid, idempotently
			http.Error(w, "try again", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// --- paste to here ---
