package syncjob

import (
	"encoding/json"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/apilivesync/apilivesync/activities"
	"github.com/apilivesync/apilivesync/internal/source"
)

type approval struct {
	decided  bool
	approved bool
	by       string
}

// registerPeopleHandlers registers the updates people answer with.
func (j *syncJob) registerPeopleHandlers(ctx workflow.Context) error {
	approvalValidator := func(ctx workflow.Context, in ApprovalInput) error {
		if j.st.Waiting == nil || j.st.Waiting.Kind != WaitApproval {
			return errors.New("this job is not waiting for approval")
		}
		if j.approval.decided {
			return errors.New("this job's breaking changes were already " + map[bool]string{true: "approved", false: "rejected"}[j.approval.approved])
		}
		return nil
	}
	decide := func(approved bool) func(workflow.Context, ApprovalInput) (ApprovalResult, error) {
		return func(ctx workflow.Context, in ApprovalInput) (ApprovalResult, error) {
			j.approval = approval{decided: true, approved: approved, by: in.By}
			d := "rejected"
			if approved {
				d = "approved"
			}
			workflow.GetLogger(ctx).Info("breaking change "+d, "by", in.By, "comment", in.Comment)
			return ApprovalResult{Decision: d}, nil
		}
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateApprove, decide(true),
		workflow.UpdateHandlerOptions{Validator: approvalValidator}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateReject, decide(false),
		workflow.UpdateHandlerOptions{Validator: approvalValidator}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateResolve, j.handleResolve,
		workflow.UpdateHandlerOptions{Validator: j.validateResolve})
}

func (j *syncJob) validateResolve(ctx workflow.Context, in ResolveInput) error {
	if in.AI {
		return j.validateToAI(in)
	}
	w := j.st.Waiting
	if w == nil || w.Kind != WaitConflicts {
		return errors.New("this job has no open conflicts")
	}
	if j.toAI.asked {
		return errors.New("the open conflicts were handed to the model; wait for its answer")
	}
	if j.applying {
		return errors.New("resolutions are being applied; try again")
	}
	if j.resolvedHash != "" {
		return errors.New("every conflict is already decided")
	}
	if len(in.Resolutions) == 0 {
		return errors.New("give at least one resolution")
	}
	open := map[string]bool{}
	for _, c := range w.Conflicts {
		open[c.Pointer] = true
	}
	seen := map[string]bool{}
	for _, r := range in.Resolutions {
		if r.Pointer == "" {
			return errors.New("a resolution has no pointer")
		}
		if len(w.Conflicts) < activities.MaxConflictsInHistory && !open[r.Pointer] {
			return fmt.Errorf("no open conflict at %q", r.Pointer)
		}
		if seen[r.Pointer] {
			return fmt.Errorf("conflict %q is resolved twice", r.Pointer)
		}
		seen[r.Pointer] = true
		switch r.Choice {
		case "remote", "local", "base":
		case "value":
			if !json.Valid(r.Value) {
				return fmt.Errorf("conflict %q: choice value needs a valid JSON value", r.Pointer)
			}
		default:
			return fmt.Errorf("conflict %q: choice %q: want remote, local, base or value", r.Pointer, r.Choice)
		}
	}
	return nil
}

func (j *syncJob) handleResolve(ctx workflow.Context, in ResolveInput) (ResolveResult, error) {
	if in.AI {
		return j.handToAI(ctx, in), nil
	}
	for _, r := range in.Resolutions {
		r.Strategy = source.StrategyManual
		if r.Reason == "" && in.By != "" {
			r.Reason = "decided by " + in.By
		}
		j.manual[r.Pointer] = r
	}
	remaining := j.remaining()
	if remaining > 0 {
		return ResolveResult{Remaining: remaining}, nil
	}
	j.applying = true
	defer func() { j.applying = false }()
	hash, err := j.apply(ctx, j.st.Waiting.ConflictsHash, j.collectResolutions())
	if err != nil {
		// The choices made an invalid document: forget them and keep waiting.
		for _, r := range in.Resolutions {
			delete(j.manual, r.Pointer)
		}
		return ResolveResult{Remaining: len(in.Resolutions)}, err
	}
	j.resolvedHash = hash
	return ResolveResult{Applied: true, MergedHash: hash}, nil
}

func (j *syncJob) collectResolutionsFor(w *Waiting) []activities.Resolution {
	saved := j.st.Waiting
	j.st.Waiting = w
	defer func() { j.st.Waiting = saved }()
	return j.collectResolutions()
}

