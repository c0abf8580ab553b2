package engine

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/apilivesync/apilivesync/activities"
	"github.com/apilivesync/apilivesync/internal/source"
	"github.com/apilivesync/apilivesync/workflows/syncjob"
)

// SyncDueWorkflow tells the engine that a source's sync is due.
func SyncDueWorkflow(ctx workflow.Context, in DueInput) error {
	engine := in.Engine
	if engine == "" {
		engine = EngineWorkflowID
	}
	return workflow.SignalExternalWorkflow(ctx, engine, "", SignalSyncDue, in).Get(ctx, nil)
}

type engine struct {
	st      *EngineState
	mu      workflow.Mutex
	events  int
	started map[string]bool
	// pending counts background goroutines (webhooks, schedule pauses, child
	// starts) that must finish before the engine continues as new.
	pending int
	// batchUntil is when the open batch of due syncs closes (zero: none open).
	batchUntil time.Time
}

// goBackground runs fn in a workflow goroutine the engine waits for before
// continuing as new.
func (e *engine) goBackground(ctx workflow.Context, fn func(workflow.Context)) {
	e.pending++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { e.pending-- }()
		fn(ctx)
	})
}

// SyncEngineWorkflow is the long-lived registry of sources: it owns their
// schedules, runs sync-all with bounded concurrency, pauses a source's
// schedule after repeated failures, and keeps the metrics.
func SyncEngineWorkflow(ctx workflow.Context, in EngineInput) error {
	e := &engine{st: in.State, mu: workflow.NewMutex(ctx), started: map[string]bool{}}
	if e.st == nil {
		in.Config.defaults()
		e.st = &EngineState{Config: in.Config, Jobs: map[string]*JobInfo{}, StartedAt: workflow.Now(ctx)}
		e.st.Metrics.StartedAt = e.st.StartedAt
	}
	if e.st.Jobs == nil {
		e.st.Jobs = map[string]*JobInfo{}
	}
	if err := e.register(ctx); err != nil {
		return err
	}
	if len(in.Sources) > 0 {
		if _, err := withLock(ctx, e, func() (ApplyResult, error) {
			return e.apply(ctx, ApplyInput{Sources: in.Sources, Keep: true})
		}); err != nil {
			return err
		}
	}
	startedCh := workflow.GetSignalChannel(ctx, syncjob.SignalSyncStarted)
	finishedCh := workflow.GetSignalChannel(ctx, syncjob.SignalSyncFinished)
	dueCh := workflow.GetSignalChannel(ctx, SignalSyncDue)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			sel := workflow.NewSelector(ctx)
			sel.AddReceive(startedCh, func(c workflow.ReceiveChannel, _ bool) {
				var r syncjob.SyncReport
				c.Receive(ctx, &r)
				e.onStarted(ctx, r)
			})
			sel.AddReceive(finishedCh, func(c workflow.ReceiveChannel, _ bool) {
				var r syncjob.SyncReport
				c.Receive(ctx, &r)
				e.onFinished(ctx, r)
			})
			sel.AddReceive(dueCh, func(c workflow.ReceiveChannel, _ bool) {
				var d DueInput
				c.Receive(ctx, &d)
				e.onDue(ctx, d)
			})
			sel.Select(ctx)
		}
	})

	canContinue := func() bool {
		return e.events >= e.st.Config.ContinueAsNewAfter || workflow.GetInfo(ctx).GetContinueAsNewSuggested()
	}
	for {
		err := workflow.Await(ctx, func() bool { return e.canDispatch() || !e.batchUntil.IsZero() || canContinue() })
		if err != nil {
			return err
		}
		if !e.batchUntil.IsZero() && !canContinue() {
			// Gather the syncs that fall due together, then run them as one batch.
			if wait := e.batchUntil.Sub(workflow.Now(ctx)); wait > 0 {
				if _, err := workflow.AwaitWithTimeout(ctx, wait, canContinue); err != nil {
					return err
				}
			}
			e.batchUntil = time.Time{}
			e.sortQueue()
			continue
		}
		if e.canDispatch() {
			e.dispatch(ctx)
			continue
		}
		// Bound the history: hand the state to a new run, once every update
		// and every background activity has finished and every report
		// delivered so far is counted. A few rounds at most, so a steady
		// stream of reports cannot hold the run open; reports that arrive
		// after the last drain make the server retry the task with them.
		for round := 0; round < 3; round++ {
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) && e.pending == 0 }); err != nil {
				return err
			}
			for {
				var r syncjob.SyncReport
				if !startedCh.ReceiveAsync(&r) {
					break
				}
				e.onStarted(ctx, r)
			}
			for {
				var r syncjob.SyncReport
				if !finishedCh.ReceiveAsync(&r) {
					break
				}
				e.onFinished(ctx, r)
			}
			for {
				var d DueInput
				if !dueCh.ReceiveAsync(&d) {
					break
				}
				e.onDue(ctx, d)
			}
			if e.pending == 0 {
				break
			}
		}
		return workflow.NewContinueAsNewError(ctx, EngineWorkflowName, EngineInput{State: e.st})
	}
}

