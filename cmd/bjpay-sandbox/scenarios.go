package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/bjpay/bjpay-sandbox/scenarios"
)

const scenariosExamples = `  # Check scenario files (exit 1 and file:line:col messages when invalid):
  bjpay-sandbox scenarios lint scenarios/ my-scenarios.yaml

  # The scenarios serve would use, in the order they are tried:
  bjpay-sandbox scenarios list my-scenarios.yaml
`

// runScenarios dispatches `scenarios lint` and `scenarios list`.
func runScenarios(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("scenarios", "lint PATH... | list [PATH...]", scenariosExamples, stderr)
	if len(args) == 0 || (args[0] != "lint" && args[0] != "list") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			fs.SetOutput(stdout)
			fs.Usage()
			return errHelp
		}
		fs.Usage()
		return usagef("", "scenarios needs an action: lint or list")
	}
	action, paths := args[0], args[1:]
	if action == "lint" && len(paths) == 0 {
		return usagef("Example: bjpay-sandbox scenarios lint scenarios/", "scenarios lint needs at least one file or directory")
	}
	var user []scenarios.Scenario
	if len(paths) > 0 {
		var err error
		user, err = scenarios.Load(paths...)
		var list scenarios.ErrorList
		if errors.As(err, &list) {
			// Compiler-style, one problem a line, for editors and CI annotations.
			fmt.Fprintln(stdout, list.Error())
			fmt.Fprintf(stderr, "%d problem(s)\n", len(list))
			return errSilent
		}
		if err != nil {
			return err
		}
	}
	if action == "lint" {
		fmt.Fprintf(stdout, "ok: %d scenario(s)\n", len(user))
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tFROM\tDESCRIPTION")
	for _, sc := range scenarios.Merge(user, scenarios.Library()) {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", sc.Name, sc.At[""].String(), sc.Description)
	}
	return tw.Flush()
}