// remaining counts the open conflicts a person has not decided yet.
func (j *syncJob) remaining() int {
	w := j.st.Waiting
	if len(w.Conflicts) < w.ConflictCount {
		// Not every open conflict is listed: count the choices made.
		return max(w.ConflictCount-len(j.manual), 0)
	}
	n := 0
	for _, c := range w.Conflicts {
		if _, ok := j.manual[c.Pointer]; !ok {
			n++
		}
	}
	return n
}

func (j *syncJob) collectResolutions() []activities.Resolution {
	out := append([]activities.Resolution(nil), j.decided...)
	w := j.st.Waiting
	if len(w.Conflicts) < w.ConflictCount {
		for _, p := range workflow.DeterministicKeys(j.manual) {
			out = append(out, j.manual[p])
		}
		return out
	}
	for _, c := range w.Conflicts {
		if r, ok := j.manual[c.Pointer]; ok {
			out = append(out, r)
		}
	}
	return out
}

func (j *syncJob) apply(ctx workflow.Context, conflictsHash string, rs []activities.Resolution) (string, error) {
	return j.applyRest(ctx, conflictsHash, rs, "", "", "")
}

// applyRest applies rs, deciding every other conflict with rest (remote or
// local) when set.
func (j *syncJob) applyRest(ctx workflow.Context, conflictsHash string, rs []activities.Resolution, rest, restStrategy, restReason string) (string, error) {
	var a *activities.Activities
	var res activities.ApplyResult
	opts := ActivityOptions(PolicyApply)
	opts.RetryPolicy.MaximumAttempts = int32(*j.in.MaxRetries) + 1
	actx := workflow.WithActivityOptions(ctx, opts)
	err := workflow.ExecuteActivity(actx, a.ApplyResolutions, activities.ApplyInput{
		API: j.in.Source.APIID(), ConflictsHash: conflictsHash, Resolutions: rs, Rest: rest, RestStrategy: restStrategy, RestReason: restReason,
	}).Get(ctx, &res)
	if err != nil {
		if temporal.IsCanceledError(err) {
			return "", err
		}
		return "", fmt.Errorf("%s: %w", errorText(err), err)
	}
	if len(res.Decided) > 0 {
		rs = res.Decided
	}
	j.recordDecisions(rs)
	return res.MergedHash, nil
}

func (j *syncJob) recordDecisions(rs []activities.Resolution) {
	j.decisions = j.decisions[:0]
	for _, r := range rs {
		j.decisions = append(j.decisions, Decision{Pointer: r.Pointer, Choice: r.Choice, Strategy: r.Strategy, Reason: r.Reason})
	}
	j.st.Decisions = j.decisions
}

// gate applies the breaking-change gate. It returns false when the change
// must not be applied (blocked, rejected, or no answer before the deadline
// under a reject policy).
func (j *syncJob) gate(ctx workflow.Context, top []string) (bool, error) {
	if j.st.BreakingChanges == 0 {
		return true, nil
	}
	src := j.in.Source
	switch src.GateOrDefault() {
	case source.GateBlock:
		j.block(fmt.Sprintf("%d breaking change(s) blocked by the gate; the last version stays current", j.st.BreakingChanges))
		return false, nil
	case source.GateHold:
	default:
		return true, nil
	}
	timeout := src.HoldTimeout.Std()
	if timeout <= 0 {
		timeout = source.DefaultDecisionTimeout
	}
	onTimeout := src.OnHoldTimeout
	if onTimeout == "" {
		onTimeout = "reject"
	}
	now := workflow.Now(ctx)
	j.st.Waiting = &Waiting{Kind: WaitApproval, Since: now, Deadline: now.Add(timeout), OnTimeout: onTimeout, TopChanges: top,
		Reason: fmt.Sprintf("%d breaking change(s) wait for approval: starter approve %s (or reject)", j.st.BreakingChanges, j.in.ID)}
	j.st.Status = StatusWaiting
	j.wait(ctx)
	answered, err := workflow.AwaitWithTimeout(ctx, timeout, func() bool { return j.approval.decided || j.stop })
	// An answer that came in the same workflow task as the deadline counts.
	answered = answered || j.approval.decided
	j.st.Waiting = nil
	j.st.Status, j.st.Outcome = StatusRunning, ""
	if err != nil {
		return false, err
	}
	if j.stop {
		return false, errStopped
	}
	approved := j.approval.approved
	if !answered {
		approved = onTimeout == "approve"
		j.st.Message = fmt.Sprintf("no answer within %s: %sd by policy", timeout, onTimeout)
	}
	if !approved {
		why := "rejected" + by(j.approval.by)
		if !answered {
			why = fmt.Sprintf("not approved within %s (onHoldTimeout: %s), so rejected", timeout, onTimeout)
		}
		j.block(fmt.Sprintf("%d breaking change(s) %s; the last version stays current", j.st.BreakingChanges, why))
		return false, nil
	}
	if answered {
		j.st.Message = "breaking changes approved" + by(j.approval.by)
	}
	return true, nil
}

