// Package workflows holds API Live Sync's workflow code and every name a user
// types to reach it: the task queue, workflow types and IDs, signals,
// queries and updates.
package workflows

import "fmt"

// TaskQueue is the task queue every API Live Sync worker polls.
const TaskQueue = "api-live-sync"

// Workflow type names, as registered and as typed in the temporal CLI.
const (
	SyncJobWorkflowName = "SyncJobWorkflow"
)

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
)

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
