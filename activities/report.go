package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/apilivesync/apilivesync/internal/registry"
	"github.com/apilivesync/apilivesync/internal/source"
	"github.com/apilivesync/apilivesync/internal/store"
)

// SyncReport is what a job tells the engine when it starts and ends.
type SyncReport struct {
	JobID      string `json:"jobId"`
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId,omitempty"`
	Status     string `json:"status"`
	NoChange   bool   `json:"noChange,omitempty"`
	Error      string `json:"error,omitempty"`
	DurationMs int64  `json:"durationMs"`
	Version    int    `json:"version,omitempty"`
	Changes    int    `json:"changes,omitempty"`
}

// ReportInput is one report of a job: at its start (Finished false) or end.
type ReportInput struct {
	Report   SyncReport `json:"report"`
	Finished bool       `json:"finished,omitempty"`
	// Source, given at the start of a job started directly with a refresh
	// interval, is registered with the engine, which schedules it.
	Source *source.Source `json:"source,omitempty"`
	// TellEngine sends the report to the engine (starting it when needed).
	TellEngine bool `json:"tellEngine,omitempty"`
}

// ReportSync records a job's start or outcome on its source's registry
// record (pausing the schedule after too many failures in a row, resuming
// it after a success), then tells the engine, starting it when it is not
// running: every sync counts, however it was started.
func (a *EngineActivities) ReportSync(ctx context.Context, in ReportInput) error {
	if a.Registry != nil {
		if err := a.recordReport(ctx, in); err != nil {
			return err
		}
	}
	if a.Engine.ID == "" {
		return nil
	}
	if in.Source != nil && in.Source.RefreshInterval > 0 {
		if err := a.registerDirectStart(ctx, *in.Source); err != nil {
			return err
		}
	}
	if !in.TellEngine {
		return nil
	}
	// An update, not a signal: a flood of reports cannot keep the engine
	// from continuing as new (an update that meets the handover is retried
	// on the next run), and the report's ID makes a retry of this activity
	// count once.
	phase := "started"
	if in.Finished {
		phase = "finished"
	}
	err := a.updateEngine(ctx, a.Engine.ReportUpdate, fmt.Sprintf("report/%s/%s/%s", in.Report.WorkflowID, in.Report.RunID, phase),
		reportArg{Report: in.Report, Finished: in.Finished})
	if err != nil {
		return fmt.Errorf("report %s of %s to the engine: %w", phase, in.Report.JobID, err)
	}
	return nil
}

// updateEngine sends the engine an update and waits for its result,
// starting the engine when it is not running.
func (a *EngineActivities) updateEngine(ctx context.Context, name, updateID string, arg any) error {
	op := a.Client.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID: a.Engine.ID, TaskQueue: a.Engine.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	}, a.Engine.Workflow, struct{}{})
	h, err := a.Client.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: op,
		UpdateOptions: client.UpdateWorkflowOptions{
			UpdateID: updateID, WorkflowID: a.Engine.ID, UpdateName: name, Args: []any{arg},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	if err == nil {
		err = h.Get(ctx, nil)
	}
	return err
}

// reportArg is the engine's ReportArg (same JSON).
type reportArg struct {
	Report   SyncReport `json:"report"`
	Finished bool       `json:"finished,omitempty"`
}

func (a *EngineActivities) recordReport(ctx context.Context, in ReportInput) error {
	r := in.Report
	j, err := a.Registry.Get(ctx, r.JobID)
	if errors.Is(err, registry.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !in.Finished {
		if r.RunID != "" && r.RunID == j.LastRunID {
			return nil // a retried start report of a run that already finished
		}
		j.Running, j.LastWorkflowID, j.Held = true, r.WorkflowID, ""
		return a.Registry.Put(ctx, j)
	}
	if r.RunID != "" && r.RunID == j.LastRunID && !j.Running {
		return nil // recorded already (a retry of this activity)
	}
	now := time.Now().UTC()
	j.Running, j.LastStatus, j.LastWorkflowID, j.LastRunID = false, r.Status, r.WorkflowID, r.RunID
	if r.Status == "stopped" {
		return a.Registry.Put(ctx, j) // neither a success nor a failure of the source
	}
	j.LastError, j.LastSyncTime, j.LastDurationMs, j.LastChanges = r.Error, &now, r.DurationMs, r.Changes
	if r.Version > 0 {
		j.LastVersion = r.Version
	}
	var cfg EngineSettings
	if err := a.Registry.Config(ctx, &cfg); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if cfg.FailureThreshold <= 0 {
		cfg.FailureThreshold = 5
	}
	if r.Status != "failed" {
		j.ConsecutiveFailures = 0
		if j.PausedReason != "" && !j.Paused && !cfg.Schedule.EnginePaused {
			j.PausedReason = ""
			if err := a.PauseSchedule(ctx, PauseScheduleInput{SourceID: j.ID, Pause: false, Note: "resumed after a successful sync"}); err != nil {
				return err
			}
		}
		return a.Registry.Put(ctx, j)
	}
	j.ConsecutiveFailures++
	if j.ConsecutiveFailures >= cfg.FailureThreshold && j.PausedReason == "" && j.Scheduled {
		j.PausedReason = fmt.Sprintf("paused after %d consecutive failures; last: %s", j.ConsecutiveFailures, r.Error)
		if err := a.PauseSchedule(ctx, PauseScheduleInput{SourceID: j.ID, Pause: true, Note: j.PausedReason}); err != nil {
			return err
		}
	}
	return a.Registry.Put(ctx, j)
}

// registerDirectStart has the engine register (and schedule) a source a
// job was started with directly, with a refresh interval, unless it is
// registered already.
func (a *EngineActivities) registerDirectStart(ctx context.Context, s source.Source) error {
	if a.Registry != nil {
		if _, err := a.Registry.Get(ctx, s.ID); err == nil {
			return nil
		}
	}
	err := a.updateEngine(ctx, a.Engine.AddSourceUpdate, "", s)
	if err != nil && a.Registry != nil {
		if _, gerr := a.Registry.Get(ctx, s.ID); gerr == nil {
			return nil // registered meanwhile (a retry, or a concurrent start)
		}
	}
	if err != nil {
		return fmt.Errorf("schedule source %q every %s: %w", s.ID, s.RefreshInterval.Std(), err)
	}
	return nil
}
