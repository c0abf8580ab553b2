package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/apilivesync/apilivesync/internal/cli"
	lsconfig "github.com/apilivesync/apilivesync/internal/config"
	"github.com/apilivesync/apilivesync/internal/source"
	"github.com/apilivesync/apilivesync/workflows/engine"
	"github.com/apilivesync/apilivesync/workflows/syncjob"
)

// registryResult is the JSON line -scenario registry -json prints last.
type registryResult struct {
	Sources          int     `json:"sources"`
	Reports          int     `json:"reports"`
	TotalSyncs       int64   `json:"totalSyncs"`
	Runs             int     `json:"runs"`
	MaxRunEvents     int     `json:"maxRunEvents"`
	MaxRunBytes      int     `json:"maxRunBytes"`
	MaxCanInputBytes int     `json:"maxCanInputBytes"`
	ApplySeconds     float64 `json:"applySeconds"`
	ReportsPerSecond float64 `json:"reportsPerSecond"`
	RegisteredAfter  int     `json:"registeredSources"`
	PeakRSSBytes     int64   `json:"peakRssBytes"`
	FailedWFTasks    int     `json:"failedWorkflowTasks"`
}

// scenarioRegistry registers N sources with a chunked apply (as `starter
// apply -f` does), sends M syncFinished reports as fast as the server takes
// them, waits until every one is counted, and measures the engine's runs.
// The sources are disabled, so registering them queues no sync: this
// measures the registry and the engine's bookkeeping, not syncs.
func scenarioRegistry(ctx context.Context, e *benchEnv, cfg config) (*table, error) {
	n, m := cfg.sources, cfg.reports
	t0, err := e.freshEngine(ctx)
	if err != nil {
		return nil, err
	}
	off := false
	c := &lsconfig.Config{Sources: make([]source.Source, n)}
	for i := range c.Sources {
		id := fmt.Sprintf("reg-%06d", i)
		c.Sources[i] = source.Source{ID: id, URL: e.specs.srv.URL + "/reg/" + id + ".yaml", Enabled: &off}
	}
	sampler := sampleRSS(250 * time.Millisecond)
	applyStart := time.Now()
	applied, err := cli.ApplyConfig(ctx, e.client, c, false, nil)
	if err != nil {
		sampler.finish()
		return nil, err
	}
	applyTime := time.Since(applyStart)
	if applied.Registered != n {
		sampler.finish()
		return nil, fmt.Errorf("apply of %d sources: %d registered", n, applied.Registered)
	}
	// Reports go as the product's jobs send them: a reportSync update
	// (the server admits 10 in flight per workflow; more wait and retry).
	inflight := min(cfg.signalInflight, 10)
	wall, _, err := parallel(ctx, m, inflight, func(ctx context.Context, i int) (time.Duration, error) {
		id := c.Sources[i%n].ID
		r := syncjob.SyncReport{JobID: id, WorkflowID: syncjob.SyncWorkflowID(id), RunID: fmt.Sprintf("bench-%d", i), Status: syncjob.StatusCompleted, NoChange: true, DurationMs: int64(40 + i%20)}
		t := time.Now()
		h, err := e.client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			UpdateID: fmt.Sprintf("bench-report-%d", i), WorkflowID: engine.EngineWorkflowID, UpdateName: engine.UpdateReportSync,
			Args: []any{engine.ReportArg{Report: r, Finished: true}}, WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err == nil {
			err = h.Get(ctx, nil)
		}
		if err != nil {
			return 0, fmt.Errorf("report %d (%s update): %w", i, engine.UpdateReportSync, err)
		}
		return time.Since(t), nil
	})
	if err != nil {
		sampler.finish()
		return nil, err
	}
	met, err := e.waitSyncs(ctx, int64(m), 2*time.Minute)
	peak := sampler.finish()
	if err != nil {
		if h, herr := e.engineHistory(ctx, t0); herr == nil {
			err = fmt.Errorf("%w; %s; events by type: %v", err, h.summary(), h.types)
		}
		return nil, err
	}
	time.Sleep(time.Second)
	if met, err = e.engineMetrics(ctx); err != nil {
		return nil, err
	}
	h, err := e.engineHistory(ctx, t0)
	if err != nil {
		return nil, err
	}
	res := registryResult{Sources: n, Reports: m, TotalSyncs: met.TotalSyncs, Runs: len(h.runs),
		MaxRunEvents: h.largest.events, MaxRunBytes: h.largest.bytes, MaxCanInputBytes: h.maxFirst,
		ApplySeconds: applyTime.Seconds(), ReportsPerSecond: float64(m) / wall.Seconds(), RegisteredAfter: met.RegisteredSources,
		PeakRSSBytes: peak}
	for _, r := range h.runs {
		res.FailedWFTasks += r.wftFailed
		res.MaxRunEvents = max(res.MaxRunEvents, r.events)
		res.MaxRunBytes = max(res.MaxRunBytes, r.bytes)
	}
	t := &table{
		title: fmt.Sprintf("registry: %d sources applied in chunks of %d, %d reports (reportSync updates)", n, cli.ApplyChunk, m),
		head:  []string{"measure", "value"},
	}
	t.add("apply time (chunked applyConfig updates)", secs(applyTime)+" s")
	t.add("reports sent / per s", fmt.Sprintf("%d / %.0f", m, res.ReportsPerSecond))
	t.add("totalSyncs (want "+fmt.Sprint(m)+")", fmt.Sprint(met.TotalSyncs))
	t.add("registeredSources", fmt.Sprint(met.RegisteredSources))
	t.add("engine runs", fmt.Sprint(len(h.runs)))
	t.add("largest run: events / bytes", fmt.Sprintf("%d / %d", res.MaxRunEvents, res.MaxRunBytes))
	t.add("largest continue-as-new input (first event of a run), bytes", fmt.Sprint(res.MaxCanInputBytes))
	t.add("failed workflow tasks", fmt.Sprint(res.FailedWFTasks))
	t.add("peak RSS of the bench process (server + worker + client in one process)", mib(peak))
	t.notes = append(t.notes, "sources are disabled (registering queues no sync); reports are reportSync updates to the engine (what a sync job's ReportSync activity sends), "+fmt.Sprint(inflight)+" in flight", h.summary())
	t.notes = append(t.notes, fmt.Sprintf("events by type over all runs: %v", h.types))
	b, _ := json.Marshal(res)
	t.json = string(b)
	if met.TotalSyncs != int64(m) {
		return t, fmt.Errorf("registry: totalSyncs %d, want %d", met.TotalSyncs, m)
	}
	return t, nil
}

