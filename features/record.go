package features

import (
	"errors"
	"fmt"
	"sync"
)

// Recorder keeps, for each scenario of a conformance run, the requests it
// sent and the answers it got, and the root cause of its failure: what a
// report shows beside godog's own results. Safe for concurrent use.
type Recorder struct {
	mu      sync.Mutex
	records map[string]*Record
}

// Record is what one scenario sent and got.
type Record struct {
	// Scenario is the scenario's name, as godog's reports give it.
	Scenario string
	// Cause is the root cause of the scenario's failure when other
	// scenarios may share it ("valid notifies are refused (HTTP 401)"),
	// empty when it passed or failed for a reason of its own.
	Cause string
	// Exchanges are the requests, in the order they were sent.
	Exchanges []Exchange
	// Interrupted says the scenario failed because the run was stopped
	// while it was under way (its context was done).
	Interrupted bool
}

// Exchange is one request and its answer, as a report shows them.
type Exchange struct {
	// Title says what the request was: "checkout", "order status",
	// "notify PAID (wrong-key)".
	Title string
	// Request and Answer are transcripts: method, URL, headers, body.
	Request, Answer string
	// Why is, for a notify, the sandbox's sentence on what was signed and
	// what was sent.
	Why string
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{records: map[string]*Record{}} }

// Records returns a copy of the records, by scenario name.
func (r *Recorder) Records() map[string]Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]Record, len(r.records))
	for name, rec := range r.records {
		c := *rec
		c.Exchanges = append([]Exchange(nil), rec.Exchanges...)
		out[name] = c
	}
	return out
}

// start opens the record of a scenario, replacing any earlier one of the
// same name.
func (r *Recorder) start(scenario string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records[scenario] = &Record{Scenario: scenario}
}

// add appends an exchange to a scenario's record. A read of the order's
// status replaces the one just before it: a check that polls keeps only
// its last read.
func (r *Recorder) add(scenario string, x Exchange) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	rec := r.records[scenario]
	if rec == nil {
		return
	}
	if n := len(rec.Exchanges); n > 0 && x.Title == titleOrderStatus && rec.Exchanges[n-1].Title == titleOrderStatus {
		rec.Exchanges[n-1] = x
		return
	}
	rec.Exchanges = append(rec.Exchanges, x)
}

// finish records how a scenario failed: the cause of its failure, or that
// the run was interrupted under it.
func (r *Recorder) finish(scenario string, err error, interrupted bool) {
	if r == nil || err == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	rec := r.records[scenario]
	if rec == nil {
		return
	}
	var f *failure
	switch {
	case interrupted:
		rec.Interrupted = true
	case errors.As(err, &f):
		rec.Cause = f.cause
	}
}

// failure is a step's failure, with the root cause it may share with the
// failures of other scenarios, so that a report can show them together.
type failure struct {
	cause string
	err   error
}

func (f *failure) Error() string { return f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

// failf returns a failure with cause and a message made as fmt.Errorf
// makes it.
func failf(cause, format string, args ...any) error {
	return &failure{cause: cause, err: fmt.Errorf(format, args...)}
}

// Root causes that several scenarios' failures share.
const (
	causeForgedAccepted = "notifies BJPAY did not sign as sent are acknowledged"
	causeStampAccepted  = "notifies stamped outside the replay window are acknowledged"
	causeNotApplied     = "acknowledged PAID notifies do not pay the order"
	causeCheckout       = "the merchant's checkout does not create a payment"
	causeOrderStatus    = "the merchant's order status cannot be read"
	causeDoubleCredit   = "duplicate PAID notifies credit the order again"
)

// causeValidRefused is the cause of a valid notify's refusal, by what the
// merchant answered: a 401 and a 500 are different bugs.
func causeValidRefused(a *attempt) string {
	if a.ResponseStatus == 0 {
		return "valid notifies get no answer"
	}
	return fmt.Sprintf("valid notifies are refused (HTTP %d)", a.ResponseStatus)
}
