package delivery

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestParseAllow(t *testing.T) {
	for _, tt := range []struct {
		entries []string
		err     string // "" for no error
	}{
		{nil, ""},
		{[]string{"shop.test", "10.0.0.0/8", "127.0.0.1", "::1", "[fd00::1]", "Shop.Test."}, ""},
		{[]string{""}, "an empty entry"},
		{[]string{"10.0.0.0/33"}, `"10.0.0.0/33" is not a CIDR range`},
		{[]string{"http://shop.test"}, `"http://shop.test" is not a host name`},
		{[]string{"shop.test:3000"}, `"shop.test:3000" is not a host name`},
		{[]string{"fe80::1%eth0", "2130706433", "0x7f.1", "::ffff:10.0.0.0/104"}, ""},
	} {
		_, err := parseAllow(tt.entries)
		if (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("parseAllow(%q) = %v, want an error containing %q", tt.entries, err, tt.err)
		}
	}
}

// TestOutboundPolicy: what each policy lets out, by URL and by the address
// finally dialled (as after name resolution).
func TestOutboundPolicy(t *testing.T) {
	for _, tt := range []struct {
		allow   []string
		url     string
		dialled string
		refused string // "" when allowed
	}{
		// No allowlist: everything but link-local and metadata addresses.
		{nil, "http://127.0.0.1:3000/n", "127.0.0.1:3000", ""},
		{nil, "http://shop.test/n", "10.1.2.3:80", ""},
		{nil, "http://[::1]:3000/n", "[::1]:3000", ""},
		{nil, "http://169.254.169.254/latest/meta-data/", "169.254.169.254:80", "link-local or cloud metadata"},
		{nil, "http://metadata.internal/", "169.254.169.254:80", "link-local or cloud metadata"}, // a name resolving there
		{nil, "http://[fd00:ec2::254]/", "[fd00:ec2::254]:80", "link-local or cloud metadata"},
		{nil, "http://[fe80::1%25eth0]/", "[fe80::1]:80", "link-local or cloud metadata"},
		{nil, "http://[::ffff:169.254.169.254]/", "[::ffff:169.254.169.254]:80", "link-local or cloud metadata"},
		// Names resolving to the forms the probe got through (issue 16).
		{nil, "http://shop.test/n", "[fe80::a9fe:a9fe%eth0]:80", "fe80::a9fe:a9fe%eth0 is a link-local or cloud metadata address"},
		{nil, "http://shop.test/n", "[::a9fe:a9fe]:80", "::a9fe:a9fe carries 169.254.169.254 as an IPv4-compatible address"},
		{nil, "http://shop.test/n", "[64:ff9b::a9fe:a9fe]:80", "64:ff9b::a9fe:a9fe carries 169.254.169.254 as NAT64"},
		{nil, "http://shop.test/n", "[64:ff9b::a00:1]:80", ""}, // NAT64 to 10.0.0.1
		// An explicit entry allows even a refused range.
		{[]string{"169.254.0.0/16"}, "http://169.254.1.1/", "169.254.1.1:80", ""},
		// Names: only the listed ones, wherever they resolve (but never to metadata).
		{[]string{"shop.test"}, "http://SHOP.test./n", "10.1.2.3:80", ""},
		{[]string{"shop.test"}, "http://shop.test/n", "169.254.169.254:80", "link-local or cloud metadata"},
		{[]string{"shop.test"}, "http://evil.test/n", "10.1.2.3:80", `host "evil.test" is not in the notify allowlist`},
		{[]string{"shop.test"}, "http://127.0.0.1/n", "127.0.0.1:80", "127.0.0.1 is not in the notify allowlist"},
		// Ranges: the dialled address decides.
		{[]string{"10.0.0.0/8"}, "http://shop.test/n", "10.1.2.3:80", ""},
		{[]string{"10.0.0.0/8"}, "http://shop.test/n", "192.168.1.1:80", "192.168.1.1 is not in the notify allowlist"},
		{[]string{"127.0.0.1"}, "http://127.0.0.1:3000/n", "127.0.0.1:3000", ""},
		// Entries are classified as addresses are.
		{[]string{"127.0.0.1"}, "http://[::ffff:127.0.0.1]:3000/n", "127.0.0.1:3000", ""},
		{[]string{"127.0.0.1"}, "http://2130706433:3000/n", "127.0.0.1:3000", ""},
		{[]string{"::ffff:127.0.0.0/104"}, "http://127.0.0.1:3000/n", "127.0.0.1:3000", ""},
		{[]string{"fe80::/10"}, "http://[fe80::1%25eth0]/", "[fe80::1%eth0]:80", ""},
		{[]string{"fe80::1"}, "http://[fe80::1%25eth0]/", "[fe80::1%eth0]:80", ""},
		// An address that carries a refused one: both must be allowed.
		{[]string{"169.254.0.0/16"}, "http://[64:ff9b::a9fe:a9fe]/", "[64:ff9b::a9fe:a9fe]:80", "64:ff9b::a9fe:a9fe is not in the notify allowlist"},
		{[]string{"64:ff9b::/96"}, "http://[64:ff9b::a9fe:a9fe]/", "[64:ff9b::a9fe:a9fe]:80", "allow both explicitly with --notify-allow 169.254.0.0/16,64:ff9b::a9fe:a9fe"},
		{[]string{"169.254.0.0/16", "64:ff9b::/96"}, "http://[64:ff9b::a9fe:a9fe]/", "[64:ff9b::a9fe:a9fe]:80", ""},
		// A name in the allowlist does not lift a refusal of what it resolves to.
		{[]string{"shop.test"}, "http://shop.test/n", "[::ffff:a9fe:a9fe]:80", "link-local or cloud metadata"},
	} {
		p, err := parseAllow(tt.allow)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(tt.url)
		ctx, err := p.checkURL(context.Background(), u)
		if err == nil {
			err = p.checkAddr(ctx, tt.dialled)
		}
		var r *refusal
		switch {
		case tt.refused == "" && err != nil:
			t.Errorf("allow %q, %s via %s: refused (%v), want allowed", tt.allow, tt.url, tt.dialled, err)
		case tt.refused != "" && (!errors.As(err, &r) || !strings.Contains(err.Error(), tt.refused)):
			t.Errorf("allow %q, %s via %s: %v, want a refusal containing %q", tt.allow, tt.url, tt.dialled, err, tt.refused)
		}
	}
}

