package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock"
	"github.com/bjpay/bjpay-sandbox/mock/notify"
	"github.com/bjpay/bjpay-sandbox/mock/store"
)

const fixtureExamples = `  # One fixture of every variant, as a JSON array, reproducibly:
  bjpay-sandbox fixture --client-id my-id --client-secret my-secret \
    --seed 42 --time 2026-11-24T10:00:00+07:00 > notify-fixtures.json

  # Three valid and three tampered PAID notifies for QRIS, one file each:
  bjpay-sandbox fixture --client-id my-id --client-secret my-secret \
    --payment-code QRIS --count 3 --variant valid --variant tampered-signature \
    --out testdata/bjpay

  # Ready-to-run curl commands against a local webhook:
  bjpay-sandbox fixture --client-id my-id --client-secret my-secret \
    --notify-url http://127.0.0.1:3000/webhook/bjpay --format curl
`

const notifyExamples = `  # Send a valid PAID notify for a 58000 rupiah GOPAY payment:
  bjpay-sandbox notify --url http://127.0.0.1:3000/webhook/bjpay \
    --client-id my-id --client-secret my-secret \
    --reference ORDER-42 --payment-code GOPAY --amount 58000

  # Check that the webhook refuses a notify signed under the wrong key:
  bjpay-sandbox notify --url http://127.0.0.1:3000/webhook/bjpay \
    --client-id my-id --client-secret my-secret --variant wrong-key
`

// notifyData are the flags that say what a notify carries, shared by
// fixture and notify.
type notifyData struct {
	opts mock.FixtureOptions
	at   string // --time, parsed into opts.Time
}

func (d *notifyData) register(fs *flag.FlagSet) {
	fs.StringVar(&d.opts.ClientID, "client-id", "", "merchant's client `ID`")
	fs.StringVar(&d.opts.ClientSecret, "client-secret", "", "merchant's client `SECRET`")
	fs.Int64Var(&d.opts.Seed, "seed", 0, "seed of the generated data; the same flags and seed give the same bytes\n(default: random, printed to stderr)")
	fs.StringVar(&d.at, "time", "", "X-Request-Time as an RFC 3339 `TIME`, e.g. 2026-11-24T10:00:00+07:00 (default: now)")
	fs.StringVar(&d.opts.Status, "status", store.StatusPaid, "status the notify reports: PAID, EXPIRED or FAILED")
	fs.StringVar(&d.opts.PaymentCode, "payment-code", "", "channel `CODE` of the default catalogue, e.g. VA-BNI, QRIS, GOPAY (default: drawn from the active channels)")
	fs.Int64Var(&d.opts.Amount, "amount", 0, "totalAmount in whole rupiah (default: drawn within the channel's limits)")
	fs.StringVar(&d.opts.Reference, "reference", "", "referenceNumber (default: generated, INV-<12 digits>)")
}

// parse checks the data flags after fs.Parse and fills in the time (now)
// and seed (random) when not given. drawn says the seed was drawn.
func (d *notifyData) parse(fs *flag.FlagSet) (drawn bool, err error) {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var missing []string
	for _, name := range []string{"client-id", "client-secret"} {
		if fs.Lookup(name).Value.String() == "" {
			missing = append(missing, "--"+name)
		}
	}
	if len(missing) > 0 {
		return false, usagef("Run 'bjpay-sandbox "+fs.Name()+" --help' for an example.", "missing %s: the notify is signed under md5(client-id:client-secret)", strings.Join(missing, ", "))
	}
	if d.at != "" {
		t, err := time.Parse(time.RFC3339, d.at)
		if err != nil {
			return false, usagef("", "--time %q is not an RFC 3339 time; expected e.g. 2026-11-24T10:00:00+07:00", d.at)
		}
		d.opts.Time = t
	}
	if given["amount"] && d.opts.Amount <= 0 {
		return false, usagef("", "--amount %d is not a positive whole number of rupiah", d.opts.Amount)
	}
	if given["reference"] && d.opts.Reference == "" {
		return false, usagef("", "--reference is empty; leave it out to have one generated")
	}
	if d.opts.Time.IsZero() {
		d.opts.Time = time.Now().Truncate(time.Second)
	}
	if !given["seed"] {
		d.opts.Seed = rand.Int64N(1 << 31)
		return true, nil
	}
	return false, nil
}

// variantsFlag collects --variant, given once per variant or as a
// comma-separated list.
type variantsFlag []notify.Variant

func (v *variantsFlag) String() string {
	s := make([]string, len(*v))
	for i, x := range *v {
		s[i] = string(x)
	}
	return strings.Join(s, ",")
}

func (v *variantsFlag) Set(s string) error {
	for _, name := range strings.Split(s, ",") {
		x, err := notify.ParseVariant(strings.TrimSpace(name))
		if err != nil {
			return err
		}
		if !slices.Contains(*v, x) {
			*v = append(*v, x)
		}
	}
	return nil
}

// wib is Western Indonesia Time, the zone of X-Request-Time.
var wib = time.FixedZone("WIB", 7*60*60)

// fixtureFormats are --format's values, with the extension of their files.
var fixtureFormats = map[string]string{"json": ".json", "http": ".http", "curl": ".sh"}

