package engine

import (
	"fmt"
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

// maxDueBatch bounds the due sources gathered before they are queued, and
// maxWaiting the dequeued syncs waiting for a dependency: both are carried
// across continue-as-new.
const (
	maxDueBatch = 500
	maxWaiting  = 200
	dequeueMax  = 50
	// maxRunBytes continues a run as new once its history reaches it
	// (applies carry sources in their events), well under 2 MB.
	maxRunBytes = 1 << 20
)

type engine struct {
	st     *EngineState
	mu     workflow.Mutex
	events int
	// pending counts background goroutines (webhooks, child starts) that
	// must finish before the engine continues as new.
	pending int
	// batchUntil is when the open batch of due syncs closes (zero: none open).
	batchUntil time.Time
	// busy is true while the dispatcher runs an activity.
	busy bool
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

// SyncEngineWorkflow is the long-lived keeper of the registry of sources
// (kept in the store), their schedules and the metrics: it runs sync-all
// and due syncs with bounded concurrency, in priority and dependency
// order. Its own state is O(1) in the number of sources.
func SyncEngineWorkflow(ctx workflow.Context, in EngineInput) error {
	e := &engine{st: in.State, mu: workflow.NewMutex(ctx)}
	if e.st == nil {
		in.Config.defaults()
		e.st = &EngineState{Config: in.Config, StartedAt: workflow.Now(ctx)}
		e.st.Metrics.StartedAt = e.st.StartedAt
	}
	e.st.Config.defaults()
	if e.st.Active == nil {
		e.st.Active = map[string]ActiveSync{}
	}
	if err := e.register(ctx); err != nil {
		return err
	}
	if err := e.setup(ctx, in); err != nil {
		return err
	}
	return e.run(ctx)
}

// setup saves the config where activities read it, moves a registry
// carried by an older engine into the store, and applies the sources the
// engine was started with.
func (e *engine) setup(ctx workflow.Context, in EngineInput) error {
	if in.State == nil {
		if err := e.saveConfig(ctx); err != nil {
			return err
		}
	}
	if len(e.st.Jobs) > 0 {
		var legacy []source.Source
		for _, id := range workflow.DeterministicKeys(e.st.Jobs) {
			legacy = append(legacy, e.st.Jobs[id].Source)
		}
		queue := e.st.Queue
		e.st.Jobs, e.st.Queue = nil, nil
		if _, err := withLock(ctx, e, func() (ApplyResult, error) {
			return e.apply(ctx, ApplyInput{Sources: legacy, Keep: true})
		}); err != nil {
			return err
		}
		if len(queue) > 0 {
			if _, err := e.enqueue(ctx, activities.Selection{IDs: queue}, syncjob.TriggerEngine); err != nil {
				return err
			}
		}
	}
	if len(in.Sources) > 0 {
		if _, err := withLock(ctx, e, func() (ApplyResult, error) {
			return e.apply(ctx, ApplyInput{Sources: in.Sources, Keep: true})
		}); err != nil {
			return err
		}
	}
	return nil
}

func (e *engine) run(ctx workflow.Context) error {
	startedCh := workflow.GetSignalChannel(ctx, syncjob.SignalSyncStarted)
	finishedCh := workflow.GetSignalChannel(ctx, syncjob.SignalSyncFinished)
	dueCh := workflow.GetSignalChannel(ctx, SignalSyncDue)
	// Reports only change counters and the bounded set of running syncs:
	// a job writes its own outcome to the registry (activities.ReportSync).
	drain := func() {
		for {
			var r syncjob.SyncReport
			if !startedCh.ReceiveAsync(&r) {
				break
			}
			e.onStarted(r)
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
	}
	// Reports are taken off their channels only by drain, never by a
	// blocked receive: a receive blocked in a selector is handed the next
	// signal outside the channel, and a run that continued as new before
	// that goroutine ran would lose it.
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			if err := workflow.Await(ctx, func() bool {
				return startedCh.Len() > 0 || finishedCh.Len() > 0 || dueCh.Len() > 0
			}); err != nil {
				return
			}
			drain()
		}
	})

	// Added after the first recorded histories of this engine: gated.
	if workflow.GetVersion(ctx, "reap-active", workflow.DefaultVersion, 1) >= 1 {
		workflow.Go(ctx, e.reapActive)
	}

	canContinue := func() bool {
		info := workflow.GetInfo(ctx)
		return e.events >= e.st.Config.ContinueAsNewAfter || info.GetContinueAsNewSuggested() || info.GetCurrentHistorySize() >= maxRunBytes
	}
	for {
		err := workflow.Await(ctx, func() bool {
			return e.canDispatch() || len(e.st.Due) > 0 || canContinue()
		})
		if err != nil {
			return err
		}
		if len(e.st.Due) > 0 && (len(e.st.Due) >= maxDueBatch || e.dueReady(ctx) || canContinue()) {
			if err := e.queueDueLocked(ctx); err != nil {
				return err
			}
			continue
		}
		if len(e.st.Due) > 0 && !canContinue() {
			// Gather the syncs that fall due together, then queue them as one batch.
			if wait := e.batchUntil.Sub(workflow.Now(ctx)); wait > 0 {
				if _, err := workflow.AwaitWithTimeout(ctx, wait, func() bool { return canContinue() || len(e.st.Due) >= maxDueBatch || e.batchUntil.IsZero() }); err != nil {
					return err
				}
			}
			continue
		}
		if e.canDispatch() && !canContinue() {
			// Under the lock: an update that queues syncs meanwhile is
			// counted after this dequeue, never overwritten by it.
			if _, err := withLock(ctx, e, func() (struct{}, error) { return struct{}{}, e.dispatch(ctx) }); err != nil {
				return err
			}
			continue
		}
		// Bound the history: hand the state (O(1) in the number of
		// sources) to a new run once every update and background activity
		// has finished. Reports delivered so far are counted by drain; one
		// that arrives after it makes the server retry this task with it,
		// so none is lost or counted twice.
		// Queuing due syncs runs an activity, during which an update may
		// start: wait for it again, so no accepted update is cut off.
		for {
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) && e.pending == 0 }); err != nil {
				return err
			}
			drain()
			if len(e.st.Due) == 0 {
				break
			}
			if err := e.queueDueLocked(ctx); err != nil {
				return err
			}
		}
		// Added after the first recorded histories: gated. A run started
		// on the jobs' task queue moves to the engine's own.
		if workflow.GetVersion(ctx, "engine-queue", workflow.DefaultVersion, 1) >= 1 {
			ctx = workflow.WithWorkflowTaskQueue(ctx, TaskQueue)
		}
		return workflow.NewContinueAsNewError(ctx, EngineWorkflowName, EngineInput{State: e.st})
	}
}

