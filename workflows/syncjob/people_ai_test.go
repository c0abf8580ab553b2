package syncjob

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/apilivesync/apilivesync/activities"
	"github.com/apilivesync/apilivesync/internal/source"
)

// expectConflicts is expectPipeline with a merge that meets two conflicts.
func expectConflicts(env *testsuite.TestWorkflowEnvironment) {
	env.OnActivity(a.FetchSpec, mock.Anything, mock.Anything).Return(&activities.FetchResult{RawHash: "sha256:raw2", BaseHash: "sha256:base1"}, nil)
	env.OnActivity(a.ParseSpec, mock.Anything, mock.Anything).Return(&activities.ParseResult{Hash: "sha256:doc2"}, nil)
	env.OnActivity(a.DiffSpecs, mock.Anything, mock.Anything).Return(&activities.DiffResult{Total: 2}, nil)
	env.OnActivity(a.MergeSpecs, mock.Anything, mock.Anything).Return(&activities.MergeResult{HeadVersion: 1, HeadHash: "sha256:local",
		ConflictsHash: "sha256:conflicts", ConflictCount: 2,
		Conflicts: []activities.Conflict{{ID: "c1", Pointer: "/info/title"}, {ID: "c2", Pointer: "/info/description"}}}, nil)
	env.OnActivity(a.StoreVersion, mock.Anything, mock.Anything).Return(&activities.StoreResult{Version: 2, Hash: "sha256:resolved", Created: true}, nil)
	env.OnActivity(a.Notify, mock.Anything, mock.Anything).Return(&activities.NotifyResult{}, nil)
}

func aiInput(window time.Duration) SyncJobInput {
	in := input(1)
	in.Source.Strategy = source.StrategyAI
	in.AIRetryWindow = source.Duration(window)
	return in
}

// update is what one resolve update got: a rejection or a result.
type update struct {
	rejected error
	res      *ResolveResult
}

// sendResolve sends the resolve update; the outcome arrives in u.
func sendResolve(t *testing.T, env *testsuite.TestWorkflowEnvironment, in ResolveInput, u *update) {
	env.UpdateWorkflow(UpdateResolve, "", &testsuite.TestUpdateCallback{
		OnAccept: func() {},
		OnReject: func(err error) { u.rejected = err },
		OnComplete: func(v any, err error) {
			require.NoError(t, err)
			res := v.(ResolveResult)
			u.res = &res
		},
	}, in)
}

// TestAIStepRetriedByTemporalThenPerson: an unavailable model is retried by
// Temporal within the window, then a person is asked; handed back, the
// model decides, durably.
func TestAIStepRetriedByTemporalThenPerson(t *testing.T) {
	env := newEnv(t)
	expectConflicts(env)
	up := false
	calls := 0
	var both, back update
	var inputs []activities.ResolveInput
	env.OnActivity(a.ResolveConflicts, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ResolveInput) (*activities.ResolveResult, error) {
		calls++
		inputs = append(inputs, in)
		if !up {
			return nil, temporal.NewApplicationErrorWithOptions("the model answered 503", activities.ErrTypeAIUnavailable, temporal.ApplicationErrorOptions{})
		}
		return &activities.ResolveResult{MergedHash: "sha256:ai", Attempts: 1, Resolutions: []activities.Resolution{
			{Pointer: "/info/title", Choice: "local", Strategy: source.StrategyAI, Reason: "r1"},
			{Pointer: "/info/description", Choice: "remote", Strategy: source.StrategyAI, Reason: "r2"},
		}}, nil
	})
	env.RegisterDelayedCallback(func() {
		st := queryStatus(t, env)
		require.NotNil(t, st.Waiting, "the window is over: a person is asked")
		require.Equal(t, WaitConflicts, st.Waiting.Kind)
		require.Contains(t, st.Waiting.Reason, "unavailable through the 10m0s AI retry window")
		require.Contains(t, st.Waiting.Reason, "the model answered 503")
		require.Greater(t, calls, 2, "Temporal retried within the window")
		sendResolve(t, env, ResolveInput{AI: true, Resolutions: []activities.Resolution{{Pointer: "/info/title", Choice: "local"}}}, &both)
		up = true
		sendResolve(t, env, ResolveInput{AI: true, By: "gil"}, &back)
	}, time.Hour)
	env.ExecuteWorkflow(SyncJobWorkflow, aiInput(10*time.Minute))
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	require.ErrorContains(t, both.rejected, "not both")
	require.NoError(t, back.rejected)
	require.NotNil(t, back.res)
	require.Equal(t, ResolveResult{Remaining: 2, HandedToAI: true}, *back.res)
	res := result(t, env)
	require.Equal(t, StatusCompleted, res.Status)
	require.Equal(t, []Decision{
		{Pointer: "/info/title", Choice: "local", Strategy: source.StrategyAI, Reason: "r1"},
		{Pointer: "/info/description", Choice: "remote", Strategy: source.StrategyAI, Reason: "r2"},
	}, res.Decisions)
	for _, in := range inputs {
		require.Equal(t, source.StrategyAI, in.Strategy)
	}
}

