// Command bareclient is the floor a `starter sync --wait --json` process is
// measured against (go run ./bench -scenario process): a minimal Go client
// that dials Temporal, starts the bench's bare two-activity workflow on the
// api-live-sync task queue and waits for it.
//
//	bareclient -address HOST:PORT -namespace NS -id ID
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"go.temporal.io/sdk/client"
)

func main() {
	address := flag.String("address", client.DefaultHostPort, "Temporal frontend")
	namespace := flag.String("namespace", "default", "Temporal namespace")
	id := flag.String("id", "bare", "workflow ID")
	flag.Parse()
	c, err := client.Dial(client.Options{HostPort: *address, Namespace: *namespace})
	if err != nil {
		fmt.Fprintln(os.Stderr, "bareclient:", err)
		os.Exit(1)
	}
	defer c.Close()
	run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: *id, TaskQueue: "api-live-sync"}, "BenchBaselineWorkflow", *id)
	if err == nil {
		var out string
		err = run.Get(context.Background(), &out)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bareclient:", err)
		os.Exit(1)
	}
	fmt.Println(`{"status":"completed"}`)
}
