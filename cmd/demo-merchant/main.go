// Command demo-merchant is a small, correct BJPAY merchant integration (see
// package shop): a checkout, a notify handler and an orders endpoint. The
// conformance suite passes against it, and fails against each of its
// --bug variants.
//
//	demo-merchant --addr 127.0.0.1:3000 --sandbox-url http://127.0.0.1:18080
//	bjpay-sandbox test --merchant cmd/demo-merchant/merchant.yaml
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/bjpay/bjpay-sandbox/cmd/demo-merchant/shop"
)

func main() {
	err := run(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return // the flags were printed
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo-merchant:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("demo-merchant", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:3000", "where to listen")
	sandbox := fs.String("sandbox-url", "http://127.0.0.1:18080", "BJPAY base URL (the sandbox)")
	id := fs.String("client-id", "2f9d6a0e-1c3b-4d5e-8f70-123456789abc", "BJPAY client id")
	secret := fs.String("client-secret", "merchant-secret", "BJPAY client secret")
	public := fs.String("public-url", "", "this shop's base URL as BJPAY reaches it (default http://ADDR)")
	window := fs.Duration("replay-window", 5*time.Minute, "how far a notify's X-Request-Time may be from now")
	bugName := fs.String("bug", "", "switch on one known bug: "+strings.Join(bugNames(), ", "))
	if err := fs.Parse(args); err != nil {
		return err
	}
	bug, err := shop.ParseBug(*bugName)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	if *public == "" {
		*public = "http://" + ln.Addr().String()
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	s := shop.New(shop.Config{SandboxURL: *sandbox, ClientID: *id, ClientSecret: *secret, PublicURL: *public,
		ReplayWindow: *window, Bug: bug, Logger: log})
	log.Info("demo-merchant listening", "url", *public, "sandbox", *sandbox, "bug", string(bug))

	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func bugNames() []string {
	names := make([]string, len(shop.Bugs))
	for i, b := range shop.Bugs {
		names[i] = string(b)
	}
	return names
}
