package mock

import (
	"fmt"
	"strings"
	"sync"

	"github.com/bjpay/bjpay-sandbox/mock/store"
	"github.com/brianvoe/gofakeit/v6"
)

// destGen makes the payment destinations a real channel would hand out: VA
// numbers, QRIS strings, deeplinks. [sandbox] BJPAY documents what
// paymentDest holds per paymentDestType but not its format.
//
// It draws from one seeded faker under a lock, so the same seed and the same
// sequence of creates give the same destinations.
type destGen struct {
	mu    sync.Mutex
	faker *gofakeit.Faker
}

func newDestGen(seed int64) *destGen {
	return &destGen{faker: gofakeit.NewUnlocked(seed)}
}

// dest returns paymentDest and paymentDestName for a new transaction.
// hostedPage is the URL of the sandbox's hosted payment page for it.
func (g *destGen) dest(ch *Channel, tx *store.Transaction, merchantName, hostedPage string) (dest, name string) {
	switch {
	case ch.PaymentDestType == DestRedirect:
		return hostedPage, ch.PaymentName
	case ch.PaymentDestType == DestDeeplink:
		return ch.DestPrefix + "?tref=" + g.token(), ch.PaymentName
	case ch.PaymentType == "QRIS":
		return qrisString(merchantName, g.digits(15), tx), merchantName
	default: // a virtual account number, 16 digits as in BJPAY's notify example
		prefix := ch.DestPrefix
		if len(prefix) > 12 {
			prefix = prefix[:12]
		}
		return prefix + g.digits(16-len(prefix)), merchantName
	}
}

func (g *destGen) digits(n int) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var b strings.Builder
	b.Grow(n)
	for i := 0; i < n; i++ {
		b.WriteByte(byte('0' + g.faker.Number(0, 9)))
	}
	return b.String()
}

func (g *destGen) token() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return strings.ReplaceAll(g.faker.UUID(), "-", "")
}

// qrisString builds a dynamic QRIS payload in the EMVCo merchant-presented
// format (tag-length-value, CRC-16/CCITT-FALSE in tag 63), so QR libraries
// and QRIS parsers accept it.
func qrisString(merchantName, nmid string, tx *store.Transaction) string {
	// EMVCo fields are ASCII and their lengths count bytes: keep the
	// printable ASCII of the name, at most 25 characters.
	name := strings.Map(func(r rune) rune {
		if r < ' ' || r > '~' {
			return -1
		}
		return r
	}, strings.ToUpper(merchantName))
	if len(name) > 25 {
		name = name[:25]
	}
	ref := tx.ReferenceNumber
	if len(ref) > 25 {
		ref = ref[:25]
	}
	var b strings.Builder
	tlv := func(tag, v string) { fmt.Fprintf(&b, "%s%02d%s", tag, len(v), v) }
	tlv("00", "01") // payload format indicator
	tlv("01", "12") // point of initiation: dynamic
	tlv("26", sub(func(t func(string, string)) {
		t("00", "ID.CO.BJPAY.WWW")
		t("01", "93600"+nmid[:10])
		t("02", nmid)
		t("03", "UMI")
	}))
	tlv("51", sub(func(t func(string, string)) {
		t("00", "ID.CO.QRIS.WWW")
		t("02", "ID"+nmid[:13])
		t("03", "UMI")
	}))
	tlv("52", "5999") // merchant category: general retail
	tlv("53", "360")  // IDR
	tlv("54", fmt.Sprintf("%d", tx.TotalAmount))
	tlv("58", "ID")
	tlv("59", name)
	tlv("60", "JAKARTA")
	tlv("61", "10110")
	tlv("62", sub(func(t func(string, string)) { t("01", ref) }))
	b.WriteString("6304")
	return b.String() + fmt.Sprintf("%04X", crc16CCITT(b.String()))
}

// sub renders nested TLV fields.
func sub(fill func(tlv func(tag, v string))) string {
	var b strings.Builder
	fill(func(tag, v string) { fmt.Fprintf(&b, "%s%02d%s", tag, len(v), v) })
	return b.String()
}

// crc16CCITT is CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF), the checksum
// EMVCo QR codes end with.
func crc16CCITT(s string) uint16 {
	crc := uint16(0xFFFF)
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for j := 0; j < 8; j++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}
