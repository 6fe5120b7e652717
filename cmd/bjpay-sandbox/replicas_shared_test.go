package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/store/pgstore/pgtest"
	"github.com/jackc/pgx/v5"
)

// post calls a replica's control API (loopback, no admin token) and fails
// the test unless it answers want.
func post(t *testing.T, url, body string, want int) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("POST %s: HTTP %d; want %d", url, resp.StatusCode, want)
	}
}

// createThrough creates payment ref of the default merchant through base.
func createThrough(t *testing.T, base, ref, notifyURL string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(createRequest(base, replicaID, replicaSecret, ref, notifyURL))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create %s through %s: HTTP %d", ref, base, resp.StatusCode)
	}
}

// stringer shows what a failed wait found.
type stringer func() string

func (f stringer) String() string { return f() }

// TestReplicasRelayToHolder: the merchant's listener is connected to
// replica B; payments created and paid through replica A are delivered
// through B's listener, once each, and none is journalled listener-offline
// while B holds it. Once the listener stops, an attempt is journalled
// listener-offline, as with one process.
func TestReplicasRelayToHolder(t *testing.T) {
	bin, dsn := buildCLI(t), pgtest.DSN(t)
	a, b := startReplica(t, bin, dsn), startReplica(t, bin, dsn)
	direct := newNotifySink(t, 0) // the notify URL: relayed notifies never go there
	recv := newVerifyingReceiver(t, replicaID, replicaSecret)
	l := startListen(t, "--sandbox", b.base, "--client-id", replicaID, "--forward-to", recv.URL+"/webhook")
	// Connecting switched relay on, through B: A reads it within 0.1 s.
	waitUntil(t, "A sees the relay on", func() bool {
		var relay struct{ On bool }
		getJSON(t, a.base+"/_sandbox/merchants/"+replicaID+"/relay", &relay)
		return relay.On
	}, b.stderr)

	var refs []string
	paid := time.Now()
	for i := range 20 {
		ref := fmt.Sprintf("RELAY-%d", i) // no scenario: paid below
		createThrough(t, a.base, ref, direct.URL)
		post(t, a.base+"/_sandbox/transactions/"+ref+"/pay", "", http.StatusOK)
		refs = append(refs, ref)
	}
	var journal stringer = func() string {
		var js []journalEntry
		getJSON(t, a.base+"/_sandbox/deliveries?clientId="+replicaID, &js)
		return fmt.Sprintf("the journal: %+v\nA: %s\nB: %s", js, a.stderr, b.stderr)
	}
	waitUntil(t, "the listener delivers all 20", func() bool { got, bad := recv.received(); return len(got)+len(bad) >= len(refs) }, journal)
	took := time.Since(paid)
	time.Sleep(2 * SharedRefresh) // any stray attempt lands in the journal
	got, bad := recv.received()
	if len(got) != len(refs) || len(bad) != 0 {
		t.Errorf("the listener's receiver verified %d %v and refused %v; want each of %d once", len(got), got, bad, len(refs))
	}
	for _, ref := range refs {
		var js []journalEntry
		getJSON(t, a.base+"/_sandbox/deliveries?referenceNumber="+ref, &js)
		if len(js) != 1 || js[0].Outcome != "delivered" || !js[0].Relayed || js[0].URL != recv.URL+"/webhook" {
			t.Errorf("%s's journal read through A: %+v; want one attempt, relayed and delivered through B's listener", ref, js)
		}
	}
	if n, _ := direct.tally(refs); n != 0 {
		t.Errorf("%d relayed notifies went to the notify URL too", n)
	}
	t.Logf("20 payments paid through A, delivered through B's listener within %s", took.Round(time.Millisecond))

	// No listener anywhere: attempts are journalled listener-offline.
	l.stop(t)
	createThrough(t, a.base, "RELAY-OFF", direct.URL)
	post(t, a.base+"/_sandbox/transactions/RELAY-OFF/pay", "", http.StatusOK)
	var js []journalEntry
	waitUntil(t, "the offline attempt is journalled", func() bool {
		getJSON(t, a.base+"/_sandbox/deliveries?referenceNumber=RELAY-OFF", &js)
		return len(js) > 0
	}, b.stderr)
	if js[0].Outcome != "listener-offline" || !js[0].Relayed || js[0].NextAttemptAt == nil {
		t.Errorf("attempt with no listener connected to any replica: %+v; want listener-offline, with its next attempt", js[0])
	}
}

