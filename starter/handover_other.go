//go:build !unix

package main

import (
	"context"
	"errors"
	"os"
	"os/exec"

	"github.com/apilivesync/apilivesync/internal/cli/offline"
)

// handOver runs the full starter with the same arguments and ends with
// its exit code.
func handOver(args []string) error {
	full, err := fullStarter(context.Background())
	if err != nil {
		return err
	}
	cmd := exec.Command(full, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return &offline.ExitError{Code: exit.ExitCode()}
	}
	return err
}

func lockDir(string) (func(), error) { return func() {}, nil }
