package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/store/pgstore/pgtest"
)

// Two or more `serve --database` replicas on one PostgreSQL behave as one
// sandbox: the tests below run the real binary twice on one database
// (pgtest: they fail in CI without one, and skip elsewhere saying how to
// start one).

// The merchant of the default configuration.
const replicaID, replicaSecret = "2f9d6a0e-4c1b-4e8a-9b7d-5a3c1e0f8b21", "sandbox-secret-change-me"

// replicaScenarios: payments whose reference starts with PAY- are paid at
// once and notified with a short timeout (so a lease, timeout + 5 s, is
// short too), retried every second.
const replicaScenarios = `scenarios:
  - name: paid-at-once
    match: {reference: "^PAY-"}
    timeline:
      - {after: 0s, status: PAID}
    delivery:
      timeout: 2s
      retries: [1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s]
`

// startReplica starts a replica of serve on database dsn.
func startReplica(t *testing.T, bin, dsn string) *durableServer {
	t.Helper()
	file := filepath.Join(t.TempDir(), "replicas.yaml")
	if err := os.WriteFile(file, []byte(replicaScenarios), 0o600); err != nil {
		t.Fatal(err)
	}
	return startServe(t, bin, 0, "--database", dsn, "--scenarios", file)
}

// notifySink is a merchant's notify endpoint: it counts the notifies it
// acknowledged, by reference; while failing, it answers 500 after delay.
type notifySink struct {
	*httptest.Server
	failing atomic.Bool
	delay   time.Duration

	mu  sync.Mutex
	got map[string]int
}

func newNotifySink(t *testing.T, delay time.Duration) *notifySink {
	r := &notifySink{got: map[string]int{}, delay: delay}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.failing.Load() {
			time.Sleep(r.delay)
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		var note struct{ ReferenceNumber string }
		_ = json.NewDecoder(req.Body).Decode(&note)
		r.mu.Lock()
		r.got[note.ReferenceNumber]++
		r.mu.Unlock()
	}))
	t.Cleanup(r.Close)
	return r
}

// tally counts, of refs, those acknowledged at least once and the extra
// acknowledgements (duplicates).
func (r *notifySink) tally(refs []string) (delivered, duplicates int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ref := range refs {
		delivered += min(r.got[ref], 1)
		duplicates += max(r.got[ref]-1, 0)
	}
	return delivered, duplicates
}

// waitDelivered waits until the notifySink acknowledged every one of refs.
func (r *notifySink) waitDelivered(t *testing.T, refs []string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		delivered, _ := r.tally(refs)
		if delivered == len(refs) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d notifies acknowledged after %s", delivered, len(refs), within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// createLoad creates n payments PAY-<prefix>-i from workers goroutines,
// spread over the replicas bases returns, as a load balancer would: a
// create a replica does not answer goes to the next one. It returns the
// references acknowledged (answered 200); stop ends it early.
func createLoad(t *testing.T, bases func() []string, prefix string, n, workers int, notifyURL string, stop <-chan struct{}) []string {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	var (
		mu    sync.Mutex
		acked []string
		next  atomic.Int64
		wg    sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1))
				if i > n {
					return
				}
				select {
				case <-stop:
					return
				default:
				}
				ref := fmt.Sprintf("PAY-%s-%d", prefix, i)
				for try := 0; try < 20; try++ {
					bs := bases()
					resp, err := client.Do(createRequest(bs[(i+try)%len(bs)], replicaID, replicaSecret, ref, notifyURL))
					if err != nil {
						time.Sleep(20 * time.Millisecond)
						continue // a replica down: the next one
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						mu.Lock()
						acked = append(acked, ref)
						mu.Unlock()
						break
					}
					if strings.Contains(string(body), `"code":"14"`) {
						// A try the replica committed, but whose answer was lost
						// with the replica: the reference is used, so it was
						// created; the create is not counted as acknowledged.
						break
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	return acked
}

// fixed is a list of replicas that does not change.
func fixed(bases ...string) func() []string { return func() []string { return bases } }

// journalAgrees checks that the journal, read through base, has exactly
// one delivered attempt for each of refs.
func journalAgrees(t *testing.T, base string, refs []string) {
	t.Helper()
	journal := getAll[struct{ ReferenceNumber, Outcome string }](t, base+"/_sandbox/deliveries?limit=1000")
	delivered := map[string]int{}
	for _, a := range journal {
		if a.Outcome == "delivered" {
			delivered[a.ReferenceNumber]++
		}
	}
	bad := 0
	for _, ref := range refs {
		if delivered[ref] != 1 {
			if bad++; bad <= 5 {
				t.Errorf("%s: %d delivered attempts in the journal; want 1", ref, delivered[ref])
			}
		}
	}
	if bad > 5 {
		t.Errorf("... and %d more", bad-5)
	}
}

// stored returns the references the sandbox holds, with their status, read
// through base.
func stored(t *testing.T, base string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, tx := range getAll[struct{ ReferenceNumber, Status string }](t, base+"/_sandbox/transactions?limit=1000") {
		out[tx.ReferenceNumber] = tx.Status
	}
	return out
}

// TestReplicasDeliverOnce: creates spread over two replicas, each paid at
// once: every notify is delivered exactly once, whichever replica sends
// it, and the journal agrees; a reference used on one is refused on the
// other.
func TestReplicasDeliverOnce(t *testing.T) {
	bin, dsn := buildCLI(t), pgtest.DSN(t)
	a, b := startReplica(t, bin, dsn), startReplica(t, bin, dsn)
	recv := newNotifySink(t, 0)

	const creates = 10_000
	start := time.Now()
	acked := createLoad(t, fixed(a.base, b.base), "once", creates, 32, recv.URL, nil)
	if len(acked) != creates {
		t.Fatalf("%d of %d creates acknowledged", len(acked), creates)
	}
	createdIn := time.Since(start)
	recv.waitDelivered(t, acked, 60*time.Second)
	deliveredIn := time.Since(start)
	time.Sleep(time.Second) // a duplicate would come now
	delivered, duplicates := recv.tally(acked)
	if duplicates != 0 {
		t.Errorf("%d notifies acknowledged more than once", duplicates)
	}
	journalAgrees(t, b.base, acked)
	t.Logf("creates acknowledged %d in %s, delivered %d in %s, duplicates %d",
		len(acked), createdIn.Round(time.Millisecond), delivered, deliveredIn.Round(time.Millisecond), duplicates)

	// A reference is the merchant's across replicas.
	for _, tt := range []struct {
		base, want string
	}{{a.base, `"code":"OK"`}, {b.base, `"code":"14"`}} {
		resp, err := http.DefaultClient.Do(createRequest(tt.base, replicaID, replicaSecret, "ONCE-ONLY", recv.URL))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), tt.want) {
			t.Errorf("create ONCE-ONLY through %s: %s; want %s", tt.base, body, tt.want)
		}
	}
}
