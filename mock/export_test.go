package mock

import "github.com/bjpay/bjpay-sandbox/mock/store"

// Sweep runs the retention's sweep now, as the background one does every
// sweepEvery, and returns what it evicted: tests need not wait for it.
func (s *Sandbox) Sweep() store.Evicted { return s.sweeper.sweep() }
