package syncjob

import (
	"errors"
	"fmt"
	enumspb "go.temporal.io/api/enums/v1"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/apilivesync/apilivesync/activities"
)

// errStopped ends a job that was asked to stop.
var errStopped = errors.New("stopped")

type syncJob struct {
	in    SyncJobInput
	st    Status
	stop  bool
	top   []string
	specV string
	// docBytes is the fetched document's size: big documents get longer step timeouts.
	docBytes int64
	count    [3]int

	approval     approval
	manual       map[string]activities.Resolution // a person's choices, by pointer
	decided      []activities.Resolution          // a strategy's choices
	decisions    []Decision
	resolvedHash string
	applying     bool
	toAI         toAI     // handing open conflicts back to the model (people_ai.go)
	reports      reporter // what the job tells the engine (report.go)

	// sa: the search attributes this run sets (none before the change
	// that introduced them, or on a namespace without them).
	sa searchAttrs

	pauseCh, resumeCh, stopCh workflow.ReceiveChannel
	barrierCh                 workflow.Channel
	barrier, barrierAck       int
}

// SyncJobWorkflow runs one sync of one source: fetch → parse → diff →
// merge → store → notify. It answers the status query and the pause,
// resume and stop signals at any point.
func SyncJobWorkflow(ctx workflow.Context, in SyncJobInput) (*SyncJobResult, error) {
	j := &syncJob{in: in, manual: map[string]activities.Resolution{}}
	j.st = Status{
		ID: in.ID, SourceID: in.SourceID, API: in.Source.APIID(), Location: in.Source.Location(),
		Status: StatusPending, StartedAt: workflow.Now(ctx), StepDurations: map[string]int64{},
		Steps: []StepInfo{},
	}
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (Status, error) { return j.st, nil }); err != nil {
		return nil, err
	}
	if err := j.registerPeopleHandlers(ctx); err != nil {
		return nil, err
	}
	j.pauseCh = workflow.GetSignalChannel(ctx, SignalPause)
	j.resumeCh = workflow.GetSignalChannel(ctx, SignalResume)
	j.stopCh = workflow.GetSignalChannel(ctx, SignalStop)
	j.barrierCh = workflow.NewBufferedChannel(ctx, 1)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			sel := workflow.NewSelector(ctx)
			sel.AddReceive(j.pauseCh, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); j.st.Paused = true })
			sel.AddReceive(j.resumeCh, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); j.st.Paused = false })
			sel.AddReceive(j.stopCh, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); j.stop = true })
			// Last: signals already delivered are handled before the barrier.
			sel.AddReceive(j.barrierCh, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, &j.barrierAck) })
			sel.Select(ctx)
		}
	})

	j.initSearchAttributes(ctx)
	//workflowcheck:ignore (order-independent: validation, counting, encoding/json sorts map keys)
	if err := j.in.Normalize(); err != nil {
		return j.finish(ctx, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("sync job %q: %v", j.in.ID, err), activities.ErrTypeSource, nil))
	}
	j.st.ID, j.st.SourceID, j.st.API = j.in.ID, j.in.SourceID, j.in.Source.APIID()
	j.st.Priority, j.st.MaxRetries, j.st.Trigger = j.in.Priority, *j.in.MaxRetries, j.in.Trigger
	j.upsertStart(ctx)
	j.reportStarted(ctx)
	if !j.in.Source.IsEnabled() {
		j.st.NoChange = true
		j.st.Message = "source is disabled"
		return j.finish(ctx, nil)
	}
	return j.finish(ctx, j.run(ctx))
}

