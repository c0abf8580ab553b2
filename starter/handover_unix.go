//go:build unix

package main

import (
	"context"
	"os"
	"syscall"
)

// handOver replaces this process with the full starter, run with the
// same arguments: its output, exit code and signals are the command's.
func handOver(args []string) error {
	full, err := fullStarter(context.Background())
	if err != nil {
		return err
	}
	return syscall.Exec(full, append([]string{full}, args...), os.Environ())
}

// lockDir holds an exclusive lock on dir, so concurrent starters build
// the full starter once.
func lockDir(dir string) (unlock func(), err error) {
	f, err := os.OpenFile(dir+"/.lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}
