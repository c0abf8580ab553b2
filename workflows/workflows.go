// Package workflows is API Live Sync's workflow code, one package per
// Temporal domain, each with an api.go that is its public contract:
//
//   - syncjob: SyncJobWorkflow, one sync of one source (sync/<source>),
//     its messages, its status, and the table of every step's timeout,
//     heartbeat and retry policy (syncjob/steps.go).
//   - engine: SyncEngineWorkflow (livesync-engine), the registry of
//     sources, their schedules and metrics, and SyncDueWorkflow, what a
//     source's schedule starts. The engine uses the sync job's contract,
//     never the reverse.
//
// Register installs them all on a worker.
package workflows

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/apilivesync/apilivesync/workflows/engine"
	"github.com/apilivesync/apilivesync/workflows/syncjob"
)

// Register registers every API Live Sync workflow under its contract name.
func Register(w worker.WorkflowRegistry) {
	w.RegisterWorkflowWithOptions(syncjob.SyncJobWorkflow, workflow.RegisterOptions{Name: syncjob.SyncJobWorkflowName})
	w.RegisterWorkflowWithOptions(engine.SyncEngineWorkflow, workflow.RegisterOptions{Name: engine.EngineWorkflowName})
	w.RegisterWorkflowWithOptions(engine.SyncDueWorkflow, workflow.RegisterOptions{Name: engine.SyncDueWorkflowName})
}
