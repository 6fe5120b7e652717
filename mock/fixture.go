package mock

import (
	"errors"
	"fmt"
	"math/rand"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/brianvoe/gofakeit/v6"

	"github.com/bjpay/bjpay-sandbox/mock/notify"
	"github.com/bjpay/bjpay-sandbox/mock/store"
	"github.com/bjpay/bjpay-sandbox/signer"
)

// Defaults of FixtureOptions.
const (
	// DefaultFixtureNotifyURL is the finishNotifyUrl of fixtures that set none.
	DefaultFixtureNotifyURL = "http://127.0.0.1:3000/webhook/bjpay"
	// DefaultFixtureMerchant is the merchant name shown as paymentDestName of
	// VA and QRIS fixtures, and in their QR string.
	DefaultFixtureMerchant = "Demo Merchant"
	// MaxFixtureCount bounds FixtureOptions.Count, so a typo cannot ask for
	// millions of files.
	MaxFixtureCount = 10000
)

// FixtureOptions says which notify callbacks Fixtures builds. Only the
// credentials are required; every other zero value takes a default.
type FixtureOptions struct {
	// ClientID and ClientSecret are the merchant's credentials: the
	// signatures are made under signer.Key(ClientID, ClientSecret).
	ClientID, ClientSecret string
	// Seed drives every generated value. The same options give the same
	// fixtures, byte for byte; every seed, 0 included, is reproducible.
	Seed int64
	// Time is when the notifies are signed (their X-Request-Time, written
	// in WIB and truncated to the second). Zero means time.Now().
	Time time.Time
	// Count is how many payments to build; each is signed as every variant.
	// Zero means 1; at most MaxFixtureCount.
	Count int
	// Status is the status reported: store.StatusPaid (the default),
	// store.StatusExpired or store.StatusFailed.
	Status string
	// PaymentCode is the channel of every payment, one of Channels. Empty
	// means drawn for each payment from the active channels.
	PaymentCode string
	// Amount is every payment's totalAmount. Zero means drawn within its
	// channel's limits. Any positive amount is allowed, in or out of them.
	Amount int64
	// Reference is every payment's referenceNumber. Empty means generated.
	Reference string
	// NotifyURL is the finishNotifyUrl in the body; DefaultFixtureNotifyURL
	// when empty. It is also where the CLI's http and curl formats send.
	NotifyURL string
	// ReturnURL is the finishReturnUrl; empty means NotifyURL's origin +
	// "/orders/{referenceNumber}/finish".
	ReturnURL string
	// MerchantName is DefaultFixtureMerchant when empty.
	MerchantName string
	// Variants are the ways each payment is signed, in this order. Empty
	// means Variants().
	Variants []notify.Variant
	// Channels is the catalogue PaymentCode refers to. Empty means the
	// embedded defaults (DefaultConfig().Channels).
	Channels []Channel
}

// Fixture is one notify callback for a merchant's unit tests.
type Fixture struct {
	// Name identifies it in its set: the variant and the payment's number
	// from 1, as in "valid-1" or "amount-changed-3".
	Name string
	// Notification holds the values that were signed. The body differs from
	// it only for VariantAmountChanged and VariantReferenceChanged.
	Notification notify.Notification
	notify.SignedNotify
}

// Fixtures builds opts.Count payments and signs each of them as every one of
// opts.Variants, payment by payment: with the default variants, fixtures
// 0–8 are payment 1, 9–17 payment 2, and so on. All variants of a payment
// carry the same data, so a broken one differs from the valid one only in
// the way its variant says.
//
// The data is what BJPAY sends (every body field of a notify): Indonesian
// customer names, e-mail addresses and phone numbers, VA numbers, QRIS
// strings and deeplinks as the sandbox hands them out, and the channel's
// real fee.
func Fixtures(opts FixtureOptions) ([]Fixture, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	key := signer.Key(o.ClientID, o.ClientSecret)
	// rand.NewSource, unlike gofakeit's own seeding, treats 0 as a seed
	// like any other. Its Source is a Source64.
	faker := gofakeit.NewCustom(rand.NewSource(o.Seed).(rand.Source64))
	g := fixtureGen{faker: faker, dest: &destGen{faker: faker}, opts: &o}

	out := make([]Fixture, 0, o.Count*len(o.Variants))
	for i := 1; i <= o.Count; i++ {
		n := g.notification()
		for _, v := range o.Variants {
			out = append(out, Fixture{
				Name:         fmt.Sprintf("%s-%d", v, i),
				Notification: n,
				SignedNotify: notify.Sign(n, key, o.Time, v),
			})
		}
	}
	return out, nil
}

