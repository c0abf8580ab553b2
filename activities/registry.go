package activities

import (
	"bytes"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/apilivesync/apilivesync/internal/registry"
	"github.com/apilivesync/apilivesync/internal/source"
)

// The registry activities keep the SyncEngine's registry of sources in the
// store (package registry), so the engine's own state stays O(1).

// ScheduleTemplate is what every source's schedule starts, and the
// engine-wide settings that shape it.
type ScheduleTemplate struct {
	Workflow         string `json:"workflow"`
	TaskQueue        string `json:"taskQueue"`
	WorkflowIDPrefix string `json:"workflowIdPrefix"` // + source ID
	EngineID         string `json:"engineId"`
	EnginePaused     bool   `json:"enginePaused,omitempty"`
	// Jitter, when set, replaces the default of 10% of the interval (at most 1m).
	Jitter time.Duration `json:"jitter,omitempty"`
}

func (t ScheduleTemplate) jitter(interval time.Duration) time.Duration {
	if t.Jitter > 0 {
		return t.Jitter
	}
	return min(interval/10, time.Minute)
}

// reconcileSchedule makes j's schedule match its source, pause state and the template.
func (a *EngineActivities) reconcileSchedule(ctx context.Context, j *registry.Job, t ScheduleTemplate) error {
	interval := j.Source.RefreshInterval.Std()
	if interval <= 0 || !j.Enabled {
		if j.Scheduled {
			if err := a.DeleteSchedule(ctx, j.ID); err != nil {
				return err
			}
		}
		j.Scheduled = false
		return nil
	}
	note := j.PausedReason
	if t.EnginePaused {
		note = "the engine is paused"
	}
	err := a.UpsertSchedule(ctx, ScheduleInput{
		Source: j.Source, Interval: interval, Jitter: t.jitter(interval),
		Paused: t.EnginePaused || j.Paused || j.PausedReason != "", Note: note,
		Workflow: t.Workflow, TaskQueue: t.TaskQueue, WorkflowIDPrefix: t.WorkflowIDPrefix + j.ID,
		Args:        []any{map[string]string{"sourceId": j.ID, "engine": t.EngineID}},
		PriorityKey: source.PriorityKey(j.Source.Priority),
	})
	if err != nil {
		return err
	}
	j.Scheduled = true
	return nil
}

// Apply modes.
const (
	ApplyUpsert = ""       // add or update
	ApplyAdd    = "add"    // refuse a registered source
	ApplyUpdate = "update" // refuse an unregistered source
)

// ApplySourcesInput registers or updates sources (one chunk of an apply).
type ApplySourcesInput struct {
	Sources    []source.Source  `json:"sources"`
	MaxRetries *int             `json:"maxRetries,omitempty"`
	Mode       string           `json:"mode,omitempty"`
	Generation string           `json:"generation,omitempty"`
	Schedule   ScheduleTemplate `json:"schedule"`
	// CheckDeps refuses a dependsOn naming a source neither registered nor
	// in this input (a chunked apply checks the whole file before it starts).
	CheckDeps bool `json:"checkDeps,omitempty"`
}

// ApplySourcesResult says what a chunk changed; Jobs are the records
// written (only for a single source).
type ApplySourcesResult struct {
	Added     []string       `json:"added"`
	Updated   []string       `json:"updated"`
	Unchanged []string       `json:"unchanged"`
	Jobs      []registry.Job `json:"jobs,omitempty"`
}

