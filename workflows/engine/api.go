// Package engine is the SyncEngine: one long-lived workflow per namespace
// that keeps the registry of sources, owns their schedules, runs sync-all
// with bounded concurrency and keeps the metrics. It runs each sync as a
// sync job (package syncjob), whose contract it uses; the job knows nothing
// of the engine.
//
// This file is the engine's public contract: workflow types and IDs, every
// update, query and signal name, the input, state and result types, and the
// client helpers that start and message the engine.
package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/apilivesync/apilivesync/activities"
	"github.com/apilivesync/apilivesync/internal/registry"
	"github.com/apilivesync/apilivesync/internal/source"
	"github.com/apilivesync/apilivesync/workflows/syncjob"
)

// The SyncEngine: one long-lived workflow per namespace that keeps the
// registry of sources, their schedules, and the metrics.
const (
	EngineWorkflowName = "SyncEngineWorkflow"
	// EngineWorkflowID is the engine's fixed workflow ID.
	EngineWorkflowID = "livesync-engine"
	// TaskQueue is the engine's own task queue, which every worker also
	// polls (app.NewWorkers): its workflow tasks never wait for a slot that
	// a sync job holds, so a job may report to it from a local activity.
	// Engine runs started before it existed continue on syncjob.TaskQueue
	// until their next continue-as-new.
	TaskQueue = "api-live-sync-engine"

	UpdateAddSource     = "addSource"     // source.Source
	UpdateAddSyncJob    = "addSyncJob"    // syncjob.SyncJobInput
	UpdateUpdateSource  = "updateSource"  // source.Source
	UpdateRemoveSyncJob = "removeSyncJob" // RemoveInput
	UpdateUpdateConfig  = "updateConfig"  // EngineConfig
	UpdateApplyConfig   = "applyConfig"   // ApplyInput: reconcile to a declared set
	UpdateStartSync     = "startSync"     // SelectInput: queue syncs now
	UpdateStopSync      = "stopSync"      // SelectInput
	UpdatePauseSync     = "pauseSync"     // SelectInput: empty pauses the engine
	UpdateResumeSync    = "resumeSync"    // SelectInput
	// UpdateReportSync is how a sync job reports its start and end
	// (activities.ReportInput's report, with finished). Unlike the older
	// syncStarted/syncFinished signals, which are still counted, a flood
	// of reports cannot keep the engine from continuing as new: an update
	// that arrives while a run hands over is retried on the next run.
	UpdateReportSync = "reportSync" // ReportArg

	QueryGetSyncStatus = "getSyncStatus"
	QueryGetConfig     = "getConfig"
	QueryMetrics       = "metrics"

	// SignalSyncDue is sent by SyncDueWorkflow when a source's schedule fires.
	SignalSyncDue = "syncDue"

	// SyncDueWorkflowName is what a source's Temporal Schedule starts: it
	// hands the due sync to the engine, which batches the syncs that fall due
	// together and runs each as sync/<source>, so a scheduled sync never runs
	// beside a manual one.
	SyncDueWorkflowName = "SyncDueWorkflow"
	// DueWorkflowIDPrefix starts the IDs of the schedules' runs: due/<source>-<time>.
	DueWorkflowIDPrefix = "due/"
	// DefaultBatchWindow is how long the engine gathers syncs that fall due together.
	DefaultBatchWindow = 2 * time.Second
)

// DueInput names the source whose schedule fired.
type DueInput struct {
	SourceID string `json:"sourceId"`
	Engine   string `json:"engine,omitempty"`
}

// EngineConfig is the engine-wide configuration.
type EngineConfig struct {
	// MaxConcurrent bounds the syncs the engine runs at once for startSync.
	MaxConcurrent int `json:"maxConcurrent" yaml:"maxConcurrent"`
	// FailureThreshold consecutive failures pause a source's schedule.
	FailureThreshold int `json:"failureThreshold" yaml:"failureThreshold"`
	// Jitter spreads scheduled runs; 0 means 10% of the interval, at most 1m.
	Jitter source.Duration `json:"jitter,omitempty" yaml:"jitter,omitempty"`
	// Paused pauses every schedule and holds queued syncs.
	Paused bool `json:"paused" yaml:"paused"`
	// ContinueAsNewAfter bounds the events one run of the engine handles.
	ContinueAsNewAfter int `json:"continueAsNewAfter,omitempty" yaml:"continueAsNewAfter,omitempty"`
	// BatchWindow is how long syncs that fall due are gathered into one
	// batch before they run (default 2s).
	BatchWindow source.Duration `json:"batchWindow,omitempty" yaml:"batchWindow,omitempty"`
}

