// Command starter-full is the full starter: every command of the starter
// program (see ../main.go), with the Temporal client and the version
// store linked. `starter` runs diff, validate and rules on files itself
// and hands every other command line to this program, which it finds
// beside itself (or on PATH, or builds from the checkout it runs in).
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/apilivesync/apilivesync/internal/cli"
	"github.com/apilivesync/apilivesync/internal/cli/offline"
)

func main() {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	s := &cli.Starter{Stdout: os.Stdout, Stderr: os.Stderr}
	err := s.Run(ctx, os.Args[1:])
	cancel()
	offline.Exit(err)
}