func (e *engine) dueReady(ctx workflow.Context) bool {
	return len(e.st.Due) > 0 && !e.batchUntil.IsZero() && !workflow.Now(ctx).Before(e.batchUntil)
}

// engineRunning counts the syncs the engine started that still run.
func (e *engine) engineRunning() int {
	n := 0
	//workflowcheck:ignore (order-independent: counting)
	for _, a := range e.st.Active {
		if a.Engine {
			n++
		}
	}
	return n
}

func (e *engine) canDispatch() bool {
	return !e.busy && !e.st.Config.Paused && e.st.Queued > 0 && len(e.st.Waiting) < maxWaiting &&
		e.engineRunning() < e.st.Config.MaxConcurrent
}

func engineActivityCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, syncjob.ActivityOptions(syncjob.PolicyEngine))
}

// registryCtx is for activities that may walk the whole registry.
func registryCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, syncjob.ActivityOptions(syncjob.PolicyRegistry))
}

// template is how the engine's schedules start due syncs, and its pause.
func (e *engine) template() activities.ScheduleTemplate {
	return activities.ScheduleTemplate{
		Workflow: SyncDueWorkflowName, TaskQueue: syncjob.TaskQueue, WorkflowIDPrefix: DueWorkflowIDPrefix,
		EngineID: EngineWorkflowID, EnginePaused: e.st.Config.Paused, Jitter: e.st.Config.Jitter.Std(),
	}
}

func (e *engine) saveConfig(ctx workflow.Context) error {
	var ea *activities.EngineActivities
	e.events++
	return workflow.ExecuteActivity(engineActivityCtx(ctx), ea.SaveEngineConfig, activities.EngineSettings{
		FailureThreshold: e.st.Config.FailureThreshold, Schedule: e.template(),
	}).Get(ctx, nil)
}

