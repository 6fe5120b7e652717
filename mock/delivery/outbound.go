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
// above all. Link-local addresses (169.254.0.0/16, fe80::/10, which hold
// the metadata services of AWS, GCP and Azure) and AWS's IPv6 metadata
// address fd00:ec2::254 are refused unless allowed explicitly; loopback
// and private addresses are allowed, because merchants under test run
// there. An allowlist (Options.Allow, serve --notify-allow) narrows
// notifies to the hosts it names.
//
// Addresses are checked when the connection is dialled, after name
// resolution, so a name that resolves to a refused address (DNS
// rebinding included) is refused too.

// refusedNets are never dialled unless an allowlist entry covers them.
var refusedNets = []netip.Prefix{
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("fd00:ec2::254/128"),
}

type outboundPolicy struct {
	names []string       // allowed host names, lower case
	nets  []netip.Prefix // allowed addresses
}

// parseNotifyAllow reads allowlist entries: host names (shop.test), IP
// addresses or CIDR ranges (10.0.0.0/8).
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
			p.nets = append(p.nets, pfx.Masked())
		default:
			if ip, err := netip.ParseAddr(strings.Trim(e, "[]")); err == nil {
				p.nets = append(p.nets, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
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

// checkURL applies the allowlist to u's host before anything is sent, and
// returns the context the dial is made under.
func (p *outboundPolicy) checkURL(ctx context.Context, u *url.URL) (context.Context, error) {
	if len(p.names) == 0 && len(p.nets) == 0 {
		return ctx, nil
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	for _, n := range p.names {
		if host == n {
			return context.WithValue(ctx, allowedByNameKey{}, true), nil
		}
	}
	if _, err := netip.ParseAddr(host); err == nil || len(p.nets) > 0 {
		return ctx, nil // the address is checked when it is dialled
	}
	return ctx, &refusal{fmt.Sprintf("host %q is not in the notify allowlist (%s)", host, p.describe())}
}

// checkAddr is the dial-time check of the address a notify connects to.
func (p *outboundPolicy) checkAddr(ctx context.Context, address string) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &refusal{fmt.Sprintf("cannot read the address %q", address)}
	}
	ip := ap.Addr().Unmap()
	for _, n := range p.nets {
		if n.Contains(ip) {
			return nil
		}
	}
	for _, n := range refusedNets {
		if n.Contains(ip) {
			return &refusal{fmt.Sprintf("%s is a link-local or cloud metadata address; allow it explicitly with --notify-allow %s if you mean it", ip, n)}
		}
	}
	if byName, _ := ctx.Value(allowedByNameKey{}).(bool); byName || len(p.names) == 0 && len(p.nets) == 0 {
		return nil
	}
	return &refusal{fmt.Sprintf("%s is not in the notify allowlist (%s)", ip, p.describe())}
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
