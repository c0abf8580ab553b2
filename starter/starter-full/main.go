// Command starter starts and inspects API Live Sync jobs and reads the
// version store. Run `go run ./starter help` for its commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"

	"github.com/apilivesync/apilivesync/internal/cli"
)

func main() {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	s := &cli.Starter{Stdout: os.Stdout, Stderr: os.Stderr}
	err := s.Run(ctx, os.Args[1:])
	if err == nil {
		return
	}
	code := 1
	var exit *cli.ExitError
	if errors.As(err, &exit) {
		code = exit.Code
	}
	if exit == nil || exit.Err != nil {
		fmt.Fprintln(os.Stderr, "starter:", err)
	}
	os.Exit(code)
}
