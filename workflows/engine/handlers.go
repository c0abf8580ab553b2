package engine

import (
	"errors"
	"fmt"
	"hash/fnv"

	"go.temporal.io/sdk/workflow"

	"github.com/apilivesync/apilivesync/activities"
	"github.com/apilivesync/apilivesync/internal/source"
	"github.com/apilivesync/apilivesync/workflows/syncjob"
)

// register installs the engine's queries and updates, each update with its
// validator beside it. Validators check what needs no I/O; what needs the
// registry (is a source registered?) is checked by the activity, whose
// error the update returns.
func (e *engine) register(ctx workflow.Context) error {
	if err := errors.Join(
		workflow.SetQueryHandler(ctx, QueryGetSyncStatus, e.getSyncStatus),
		workflow.SetQueryHandler(ctx, QueryGetConfig, func() (EngineConfig, error) { return e.st.Config, nil }),
		workflow.SetQueryHandler(ctx, QueryMetrics, func() (SyncEngineMetrics, error) { return e.metrics(ctx), nil }),
	); err != nil {
		return err
	}
	return errors.Join(
		setUpdate(ctx, UpdateAddSource, e.addSource, validateSource),
		setUpdate(ctx, UpdateAddSyncJob, e.addSyncJob, validateAddSyncJob),
		setUpdate(ctx, UpdateUpdateSource, e.updateSource, validateSource),
		setUpdate(ctx, UpdateRemoveSyncJob, e.removeSyncJobs, validateRemove),
		setUpdate(ctx, UpdateUpdateConfig, e.updateConfig, func(_ workflow.Context, c EngineConfig) error { return c.validate() }),
		setUpdate(ctx, UpdateApplyConfig, e.applyConfig, validateApply),
		setUpdate(ctx, UpdateStartSync, e.startSync, validateSelect),
		setUpdate(ctx, UpdateStopSync, e.stopSync, validateSelect),
		setUpdate(ctx, UpdatePauseSync, e.pauseSync, validateSelect),
		setUpdate(ctx, UpdateResumeSync, e.resumeSync, validateSelect),
		setUpdate(ctx, UpdateReportSync, e.reportSync, func(workflow.Context, ReportArg) error { return nil }),
	)
}

// setUpdate registers one typed update handler with its validator.
func setUpdate[I, O any](ctx workflow.Context, name string, handler func(workflow.Context, I) (O, error), validator func(workflow.Context, I) error) error {
	return workflow.SetUpdateHandlerWithOptions(ctx, name, handler, workflow.UpdateHandlerOptions{Validator: validator})
}

// withLock runs fn holding the engine's mutex, so updates that run
// activities do not interleave.
func withLock[T any](ctx workflow.Context, e *engine, fn func() (T, error)) (T, error) {
	if err := e.mu.Lock(ctx); err != nil {
		var zero T
		return zero, err
	}
	defer e.mu.Unlock()
	e.events++
	return fn()
}

// getSyncStatus lists the syncs the engine is acting on: those running
// and those waiting for a dependency. The whole registry, which lives in
// the store, is paged by `starter engine status` (registry.Page).
func (e *engine) getSyncStatus() ([]JobInfo, error) {
	out := make([]JobInfo, 0, len(e.st.Active)+len(e.st.Waiting))
	for _, id := range workflow.DeterministicKeys(e.st.Active) {
		a := e.st.Active[id]
		out = append(out, JobInfo{ID: id, Running: true, LastWorkflowID: a.WorkflowID, LastRunID: a.RunID, Enabled: true})
	}
	for _, w := range e.st.Waiting {
		out = append(out, JobInfo{ID: w.ID, Source: w.Source, Queued: true, Enabled: true,
			Held: fmt.Sprintf("waiting for %v", w.Waits)})
	}
	return out, nil
}

func (e *engine) metrics(ctx workflow.Context) SyncEngineMetrics {
	m := e.st.Metrics
	if m.TotalSyncs > 0 {
		m.AverageSyncTime = float64(e.st.TotalMs) / float64(m.TotalSyncs)
	}
	m.ActiveJobs, m.QueueLength, m.RegisteredSources = len(e.st.Active), e.st.Queued+len(e.st.Waiting)+len(e.st.Due), e.st.Registered
	m.StartedAt = e.st.StartedAt
	m.Uptime = workflow.Now(ctx).Sub(e.st.StartedAt).Milliseconds()
	m.Paused = e.st.Config.Paused
	return m
}

