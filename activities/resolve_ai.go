package activities

import (
	"context"
	"errors"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"

	"github.com/apilivesync/apilivesync/internal/merge"
	"github.com/apilivesync/apilivesync/internal/resolve"
	"github.com/apilivesync/apilivesync/internal/source"
)

// ErrTypeAIUnavailable is a retryable failure of the ai strategy: the model
// answered 5xx, 429 or 408, timed out, or could not be reached. Temporal
// retries it with backoff (honouring a 429's Retry-After) for the job's AI
// retry window; the sync job then asks a person.
const ErrTypeAIUnavailable = "AIUnavailable"

// resolveByAI is ResolveConflicts under the ai strategy: one durable
// attempt of the model (see resolve.AIResolver.ResolveAttempt). It returns
// the model's resolutions when it decided every conflict; otherwise a
// result (open non-nil) with the conflicts left to a person and why. A
// model that may answer later is an ErrTypeAIUnavailable error, for
// Temporal to retry.
func (a *Activities) resolveByAI(ctx context.Context, in ResolveInput, mr *storedMerge) (rs []Resolution, open *ResolveResult, err error) {
	attempt := activityAttempt(ctx)
	if a.AI == nil {
		return nil, &ResolveResult{FallbackReason: "no AI resolver is configured", Open: openConflicts(mr, mr.Conflicts), Attempts: attempt}, nil
	}
	cs := make([]resolve.Conflict, 0, len(mr.Conflicts))
	for _, c := range mr.Conflicts {
		cs = append(cs, resolve.Conflict{ID: c.ID, Pointer: c.Pointer, Kind: c.Kind, Base: c.Base, Local: c.Local, Remote: c.Remote,
			Context: mr.location(c.Pointer)})
	}
	out, err := a.AI.ResolveAttempt(ctx, in.API, cs, in.MaxReasks)
	var te *resolve.TransientError
	if errors.As(err, &te) {
		a.logger(ctx).Warn("the model is unavailable; Temporal retries", zap.String("api", in.API), zap.Int("status", te.StatusCode),
			zap.Duration("retryAfter", te.RetryAfter), zap.Error(te.Err))
		return nil, nil, temporal.NewApplicationErrorWithOptions(te.Error(), ErrTypeAIUnavailable,
			temporal.ApplicationErrorOptions{NextRetryDelay: te.RetryAfter})
	}
	if err != nil {
		return nil, nil, err
	}
	for _, d := range out.Decisions {
		rs = append(rs, Resolution{ID: d.ID, Pointer: d.Pointer, Choice: d.Choice, Value: d.Value, Strategy: source.StrategyAI, Reason: d.Reason})
	}
	if len(out.Fallback) == 0 {
		return rs, nil, nil
	}
	fallback := map[string]bool{}
	for _, c := range out.Fallback {
		fallback[c.ID] = true
	}
	var left []merge.Conflict
	for _, c := range mr.Conflicts {
		if fallback[c.ID] {
			left = append(left, c)
		}
	}
	a.logger(ctx).Warn("AI left conflicts to a person", zap.String("api", in.API), zap.Int("open", len(left)), zap.String("reason", out.FallbackReason))
	return nil, &ResolveResult{Resolutions: rs, Open: openConflicts(mr, left), FallbackReason: out.FallbackReason, Attempts: attempt}, nil
}

// activityAttempt is the running activity's attempt (1 outside an activity).
func activityAttempt(ctx context.Context) int32 {
	if activity.IsActivity(ctx) {
		return activity.GetInfo(ctx).Attempt
	}
	return 1
}