// dispatch takes the next syncs off the registry's queue and starts them,
// or holds them while a dependency runs or after it failed.
func (e *engine) dispatch(ctx workflow.Context) error {
	var ea *activities.EngineActivities
	n := min(e.st.Config.MaxConcurrent-e.engineRunning(), dequeueMax)
	var res activities.DequeueResult
	e.busy = true
	e.events++
	err := workflow.ExecuteActivity(registryCtx(ctx), ea.DequeueSyncs, n).Get(ctx, &res)
	e.busy = false
	if err != nil {
		return err
	}
	if !res.More {
		e.st.Queued = 0 // the queue is empty now (syncs queued meanwhile are counted after this)
	} else {
		e.st.Queued = max(e.st.Queued-res.Taken, 1)
	}
	items := res.Items
	for _, it := range items {
		e.consider(ctx, it)
	}
	return nil
}

// consider starts a dequeued sync, or holds it for its dependencies.
func (e *engine) consider(ctx workflow.Context, it activities.DispatchItem) {
	var waits []string
	for _, d := range it.Source.DependsOn {
		if _, running := e.st.Active[d]; running || e.waitingFor(d) || contains(it.Waits, d) {
			waits = append(waits, d)
		}
	}
	it.Waits = waits
	switch {
	case len(it.Failed) > 0:
		e.hold(ctx, it.ID, fmt.Sprintf("held: dependency %s failed its last sync", it.Failed[0]))
	case len(it.Waits) > 0:
		e.st.Waiting = append(e.st.Waiting, it)
	default:
		e.start(ctx, it)
	}
}

func (e *engine) waitingFor(id string) bool {
	for _, w := range e.st.Waiting {
		if w.ID == id {
			return true
		}
	}
	return false
}

func (e *engine) hold(ctx workflow.Context, id, reason string) {
	var ea *activities.EngineActivities
	e.events++
	e.goBackground(ctx, func(ctx workflow.Context) {
		_ = workflow.ExecuteActivity(engineActivityCtx(ctx), ea.HoldSync, activities.HoldInput{ID: id, Reason: reason}).Get(ctx, nil)
	})
	// The held dependents of a held sync are held too.
	e.release(ctx, id, false)
}

// release lets the syncs waiting for id go on (ok) or holds them.
func (e *engine) release(ctx workflow.Context, id string, ok bool) {
	var keep, ready []activities.DispatchItem
	var held []string
	for _, w := range e.st.Waiting {
		var rest []string
		hit := false
		for _, d := range w.Waits {
			if d == id {
				hit = true
			} else {
				rest = append(rest, d)
			}
		}
		switch {
		case !hit:
			keep = append(keep, w)
		case !ok:
			held = append(held, w.ID)
		case len(rest) > 0:
			w.Waits = rest
			keep = append(keep, w)
		default:
			w.Waits = nil
			ready = append(ready, w)
		}
	}
	e.st.Waiting = keep
	for _, w := range ready {
		e.start(ctx, w)
	}
	for _, h := range held {
		e.hold(ctx, h, fmt.Sprintf("held: dependency %s failed", id))
	}
}

// start runs a sync as a child workflow that outlives this run (the engine
// may continue as new meanwhile) and reports back.
func (e *engine) start(ctx workflow.Context, it activities.DispatchItem) {
	if _, running := e.st.Active[it.ID]; running {
		return // already running (a manual or scheduled sync): that run reports back
	}
	trigger := it.Trigger
	if trigger == "" {
		trigger = syncjob.TriggerEngine
	}
	in := syncjob.SyncJobInput{ID: it.ID, SourceID: it.ID, Source: it.Source, MaxRetries: it.MaxRetries, ReportTo: EngineWorkflowID, Trigger: trigger}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            syncjob.SyncWorkflowID(it.ID),
		StaticSummary:         syncjob.Summary(it.Source),
		TaskQueue:             syncjob.TaskQueue,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		Priority:              temporal.Priority{PriorityKey: source.PriorityKey(it.Source.Priority)},
	})
	e.st.Active[it.ID] = ActiveSync{WorkflowID: syncjob.SyncWorkflowID(it.ID), Engine: true}
	fut := workflow.ExecuteChildWorkflow(cctx, syncjob.SyncJobWorkflowName, in)
	e.events++
	id := it.ID
	e.goBackground(ctx, func(ctx workflow.Context) {
		if err := fut.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
			// Already running (a manual or scheduled sync): that run reports back.
			workflow.GetLogger(ctx).Info("sync not started", "job", id, "error", err.Error())
			if a, ok := e.st.Active[id]; ok && a.Engine && a.RunID == "" {
				delete(e.st.Active, id)
			}
		}
	})
}