func (e *engine) canDispatch() bool {
	if e.st.Config.Paused || len(e.st.Queue) == 0 || !e.batchUntil.IsZero() {
		return false
	}
	//workflowcheck:ignore (order-independent: validation, counting, encoding/json sorts map keys)
	return e.running() < e.st.Config.MaxConcurrent
}

func (e *engine) running() int {
	n := 0
	//workflowcheck:ignore (order-independent: validation, counting, encoding/json sorts map keys)
	for _, j := range e.st.Jobs {
		if j.Running {
			n++
		}
	}
	return n
}

// dispatch starts the next queued sync as a child workflow that outlives
// this run (the engine may continue as new meanwhile) and reports back.
func (e *engine) dispatch(ctx workflow.Context) {
	id := e.st.Queue[0]
	e.st.Queue = e.st.Queue[1:]
	j, ok := e.st.Jobs[id]
	if !ok || !j.Source.IsEnabled() || j.Running {
		return
	}
	in := syncjob.SyncJobInput{ID: id, SourceID: id, Source: j.Source, MaxRetries: j.MaxRetries, ReportTo: EngineWorkflowID}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            syncjob.SyncWorkflowID(id),
		StaticSummary:         syncjob.Summary(j.Source),
		TaskQueue:             syncjob.TaskQueue,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		Priority:              temporal.Priority{PriorityKey: syncjob.PriorityKey(j.Source.Priority)},
	})
	j.Running, j.LastWorkflowID = true, syncjob.SyncWorkflowID(id)
	fut := workflow.ExecuteChildWorkflow(cctx, syncjob.SyncJobWorkflowName, in)
	e.events++
	e.goBackground(ctx, func(ctx workflow.Context) {
		if err := fut.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
			// Already running (a manual or scheduled sync): that run reports back.
			workflow.GetLogger(ctx).Info("sync not started", "job", id, "error", err.Error())
			j.Running = false
		}
	})
}

// onDue queues a source whose schedule fired, opening a batch window when
// none is open.
func (e *engine) onDue(ctx workflow.Context, d DueInput) {
	e.events++
	j, ok := e.st.Jobs[d.SourceID]
	if !ok || !j.Source.IsEnabled() || j.Running {
		return
	}
	for _, id := range e.st.Queue {
		if id == d.SourceID {
			return
		}
	}
	e.st.Queue = append(e.st.Queue, d.SourceID)
	if e.batchUntil.IsZero() {
		e.batchUntil = workflow.Now(ctx).Add(e.st.Config.BatchWindow.Std())
	}
}

func (e *engine) onStarted(ctx workflow.Context, r syncjob.SyncReport) {
	e.events++
	if j, ok := e.st.Jobs[r.JobID]; ok {
		if r.RunID != "" && r.RunID == j.LastRunID {
			return // the start report of a run that already finished
		}
		j.Running, j.LastWorkflowID = true, r.WorkflowID
		// Added after the first recorded histories: gated so running
		// engines replay as they ran.
		if workflow.GetVersion(ctx, "notify-sync-started", workflow.DefaultVersion, 1) >= 1 {
			e.notify(ctx, syncjob.EventSyncStarted, []string{r.JobID})
		}
	}
}

