//go:build unix

package devserver

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockFileName is the file in the data dir that a running server holds an
// exclusive flock on.
const lockFileName = "devserver.lock"

// lockDataDir takes an exclusive lock on dir, so that a second server, in
// this process or another, cannot open the same SQLite file. The lock
// goes with the returned file: close it to release.
func lockDataDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, &DataDirError{Path: dir, Err: err}
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			err = errors.New("already in use by another running dev server")
		}
		return nil, &DataDirError{Path: dir, Err: fmt.Errorf("lock %s: %w", path, err)}
	}
	return f, nil
}