// onDue gathers a source whose schedule fired into the open batch,
// opening one when none is open.
func (e *engine) onDue(ctx workflow.Context, d DueInput) {
	e.events++
	for _, id := range e.st.Due {
		if id == d.SourceID {
			return
		}
	}
	e.st.Due = append(e.st.Due, d.SourceID)
	if e.batchUntil.IsZero() {
		e.batchUntil = workflow.Now(ctx).Add(e.st.Config.BatchWindow.Std())
	}
}

// queueDueLocked is queueDue under the engine's lock, like every change to the queue.
func (e *engine) queueDueLocked(ctx workflow.Context) error {
	_, err := withLock(ctx, e, func() (struct{}, error) { return struct{}{}, e.queueDue(ctx) })
	return err
}

// queueDue queues the batch of due sources, by priority and dependencies.
func (e *engine) queueDue(ctx workflow.Context) error {
	due := e.st.Due
	e.st.Due, e.batchUntil = nil, time.Time{}
	var ids []string
	for _, id := range due {
		if _, running := e.st.Active[id]; !running {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	_, err := e.enqueue(ctx, activities.Selection{IDs: ids}, syncjob.TriggerSchedule)
	if err != nil {
		// A due source removed meanwhile: log it, the rest is queued by the next tick.
		workflow.GetLogger(ctx).Warn("due syncs not queued", "error", err.Error())
	}
	return nil
}

// enqueue queues syncs of the selected sources in the registry.
func (e *engine) enqueue(ctx workflow.Context, sel activities.Selection, trigger string) (*activities.SelectResult, error) {
	var ea *activities.EngineActivities
	e.events++
	e.st.Seq = max(e.st.Seq+1, workflow.Now(ctx).UnixNano())
	var res activities.SelectResult
	err := workflow.ExecuteActivity(registryCtx(ctx), ea.EnqueueSyncs, activities.EnqueueInput{Selection: sel, Seq: e.st.Seq, Trigger: trigger}).Get(ctx, &res)
	if err != nil {
		return nil, err
	}
	e.st.Seq += int64(res.Count)
	e.st.Queued += res.Count
	return &res, nil
}

func (e *engine) onStarted(r syncjob.SyncReport) {
	e.events++
	if a, ok := e.st.Active[r.JobID]; ok && a.RunID == r.RunID && r.RunID != "" {
		return // a repeated report
	}
	a := e.st.Active[r.JobID]
	a.WorkflowID, a.RunID = r.WorkflowID, r.RunID
	e.st.Active[r.JobID] = a
}

func (e *engine) onFinished(ctx workflow.Context, r syncjob.SyncReport) {
	e.events++
	if a, ok := e.st.Active[r.JobID]; ok && (a.RunID == "" || r.RunID == "" || a.RunID == r.RunID) {
		delete(e.st.Active, r.JobID)
	}
	now := workflow.Now(ctx)
	m := &e.st.Metrics
	m.TotalSyncs++
	e.st.TotalMs += r.DurationMs
	m.LastSyncTime = &now
	switch r.Status {
	case syncjob.StatusStopped:
		// Neither a success nor a failure of the source.
		e.release(ctx, r.JobID, false)
		return
	case syncjob.StatusFailed:
		m.FailedSyncs++
		e.release(ctx, r.JobID, false)
	default:
		m.SuccessfulSyncs++
		if r.NoChange {
			m.NoChangeSyncs++
		}
		e.release(ctx, r.JobID, true)
	}
}

// notify sends source events to the webhooks, in the background: one
// activity for all the sources (ids → API).
func (e *engine) notify(ctx workflow.Context, event string, ids map[string]string) {
	if len(ids) == 0 {
		return
	}
	var a *activities.Activities
	e.events++
	in := activities.NotifySourcesInput{Event: event, Sources: ids, Time: workflow.Now(ctx),
		KeyPrefix: fmt.Sprintf("%s/%s/%d/", event, workflow.GetInfo(ctx).WorkflowExecution.RunID, e.events)}
	e.goBackground(ctx, func(ctx workflow.Context) {
		_ = workflow.ExecuteActivity(engineActivityCtx(ctx), a.NotifySources, in).Get(ctx, nil)
	})
}

// apis maps the given IDs to their sources' APIs (unknown: the ID).
func apis(ids []string, sources ...source.Source) map[string]string {
	m := make(map[string]string, len(ids))
	for _, id := range ids {
		m[id] = id
	}
	for _, s := range sources {
		if _, ok := m[s.ID]; ok {
			m[s.ID] = s.APIID()
		}
	}
	return m
}

// apply reconciles the registry to a declared set (one chunk of it): add,
// update (only what differs) and, on the last chunk and unless Keep,
// remove what no chunk declared. Applying the same set twice changes nothing.
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
		if c != e.st.Config {
			if err := e.setConfig(ctx, c); err != nil {
				return res, err
			}
		}
	}
	gen := in.Generation
	if gen == "" {
		gen = fmt.Sprintf("%s/%d", workflow.GetInfo(ctx).WorkflowExecution.RunID, e.events)
	}
	var ea *activities.EngineActivities
	const chunk = 500
	for i := 0; i < len(in.Sources); i += chunk {
		part := in.Sources[i:min(i+chunk, len(in.Sources))]
		var r activities.ApplySourcesResult
		e.events++
		err := workflow.ExecuteActivity(registryCtx(ctx), ea.ApplySources, activities.ApplySourcesInput{
			Sources: part, Generation: gen, Schedule: e.template(), CheckDeps: in.Generation == "",
		}).Get(ctx, &r)
		if err != nil {
			return res, err
		}
		res.Added = append(res.Added, r.Added...)
		res.Updated = append(res.Updated, r.Updated...)
		res.Unchanged = append(res.Unchanged, r.Unchanged...)
	}
	if !in.More {
		var f activities.FinishApplyResult
		e.events++
		if err := workflow.ExecuteActivity(registryCtx(ctx), ea.FinishApply, gen, in.Keep).Get(ctx, &f); err != nil {
			return res, err
		}
		res.Removed, res.RemovedCount = f.Removed, f.Count
		e.st.Registered = f.Registered
		e.notify(ctx, syncjob.EventSourceRemoved, apis(f.Removed))
	} else {
		e.st.Registered += len(res.Added)
	}
	res.Registered = e.st.Registered
	e.notify(ctx, syncjob.EventSourceAdded, apis(res.Added, in.Sources...))
	// A newly added source syncs at once, not at its first schedule tick.
	if len(res.Added) > 0 {
		if _, err := e.enqueue(ctx, activities.Selection{IDs: res.Added}, syncjob.TriggerEngine); err != nil {
			return res, err
		}
	}
	return res, nil
}