// scenarioSyncAll registers N enabled sources (each its own URL serving the
// example petstore with an ETag), optionally with a refresh interval so
// each gets a Temporal Schedule, waits for their first syncs (a new source
// syncs at once), then times one sync-all in which every sync finds no
// change (a 304).
func scenarioSyncAll(ctx context.Context, e *benchEnv, cfg config) (*table, error) {
	n := cfg.sources
	body, err := petstore()
	if err != nil {
		return nil, err
	}
	t0, err := e.freshEngine(ctx)
	if err != nil {
		return nil, err
	}
	c := &lsconfig.Config{Sources: make([]source.Source, n)}
	c.Engine.MaxConcurrent = cfg.concurrency
	for i := range c.Sources {
		id := fmt.Sprintf("sa-%06d", i)
		c.Sources[i] = source.Source{ID: id, URL: e.specs.set("/sa/"+id+".yaml", body), RefreshInterval: source.Duration(cfg.refresh)}
	}
	before, _ := e.engineMetrics(ctx)
	sampler := sampleRSS(250 * time.Millisecond)
	applyStart := time.Now()
	if _, err := cli.ApplyConfig(ctx, e.client, c, false, nil); err != nil {
		sampler.finish()
		return nil, err
	}
	applyTime := time.Since(applyStart)
	if _, err := e.waitSyncs(ctx, before.TotalSyncs+int64(n), 3*time.Minute); err != nil {
		sampler.finish()
		return nil, fmt.Errorf("first syncs: %w", err)
	}
	firstTime := time.Since(applyStart)
	m0, err := e.engineMetrics(ctx)
	if err != nil {
		sampler.finish()
		return nil, err
	}
	got304 := e.specs.got304.Load()
	start := time.Now()
	var res engine.SelectResult
	if err := engine.Update(ctx, e.client, engine.UpdateStartSync, engine.SelectInput{}, &res); err != nil {
		sampler.finish()
		return nil, err
	}
	m1, err := e.waitSyncs(ctx, m0.TotalSyncs+int64(n), 3*time.Minute)
	wall := time.Since(start)
	peak := sampler.finish()
	if err != nil {
		return nil, fmt.Errorf("sync-all: %w", err)
	}
	h, err := e.engineHistory(ctx, t0)
	if err != nil {
		return nil, err
	}
	t := &table{
		title: fmt.Sprintf("sync-all: %d sources, maxConcurrent %d, refreshInterval %s", n, cfg.concurrency, cfg.refresh),
		head:  []string{"measure", "value"},
	}
	t.add("apply (registry records + schedules), s", secs(applyTime))
	t.add("apply until every first sync finished, s", secs(firstTime))
	t.add("no-change sync-all: wall s / syncs per s", fmt.Sprintf("%s / %.1f", secs(wall), float64(n)/wall.Seconds()))
	t.add("syncs counted (totalSyncs delta) / no-change (noChangeSyncs delta) / 304s served", fmt.Sprintf("%d / %d / %d", m1.TotalSyncs-m0.TotalSyncs, m1.NoChangeSyncs-m0.NoChangeSyncs, e.specs.got304.Load()-got304))
	t.add("failed syncs", fmt.Sprint(m1.FailedSyncs-before.FailedSyncs))
	t.add("engine runs / largest run events / bytes / largest continue-as-new input", fmt.Sprintf("%d / %d / %d / %d", len(h.runs), h.largest.events, h.largest.bytes, h.maxFirst))
	t.add("peak RSS of the bench process (server + worker + client)", mib(peak))
	t.notes = append(t.notes, h.summary())
	return t, nil
}