func validateSource(_ workflow.Context, s source.Source) error {
	//workflowcheck:ignore (validation only)
	return s.Validate()
}

func (e *engine) addSource(ctx workflow.Context, s source.Source) (JobInfo, error) {
	return withLock(ctx, e, func() (JobInfo, error) { return e.upsert(ctx, s, nil, activities.ApplyAdd) })
}

func (e *engine) updateSource(ctx workflow.Context, s source.Source) (JobInfo, error) {
	return withLock(ctx, e, func() (JobInfo, error) { return e.upsert(ctx, s, nil, activities.ApplyUpdate) })
}

func (e *engine) addSyncJob(ctx workflow.Context, in syncjob.SyncJobInput) (JobInfo, error) {
	//workflowcheck:ignore (validation only)
	if err := in.Normalize(); err != nil {
		return JobInfo{}, err
	}
	in.Source.Priority = in.Priority
	return withLock(ctx, e, func() (JobInfo, error) { return e.upsert(ctx, in.Source, in.MaxRetries, activities.ApplyAdd) })
}

func validateAddSyncJob(_ workflow.Context, in syncjob.SyncJobInput) error {
	//workflowcheck:ignore (validation only)
	if err := in.Normalize(); err != nil {
		return err
	}
	if in.ID != in.SourceID {
		return fmt.Errorf("the engine runs one job per source: id %q must equal sourceId %q", in.ID, in.SourceID)
	}
	return nil
}

func (e *engine) removeSyncJobs(ctx workflow.Context, in RemoveInput) (SelectResult, error) {
	return withLock(ctx, e, func() (SelectResult, error) {
		var ea *activities.EngineActivities
		var n int
		e.events++
		if err := workflow.ExecuteActivity(registryCtx(ctx), ea.RemoveSources, in.IDs).Get(ctx, &n); err != nil {
			return SelectResult{}, err
		}
		e.st.Registered = max(e.st.Registered-n, 0)
		e.notify(ctx, syncjob.EventSourceRemoved, apis(in.IDs))
		return SelectResult{IDs: in.IDs, Count: n}, nil
	})
}

func validateRemove(_ workflow.Context, in RemoveInput) error {
	if len(in.IDs) == 0 {
		return errors.New("name the jobs to remove")
	}
	return nil
}

func (e *engine) updateConfig(ctx workflow.Context, c EngineConfig) (EngineConfig, error) {
	_, err := withLock(ctx, e, func() (struct{}, error) { return struct{}{}, e.setConfig(ctx, c) })
	return e.st.Config, err
}

func (e *engine) applyConfig(ctx workflow.Context, in ApplyInput) (ApplyResult, error) {
	return withLock(ctx, e, func() (ApplyResult, error) { return e.apply(ctx, in) })
}

