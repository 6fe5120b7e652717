package mock

import (
	"encoding/hex"
	"strconv"
	"sync"
	"unicode"

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
// Each destination is built in a buffer on the stack and converted once.
func (g *destGen) dest(ch *Channel, tx *store.Transaction, merchantName, hostedPage string) (dest, name string) {
	var buf [128]byte
	switch {
	case ch.PaymentDestType == DestRedirect:
		return hostedPage, ch.PaymentName
	case ch.PaymentDestType == DestDeeplink:
		b := append(buf[:0], ch.DestPrefix...)
		b = append(b, "?tref="...)
		return string(g.appendToken(b)), ch.PaymentName
	case ch.PaymentType == "QRIS":
		var nmid [15]byte
		return qrisString(merchantName, string(g.appendDigits(nmid[:0], len(nmid))), tx), merchantName
	default: // a virtual account number, 16 digits as in BJPAY's notify example
		prefix := ch.DestPrefix
		if len(prefix) > 12 {
			prefix = prefix[:12]
		}
		b := append(buf[:0], prefix...)
		return string(g.appendDigits(b, 16-len(prefix))), merchantName
	}
}

// appendDigits appends n random decimal digits to b.
func (g *destGen) appendDigits(b []byte, n int) []byte {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i := 0; i < n; i++ {
		b = append(b, byte('0'+g.faker.Number(0, 9)))
	}
	return b
}

// appendToken appends a random version 4 UUID in hex, without dashes. It
// draws the faker's random numbers as its UUID method does (the test
// checks it), so the destinations of a seed stay what they were.
func (g *destGen) appendToken(b []byte) []byte {
	var u [16]byte
	g.mu.Lock()
	for i := range u {
		u[i] = byte(g.faker.Rand.Intn(256))
	}
	g.mu.Unlock()
	u[6] = u[6]&0x0f | 4<<4 // version 4
	u[8] = u[8]&0xbf | 0x80 // variant
	return hex.AppendEncode(b, u[:])
}

// qrisString builds a dynamic QRIS payload in the EMVCo merchant-presented
// format (tag-length-value, CRC-16/CCITT-FALSE in tag 63), so QR libraries
// and QRIS parsers accept it.
func qrisString(merchantName, nmid string, tx *store.Transaction) string {
	// EMVCo fields are ASCII and their lengths count bytes: keep the
	// printable ASCII of the upper-cased name, at most 25 characters.
	var nameBuf [25]byte
	name := nameBuf[:0]
	for _, r := range merchantName {
		if r = unicode.ToUpper(r); r >= ' ' && r <= '~' && len(name) < len(nameBuf) {
			name = append(name, byte(r))
		}
	}
	ref := tx.ReferenceNumber
	if len(ref) > 25 {
		ref = ref[:25]
	}
	var buf, sub [256]byte
	b := buf[:0]
	b = appendTLV(b, "00", "01") // payload format indicator
	b = appendTLV(b, "01", "12") // point of initiation: dynamic
	s := appendTLV(sub[:0], "00", "ID.CO.BJPAY.WWW")
	s = appendTLV(s, "01", "93600"+nmid[:10])
	s = appendTLV(s, "02", nmid)
	s = appendTLV(s, "03", "UMI")
	b = appendTLV(b, "26", s)
	s = appendTLV(sub[:0], "00", "ID.CO.QRIS.WWW")
	s = appendTLV(s, "02", "ID"+nmid[:13])
	s = appendTLV(s, "03", "UMI")
	b = appendTLV(b, "51", s)
	b = appendTLV(b, "52", "5999") // merchant category: general retail
	b = appendTLV(b, "53", "360")  // IDR
	var amount [20]byte
	b = appendTLV(b, "54", strconv.AppendInt(amount[:0], tx.TotalAmount, 10))
	b = appendTLV(b, "58", "ID")
	b = appendTLV(b, "59", name)
	b = appendTLV(b, "60", "JAKARTA")
	b = appendTLV(b, "61", "10110")
	b = appendTLV(b, "62", appendTLV(sub[:0], "01", ref))
	b = append(b, "6304"...)
	crc := crc16CCITT(b)
	b = append(b, hexUpper[crc>>12], hexUpper[crc>>8&0xF], hexUpper[crc>>4&0xF], hexUpper[crc&0xF])
	return string(b)
}

const hexUpper = "0123456789ABCDEF"

// appendTLV appends one tag-length-value field: the length in at least
// two decimal digits.
func appendTLV[V string | []byte](b []byte, tag string, v V) []byte {
	b = append(b, tag...)
	if len(v) < 10 {
		b = append(b, '0')
	}
	b = strconv.AppendInt(b, int64(len(v)), 10)
	return append(b, v...)
}

// crc16CCITT is CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF), the checksum
// EMVCo QR codes end with.
func crc16CCITT[S string | []byte](s S) uint16 {
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
