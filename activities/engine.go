package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"

	"github.com/apilivesync/apilivesync/internal/fetch"
	"github.com/apilivesync/apilivesync/internal/registry"
	"github.com/apilivesync/apilivesync/internal/source"
)

// ScheduleIDPrefix starts the ID of every source's Temporal Schedule:
// livesync-sync/<source>.
const ScheduleIDPrefix = "livesync-sync/"

// ScheduleID is the schedule of a source.
func ScheduleID(sourceID string) string { return ScheduleIDPrefix + sourceID }

// EngineActivities manage Temporal Schedules and running jobs for the
// SyncEngine: they need a Temporal client, unlike the sync activities.
type EngineActivities struct {
	Client client.Client
	Logger *zap.Logger
	// Policy is checked by CheckSources (the zero value refuses file
	// sources and private addresses, and allows only the default secret
	// pattern).
	Policy SourcePolicy
	// Registry is the engine's registry of sources, in the store.
	Registry *registry.Registry
	// Engine is the engine every sync job reports to (ReportSync).
	Engine EngineRef
}

// EngineRef names the SyncEngine workflow and the messages a job sends it,
// so activities can report to it (and start it) without depending on its package.
type EngineRef struct {
	ID, Workflow, TaskQueue       string
	StartedSignal, FinishedSignal string
	AddSourceUpdate, ReportUpdate string
}

// ScheduleInput describes the schedule of one source.
type ScheduleInput struct {
	Source   source.Source `json:"source"`
	Interval time.Duration `json:"interval"`
	Jitter   time.Duration `json:"jitter"`
	Paused   bool          `json:"paused"`
	Note     string        `json:"note,omitempty"`
	// Workflow, TaskQueue, WorkflowIDPrefix and Args are the action: the
	// SyncJob to start. The schedule appends a timestamp to the workflow ID.
	Workflow         string `json:"workflow"`
	TaskQueue        string `json:"taskQueue"`
	WorkflowIDPrefix string `json:"workflowIdPrefix"`
	Args             []any  `json:"args"`
	PriorityKey      int    `json:"priorityKey"`
}

// UpsertSchedule creates or replaces a source's schedule. Two syncs of one
// source never overlap: a run due while the previous one runs is skipped.
func (a *EngineActivities) UpsertSchedule(ctx context.Context, in ScheduleInput) error {
	id := ScheduleID(in.Source.ID)
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: in.Interval}}, Jitter: in.Jitter}
	action := &client.ScheduleWorkflowAction{
		ID: in.WorkflowIDPrefix, Workflow: in.Workflow, Args: in.Args, TaskQueue: in.TaskQueue,
		Priority: temporal.Priority{PriorityKey: in.PriorityKey},
	}
	sc := a.Client.ScheduleClient()
	_, err := sc.Create(ctx, client.ScheduleOptions{
		ID: id, Spec: spec, Action: action, Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		Paused: in.Paused, Note: in.Note, CatchupWindow: time.Minute,
	})
	if err == nil {
		return nil
	}
	var exists *serviceerror.WorkflowExecutionAlreadyStarted
	if !errors.As(err, &exists) && !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return fmt.Errorf("create schedule %s: %w", id, err)
	}
	h := sc.GetHandle(ctx, id)
	err = h.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(u client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
		s := u.Description.Schedule
		s.Spec, s.Action = &spec, action
		if s.Policy == nil {
			s.Policy = &client.SchedulePolicies{}
		}
		s.Policy.Overlap = enumspb.SCHEDULE_OVERLAP_POLICY_SKIP
		if s.State == nil {
			s.State = &client.ScheduleState{}
		}
		s.State.Paused, s.State.Note = in.Paused, in.Note
		return &client.ScheduleUpdate{Schedule: &s}, nil
	}})
	if err != nil {
		return fmt.Errorf("update schedule %s: %w", id, err)
	}
	return nil
}

// DeleteSchedule removes a source's schedule; a missing one is fine.
func (a *EngineActivities) DeleteSchedule(ctx context.Context, sourceID string) error {
	err := a.Client.ScheduleClient().GetHandle(ctx, ScheduleID(sourceID)).Delete(ctx)
	var nf *serviceerror.NotFound
	if err != nil && !errors.As(err, &nf) {
		return fmt.Errorf("delete schedule %s: %w", ScheduleID(sourceID), err)
	}
	return nil
}