// ApplySources checks sources against the worker's policy, then writes
// each one that differs from its record and reconciles its schedule.
// Applying the same chunk twice changes nothing the second time.
func (a *EngineActivities) ApplySources(ctx context.Context, in ApplySourcesInput) (*ApplySourcesResult, error) {
	res := &ApplySourcesResult{Added: []string{}, Updated: []string{}, Unchanged: []string{}}
	var changed []source.Source
	type pending struct {
		j   *registry.Job
		new bool
	}
	var todo []pending
	for _, s := range in.Sources {
		j, err := a.Registry.Get(ctx, s.ID)
		switch {
		case errors.Is(err, registry.ErrNotFound):
			if in.Mode == ApplyUpdate {
				return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("no source %q: add it first", s.ID), ErrTypeSource, nil)
			}
			todo = append(todo, pending{&registry.Job{ID: s.ID, Source: s, Enabled: s.IsEnabled(), ScheduleID: ScheduleID(s.ID), MaxRetries: in.MaxRetries}, true})
			changed = append(changed, s)
		case err != nil:
			return nil, err
		case in.Mode == ApplyAdd:
			return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("source %q is already registered", s.ID), ErrTypeSource, nil)
		default:
			if equalJSON(j.Source, s) && (in.MaxRetries == nil || equalJSON(j.MaxRetries, in.MaxRetries)) {
				res.Unchanged = append(res.Unchanged, s.ID)
				if in.Generation != "" && j.Generation != in.Generation {
					j.Generation = in.Generation
					if err := a.Registry.Put(ctx, j); err != nil {
						return nil, err
					}
				}
				continue
			}
			j.Source, j.Enabled = s, s.IsEnabled()
			if in.MaxRetries != nil {
				j.MaxRetries = in.MaxRetries
			}
			todo = append(todo, pending{j, false})
			changed = append(changed, s)
		}
	}
	if err := a.CheckSources(ctx, changed); err != nil {
		return nil, err
	}
	if in.CheckDeps {
		known := func(id string) bool { _, err := a.Registry.Get(ctx, id); return err == nil }
		if err := source.CheckDependencies(in.Sources, known); err != nil {
			return nil, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeSource, nil)
		}
	}
	for _, p := range todo {
		activity.RecordHeartbeat(ctx, p.j.ID)
		p.j.Generation = in.Generation
		if err := a.reconcileSchedule(ctx, p.j, in.Schedule); err != nil {
			return nil, err
		}
		if err := a.Registry.Put(ctx, p.j); err != nil {
			return nil, err
		}
		if p.new {
			res.Added = append(res.Added, p.j.ID)
		} else {
			res.Updated = append(res.Updated, p.j.ID)
		}
		if len(in.Sources) == 1 {
			res.Jobs = append(res.Jobs, *p.j)
		}
	}
	return res, nil
}

// FinishApplyResult lists (up to 1,000 of) the sources an apply removed.
type FinishApplyResult struct {
	Removed []string `json:"removed"`
	Count   int      `json:"count"`
	// Registered is the number of sources registered afterwards.
	Registered int `json:"registered"`
}

