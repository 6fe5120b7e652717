package mock_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock"
	"github.com/bjpay/bjpay-sandbox/mock/notify"
	"github.com/bjpay/bjpay-sandbox/mock/store"
	"github.com/bjpay/bjpay-sandbox/signer"
)

// A merchant's unit test of its webhook handler: every fixture must get the
// answer its Expect says.
func ExampleFixtures() {
	const clientID, secret = "my-client-id", "my-client-secret"
	key := signer.Key(clientID, secret)
	// The merchant's handler under test: verifies the signature and refuses
	// notifies older or newer than five minutes.
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		at, err := time.Parse(signer.TimeLayout, r.Header.Get(signer.HeaderRequestTime))
		if err != nil || time.Since(at).Abs() > 5*time.Minute {
			http.Error(w, "stale", http.StatusUnauthorized)
			return
		}
		if err := signer.VerifyNotify(key, r.Header, body); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	})

	fixtures, err := mock.Fixtures(mock.FixtureOptions{ClientID: clientID, ClientSecret: secret, Seed: 42})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range fixtures {
		req := httptest.NewRequest(http.MethodPost, "/webhook/bjpay", nil)
		req.Header, req.Body = f.Header, io.NopCloser(strings.NewReader(string(f.Body)))
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		accepted := rec.Code/100 == 2
		fmt.Printf("%-20s %-6s ok=%v\n", f.Name, f.Expect, accepted == (f.Expect == notify.ExpectAccept))
	}
	// Output:
	// valid-1              accept ok=true
	// tampered-signature-1 reject ok=true
	// wrong-key-1          reject ok=true
	// stale-timestamp-1    reject ok=true
	// future-timestamp-1   reject ok=true
	// missing-signature-1  reject ok=true
	// amount-changed-1     reject ok=true
	// reference-changed-1  reject ok=true
	// non-canonical-json-1 accept ok=true
}

var fixtureNow = time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)

// TestFixturesVerify checks that every fixture's verification with the real
// signer agrees with its Expect, and fails in exactly its variant's way.
func TestFixturesVerify(t *testing.T) {
	// How each variant fails a careful merchant's checks: the signature
	// check's verdict, and X-Request-Time's offset from the signing time.
	type failure struct {
		check  signer.Check // "" when the signature verifies
		offset time.Duration
	}
	want := map[notify.Variant]failure{
		notify.VariantValid:             {},
		notify.VariantTamperedSignature: {check: signer.CheckSignatureMismatch},
		notify.VariantWrongKey:          {check: signer.CheckSignatureMismatch},
		notify.VariantStaleTimestamp:    {offset: -time.Hour},
		notify.VariantFutureTimestamp:   {offset: time.Hour},
		notify.VariantMissingSignature:  {check: signer.CheckMissingHeader},
		notify.VariantAmountChanged:     {check: signer.CheckSignatureMismatch},
		notify.VariantReferenceChanged:  {check: signer.CheckSignatureMismatch},
		notify.VariantNonCanonicalJSON:  {},
	}
	if len(want) != len(notify.Variants()) {
		t.Fatalf("the table covers %d variants, Variants() has %d", len(want), len(notify.Variants()))
	}
	key := signer.Key("fixture-id", "fixture-secret")
	for _, code := range []string{"", "VA-BNI", "QRIS", "GOPAY", "DANA", "VA-BCA"} {
		for _, status := range []string{store.StatusPaid, store.StatusExpired, store.StatusFailed} {
			fixtures, err := mock.Fixtures(mock.FixtureOptions{ClientID: "fixture-id", ClientSecret: "fixture-secret",
				Seed: 7, Time: fixtureNow, Count: 3, PaymentCode: code, Status: status})
			if err != nil {
				t.Fatalf("Fixtures(%s, %s): %v", code, status, err)
			}
			if len(fixtures) != 3*len(want) {
				t.Fatalf("Fixtures(%s, %s) gave %d fixtures, want 3 × %d", code, status, len(fixtures), len(want))
			}
			for _, f := range fixtures {
				w := want[f.Variant]
				err := signer.VerifyNotify(key, f.Header, f.Body)
				var got signer.Check
				if verr, ok := errors.AsType[*signer.VerifyError](err); ok {
					got = verr.Check
				} else if err != nil {
					t.Errorf("%s/%s/%s: VerifyNotify = %v, not a *VerifyError", code, status, f.Name, err)
				}
				if got != w.check {
					t.Errorf("%s/%s/%s: VerifyNotify check %q, want %q (err %v)", code, status, f.Name, got, w.check, err)
				}
				at, err := time.Parse(signer.TimeLayout, f.Header.Get(signer.HeaderRequestTime))
				if err != nil {
					t.Errorf("%s/%s/%s: X-Request-Time: %v", code, status, f.Name, err)
				} else if off := at.Sub(fixtureNow); off != w.offset {
					t.Errorf("%s/%s/%s: X-Request-Time is %+v from the signing time, want %+v", code, status, f.Name, off, w.offset)
				}
				accepted := w.check == "" && w.offset == 0
				if wantExpect := map[bool]string{true: notify.ExpectAccept, false: notify.ExpectReject}[accepted]; f.Expect != wantExpect {
					t.Errorf("%s/%s/%s: Expect %q, but a careful merchant's checks say %q", code, status, f.Name, f.Expect, wantExpect)
				}
			}
		}
	}
}