func validateApply(_ workflow.Context, in ApplyInput) error {
	var errs []error
	seen := map[string]bool{}
	for _, s := range in.Sources {
		//workflowcheck:ignore (validation only)
		if err := s.Validate(); err != nil {
			errs = append(errs, err)
		}
		if seen[s.ID] {
			errs = append(errs, fmt.Errorf("source %q is declared twice", s.ID))
		}
		seen[s.ID] = true
	}
	if in.Generation == "" && !in.More {
		// No cycle among the declared sources; without Keep, the whole set
		// is here, so a dependency must name one of them (with Keep, the
		// registry is asked when the sources are applied).
		//workflowcheck:ignore (validation only)
		if err := source.CheckDependencies(in.Sources, func(string) bool { return in.Keep }); err != nil {
			errs = append(errs, err)
		}
	}
	if in.Config != nil {
		if err := in.Config.validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// startSync queues syncs of the selected sources; paused and disabled
// sources are skipped, and the result says why.
func (e *engine) startSync(ctx workflow.Context, in SelectInput) (SelectResult, error) {
	return withLock(ctx, e, func() (SelectResult, error) {
		r, err := e.enqueue(ctx, activities.Selection{IDs: in.IDs, API: in.API}, syncjob.TriggerEngine)
		if err != nil {
			return SelectResult{}, err
		}
		return SelectResult{IDs: r.IDs, Count: r.Count, Skipped: r.Skipped}, nil
	})
}

func (e *engine) stopSync(ctx workflow.Context, in SelectInput) (SelectResult, error) {
	return withLock(ctx, e, func() (SelectResult, error) {
		var ea *activities.EngineActivities
		var r activities.SelectResult
		e.events++
		err := workflow.ExecuteActivity(registryCtx(ctx), ea.UnqueueSyncs, activities.Selection{IDs: in.IDs, API: in.API}).Get(ctx, &r)
		if err != nil {
			return SelectResult{}, err
		}
		e.st.Queued = max(e.st.Queued-r.Count, 0)
		var waiting []activities.DispatchItem
		for _, w := range e.st.Waiting {
			if !selected(in, w.ID, w.Source) {
				waiting = append(waiting, w)
			}
		}
		e.st.Waiting = waiting
		var ids []string
		if len(in.IDs) > 0 || in.API != "" {
			ids = r.IDs
			for _, id := range workflow.DeterministicKeys(e.st.Active) {
				if len(in.IDs) > 0 && contains(in.IDs, id) {
					ids = appendNew(ids, id)
				}
			}
		}
		res := SelectResult{IDs: r.IDs, Count: r.Count}
		for _, id := range workflow.DeterministicKeys(e.st.Active) {
			if (len(in.IDs) == 0 && in.API == "") || contains(in.IDs, id) {
				if !contains(res.IDs, id) {
					res.IDs = append(res.IDs, id)
					res.Count++
				}
			}
		}
		return res, e.signalJobs(ctx, ids, syncjob.SignalStop)
	})
}

func selected(in SelectInput, id string, s source.Source) bool {
	if len(in.IDs) > 0 {
		return contains(in.IDs, id)
	}
	return in.API == "" || s.APIID() == in.API
}

func contains(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func appendNew(ids []string, id string) []string {
	if contains(ids, id) {
		return ids
	}
	return append(ids, id)
}

// reportSync counts a job's report; it runs no activity, so it finishes
// in the workflow task that delivers it.
func (e *engine) reportSync(ctx workflow.Context, r ReportArg) (struct{}, error) {
	// Temporal drops a repeated update ID within a run; a report retried
	// after the run continued as new is dropped here.
	if info := workflow.GetCurrentUpdateInfo(ctx); info != nil && e.seen(info.ID) {
		return struct{}{}, nil
	}
	if r.Finished {
		e.onFinished(ctx, r.Report)
	} else {
		e.onStarted(r.Report)
	}
	return struct{}{}, nil
}

func (e *engine) pauseSync(ctx workflow.Context, in SelectInput) (SelectResult, error) {
	return withLock(ctx, e, func() (SelectResult, error) { return e.pause(ctx, in, true) })
}

func (e *engine) resumeSync(ctx workflow.Context, in SelectInput) (SelectResult, error) {
	return withLock(ctx, e, func() (SelectResult, error) { return e.pause(ctx, in, false) })
}

func validateSelect(_ workflow.Context, in SelectInput) error {
	for _, id := range in.IDs {
		if err := source.ValidID("source", id); err != nil {
			return err
		}
	}
	return nil
}

// recentReports bounds the report IDs the engine remembers across
// continue-as-new (about 11 KB as JSON).
const recentReports = 1024

// seen says whether a report ID was counted recently, and remembers it.
func (e *engine) seen(id string) bool {
	h := fnv.New32a()
	h.Write([]byte(id))
	sum := h.Sum32()
	for _, x := range e.st.Recent {
		if x == sum {
			return true
		}
	}
	e.st.Recent = append(e.st.Recent, sum)
	if len(e.st.Recent) > recentReports {
		e.st.Recent = e.st.Recent[len(e.st.Recent)-recentReports:]
	}
	return false
}