func (j *syncJob) run(ctx workflow.Context) error {
	var a *activities.Activities
	src := j.in.Source
	api := src.APIID()

	var fetched activities.FetchResult
	if err := j.step(ctx, StepFetch, func(ctx workflow.Context) error {
		return workflow.ExecuteActivity(ctx, a.FetchSpec, activities.FetchInput{Source: src, Force: j.in.Force}).Get(ctx, &fetched)
	}); err != nil {
		return err
	}
	j.docBytes = fetched.Bytes
	if fetched.NotModified || fetched.Unchanged {
		j.st.NoChange = true
		j.st.Version, j.st.VersionHash = fetched.HeadVersion, fetched.HeadHash
		j.st.Message = "source unchanged since the last sync"
		if fetched.NotModified {
			j.st.Message = "source answered 304 Not Modified"
		}
		return nil
	}

	var parsed activities.ParseResult
	if err := j.step(ctx, StepParse, func(ctx workflow.Context) error {
		return workflow.ExecuteActivity(ctx, a.ParseSpec, activities.ParseInput{
			SourceID: src.ID, Location: src.Location(), RawHash: fetched.RawHash,
			URL: src.URL, File: src.LocalFile(), Headers: src.Headers, Strict: src.Strict, Kind: src.Kind,
		}).Get(ctx, &parsed)
	}); err != nil {
		return err
	}
	j.specV = parsed.Counts.Family + " " + parsed.Counts.Version
	j.st.Warnings = parsed.Counts.Warnings
	j.count = [3]int{parsed.Counts.Paths, parsed.Counts.Operations, parsed.Counts.Schemas}

	if parsed.Hash == fetched.BaseHash {
		// New bytes, same document (reformatted, keys reordered): remember the
		// bytes so the next fetch takes the fast path, and store nothing.
		j.st.NoChange = true
		j.st.Message = "source reformatted; the document is unchanged"
		return j.step(ctx, StepStore, func(ctx workflow.Context) error {
			return workflow.ExecuteActivity(ctx, a.RecordSourceState, activities.RecordInput{
				Source: src, RawHash: fetched.RawHash, BaseHash: parsed.Hash, ETag: fetched.ETag, LastMod: fetched.LastModified,
			}).Get(ctx, nil)
		})
	}

	var diff activities.DiffResult
	if fetched.BaseHash != "" {
		if err := j.step(ctx, StepDiff, func(ctx workflow.Context) error {
			return workflow.ExecuteActivity(ctx, a.DiffSpecs, activities.DiffInput{API: api, SourceID: src.ID, OldHash: fetched.BaseHash, NewHash: parsed.Hash, RulesFile: src.Rules}).Get(ctx, &diff)
		}); err != nil {
			return err
		}
		j.st.ChangesDetected, j.st.BreakingChanges, j.st.ReportHash = diff.Total, diff.Breaking, diff.ReportHash
		j.top = diff.Top
		ok, err := j.gate(ctx, diff.Top)
		if err != nil || !ok {
			return err
		}
	}

	// Merge and store; a lost race for the version number re-merges on the new head.
	var stored activities.StoreResult
	for attempt := 1; ; attempt++ {
		j.decisions, j.st.Decisions, j.st.Conflicts = nil, nil, 0
		var merged activities.MergeResult
		if err := j.step(ctx, StepMerge, func(ctx workflow.Context) error {
			return workflow.ExecuteActivity(ctx, a.MergeSpecs, activities.MergeInput{
				API: api, SourceID: src.ID, BaseHash: fetched.BaseHash, RemoteHash: parsed.Hash, Owns: src.Owns, Strategy: src.Strategy,
			}).Get(ctx, &merged)
		}); err != nil {
			return err
		}
		docHash := merged.MergedHash
		if len(merged.Conflicts) > 0 {
			j.st.Conflicts = max(merged.ConflictCount, len(merged.Conflicts))
			h, err := j.resolveConflicts(ctx, merged)
			if err != nil {
				return err
			}
			docHash = h
		}
		info := workflow.GetInfo(ctx)
		err := j.step(ctx, StepStore, func(ctx workflow.Context) error {
			return workflow.ExecuteActivity(ctx, a.StoreVersion, activities.StoreInput{
				API: api, Source: src, ParentVer: merged.HeadVersion, DocHash: docHash, Decisions: j.decisions,
				BaseHash: parsed.Hash, RawHash: fetched.RawHash, ETag: fetched.ETag, LastMod: fetched.LastModified,
				Counts: parsed.Counts, Diff: diff, DiffOldHash: fetched.BaseHash,
				Key: info.WorkflowExecution.ID + "/" + info.WorkflowExecution.RunID,
			}).Get(ctx, &stored)
		})
		var appErr *temporal.ApplicationError
		if err != nil && errors.As(err, &appErr) && appErr.Type() == activities.ErrTypeHeadMoved && attempt < 5 {
			continue
		}
		if err != nil {
			return err
		}
		break
	}
	j.st.Version, j.st.VersionHash = stored.Version, stored.Hash
	if !stored.Created {
		j.st.NoChange = true
		j.st.Message = "the merged document equals the current version"
	} else {
		j.st.ChangesDetected, j.st.BreakingChanges = stored.Changes, stored.Breaking
		if stored.ReportHash != "" {
			// The version's own report: the bullets are the changes counted.
			j.st.ReportHash, j.top = stored.ReportHash, stored.Top
		}
	}

	// Delivery failures are reported, never fatal: the version is stored.
	// The event is built once: every retry and re-delivery of its
	// idempotency key sends the same bytes.
	info := workflow.GetInfo(ctx)
	event := activities.NotifyInput{
		Event: EventSyncCompleted, JobID: j.in.ID, SourceID: src.ID, API: api, Version: stored.Version, Hash: stored.Hash,
		Changes: j.st.ChangesDetected, Breaking: j.st.BreakingChanges, Key: info.WorkflowExecution.ID + "/" + info.WorkflowExecution.RunID,
		Time: workflow.Now(ctx),
	}
	_ = j.step(ctx, StepNotify, func(ctx workflow.Context) error {
		return workflow.ExecuteActivity(ctx, a.Notify, event).Get(ctx, nil)
	})
	return nil
}

