package mock_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock"
	"github.com/bjpay/bjpay-sandbox/scenarios"
)

// TestBacklogBound: with the notify backlog at its limit, creates answer
// 503 with Retry-After and the way out, and are taken again once it drains.
func TestBacklogBound(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { close(release) }) }
	defer open()
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release; got.Add(1) }))
	defer srv.Close()
	clock, _ := mock.NewSandboxClock(mock.ClockVirtual, 1)
	sb, err := mock.New(mock.Options{Config: mock.DefaultConfig(), Clock: clock, Seed: 1, NotifyWorkers: 1, MaxPendingNotifies: 3})
	if err != nil {
		t.Fatal(err)
	}
	sb.Start()
	defer sb.Close(context.Background())
	e := &engine{sb: sb, h: sb.Handler()}
	// One notify in flight (the worker waits on the receiver), three queued.
	for i := range 4 {
		ref := "BL-" + strconv.Itoa(i)
		e.create(t, ref, srv.URL, nil)
		if code, body := e.control(t, "POST", "/_sandbox/transactions/"+ref+"/pay", ""); code != 200 {
			t.Fatalf("pay %s: %d %s", ref, code, body)
		}
		if i == 0 {
			waitFor(t, "the first attempt in flight", func() bool {
				_, body := e.control(t, "GET", "/_sandbox/stats", "")
				return strings.Contains(body, `"inFlight": 1`)
			})
		}
	}
	header := validHeaders()
	header.Set("X-Request-Time", time.Now().Format(time.RFC3339))
	r := do(t, e.h, http.MethodPost, createPath, header, with(map[string]any{"referenceNumber": "BL-FULL", "expiredAt": nil}))
	if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") != "1" || !strings.Contains(r.Body, "--max-pending-notifies") {
		t.Fatalf("create with a full backlog: %d %v %s; want 503, Retry-After: 1 and the flag", r.Status, r.Header, r.Body)
	}
	open()
	waitFor(t, "the backlog to drain", func() bool { return got.Load() == 4 })
	waitWithin(t, 5*time.Second, "creates to be taken again", func() bool {
		r := do(t, e.h, http.MethodPost, createPath, header, with(map[string]any{"referenceNumber": "BL-AFTER", "expiredAt": nil}))
		return r.Status == http.StatusOK
	})
}

// TestScenarioNotifiesCount: every notify a scenario's timeline will send
// counts against the bound, before the payment is made: a scenario of many
// duplicated notify steps cannot turn one create into more notifies than
// the sandbox may hold, and steps planned but not yet due count too.
func TestScenarioNotifiesCount(t *testing.T) {
	var steps strings.Builder
	for i := range 50 {
		fmt.Fprintf(&steps, "      - {after: %dh, notify: PAID}\n", i+1)
	}
	user, err := scenarios.Parse("amplify.yaml", []byte(`scenarios:
  - name: amplify
    match: {reference: "^AMP-"}
    timeline:
`+steps.String()+`    delivery: {duplicates: 9}
`))
	if err != nil {
		t.Fatal(err)
	}
	if n := user[0].Notifies(); n != 510 { // (1+9) × (50 notify steps + the expiry's)
		t.Fatalf("Notifies() = %d, want 510", n)
	}
	for _, tt := range []struct {
		max    int
		status []int // of creates AMP-0, AMP-1, ...
	}{
		{500, []int{503}},            // one payment's worth is over the bound
		{1000, []int{200, 503}},      // the first's 500 planned notifies count for the second
		{2000, []int{200, 200, 200}}, // 3 × 500 planned, each under the bound when made
	} {
		t.Run(strconv.Itoa(tt.max), func(t *testing.T) {
			clock, _ := mock.NewSandboxClock(mock.ClockVirtual, 1)
			sb, err := mock.New(mock.Options{Config: mock.DefaultConfig(), Clock: clock, Seed: 1, Scenarios: user, MaxPendingNotifies: tt.max})
			if err != nil {
				t.Fatal(err)
			}
			sb.Start()
			defer sb.Close(context.Background())
			header := validHeaders()
			header.Set("X-Request-Time", time.Now().Format(time.RFC3339))
			for i, want := range tt.status {
				r := do(t, sb.Handler(), http.MethodPost, createPath, header, with(map[string]any{"referenceNumber": fmt.Sprintf("AMP-%d", i), "expiredAt": nil}))
				if r.Status != want || want == 503 && !strings.Contains(r.Body, `scenario \"amplify\" would add up to 510`) {
					t.Errorf("create AMP-%d with the bound at %d: %d %s; want %d", i, tt.max, r.Status, r.Body, want)
				}
			}
		})
	}
}
