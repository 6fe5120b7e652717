// Package features holds the sandbox's godog feature files and the step
// library that runs them.
//
// The steps speak HTTP only — to the sandbox's BJPAY surface — so the same
// features run against an in-process sandbox in `go test` or against a
// sandbox running elsewhere. Each scenario gets a fresh world, so suites may
// run with Concurrency > 1.
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

import "embed"

// FS holds the feature files: sandbox/*.feature describe the sandbox's own
// behaviour (living documentation of the BJPAY surface).
//
//go:embed sandbox/*.feature
var FS embed.FS
