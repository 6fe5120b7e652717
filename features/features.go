// Package features holds the godog feature files and the step library that
// runs them: sandbox/*.feature describe the sandbox (InitializeScenario),
// merchant/*.feature are the merchant conformance suite
// (InitializeConformance, with a driver file from LoadDriver).
//
// The steps speak HTTP only — to the sandbox's BJPAY surface and control
// API, and to the merchant — so the same features run against an in-process
// sandbox in `go test` or a sandbox running elsewhere. Each scenario gets a
// fresh world, so suites may run with Concurrency > 1; scenarios tagged
// @clock move their merchant's own clock, run alone among that merchant's
// scenarios and put the merchant back on the global clock.
//
// To run the features in your own godog suite:
//
//	suite := godog.TestSuite{
//		ScenarioInitializer: features.InitializeScenario(features.Target{
//			BaseURL: "http://127.0.0.1:8080", ClientID: id, ClientSecret: secret,
//		}),
//		Options: &godog.Options{FS: features.FS, Paths: []string{"sandbox"}, Strict: true, TestingT: t},
//	}
package features

import (
	"embed"
	"io/fs"
	"slices"
	"strings"
)

// FS holds the feature files: sandbox/*.feature describe the sandbox's own
// behaviour (living documentation of the BJPAY surface and its notifies);
// merchant/*.feature are the merchant conformance suite, tagged @required
// (what BJPAY's docs oblige) or @recommended (best practice).
//
//go:embed sandbox/*.feature merchant/*.feature
var FS embed.FS

// ScenariosTagged returns the names of the scenarios in dir/*.feature of FS
// that carry tag, on themselves or on their feature, in file order.
func ScenariosTagged(dir, tag string) []string {
	files, _ := fs.Glob(FS, dir+"/*.feature")
	var names []string
	for _, f := range files {
		data, _ := fs.ReadFile(FS, f)
		var featureTagged, pending bool
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			switch {
			case strings.HasPrefix(line, "@"):
				pending = pending || slices.Contains(strings.Fields(line), tag)
			case strings.HasPrefix(line, "Feature:"):
				featureTagged, pending = pending, false
			case strings.HasPrefix(line, "Scenario:"), strings.HasPrefix(line, "Scenario Outline:"):
				if featureTagged || pending {
					_, name, _ := strings.Cut(line, ":")
					names = append(names, strings.TrimSpace(name))
				}
				pending = false
			}
		}
	}
	return names
}
