package engine

import (
	"errors"
	"fmt"
	"github.com/apilivesync/apilivesync/activities"

	"go.temporal.io/sdk/workflow"

	"github.com/apilivesync/apilivesync/internal/source"
	"github.com/apilivesync/apilivesync/workflows/syncjob"
)

// register installs the engine's queries and updates, each update with its
// validator beside it.
func (e *engine) register(ctx workflow.Context) error {
	if err := errors.Join(
		workflow.SetQueryHandler(ctx, QueryGetSyncStatus, e.getSyncStatus),
		workflow.SetQueryHandler(ctx, QueryGetConfig, func() (EngineConfig, error) { return e.st.Config, nil }),
		workflow.SetQueryHandler(ctx, QueryMetrics, func() (SyncEngineMetrics, error) { return e.metrics(ctx), nil }),
	); err != nil {
		return err
	}
	return errors.Join(
		setUpdate(ctx, UpdateAddSource, e.addSource, e.validateAddSource),
		setUpdate(ctx, UpdateAddSyncJob, e.addSyncJob, e.validateAddSyncJob),
		setUpdate(ctx, UpdateUpdateSource, e.updateSource, e.validateUpdateSource),
		setUpdate(ctx, UpdateRemoveSyncJob, e.removeSyncJobs, e.validateRemove),
		setUpdate(ctx, UpdateUpdateConfig, e.updateConfig, func(_ workflow.Context, c EngineConfig) error { return c.validate() }),
		setUpdate(ctx, UpdateApplyConfig, e.applyConfig, e.validateApply),
		setUpdate(ctx, UpdateStartSync, e.startSync, e.validateSelect),
		setUpdate(ctx, UpdateStopSync, e.stopSync, e.validateSelect),
		setUpdate(ctx, UpdatePauseSync, e.pauseSync, e.validateSelect),
		setUpdate(ctx, UpdateResumeSync, e.resumeSync, e.validateSelect),
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

func (e *engine) getSyncStatus() ([]JobInfo, error) {
	queued := map[string]bool{}
	for _, id := range e.st.Queue {
		queued[id] = true
	}
	out := make([]JobInfo, 0, len(e.st.Jobs))
	for _, id := range e.ids() {
		j := *e.st.Jobs[id]
		j.Queued = queued[id]
		out = append(out, j)
	}
	return out, nil
}

func (e *engine) metrics(ctx workflow.Context) SyncEngineMetrics {
	m := e.st.Metrics
	if m.TotalSyncs > 0 {
		m.AverageSyncTime = float64(e.st.TotalMs) / float64(m.TotalSyncs)
	}
	//workflowcheck:ignore (order-independent: validation, counting, encoding/json sorts map keys)
	m.ActiveJobs, m.QueueLength, m.RegisteredSources = e.running(), len(e.st.Queue), len(e.st.Jobs)
	m.StartedAt = e.st.StartedAt
	m.Uptime = workflow.Now(ctx).Sub(e.st.StartedAt).Milliseconds()
	return m
}

func (e *engine) addSource(ctx workflow.Context, s source.Source) (JobInfo, error) {
	j, err := withLock(ctx, e, func() (JobInfo, error) { return e.checkedUpsert(ctx, s, nil) })
	if err == nil {
		e.notify(ctx, syncjob.EventSourceAdded, []string{s.ID})
	}
	return j, err
}

func (e *engine) validateAddSource(_ workflow.Context, s source.Source) error {
	//workflowcheck:ignore (order-independent: validation, counting, encoding/json sorts map keys)
	if err := s.Validate(); err != nil {
		return err
	}
	if _, ok := e.st.Jobs[s.ID]; ok {
		return fmt.Errorf("source %q is already registered: use %s", s.ID, UpdateUpdateSource)
	}
	return nil
}

func (e *engine) addSyncJob(ctx workflow.Context, in syncjob.SyncJobInput) (JobInfo, error) {
	//workflowcheck:ignore (order-independent: validation, counting, encoding/json sorts map keys)
	if err := in.Normalize(); err != nil {
		return JobInfo{}, err
	}
	in.Source.Priority = in.Priority
	return withLock(ctx, e, func() (JobInfo, error) { return e.checkedUpsert(ctx, in.Source, in.MaxRetries) })
}

func (e *engine) validateAddSyncJob(_ workflow.Context, in syncjob.SyncJobInput) error {
	//workflowcheck:ignore (order-independent: validation, counting, encoding/json sorts map keys)
	if err := in.Normalize(); err != nil {
		return err
	}
	if in.ID != in.SourceID {
		return fmt.Errorf("the engine runs one job per source: id %q must equal sourceId %q", in.ID, in.SourceID)
	}
	if _, ok := e.st.Jobs[in.SourceID]; ok {
		return fmt.Errorf("job %q is already registered: use %s", in.SourceID, UpdateUpdateSource)
	}
	return nil
}

func (e *engine) updateSource(ctx workflow.Context, s source.Source) (JobInfo, error) {
	return withLock(ctx, e, func() (JobInfo, error) { return e.checkedUpsert(ctx, s, nil) })
}

func (e *engine) validateUpdateSource(_ workflow.Context, s source.Source) error {
	//workflowcheck:ignore (order-independent: validation, counting, encoding/json sorts map keys)
	if err := s.Validate(); err != nil {
		return err
	}
	if _, ok := e.st.Jobs[s.ID]; !ok {
		return fmt.Errorf("no source %q: use %s", s.ID, UpdateAddSource)
	}
	return nil
}

func (e *engine) removeSyncJobs(ctx workflow.Context, in RemoveInput) (SelectResult, error) {
	return withLock(ctx, e, func() (SelectResult, error) {
		for _, id := range in.IDs {
			if err := e.remove(ctx, id); err != nil {
				return SelectResult{}, err
			}
		}
		e.notify(ctx, syncjob.EventSourceRemoved, in.IDs)
		return SelectResult{IDs: in.IDs}, nil
	})
}

func (e *engine) validateRemove(_ workflow.Context, in RemoveInput) error {
	if len(in.IDs) == 0 {
		return errors.New("name the jobs to remove")
	}
	for _, id := range in.IDs {
		if _, ok := e.st.Jobs[id]; !ok {
			return fmt.Errorf("no job %q", id)
		}
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

func (e *engine) validateApply(_ workflow.Context, in ApplyInput) error {
	var errs []error
	seen := map[string]bool{}
	for _, s := range in.Sources {
		//workflowcheck:ignore (order-independent: validation, counting, encoding/json sorts map keys)
		if err := s.Validate(); err != nil {
			errs = append(errs, err)
		}
		if seen[s.ID] {
			errs = append(errs, fmt.Errorf("source %q is declared twice", s.ID))
		}
		seen[s.ID] = true
	}
	if in.Config != nil {
		if err := in.Config.validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (e *engine) startSync(_ workflow.Context, in SelectInput) (SelectResult, error) {
	ids := e.selectIDs(in)
	queued := map[string]bool{}
	for _, id := range e.st.Queue {
		queued[id] = true
	}
	for _, id := range ids {
		if !queued[id] && e.st.Jobs[id].Source.IsEnabled() {
			e.st.Queue = append(e.st.Queue, id)
			queued[id] = true
		}
	}
	e.sortQueue()
	return SelectResult{IDs: ids}, nil
}

func (e *engine) stopSync(ctx workflow.Context, in SelectInput) (SelectResult, error) {
	ids := e.selectIDs(in)
	drop := map[string]bool{}
	for _, id := range ids {
		drop[id] = true
	}
	var q []string
	for _, id := range e.st.Queue {
		if !drop[id] {
			q = append(q, id)
		}
	}
	e.st.Queue = q
	return SelectResult{IDs: ids}, e.signalJobs(ctx, in, ids, syncjob.SignalStop)
}

func (e *engine) pauseSync(ctx workflow.Context, in SelectInput) (SelectResult, error) {
	return withLock(ctx, e, func() (SelectResult, error) { return e.pause(ctx, in, true) })
}

func (e *engine) resumeSync(ctx workflow.Context, in SelectInput) (SelectResult, error) {
	return withLock(ctx, e, func() (SelectResult, error) { return e.pause(ctx, in, false) })
}

func (e *engine) validateSelect(_ workflow.Context, in SelectInput) error {
	for _, id := range in.IDs {
		if _, ok := e.st.Jobs[id]; !ok {
			return fmt.Errorf("no job %q", id)
		}
	}
	if in.API != "" && len(e.selectIDs(in)) == 0 {
		return fmt.Errorf("no job feeds api %q", in.API)
	}
	return nil
}

// checkSources has a worker check sources against its operator's policy
// (guard, file roots, secret allow-list) before they are registered: what
// fetch would refuse later is refused now. Added after the first recorded
// histories, so gated.
func (e *engine) checkSources(ctx workflow.Context, sources []source.Source) error {
	if len(sources) == 0 || workflow.GetVersion(ctx, "check-sources", workflow.DefaultVersion, 1) < 1 {
		return nil
	}
	var ea *activities.EngineActivities
	return workflow.ExecuteActivity(engineActivityCtx(ctx), ea.CheckSources, sources).Get(ctx, nil)
}

func (e *engine) checkedUpsert(ctx workflow.Context, s source.Source, maxRetries *int) (JobInfo, error) {
	if err := e.checkSources(ctx, []source.Source{s}); err != nil {
		return JobInfo{}, err
	}
	return e.upsert(ctx, s, maxRetries)
}
