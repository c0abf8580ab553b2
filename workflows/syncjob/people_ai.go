package syncjob

import (
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/apilivesync/apilivesync/activities"
	"github.com/apilivesync/apilivesync/internal/source"
)

// changeAIDurable gates the durable AI step: under the ai strategy
// Temporal retries a model that is down for the job's AI retry window
// before a person is asked, and a job waiting for a person can hand its
// conflicts back to the model (the resolve update with ai set). Runs
// recorded before it resolve conflicts as they did (resolveConflicts).
const changeAIDurable = "ai-durable-resolve"

// toAI is the state of handing a waiting job's conflicts back to the model.
type toAI struct {
	// allowed is true while this run waits for a person in a way that can
	// hand the conflicts back (runs after changeAIDurable).
	allowed bool
	// asked is true from a hand-back until the model is asked.
	asked bool
	by    string
}

// resolveConflictsDurable decides a merge's open conflicts by the source's
// strategy and waits for a person for what is left open, as resolveConflicts
// did; under the ai strategy, and after each hand-back to the model, it runs
// the model durably (askModel). The person's deadline runs from the first
// wait and does not restart with a hand-back.
func (j *syncJob) resolveConflictsDurable(ctx workflow.Context, merged activities.MergeResult) (string, error) {
	src := j.in.Source
	strategy := src.StrategyOrDefault()
	j.decided, j.decisions = nil, nil
	j.toAI = toAI{allowed: true}
	defer func() { j.toAI = toAI{} }()
	open := merged.Conflicts
	reason := fmt.Sprintf("%d conflict(s) need a decision", len(open))
	timeout := src.ManualTimeout.Std()
	if timeout <= 0 {
		timeout = source.DefaultDecisionTimeout
	}
	onTimeout := src.OnManualTimeout
	if onTimeout == "" {
		onTimeout = "fail"
	}
	askModel := strategy == source.StrategyAI
	first := true
	var waitSince, waitDeadline time.Time
	for {
		switch {
		case askModel:
			askModel = false
			res, err := j.askModel(ctx, merged)
			if err != nil && (first || errors.Is(err, errStopped) || temporal.IsCanceledError(err)) {
				return "", err
			}
			if err != nil {
				// Asked again by a person, the model failed: the person decides.
				reason = fmt.Sprintf("%d conflict(s) still need a decision; asking the model again failed: %s", len(open), errorText(err))
				break
			}
			if len(res.Open) > 0 {
				j.decided, open = j.withoutManual(res.Resolutions), res.Open
				reason = fmt.Sprintf("%d conflict(s) left for a person: %s", len(open), res.FallbackReason)
				break
			}
			if len(j.manual) == 0 {
				j.recordDecisions(res.Resolutions)
				return res.MergedHash, nil
			}
			// People decided some conflicts before handing the rest to the
			// model: their choices stand.
			h, err := j.apply(ctx, merged.ConflictsHash, j.withManual(res.Resolutions))
			if err == nil {
				return h, nil
			}
			if temporal.IsCanceledError(err) {
				return "", err
			}
			j.decided, open = nil, merged.Conflicts
			reason = "the model's and people's choices together do not make a valid spec (" + errorText(err) + ")"
		case first && strategy != source.StrategyManual:
			// Choices a person already made for the same conflicts (a
			// re-merge after a lost race) are reused below.
			hash, left, why, err := j.resolveByStrategy(ctx, strategy, merged)
			if err != nil || left == nil {
				return hash, err
			}
			open, reason = left, why
		}

		// Wait durably for a person, or for a hand-back to the model.
		now := workflow.Now(ctx)
		if first {
			waitSince, waitDeadline = now, now.Add(timeout)
			first = false
		}
		j.resolvedHash = ""
		openCount := max(merged.ConflictCount, len(open))
		if len(j.decided) > 0 {
			openCount = max(openCount-len(j.decided), len(open))
		}
		j.st.Waiting = &Waiting{Kind: WaitConflicts,
			Reason: reason + ": starter conflicts " + src.APIID() + ", then starter resolve " + j.in.ID + " (or starter resolve " + j.in.ID + " --ai to ask the model again)",
			Since:  waitSince, Deadline: waitDeadline, OnTimeout: onTimeout, Conflicts: open, ConflictsHash: merged.ConflictsHash, ConflictCount: openCount}
		j.st.Status, j.st.Step = StatusWaiting, StepResolve
		j.wait(ctx)
		if len(j.manual) > 0 && j.remaining() == 0 {
			if h, err := j.apply(ctx, merged.ConflictsHash, j.collectResolutions()); err == nil {
				j.resolvedHash = h
			}
		}
		var err error
		if left := waitDeadline.Sub(now); left > 0 {
			_, err = workflow.AwaitWithTimeout(ctx, left, func() bool { return (j.resolvedHash != "" && !j.applying) || j.stop || j.toAI.asked })
		}
		if err == nil && j.applying {
			// A person's resolutions are being applied as the deadline passes: they win.
			err = workflow.Await(ctx, func() bool { return !j.applying })
		}
		answered := j.resolvedHash != "" && !j.applying
		waiting := j.st.Waiting
		j.st.Waiting = nil
		j.st.Status, j.st.Outcome = StatusRunning, ""
		if err != nil {
			return "", err
		}
		if j.stop {
			return "", errStopped
		}
		if answered {
			return j.resolvedHash, nil
		}
		if j.toAI.asked {
			workflow.GetLogger(ctx).Info("open conflicts handed back to the model", "by", j.toAI.by)
			j.toAI.asked, askModel = false, true
			continue
		}
		if onTimeout == "fail" {
			return "", temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("api %q: %d conflict(s) from source %q were not decided within %s; the last version stays current",
					src.APIID(), len(waiting.Conflicts), src.ID, timeout), activities.ErrTypeResolution, nil)
		}
		// Every conflict nobody decided takes the policy's side.
		choice := "remote"
		if onTimeout == source.StrategyPreferLocal {
			choice = "local"
		}
		j.st.Message = fmt.Sprintf("conflicts not decided within %s: resolved %s by policy", timeout, onTimeout)
		return j.applyRest(ctx, merged.ConflictsHash, j.collectResolutionsFor(waiting), choice, onTimeout, fmt.Sprintf("no decision within %s", timeout))
	}
}

