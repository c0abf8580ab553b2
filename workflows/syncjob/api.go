// Package syncjob is the sync job: one run of one source's pipeline
// (fetch → parse → diff → gate → merge → resolve → store → notify) as a
// Temporal workflow.
//
// This file is its public contract: the task queue, the workflow type and
// ID, every signal, query, update, search attribute, webhook event and
// metric name, the input, result and status types, and the client helpers
// that start and message a job. The SyncEngine uses this contract; the job
// knows nothing of the engine beyond the workflow ID it reports to.
package syncjob

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/apilivesync/apilivesync/activities"
	"github.com/apilivesync/apilivesync/internal/source"
)

// TaskQueue is the task queue every API Live Sync worker polls.
const TaskQueue = "api-live-sync"

// SyncJobWorkflowName is the workflow type, as registered and as typed in
// the temporal CLI.
const SyncJobWorkflowName = "SyncJobWorkflow"

// SyncWorkflowIDPrefix starts every SyncJob's workflow ID: sync/<job-id>.
const SyncWorkflowIDPrefix = "sync/"

// SyncWorkflowID is the workflow ID of the SyncJob with the given ID.
func SyncWorkflowID(jobID string) string { return SyncWorkflowIDPrefix + jobID }

// Messages a SyncJob answers.
const (
	// QueryStatus returns the job's Status.
	QueryStatus = "status"
	// SignalPause holds the job before its next step.
	SignalPause = "pause"
	// SignalResume lets a paused job go on.
	SignalResume = "resume"
	// SignalStop ends the job cleanly before its next step.
	SignalStop = "stop"
	// UpdateApprove lets a held breaking change through (ApprovalInput).
	UpdateApprove = "approve"
	// UpdateReject refuses a held breaking change (ApprovalInput): the last version stays.
	UpdateReject = "reject"
	// UpdateResolve decides open merge conflicts (ResolveInput).
	UpdateResolve = "resolve"

	// SignalSyncStarted and SignalSyncFinished are what a job sends, with a
	// SyncReport, to the workflow named by SyncJobInput.ReportTo (the engine).
	SignalSyncStarted  = "syncStarted"
	SignalSyncFinished = "syncFinished"
)

// Search attributes every SyncJob sets on itself, on every run, however it
// was started (the starter, the engine, a schedule, `temporal workflow
// start`, the UI), so `LiveSyncAPI = "payments" AND LiveSyncOutcome =
// "stored"` finds every sync that stored a version of payments. The dev
// server registers them; the README shows the commands for a real cluster.
// A namespace without them still syncs: the job sets only the ones the
// namespace has (see RegisteredSearchAttributes).
var (
	// SearchAttrSource is the source's ID.
	SearchAttrSource = temporal.NewSearchAttributeKeyKeyword("LiveSyncSource")
	// SearchAttrAPI is the API the source feeds.
	SearchAttrAPI = temporal.NewSearchAttributeKeyKeyword("LiveSyncAPI")
	// SearchAttrOutcome is what the run did: one of the Outcome constants.
	SearchAttrOutcome = temporal.NewSearchAttributeKeyKeyword("LiveSyncOutcome")
	// SearchAttrBreaking counts the error-level breaking findings of the
	// change the run judged.
	SearchAttrBreaking = temporal.NewSearchAttributeKeyInt64("LiveSyncBreaking")
	// SearchAttrVersion is the API version the run stored, or the current
	// one when it stored none (no change).
	SearchAttrVersion = temporal.NewSearchAttributeKeyInt64("LiveSyncVersion")
	// SearchAttrTrigger says what started the run: one of the Trigger constants.
	SearchAttrTrigger = temporal.NewSearchAttributeKeyKeyword("LiveSyncTrigger")
)

// searchAttributeKeys lists every search attribute a SyncJob sets.
var searchAttributeKeys = []temporal.SearchAttributeKey{
	SearchAttrSource, SearchAttrAPI, SearchAttrOutcome, SearchAttrBreaking, SearchAttrVersion, SearchAttrTrigger,
}

// SearchAttributes lists the search attributes by name and type, for
// registering them on a namespace.
func SearchAttributes() map[string]enumspb.IndexedValueType {
	m := make(map[string]enumspb.IndexedValueType, len(searchAttributeKeys))
	for _, k := range searchAttributeKeys {
		m[k.GetName()] = k.GetValueType()
	}
	return m
}