// TestOutboundForms: every way of writing an address that the issue 16
// probe used or a URL parser or a C resolver accepts, refused when it is,
// or carries, a link-local or metadata address, and allowed otherwise;
// with no allowlist, as the sandbox runs by default. A refusal names the
// form and the address it decodes to. The URL is checked before any dial
// (and, for an IP literal, refused there); dialled is the address a
// connection to it would then be checked on.
func TestOutboundForms(t *testing.T) {
	const metadata = "link-local or cloud metadata address"
	for _, tt := range []struct {
		url     string
		refused string // "" when allowed
	}{
		// The probe's three (issue 16).
		{"http://[fe80::a9fe:a9fe%25eth0]/", "fe80::a9fe:a9fe%eth0 is a " + metadata + " (fe80::/10"},
		{"http://[::169.254.169.254]/", "::169.254.169.254 carries 169.254.169.254 as an IPv4-compatible address (::/96), and that is a " + metadata},
		{"http://[64:ff9b::a9fe:a9fe]/", "64:ff9b::a9fe:a9fe carries 169.254.169.254 as NAT64 (64:ff9b::/96)"},

		// IPv6 literals, zoned or not, and the IPv4 addresses they carry.
		{"http://[fe80::1%25eth0]/", "fe80::1%eth0 is a " + metadata},
		{"http://[FE80::1%25lo]:8080/", "FE80::1%lo is a " + metadata},
		{"http://[febf::1]/", "febf::1 is a " + metadata}, // the top of fe80::/10
		{"http://[::a9fe:a9fe]/", "::a9fe:a9fe carries 169.254.169.254 as an IPv4-compatible address"},
		{"http://[::ffff:169.254.169.254]/", "::ffff:169.254.169.254 is a " + metadata + " (169.254.0.0/16"},
		{"http://[::ffff:a9fe:a9fe]/", "::ffff:a9fe:a9fe is a " + metadata},
		{"http://[0:0:0:0:0:ffff:a9fe:a9fe]/", "0:0:0:0:0:ffff:a9fe:a9fe is a " + metadata},
		{"http://[::ffff:0:a9fe:a9fe]/", "carries 169.254.169.254 as an IPv4-translated address (::ffff:0:0:0/96)"},
		{"http://[64:ff9b::169.254.169.254]/", "carries 169.254.169.254 as NAT64 (64:ff9b::/96)"},
		{"http://[64:ff9b:1:a9fe:a9:fe00::]/", "carries 169.254.169.254 as local-use NAT64 (64:ff9b:1::/48)"},
		{"http://[2002:a9fe:a9fe::1]/", "carries 169.254.169.254 as 6to4 (2002::/16)"},
		{"http://[2001:0:4136:e378:8000:63bf:5601:5601]/", "carries 169.254.169.254 as a Teredo client address (2001::/32)"},
		{"http://[2001:0:a9fe:a9fe::ffff:ffff]/", "carries 169.254.169.254 as a Teredo server address (2001::/32)"},
		{"http://[fd12:3456:789a:1:0:5efe:a9fe:a9fe]/", "carries 169.254.169.254 as an ISATAP interface identifier"},
		{"http://[2001:db8::200:5efe:169.254.169.254]/", "carries 169.254.169.254 as an ISATAP interface identifier"},
		{"http://[64:ff9b::6464:64c8]/", "carries 100.100.100.200 as NAT64 (64:ff9b::/96), and that is a " + metadata + " (100.100.100.200: Alibaba Cloud"},

		// The cloud metadata addresses outside link-local, and some inside.
		{"http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a " + metadata},
		{"http://169.254.170.2/v2/credentials", "169.254.170.2 is a " + metadata},
		{"http://169.254.170.23/", "169.254.170.23 is a " + metadata},
		{"http://[fd00:ec2::254]/", "fd00:ec2::254 is a " + metadata + " (fd00:ec2::/32: AWS"},
		{"http://[fd00:ec2::23]/", "fd00:ec2::23 is a " + metadata},
		{"http://[fd20:ce::254]/", "fd20:ce::254 is a " + metadata + " (fd20:ce::254: Google Cloud"},
		{"http://[fd00:c1::a9fe:a9fe]/", "fd00:c1::a9fe:a9fe is a " + metadata + " (fd00:c1::a9fe:a9fe: Oracle Cloud"},
		{"http://100.100.100.200/latest/meta-data/", "100.100.100.200 is a " + metadata + " (100.100.100.200: Alibaba Cloud"},
		{"http://168.63.129.16/machine?comp=goalstate", "168.63.129.16 is a " + metadata + " (168.63.129.16: Azure"},
		{"http://192.0.0.192/latest/", "192.0.0.192 is a " + metadata + " (192.0.0.192: Oracle Cloud Classic"},

		// IPv4 as inet_aton(3) and WHATWG URL parsers read it.
		{"http://2852039166/", "2852039166 (169.254.169.254 written as one decimal number) is a " + metadata},
		{"http://0xa9fea9fe/", "0xa9fea9fe (169.254.169.254 written as one hex number) is a " + metadata},
		{"http://0XA9FEA9FE/", "0XA9FEA9FE (169.254.169.254 written as one hex number)"},
		{"http://025177524776/", "025177524776 (169.254.169.254 written as one octal number)"},
		{"http://0251.0376.0251.0376/", "0251.0376.0251.0376 (169.254.169.254 written in octal)"},
		{"http://0xa9.0xfe.0xa9.0xfe/", "0xa9.0xfe.0xa9.0xfe (169.254.169.254 written in hex)"},
		{"http://0xa9.254.0251.0376/", "(169.254.169.254 written in hex, decimal and octal)"},
		{"http://169.254.43518/", "169.254.43518 (169.254.169.254 written in short form, 3 parts)"},
		{"http://169.16689662/", "169.16689662 (169.254.169.254 written in short form, 2 parts)"},
		{"http://0xa9.0xfe.0xa9fe/", "(169.254.169.254 written in short form, 3 parts, in hex)"},
		{"http://169.254.169.254./", "169.254.169.254. (169.254.169.254 written in decimal, with a trailing dot)"},
		{"http://0x64.0x64.0x64.0xc8/", "(100.100.100.200 written in hex) is a " + metadata},
		{"http://0xa9fe.0xa9fe/", ""}, // 0xa9fe is past the first byte: a host name, not an address
		{"http://4294967296/", ""},    // past 32 bits: a host name
		{"http://08.1.1.1/", ""},      // 8 is no octal digit: a host name

		// Where merchants under test run: loopback and private, however written.
		{"http://127.0.0.1:3000/n", ""},
		{"http://[::1]:3000/n", ""},
		{"http://[::ffff:127.0.0.1]:3000/n", ""},
		{"http://2130706433:3000/n", ""},
		{"http://0x7f.1:3000/n", ""},
		{"http://0177.0.0.1:3000/n", ""},
		{"http://10.1.2.3/n", ""},
		{"http://192.168.1.20/n", ""},
		{"http://[fd12:3456::1]/n", ""},
		{"http://[64:ff9b::a00:1]/n", ""},   // NAT64 to 10.0.0.1
		{"http://[2002:c0a8:101::1]/n", ""}, // 6to4 of 192.168.1.1
		{"http://[::2]/n", ""},              // IPv4-compatible 0.0.0.2
	} {
		t.Run(tt.url, func(t *testing.T) {
			var p outboundPolicy
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.checkURL(context.Background(), u)
			var r *refusal
			switch {
			case tt.refused == "" && err != nil:
				t.Errorf("refused (%v), want allowed", err)
			case tt.refused != "" && (!errors.As(err, &r) || !strings.Contains(err.Error(), tt.refused)):
				t.Errorf("got %v, want a refusal containing %q", err, tt.refused)
			}
			if err != nil {
				t.Log(err)
			}
		})
	}
}

