package delivery

import (
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// hostAddress returns the address u's host is when the host is an IP
// literal, in any form a URL parser or a C library's resolver reads as
// one, and how it is written, for messages; the zero Addr for a host name.
// A notify URL is classified before anything is dialled, so that
// 0xa9fea9fe is refused as what it is whether or not the resolver the
// sandbox happens to run with (Go's own, or the C library's through cgo)
// turns it into 169.254.169.254.
func hostAddress(u *url.URL) (netip.Addr, string, error) {
	host := u.Hostname()
	if strings.HasPrefix(u.Host, "[") {
		// url.Parse has checked it already; a URL built in Go has not.
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return netip.Addr{}, "", fmt.Errorf("host [%s] is not an IPv6 address; expected e.g. [::1]", host)
		}
		return ip, host, nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip, host, nil
	}
	if ip, form, ok := legacyIPv4(host); ok {
		return ip, fmt.Sprintf("%s (%s written %s)", host, ip, form), nil
	}
	return netip.Addr{}, "", nil
}

// legacyIPv4 decodes the IPv4 forms inet_aton(3) accepts, which the WHATWG
// URL standard (browsers, Node, curl) accepts too: one to four parts
// separated by dots, each decimal, octal (a leading 0) or hex (a leading
// 0x), the last part filling the bytes the others leave, and one trailing
// dot. So 2852039166, 0251.0376.0251.0376, 0xa9fea9fe, 0xa9.0xfe.0xa9.0xfe,
// 169.254.43518 and 169.16689662 are all 169.254.169.254. It returns how
// the address is written ("as one decimal number", "in octal", "in short
// form, 3 parts"), and false for anything else.
func legacyIPv4(s string) (netip.Addr, string, bool) {
	s, trailingDot := strings.CutSuffix(s, ".")
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, "", false
	}
	var (
		v     uint64
		bases []string // as they first appear
	)
	for i, p := range parts {
		n, base, ok := legacyNumber(p)
		if !ok {
			return netip.Addr{}, "", false
		}
		limit := uint64(255)
		if i == len(parts)-1 {
			limit = 1<<(8*(5-len(parts))) - 1 // the bytes left
		}
		if n > limit {
			return netip.Addr{}, "", false
		}
		if i < len(parts)-1 {
			v |= n << (24 - 8*i)
		} else {
			v |= n
		}
		if !slices.Contains(bases, base) {
			bases = append(bases, base)
		}
	}
	ip := netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})

	var form string
	switch {
	case len(parts) == 1:
		form = "as one " + bases[0] + " number"
	case len(parts) < 4:
		form = fmt.Sprintf("in short form, %d parts", len(parts))
		if len(bases) > 1 || bases[0] != "decimal" {
			form += ", in " + joinAnd(bases)
		}
	default:
		form = "in " + joinAnd(bases)
	}
	if trailingDot {
		form += ", with a trailing dot"
	}
	return ip, form, true
}

// legacyNumber reads one part of a legacy IPv4 address: its value and its
// base's name.
func legacyNumber(p string) (uint64, string, bool) {
	digits, base, name := p, 10, "decimal"
	switch {
	case len(p) >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'):
		digits, base, name = p[2:], 16, "hex"
		if digits == "" {
			return 0, name, true // "0x" is 0 to inet_aton and WHATWG alike
		}
	case len(p) >= 2 && p[0] == '0':
		digits, base, name = p[1:], 8, "octal"
	}
	if digits == "" || digits[0] == '+' || digits[0] == '-' {
		return 0, "", false
	}
	n, err := strconv.ParseUint(digits, base, 32)
	return n, name, err == nil
}

// joinAnd joins words as a sentence lists them: "hex and octal".
func joinAnd(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