// Outcomes of a run (LiveSyncOutcome, Status.Outcome, SyncJobResult.Outcome).
const (
	// OutcomeStored: a new version of the API was stored.
	OutcomeStored = "stored"
	// OutcomeNoChange: nothing to store (unchanged, reformatted, equal to
	// the current version, or a disabled source).
	OutcomeNoChange = "no-change"
	// OutcomeFailed: the sync failed; the API's current version did not move.
	OutcomeFailed = "failed"
	// OutcomeStopped: stopped (the stop signal) or cancelled before the end.
	OutcomeStopped = "stopped"
	// OutcomeWaiting: the job waits for a person (approval or conflicts).
	OutcomeWaiting = "waiting"
	// OutcomeHeld: the breaking-change gate kept the last version (gate
	// block, or no approval before the deadline).
	OutcomeHeld = "held"
	// OutcomeRejected: a person rejected the breaking change.
	OutcomeRejected = "rejected"
)

// Triggers: what started a run (SyncJobInput.Trigger, LiveSyncTrigger).
const (
	// TriggerManual: a person, through the starter (StartRun sets it).
	TriggerManual = "manual"
	// TriggerSchedule: the source's Temporal Schedule.
	TriggerSchedule = "schedule"
	// TriggerEngine: the SyncEngine, as a child (sync-all, startSync, a new source).
	TriggerEngine = "engine"
	// TriggerAPI: anyone else (`temporal workflow start`, the UI, a client
	// of its own); what an empty trigger means.
	TriggerAPI = "api"
)

// ValidTrigger checks a trigger name; empty means api.
func ValidTrigger(t string) error {
	switch t {
	case "", TriggerManual, TriggerSchedule, TriggerEngine, TriggerAPI:
		return nil
	}
	return fmt.Errorf("invalid trigger %q: want manual, schedule, engine or api", t)
}

// SyncReport is what a job tells the workflow it reports to when it starts
// and when it ends.
type SyncReport = activities.SyncReport

// Decision records how one merge conflict was decided.
type Decision = activities.Decision

// Job statuses reported by the status query.
const (
	StatusPending   = "pending"
	StatusRunning   = "running"
	StatusPaused    = "paused"
	StatusCompleted = "completed"
	StatusFailed    = "failed"
	StatusStopped   = "stopped"
	// StatusWaiting: the job waits durably for a person (approval or conflicts).
	StatusWaiting = "waiting"
)

// What a waiting job waits for.
const (
	WaitApproval  = "approval"
	WaitConflicts = "conflicts"
)

// Steps of a SyncJob, in order.
const (
	StepFetch   = "fetch"
	StepParse   = "parse"
	StepDiff    = "diff"
	StepMerge   = "merge"
	StepResolve = "resolve"
	StepStore   = "store"
	StepNotify  = "notify"
	StepDone    = "done"
)

// Priorities of a job.
const (
	PriorityHigh   = "high"
	PriorityMedium = "medium"
	PriorityLow    = "low"
)

// PriorityKey maps a priority to Temporal's task priority key (1 runs first).
func PriorityKey(p string) int {
	switch p {
	case PriorityHigh:
		return 1
	case PriorityLow:
		return 5
	default:
		return 3
	}
}

// ValidPriority checks a priority name; empty means medium.
func ValidPriority(p string) error {
	switch p {
	case "", PriorityHigh, PriorityMedium, PriorityLow:
		return nil
	}
	return fmt.Errorf("invalid priority %q: want high, medium or low", p)
}

// DefaultMaxRetries is how many times a failed step is retried when the
// input does not say.
const DefaultMaxRetries = 3

// SyncJobInput starts one sync of one source. Only source is required: id
// and sourceId default to source.id.
type SyncJobInput struct {
	ID         string        `json:"id,omitempty"`
	SourceID   string        `json:"sourceId,omitempty"`
	Priority   string        `json:"priority,omitempty"`
	MaxRetries *int          `json:"maxRetries,omitempty"`
	Source     source.Source `json:"source"`
	// Force fetches without conditional headers and re-parses unchanged bytes.
	Force bool `json:"force,omitempty"`
	// RetryInitialInterval and RetryMaxInterval shape the backoff between
	// attempts of a failed step (defaults 1s and 1m).
	RetryInitialInterval source.Duration `json:"retryInitialInterval,omitempty"`
	RetryMaxInterval     source.Duration `json:"retryMaxInterval,omitempty"`
	// StepTimeout, when set, bounds every step's activity (StartToClose):
	// how long a step lost with its worker takes to be retried elsewhere.
	StepTimeout source.Duration `json:"stepTimeout,omitempty"`
	// AIRetryWindow is how long Temporal retries an unavailable model under the ai strategy before a person is asked;
	// AIMaxReasks how often a malformed or invalid answer is asked again (negative: never).
	// Zero takes the source's aiRetryWindow and aiMaxReasks (Normalize), then the defaults:
	// source.DefaultAIRetryWindow (1h, steps.go) and the worker's re-asks (-ai-max-reasks, default 3).
	AIRetryWindow source.Duration `json:"aiRetryWindow,omitempty"`
	AIMaxReasks   int             `json:"aiMaxReasks,omitempty"`
	// ReportTo is the workflow ID of a SyncEngine to tell when the job
	// starts and ends (set by the engine for its schedules and children).
	ReportTo string `json:"reportTo,omitempty"`
	// Trigger says what started the job (TriggerManual, TriggerSchedule,
	// TriggerEngine; empty means TriggerAPI). It is shown as LiveSyncTrigger.
	Trigger string `json:"trigger,omitempty"`
}

