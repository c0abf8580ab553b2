package syncjob

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/apilivesync/apilivesync/activities"
)

// reporter tells the engine when the job starts and ends. Every job
// reports, however it was started: the ReportSync activity records the
// outcome on the source's registry record and sends the engine a
// reportSync update, starting it when it is not running. A job started
// directly with a refresh interval has the engine register and schedule
// its source.
type reporter struct {
	// version is the "report-sync" change: before it, only jobs with
	// ReportTo reported, by signal.
	version workflow.Version
	started workflow.Future
}

func (j *syncJob) report(ctx workflow.Context, res *SyncJobResult) {
	info := workflow.GetInfo(ctx).WorkflowExecution
	r := SyncReport{JobID: res.ID, WorkflowID: info.ID, RunID: info.RunID, Status: res.Status, NoChange: res.NoChange,
		Error: res.Error, DurationMs: res.DurationMs, Version: res.Version, Changes: res.Changes}
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	if j.reports.version >= 1 {
		if j.reports.started != nil {
			_ = j.reports.started.Get(ctx, nil) // the start is recorded before the end
		}
		var ea *activities.EngineActivities
		in := activities.ReportInput{Report: r, Finished: true, TellEngine: true}
		var err error
		// Added after the first recorded histories: gated. The end report
		// runs in this workflow task, not as a task of its own: a sync
		// saves a round trip (19 of a no-change sync's 59 ms). The engine
		// has its own task queue, so the slot this task holds meanwhile is
		// never one the engine waits for.
		if workflow.GetVersion(ctx, "report-local", workflow.DefaultVersion, 1) >= 1 {
			err = workflow.ExecuteLocalActivity(reportLocalCtx(ctx), ea.ReportSync, in).Get(ctx, nil)
		} else {
			err = workflow.ExecuteActivity(reportCtx(ctx), ea.ReportSync, in).Get(ctx, nil)
		}
		if err != nil {
			workflow.GetLogger(ctx).Warn("could not report to the engine", "error", err.Error())
		}
		return
	}
	if j.in.ReportTo == "" {
		return
	}
	if err := workflow.SignalExternalWorkflow(ctx, j.in.ReportTo, "", SignalSyncFinished, r).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("could not report to the engine", "engine", j.in.ReportTo, "error", err.Error())
	}
}

func (j *syncJob) reportStarted(ctx workflow.Context) {
	info := workflow.GetInfo(ctx).WorkflowExecution
	r := SyncReport{JobID: j.in.ID, WorkflowID: info.ID, RunID: info.RunID, Status: StatusRunning}
	// Added after the first recorded histories: gated so they replay as they ran.
	j.reports.version = workflow.GetVersion(ctx, "report-sync", workflow.DefaultVersion, 1)
	if j.reports.version < 1 {
		if j.in.ReportTo != "" {
			// Fire and forget: the engine only counts running jobs with it.
			workflow.SignalExternalWorkflow(ctx, j.in.ReportTo, "", SignalSyncStarted, r)
		}
		return
	}
	// A job the engine started is running in the engine's eyes already:
	// its start is recorded on its registry record only, which halves the
	// updates the engine takes (the server admits 10 in flight at once).
	in := activities.ReportInput{Report: r, TellEngine: j.in.ReportTo == ""}
	if j.in.Source.RefreshInterval > 0 && j.in.Trigger != TriggerEngine && j.in.Trigger != TriggerSchedule {
		s := j.in.Source
		in.Source = &s
	}
	var ea *activities.EngineActivities
	j.reports.started = workflow.ExecuteActivity(reportCtx(ctx), ea.ReportSync, in)
}

func reportCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, ActivityOptions(PolicyEngine))
}

// reportLocalCtx runs the end report as a local activity under the engine
// policy's timeout and attempts.
func reportLocalCtx(ctx workflow.Context) workflow.Context {
	o := ActivityOptions(PolicyEngine)
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		ScheduleToCloseTimeout: o.StartToCloseTimeout * time.Duration(max(o.RetryPolicy.MaximumAttempts, 1)),
		StartToCloseTimeout:    o.StartToCloseTimeout,
		RetryPolicy:            o.RetryPolicy,
	})
}
