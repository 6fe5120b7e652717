//go:build unix

package main

import "syscall"

// descriptorLimit is the process's limit on open files (the soft one,
// which Go raises to the hard one at start).
func descriptorLimit() (nofile uint64, known bool) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, false
	}
	return uint64(lim.Cur), true
}