// upsert registers (mode add), updates (mode update) or either one source.
func (e *engine) upsert(ctx workflow.Context, s source.Source, maxRetries *int, mode string) (JobInfo, error) {
	var ea *activities.EngineActivities
	var r activities.ApplySourcesResult
	e.events++
	err := workflow.ExecuteActivity(registryCtx(ctx), ea.ApplySources, activities.ApplySourcesInput{
		Sources: []source.Source{s}, MaxRetries: maxRetries, Mode: mode, Schedule: e.template(), CheckDeps: true,
	}).Get(ctx, &r)
	if err != nil {
		return JobInfo{}, err
	}
	if len(r.Added) > 0 {
		e.st.Registered++
		e.notify(ctx, syncjob.EventSourceAdded, apis(r.Added, s))
		if _, err := e.enqueue(ctx, activities.Selection{IDs: r.Added}, syncjob.TriggerEngine); err != nil {
			return JobInfo{}, err
		}
	}
	if len(r.Jobs) == 1 {
		return r.Jobs[0], nil
	}
	return JobInfo{ID: s.ID, Source: s, Enabled: s.IsEnabled()}, nil
}

func (e *engine) setConfig(ctx workflow.Context, c EngineConfig) error {
	c.defaults()
	old := e.st.Config
	e.st.Config = c
	if err := e.saveConfig(ctx); err != nil {
		e.st.Config = old
		return err
	}
	if old.Paused != c.Paused || old.Jitter != c.Jitter {
		return e.reconcileAll(ctx)
	}
	return nil
}

