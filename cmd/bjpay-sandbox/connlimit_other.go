//go:build !unix

package main

// descriptorLimit: Windows has no per-process limit on open files to read;
// the default cap is then maxDefaultConns.
func descriptorLimit() (nofile uint64, known bool) { return 0, false }