// PauseScheduleInput pauses or unpauses a schedule, with a note people see
// in the UI and `temporal schedule describe`.
type PauseScheduleInput struct {
	SourceID string `json:"sourceId"`
	Pause    bool   `json:"pause"`
	Note     string `json:"note"`
}

// PauseSchedule pauses or unpauses a source's schedule; a missing one is fine.
func (a *EngineActivities) PauseSchedule(ctx context.Context, in PauseScheduleInput) error {
	h := a.Client.ScheduleClient().GetHandle(ctx, ScheduleID(in.SourceID))
	var err error
	if in.Pause {
		err = h.Pause(ctx, client.SchedulePauseOptions{Note: in.Note})
	} else {
		err = h.Unpause(ctx, client.ScheduleUnpauseOptions{Note: in.Note})
	}
	var nf *serviceerror.NotFound
	if err != nil && !errors.As(err, &nf) {
		return fmt.Errorf("pause schedule %s: %w", ScheduleID(in.SourceID), err)
	}
	return nil
}

// SignalJobsInput signals the running SyncJobs of some sources (all when empty).
type SignalJobsInput struct {
	Workflow         string   `json:"workflow"`
	WorkflowIDPrefix string   `json:"workflowIdPrefix"`
	SourceIDs        []string `json:"sourceIds,omitempty"`
	Signal           string   `json:"signal"`
}

// SignalRunningJobs sends a signal (pause, resume, stop) to every running
// SyncJob of the given sources, found through visibility. It returns how
// many it reached.
func (a *EngineActivities) SignalRunningJobs(ctx context.Context, in SignalJobsInput) (int, error) {
	q := fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = 'Running'", in.Workflow)
	if len(in.SourceIDs) > 0 {
		// Manual runs are sync/<id>; scheduled runs sync/<id>-<timestamp>.
		q += " AND ("
		for i, id := range in.SourceIDs {
			if i > 0 {
				q += " OR "
			}
			q += fmt.Sprintf("WorkflowId = '%s%s' OR WorkflowId STARTS_WITH '%s%s-20'", in.WorkflowIDPrefix, id, in.WorkflowIDPrefix, id)
		}
		q += ")"
	}
	n := 0
	var token []byte
	for {
		resp, err := a.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, NextPageToken: token})
		if err != nil {
			return n, fmt.Errorf("list running jobs: %w", err)
		}
		for _, e := range resp.Executions {
			err := a.Client.SignalWorkflow(ctx, e.GetExecution().GetWorkflowId(), e.GetExecution().GetRunId(), in.Signal, nil)
			var nf *serviceerror.NotFound
			if err != nil && !errors.As(err, &nf) {
				return n, fmt.Errorf("signal %s to %s: %w", in.Signal, e.GetExecution().GetWorkflowId(), err)
			}
			if err == nil {
				n++
			}
		}
		token = resp.NextPageToken
		if len(token) == 0 {
			return n, nil
		}
	}
}

// SourcePolicy is what the worker's operator lets sources reach: the SSRF
// guard, the directories file sources may read, and the secrets header
// references may name.
type SourcePolicy struct {
	Guard   fetch.GuardOptions
	Roots   source.Roots
	Secrets source.SecretPolicy
}

// CheckSources refuses, before the engine registers them, sources the
// worker would refuse at fetch time: a URL the guard blocks, a file
// outside the roots, a header reference outside the allow-list. Every
// problem is named, with its source. It reads no file (links are resolved).
func (a *EngineActivities) CheckSources(ctx context.Context, sources []source.Source) error {
	var errs []error
	for _, s := range sources {
		if s.URL != "" {
			if err := a.Policy.Guard.CheckURL(s.URL); err != nil {
				errs = append(errs, fmt.Errorf("source %q: %w", s.ID, err))
			}
		}
		if s.LocalFile() != "" {
			if err := s.ValidateFile(a.Policy.Roots); err != nil {
				errs = append(errs, err)
			}
		}
		if err := s.ValidateRefs(a.Policy.Secrets); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return temporal.NewNonRetryableApplicationError(errors.Join(errs...).Error(), ErrTypeSource, nil)
	}
	return nil
}
