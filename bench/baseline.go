package main

import (
	"context"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// BaselineWorkflowName is the workflow type of the bare baseline workflow.
const BaselineWorkflowName = "BenchBaselineWorkflow"

// BaselineWorkflow is the floor a SyncJob is compared against: two no-op
// activities in a row, with the same activity options a SyncJob step uses
// (StartToClose timeout, one attempt, the medium priority key).
func BaselineWorkflow(ctx workflow.Context, in string) (string, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
		Priority:            temporal.Priority{PriorityKey: 3},
	})
	var out string
	if err := workflow.ExecuteActivity(actx, BenchNoopA, in).Get(ctx, &out); err != nil {
		return "", err
	}
	if err := workflow.ExecuteActivity(actx, BenchNoopB, out).Get(ctx, &out); err != nil {
		return "", err
	}
	return out, nil
}

// BenchNoopA is the baseline's first activity: it returns its input.
func BenchNoopA(_ context.Context, in string) (string, error) { return in, nil }

// BenchNoopB is the baseline's second activity: it returns its input.
func BenchNoopB(_ context.Context, in string) (string, error) { return in, nil }