// reconcileAll brings every schedule in line with the engine-wide pause and jitter.
func (e *engine) reconcileAll(ctx workflow.Context) error {
	var ea *activities.EngineActivities
	e.events++
	return workflow.ExecuteActivity(registryCtx(ctx), ea.PauseSources, activities.PauseSourcesInput{All: true, Schedule: e.template()}).Get(ctx, nil)
}

func (e *engine) pause(ctx workflow.Context, in SelectInput, pause bool) (SelectResult, error) {
	signal := syncjob.SignalPause
	if !pause {
		signal = syncjob.SignalResume
	}
	if len(in.IDs) == 0 && in.API == "" {
		// The whole engine: schedules, queued and running jobs.
		old := e.st.Config
		e.st.Config.Paused = pause
		if err := e.saveConfig(ctx); err != nil {
			e.st.Config = old
			return SelectResult{}, err
		}
		var ea *activities.EngineActivities
		var r activities.SelectResult
		e.events++
		if err := workflow.ExecuteActivity(registryCtx(ctx), ea.PauseSources, activities.PauseSourcesInput{All: true, Schedule: e.template()}).Get(ctx, &r); err != nil {
			return SelectResult{}, err
		}
		return SelectResult{IDs: r.IDs, Count: r.Count}, e.signalJobs(ctx, nil, signal)
	}
	var ea *activities.EngineActivities
	var r activities.SelectResult
	e.events++
	err := workflow.ExecuteActivity(registryCtx(ctx), ea.PauseSources, activities.PauseSourcesInput{
		Selection: activities.Selection{IDs: in.IDs, API: in.API}, Pause: pause, Schedule: e.template(),
	}).Get(ctx, &r)
	if err != nil {
		return SelectResult{}, err
	}
	return SelectResult{IDs: r.IDs, Count: r.Count}, e.signalJobs(ctx, r.IDs, signal)
}

func (e *engine) signalJobs(ctx workflow.Context, ids []string, signal string) error {
	var ea *activities.EngineActivities
	e.events++
	return workflow.ExecuteActivity(engineActivityCtx(ctx), ea.SignalRunningJobs, activities.SignalJobsInput{
		Workflow: syncjob.SyncJobWorkflowName, WorkflowIDPrefix: syncjob.SyncWorkflowIDPrefix, SourceIDs: ids, Signal: signal,
	}).Get(ctx, nil)
}

// reapInterval is how often the engine checks that the syncs it counts
// running still run.
const reapInterval = 5 * time.Minute

// reapActive forgets running syncs whose run has closed without its end
// report reaching the engine (the report failed for good), so they stop
// holding a concurrency slot and counting in activeJobs.
func (e *engine) reapActive(ctx workflow.Context) {
	var ea *activities.EngineActivities
	for {
		if err := workflow.Sleep(ctx, reapInterval); err != nil {
			return
		}
		if len(e.st.Active) == 0 {
			continue
		}
		var refs []activities.ActiveRef
		for _, id := range workflow.DeterministicKeys(e.st.Active) {
			a := e.st.Active[id]
			refs = append(refs, activities.ActiveRef{JobID: id, WorkflowID: a.WorkflowID, RunID: a.RunID})
		}
		var closed []string
		e.events++
		if err := workflow.ExecuteActivity(engineActivityCtx(ctx), ea.ClosedSyncs, refs).Get(ctx, &closed); err != nil {
			continue
		}
		for _, id := range closed {
			for _, r := range refs {
				if r.JobID == id && e.st.Active[id] == (ActiveSync{WorkflowID: r.WorkflowID, RunID: r.RunID, Engine: e.st.Active[id].Engine}) {
					workflow.GetLogger(ctx).Warn("sync closed without reporting its end", "job", id, "workflow", r.WorkflowID)
					delete(e.st.Active, id)
					e.release(ctx, id, false)
				}
			}
		}
	}
}