// TestEmbeddedIPv4: where each transition mechanism keeps its IPv4
// address, and that IPv6's own :: and ::1 carry none.
func TestEmbeddedIPv4(t *testing.T) {
	for _, tt := range []struct {
		ip   string
		want []string // the IPv4 addresses carried, in order
	}{
		{"::", nil},
		{"::1", nil},
		{"::2", []string{"0.0.0.2"}},
		{"::a9fe:a9fe", []string{"169.254.169.254"}},
		{"::ffff:0:a9fe:a9fe", []string{"169.254.169.254"}},
		{"64:ff9b::c0a8:101", []string{"192.168.1.1"}},
		{"64:ff9b:1:c0a8:1:100::", []string{"192.168.1.1"}}, // RFC 6052 /48: bits 48-63 and 72-87
		{"64:ff9b:2::1", nil},                               // outside the /48
		{"2002:c0a8:101::", []string{"192.168.1.1"}},
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", []string{"65.54.227.120", "192.0.2.45"}}, // RFC 4380's own example
		{"fe80::5efe:c0a8:101", []string{"192.168.1.1"}},
		{"2001:db8::200:5efe:c0a8:101", []string{"192.168.1.1"}},
		{"2001:db8::100:5efe:c0a8:101", nil}, // not an ISATAP identifier
		{"fd12:3456::1", nil},
		{"2001:db8::1", nil},
		{"127.0.0.1", nil},
	} {
		var got []string
		for _, e := range embeddedIPv4(unzone(netip.MustParseAddr(tt.ip))) {
			got = append(got, e.addr.String())
		}
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("embeddedIPv4(%s) = %v, want %v", tt.ip, got, tt.want)
		}
	}
}