func (c *EngineConfig) defaults() {
	if c.MaxConcurrent <= 0 {
		c.MaxConcurrent = 10
	}
	if c.FailureThreshold <= 0 {
		c.FailureThreshold = 5
	}
	if c.ContinueAsNewAfter <= 0 {
		c.ContinueAsNewAfter = 500
	}
	if c.BatchWindow <= 0 {
		c.BatchWindow = source.Duration(DefaultBatchWindow)
	}
}

func (c EngineConfig) validate() error {
	var errs []error
	if c.MaxConcurrent < 0 || c.MaxConcurrent > 1000 {
		errs = append(errs, fmt.Errorf("maxConcurrent %d: want 1 to 1000", c.MaxConcurrent))
	}
	if c.FailureThreshold < 0 || c.FailureThreshold > 1000 {
		errs = append(errs, fmt.Errorf("failureThreshold %d: want 1 to 1000", c.FailureThreshold))
	}
	if c.Jitter < 0 {
		errs = append(errs, errors.New("jitter must not be negative"))
	}
	return errors.Join(errs...)
}

// JobInfo is one registered source and what the engine knows of its
// syncs: a record of the registry, which lives in the store (see
// docs/ARCHITECTURE.md).
type JobInfo = registry.Job

// SyncEngineMetrics is what the metrics query returns.
type SyncEngineMetrics struct {
	TotalSyncs      int64 `json:"totalSyncs"`
	SuccessfulSyncs int64 `json:"successfulSyncs"`
	FailedSyncs     int64 `json:"failedSyncs"`
	// AverageSyncTime is in milliseconds.
	AverageSyncTime float64    `json:"averageSyncTime"`
	ActiveJobs      int        `json:"activeJobs"`
	QueueLength     int        `json:"queueLength"`
	LastSyncTime    *time.Time `json:"lastSyncTime"`
	// Uptime is in milliseconds, since the engine first started, by the
	// workflow's clock (the time of its last event; `starter metrics`
	// measures it against the wall clock from StartedAt).
	Uptime            int64     `json:"uptime"`
	StartedAt         time.Time `json:"startedAt"`
	RegisteredSources int       `json:"registeredSources"`
	NoChangeSyncs     int64     `json:"noChangeSyncs"`
	// Paused is true while the whole engine is paused (engine pause).
	Paused bool `json:"paused"`
}

// EngineState is what the engine carries across continue-as-new: O(1) in
// the number of sources. The registry itself (sources, their state, the
// queue of due syncs) lives in the store.
type EngineState struct {
	Config    EngineConfig      `json:"config"`
	Metrics   SyncEngineMetrics `json:"metrics"`
	TotalMs   int64             `json:"totalMs"`
	StartedAt time.Time         `json:"startedAt"`
	// Registered counts the registered sources; Queued, the syncs in the
	// registry's queue.
	Registered int `json:"registered"`
	Queued     int `json:"queued"`
	// Active are the syncs running now, by job: bounded by how many run at
	// once, not by the number of sources.
	Active map[string]ActiveSync `json:"active,omitempty"`
	// Waiting are syncs taken off the queue that wait for a dependency.
	Waiting []activities.DispatchItem `json:"waiting,omitempty"`
	// Due are sources whose schedule fired, not yet queued (at most one batch).
	Due []string `json:"due,omitempty"`
	// Seq orders queue entries.
	Seq int64 `json:"seq,omitempty"`
	// Recent are hashes of the last report IDs counted, so a report
	// retried across continue-as-new counts once.
	Recent []uint32 `json:"recent,omitempty"`

	// Jobs and Queue are the registry as engines before the store registry
	// carried it; a run that receives them moves them into the store.
	Jobs  map[string]*JobInfo `json:"jobs,omitempty"`
	Queue []string            `json:"queue,omitempty"`
}