// withDefaults checks o and fills in its defaults. Every problem is
// reported at once.
func (o FixtureOptions) withDefaults() (FixtureOptions, error) {
	var errs []error
	if o.ClientID == "" {
		errs = append(errs, errors.New("a client id is required: the signature is made under md5(clientId:clientSecret)"))
	}
	if o.ClientSecret == "" {
		errs = append(errs, errors.New("a client secret is required: the signature is made under md5(clientId:clientSecret)"))
	}
	if o.Time.IsZero() {
		o.Time = time.Now()
	}
	o.Time = o.Time.Truncate(time.Second)
	if !InRange(o.Time) {
		errs = append(errs, fmt.Errorf("time %s is out of range; expected a year from 1 to 9999", o.Time.Format(time.RFC3339)))
	}
	switch {
	case o.Count == 0:
		o.Count = 1
	case o.Count < 0 || o.Count > MaxFixtureCount:
		errs = append(errs, fmt.Errorf("count %d is out of range; expected 1 to %d", o.Count, MaxFixtureCount))
	}
	switch o.Status {
	case "":
		o.Status = store.StatusPaid
	case store.StatusPaid, store.StatusExpired, store.StatusFailed:
	default:
		errs = append(errs, fmt.Errorf("status %q is not a status a notify reports; expected %s, %s or %s", o.Status, store.StatusPaid, store.StatusExpired, store.StatusFailed))
	}
	if len(o.Channels) == 0 {
		o.Channels = DefaultConfig().Channels
	}
	if o.PaymentCode != "" && !slices.ContainsFunc(o.Channels, func(c Channel) bool { return c.PaymentCode == o.PaymentCode }) {
		codes := make([]string, len(o.Channels))
		for i, c := range o.Channels {
			codes[i] = c.PaymentCode
		}
		errs = append(errs, fmt.Errorf("payment code %q is not in the channel catalogue; expected one of %s", o.PaymentCode, strings.Join(codes, ", ")))
	}
	if o.Amount < 0 || o.Amount > maxSafeAmount {
		errs = append(errs, fmt.Errorf("amount %d is out of range; expected a positive whole number of rupiah up to %d", o.Amount, int64(maxSafeAmount)))
	}
	if o.NotifyURL == "" {
		o.NotifyURL = DefaultFixtureNotifyURL
	}
	if u, err := url.Parse(o.NotifyURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("notify URL %q is not an absolute http(s) URL", o.NotifyURL))
	}
	if o.MerchantName == "" {
		o.MerchantName = DefaultFixtureMerchant
	}
	if len(o.Variants) == 0 {
		o.Variants = notify.Variants()
	}
	for _, v := range o.Variants {
		if _, err := notify.ParseVariant(string(v)); err != nil {
			errs = append(errs, err)
		}
	}
	return o, errors.Join(errs...)
}

// fixtureGen draws the data of fixture payments.
type fixtureGen struct {
	faker *gofakeit.Faker
	dest  *destGen // shares faker
	opts  *FixtureOptions
}

