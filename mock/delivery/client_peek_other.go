//go:build !unix

package delivery

// alive: without a portable non-blocking peek, a pooled connection is
// taken as alive; one the server closed fails the attempt, which its
// policy retries.
func (pc *leanConn) alive() bool { return true }
