//go:build !unix

package delivery

// leanPlatform: without a non-blocking peek, the lean client could not
// tell a pooled connection the server closed (Node's servers close idle
// ones after 5 s) from a live one, and would fail notifies net/http
// delivers; notifies go through net/http here.
const leanPlatform = false

func (pc *leanConn) alive() bool { return false }

type peekResult struct{}

func (pc *leanConn) peek(uintptr) bool { return true }
