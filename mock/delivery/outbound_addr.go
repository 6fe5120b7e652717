package delivery

import (
	"net/netip"
)

// Addresses are classified by what a connection to them reaches, not by
// how they are written: the same host has many spellings, and a check on
// one of them is a check on none. [sandbox] BJPAY's docs say nothing about
// it; see the outbound policy in outbound.go.

// refusedRange is a range notifies never reach unless an allowlist entry
// covers the address.
type refusedRange struct {
	prefix netip.Prefix
	why    string // for the refusal message
}

// refusedRanges are where the metadata and credential services of cloud
// hosts answer: what a request from the sandbox's host reaches and a
// merchant's notify URL has no reason to. Each is listed for a reason:
//
//   - 169.254.0.0/16, IPv4 link-local: the instance metadata of AWS, GCP,
//     Azure, Oracle Cloud, DigitalOcean, Hetzner, OpenStack at
//     169.254.169.254, Tencent's at 169.254.0.23, the credentials AWS ECS
//     and EKS hand to containers at 169.254.170.2 and 169.254.170.23. A
//     merchant under test never has a link-local address.
//   - fe80::/10, IPv6 link-local, in any zone: OpenStack's metadata at
//     fe80::a9fe:a9fe, and whatever else the host's links hold.
//   - fd00:ec2::/32: AWS's IPv6 service block, instance metadata at
//     fd00:ec2::254, EKS Pod Identity at fd00:ec2::23, DNS at ::253, time
//     at ::123. AWS reserves it; a private network that picked this one
//     ULA prefix at random would be one in four billion.
//   - fd20:ce::254: Google Cloud's metadata server on IPv6-only instances.
//   - fd00:c1::a9fe:a9fe: Oracle Cloud's instance metadata over IPv6.
//   - 100.100.100.200: Alibaba Cloud's metadata service, inside the
//     carrier-grade NAT range, so not link-local.
//   - 168.63.129.16: Azure's WireServer, the host's channel to every VM,
//     which hands out the VM's certificates and extension settings; a
//     public address, the same in every Azure region.
//   - 192.0.0.192: the metadata service of Oracle Cloud Classic and
//     Cloud@Customer.
//
// Loopback and private addresses are allowed: merchants under test run
// there.
var refusedRanges = []refusedRange{
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local, where cloud metadata services answer at 169.254.169.254"},
	{netip.MustParsePrefix("fe80::/10"), "IPv6 link-local"},
	{netip.MustParsePrefix("fd00:ec2::/32"), "AWS's IPv6 service range, instance metadata at fd00:ec2::254"},
	{netip.MustParsePrefix("fd20:ce::254/128"), "Google Cloud's IPv6 metadata server"},
	{netip.MustParsePrefix("fd00:c1::a9fe:a9fe/128"), "Oracle Cloud's IPv6 metadata service"},
	{netip.MustParsePrefix("100.100.100.200/32"), "Alibaba Cloud's metadata service"},
	{netip.MustParsePrefix("168.63.129.16/32"), "Azure's WireServer"},
	{netip.MustParsePrefix("192.0.0.192/32"), "Oracle Cloud Classic's metadata service"},
}

// String is the range as an allowlist entry names it: a single address
// without /32 or /128.
func (r *refusedRange) String() string {
	if r.prefix.IsSingleIP() {
		return r.prefix.Addr().String()
	}
	return r.prefix.String()
}

// refusedRangeOf returns the refused range ip is in, or nil. ip has no
// zone.
func refusedRangeOf(ip netip.Addr) *refusedRange {
	for i := range refusedRanges {
		if refusedRanges[i].prefix.Contains(ip) {
			return &refusedRanges[i]
		}
	}
	return nil
}

// embedded is an IPv4 address an IPv6 address carries, and how.
type embedded struct {
	addr netip.Addr
	how  string // the mechanism, for messages: "NAT64 (64:ff9b::/96)"
}