// TestHandBackKeepsPeoplesChoices: under the manual strategy a person
// decides one conflict and hands the other to the model; the person's
// choice stands.
func TestHandBackKeepsPeoplesChoices(t *testing.T) {
	env := newEnv(t)
	expectConflicts(env)
	in := input(1)
	in.Source.Strategy = source.StrategyManual
	env.OnActivity(a.ResolveConflicts, mock.Anything, mock.Anything).Return(&activities.ResolveResult{MergedHash: "sha256:ai-only", Resolutions: []activities.Resolution{
		{Pointer: "/info/title", Choice: "remote", Strategy: source.StrategyAI, Reason: "model"},
		{Pointer: "/info/description", Choice: "remote", Strategy: source.StrategyAI, Reason: "model"},
	}}, nil).Once()
	var applied activities.ApplyInput
	env.OnActivity(a.ApplyResolutions, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ApplyInput) (*activities.ApplyResult, error) {
		applied = in
		return &activities.ApplyResult{MergedHash: "sha256:both"}, nil
	})
	var person, back update
	env.RegisterDelayedCallback(func() {
		sendResolve(t, env, ResolveInput{By: "hana", Resolutions: []activities.Resolution{{Pointer: "/info/title", Choice: "local"}}}, &person)
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		sendResolve(t, env, ResolveInput{AI: true, By: "hana"}, &back)
	}, 2*time.Minute)
	env.ExecuteWorkflow(SyncJobWorkflow, in)
	require.NoError(t, env.GetWorkflowError())
	require.NoError(t, person.rejected)
	require.Equal(t, ResolveResult{Remaining: 1}, *person.res)
	require.NoError(t, back.rejected)
	require.Equal(t, ResolveResult{Remaining: 1, HandedToAI: true}, *back.res)
	require.Equal(t, []activities.Resolution{
		{Pointer: "/info/description", Choice: "remote", Strategy: source.StrategyAI, Reason: "model"},
		{Pointer: "/info/title", Choice: "local", Strategy: source.StrategyManual, Reason: "decided by hana"},
	}, applied.Resolutions)
	res := result(t, env)
	require.Equal(t, StatusCompleted, res.Status)
	require.Len(t, res.Decisions, 2)
}

// TestAIRetryPolicyFromSteps: the AI step's window and backoff come from the
// steps table, or the job's input.
func TestAIRetryPolicyFromSteps(t *testing.T) {
	def := AIResolveOptions(SyncJobInput{}, 0)
	require.Equal(t, time.Hour, def.ScheduleToCloseTimeout)
	require.Equal(t, time.Second, def.RetryPolicy.InitialInterval)
	require.Equal(t, time.Minute, def.RetryPolicy.MaximumInterval)
	require.Zero(t, def.RetryPolicy.MaximumAttempts, "as often as the window allows")
	in := aiInput(90 * time.Second)
	in.RetryInitialInterval, in.RetryMaxInterval = source.Duration(100*time.Millisecond), source.Duration(2*time.Second)
	o := AIResolveOptions(in, 3<<20)
	require.Equal(t, 90*time.Second, o.ScheduleToCloseTimeout)
	require.Equal(t, 100*time.Millisecond, o.RetryPolicy.InitialInterval)
	require.Equal(t, 2*time.Second, o.RetryPolicy.MaximumInterval)
	require.Equal(t, StartToCloseFor(PolicyAIResolve, 3<<20), o.StartToCloseTimeout)
}