// notification draws one payment and returns its notify body.
func (g *fixtureGen) notification() notify.Notification {
	o, f := g.opts, g.faker
	ch := g.channel()
	first, last := f.RandomString(firstNames), f.RandomString(lastNames)

	amount := o.Amount
	if amount == 0 {
		// A price in thousands of rupiah within the channel's limits, at
		// most 1,000,000 (if the limits allow) so fixtures look like
		// everyday orders.
		lo := max(ch.MinAmount, 1)
		hi := min(max(ch.MaxAmount, lo), max(lo, 1_000_000))
		if a, b := (lo+999)/1000, hi/1000; a <= b {
			amount = int64(f.Number(int(a), int(b))) * 1000
		} else {
			amount = lo
		}
	}
	ref := o.Reference
	if ref == "" {
		ref = "INV-" + f.DigitN(12)
	}
	returnURL := o.ReturnURL
	if returnURL == "" {
		u, _ := url.Parse(o.NotifyURL) // checked by withDefaults
		returnURL = u.Scheme + "://" + u.Host + "/orders/" + url.PathEscape(ref) + "/finish"
	}
	signed := o.Time.In(notify.WIB)
	expiredAt := signed.Add(24 * time.Hour)
	if ch.Lifetime > 0 {
		expiredAt = signed.Add(ch.Lifetime)
	}
	if o.Status == store.StatusExpired {
		expiredAt = signed // BJPAY notifies the expiry as it happens
	}

	fee := feeFor(ch, amount)
	tx := &store.Transaction{
		TransactionNumber:   "SBX" + signed.Format("20060102") + f.DigitN(8),
		ReferenceNumber:     ref,
		PaymentCode:         ch.PaymentCode,
		PaymentName:         ch.PaymentName,
		CustomerName:        first + " " + last,
		CustomerEmail:       emailOf(f, first, last),
		CustomerPhoneNumber: "628" + f.RandomString(phonePrefixes) + f.DigitN(uint(f.Number(6, 8))),
		FinishNotifyURL:     o.NotifyURL,
		FinishReturnURL:     returnURL,
		ExpiredAt:           expiredAt,
		TotalAmount:         amount,
		Fee:                 fee,
		TotalReceived:       amount - fee,
		PaymentDestType:     ch.PaymentDestType,
	}
	// [sandbox] A REDIRECT fixture points at the hosted page of a sandbox on
	// its default address: there is no running sandbox to name.
	tx.PaymentDest, tx.PaymentDestName = g.dest.dest(ch, tx, o.MerchantName, "http://127.0.0.1:8080/_sandbox/pay/"+tx.TransactionNumber)
	return tx.Notification(o.Status)
}

// channel returns the payment's channel: the one asked for, or one drawn
// from the active channels (all of them if none is active).
func (g *fixtureGen) channel() *Channel {
	chs := g.opts.Channels
	if code := g.opts.PaymentCode; code != "" {
		return &chs[slices.IndexFunc(chs, func(c Channel) bool { return c.PaymentCode == code })]
	}
	active := make([]int, 0, len(chs))
	for i := range chs {
		if chs[i].IsActive {
			active = append(active, i)
		}
	}
	if len(active) == 0 {
		return &chs[g.faker.Number(0, len(chs)-1)]
	}
	return &chs[active[g.faker.Number(0, len(active)-1)]]
}

// emailOf makes an address from a customer's name, as people do.
func emailOf(f *gofakeit.Faker, first, last string) string {
	local := strings.ToLower(first)
	switch f.Number(0, 2) {
	case 0:
		local += "." + strings.ToLower(last)
	case 1:
		local += strings.ToLower(last[:1]) + f.DigitN(2)
	default:
		local += f.DigitN(4)
	}
	return local + "@" + f.RandomString(mailDomains)
}

// Indonesian names, mail providers and mobile prefixes (after "628") for
// fixture customers. gofakeit has no Indonesian locale.
var (
	firstNames = []string{
		"Adi", "Agus", "Andi", "Arif", "Ayu", "Bambang", "Bayu", "Budi", "Dewi", "Dimas",
		"Eko", "Fajar", "Fitri", "Hendra", "Indah", "Intan", "Joko", "Kartika", "Lestari", "Maya",
		"Nur", "Putri", "Ratna", "Rina", "Rizky", "Siti", "Sri", "Teguh", "Wahyu", "Wulan", "Yuni",
	}
	lastNames = []string{
		"Gunawan", "Halim", "Harahap", "Hasibuan", "Hidayat", "Kurniawan", "Kusuma", "Lubis",
		"Nasution", "Nugroho", "Pratama", "Purnomo", "Rahmawati", "Santoso", "Saputra", "Setiawan",
		"Simanjuntak", "Siregar", "Sitompul", "Susanto", "Wibowo", "Wijaya",
	}
	mailDomains   = []string{"gmail.com", "yahoo.co.id", "outlook.com", "ymail.com", "gmail.com"}
	phonePrefixes = []string{"11", "12", "13", "21", "22", "52", "53", "55", "56", "57", "58", "77", "78", "81", "82", "95", "96", "97", "98", "99"}
)
