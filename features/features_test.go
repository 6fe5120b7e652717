package features_test

import (
	"context"
	"flag"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/bjpay/bjpay-sandbox/features"
	"github.com/bjpay/bjpay-sandbox/mock"
	"github.com/cucumber/godog"
)

var opts = godog.Options{Output: os.Stdout, Format: "progress", Strict: true, Concurrency: 4}

// -godog.format, -godog.tags, ... select and present the scenarios.
func init() { godog.BindFlags("godog.", flag.CommandLine, &opts) }

// TestSandboxFeatures runs sandbox/*.feature against an in-process sandbox
// on its embedded defaults.
func TestSandboxFeatures(t *testing.T) {
	sb, err := mock.New(mock.Options{Config: mock.DefaultConfig(), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	sb.Start()
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(func() { srv.Close(); sb.Close(context.Background()) })
	demo := mock.DefaultConfig().Merchants[0]

	o := opts
	o.TestingT = t
	o.FS = features.FS
	if len(o.Paths) == 0 {
		o.Paths = []string{"sandbox"}
	}
	suite := godog.TestSuite{
		Name: "sandbox",
		ScenarioInitializer: features.InitializeScenario(features.Target{
			BaseURL: srv.URL, ClientID: demo.ClientID, ClientSecret: demo.ClientSecret,
		}),
		Options: &o,
	}
	if status := suite.Run(); status != 0 {
		t.Fatalf("godog exited with status %d", status)
	}
}
