// Package pgtest gives tests a PostgreSQL database of their own, on the
// server named by $BJPAY_TEST_DATABASE (`.ci/postgres start` prints it):
// a fresh database per test, dropped when the test ends.
//
// Without the variable the test is skipped, with the command that starts a
// server; in CI (CI set) it fails instead: CI starts one.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Env is the variable naming the server: a postgres:// URL whose user may
// create databases.
const Env = "BJPAY_TEST_DATABASE"

// DSN creates a database for t and returns its URL.
func DSN(t testing.TB) string {
	t.Helper()
	server := os.Getenv(Env)
	if server == "" {
		msg := "no PostgreSQL for the test: run `eval \"$(.ci/postgres start)\"` (from the repository root; it installs and starts one) and run the test again"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + "; in CI, .ci/run starts it")
		}
		t.Skip(msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("connect to $%s: %v", Env, err)
	}
	defer admin.Close(context.Background())
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "bjpay_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := pgx.Connect(ctx, server)
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer admin.Close(context.Background())
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("$%s: %v", Env, err)
	}
	u.Path = "/" + name
	return u.String()
}
