package signer_test

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/bjpay/bjpay-sandbox/signer"
)

// The reference vector of BJPAY's docs.
func ExampleSign() {
	key := signer.Key("test-client-id", "test-client-secret")
	payload := signer.Payload("2024-09-20T20:32:36+07:00", "TX_556622123344", "GOPAY", 15000)
	fmt.Println(key)
	fmt.Println(payload)
	fmt.Println(signer.Sign(key, payload))
	// Output:
	// 607d5ef159ed37ad0d61b58a67184673
	// 2024-09-20T20:32:36+07:00:TX_556622123344:GOPAY:15000
	// f5a8097de89bbe64ff66137c931d19e737f1574995bcada84558d58728e658bf
}

// A merchant's handler checks a notify with VerifyNotify before trusting its body.
func ExampleVerifyNotify() {
	key := signer.Key("test-client-id", "test-client-secret")
	header := http.Header{
		signer.HeaderRequestTime: {"2024-09-20T20:32:36+07:00"},
		signer.HeaderSignature:   {"f5a8097de89bbe64ff66137c931d19e737f1574995bcada84558d58728e658bf"},
	}
	body := []byte(`{"referenceNumber":"TX_556622123344","paymentCode":"GOPAY","status":"PAID","totalAmount":15000}`)
	fmt.Println(signer.VerifyNotify(key, header, body))

	tampered := []byte(`{"referenceNumber":"TX_556622123344","paymentCode":"GOPAY","status":"PAID","totalAmount":1500}`)
	err := signer.VerifyNotify(key, header, tampered)
	fmt.Println(errors.Is(err, signer.ErrSignatureMismatch))
	fmt.Println(err)
	// Output:
	// <nil>
	// true
	// signer: signature-mismatch: X-Signature "f5a8097de89bbe64ff66137c931d19e737f1574995bcada84558d58728e658bf" does not match the payload "2024-09-20T20:32:36+07:00:TX_556622123344:GOPAY:1500" (X-Request-Time:referenceNumber:paymentCode:totalAmount); expected the lowercase hex HMAC-SHA256 of that payload keyed with md5(client_id + ":" + client_secret) in lowercase hex
}
