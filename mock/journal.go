package mock

import (
	"sync"
	"time"
)

// Delivery outcomes recorded in the journal.
const (
	OutcomeDelivered   = "delivered"   // the merchant answered 2xx in time
	OutcomeRetrying    = "retrying"    // failed; another attempt is scheduled
	OutcomeGaveUp      = "gave-up"     // failed, and it was the last attempt
	OutcomeNoURL       = "no-url"      // neither finishNotifyUrl nor the merchant's notifyUrl: nothing sent
	OutcomeInterrupted = "interrupted" // the sandbox stopped before or during the attempt
)

// Attempt is one delivery attempt of a notify, as the journal records it.
type Attempt struct {
	DeliveryID      string            `json:"deliveryId"`
	Attempt         int               `json:"attempt"`
	ReferenceNumber string            `json:"referenceNumber"`
	ClientID        string            `json:"clientId"`
	Status          string            `json:"status"` // the status the notify announced
	Variant         Variant           `json:"variant"`
	URL             string            `json:"url"`
	SentAt          time.Time         `json:"sentAt"` // wall time, = X-Request-Time unless the variant shifts it
	RequestHeaders  map[string]string `json:"requestHeaders"`
	RequestBody     string            `json:"requestBody"`
	ResponseStatus  int               `json:"responseStatus,omitempty"`
	ResponseBody    string            `json:"responseBody,omitempty"` // first 4 KiB
	LatencyMs       float64           `json:"latencyMs"`
	Error           string            `json:"error,omitempty"`
	Outcome         string            `json:"outcome"`
	NextAttemptAt   *time.Time        `json:"nextAttemptAt,omitempty"` // sandbox time
}

// journal keeps every attempt, in the order they ended. Safe for
// concurrent use. Attempts are kept in chunks of journalChunk: appending
// never copies the journal, so no attempt waits for a copy of a hundred
// thousand others under the lock.
type journal struct {
	mu       sync.RWMutex
	attempts [][]Attempt
	outcomes map[string]int // attempts by outcome
	changed  func()         // called after every change, outside the lock
}

const journalChunk = 1024

// add appends a and returns its position in the journal.
func (j *journal) add(a Attempt) int {
	j.mu.Lock()
	pos := 0
	if n := len(j.attempts); n > 0 {
		pos = (n-1)*journalChunk + len(j.attempts[n-1])
	}
	if n := len(j.attempts); n == 0 || len(j.attempts[n-1]) == journalChunk {
		j.attempts = append(j.attempts, make([]Attempt, 0, journalChunk))
	}
	last := &j.attempts[len(j.attempts)-1]
	*last = append(*last, a)
	if j.outcomes == nil {
		j.outcomes = map[string]int{}
	}
	j.outcomes[a.Outcome]++
	j.mu.Unlock()
	j.changed()
	return pos
}

// list returns the attempts matching the filters ("" matches all).
func (j *journal) list(clientID, ref string) []Attempt {
	j.mu.RLock()
	defer j.mu.RUnlock()
	out := []Attempt{}
	for _, chunk := range j.attempts {
		for _, a := range chunk {
			if (clientID == "" || a.ClientID == clientID) && (ref == "" || a.ReferenceNumber == ref) {
				out = append(out, a)
			}
		}
	}
	return out
}

func (j *journal) reset() {
	j.mu.Lock()
	j.attempts, j.outcomes = nil, nil
	j.mu.Unlock()
	j.changed()
}

// outcomeCounts returns how many attempts ended with each outcome.
func (j *journal) outcomeCounts() map[string]int {
	j.mu.RLock()
	defer j.mu.RUnlock()
	out := make(map[string]int, 5)
	for _, o := range []string{OutcomeDelivered, OutcomeRetrying, OutcomeGaveUp, OutcomeNoURL, OutcomeInterrupted} {
		out[o] = j.outcomes[o]
	}
	return out
}