// TestHandBackFailureWaitsAgain: when the model cannot be asked again (a
// permanent failure), the job waits for the person once more.
func TestHandBackFailureWaitsAgain(t *testing.T) {
	env := newEnv(t)
	expectConflicts(env)
	in := input(0)
	in.Source.Strategy = source.StrategyManual
	env.OnActivity(a.ResolveConflicts, mock.Anything, mock.Anything).Return(nil,
		temporal.NewNonRetryableApplicationError("stored conflicts sha256:conflicts are gone", activities.ErrTypeNotFound, nil)).Once()
	env.OnActivity(a.ApplyResolutions, mock.Anything, mock.Anything).Return(&activities.ApplyResult{MergedHash: "sha256:manual"}, nil)
	var back, person update
	env.RegisterDelayedCallback(func() { sendResolve(t, env, ResolveInput{AI: true}, &back) }, time.Minute)
	env.RegisterDelayedCallback(func() {
		st := queryStatus(t, env)
		require.NotNil(t, st.Waiting)
		require.Contains(t, st.Waiting.Reason, "asking the model again failed: stored conflicts sha256:conflicts are gone")
		require.Equal(t, 24*time.Hour, st.Waiting.Deadline.Sub(st.Waiting.Since), "the deadline does not restart")
		sendResolve(t, env, ResolveInput{By: "ida", Resolutions: []activities.Resolution{
			{Pointer: "/info/title", Choice: "local"}, {Pointer: "/info/description", Choice: "remote"}}}, &person)
	}, time.Hour)
	env.ExecuteWorkflow(SyncJobWorkflow, in)
	require.NoError(t, env.GetWorkflowError())
	require.True(t, back.res.HandedToAI)
	require.True(t, person.res.Applied)
	require.Equal(t, StatusCompleted, result(t, env).Status)
}

// TestAISettingsFromSource: a job that sets no aiRetryWindow or aiMaxReasks
// takes its source's (a config file's, through the engine); the job's own
// win; a source's aiMaxReasks 0 means never ask again.
func TestAISettingsFromSource(t *testing.T) {
	n := func(v int) *int { return &v }
	tests := []struct {
		name   string
		job    SyncJobInput
		src    source.Source
		window time.Duration
		reasks int
	}{
		{name: "neither: defaults", window: time.Hour},
		{name: "source", src: source.Source{AIRetryWindow: source.Duration(5 * time.Minute), AIMaxReasks: n(1)},
			window: 5 * time.Minute, reasks: 1},
		{name: "source says never", src: source.Source{AIMaxReasks: n(0)}, window: time.Hour, reasks: -1},
		{name: "job wins", job: SyncJobInput{AIRetryWindow: source.Duration(time.Minute), AIMaxReasks: 2},
			src:    source.Source{AIRetryWindow: source.Duration(5 * time.Minute), AIMaxReasks: n(1)},
			window: time.Minute, reasks: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.job
			in.Source = tt.src
			in.Source.ID, in.Source.URL = "pets", "https://pets.example.com/openapi.json"
			require.NoError(t, in.Normalize())
			require.Equal(t, tt.reasks, in.AIMaxReasks)
			require.Equal(t, tt.window, AIResolveOptions(in, 0).ScheduleToCloseTimeout)
		})
	}
	bad := SyncJobInput{Source: source.Source{ID: "pets", URL: "https://pets.example.com/openapi.json", AIMaxReasks: n(-1)}}
	require.ErrorContains(t, bad.Normalize(), `source "pets": aiMaxReasks -1: must not be negative`)
}