// Normalize fills defaults and validates; the error is the user's to fix.
func (in *SyncJobInput) Normalize() error {
	if in.SourceID == "" {
		in.SourceID = in.Source.ID
	}
	if in.Source.ID == "" {
		in.Source.ID = in.SourceID
	}
	if in.ID == "" {
		in.ID = in.SourceID
	}
	if in.Source.ID != in.SourceID {
		return fmt.Errorf("sourceId %q differs from source.id %q", in.SourceID, in.Source.ID)
	}
	if in.Priority == "" {
		in.Priority = in.Source.Priority
	}
	if in.Priority == "" {
		in.Priority = PriorityMedium
	}
	if err := ValidPriority(in.Priority); err != nil {
		return err
	}
	if in.Trigger == "" {
		in.Trigger = TriggerAPI
	}
	if err := ValidTrigger(in.Trigger); err != nil {
		return err
	}
	if in.MaxRetries == nil {
		n := DefaultMaxRetries
		in.MaxRetries = &n
	}
	if *in.MaxRetries < 0 || *in.MaxRetries > 100 {
		return fmt.Errorf("maxRetries %d: want 0 to 100", *in.MaxRetries)
	}
	if in.RetryInitialInterval <= 0 {
		in.RetryInitialInterval = source.Duration(time.Second)
	}
	if in.RetryMaxInterval <= 0 {
		in.RetryMaxInterval = source.Duration(time.Minute)
	}
	// The source's AI settings (from a config file, or the engine's
	// registry) apply when the job sets none. Recorded histories carry
	// sources without them, so nothing changes on replay.
	if in.AIRetryWindow == 0 {
		in.AIRetryWindow = in.Source.AIRetryWindow
	}
	if in.AIMaxReasks == 0 && in.Source.AIMaxReasks != nil {
		in.AIMaxReasks = *in.Source.AIMaxReasks
		if in.AIMaxReasks == 0 {
			in.AIMaxReasks = -1 // the source's 0: never ask again
		}
	}
	if err := source.ValidID("job", in.ID); err != nil {
		return err
	}
	return in.Source.Validate()
}

// StepInfo is one step's record in the status.
type StepInfo struct {
	Name       string `json:"name"`
	Status     string `json:"status"` // running, completed, failed, skipped
	Attempts   int    `json:"attempts"`
	DurationMs int64  `json:"durationMs"`
	Error      string `json:"error,omitempty"`
}

// Status is what the status query returns.
type Status struct {
	ID       string `json:"id"`
	SourceID string `json:"sourceId"`
	API      string `json:"api"`
	Location string `json:"location"`
	Priority string `json:"priority"`
	Status   string `json:"status"`
	// Outcome is what the run did, once known (an Outcome constant; also
	// OutcomeWaiting while it waits for a person).
	Outcome    string `json:"outcome,omitempty"`
	Trigger    string `json:"trigger,omitempty"`
	Step       string `json:"step"`
	Paused     bool   `json:"paused"`
	RetryCount int    `json:"retryCount"`
	// WorkerLosses counts steps lost with their worker and run again
	// elsewhere; they do not count against maxRetries.
	WorkerLosses int        `json:"workerLosses,omitempty"`
	MaxRetries   int        `json:"maxRetries"`
	LastAttempt  *time.Time `json:"lastAttempt,omitempty"`
	NextAttempt  *time.Time `json:"nextAttempt,omitempty"`
	LastError    string     `json:"lastError,omitempty"`
	StartedAt    time.Time  `json:"startedAt"`
	FinishedAt   *time.Time `json:"finishedAt,omitempty"`

	NoChange        bool   `json:"noChange"`
	ChangesDetected int    `json:"changesDetected"`
	BreakingChanges int    `json:"breakingChanges"`
	VersionHash     string `json:"versionHash,omitempty"`
	Version         int    `json:"version,omitempty"`
	ReportHash      string `json:"reportHash,omitempty"`
	Message         string `json:"message,omitempty"`
	// Warnings are what the fetched document got away with (dangling
	// references); a strict source refuses them instead.
	Warnings []string `json:"warnings,omitempty"`

	// Waiting is set while the job waits for a person.
	Waiting *Waiting `json:"waiting,omitempty"`
	// Blocked is true when the breaking-change gate kept the last version.
	Blocked bool `json:"blocked,omitempty"`
	// Conflicts counts the merge conflicts this sync met; Decisions says how each was decided.
	Conflicts int        `json:"conflicts,omitempty"`
	Decisions []Decision `json:"decisions,omitempty"`

	Steps []StepInfo `json:"steps"`
	// StepDurations maps each step that ran to its total duration in milliseconds.
	StepDurations map[string]int64 `json:"stepDurations"`
}