// step runs one pipeline step: it waits while paused, honours stop, and
// retries failures with exponential backoff up to maxRetries, recording
// every attempt in the status.
func (j *syncJob) step(ctx workflow.Context, name string, fn func(workflow.Context) error) error {
	idx := len(j.st.Steps)
	j.st.Steps = append(j.st.Steps, StepInfo{Name: name, Status: StatusPending})
	opts := ActivityOptions(name)
	opts.StartToCloseTimeout = StartToCloseFor(name, j.docBytes)
	if j.in.StepTimeout > 0 {
		opts.StartToCloseTimeout = j.in.StepTimeout.Std()
	}
	opts.Priority = temporal.Priority{PriorityKey: PriorityKey(j.in.Priority)}
	actx := workflow.WithActivityOptions(ctx, opts)
	backoff := j.in.RetryInitialInterval.Std()
	losses := 0
	for attempt := 1; ; attempt++ {
		if err := j.waitIfPaused(ctx); err != nil {
			j.st.Steps[idx].Status = StatusStopped
			return err
		}
		now := workflow.Now(ctx)
		j.st.Status, j.st.Step, j.st.LastAttempt, j.st.NextAttempt = StatusRunning, name, &now, nil
		j.st.Steps[idx].Status, j.st.Steps[idx].Attempts = StatusRunning, attempt
		if j.sa.set[SearchAttrOutcome.GetName()] == OutcomeWaiting {
			// A person answered: the job runs again.
			j.upsertOutcome(ctx, "", false)
		}
		j.publish(ctx)
		err := fn(actx)
		tookD := workflow.Now(ctx).Sub(now)
		took := tookD.Milliseconds()
		j.st.Steps[idx].DurationMs += took
		j.st.StepDurations[name] += took
		workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"step": name}).Timer(MetricStepDuration).Record(tookD)
		if err == nil {
			j.st.Steps[idx].Status, j.st.Steps[idx].Error = StatusCompleted, ""
			return nil
		}
		msg := errorText(err)
		j.st.LastError, j.st.Steps[idx].Error = msg, msg
		if workerLost(err) && losses < maxWorkerLosses &&
			workflow.GetVersion(ctx, "worker-loss-retry", workflow.DefaultVersion, 1) >= 1 {
			// The worker died mid-step (no heartbeat): another worker takes
			// the step at once, and the job's retries stay untouched.
			losses++
			j.st.WorkerLosses++
			attempt--
			workflow.GetLogger(ctx).Warn("step lost with its worker; running it again", "step", name, "losses", losses)
			continue
		}
		if !retryable(err) || attempt > *j.in.MaxRetries {
			j.st.Steps[idx].Status = StatusFailed
			return err
		}
		j.st.RetryCount++
		next := workflow.Now(ctx).Add(backoff)
		j.st.NextAttempt = &next
		workflow.GetLogger(ctx).Warn("step failed; retrying", "step", name, "attempt", attempt, "retryIn", backoff, "error", msg)
		// Sleep, but wake for stop.
		if _, err := workflow.AwaitWithTimeout(ctx, backoff, func() bool { return j.stop }); err != nil {
			return err
		}
		backoff *= 2
		if max := j.in.RetryMaxInterval.Std(); backoff > max {
			backoff = max
		}
	}
}