func (e *engine) onFinished(ctx workflow.Context, r syncjob.SyncReport) {
	e.events++
	now := workflow.Now(ctx)
	m := &e.st.Metrics
	m.TotalSyncs++
	e.st.TotalMs += r.DurationMs
	m.LastSyncTime = &now
	failed := r.Status == syncjob.StatusFailed
	if r.Status == syncjob.StatusStopped {
		// Neither a success nor a failure of the source.
		if j, ok := e.st.Jobs[r.JobID]; ok {
			j.Running, j.LastStatus, j.LastWorkflowID, j.LastRunID = false, r.Status, r.WorkflowID, r.RunID
		}
		return
	}
	if failed {
		m.FailedSyncs++
	} else {
		m.SuccessfulSyncs++
		if r.NoChange {
			m.NoChangeSyncs++
		}
	}
	j, ok := e.st.Jobs[r.JobID]
	if !ok {
		return
	}
	j.Running = false
	j.LastStatus, j.LastError, j.LastSyncTime, j.LastDurationMs, j.LastWorkflowID = r.Status, r.Error, &now, r.DurationMs, r.WorkflowID
	j.LastRunID = r.RunID
	if r.Version > 0 {
		j.LastVersion = r.Version
	}
	j.LastChanges = r.Changes
	if !failed {
		j.ConsecutiveFailures = 0
		if j.PausedReason != "" && !j.Paused && !e.st.Config.Paused {
			// A success after an automatic pause resumes the schedule.
			j.PausedReason = ""
			e.setSchedulePaused(ctx, j, false, "resumed after a successful sync")
		}
		return
	}
	j.ConsecutiveFailures++
	if j.ConsecutiveFailures >= e.st.Config.FailureThreshold && j.PausedReason == "" && j.Scheduled {
		j.PausedReason = fmt.Sprintf("paused after %d consecutive failures; last: %s", j.ConsecutiveFailures, r.Error)
		e.setSchedulePaused(ctx, j, true, j.PausedReason)
	}
}

func (e *engine) setSchedulePaused(ctx workflow.Context, j *JobInfo, pause bool, note string) {
	if !j.Scheduled {
		return
	}
	var ea *activities.EngineActivities
	e.goBackground(ctx, func(ctx workflow.Context) {
		_ = workflow.ExecuteActivity(engineActivityCtx(ctx), ea.PauseSchedule, activities.PauseScheduleInput{SourceID: j.ID, Pause: pause, Note: note}).Get(ctx, nil)
	})
}

func engineActivityCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, syncjob.ActivityOptions(syncjob.PolicyEngine))
}

func (e *engine) ids() []string {
	ids := make([]string, 0, len(e.st.Jobs))
	for _, id := range workflow.DeterministicKeys(e.st.Jobs) {
		ids = append(ids, id)
	}
	return ids
}

// sortQueue puts high-priority jobs first, keeping arrival order otherwise.
func (e *engine) sortQueue() {
	sort.SliceStable(e.st.Queue, func(a, b int) bool {
		pa, pb := 3, 3
		if j, ok := e.st.Jobs[e.st.Queue[a]]; ok {
			pa = syncjob.PriorityKey(j.Source.Priority)
		}
		if j, ok := e.st.Jobs[e.st.Queue[b]]; ok {
			pb = syncjob.PriorityKey(j.Source.Priority)
		}
		return pa < pb
	})
}

func (e *engine) selectIDs(in SelectInput) []string {
	if len(in.IDs) > 0 {
		return in.IDs
	}
	var out []string
	for _, id := range e.ids() {
		if in.API == "" || e.st.Jobs[id].Source.APIID() == in.API {
			out = append(out, id)
		}
	}
	return out
}

