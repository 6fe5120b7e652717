package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestDurableRestart: the real binary, `serve --data-dir`, is stopped
// (SIGKILL, or SIGTERM) while creates are arriving and their notifies are
// retrying against a receiver that answers 500; then started again on the
// same dir with the receiver healthy. Every create answered 200 before the
// stop is there after it, and every one of them gets a delivered notify.
func TestDurableRestart(t *testing.T) {
	bin := buildCLI(t)
	tests := []struct {
		name   string
		signal syscall.Signal
	}{
		{"kill -9", syscall.SIGKILL},
		{"graceful", syscall.SIGTERM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { durableRestart(t, bin, tt.signal) })
	}
}

// durableServer is a running `bjpay-sandbox serve`.
type durableServer struct {
	cmd    *exec.Cmd
	base   string
	stderr *bytes.Buffer
	done   chan struct{} // closed when the process has exited
}

func startDurable(t *testing.T, bin, dir, scenarioFile string) *durableServer {
	t.Helper()
	return startDurableLimited(t, bin, dir, scenarioFile, 0)
}

// startDurableLimited starts serve with its files limited to fileBlocks
// blocks of 512 bytes (ulimit -f in sh), none when 0: writes past it fail
// with EFBIG, as they would on a full disk.
func startDurableLimited(t *testing.T, bin, dir, scenarioFile string, fileBlocks int) *durableServer {
	t.Helper()
	return startServe(t, bin, fileBlocks, "--data-dir", dir, "--scenarios", scenarioFile)
}

