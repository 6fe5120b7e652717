package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock"
)

const listenExamples = `  # Relay your merchant's notifies from a shared sandbox to your laptop
  # (the token is your merchant's, from POST /_sandbox/merchants):
  export BJPAY_SANDBOX_TOKEN=sbxtok_...
  bjpay-sandbox listen --sandbox https://sandbox.example.com --forward-to http://localhost:3000/webhook

  # With the admin token, name the merchant:
  bjpay-sandbox listen --sandbox http://127.0.0.1:8080 --client-id 2f9d6a0e-... --forward-to http://localhost:3000/webhook

  # A sandbox serving https with its own certificate (serve --tls-cert):
  bjpay-sandbox listen --sandbox https://127.0.0.1:8443 --ca-cert sandbox.crt --forward-to http://localhost:3000/webhook

  # Send the merchant's notifies to their notify URLs again:
  bjpay-sandbox listen --sandbox https://sandbox.example.com --off
`

// listenOptions are listen's flags.
type listenOptions struct {
	sandbox   string // base URL, without a trailing slash
	token     string
	clientID  string
	forwardTo string
	off       bool
	caCert    string
}

func runListen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o listenOptions
	fs := newFlagSet("listen", "--sandbox URL [--token T] [--client-id ID] --forward-to URL | --off", listenExamples, stderr)
	fs.StringVar(&o.sandbox, "sandbox", "", "the sandbox's base `URL`, e.g. https://sandbox.example.com or http://127.0.0.1:8080")
	fs.StringVar(&o.token, "token", "", "your merchant's control API `TOKEN`, or the admin token with --client-id; none for a sandbox on this machine without --admin-token, with --client-id (prefer $BJPAY_SANDBOX_TOKEN, which ps does not show)")
	fs.StringVar(&o.clientID, "client-id", "", "`ID` of the merchant whose notifies to relay, with the admin token (a merchant's token names its own)")
	fs.StringVar(&o.forwardTo, "forward-to", "", "the local `URL` to POST each notify to, e.g. http://localhost:3000/webhook")
	fs.BoolVar(&o.off, "off", false, "switch the merchant's relay off, so its notifies go to their notify URLs again, and exit")
	fs.StringVar(&o.caCert, "ca-cert", "", "also trust the certificates in this PEM `FILE` for the sandbox's https (its serve --tls-cert, or the CA that signed it)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	hint := "Run 'bjpay-sandbox listen --help' for an example."
	u, err := url.Parse(o.sandbox)
	switch {
	case o.sandbox == "":
		return usagef(hint, "missing --sandbox: the sandbox's base URL")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "":
		return usagef(hint, "--sandbox %q is not an absolute http(s) URL such as https://sandbox.example.com", o.sandbox)
	case o.token == "" && o.clientID == "":
		return usagef(hint, "missing --token (or $BJPAY_SANDBOX_TOKEN): your merchant's token; or --client-id, with the admin token or, on a sandbox on this machine without --admin-token, alone")
	case o.off && o.forwardTo != "":
		return usagef(hint, "--off and --forward-to do not go together: --off stops relaying")
	case !o.off && o.forwardTo == "":
		return usagef(hint, "missing --forward-to: the local URL to send notifies to, e.g. http://localhost:3000/webhook")
	}
	if !o.off {
		if f, err := url.Parse(o.forwardTo); err != nil || (f.Scheme != "http" && f.Scheme != "https") || f.Host == "" {
			return usagef(hint, "--forward-to %q is not an absolute http(s) URL such as http://localhost:3000/webhook", o.forwardTo)
		}
	}
	o.sandbox = strings.TrimRight(o.sandbox, "/")
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if o.caCert != "" {
		roots, err := trustedRoots(o.caCert)
		if err != nil {
			return usagef("", "--ca-cert %s: %v", o.caCert, err)
		}
		transport.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	// Each call carries its own deadline; the WebSocket lives on.
	sandbox := &http.Client{Transport: transport}
	if o.off {
		return relayOff(ctx, sandbox, o, stdout)
	}
	l := &listenClient{o: o, sandbox: sandbox, local: localClient(), out: &lockedWriter{w: stdout}, errOut: &lockedWriter{w: stderr}}
	return l.run(ctx)
}

// trustedRoots is the system's roots and the certificates in file.
func trustedRoots(file string) (*x509.CertPool, error) {
	pemBytes, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if !roots.AppendCertsFromPEM(pemBytes) {
		return nil, errors.New("no PEM CERTIFICATE block in it")
	}
	return roots, nil
}

// controlCall is one bounded call to the sandbox's control API with the
// token; it decodes a 2xx answer into out, and turns any other into an
// error with the sandbox's message.
func controlCall(ctx context.Context, client *http.Client, o listenOptions, method, path, body string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, o.sandbox+mock.ControlPrefix+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	if o.token != "" {
		req.Header.Set("Authorization", "Bearer "+o.token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	status, answer, err := do(client, req)
	if err != nil {
		return err
	}
	if status/100 != 2 {
		return fmt.Errorf("%s %s answered %d: %s", method, mock.ControlPrefix+path, status, sandboxMessage(answer))
	}
	return json.Unmarshal([]byte(answer), out)
}

// sandboxMessage is the message of a control API error envelope, or the
// body as it is.
func sandboxMessage(body string) string {
	var env struct{ Message string }
	if json.Unmarshal([]byte(body), &env) == nil && env.Message != "" {
		return env.Message
	}
	return body
}

// merchantOf is the merchant the options name: --client-id, or the one
// whose token this is.
func merchantOf(ctx context.Context, client *http.Client, o listenOptions) (string, error) {
	if o.clientID != "" {
		return o.clientID, nil
	}
	var who struct{ Scope, ClientID string }
	if err := controlCall(ctx, client, o, http.MethodGet, "/whoami", "", &who); err != nil {
		return "", err
	}
	if who.ClientID == "" {
		return "", usagef("", "the token is the admin token: add --client-id, the merchant whose relay to switch off")
	}
	return who.ClientID, nil
}

// relayOff switches the merchant's relay off.
func relayOff(ctx context.Context, client *http.Client, o listenOptions, stdout io.Writer) error {
	id, err := merchantOf(ctx, client, o)
	if err != nil {
		return err
	}
	var relay struct{ On bool }
	if err := controlCall(ctx, client, o, http.MethodPost, "/merchants/"+url.PathEscape(id)+"/relay", `{"on": false}`, &relay); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Relay is off for merchant %s: its notifies go to their notify URLs again.\n", id)
	return nil
}
