package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock"
)

const healthExamples = `  # Is the sandbox on the default address up? (exit 0 when it is)
  bjpay-sandbox health

  # In a script, after starting it in the background:
  bjpay-sandbox serve --addr 127.0.0.1:9090 & bjpay-sandbox health --addr 127.0.0.1:9090 --wait 10s

  # A container's HEALTHCHECK: BJPAY_SANDBOX_ADDR is serve's address too,
  # so the check probes wherever serve listens. Distroless images have no
  # curl; the binary checks itself.
  HEALTHCHECK CMD ["bjpay-sandbox", "health"]
`

func runHealth(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		addr    string
		timeout time.Duration
		wait    time.Duration
		tlsCert string
	)
	fs := newFlagSet("health", "[--addr HOST:PORT] [--timeout D] [--wait D]", healthExamples, stderr)
	fs.StringVar(&addr, "addr", "127.0.0.1:8080", "`HOST:PORT` the sandbox listens on, as given to serve (:8080 probes 127.0.0.1:8080)")
	fs.DurationVar(&timeout, "timeout", 3*time.Second, "how long one probe may take")
	fs.DurationVar(&wait, "wait", 0, "keep probing until healthy or this long has passed (0: probe once)")
	fs.StringVar(&tlsCert, "tls-cert", "", "the sandbox serves HTTPS with this certificate `FILE`, as given to serve: probe over https, trusting exactly that certificate")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("", "--addr %q is not HOST:PORT: %v", addr, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1" // serve listens on every interface; loopback is one
	}
	if timeout <= 0 || wait < 0 {
		return usagef("", "--timeout must be positive and --wait not negative; got %s and %s", timeout, wait)
	}
	scheme, client := "http://", &http.Client{Timeout: timeout}
	if tlsCert != "" {
		pinned, err := pinnedTLS(tlsCert)
		if err != nil {
			return usagef("", "--tls-cert %s: %v", tlsCert, err)
		}
		scheme, client.Transport = "https://", &http.Transport{TLSClientConfig: pinned}
	}
	target := scheme + net.JoinHostPort(host, port) + mock.ControlPrefix + "/health"

	body, err := waitHealthy(ctx, client, target, wait)
	if err != nil {
		fmt.Fprintf(stderr, "bjpay-sandbox health: %s: %v\n", target, err)
		return errSilent
	}
	fmt.Fprintln(stdout, body)
	return nil
}

// waitHealthy GETs a sandbox's health endpoint until it answers 200 or
// wait has passed (one probe when wait is 0), and returns the answer.
func waitHealthy(ctx context.Context, client *http.Client, target string, wait time.Duration) (string, error) {
	deadline := time.Now().Add(wait)
	// The sandbox starts in about 10 ms: poll often at first, then back off.
	pause := 5 * time.Millisecond
	for {
		body, err := probe(ctx, client, target)
		if err == nil || !time.Now().Before(deadline) || ctx.Err() != nil {
			return body, err
		}
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
		pause = min(2*pause, 100*time.Millisecond)
	}
}

// probe GETs the health endpoint; healthy is a 200.
func probe(ctx context.Context, client *http.Client, target string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return "", err
	}
	status, body, err := do(client, req)
	if uerr := (*url.Error)(nil); errors.As(err, &uerr) {
		return "", uerr.Err // the URL is printed already
	} else if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("answered %d: %s", status, body)
	}
	return body, nil
}

// pinnedTLS trusts exactly the certificate in certFile: the probe reaches
// its own sandbox on loopback, whose certificate may name no such host.
func pinnedTLS(certFile string) (*tls.Config, error) {
	pemBytes, err := os.ReadFile(certFile)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(pemBytes)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM CERTIFICATE block in it")
	}
	want := block.Bytes
	return &tls.Config{
		InsecureSkipVerify: true, // replaced by the pin below
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 || !bytes.Equal(raw[0], want) {
				return errors.New("the server presented another certificate than --tls-cert")
			}
			return nil
		},
	}, nil
}