func runFixture(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		d      notifyData
		vs     variantsFlag
		format string
		out    string
	)
	fs := newFlagSet("fixture", "--client-id ID --client-secret S [--count N] [--seed N] [--time T] [--status S] [--payment-code C] [--amount A] [--reference R] [--variant V]... [--format json|http|curl] [--out DIR]", fixtureExamples, stderr)
	d.register(fs)
	fs.IntVar(&d.opts.Count, "count", 1, fmt.Sprintf("number of payments, each signed as every requested variant (1 to %d)", mock.MaxFixtureCount))
	fs.Var(&vs, "variant", "notify `VARIANT` to include, repeatable or comma-separated: "+strings.Join(variantNames(), ", ")+"\n(default: all)")
	fs.StringVar(&d.opts.NotifyURL, "notify-url", mock.DefaultFixtureNotifyURL, "finishNotifyUrl in the body, and where the http and curl formats send")
	fs.StringVar(&format, "format", "json", "output `FORMAT`: json (an array; one object per file with --out), http (raw HTTP requests) or curl (shell commands)")
	fs.StringVar(&out, "out", "", "write one file per fixture into `DIR` (created if missing) instead of stdout")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	drawn, err := d.parse(fs)
	if err != nil {
		return err
	}
	ext, ok := fixtureFormats[format]
	if !ok {
		return usagef("", "--format %q is not a format; expected json, http or curl", format)
	}
	if d.opts.Count < 1 || d.opts.Count > mock.MaxFixtureCount {
		return usagef("", "--count %d is out of range; expected 1 to %d", d.opts.Count, mock.MaxFixtureCount)
	}
	d.opts.Variants = vs
	fixtures, err := mock.Fixtures(d.opts)
	if err != nil {
		return usagef("Run 'bjpay-sandbox fixture --help' for the flags.", "%v", err)
	}
	if drawn || d.at == "" {
		fmt.Fprintf(stderr, "fixture: add --seed %d --time %s to reproduce this output\n", d.opts.Seed, d.opts.Time.In(wib).Format(time.RFC3339))
	}

	if out == "" {
		return writeFixtures(stdout, format, fixtures)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, f := range fixtures {
		var buf bytes.Buffer
		if format == "curl" {
			buf.WriteString("#!/bin/sh\n")
		}
		if err := writeFixture(&buf, format, f); err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if format == "curl" {
			mode = 0o755
		}
		if err := os.WriteFile(filepath.Join(out, f.Name+ext), buf.Bytes(), mode); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "fixture: wrote %d files to %s\n", len(fixtures), out)
	return nil
}

func variantNames() []string {
	var names []string
	for _, v := range notify.Variants() {
		names = append(names, string(v))
	}
	return names
}

// fixtureJSON is a fixture in the json format.
type fixtureJSON struct {
	Name    string            `json:"name"`
	Variant notify.Variant    `json:"variant"`
	Expect  string            `json:"expect"`
	Why     string            `json:"why"`
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	// Body is the exact bytes to send, as a JSON string.
	Body string `json:"body"`
}

func toJSON(f mock.Fixture) fixtureJSON {
	h := make(map[string]string, len(f.Header))
	for name := range f.Header {
		h[name] = f.Header.Get(name)
	}
	return fixtureJSON{Name: f.Name, Variant: f.Variant, Expect: f.Expect, Why: f.Why,
		Method: "POST", URL: f.Notification.FinishNotifyURL, Headers: h, Body: string(f.Body)}
}

// writeFixtures writes fixtures to w in format, as one document: a JSON
// array, or requests and commands one after another.
func writeFixtures(w io.Writer, format string, fixtures []mock.Fixture) error {
	if format == "json" {
		all := make([]fixtureJSON, len(fixtures))
		for i, f := range fixtures {
			all[i] = toJSON(f)
		}
		return encodeJSON(w, all)
	}
	var buf bytes.Buffer
	if format == "curl" {
		buf.WriteString("#!/bin/sh\n")
	}
	for i, f := range fixtures {
		if i > 0 {
			buf.WriteString("\n")
		}
		if format == "http" {
			// A separator line as REST clients (VS Code, JetBrains) read it.
			fmt.Fprintf(&buf, "### %s: %s. %s\n", f.Name, f.Expect, f.Why)
		}
		if err := writeFixture(&buf, format, f); err != nil {
			return err
		}
		if format == "http" {
			buf.WriteString("\n")
		}
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// writeFixture writes one fixture in format: all of a json or http file,
// a curl file's commands without the "#!/bin/sh" line.
func writeFixture(w *bytes.Buffer, format string, f mock.Fixture) error {
	target := f.Notification.FinishNotifyURL
	switch format {
	case "json":
		return encodeJSON(w, toJSON(f))
	case "http":
		u, err := url.Parse(target)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "POST %s HTTP/1.1\r\nHost: %s\r\n", u.RequestURI(), u.Host)
		for _, name := range slices.Sorted(maps.Keys(f.Header)) {
			fmt.Fprintf(w, "%s: %s\r\n", name, f.Header.Get(name))
		}
		fmt.Fprintf(w, "Content-Length: %d\r\nConnection: close\r\n\r\n", len(f.Body))
		w.Write(f.Body)
	case "curl":
		fmt.Fprintf(w, "# %s: a correct merchant must %s it. %s\ncurl -sS -i %s", f.Name, f.Expect, f.Why, shellQuote(target))
		for _, name := range slices.Sorted(maps.Keys(f.Header)) {
			fmt.Fprintf(w, " \\\n  -H %s", shellQuote(name+": "+f.Header.Get(name)))
		}
		// echo ends the answer's body with a newline, so the next answer
		// starts on a line of its own.
		fmt.Fprintf(w, " \\\n  --data-binary %s\necho\n", shellQuote(string(f.Body)))
	}
	return nil
}

// shellQuote quotes s for a POSIX shell: single quotes, with each ' written
// as '\”. Newlines stay as they are, so the body's bytes are kept exactly.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// encodeJSON writes v as indented JSON without HTML escaping, so a body's
// "&" stays readable.
func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