func (e *engine) jitter(interval time.Duration) time.Duration {
	if e.st.Config.Jitter > 0 {
		return e.st.Config.Jitter.Std()
	}
	j := interval / 10
	if j > time.Minute {
		j = time.Minute
	}
	return j
}

// upsert registers or updates a source and reconciles its schedule.
func (e *engine) upsert(ctx workflow.Context, s source.Source, maxRetries *int) (JobInfo, error) {
	j, ok := e.st.Jobs[s.ID]
	if !ok {
		j = &JobInfo{ID: s.ID, ScheduleID: activities.ScheduleID(s.ID)}
	}
	prev := *j
	j.Source, j.Enabled = s, s.IsEnabled()
	if maxRetries != nil {
		j.MaxRetries = maxRetries
	}
	if err := e.reconcileSchedule(ctx, j); err != nil {
		*j = prev // a failed update changes nothing
		return prev, err
	}
	e.st.Jobs[s.ID] = j
	return *j, nil
}

func (e *engine) reconcileSchedule(ctx workflow.Context, j *JobInfo) error {
	var ea *activities.EngineActivities
	actx := engineActivityCtx(ctx)
	interval := j.Source.RefreshInterval.Std()
	if interval <= 0 || !j.Enabled {
		if j.Scheduled {
			if err := workflow.ExecuteActivity(actx, ea.DeleteSchedule, j.ID).Get(ctx, nil); err != nil {
				return err
			}
		}
		j.Scheduled = false
		return nil
	}
	paused := e.st.Config.Paused || j.Paused || j.PausedReason != ""
	note := j.PausedReason
	if e.st.Config.Paused {
		note = "the engine is paused"
	}
	err := workflow.ExecuteActivity(actx, ea.UpsertSchedule, activities.ScheduleInput{
		Source: j.Source, Interval: interval, Jitter: e.jitter(interval), Paused: paused, Note: note,
		Workflow: SyncDueWorkflowName, TaskQueue: syncjob.TaskQueue, WorkflowIDPrefix: DueWorkflowIDPrefix + j.ID,
		Args:        []any{DueInput{SourceID: j.ID, Engine: EngineWorkflowID}},
		PriorityKey: syncjob.PriorityKey(j.Source.Priority),
	}).Get(ctx, nil)
	if err != nil {
		return err
	}
	j.Scheduled = true
	return nil
}

func (e *engine) remove(ctx workflow.Context, id string) error {
	j, ok := e.st.Jobs[id]
	if !ok {
		return nil
	}
	if j.Scheduled {
		var ea *activities.EngineActivities
		if err := workflow.ExecuteActivity(engineActivityCtx(ctx), ea.DeleteSchedule, id).Get(ctx, nil); err != nil {
			return err
		}
	}
	delete(e.st.Jobs, id)
	var q []string
	for _, qid := range e.st.Queue {
		if qid != id {
			q = append(q, qid)
		}
	}
	e.st.Queue = q
	return nil
}

func (e *engine) setConfig(ctx workflow.Context, c EngineConfig) error {
	c.defaults()
	old := e.st.Config
	e.st.Config = c
	if old.Paused != c.Paused || old.Jitter != c.Jitter {
		for _, id := range e.ids() {
			if err := e.reconcileSchedule(ctx, e.st.Jobs[id]); err != nil {
				return err
			}
		}
	}
	return nil
}