var (
	fixturePhone = regexp.MustCompile(`^628[0-9]{8,10}$`)
	fixtureEmail = regexp.MustCompile(`^[a-z0-9.]+@[a-z.]+\.[a-z]+$`)
	fixtureRef   = regexp.MustCompile(`^INV-[0-9]{12}$`)
)

// TestFixturesData checks what the fixtures carry: every body field, values
// consistent with the channel and the options, the same data for every
// variant of a payment.
func TestFixturesData(t *testing.T) {
	channels := map[string]mock.Channel{}
	for _, c := range mock.DefaultConfig().Channels {
		channels[c.PaymentCode] = c
	}
	tests := []struct {
		name  string
		opts  mock.FixtureOptions
		check func(t *testing.T, n notify.Notification)
	}{
		{name: "defaults", opts: mock.FixtureOptions{Count: 20}, check: func(t *testing.T, n notify.Notification) {
			if n.Status != store.StatusPaid || !fixtureRef.MatchString(n.ReferenceNumber) {
				t.Errorf("status %q, reference %q; want PAID and INV-<12 digits>", n.Status, n.ReferenceNumber)
			}
			if n.PaymentCode == "VA-BCA" {
				t.Errorf("drawn channel VA-BCA is inactive")
			}
			if n.FinishNotifyURL != mock.DefaultFixtureNotifyURL || n.FinishReturnURL != "http://127.0.0.1:3000/orders/"+n.ReferenceNumber+"/finish" {
				t.Errorf("URLs %q, %q", n.FinishNotifyURL, n.FinishReturnURL)
			}
			if exp, _ := time.Parse(time.RFC3339, n.ExpiredAt); exp.Sub(fixtureNow) != 24*time.Hour {
				t.Errorf("expiredAt %s is not 24h after the signing time", n.ExpiredAt)
			}
		}},
		{name: "everything given", opts: mock.FixtureOptions{PaymentCode: "VA-BCA", Amount: 58000, Reference: "ORDER-1",
			Status: store.StatusFailed, NotifyURL: "https://shop.example/hook?x=1&y=2", ReturnURL: "https://shop.example/done", MerchantName: "Toko Budi", Count: 2},
			check: func(t *testing.T, n notify.Notification) {
				want := notify.Notification{PaymentCode: "VA-BCA", ReferenceNumber: "ORDER-1", Status: "FAILED", PaymentName: "BCA Virtual Account",
					FinishNotifyURL: "https://shop.example/hook?x=1&y=2", FinishReturnURL: "https://shop.example/done",
					PaymentDestName: "Toko Budi", PaymentDestType: "DIRECT", TotalAmount: 58000, Fee: 4500}
				got := n
				got.CustomerName, got.CustomerEmail, got.CustomerPhoneNumber, got.PaymentDest, got.ExpiredAt = "", "", "", "", ""
				if got != want {
					t.Errorf("got  %+v\nwant %+v", got, want)
				}
				if !strings.HasPrefix(n.PaymentDest, "39358") || len(n.PaymentDest) != 16 {
					t.Errorf("VA number %q: want 16 digits after the channel's prefix 39358", n.PaymentDest)
				}
			}},
		{name: "expired", opts: mock.FixtureOptions{Status: store.StatusExpired, PaymentCode: "QRIS"}, check: func(t *testing.T, n notify.Notification) {
			if n.ExpiredAt != "2026-11-24T10:00:00+07:00" {
				t.Errorf("expiredAt %q; want the signing time in WIB, when the payment expired", n.ExpiredAt)
			}
			if !strings.HasPrefix(n.PaymentDest, "000201") || !strings.Contains(n.PaymentDest, "DEMO MERCHANT") {
				t.Errorf("QRIS paymentDest %q is not an EMVCo QR string for the merchant", n.PaymentDest)
			}
		}},
		{name: "percent fee", opts: mock.FixtureOptions{PaymentCode: "GOPAY", Amount: 58000}, check: func(t *testing.T, n notify.Notification) {
			if n.Fee != 1160 || !strings.HasPrefix(n.PaymentDest, "gojek://gopay/merchanttransfer?tref=") || n.PaymentDestType != "DEEPLINK" {
				t.Errorf("fee %d, dest %q (%s); want 2%% = 1160 and a GoPay deeplink", n.Fee, n.PaymentDest, n.PaymentDestType)
			}
		}},
		{name: "redirect", opts: mock.FixtureOptions{PaymentCode: "DANA"}, check: func(t *testing.T, n notify.Notification) {
			if !strings.HasPrefix(n.PaymentDest, "http://127.0.0.1:8080/_sandbox/pay/SBX20261124") {
				t.Errorf("REDIRECT paymentDest %q is not the sandbox's hosted page", n.PaymentDest)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.ClientID, opts.ClientSecret, opts.Time = "id", "secret", fixtureNow
			fixtures, err := mock.Fixtures(opts)
			if err != nil {
				t.Fatal(err)
			}
			perPayment := len(notify.Variants())
			for i, f := range fixtures {
				n := f.Notification
				first := fixtures[i-i%perPayment]
				if wantName := fmt.Sprintf("%s-%d", notify.Variants()[i%perPayment], i/perPayment+1); f.Name != wantName || string(f.Variant) != strings.TrimSuffix(wantName, fmt.Sprintf("-%d", i/perPayment+1)) {
					t.Errorf("fixture %d is %q (%s), want %q", i, f.Name, f.Variant, wantName)
				}
				if n != first.Notification {
					t.Errorf("%s carries other data than %s:\n%+v\n%+v", f.Name, first.Name, n, first.Notification)
				}
				if f.Variant == notify.VariantValid && !reflect.DeepEqual(decodeNotification(t, f.Body), n) {
					t.Errorf("%s: body %s does not decode to the signed values %+v", f.Name, f.Body, n)
				}
				ch, ok := channels[n.PaymentCode]
				if !ok || n.PaymentName != ch.PaymentName || n.PaymentDestType != ch.PaymentDestType {
					t.Errorf("%s: channel fields %q %q %q do not match the catalogue", f.Name, n.PaymentCode, n.PaymentName, n.PaymentDestType)
				}
				if opts.Amount == 0 && (n.TotalAmount < ch.MinAmount || n.TotalAmount > ch.MaxAmount || n.TotalAmount%1000 != 0) {
					t.Errorf("%s: drawn amount %d is outside %s's limits %d–%d or not whole thousands", f.Name, n.TotalAmount, ch.PaymentCode, ch.MinAmount, ch.MaxAmount)
				}
				if n.CustomerName == "" || !strings.Contains(n.CustomerName, " ") || !fixtureEmail.MatchString(n.CustomerEmail) || !fixturePhone.MatchString(n.CustomerPhoneNumber) {
					t.Errorf("%s: customer %q <%s> %s is not a plausible Indonesian customer", f.Name, n.CustomerName, n.CustomerEmail, n.CustomerPhoneNumber)
				}
				if n.PaymentDest == "" || n.PaymentDestName == "" || n.ExpiredAt == "" || n.Fee <= 0 {
					t.Errorf("%s: empty fields in %+v", f.Name, n)
				}
				if i%perPayment == 0 {
					tt.check(t, n)
				}
			}
			if opts.Count > 1 && opts.Reference == "" && fixtures[0].Notification == fixtures[perPayment].Notification {
				t.Errorf("payments 1 and 2 carry the same data")
			}
		})
	}
}

// TestFixturesReproducible: the same options give the same bytes; another
// seed gives other data.
func TestFixturesReproducible(t *testing.T) {
	opts := mock.FixtureOptions{ClientID: "id", ClientSecret: "secret", Seed: 0, Time: fixtureNow, Count: 5}
	a, err := mock.Fixtures(opts)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := mock.Fixtures(opts)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("two runs with seed 0 differ")
	}
	opts.Seed = 1
	c, _ := mock.Fixtures(opts)
	if reflect.DeepEqual(a[0].Notification, c[0].Notification) {
		t.Errorf("seeds 0 and 1 give the same payment %+v", a[0].Notification)
	}
}

