//go:build !unix

package devserver

import "os"

// lockDataDir does nothing where flock is not available.
func lockDataDir(string) (*os.File, error) { return nil, nil }
