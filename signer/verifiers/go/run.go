package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/bjpay/bjpay-sandbox/signer"
)

// Usage (through signer/verifiers/run):
//
//	go vectors < vectors.jsonl
//	go fixtures NOW CLIENT_ID CLIENT_SECRET < fixtures.json
func main() {
	var passed, failed int
	fail := func(what string, err error) {
		failed++
		fmt.Printf("FAIL %s: %v\n", what, err)
	}
	switch {
	case len(os.Args) == 2 && os.Args[1] == "vectors":
		sc := bufio.NewScanner(os.Stdin)
		sc.Buffer(nil, 1<<20)
		for line := 1; sc.Scan(); line++ {
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			if err := checkVector(sc.Bytes()); err != nil {
				fail(fmt.Sprintf("line %d", line), err)
			} else {
				passed++
			}
		}
		if err := sc.Err(); err != nil {
			fail("stdin", err)
		}
	case len(os.Args) == 5 && os.Args[1] == "fixtures":
		now, err := time.Parse(time.RFC3339, os.Args[2])
		if err != nil {
			fmt.Fprintf(os.Stderr, "--now %q is not an RFC 3339 time\n", os.Args[2])
			os.Exit(2)
		}
		var fixtures []struct {
			Name, Expect, Body string
			Headers            map[string]string
		}
		if err := json.NewDecoder(os.Stdin).Decode(&fixtures); err != nil {
			fmt.Fprintf(os.Stderr, "stdin is not the JSON array `bjpay-sandbox fixture` writes: %v\n", err)
			os.Exit(2)
		}
		key := signer.Key(os.Args[3], os.Args[4])
		for _, f := range fixtures {
			header := http.Header{}
			for k, v := range f.Headers {
				header.Set(k, v)
			}
			err := VerifyNotify(key, header, []byte(f.Body), now)
			switch accepted := err == nil; {
			case accepted == (f.Expect == "accept"):
				passed++
			case accepted:
				fail(f.Name, fmt.Errorf("accepted; expected it rejected"))
			default:
				fail(f.Name, fmt.Errorf("rejected (%v); expected it accepted", err))
			}
		}
	default:
		fmt.Fprintln(os.Stderr, "usage: go vectors < vectors.jsonl | go fixtures NOW CLIENT_ID CLIENT_SECRET < fixtures.json")
		os.Exit(2)
	}
	fmt.Printf("%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		os.Exit(1)
	}
}

// checkVector checks one line of a vectors file: its signature only.
func checkVector(line []byte) error {
	var v struct {
		ClientID        string      `json:"client_id"`
		ClientSecret    string      `json:"client_secret"`
		Timestamp       string      `json:"timestamp"`
		ReferenceNumber string      `json:"referenceNumber"`
		PaymentCode     string      `json:"paymentCode"`
		Amount          json.Number `json:"amount"`
		Signature       string      `json:"signature"`
	}
	if err := json.Unmarshal(line, &v); err != nil {
		return err
	}
	amount, err := signer.ParseAmount(string(v.Amount))
	if err != nil {
		return err
	}
	payload := signer.Payload(v.Timestamp, v.ReferenceNumber, v.PaymentCode, amount)
	if !signer.Verify(signer.Key(v.ClientID, v.ClientSecret), payload, v.Signature) {
		return fmt.Errorf("signature does not match the payload %q", payload)
	}
	return nil
}
