package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// command is one subcommand: its name, a one-line summary for the overview,
// and the function that parses its flags and runs it.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "run the mock BJPAY API", runServe},
		{"sign", "compute the X-Signature of a notify", runSign},
		{"verify", "check an X-Signature (exit 1 when invalid)", runVerify},
		{"test", "run the merchant conformance suite against a merchant", runTest},
		{"fixture", "write signed notify callbacks (valid and broken) for unit tests", runFixture},
		{"notify", "send one signed notify to a webhook now", runNotify},
		{"listen", "relay a (shared) sandbox's notifies of your merchant to a local URL, no tunnel needed", runListen},
		{"scenarios", "lint or list scenario files", runScenarios},
		{"health", "check that a sandbox answers (exit 1 when not): for HEALTHCHECK and scripts", runHealth},
		{"version", "print the version", runVersion},
	}
}

var (
	// errHelp ends a run that printed help: exit 0.
	errHelp = errors.New("help requested")
	// errSilent ends a run that already told the user why it failed: exit 1.
	errSilent = errors.New("failed")
)

// helpText is what --help asked for: the subcommand's usage, which run
// prints on standard output (so `bjpay-sandbox serve --help | less` works);
// usage shown for a mistake goes to standard error with the mistake.
type helpText struct{ usage string }

func (h *helpText) Error() string        { return errHelp.Error() }
func (h *helpText) Is(target error) bool { return target == errHelp }

// usageError is a mistake in the command line: exit 2.
type usageError struct {
	msg   string
	hint  string
	quiet bool // already printed by the flag package
}

func (e *usageError) Error() string { return e.msg }

func usagef(hint, format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), hint: hint}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		printOverview(stderr)
		return usagef("", "a subcommand is needed")
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			return run(ctx, []string{args[1], "--help"}, stdout, stderr)
		}
		printOverview(stdout)
		return nil
	case "-version", "--version":
		name = "version"
	}
	for _, c := range commands() {
		if c.name == name {
			err := c.run(ctx, args[1:], stdout, stderr)
			if h := (*helpText)(nil); errors.As(err, &h) {
				fmt.Fprint(stdout, h.usage)
			}
			return err
		}
	}
	return usagef("Run 'bjpay-sandbox help' for the list of subcommands.", "unknown subcommand %q", name)
}

func printOverview(w io.Writer) {
	fmt.Fprint(w, "bjpay-sandbox: a local BJPAY payment gateway for development and tests.\n\nUsage:\n  bjpay-sandbox <subcommand> [flags]\n\nSubcommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun 'bjpay-sandbox <subcommand> --help' for its flags and examples.\nEvery flag can also be set with an environment variable BJPAY_SANDBOX_<FLAG>,\ne.g. BJPAY_SANDBOX_ADDR=:8080 for --addr.\n")
}

// newFlagSet makes a subcommand's flag set whose usage text shows the
// synopsis, the flags (with their environment variables) and examples.
func newFlagSet(name, synopsis, examples string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage:\n  bjpay-sandbox %s %s\n\nFlags:\n", name, synopsis)
		fs.VisitAll(func(f *flag.Flag) {
			kind, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(w, "  --%s %s\n    \t%s", f.Name, kind, strings.ReplaceAll(usage, "\n", "\n    \t"))
			if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" {
				fmt.Fprintf(w, " (default %s)", f.DefValue)
			}
			fmt.Fprintf(w, " [$%s]\n", envName(name, f.Name))
		})
		if examples != "" {
			fmt.Fprintf(w, "\nExamples:\n%s", examples)
		}
	}
	return fs
}

// envName is the environment variable that sets a subcommand's flag:
// --client-id is BJPAY_SANDBOX_CLIENT_ID.
func envName(subcommand, flagName string) string {
	if v, ok := envNames[subcommand+" --"+flagName]; ok {
		return v
	}
	return "BJPAY_SANDBOX_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// envNames are the variables of flags whose name means something else in
// other subcommands: test's --timeout bounds a whole run, while
// BJPAY_SANDBOX_TIMEOUT, set for notify or health, bounds one call.
var envNames = map[string]string{
	"test --timeout":   "BJPAY_SANDBOX_TEST_TIMEOUT",
	"listen --sandbox": "BJPAY_SANDBOX_SANDBOX_URL",
}

// parseFlags applies BJPAY_SANDBOX_* variables first, then the command
// line, so a flag given on the command line wins. It rejects positional
// arguments the subcommand does not take.
func parseFlags(fs *flag.FlagSet, args []string) error {
	var errs []string
	fs.VisitAll(func(f *flag.Flag) {
		name := envName(fs.Name(), f.Name)
		if v, ok := os.LookupEnv(name); ok {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Sprintf("invalid value %q in $%s for --%s: %v", v, name, f.Name, err))
			}
		}
	})
	if len(errs) > 0 {
		sort.Strings(errs)
		return usagef("Run 'bjpay-sandbox "+fs.Name()+" --help' for the flags.", "%s", strings.Join(errs, "; "))
	}
	// The flag package prints the usage (after the problem, if any) to the
	// flag set's output; catch it to send help where help belongs.
	var usage strings.Builder
	out := fs.Output()
	fs.SetOutput(&usage)
	err := fs.Parse(args)
	fs.SetOutput(out)
	if errors.Is(err, flag.ErrHelp) {
		return &helpText{usage.String()}
	}
	if err != nil {
		fmt.Fprint(out, usage.String())
		return &usageError{msg: err.Error(), quiet: true}
	}
	if fs.NArg() > 0 {
		return usagef("Run 'bjpay-sandbox "+fs.Name()+" --help' for the flags.", "%s takes no arguments, got %q", fs.Name(), fs.Args())
	}
	return nil
}
