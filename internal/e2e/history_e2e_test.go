package e2e_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/apilivesync/apilivesync/workflows/engine"
	"github.com/apilivesync/apilivesync/workflows/syncjob"
)

// recordedPrefixes pick the end-to-end runs whose histories are kept in
// workflows/testdata/histories, where the replay test checks that workflow
// code changes stay deterministic. Refresh with UPDATE_HISTORIES=1 go test ./internal/e2e/.
var recordedPrefixes = []string{
	syncjob.SyncWorkflowIDPrefix + "e2e-pets",
	syncjob.SyncWorkflowIDPrefix + "e2e-flaky",
	syncjob.SyncWorkflowIDPrefix + "e2e-bad-404",
	syncjob.SyncWorkflowIDPrefix + "e2e-bad-500-forever",
	syncjob.SyncWorkflowIDPrefix + "e2e-pause",
	syncjob.SyncWorkflowIDPrefix + "e2e-ppl-",
	syncjob.SyncWorkflowIDPrefix + "eng-",
	engine.EngineWorkflowID,
	engine.DueWorkflowIDPrefix + "eng-",
}

// recordHistories adds the histories of the selected runs as JSON, the
// format `temporal workflow show --output json` writes and the SDK's
// replayer reads.
func recordHistories(ctx context.Context) error {
	dir := filepath.Join("..", "..", "workflows", "testdata", "histories")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// Histories recorded before stay: old runs must keep replaying.
	var token []byte
	n := 0
	for {
		resp, err := env.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{NextPageToken: token})
		if err != nil {
			return err
		}
		for _, e := range resp.Executions {
			wid, rid := e.GetExecution().GetWorkflowId(), e.GetExecution().GetRunId()
			keep := false
			for _, p := range recordedPrefixes {
				keep = keep || strings.HasPrefix(wid, p)
			}
			if !keep {
				continue
			}
			var events []*historypb.HistoryEvent
			it := env.client.GetWorkflowHistory(ctx, wid, rid, false, 0)
			for it.HasNext() {
				ev, err := it.Next()
				if err != nil {
					return err
				}
				events = append(events, ev)
			}
			data, err := protojson.MarshalOptions{Indent: " "}.Marshal(&historypb.History{Events: events})
			if err != nil {
				return err
			}
			name := strings.NewReplacer("/", "_", ":", "_").Replace(wid) + "_" + rid + ".json"
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				return err
			}
			n++
		}
		token = resp.NextPageToken
		if len(token) == 0 {
			break
		}
	}
	fmt.Fprintf(os.Stderr, "recorded %d histories in %s\n", n, dir)
	return nil
}
