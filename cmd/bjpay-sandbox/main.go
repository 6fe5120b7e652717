// Command bjpay-sandbox is a local stand-in for the BJPAY payment gateway
// (api.bjpay.co.id) and a toolbox for testing BJPAY integrations: it serves
// BJPAY's API, and signs and verifies notify signatures with the real
// recipe.
//
// Run `bjpay-sandbox help` for the subcommands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode reports err and maps it to the process's exit status: 0 for
// success, 2 for a usage error, 1 for anything else.
func exitCode(err error, stderr io.Writer) int {
	var usage *usageError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	case errors.As(err, &usage) && usage.quiet:
		return 2
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "bjpay-sandbox: %v\n", err)
		if usage.hint != "" {
			fmt.Fprintln(stderr, usage.hint)
		}
		return 2
	case errors.Is(err, errSilent):
		return 1
	default:
		fmt.Fprintf(stderr, "bjpay-sandbox: %v\n", err)
		return 1
	}
}