// askModel runs the resolve step under the ai strategy (PolicyAIResolve):
// Temporal retries a model that is unavailable, with backoff and a 429's
// Retry-After, for the job's AI retry window; past it every conflict is
// left to a person, with the last failure as the reason.
func (j *syncJob) askModel(ctx workflow.Context, merged activities.MergeResult) (activities.ResolveResult, error) {
	var a *activities.Activities
	src := j.in.Source
	opts := AIResolveOptions(j.in, j.docBytes)
	var res activities.ResolveResult
	err := j.step(ctx, StepResolve, func(ctx workflow.Context) error {
		res = activities.ResolveResult{}
		err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), a.ResolveConflicts, activities.ResolveInput{
			API: src.APIID(), SourceID: src.ID, Strategy: source.StrategyAI, ConflictsHash: merged.ConflictsHash, Rank: src.Rank,
			MaxReasks: j.in.AIMaxReasks,
		}).Get(ctx, &res)
		if err != nil && modelUnavailable(err) {
			res = activities.ResolveResult{Open: merged.Conflicts, FallbackReason: fmt.Sprintf(
				"the model stayed unavailable through the %s AI retry window (last: %s)", opts.ScheduleToCloseTimeout, errorText(err))}
			return nil
		}
		return err
	})
	if err == nil && res.Attempts > 0 {
		// The attempts Temporal made, not the step's own (one).
		j.st.Steps[len(j.st.Steps)-1].Attempts = int(res.Attempts)
	}
	return res, err
}

// modelUnavailable is true when the AI step failed because the model
// stayed unavailable for the whole retry window.
func modelUnavailable(err error) bool {
	var toErr *temporal.TimeoutError
	if errors.As(err, &toErr) && toErr.TimeoutType() == enumspb.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE {
		return true
	}
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == activities.ErrTypeAIUnavailable
}

// withManual is rs with people's choices in place of the model's.
func (j *syncJob) withManual(rs []activities.Resolution) []activities.Resolution {
	out := j.withoutManual(rs)
	for _, p := range workflow.DeterministicKeys(j.manual) {
		out = append(out, j.manual[p])
	}
	return out
}

// withoutManual is rs without the conflicts people decided.
func (j *syncJob) withoutManual(rs []activities.Resolution) []activities.Resolution {
	out := make([]activities.Resolution, 0, len(rs))
	for _, r := range rs {
		if _, ok := j.manual[r.Pointer]; !ok {
			out = append(out, r)
		}
	}
	return out
}

// validateToAI checks a hand-back of the open conflicts to the model.
func (j *syncJob) validateToAI(in ResolveInput) error {
	w := j.st.Waiting
	switch {
	case w == nil || w.Kind != WaitConflicts:
		return errors.New("this job has no open conflicts")
	case !j.toAI.allowed:
		return errors.New("this job started before conflicts could be handed back to the model; decide them, or sync again")
	case len(in.Resolutions) > 0:
		return errors.New("give resolutions or hand the conflicts to the model, not both")
	case j.applying:
		return errors.New("resolutions are being applied; try again")
	case j.resolvedHash != "":
		return errors.New("every conflict is already decided")
	case j.toAI.asked:
		return errors.New("the open conflicts were already handed to the model")
	}
	return nil
}

// handToAI hands the open conflicts back to the model: the waiting job
// runs the AI step again (durably), keeping the choices people made.
func (j *syncJob) handToAI(ctx workflow.Context, in ResolveInput) ResolveResult {
	j.toAI.asked, j.toAI.by = true, in.By
	workflow.GetLogger(ctx).Info("conflicts handed back to the model", "by", in.By)
	return ResolveResult{Remaining: j.remaining(), HandedToAI: true}
}