// SyncJobResult is the workflow's result, and what `starter sync --json` prints.
type SyncJobResult struct {
	ID              string     `json:"id"`
	SourceID        string     `json:"sourceId"`
	API             string     `json:"api"`
	Status          string     `json:"status"`
	Outcome         string     `json:"outcome,omitempty"`
	NoChange        bool       `json:"noChange"`
	Version         int        `json:"version,omitempty"`
	VersionHash     string     `json:"versionHash"`
	Changes         int        `json:"changes"`
	BreakingChanges int        `json:"breakingChanges"`
	ReportHash      string     `json:"reportHash,omitempty"`
	TopChanges      []string   `json:"topChanges,omitempty"`
	Paths           int        `json:"paths"`
	Operations      int        `json:"operations"`
	Schemas         int        `json:"schemas"`
	SpecVersion     string     `json:"specVersion,omitempty"`
	Message         string     `json:"message,omitempty"`
	Blocked         bool       `json:"blocked,omitempty"`
	Conflicts       int        `json:"conflicts,omitempty"`
	Decisions       []Decision `json:"decisions,omitempty"`
	Error           string     `json:"error"`
	DurationMs      int64      `json:"durationMs"`
	Steps           []StepInfo `json:"steps"`
}

// Metric names, exported to Prometheus through the SDK's metrics handler
// (replay-safe: a replayed workflow records nothing).
const (
	MetricSyncs           = "livesync_syncs"
	MetricSyncDuration    = "livesync_sync_duration"
	MetricStepDuration    = "livesync_step_duration"
	MetricChanges         = "livesync_changes"
	MetricBreakingChanges = "livesync_breaking_changes"
	MetricConflicts       = "livesync_conflicts"
)

// Webhook event types.
const (
	EventSourceAdded   = "source.added"
	EventSourceRemoved = "source.removed"
	EventSyncStarted   = "sync.started" // sent by the engine for the syncs it runs or schedules
	EventSyncCompleted = "sync.completed"
	EventSyncFailed    = "sync.failed"
)

// Waiting says what a waiting job needs from a person.
type Waiting struct {
	Kind      string    `json:"kind"` // approval | conflicts
	Reason    string    `json:"reason"`
	Since     time.Time `json:"since"`
	Deadline  time.Time `json:"deadline"`
	OnTimeout string    `json:"onTimeout"`
	// Conflicts are the open conflicts (values: `starter conflicts API`, or
	// the store blob ConflictsHash).
	Conflicts     []activities.Conflict `json:"conflicts,omitempty"`
	ConflictsHash string                `json:"conflictsHash,omitempty"`
	// ConflictCount is the number of open conflicts (Conflicts lists at
	// most activities.MaxConflictsInHistory of them).
	ConflictCount int `json:"conflictCount,omitempty"`
	// TopChanges summarize the breaking changes held for approval.
	TopChanges []string `json:"topChanges,omitempty"`
}

// ApprovalInput is the argument of the approve and reject updates.
type ApprovalInput struct {
	By      string `json:"by,omitempty"`
	Comment string `json:"comment,omitempty"`
}

// ApprovalResult answers approve and reject.
type ApprovalResult struct {
	Decision string `json:"decision"` // approved | rejected
}

// ResolveInput is the argument of the resolve update: a choice per
// conflict (remote, local, base, or value with an edited value).
type ResolveInput struct {
	Resolutions []activities.Resolution `json:"resolutions"`
	By          string                  `json:"by,omitempty"`
	// AI, instead of resolutions, hands the open conflicts back to the model (`starter resolve API --ai`).
	AI bool `json:"ai,omitempty"`
}