// wait shows that the job waits for a person: in the status, the details
// and LiveSyncOutcome (which the next step, or the end, replaces).
func (j *syncJob) wait(ctx workflow.Context) {
	j.st.Outcome = OutcomeWaiting
	j.upsertOutcome(ctx, OutcomeWaiting, false)
	j.publish(ctx)
}

func by(who string) string {
	if who == "" {
		return ""
	}
	return " by " + who
}

func (j *syncJob) block(msg string) {
	j.st.Blocked = true
	j.st.Message = msg
}

// resolveConflicts decides a merge's open conflicts by the source's
// strategy, waiting for a person when the strategy (or the AI's fallback)
// leaves some open. It returns the resolved document's hash. Runs since
// changeAIDurable take resolveConflictsDurable (people_ai.go); the code
// below replays runs recorded before it.
func (j *syncJob) resolveConflicts(ctx workflow.Context, merged activities.MergeResult) (string, error) {
	if workflow.GetVersion(ctx, changeAIDurable, workflow.DefaultVersion, 1) >= 1 {
		return j.resolveConflictsDurable(ctx, merged)
	}
	src := j.in.Source
	strategy := src.StrategyOrDefault()
	j.decided, j.decisions = nil, nil
	open := merged.Conflicts
	reason := fmt.Sprintf("%d conflict(s) need a decision", len(open))

	// Choices a person already made for the same conflicts (a re-merge
	// after a lost race) are reused.
	if strategy != source.StrategyManual || len(j.manual) > 0 {
		if strategy != source.StrategyManual {
			hash, left, why, err := j.resolveByStrategy(ctx, strategy, merged)
			if err != nil || left == nil {
				return hash, err
			}
			open, reason = left, why
		}
	}

	// Wait durably for a person.
	timeout := src.ManualTimeout.Std()
	if timeout <= 0 {
		timeout = source.DefaultDecisionTimeout
	}
	onTimeout := src.OnManualTimeout
	if onTimeout == "" {
		onTimeout = "fail"
	}
	now := workflow.Now(ctx)
	j.resolvedHash = ""
	openCount := max(merged.ConflictCount, len(open))
	if len(j.decided) > 0 {
		openCount = max(openCount-len(j.decided), len(open))
	}
	j.st.Waiting = &Waiting{Kind: WaitConflicts, Reason: reason + ": starter conflicts " + src.APIID() + ", then starter resolve " + j.in.ID,
		Since: now, Deadline: now.Add(timeout), OnTimeout: onTimeout, Conflicts: open, ConflictsHash: merged.ConflictsHash, ConflictCount: openCount}
	j.st.Status, j.st.Step = StatusWaiting, StepResolve
	j.wait(ctx)
	if len(j.manual) > 0 {
		if j.remaining() == 0 {
			if h, err := j.apply(ctx, merged.ConflictsHash, j.collectResolutions()); err == nil {
				j.resolvedHash = h
			}
		}
	}
	answered, err := workflow.AwaitWithTimeout(ctx, timeout, func() bool { return (j.resolvedHash != "" && !j.applying) || j.stop })
	if err == nil && !answered && j.applying {
		// A person's resolutions are being applied as the deadline passes: they win.
		err = workflow.Await(ctx, func() bool { return !j.applying })
		answered = j.resolvedHash != ""
	}
	answered = answered || (j.resolvedHash != "" && !j.applying)
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

// resolveByStrategy runs the resolve step under a non-manual strategy. It
// returns the merged document's hash when every conflict was decided (left
// nil); otherwise the conflicts left for a person and why (the strategy's
// decisions are kept in j.decided).
func (j *syncJob) resolveByStrategy(ctx workflow.Context, strategy string, merged activities.MergeResult) (string, []activities.Conflict, string, error) {
	var a *activities.Activities
	src := j.in.Source
	var res activities.ResolveResult
	if err := j.step(ctx, StepResolve, func(ctx workflow.Context) error {
		return workflow.ExecuteActivity(ctx, a.ResolveConflicts, activities.ResolveInput{
			API: src.APIID(), SourceID: src.ID, Strategy: strategy, ConflictsHash: merged.ConflictsHash, Rank: src.Rank,
		}).Get(ctx, &res)
	}); err != nil {
		return "", nil, "", err
	}
	if len(res.Open) == 0 {
		j.recordDecisions(res.Resolutions)
		return res.MergedHash, nil, "", nil
	}
	j.decided = res.Resolutions
	return "", res.Open, fmt.Sprintf("%d conflict(s) left for a person: %s", len(res.Open), res.FallbackReason), nil
}
