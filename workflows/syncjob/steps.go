package syncjob

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/apilivesync/apilivesync/activities"
	"github.com/apilivesync/apilivesync/internal/source"
)

// Policy is how one step's activity runs: how long one attempt may take,
// how soon a lost worker is noticed, and who retries.
type Policy struct {
	// StartToClose bounds one attempt.
	StartToClose time.Duration
	// Heartbeat is how long an attempt may go without a heartbeat before
	// Temporal gives it to another worker (0: the activity does not heartbeat).
	Heartbeat time.Duration
	// MaxAttempts is Temporal's retry budget for the activity. 1 means the
	// workflow retries (the sync job's steps: the status shows every attempt,
	// with the job's own backoff and maxRetries).
	MaxAttempts int32
	// NonRetryable lists error types Temporal must not retry.
	NonRetryable []string
	// PerMB is added to StartToClose for every MiB of the fetched document:
	// steps that parse, compare or merge take longer on big specs, and a
	// heartbeat, not this timeout, notices a lost worker.
	PerMB time.Duration
	// Window, when set, is how long Temporal keeps retrying (the
	// activity's ScheduleToClose timeout); MaxAttempts 0 then means as
	// often as the backoff allows within it.
	Window time.Duration
	// Backoff and MaxBackoff shape Temporal's retries (0: the server's
	// defaults, 1s and 100× that).
	Backoff, MaxBackoff time.Duration
}

// Policies names every activity a workflow runs and how it runs; every
// ExecuteActivity in workflows/ takes its options from here.
var Policies = map[string]Policy{
	StepFetch:   {StartToClose: 2 * time.Minute, Heartbeat: activities.HeartbeatTimeout, MaxAttempts: 1},
	StepParse:   {StartToClose: 5 * time.Minute, Heartbeat: activities.HeartbeatTimeout, MaxAttempts: 1, PerMB: 20 * time.Second},
	StepDiff:    {StartToClose: 5 * time.Minute, Heartbeat: activities.HeartbeatTimeout, MaxAttempts: 1, PerMB: 20 * time.Second},
	StepMerge:   {StartToClose: 5 * time.Minute, Heartbeat: activities.HeartbeatTimeout, MaxAttempts: 1, PerMB: 20 * time.Second},
	StepResolve: {StartToClose: 5 * time.Minute, Heartbeat: activities.HeartbeatTimeout, MaxAttempts: 1, PerMB: 20 * time.Second},
	// PolicyAIResolve is the resolve step under the ai strategy: Temporal
	// retries a model that is down or rate-limited (ErrTypeAIUnavailable,
	// a 429's Retry-After honoured) for the window (the job's
	// aiRetryWindow), with the job's backoff; then a person is asked.
	PolicyAIResolve: {StartToClose: 5 * time.Minute, Heartbeat: activities.HeartbeatTimeout, MaxAttempts: 0, PerMB: 20 * time.Second,
		Window: source.DefaultAIRetryWindow, Backoff: time.Second, MaxBackoff: time.Minute,
		NonRetryable: []string{activities.ErrTypeResolution, activities.ErrTypeMerge, activities.ErrTypeNotFound}},
	StepStore:  {StartToClose: time.Minute, Heartbeat: activities.HeartbeatTimeout, MaxAttempts: 1, PerMB: 20 * time.Second},
	StepNotify: {StartToClose: 2 * time.Minute, Heartbeat: activities.HeartbeatTimeout, MaxAttempts: 1},
	// PolicyApply applies conflict resolutions; Temporal retries it up to
	// the job's maxRetries (MaxAttempts here is replaced by maxRetries+1).
	PolicyApply: {StartToClose: 5 * time.Minute, Heartbeat: activities.HeartbeatTimeout, MaxAttempts: 0,
		NonRetryable: []string{activities.ErrTypeResolution, activities.ErrTypeMerge}},
	// PolicyNotifyFailed sends sync.failed after the job failed.
	PolicyNotifyFailed: {StartToClose: 2 * time.Minute, Heartbeat: activities.HeartbeatTimeout, MaxAttempts: 3},
	// PolicySearchAttributes asks which search attributes the namespace has
	// (a local activity, RegisteredSearchAttributes).
	PolicySearchAttributes: {StartToClose: 10 * time.Second, MaxAttempts: 3},
	// PolicyEngine is every engine activity: schedules, signals, webhooks.
	PolicyEngine: {StartToClose: time.Minute, Heartbeat: activities.HeartbeatTimeout, MaxAttempts: 5},
	// PolicyRegistry is an engine activity that may walk the whole
	// registry (apply, sync-all, pause all): long, so it heartbeats.
	PolicyRegistry: {StartToClose: 30 * time.Minute, Heartbeat: activities.HeartbeatTimeout, MaxAttempts: 5},
}

// Policy names of activities that are not steps of the job.
const (
	PolicyAIResolve    = "ai-resolve"
	PolicyApply        = "apply"
	PolicyNotifyFailed = "notify-failed"
	// PolicySearchAttributes: RegisteredSearchAttributes.
	PolicySearchAttributes = "search-attributes"
	PolicyEngine           = "engine"
	PolicyRegistry         = "registry"
)

// StartToCloseFor is the named policy's StartToClose timeout for a
// document of the given size.
func StartToCloseFor(name string, bytes int64) time.Duration {
	p := Policies[name]
	return p.StartToClose + time.Duration(bytes>>20)*p.PerMB
}

// ActivityOptions are the options of the named policy.
func ActivityOptions(name string) workflow.ActivityOptions {
	p, ok := Policies[name]
	if !ok {
		panic("no activity policy " + name)
	}
	return workflow.ActivityOptions{
		StartToCloseTimeout:    p.StartToClose,
		ScheduleToCloseTimeout: p.Window,
		HeartbeatTimeout:       p.Heartbeat,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: p.MaxAttempts, NonRetryableErrorTypes: p.NonRetryable,
			InitialInterval: p.Backoff, MaximumInterval: p.MaxBackoff},
	}
}

// AIResolveOptions are PolicyAIResolve's options for job in: the window is
// in.AIRetryWindow when set, the backoff the job's retry intervals, the
// attempt's timeout scaled to the document (or in.StepTimeout).
func AIResolveOptions(in SyncJobInput, docBytes int64) workflow.ActivityOptions {
	opts := ActivityOptions(PolicyAIResolve)
	opts.StartToCloseTimeout = StartToCloseFor(PolicyAIResolve, docBytes)
	if in.StepTimeout > 0 {
		opts.StartToCloseTimeout = in.StepTimeout.Std()
	}
	if in.AIRetryWindow > 0 {
		opts.ScheduleToCloseTimeout = in.AIRetryWindow.Std()
	}
	if in.RetryInitialInterval > 0 {
		opts.RetryPolicy.InitialInterval = in.RetryInitialInterval.Std()
	}
	if in.RetryMaxInterval > 0 {
		opts.RetryPolicy.MaximumInterval = max(in.RetryMaxInterval.Std(), opts.RetryPolicy.InitialInterval)
	}
	opts.Priority = temporal.Priority{PriorityKey: PriorityKey(in.Priority)}
	return opts
}