// FinishApply removes every source the apply of generation did not
// declare, with its schedule and queue entry (keep: none), and counts the
// registry.
func (a *EngineActivities) FinishApply(ctx context.Context, generation string, keep bool) (*FinishApplyResult, error) {
	res := &FinishApplyResult{Removed: []string{}}
	var drop []*registry.Job
	err := a.Registry.Each(ctx, func(j *registry.Job) error {
		activity.RecordHeartbeat(ctx, j.ID)
		if !keep && j.Generation != generation {
			drop = append(drop, j)
			return nil
		}
		res.Registered++
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, j := range drop {
		if err := a.removeJob(ctx, j); err != nil {
			return nil, err
		}
		res.Count++
		if len(res.Removed) < 1000 {
			res.Removed = append(res.Removed, j.ID)
		}
	}
	return res, nil
}

func (a *EngineActivities) removeJob(ctx context.Context, j *registry.Job) error {
	if j.Scheduled {
		if err := a.DeleteSchedule(ctx, j.ID); err != nil {
			return err
		}
	}
	return a.Registry.Delete(ctx, j)
}

// RemoveSources unregisters sources; it returns how many were registered.
func (a *EngineActivities) RemoveSources(ctx context.Context, ids []string) (int, error) {
	n := 0
	for _, id := range ids {
		j, err := a.Registry.Get(ctx, id)
		if errors.Is(err, registry.ErrNotFound) {
			continue
		}
		if err != nil {
			return n, err
		}
		if err := a.removeJob(ctx, j); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Selection picks registered sources: by ID, by API, or all when both are empty.
type Selection struct {
	IDs []string `json:"ids,omitempty"`
	API string   `json:"api,omitempty"`
}

func (a *EngineActivities) each(ctx context.Context, sel Selection, fn func(*registry.Job) error) error {
	if len(sel.IDs) > 0 {
		for _, id := range sel.IDs {
			j, err := a.Registry.Get(ctx, id)
			if err != nil {
				if errors.Is(err, registry.ErrNotFound) {
					return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeSource, nil)
				}
				return err
			}
			if err := fn(j); err != nil {
				return err
			}
		}
		return nil
	}
	matched := false
	err := a.Registry.Each(ctx, func(j *registry.Job) error {
		activity.RecordHeartbeat(ctx, j.ID)
		if sel.API != "" && j.Source.APIID() != sel.API {
			return nil
		}
		matched = true
		return fn(j)
	})
	if err == nil && sel.API != "" && !matched {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("no registered source feeds api %q", sel.API), ErrTypeSource, nil)
	}
	return err
}

// SelectResult names (up to 1,000 of) the sources an action reached and counts them all.
type SelectResult struct {
	IDs   []string `json:"ids"`
	Count int      `json:"count"`
	// Skipped says why a selected source was left out (paused, disabled).
	Skipped map[string]string `json:"skipped,omitempty"`
}

func (r *SelectResult) add(id string) {
	r.Count++
	if len(r.IDs) < 1000 {
		r.IDs = append(r.IDs, id)
	}
}

func (r *SelectResult) skip(id, why string) {
	if r.Skipped == nil {
		r.Skipped = map[string]string{}
	}
	if len(r.Skipped) < 1000 {
		r.Skipped[id] = why
	}
}

// PauseSourcesInput pauses or resumes selected sources' schedules, or,
// with All, only reconciles every schedule with the engine-wide pause in
// the template.
type PauseSourcesInput struct {
	Selection Selection        `json:"selection"`
	Pause     bool             `json:"pause"`
	All       bool             `json:"all,omitempty"`
	Schedule  ScheduleTemplate `json:"schedule"`
}

// PauseSources records the pause of each selected source and reconciles its schedule.
func (a *EngineActivities) PauseSources(ctx context.Context, in PauseSourcesInput) (*SelectResult, error) {
	res := &SelectResult{IDs: []string{}}
	err := a.each(ctx, in.Selection, func(j *registry.Job) error {
		if !in.All {
			j.Paused = in.Pause
			if !in.Pause {
				j.PausedReason, j.ConsecutiveFailures = "", 0
			}
		}
		if err := a.reconcileSchedule(ctx, j, in.Schedule); err != nil {
			return err
		}
		res.add(j.ID)
		return a.Registry.Put(ctx, j)
	})
	return res, err
}

// EnqueueInput queues syncs of selected sources; Seq orders them after
// every earlier enqueue (the engine passes its clock).
type EnqueueInput struct {
	Selection Selection `json:"selection"`
	Seq       int64     `json:"seq"`
	// Trigger is what the sync will say started it (schedule, engine).
	Trigger string `json:"trigger,omitempty"`
}

// EnqueueSyncs queues a sync of every selected source that is enabled and
// not paused, dependencies before their dependents.
func (a *EngineActivities) EnqueueSyncs(ctx context.Context, in EnqueueInput) (*SelectResult, error) {
	res := &SelectResult{IDs: []string{}}
	seq := in.Seq
	var sel []*registry.Job
	err := a.each(ctx, in.Selection, func(j *registry.Job) error {
		switch {
		case !j.Enabled:
			res.skip(j.ID, "disabled")
		case j.Paused:
			res.skip(j.ID, "paused")
		case j.PausedReason != "":
			res.skip(j.ID, j.PausedReason)
		default:
			sel = append(sel, j)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, j := range dependenciesFirst(sel) {
		seq++
		queued, err := a.Registry.Enqueue(ctx, j, source.PriorityKey(j.Source.Priority), seq)
		if err != nil {
			return nil, err
		}
		if !queued {
			res.skip(j.ID, "already queued")
			continue
		}
		j.QueuedBy = in.Trigger
		if err := a.Registry.Put(ctx, j); err != nil {
			return nil, err
		}
		res.add(j.ID)
	}
	return res, nil
}

// dependenciesFirst orders jobs so that a selected dependency comes before
// its dependents (cycles were refused at registration; any left keep their order).
func dependenciesFirst(jobs []*registry.Job) []*registry.Job {
	byID := make(map[string]*registry.Job, len(jobs))
	for _, j := range jobs {
		byID[j.ID] = j
	}
	seen := make(map[string]bool, len(jobs))
	out := make([]*registry.Job, 0, len(jobs))
	var visit func(j *registry.Job)
	visit = func(j *registry.Job) {
		if seen[j.ID] {
			return
		}
		seen[j.ID] = true
		for _, d := range j.Source.DependsOn {
			if dj, ok := byID[d]; ok {
				visit(dj)
			}
		}
		out = append(out, j)
	}
	for _, j := range jobs {
		visit(j)
	}
	return out
}

// DispatchItem is a sync the engine may start now.
type DispatchItem struct {
	ID         string        `json:"id"`
	Source     source.Source `json:"source"`
	MaxRetries *int          `json:"maxRetries,omitempty"`
	Trigger    string        `json:"trigger,omitempty"`
	// Waits are the dependencies still queued or running; Failed, the
	// dependencies whose last sync failed.
	Waits  []string `json:"waits,omitempty"`
	Failed []string `json:"failed,omitempty"`
}

// DequeueResult is what DequeueSyncs took off the queue.
type DequeueResult struct {
	Items []DispatchItem `json:"items"`
	// Taken counts the entries taken (paused or disabled ones are dropped);
	// More says entries may remain.
	Taken int  `json:"taken"`
	More  bool `json:"more"`
}

// DequeueSyncs takes up to n syncs off the queue, highest priority first,
// with the state of their dependencies.
func (a *EngineActivities) DequeueSyncs(ctx context.Context, n int) (*DequeueResult, error) {
	jobs, more, err := a.Registry.Dequeue(ctx, n)
	if err != nil {
		return nil, err
	}
	res := &DequeueResult{Taken: len(jobs), More: more}
	out := make([]DispatchItem, 0, len(jobs))
	for _, j := range jobs {
		if !j.Enabled || j.Paused || j.PausedReason != "" {
			continue // paused or disabled since it was queued
		}
		it := DispatchItem{ID: j.ID, Source: j.Source, MaxRetries: j.MaxRetries, Trigger: j.QueuedBy}
		for _, d := range j.Source.DependsOn {
			dj, err := a.Registry.Get(ctx, d)
			if errors.Is(err, registry.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			switch {
			case dj.Queued || dj.Running:
				it.Waits = append(it.Waits, d)
			case dj.LastStatus == "failed" || dj.Held != "":
				it.Failed = append(it.Failed, d)
			}
		}
		out = append(out, it)
	}
	res.Items = out
	return res, nil
}

// HoldInput records why a dequeued sync did not run.
type HoldInput struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// HoldSync records that a sync was held (a dependency failed).
func (a *EngineActivities) HoldSync(ctx context.Context, in HoldInput) error {
	j, err := a.Registry.Get(ctx, in.ID)
	if errors.Is(err, registry.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	j.Held, j.LastStatus = in.Reason, "held"
	return a.Registry.Put(ctx, j)
}

// SaveEngineConfig records the engine's config in the registry, where
// sync jobs read the failure threshold and readers the config.
func (a *EngineActivities) SaveEngineConfig(ctx context.Context, cfg EngineSettings) error {
	return a.Registry.SaveConfig(ctx, cfg)
}

// EngineSettings is the part of the engine's config that activities read.
type EngineSettings struct {
	FailureThreshold int              `json:"failureThreshold"`
	Schedule         ScheduleTemplate `json:"schedule"`
}

// equalJSON compares two values by their JSON encoding.
func equalJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// UnqueueSyncs takes the selected sources' syncs off the queue (all when
// the selection is empty).
func (a *EngineActivities) UnqueueSyncs(ctx context.Context, sel Selection) (*SelectResult, error) {
	res := &SelectResult{IDs: []string{}}
	err := a.each(ctx, sel, func(j *registry.Job) error {
		if !j.Queued {
			return nil
		}
		if err := a.Registry.Unqueue(ctx, j); err != nil {
			return err
		}
		res.add(j.ID)
		return a.Registry.Put(ctx, j)
	})
	return res, err
}

// ActiveRef is a sync the engine believes running.
type ActiveRef struct {
	JobID      string `json:"jobId"`
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId,omitempty"`
}

// ClosedSyncs returns the jobs among active whose workflow run has closed
// (its end report was lost), so the engine stops counting them running.
// A run not found yet (a start in flight) is not closed.
func (a *EngineActivities) ClosedSyncs(ctx context.Context, active []ActiveRef) ([]string, error) {
	var closed []string
	for _, r := range active {
		d, err := a.Client.DescribeWorkflowExecution(ctx, r.WorkflowID, r.RunID)
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("describe %s: %w", r.WorkflowID, err)
		}
		if d.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			closed = append(closed, r.JobID)
		}
	}
	return closed, nil
}
