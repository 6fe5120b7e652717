package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a certificate for localhost and 127.0.0.1 and its
// key, as PEM files.
func selfSigned(t *testing.T, dir, name string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certFile, keyFile
}

// TestServeTLS: with --tls-cert and --tls-key the sandbox speaks only
// HTTPS, its URL says so, and `health --tls-cert` probes it, trusting
// exactly that certificate.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir, "sandbox")
	other, _ := selfSigned(t, dir, "other")
	base, _, _ := startServer(t, serveOptions{tlsCert: cert, tlsKey: key})
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("URL %s, want https://", base)
	}
	insecure := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	if resp, err := insecure.Get(base + "/_sandbox/health"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET health over https: %v %v", resp, err)
	}
	if resp, err := http.Get("http" + strings.TrimPrefix(base, "https") + "/_sandbox/health"); err == nil && resp.StatusCode == 200 {
		t.Error("plain http answered 200 on the TLS port")
	}
	addr := strings.TrimPrefix(base, "https://")
	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"pinned", []string{"health", "--addr", addr, "--tls-cert", cert}, 0, `"status": "ok"`},
		{"another certificate", []string{"health", "--addr", addr, "--tls-cert", other}, 1, "another certificate than --tls-cert"},
		{"plain http to TLS", []string{"health", "--addr", addr}, 1, "health"},
		{"not a certificate", []string{"health", "--addr", addr, "--tls-cert", filepath.Join(dir, "sandbox-key.pem")}, 2, "no PEM CERTIFICATE"},
		{"cert without key", []string{"serve", "--tls-cert", cert}, 2, "--tls-cert and --tls-key go together"},
		{"unreadable pair", []string{"serve", "--addr", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", cert}, 2, "expected PEM files of a certificate and its private key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := exitCode(run(context.Background(), tt.args, &stdout, &stderr), &stderr)
			if code != tt.code || !strings.Contains(stdout.String()+stderr.String(), tt.want) {
				t.Errorf("exit %d, want %d with %q\nstdout %s\nstderr %s", code, tt.code, tt.want, &stdout, &stderr)
			}
		})
	}
}
