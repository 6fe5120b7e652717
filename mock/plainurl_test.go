package mock

import (
	"net/url"
	"testing"
)

// FuzzPlainHTTPURL checks the shortcut of the URL fields' checks: every
// URL plainHTTPURL lets through is one url.Parse takes as an absolute
// http(s) URL with a host, which is what the full checks require.
func FuzzPlainHTTPURL(f *testing.F) {
	for _, s := range []string{"https://a.com/x?y=1", "http://h:80", "http://h:", "https://", "http://a b", "http://[::1]/", "https://x.y/%zz", "http://a:99999/", "http://a:1/b?c=d&e+f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !plainHTTPURL(s) {
			return
		}
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || !u.IsAbs() {
			t.Fatalf("plainHTTPURL(%q) = true, but url.Parse gives %+v, %v", s, u, err)
		}
		if msg := checkHTTPURL(s); msg != "" {
			t.Fatalf("plainHTTPURL(%q) = true, but checkHTTPURL says %s", s, msg)
		}
	})
}
