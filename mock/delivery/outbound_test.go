package delivery

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
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
