package mock

import (
	"fmt"
	"net/http"
	"strconv"
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

// codes maps each documented code to its documented message and the HTTP
// status the sandbox answers it with. [sandbox] BJPAY documents the codes and
// messages but not the HTTP statuses; these are the sandbox's choice.
var codes = map[string]struct {
	status  int
	message string
}{
	CodeOK:                 {http.StatusOK, "Success"},
	CodeUnauthorized:       {http.StatusUnauthorized, "Unauthorized"},
	CodeInvalidAmount:      {http.StatusBadRequest, "Invalid Amount"},
	CodeInvalidChannel:     {http.StatusBadRequest, "Invalid Payment Channel"},
	CodeInvalidReference:   {http.StatusBadRequest, "Invalid Transaction Reference Number"},
	CodeInvalidItem:        {http.StatusBadRequest, "Invalid Transaction Item"},
	CodeInvalidEmail:       {http.StatusBadRequest, "Invalid Customer Email"},
	CodeInvalidPhone:       {http.StatusBadRequest, "Invalid Customer Phone Number"},
	CodeInvalidQuantity:    {http.StatusBadRequest, "Invalid Quantity"},
	CodeInvalidCurrency:    {http.StatusBadRequest, "Invalid Currency"},
	CodeInvalidRequestTime: {http.StatusBadRequest, "Invalid X-Request-Time"},
}

// Error is a failed call: either one of BJPAY's documented codes, or a
// sandbox envelope for a condition BJPAY gives no code for (unknown route,
// wrong method, bad JSON, ...), whose code is the HTTP status as a string.
type Error struct {
	Status  int    // HTTP status
	Code    string // "01", "12", ... or "404", "415", ...
	Message string // the documented message, or for sandbox envelopes the explanation
	// Detail explains a documented code: what was received and what is
	// expected. Sent as "sandboxDetail" beside BJPAY's own fields.
	Detail string
	// Sandbox marks envelopes BJPAY does not document; they carry the
	// X-Sandbox-Error header.
	Sandbox bool
	// retryAfter asks the client to come back in a second (Retry-After).
	retryAfter bool
}

// explanation is what went wrong, in words: the detail of a documented
// code, the message of a sandbox envelope.
func (e *Error) explanation() string {
	if e.Detail != "" {
		return e.Detail
	}
	return e.Message
}

func (e *Error) Error() string {
	if e.Detail != "" {
		return e.Code + " " + e.Message + ": " + e.Detail
	}
	return e.Code + " " + e.Message
}

// codeErr builds a documented-code error with a detail message.
func codeErr(code, format string, args ...any) *Error {
	c := codes[code]
	return &Error{Status: c.status, Code: code, Message: c.message, Detail: fmt.Sprintf(format, args...)}
}

// withStatus overrides the HTTP status of a documented code, for the few
// places where the sandbox answers one code with two statuses (01 as 403 for
// a caller IP, 14 as 404 for an unknown reference).
func (e *Error) withRetryAfter() *Error {
	e.retryAfter = true
	return e
}

func (e *Error) withStatus(status int) *Error {
	e.Status = status
	return e
}

// sandboxErr builds an envelope for a condition BJPAY documents no code for.
func sandboxErr(status int, format string, args ...any) *Error {
	return &Error{Status: status, Code: strconv.Itoa(status), Message: fmt.Sprintf(format, args...), Sandbox: true}
}