// ResolveResult answers resolve.
type ResolveResult struct {
	// Remaining counts open conflicts still undecided.
	Remaining int `json:"remaining"`
	// Applied is true once every conflict is decided and the document is valid.
	Applied    bool   `json:"applied"`
	MergedHash string `json:"mergedHash,omitempty"`
	// HandedToAI is true when the conflicts went back to the model.
	HandedToAI bool `json:"handedToAI,omitempty"`
}

// UILink is the Temporal UI page of a run (its history when runID is set):
// the workflow ID is path-escaped, since sync/<source> holds a slash.
func UILink(uiBase, namespace, workflowID, runID string) string {
	link := strings.TrimSuffix(uiBase, "/") + "/namespaces/" + url.PathEscape(namespace) + "/workflows/" + url.PathEscape(workflowID)
	if runID != "" {
		link += "/" + url.PathEscape(runID) + "/history"
	}
	return link
}

// WorkflowIDOf returns the job ID a SyncJob workflow ID names.
func WorkflowIDOf(workflowID string) string {
	return strings.TrimPrefix(workflowID, SyncWorkflowIDPrefix)
}

// StartOptions are the start options of a SyncJob: its derived ID, the
// task queue, attach-if-running, and its priority.
func StartOptions(in SyncJobInput, withSearchAttributes bool) client.StartWorkflowOptions {
	id := in.ID
	if id == "" {
		id = in.SourceID
	}
	if id == "" {
		id = in.Source.ID
	}
	prio := in.Priority
	if prio == "" {
		prio = in.Source.Priority
	}
	o := client.StartWorkflowOptions{
		ID:        SyncWorkflowID(id),
		TaskQueue: TaskQueue,
		// A second start while a sync runs attaches to it; after it ends, a new run starts.
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		Priority:                 temporal.Priority{PriorityKey: PriorityKey(prio)},
	}
	src := in.Source
	if src.ID == "" {
		src.ID = id
	}
	o.StaticSummary = Summary(src)
	if withSearchAttributes {
		// The workflow sets them too; set here, they are in the list from the first moment.
		trigger := in.Trigger
		if trigger == "" {
			trigger = TriggerAPI
		}
		o.TypedSearchAttributes = temporal.NewSearchAttributes(SearchAttrSource.ValueSet(src.ID), SearchAttrAPI.ValueSet(src.APIID()),
			SearchAttrTrigger.ValueSet(trigger))
	}
	return o
}

// Start starts (or attaches to) the SyncJob for in.Source and, when wait is
// set, returns its result. A failed sync returns its result (with Error
// set) and the error.
func Start(ctx context.Context, c client.Client, in SyncJobInput, wait bool) (*SyncJobResult, error) {
	run, err := StartRun(ctx, c, in)
	if err != nil {
		return nil, err
	}
	if !wait {
		return &SyncJobResult{ID: WorkflowIDOf(run.GetID()), Status: StatusRunning}, nil
	}
	return Result(ctx, run)
}

// StartRun starts (or attaches to) the SyncJob and returns its run. A job
// started here without a trigger is a manual one (TriggerManual).
func StartRun(ctx context.Context, c client.Client, in SyncJobInput) (client.WorkflowRun, error) {
	if in.Trigger == "" {
		in.Trigger = TriggerManual
	}
	run, err := c.ExecuteWorkflow(ctx, StartOptions(in, true), SyncJobWorkflowName, in)
	var invalid *serviceerror.InvalidArgument
	if errors.As(err, &invalid) && strings.Contains(strings.ToLower(invalid.Error()), "search attribute") {
		// A cluster without our search attributes: start without them.
		run, err = c.ExecuteWorkflow(ctx, StartOptions(in, false), SyncJobWorkflowName, in)
	}
	if err != nil {
		return nil, fmt.Errorf("start sync of source %q: %w", in.Source.ID, err)
	}
	return run, nil
}

// Result waits for a SyncJob run and returns its result, also when it failed.
func Result(ctx context.Context, run client.WorkflowRun) (*SyncJobResult, error) {
	var res SyncJobResult
	err := run.Get(ctx, &res)
	if err == nil {
		return &res, nil
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.HasDetails() {
		if derr := appErr.Details(&res); derr == nil {
			return &res, errors.New(res.Error)
		}
	}
	return nil, err
}

// GetStatus asks a job's workflow (a run, or the latest run when runID is
// empty) for its Status.
func GetStatus(ctx context.Context, c client.Client, workflowID, runID string) (*Status, error) {
	v, err := c.QueryWorkflow(ctx, workflowID, runID, QueryStatus)
	if err != nil {
		return nil, err
	}
	var st Status
	if err := v.Get(&st); err != nil {
		return nil, err
	}
	return &st, nil
}
