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

	"github.com/apilivesync/apilivesync/internal/cli/offline"
)

func main() {
	// No signal handling here: these commands have nothing to clean up,
	// and Ctrl-C's default (exit) is what they need. Installing a handler
	// cost 0.4 ms of a 7 ms diff.
	handled, err := offline.Run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)
	if !handled {
		err = handOver(os.Args[1:])
	}
	offline.Exit(err)
}
