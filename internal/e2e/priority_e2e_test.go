package e2e_test

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"

	"github.com/apilivesync/apilivesync/internal/app"
	"github.com/apilivesync/apilivesync/internal/devserver"
	"github.com/apilivesync/apilivesync/internal/resolve"
	"github.com/apilivesync/apilivesync/internal/source"
	"github.com/apilivesync/apilivesync/internal/store"
	"github.com/apilivesync/apilivesync/workflows/syncjob"
)

// TestHighPriorityJobsRunFirstOnABusyWorker saturates a worker that runs one
// task at a time with a backlog of low-priority syncs, then adds
// high-priority ones: Temporal task priority lets the high ones finish first.
func TestHighPriorityJobsRunFirstOnABusyWorker(t *testing.T) {
	srv, err := devserver.Start(t.Context(), devserver.Options{DataDir: t.TempDir(), UIPort: devserver.NoUI})
	require.NoError(t, err)
	defer srv.Stop()
	c, err := client.Dial(client.Options{HostPort: srv.FrontendHostPort(), Logger: quiet{}})
	require.NoError(t, err)
	defer c.Close()
	st, err := store.Open(t.Context(), "mem://")
	require.NoError(t, err)
	specs := newSpecServer(t, petstore(t))

	// The backlog is queued before any worker polls.
	const low, high = 12, 4
	var runs []client.WorkflowRun
	prio := map[string]string{}
	start := func(id, p string) {
		in := fastRetries(0)
		in.Source = source.Source{ID: id, URL: specs.url(), Priority: p}
		run, err := c.ExecuteWorkflow(t.Context(), syncjob.StartOptions(in, false), syncjob.SyncJobWorkflowName, in)
		require.NoError(t, err)
		runs = append(runs, run)
		prio[id] = p
	}
	for i := range low {
		start(fmt.Sprintf("prio-low-%02d", i), syncjob.PriorityLow)
	}
	for i := range high {
		start(fmt.Sprintf("prio-high-%02d", i), syncjob.PriorityHigh)
	}

	acts := app.NewActivities(st, testFetchOptions(0), resolve.AIConfig{}, zap.NewNop())
	stop, err := app.StartWorkers(app.NewWorkers(c, acts, app.WithHeartbeats(worker.Options{
		MaxConcurrentActivityExecutionSize:     1,
		MaxConcurrentWorkflowTaskExecutionSize: 2,
		MaxConcurrentActivityTaskPollers:       2,
	})))
	require.NoError(t, err)
	defer stop()

	type done struct {
		id string
		at time.Time
	}
	var finished []done
	for _, run := range runs {
		var res syncjob.SyncJobResult
		require.NoError(t, run.Get(t.Context(), &res))
		d, err := c.DescribeWorkflowExecution(t.Context(), run.GetID(), run.GetRunID())
		require.NoError(t, err)
		finished = append(finished, done{id: res.ID, at: d.WorkflowExecutionInfo.CloseTime.AsTime()})
	}
	sort.Slice(finished, func(i, j int) bool { return finished[i].at.Before(finished[j].at) })
	var order []string
	lastHigh := 0
	for i, f := range finished {
		order = append(order, prio[f.id])
		if prio[f.id] == syncjob.PriorityHigh {
			lastHigh = i
		}
	}
	t.Logf("completion order: %v", order)
	// Every high-priority sync finishes before most of the earlier-queued low ones.
	require.Less(t, lastHigh, high+low/2, "high-priority syncs should overtake the low-priority backlog: %v", order)
}