// uploaded are scenarios loaded through the control API: creates of
// UPL-DOWN- answer 503, payments UPL-PAID- are paid at once.
const uploaded = `scenarios:
  - name: uploaded-down
    match: {reference: "^UPL-DOWN-"}
    create: {status: 503}
  - name: uploaded-paid
    match: {reference: "^UPL-PAID-"}
    timeline:
      - {after: 0s, status: PAID}
`

// TestReplicasShareScenarios: scenarios uploaded through replica A pick
// the payments created through replica B (once B has read them, within
// 0.1 s), and those of a replica started after the upload, at once.
func TestReplicasShareScenarios(t *testing.T) {
	bin, dsn := buildCLI(t), pgtest.DSN(t)
	a, b := startReplica(t, bin, dsn), startReplica(t, bin, dsn)
	recv := newNotifySink(t, 0)
	post(t, a.base+"/_sandbox/scenarios", uploaded, http.StatusOK)
	waitUntil(t, "B lists the uploaded scenarios", func() bool {
		var list []struct{ Name string }
		getJSON(t, b.base+"/_sandbox/scenarios", &list)
		return slices.ContainsFunc(list, func(s struct{ Name string }) bool { return s.Name == "uploaded-paid" })
	}, b.stderr)
	c := startReplica(t, bin, dsn) // started with --scenarios of its own: the upload wins
	for i, r := range []*durableServer{b, c} {
		resp, err := http.DefaultClient.Do(createRequest(r.base, replicaID, replicaSecret, fmt.Sprintf("UPL-DOWN-%d", i), recv.URL))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("create UPL-DOWN- through %s: HTTP %d; want 503, as the scenario uploaded through A says", r.base, resp.StatusCode)
		}
		ref := fmt.Sprintf("UPL-PAID-%d", i)
		createThrough(t, r.base, ref, recv.URL)
		recv.waitDelivered(t, []string{ref}, 10*time.Second)
		if st := stored(t, a.base)[ref]; st != "PAID" {
			t.Errorf("%s created through %s, read through A: %s; want PAID by the uploaded scenario", ref, r.base, st)
		}
	}
}

// TestReplicaClockMoveStoreFails: when the database refuses writes (made
// read-only, as a failed-over or full one would), a clock move answers 503
// with Retry-After and says nothing moved, and the clock reads as before;
// once writes work again, the same move answers 200.
func TestReplicaClockMoveStoreFails(t *testing.T) {
	bin, dsn := buildCLI(t), pgtest.DSN(t)
	a := startReplica(t, bin, dsn)
	db, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())
	var name string
	if err := db.QueryRow(context.Background(), "SELECT current_database()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	// readOnly makes the replica's sessions read-only or writable again:
	// the setting applies to new sessions, so its pool's are ended.
	readOnly := func(on bool) {
		t.Helper()
		for _, q := range []string{
			fmt.Sprintf("ALTER DATABASE %s SET default_transaction_read_only = %v", name, on),
			"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
		} {
			if _, err := db.Exec(context.Background(), q); err != nil {
				t.Fatal(err)
			}
		}
	}
	clockNow := func() string {
		var c struct{ Now string }
		getJSON(t, a.base+"/_sandbox/clock", &c)
		return c.Now
	}
	before := clockNow()
	readOnly(true)
	for _, path := range []string{"/_sandbox/clock/advance", "/_sandbox/merchants/" + replicaID + "/clock/advance"} {
		resp, err := http.Post(a.base+path, "application/json", strings.NewReader(`{"by":"24h"}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "nothing was changed") {
			t.Errorf("POST %s on a read-only database: HTTP %d, Retry-After %q, %s; want 503 saying nothing was changed",
				path, resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
	}
	if after := clockNow(); after[:13] != before[:13] {
		t.Errorf("the clock moved though the database refused: %s, then %s", before, after)
	}
	// Writable again: the pool replaces its ended connections (a first
	// try may still meet one), and the move goes through.
	readOnly(false)
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Post(a.base+"/_sandbox/clock/advance", "application/json", strings.NewReader(`{"by":"24h"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("advance once the database is writable again: HTTP %d for 10 s; want 200", resp.StatusCode)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if after := clockNow(); after[:10] == before[:10] {
		t.Errorf("the clock did not move once the database was writable: %s, then %s", before, after)
	}
}
