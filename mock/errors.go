package mock

import (
	"fmt"
)

// BJPAY's documented response codes.
const (
	CodeOK                 = "OK"
	CodeUnauthorized       = "01"
	CodeInvalidAmount      = "12"
	CodeInvalidChannel     = "13"
	CodeInvalidReference   = "14"
	CodeInvalidItem        = "15"
	CodeInvalidEmail       = "16"
	CodeInvalidPhone       = "17"
	CodeInvalidQuantity    = "18"
	CodeInvalidCurrency    = "19"
	CodeInvalidRequestTime = "23"
)

// Kind says what sort of failure an Error is; the HTTP layer turns kinds
// into statuses (statusOf), and nothing else does.
type Kind int

// The kinds of failure.
const (
	KindInvalid      Kind = iota + 1 // the request is wrong: a documented validation code, bad JSON
	KindUnauthorized                 // no or wrong credentials
	KindForbidden                    // the caller may not do this (an address not allowed, a bad token)
	KindNotFound                     // no such thing: route, transaction, page
	KindMethod                       // the route exists, not with this method
	KindMisdirected                  // the Host header does not name the sandbox
	KindConflict                     // the state forbids it: a terminal status, a taken client id
	KindTooLarge                     // the body is over the limit
	KindMediaType                    // the body is not of a type the route takes
	KindUnavailable                  // the sandbox cannot now: a full backlog, a failed write; retry later
	KindForced                       // a scenario makes the gateway fail with a status of its choice
	KindTooMany                      // too many failed attempts: wait and retry
	KindUpgrade                      // the route speaks another protocol (a WebSocket)
)

// codes maps each documented code to its documented message and the kind
// of failure the sandbox files it under. [sandbox] BJPAY documents the
// codes and messages but not the HTTP statuses; statusOf gives those.
var codes = map[string]struct {
	message string
	kind    Kind
}{
	CodeOK:                 {"Success", 0},
	CodeUnauthorized:       {"Unauthorized", KindUnauthorized},
	CodeInvalidAmount:      {"Invalid Amount", KindInvalid},
	CodeInvalidChannel:     {"Invalid Payment Channel", KindInvalid},
	CodeInvalidReference:   {"Invalid Transaction Reference Number", KindInvalid},
	CodeInvalidItem:        {"Invalid Transaction Item", KindInvalid},
	CodeInvalidEmail:       {"Invalid Customer Email", KindInvalid},
	CodeInvalidPhone:       {"Invalid Customer Phone Number", KindInvalid},
	CodeInvalidQuantity:    {"Invalid Quantity", KindInvalid},
	CodeInvalidCurrency:    {"Invalid Currency", KindInvalid},
	CodeInvalidRequestTime: {"Invalid X-Request-Time", KindInvalid},
}

// Error is a failed call: either one of BJPAY's documented codes, or one
// the sandbox answers with its own envelope, for conditions BJPAY gives no
// code for (an unknown route, bad JSON, a terminal status, ...).
type Error struct {
	Kind Kind
	// Code is BJPAY's documented code ("01", "12", ...), or "" for the
	// sandbox's own envelope, whose code is the HTTP status.
	Code string
	// Msg says what was received and what is expected.
	Msg string
	// Status is the HTTP status of a KindForced error: the scenario's.
	Status int
}

func (e *Error) Error() string {
	if e.Code != "" {
		return e.Code + " " + codes[e.Code].message + ": " + e.Msg
	}
	return e.Msg
}

// codeErr builds a documented-code error, of the code's kind.
func codeErr(code, format string, args ...any) *Error {
	return &Error{Kind: codes[code].kind, Code: code, Msg: fmt.Sprintf(format, args...)}
}

// as gives e another kind, for the few places where the sandbox answers one
// code with two (01 for a caller address, 14 for an unknown reference).
func (e *Error) as(k Kind) *Error {
	e.Kind = k
	return e
}

// errorf builds an error the sandbox answers with its own envelope.
func errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...)}
}