func TestFixturesErrors(t *testing.T) {
	ok := mock.FixtureOptions{ClientID: "id", ClientSecret: "secret"}
	tests := []struct {
		name   string
		change func(*mock.FixtureOptions)
		want   []string
	}{
		{"no credentials", func(o *mock.FixtureOptions) { o.ClientID, o.ClientSecret = "", "" },
			[]string{"a client id is required", "a client secret is required"}},
		{"negative count", func(o *mock.FixtureOptions) { o.Count = -1 }, []string{"count -1 is out of range; expected 1 to 10000"}},
		{"huge count", func(o *mock.FixtureOptions) { o.Count = mock.MaxFixtureCount + 1 }, []string{"count 10001 is out of range"}},
		{"status", func(o *mock.FixtureOptions) { o.Status = "PENDING" }, []string{`status "PENDING" is not a status a notify reports; expected PAID, EXPIRED or FAILED`}},
		{"payment code", func(o *mock.FixtureOptions) { o.PaymentCode = "VA-XYZ" }, []string{`payment code "VA-XYZ" is not in the channel catalogue; expected one of VA-BNI,`}},
		{"negative amount", func(o *mock.FixtureOptions) { o.Amount = -5 }, []string{"amount -5 is out of range"}},
		{"unsafe amount", func(o *mock.FixtureOptions) { o.Amount = 1 << 53 }, []string{"up to 9007199254740991"}},
		{"notify URL", func(o *mock.FixtureOptions) { o.NotifyURL = "localhost:3000/hook" }, []string{`notify URL "localhost:3000/hook" is not an absolute http(s) URL`}},
		{"variant", func(o *mock.FixtureOptions) { o.Variants = []notify.Variant{"valid", "forged"} }, []string{`unknown notify variant "forged"`}},
		{"time", func(o *mock.FixtureOptions) { o.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, []string{"out of range; expected a year from 1 to 9999"}},
		{"all at once", func(o *mock.FixtureOptions) { o.ClientID, o.Status, o.Amount = "", "paid", -1 },
			[]string{"client id", `status "paid"`, "amount -1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := ok
			tt.change(&opts)
			got, err := mock.Fixtures(opts)
			if err == nil {
				t.Fatalf("Fixtures = %d fixtures, nil; want an error", len(got))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}