// TestOutboundDial: the policy on real connections. A loopback server
// reached through an IPv4-mapped address gets the request; an address that
// is or carries a refused one is refused by the dialer's check, which runs
// once the socket exists and before it connects, so no packet leaves.
func TestOutboundDial(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	var p outboundPolicy
	d := p.dialer()
	client := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}, Timeout: 10 * time.Second}

	u, _ := url.Parse("http://[::ffff:127.0.0.1]:" + port + "/n")
	if _, err := p.checkURL(context.Background(), u); err != nil {
		t.Fatalf("%s: %v, want allowed", u, err)
	}
	resp, err := client.Get(u.String())
	if err != nil {
		t.Fatalf("%s: %v, want the loopback server's answer", u, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok" {
		t.Fatalf("%s: %d %q, want 200 \"ok\"", u, resp.StatusCode, body)
	}

	for _, address := range []string{
		"169.254.169.254:80",
		"[::ffff:169.254.169.254]:80",
		"[fe80::a9fe:a9fe%lo]:80",
		"[::a9fe:a9fe]:80",
		"[64:ff9b::a9fe:a9fe]:80",
		"[fd00:ec2::254]:80",
	} {
		start := time.Now()
		conn, err := d.DialContext(context.Background(), "tcp", address)
		if conn != nil {
			conn.Close()
		}
		var r *refusal
		if !errors.As(err, &r) {
			t.Errorf("dial %s: %v, want a refusal by the policy", address, err)
		} else if took := time.Since(start); took > time.Second {
			t.Errorf("dial %s: refused after %s; the check runs before connecting, so it should take no time", address, took)
		}
	}
}
