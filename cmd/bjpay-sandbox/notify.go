package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock"
	"github.com/bjpay/bjpay-sandbox/mock/notify"
)

// maxShownResponse is how much of the merchant's answer notify prints.
const maxShownResponse = 64 << 10

func runNotify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		d       notifyData
		target  string
		variant = notify.VariantValid
		timeout time.Duration
	)
	fs := newFlagSet("notify", "--url URL --client-id ID --client-secret S [--status S] [--payment-code C] [--amount A] [--reference R] [--seed N] [--time T] [--variant V] [--timeout D]", notifyExamples, stderr)
	fs.StringVar(&target, "url", "", "the merchant's notify endpoint (also sent as finishNotifyUrl)")
	d.register(fs)
	fs.Func("variant", "notify `VARIANT` to send, one of: "+strings.Join(variantNames(), ", ")+" (default valid)", func(s string) error {
		v, err := notify.ParseVariant(s)
		variant = v
		return err
	})
	fs.DurationVar(&timeout, "timeout", 10*time.Second, "how long to wait for the merchant's answer, as the sandbox does")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if target == "" {
		return usagef("Run 'bjpay-sandbox notify --help' for an example.", "missing --url: the merchant's notify endpoint, e.g. http://127.0.0.1:3000/webhook/bjpay")
	}
	if u, err := url.Parse(target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("", "--url %q is not an absolute http(s) URL", target)
	}
	if timeout <= 0 {
		return usagef("", "--timeout %s must be positive", timeout)
	}
	if _, err := d.parse(fs); err != nil {
		return err
	}
	d.opts.NotifyURL = target
	d.opts.Variants = []notify.Variant{variant}
	fixtures, err := mock.Fixtures(d.opts)
	if err != nil {
		return usagef("Run 'bjpay-sandbox notify --help' for the flags.", "%v", err)
	}
	f := fixtures[0]

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := f.NewRequest(ctx, target)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "> POST %s\n", target)
	writeHeader(stdout, "> ", f.Header)
	fmt.Fprintf(stdout, ">\n%s\n\n", f.Body)

	// Like the sandbox's notifier: redirects are answers, not followed.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		var uerr *url.Error
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			err = fmt.Errorf("no answer within --timeout %s", timeout)
		case errors.As(err, &uerr):
			err = uerr.Err // the URL is printed already
		}
		fmt.Fprintf(stderr, "notify: %s: %v\n", target, err)
		return errSilent
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxShownResponse))
	resp.Body.Close()
	latency := time.Since(start)

	fmt.Fprintf(stdout, "< %s %s in %s\n", resp.Proto, resp.Status, latency.Round(10*time.Microsecond))
	writeHeader(stdout, "< ", resp.Header)
	fmt.Fprintf(stdout, "<\n%s\n", body)
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	switch {
	case ok && f.Expect == notify.ExpectReject:
		fmt.Fprintf(stderr, "notify: warning: the merchant acknowledged a %s notify, which a correct merchant rejects: %s\n", variant, f.Why)
	case !ok && f.Expect == notify.ExpectAccept:
		fmt.Fprintf(stderr, "notify: the merchant answered %d, not 2xx: BJPAY would retry this notify\n", resp.StatusCode)
	}
	if !ok {
		return errSilent
	}
	return nil
}

// writeHeader prints h one "Name: value" line per value, sorted, each line
// starting with prefix.
func writeHeader(w io.Writer, prefix string, h http.Header) {
	for _, name := range slices.Sorted(maps.Keys(h)) {
		for _, v := range h[name] {
			fmt.Fprintf(w, "%s%s: %s\n", prefix, name, v)
		}
	}
}
