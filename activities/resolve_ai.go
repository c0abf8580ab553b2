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
// attempt of the model (see resolve.AIResolver.ResolveAttempt). When the
// model decides every conflict, its decisions are applied and the document
// validated; a document that is not valid is sent back to the model as
// what was wrong (the re-asks of in.MaxReasks). What the model leaves open
// is returned as Open, with why, for a person. A model that may answer
// later is an ErrTypeAIUnavailable error, for Temporal to retry.
func (a *Activities) resolveByAI(ctx context.Context, in ResolveInput, mr *storedMerge) (*ResolveResult, error) {
	res := &ResolveResult{Attempts: activityAttempt(ctx)}
	if a.AI == nil {
		res.Open, res.FallbackReason = openConflicts(mr, mr.Conflicts), "no AI resolver is configured"
		return res, nil
	}
	cs := make([]resolve.Conflict, 0, len(mr.Conflicts))
	for _, c := range mr.Conflicts {
		cs = append(cs, resolve.Conflict{ID: c.ID, Pointer: c.Pointer, Kind: c.Kind, Base: c.Base, Local: c.Local, Remote: c.Remote,
			Context: mr.location(c.Pointer)})
	}
	// The model's complete answer is applied and validated as it comes.
	check := func(ds []resolve.Decision) (string, error) {
		h, err := a.applyTo(ctx, in.API, mr, aiResolutions(ds))
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) && (appErr.Type() == ErrTypeResolution || appErr.Type() == ErrTypeMerge || appErr.Type() == ErrTypeSpec) {
			return appErr.Message(), nil
		}
		res.MergedHash = h
		return "", err
	}
	out, err := a.AI.ResolveAttempt(ctx, in.API, cs, resolve.AttemptOptions{MaxReasks: in.MaxReasks, Check: check})
	var te *resolve.TransientError
	if errors.As(err, &te) {
		a.logger(ctx).Warn("the model is unavailable; Temporal retries", zap.String("api", in.API), zap.Int("status", te.StatusCode),
			zap.Duration("retryAfter", te.RetryAfter), zap.Error(te.Err))
		return nil, temporal.NewApplicationErrorWithOptions(te.Error(), ErrTypeAIUnavailable,
			temporal.ApplicationErrorOptions{NextRetryDelay: te.RetryAfter})
	}
	if err != nil {
		return nil, err
	}
	res.Resolutions = aiResolutions(out.Decisions)
	if len(out.Fallback) == 0 {
		if res.MergedHash == "" {
			// Nothing was checked (no conflicts): apply what there is.
			if res.MergedHash, err = a.applyTo(ctx, in.API, mr, res.Resolutions); err != nil {
				return nil, err
			}
		}
		return res, nil
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
	res.MergedHash, res.Open, res.FallbackReason = "", openConflicts(mr, left), out.FallbackReason
	return res, nil
}

// aiResolutions are the model's decisions as resolutions.
func aiResolutions(ds []resolve.Decision) []Resolution {
	rs := make([]Resolution, 0, len(ds))
	for _, d := range ds {
		rs = append(rs, Resolution{ID: d.ID, Pointer: d.Pointer, Choice: d.Choice, Value: d.Value, Strategy: source.StrategyAI, Reason: d.Reason})
	}
	return rs
}

// activityAttempt is the running activity's attempt (1 outside an activity).
func activityAttempt(ctx context.Context) int32 {
	if activity.IsActivity(ctx) {
		return activity.GetInfo(ctx).Attempt
	}
	return 1
}