// ActiveSync is a running sync.
type ActiveSync struct {
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId,omitempty"`
	// Engine is true for a sync the engine started (it counts against maxConcurrent).
	Engine bool `json:"engine,omitempty"`
}

// EngineInput starts the engine (or continues it).
type EngineInput struct {
	Config  EngineConfig    `json:"config"`
	Sources []source.Source `json:"sources,omitempty"`
	State   *EngineState    `json:"state,omitempty"`
}

// ReportArg is one report: a job started (Finished false) or ended.
type ReportArg struct {
	Report   syncjob.SyncReport `json:"report"`
	Finished bool               `json:"finished,omitempty"`
}

// RemoveInput names jobs to remove.
type RemoveInput struct {
	IDs []string `json:"ids"`
}

// SelectInput picks jobs: by ID, by API, or all when both are empty.
type SelectInput struct {
	IDs []string `json:"ids,omitempty"`
	API string   `json:"api,omitempty"`
}

// ApplyInput is a declared set of sources and engine config to reconcile to.
//
// A large set is applied in chunks: every chunk carries the same
// Generation and all but the last set More; the last one removes the
// sources no chunk declared (unless Keep). Re-sending a chunk changes
// nothing, so an apply interrupted by a crash is resumed by running it
// again.
type ApplyInput struct {
	Config  *EngineConfig   `json:"config,omitempty"`
	Sources []source.Source `json:"sources"`
	// Keep leaves registered sources that are not declared (default: remove them).
	Keep bool `json:"keep,omitempty"`
	// Generation names one apply across its chunks (default: one chunk).
	Generation string `json:"generation,omitempty"`
	// More says further chunks of this generation follow.
	More bool `json:"more,omitempty"`
}

// ApplyResult says what apply changed. Removed lists at most 1,000 IDs;
// RemovedCount counts them all.
type ApplyResult struct {
	Added        []string `json:"added"`
	Updated      []string `json:"updated"`
	Removed      []string `json:"removed"`
	Unchanged    []string `json:"unchanged"`
	RemovedCount int      `json:"removedCount,omitempty"`
	// Registered is the number of sources registered after the apply.
	Registered int `json:"registered"`
}

// SelectResult says which jobs a startSync, stopSync, pauseSync or
// resumeSync reached: at most 1,000 IDs, and Count of them all.
type SelectResult struct {
	IDs   []string `json:"ids"`
	Count int      `json:"count,omitempty"`
	// Skipped says why a selected source was left out (paused, disabled).
	Skipped map[string]string `json:"skipped,omitempty"`
}

// StartOptions start the engine if it is not running.
func StartOptions() client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID: EngineWorkflowID, TaskQueue: TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	}
}

// Update sends an update to the engine, starting it first if needed, and
// waits for its result.
func Update(ctx context.Context, c client.Client, name string, arg, result any) error {
	op := c.NewWithStartWorkflowOperation(StartOptions(), EngineWorkflowName, EngineInput{})
	h, err := c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: op,
		UpdateOptions: client.UpdateWorkflowOptions{
			WorkflowID: EngineWorkflowID, UpdateName: name, Args: []any{arg},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	if err != nil {
		return fmt.Errorf("engine %s: %w", name, err)
	}
	if err := h.Get(ctx, result); err != nil {
		return fmt.Errorf("engine %s: %w", name, err)
	}
	return nil
}

// Query asks the running engine a query.
func Query(ctx context.Context, c client.Client, query string, out any) error {
	v, err := c.QueryWorkflow(ctx, EngineWorkflowID, "", query)
	if err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return fmt.Errorf("the engine is not running: start it with `starter apply -f FILE` (or `worker -dev -config FILE`)")
		}
		return fmt.Errorf("query engine %s: %w", query, err)
	}
	return v.Get(out)
}

// Ref names the engine and the messages a sync job reports with, for the
// activity that reports every job to the engine and starts it on demand.
func Ref() activities.EngineRef {
	return activities.EngineRef{
		ID: EngineWorkflowID, Workflow: EngineWorkflowName, TaskQueue: TaskQueue,
		StartedSignal: syncjob.SignalSyncStarted, FinishedSignal: syncjob.SignalSyncFinished,
		AddSourceUpdate: UpdateAddSource, ReportUpdate: UpdateReportSync,
	}
}