// syncSignals lets the signal goroutine handle every signal delivered so
// far (a pause that arrived in the same workflow task as the end of a step
// must hold the next step), by passing it a barrier and waiting for it.
func (j *syncJob) syncSignals(ctx workflow.Context) error {
	j.barrier++
	n := j.barrier
	j.barrierCh.Send(ctx, n)
	return workflow.Await(ctx, func() bool { return j.barrierAck >= n })
}

func (j *syncJob) waitIfPaused(ctx workflow.Context) error {
	if err := j.syncSignals(ctx); err != nil {
		return err
	}
	if j.st.Paused && !j.stop {
		j.st.Status = StatusPaused
		if err := workflow.Await(ctx, func() bool { return !j.st.Paused || j.stop }); err != nil {
			return err
		}
	}
	if j.stop {
		return errStopped
	}
	return nil
}

// finish records the outcome in the status and builds the result.
func (j *syncJob) finish(ctx workflow.Context, err error) (*SyncJobResult, error) {
	// Let update handlers that are still running finish first.
	_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
	now := workflow.Now(ctx)
	lastStep := j.st.Step
	if j.st.Waiting != nil {
		lastStep = j.st.Waiting.Kind
	}
	j.st.FinishedAt, j.st.NextAttempt, j.st.Waiting = &now, nil, nil
	j.st.Step = StepDone
	res := &SyncJobResult{
		ID: j.st.ID, SourceID: j.st.SourceID, API: j.st.API, NoChange: j.st.NoChange,
		Version: j.st.Version, VersionHash: j.st.VersionHash, Changes: j.st.ChangesDetected,
		BreakingChanges: j.st.BreakingChanges, ReportHash: j.st.ReportHash, TopChanges: j.top,
		Paths: j.count[0], Operations: j.count[1], Schemas: j.count[2], SpecVersion: j.specV,
		Message: j.st.Message, Blocked: j.st.Blocked, Conflicts: j.st.Conflicts, Decisions: j.st.Decisions, DurationMs: now.Sub(j.st.StartedAt).Milliseconds(), Steps: j.st.Steps,
	}
	switch {
	case err == nil:
		j.st.Status = StatusCompleted
	case errors.Is(err, errStopped):
		j.st.Status, j.st.Message = StatusStopped, "stopped on request at "+lastStep
		res.Message = j.st.Message
		err = nil
	case temporal.IsCanceledError(err):
		j.st.Status, j.st.Message = StatusStopped, "cancelled"
		res.Status, res.Message = j.st.Status, j.st.Message
		j.close(ctx, res)
		j.record(ctx, res)
		j.report(ctx, res)
		return res, err
	default:
		j.st.Status = StatusFailed
		j.st.LastError = errorText(err)
		res.Error = j.st.LastError
		res.Status = j.st.Status
		workflow.GetLogger(ctx).Error("sync failed", "source", j.st.SourceID, "error", j.st.LastError)
		// Fail the workflow so the UI and the CLI show it, with the clear text.
		var appErr *temporal.ApplicationError
		errType := "SyncFailed"
		if errors.As(err, &appErr) {
			errType = appErr.Type()
		}
		j.close(ctx, res)
		j.notifyFailed(ctx, res)
		j.record(ctx, res)
		j.report(ctx, res)
		return res, temporal.NewNonRetryableApplicationError(j.st.LastError, errType, nil, res)
	}
	res.Status = j.st.Status
	j.close(ctx, res)
	j.record(ctx, res)
	j.report(ctx, res)
	return res, err
}

