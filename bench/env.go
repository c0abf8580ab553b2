package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"

	"github.com/apilivesync/apilivesync/internal/app"
	"github.com/apilivesync/apilivesync/internal/devserver"
	"github.com/apilivesync/apilivesync/internal/fetch"
	"github.com/apilivesync/apilivesync/internal/resolve"
	"github.com/apilivesync/apilivesync/internal/store"
	"github.com/apilivesync/apilivesync/workflows/syncjob"
)

// benchEnv is one embedded Temporal server (SQLite in a temp dir), a client,
// a file store, the product's workers (the api-live-sync task queue, with
// the real activities and the baseline workflow, and the engine's queue),
// and a loopback spec server.
type benchEnv struct {
	dir     string
	server  *devserver.Server
	client  client.Client
	store   *store.Store
	stop    func() // the workers
	specs   *specServer
	started time.Duration
}

const maxSpecBytes = 20 << 20

// startEnv starts everything in a new temporary directory under parent
// ("" is the system's temp dir); dyn overrides the server's dynamic config
// key by key (nil: the dev server's defaults).
func startEnv(ctx context.Context, parent string, dyn map[string]any) (*benchEnv, error) {
	e := &benchEnv{}
	dir, err := os.MkdirTemp(parent, "livesync-bench-")
	if err != nil {
		return nil, fmt.Errorf("bench: temp dir: %w", err)
	}
	e.dir = dir
	t0 := time.Now()
	e.server, err = devserver.Start(ctx, devserver.Options{
		DataDir: filepath.Join(dir, "temporal"), UIPort: devserver.NoUI, SearchAttributes: syncjob.SearchAttributes(),
		DynamicConfig: dyn,
	})
	if err != nil {
		e.close()
		return nil, fmt.Errorf("bench: start embedded Temporal server: %w", err)
	}
	e.started = time.Since(t0)
	e.client, err = client.Dial(client.Options{HostPort: e.server.FrontendHostPort(), Namespace: e.server.Namespace(), Logger: quiet{}})
	if err != nil {
		e.close()
		return nil, fmt.Errorf("bench: dial %s: %w", e.server.FrontendHostPort(), err)
	}
	storeURL, err := store.DirURL(filepath.Join(dir, "store"))
	if err != nil {
		e.close()
		return nil, err
	}
	e.store, err = store.Open(ctx, storeURL)
	if err != nil {
		e.close()
		return nil, fmt.Errorf("bench: open store %s: %w", storeURL, err)
	}
	// The worker the product runs (app.RunWorker): default worker options,
	// the real activities; only the SSRF guard allows loopback, as -dev does.
	acts := app.NewActivities(e.store, fetch.Options{MaxBytes: maxSpecBytes, Guard: fetch.GuardOptions{AllowLoopback: true}, SourceRoots: []string{os.TempDir()}}, resolve.AIConfig{}, zap.NewNop())
	ws := app.NewWorkers(e.client, acts, app.WithHeartbeats(worker.Options{}))
	// The baseline shares the jobs' task queue and its pollers and slots.
	ws[0].RegisterWorkflowWithOptions(BaselineWorkflow, workflow.RegisterOptions{Name: BaselineWorkflowName})
	ws[0].RegisterActivityWithOptions(BenchNoopA, activity.RegisterOptions{Name: "BenchNoopA"})
	ws[0].RegisterActivityWithOptions(BenchNoopB, activity.RegisterOptions{Name: "BenchNoopB"})
	if e.stop, err = app.StartWorkers(ws); err != nil {
		e.close()
		return nil, fmt.Errorf("bench: start worker on %s: %w", syncjob.TaskQueue, err)
	}
	e.specs = newSpecServer()
	return e, nil
}

func (e *benchEnv) close() {
	if e.specs != nil {
		e.specs.close()
	}
	if e.stop != nil {
		e.stop()
	}
	if e.store != nil {
		_ = e.store.Close()
	}
	if e.client != nil {
		e.client.Close()
	}
	if e.server != nil {
		_ = e.server.Stop()
	}
	if e.dir != "" {
		_ = os.RemoveAll(e.dir)
	}
}

// runBaseline runs one baseline workflow end to end (start + result).
func (e *benchEnv) runBaseline(ctx context.Context, id string) error {
	run, err := e.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: syncjob.TaskQueue},
		BaselineWorkflowName, id)
	if err != nil {
		return fmt.Errorf("start baseline %s: %w", id, err)
	}
	var out string
	if err := run.Get(ctx, &out); err != nil {
		return fmt.Errorf("baseline %s: %w", id, err)
	}
	return nil
}

type quiet struct{}

func (quiet) Debug(string, ...any) {}
func (quiet) Info(string, ...any)  {}
func (quiet) Warn(string, ...any)  {}
func (quiet) Error(string, ...any) {}
