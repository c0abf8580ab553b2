// Command starter starts and inspects API Live Sync jobs and reads the
// version store. Run `go run ./starter help` for its commands.
//
// It is two programs. This one runs `diff`, `validate` and `rules` on
// files and URLs itself, linking neither the Temporal client nor the
// store's drivers, so a diff in CI costs about what raw libopenapi does
// (docs/STARTUP_MEMORY.md). Every other command line (and a stored
// version, API@VERSION) goes to starter-full (./starter/starter-full),
// found as fullStarter says.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/apilivesync/apilivesync/internal/cli/offline"
)

func main() {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	handled, err := offline.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	cancel()
	if !handled {
		err = handOver(os.Args[1:])
	}
	offline.Exit(err)
}