// close records the run's outcome in the status, the result, the search
// attributes and the details.
func (j *syncJob) close(ctx workflow.Context, res *SyncJobResult) {
	j.st.Outcome = j.outcome()
	res.Outcome = j.st.Outcome
	j.upsertOutcome(ctx, j.st.Outcome, true)
	j.publish(ctx)
}

func (j *syncJob) record(ctx workflow.Context, res *SyncJobResult) {
	result := res.Status
	switch {
	case res.Status == StatusCompleted && res.Blocked:
		result = "blocked"
	case res.Status == StatusCompleted && res.NoChange:
		result = "nochange"
	}
	mh := workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"source": res.SourceID, "api": res.API})
	mh.WithTags(map[string]string{"result": result}).Counter(MetricSyncs).Inc(1)
	mh.Timer(MetricSyncDuration).Record(time.Duration(res.DurationMs) * time.Millisecond)
	if res.Changes > 0 {
		mh.Counter(MetricChanges).Inc(int64(res.Changes))
	}
	if res.BreakingChanges > 0 {
		mh.Counter(MetricBreakingChanges).Inc(int64(res.BreakingChanges))
	}
	if res.Conflicts > 0 {
		mh.Counter(MetricConflicts).Inc(int64(res.Conflicts))
	}
}

// notifyFailed sends the sync.failed event; a delivery failure changes nothing.
func (j *syncJob) notifyFailed(ctx workflow.Context, res *SyncJobResult) {
	var a *activities.Activities
	info := workflow.GetInfo(ctx)
	actx := workflow.WithActivityOptions(ctx, ActivityOptions(PolicyNotifyFailed))
	_ = workflow.ExecuteActivity(actx, a.Notify, activities.NotifyInput{
		Event: EventSyncFailed, JobID: res.ID, SourceID: res.SourceID, API: res.API, Error: res.Error,
		Key: info.WorkflowExecution.ID + "/" + info.WorkflowExecution.RunID + "/failed", Time: workflow.Now(ctx),
	}).Get(ctx, nil)
}

// errorText is the innermost readable message of an activity error.
func errorText(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	var toErr *temporal.TimeoutError
	if errors.As(err, &toErr) {
		return "step timed out (" + toErr.TimeoutType().String() + ")"
	}
	return err.Error()
}

// maxWorkerLosses bounds how often one step may be lost with its worker
// before losses count as failures (a document that kills every worker
// must not loop forever).
const maxWorkerLosses = 5

// workerLost is true when a step's worker stopped heartbeating: it died or
// lost its connection, and the step did not fail on its own.
func workerLost(err error) bool {
	var toErr *temporal.TimeoutError
	return errors.As(err, &toErr) && toErr.TimeoutType() == enumspb.TIMEOUT_TYPE_HEARTBEAT
}

func retryable(err error) bool {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return !appErr.NonRetryable()
	}
	return !temporal.IsCanceledError(err)
}