// startServe starts `serve` on a free loopback port, on a real clock, with
// the flags given, and waits for its health check; fileBlocks as in
// startDurableLimited.
func startServe(t testing.TB, bin string, fileBlocks int, flags ...string) *durableServer {
	t.Helper()
	addr := freeAddr(t)
	s := &durableServer{base: "http://" + addr, stderr: new(bytes.Buffer), done: make(chan struct{})}
	args := append([]string{"serve", "--addr", addr, "--clock", "real", "--log-level", "warn", "--seed", "7"}, flags...)
	s.cmd = exec.Command(bin, args...)
	if fileBlocks > 0 {
		s.cmd = exec.Command("sh", append([]string{"-c", fmt.Sprintf(`ulimit -f %d && exec "$0" "$@"`, fileBlocks), bin}, args...)...)
	}
	s.cmd.Stdout, s.cmd.Stderr = io.Discard, syncWriter{w: s.stderr}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		<-s.done
	})
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := client.Get(s.base + "/_sandbox/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no 200 from %s/_sandbox/health within 15 s: %v\n%s", s.base, err, s.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// syncWriter lets the process's stderr be read while it is written.
type syncWriter struct{ w *bytes.Buffer }

var stderrMu sync.Mutex

func (s syncWriter) Write(p []byte) (int, error) {
	stderrMu.Lock()
	defer stderrMu.Unlock()
	return s.w.Write(p)
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// getAll reads every page of a control API list, following each page's
// Link header to the next.
func getAll[T any](t *testing.T, url string) []T {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	var all []T
	for url != "" {
		resp, err := client.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		var page []T
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		all = append(all, page...)
		url = ""
		if target, ok := strings.CutPrefix(resp.Header.Get("Link"), "<"); ok {
			next, _, _ := strings.Cut(target, ">")
			ref, err := neturl.Parse(next)
			if err != nil {
				t.Fatalf("GET %s: Link %q: %v", url, resp.Header.Get("Link"), err)
			}
			url = resp.Request.URL.ResolveReference(ref).String()
		}
	}
	return all
}

func durableRestart(t *testing.T, bin string, sig syscall.Signal) {
	dir := filepath.Join(t.TempDir(), "data")
	scenarioFile := filepath.Join(t.TempDir(), "crash.yaml")
	err := os.WriteFile(scenarioFile, []byte(`scenarios:
  - name: crash-paid
    match: {reference: "^CRASH-"}
    timeline:
      - {after: 0s, status: PAID}
    delivery:
      retries: [1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s]
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	var (
		healthy atomic.Bool
		rmu     sync.Mutex
		got     = map[string]int{} // reference → notifies answered 200
	)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !healthy.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		var note struct{ ReferenceNumber string }
		_ = json.NewDecoder(r.Body).Decode(&note)
		rmu.Lock()
		got[note.ReferenceNumber]++
		rmu.Unlock()
	}))
	defer recv.Close()

	srv := startDurable(t, bin, dir, scenarioFile)
	const (
		creators = 16
		total    = 400 // creates attempted
		stopAt   = 250 // acknowledged before the stop
	)
	const id, secret = "2f9d6a0e-4c1b-4e8a-9b7d-5a3c1e0f8b21", "sandbox-secret-change-me"
	var (
		amu     sync.Mutex
		acked   []string
		next    atomic.Int64
		wg      sync.WaitGroup
		stopped = make(chan struct{})
		once    sync.Once
	)
	client := &http.Client{Timeout: 10 * time.Second}
	for range creators {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > total {
					return
				}
				ref := fmt.Sprintf("CRASH-%d", i)
				req := createRequest(srv.base, id, secret, ref, recv.URL)
				resp, err := client.Do(req)
				if err != nil {
					select {
					case <-stopped: // the server is gone: not acknowledged
						continue
					default:
						t.Errorf("create %s before the stop: %v", ref, err)
						return
					}
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					continue // 503 while stopping: not acknowledged
				}
				amu.Lock()
				acked = append(acked, ref)
				n := len(acked)
				amu.Unlock()
				if n == stopAt {
					once.Do(func() {
						close(stopped)
						if err := srv.cmd.Process.Signal(sig); err != nil {
							t.Errorf("signal: %v", err)
						}
					})
				}
			}
		}()
	}
	wg.Wait()
	select {
	case <-stopped:
	default:
		t.Fatalf("only %d creates acknowledged; the stop never came", len(acked))
	}
	select {
	case <-srv.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("the sandbox did not exit within 20 s of %v", sig)
	}
	if sig == syscall.SIGTERM && srv.cmd.ProcessState.ExitCode() != 0 {
		t.Errorf("graceful stop exited %d:\n%s", srv.cmd.ProcessState.ExitCode(), srv.stderr)
	}

	// The restart, the receiver healthy now.
	healthy.Store(true)
	srv = startDurable(t, bin, dir, scenarioFile)
	txs := getAll[struct{ ReferenceNumber, Status string }](t, srv.base+"/_sandbox/transactions")
	stored := map[string]string{}
	for _, tx := range txs {
		stored[tx.ReferenceNumber] = tx.Status
	}
	found := 0
	for _, ref := range acked {
		if _, ok := stored[ref]; ok {
			found++
		} else {
			t.Errorf("acknowledged create %s is gone after the restart", ref)
		}
	}

	retried := 0 // attempts before the stop, journalled and kept
	delivered := map[string]bool{}
	deadline := time.Now().Add(60 * time.Second)
	for {
		journal := getAll[struct{ ReferenceNumber, Outcome string }](t, srv.base+"/_sandbox/deliveries")
		clear(delivered)
		retried = 0
		for _, a := range journal {
			switch a.Outcome {
			case "delivered":
				delivered[a.ReferenceNumber] = true
			case "retrying":
				retried++
			}
		}
		missing := 0
		for _, ref := range acked {
			if !delivered[ref] {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged payments have no delivered notify 60 s after the restart\n%s", missing, len(acked), srv.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if retried == 0 {
		t.Error("no failed attempt before the stop in the journal: the stop came before any notify was pending, or the journal was lost")
	}
	rmu.Lock()
	duplicates, received := 0, 0
	for _, ref := range acked {
		received += min(got[ref], 1)
		duplicates += max(got[ref]-1, 0)
		if got[ref] == 0 {
			t.Errorf("%s: delivered in the journal, but the receiver never answered 200 for it", ref)
		}
	}
	rmu.Unlock()
	t.Logf("%v: creates acknowledged %d (of %d tried), found after restart %d (%d stored in all), failed attempts journalled before the stop %d, delivered after restart %d (receiver saw %d), duplicates %d",
		sig, len(acked), total, found, len(stored), retried, len(delivered), received, duplicates)
}

// TestDurableDiskFull: the real binary with its data file limited in size,
// as on a full disk. Creates go on until one is refused; then creates,
// pays and new merchants are mixed, some fitting in the file's free pages
// and some not. Every answer is 2xx, or 503 with Retry-After and the
// reason; reads go on. After a restart without the limit, everything
// answered 2xx is there and nothing answered 503 is: no payment, no status
// change, no notify, no merchant.
func TestDurableDiskFull(t *testing.T) {
	bin := buildCLI(t)
	dir := filepath.Join(t.TempDir(), "data")
	scenarioFile := filepath.Join(t.TempDir(), "unused.yaml")
	if err := os.WriteFile(scenarioFile, []byte("scenarios:\n  - {name: unused, match: {reference: \"^NEVER-\"}, delivery: {retries: []}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const id, secret = "2f9d6a0e-4c1b-4e8a-9b7d-5a3c1e0f8b21", "sandbox-secret-change-me"
	srv := startDurableLimited(t, bin, dir, scenarioFile, 1024) // 512 KiB
	client := &http.Client{Timeout: 10 * time.Second}
	// call reports whether the request was acknowledged (2xx); a 503 must
	// say why, anything else fails the test.
	call := func(req *http.Request) bool {
		t.Helper()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		switch {
		case resp.StatusCode/100 == 2:
			return true
		case resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !bytes.Contains(body, []byte("file too large")):
			t.Fatalf("%s %s on a full file: %d (Retry-After %q) %s; want 2xx, or 503 with Retry-After and the reason", req.Method, req.URL.Path, resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
		return false
	}
	post := func(path, body string) bool {
		req, _ := http.NewRequest(http.MethodPost, srv.base+path, bytes.NewReader([]byte(body)))
		req.Header.Set("Content-Type", "application/json")
		return call(req)
	}
	created := map[string]bool{} // reference → acknowledged
	paid := map[string]bool{}
	merchants := map[string]bool{}
	i := 0
	for ; i < 20000; i++ {
		ref := fmt.Sprintf("FULL-%d", i)
		if created[ref] = call(createRequest(srv.base, id, secret, ref, "")); !created[ref] {
			break
		}
	}
	if i == 0 || i == 20000 {
		t.Fatalf("%d creates acknowledged before the first refusal: the file limit did not bite as planned", i)
	}
	var refusedCreates, refusedPays, refusedMerchants int
	for j := range 300 {
		switch j % 3 {
		case 0:
			ref := fmt.Sprintf("MORE-%d", j)
			if created[ref] = call(createRequest(srv.base, id, secret, ref, "")); !created[ref] {
				refusedCreates++
			}
		case 1:
			ref := fmt.Sprintf("FULL-%d", j/3%i) // acknowledged, so PENDING
			if paid[ref] = post("/_sandbox/transactions/"+ref+"/pay", ""); !paid[ref] {
				refusedPays++
			}
		case 2:
			m := fmt.Sprintf("full-shop-%d", j)
			if merchants[m] = post("/_sandbox/merchants", `{"clientId":"`+m+`","clientSecret":"s3cret"}`); !merchants[m] {
				refusedMerchants++
			}
		}
	}
	txs := getAll[struct{ ReferenceNumber, Status string }](t, srv.base+"/_sandbox/transactions") // reads go on
	_ = srv.cmd.Process.Kill()
	<-srv.done

	srv = startDurable(t, bin, dir, scenarioFile)
	txs = getAll[struct{ ReferenceNumber, Status string }](t, srv.base+"/_sandbox/transactions")
	stored := map[string]string{}
	for _, tx := range txs {
		stored[tx.ReferenceNumber] = tx.Status
	}
	for ref, ok := range created {
		want := map[bool]string{true: "PENDING", false: ""}[ok]
		if paid[ref] {
			want = "PAID"
		}
		if stored[ref] != want {
			t.Errorf("%s (create acknowledged %v, pay acknowledged %v) after the restart: %q, want %q", ref, ok, paid[ref], stored[ref], want)
		}
	}
	journal := getAll[struct{ ReferenceNumber string }](t, srv.base+"/_sandbox/deliveries")
	for _, a := range journal {
		if !paid[a.ReferenceNumber] {
			t.Errorf("a notify of %s, whose pay was refused", a.ReferenceNumber)
		}
	}
	var ms []struct{ ClientID string }
	getJSON(t, srv.base+"/_sandbox/merchants", &ms)
	listed := map[string]bool{}
	for _, m := range ms {
		listed[m.ClientID] = true
	}
	for m, ok := range merchants {
		if listed[m] != ok {
			t.Errorf("merchant %s: acknowledged %v, listed after the restart %v", m, ok, listed[m])
		}
	}
	for ref, ok := range created {
		if !ok {
			if !call(createRequest(srv.base, id, secret, ref, "")) {
				t.Errorf("the refused reference %s is still refused after the restart", ref)
			}
			break
		}
	}
	t.Logf("data file limited to 512 KiB: %d creates acknowledged before the first refusal; then of 100 creates, 100 pays and 100 merchants, %d, %d and %d refused with 503; after the restart %d transactions: every acknowledged change there, no refused one",
		i, refusedCreates, refusedPays, refusedMerchants, len(stored))
}