// apply reconciles the registry to a declared set: add, update (only what
// differs) and, unless Keep, remove. Applying the same set twice changes nothing.
func (e *engine) apply(ctx workflow.Context, in ApplyInput) (ApplyResult, error) {
	res := ApplyResult{Added: []string{}, Updated: []string{}, Removed: []string{}, Unchanged: []string{}}
	if in.Config != nil {
		// A declared config says nothing of pausing: keep the engine's state.
		c := *in.Config
		c.Paused = e.st.Config.Paused
		if c.ContinueAsNewAfter == 0 {
			c.ContinueAsNewAfter = e.st.Config.ContinueAsNewAfter
		}
		c.defaults()
		//workflowcheck:ignore (order-independent: validation, counting, encoding/json sorts map keys)
		if !sameJSON(c, e.st.Config) {
			if err := e.setConfig(ctx, c); err != nil {
				return res, err
			}
		}
	}
	var changed []source.Source
	for _, s := range in.Sources {
		//workflowcheck:ignore (encoding/json sorts map keys)
		if j, ok := e.st.Jobs[s.ID]; !ok || !sameJSON(j.Source, s) {
			changed = append(changed, s)
		}
	}
	if err := e.checkSources(ctx, changed); err != nil {
		return res, err
	}
	declared := map[string]bool{}
	for _, s := range in.Sources {
		declared[s.ID] = true
		j, ok := e.st.Jobs[s.ID]
		switch {
		case !ok:
			res.Added = append(res.Added, s.ID)
		//workflowcheck:ignore (order-independent: validation, counting, encoding/json sorts map keys)
		case sameJSON(j.Source, s):
			res.Unchanged = append(res.Unchanged, s.ID)
			continue
		default:
			res.Updated = append(res.Updated, s.ID)
		}
		if _, err := e.upsert(ctx, s, nil); err != nil {
			return res, err
		}
	}
	if !in.Keep {
		for _, id := range e.ids() {
			if !declared[id] {
				if err := e.remove(ctx, id); err != nil {
					return res, err
				}
				res.Removed = append(res.Removed, id)
			}
		}
	}
	e.notify(ctx, syncjob.EventSourceAdded, res.Added)
	e.notify(ctx, syncjob.EventSourceRemoved, res.Removed)
	return res, nil
}

// notify sends source events to the webhooks, in the background.
func (e *engine) notify(ctx workflow.Context, event string, ids []string) {
	if len(ids) == 0 {
		return
	}
	var a *activities.Activities
	now := workflow.Now(ctx)
	runID := workflow.GetInfo(ctx).WorkflowExecution.RunID
	for _, id := range ids {
		e.events++
		in := activities.NotifyInput{Event: event, JobID: id, SourceID: id, Key: fmt.Sprintf("%s/%s/%s/%d", event, id, runID, e.events), Time: now}
		if j, ok := e.st.Jobs[id]; ok {
			in.API = j.Source.APIID()
		}
		e.goBackground(ctx, func(ctx workflow.Context) {
			_ = workflow.ExecuteActivity(engineActivityCtx(ctx), a.Notify, in).Get(ctx, nil)
		})
	}
}

func (e *engine) pause(ctx workflow.Context, in SelectInput, pause bool) (SelectResult, error) {
	signal := syncjob.SignalPause
	if !pause {
		signal = syncjob.SignalResume
	}
	if len(in.IDs) == 0 && in.API == "" {
		// The whole engine: schedules, queued and running jobs.
		e.st.Config.Paused = pause
		for _, id := range e.ids() {
			if err := e.reconcileSchedule(ctx, e.st.Jobs[id]); err != nil {
				return SelectResult{}, err
			}
		}
		return SelectResult{IDs: e.ids()}, e.signalJobs(ctx, in, nil, signal)
	}
	ids := e.selectIDs(in)
	for _, id := range ids {
		j := e.st.Jobs[id]
		j.Paused = pause
		if !pause {
			j.PausedReason, j.ConsecutiveFailures = "", 0
		}
		if err := e.reconcileSchedule(ctx, j); err != nil {
			return SelectResult{}, err
		}
	}
	return SelectResult{IDs: ids}, e.signalJobs(ctx, in, ids, signal)
}

func (e *engine) signalJobs(ctx workflow.Context, in SelectInput, ids []string, signal string) error {
	var ea *activities.EngineActivities
	return workflow.ExecuteActivity(engineActivityCtx(ctx), ea.SignalRunningJobs, activities.SignalJobsInput{
		Workflow: syncjob.SyncJobWorkflowName, WorkflowIDPrefix: syncjob.SyncWorkflowIDPrefix, SourceIDs: ids, Signal: signal,
	}).Get(ctx, nil)
}

// sameJSON compares two values by their JSON encoding (deterministic: encoding/json sorts map keys).
func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}