// Where IPv6 transition mechanisms put an IPv4 address.
var (
	nat64        = netip.MustParsePrefix("64:ff9b::/96")    // RFC 6052, well-known prefix
	nat64Local   = netip.MustParsePrefix("64:ff9b:1::/48")  // RFC 8215, local-use prefix
	sixToFour    = netip.MustParsePrefix("2002::/16")       // RFC 3056
	teredo       = netip.MustParsePrefix("2001::/32")       // RFC 4380
	compatible   = netip.MustParsePrefix("::/96")           // RFC 4291 §2.5.5.1, deprecated
	translated   = netip.MustParsePrefix("::ffff:0:0:0/96") // RFC 2765 §2.1, IPv4-translated
	unspecified6 = netip.IPv6Unspecified()
	loopback6    = netip.IPv6Loopback()
)

// unzone returns ip as classified: without its zone (a zone names the
// link, not another address), and an IPv4-mapped address (::ffff:a.b.c.d)
// as the IPv4 address it is, which is what a dual-stack socket connects to.
func unzone(ip netip.Addr) netip.Addr { return ip.WithZone("").Unmap() }

// embeddedIPv4 lists the IPv4 addresses ip carries, in the forms that can
// route a connection to them: through a NAT64 gateway, a 6to4 or Teredo
// relay, an ISATAP tunnel, or a stack that still honours the deprecated
// IPv4-compatible form. Each is checked as if dialled itself. ip has no
// zone and is not IPv4-mapped (see unzone).
func embeddedIPv4(ip netip.Addr) []embedded {
	if !ip.Is6() {
		return nil
	}
	b := ip.As16()
	v4 := func(a, b, c, d byte) netip.Addr { return netip.AddrFrom4([4]byte{a, b, c, d}) }
	var out []embedded
	switch {
	case nat64.Contains(ip):
		out = append(out, embedded{v4(b[12], b[13], b[14], b[15]), "NAT64 (64:ff9b::/96)"})
	case nat64Local.Contains(ip):
		// RFC 6052 §2.2 for a /48 prefix: the IPv4 address is bits 48-63
		// and 72-87; bits 64-71 are the "u" octet, always zero.
		out = append(out, embedded{v4(b[6], b[7], b[9], b[10]), "local-use NAT64 (64:ff9b:1::/48)"})
	case sixToFour.Contains(ip):
		out = append(out, embedded{v4(b[2], b[3], b[4], b[5]), "6to4 (2002::/16)"})
	case teredo.Contains(ip):
		// RFC 4380 §4: the server's address in bits 32-63, the client's
		// in the last 32 bits, inverted.
		out = append(out,
			embedded{v4(b[4], b[5], b[6], b[7]), "a Teredo server address (2001::/32)"},
			embedded{v4(^b[12], ^b[13], ^b[14], ^b[15]), "a Teredo client address (2001::/32)"})
	case compatible.Contains(ip) && ip != unspecified6 && ip != loopback6:
		// :: and ::1 are IPv6's own unspecified and loopback addresses,
		// not 0.0.0.0 and 0.0.0.1.
		out = append(out, embedded{v4(b[12], b[13], b[14], b[15]), "an IPv4-compatible address (::/96)"})
	case translated.Contains(ip):
		out = append(out, embedded{v4(b[12], b[13], b[14], b[15]), "an IPv4-translated address (::ffff:0:0:0/96)"})
	}
	// ISATAP (RFC 5214 §6.1) keeps the IPv4 address in the interface
	// identifier, whatever the prefix: ::0:5efe:a.b.c.d, or ::200:5efe:
	// for a globally unique one.
	if (b[8]|0x02) == 0x02 && b[9] == 0 && b[10] == 0x5e && b[11] == 0xfe {
		out = append(out, embedded{v4(b[12], b[13], b[14], b[15]), "an ISATAP interface identifier (::0:5efe:a.b.c.d)"})
	}
	return out
}
