package delivery

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// The outbound policy decides where notifies may go. [sandbox] BJPAY's
// docs say nothing about it. A sandbox reachable from a team's network
// posts to any URL a create call names, so without a policy it would be a
// way to reach what only the sandbox's host can: cloud metadata services
// above all. Link-local addresses and the cloud metadata addresses listed
// in refusedRanges (outbound_addr.go) are refused unless an allowlist entry
// covers them; loopback and private addresses are allowed, because
// merchants under test run there. An allowlist (Options.Allow, serve
// --notify-allow) narrows notifies to the hosts it names.
//
// Addresses are classified, not strings: an address is checked without
// its zone, an IPv4-mapped one as IPv4, and every IPv4 address it carries
// (NAT64, 6to4, Teredo, ISATAP, IPv4-compatible) as if it were dialled
// itself. A URL whose host is an IP literal, in any form a URL parser or a
// resolver reads (2852039166, 0xa9fea9fe, 0251.0376.0251.0376,
// [fe80::1%25eth0]), is checked before anything is dialled; every address
// is checked again when the connection is dialled, after name resolution,
// so a name that resolves to a refused address (DNS rebinding included) is
// refused too.

type outboundPolicy struct {
	names []string       // allowed host names, lower case
	nets  []netip.Prefix // allowed addresses
}

// parseAllow reads allowlist entries: host names (shop.test), IP
// addresses or CIDR ranges (10.0.0.0/8). Addresses are kept as they are
// classified: without a zone, IPv4-mapped ones as IPv4.
func parseAllow(entries []string) (outboundPolicy, error) {
	var p outboundPolicy
	for _, e := range entries {
		e = strings.TrimSpace(e)
		switch {
		case e == "":
			return p, errors.New("an empty entry; expected a host name, an IP address or a CIDR range such as 10.0.0.0/8")
		case strings.Contains(e, "://"):
			return p, fmt.Errorf("%q is not a host name; expected a name such as shop.test (no scheme, port or path), an IP address or a CIDR range", e)
		case strings.Contains(e, "/"):
			pfx, err := netip.ParsePrefix(e)
			if err != nil {
				return p, fmt.Errorf("%q is not a CIDR range; expected e.g. 10.0.0.0/8", e)
			}
			if pfx.Addr().Is4In6() && pfx.Bits() >= 96 { // ::ffff:10.0.0.0/104 is 10.0.0.0/8
				pfx = netip.PrefixFrom(pfx.Addr().Unmap(), pfx.Bits()-96)
			}
			p.nets = append(p.nets, pfx.Masked())
		default:
			ip, err := netip.ParseAddr(strings.Trim(e, "[]"))
			if err != nil {
				var ok bool
				if ip, _, ok = legacyIPv4(e); !ok {
					ip = netip.Addr{}
				}
			}
			if ip.IsValid() {
				ip = unzone(ip)
				p.nets = append(p.nets, netip.PrefixFrom(ip, ip.BitLen()))
				continue
			}
			if strings.ContainsAny(e, ":@?# ") {
				return p, fmt.Errorf("%q is not a host name; expected a name such as shop.test (no scheme, port or path), an IP address or a CIDR range", e)
			}
			p.names = append(p.names, strings.ToLower(strings.TrimSuffix(e, ".")))
		}
	}
	return p, nil
}

// refusal is a notify the policy does not let out: final, never retried.
type refusal struct{ reason string }

func (r *refusal) Error() string { return "refused by the sandbox's notify policy: " + r.reason }

type allowedByNameKey struct{}

// restricts reports whether an allowlist was given.
func (p *outboundPolicy) restricts() bool { return len(p.names) > 0 || len(p.nets) > 0 }

// covers reports whether an allowlist entry covers ip (which has no zone).
func (p *outboundPolicy) covers(ip netip.Addr) bool {
	for _, n := range p.nets {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// checkURL checks u's host before anything is sent: an IP literal, in any
// form, as the address it is; a host name against the allowlist. It
// returns the context the dial is made under.
func (p *outboundPolicy) checkURL(ctx context.Context, u *url.URL) (context.Context, error) {
	ip, written, err := hostAddress(u)
	switch {
	case err != nil:
		return ctx, &refusal{err.Error()}
	case ip.IsValid():
		return ctx, p.checkIP(ctx, ip, written)
	case !p.restricts():
		return ctx, nil
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	for _, n := range p.names {
		if host == n {
			return context.WithValue(ctx, allowedByNameKey{}, true), nil
		}
	}
	if len(p.nets) > 0 {
		return ctx, nil // the addresses it resolves to are checked when dialled
	}
	return ctx, &refusal{fmt.Sprintf("host %q is not in the notify allowlist (%s)", host, p.describe())}
}

// checkAddr is the dial-time check of the address a notify connects to.
func (p *outboundPolicy) checkAddr(ctx context.Context, address string) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &refusal{fmt.Sprintf("cannot read the address %q", address)}
	}
	return p.checkIP(ctx, ap.Addr(), ap.Addr().String())
}

// checkIP checks ip (written is how messages name it): neither ip nor any
// IPv4 address it carries may be in a refused range, unless an allowlist
// entry covers that very address; and with an allowlist, ip must be
// covered by one, or the URL's host named by one.
func (p *outboundPolicy) checkIP(ctx context.Context, ip netip.Addr, written string) error {
	ip = unzone(ip)
	if r := refusedRangeOf(ip); r != nil && !p.covers(ip) {
		return &refusal{fmt.Sprintf("%s is a link-local or cloud metadata address (%s: %s); allow it explicitly with --notify-allow %s if you mean it",
			written, r, r.why, r)}
	}
	for _, e := range embeddedIPv4(ip) {
		if r := refusedRangeOf(e.addr); r != nil && !p.covers(e.addr) {
			return &refusal{fmt.Sprintf("%s carries %s as %s, and that is a link-local or cloud metadata address (%s: %s); allow both explicitly with --notify-allow %s,%s if you mean it",
				written, e.addr, e.how, r, r.why, r, ip)}
		}
	}
	if byName, _ := ctx.Value(allowedByNameKey{}).(bool); byName || !p.restricts() || p.covers(ip) {
		return nil
	}
	return &refusal{fmt.Sprintf("%s is not in the notify allowlist (%s)", written, p.describe())}
}

func (p *outboundPolicy) describe() string {
	var all []string
	all = append(all, p.names...)
	for _, n := range p.nets {
		all = append(all, n.String())
	}
	return strings.Join(all, ", ")
}

// dialer returns a dialer that applies checkAddr to every connection.
func (p *outboundPolicy) dialer() *net.Dialer {
	d := &net.Dialer{}
	d.ControlContext = func(ctx context.Context, network, address string, _ syscall.RawConn) error {
		return p.checkAddr(ctx, address)
	}
	return d
}
