// Package mock is the BJPAY sandbox: BJPAY's merchant API (Get Available
// Payment, Create Payment, Get Invoice) exactly as documented, the payments'
// lifecycle (PENDING → PAID | EXPIRED | FAILED) on a controllable clock,
// driven by scenarios, signed notifies to merchants, and the sandbox's own
// control API, dashboard and hosted payment page under /_sandbox.
//
// Calls go one way: the HTTP layer (api.go, control_*.go, ui.go,
// paypage.go; the only files that import net/http's server side) parses a
// request, calls the sandbox, and renders its answer or its *Error, whose
// Kind alone decides the HTTP status. The sandbox (create.go,
// lifecycle.go, state.go) keeps its state in a store.Store and sends
// notifies through a delivery.Notifier, which it gives a clock and a timer
// (the scheduler). docs/ARCHITECTURE.md draws the map.
//
// New builds a sandbox and can fail; Start starts its goroutines; Close
// stops them and closes the store.
package mock
