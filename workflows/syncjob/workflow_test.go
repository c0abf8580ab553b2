package syncjob

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/apilivesync/apilivesync/activities"
	"github.com/apilivesync/apilivesync/internal/source"
)

var a *activities.Activities

func newEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	return newEnvWithSearchAttributes(t, slices.Sorted(maps.Keys(SearchAttributes())), nil)
}

// newEnvWithSearchAttributes is newEnv on a namespace that has the named
// search attributes (or that cannot say, with err).
func newEnvWithSearchAttributes(t *testing.T, names []string, err error) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterActivity(&activities.Activities{})
	env.RegisterWorkflow(SyncJobWorkflow)
	env.OnActivity(RegisteredSearchAttributes, mock.Anything).Return(names, err).Maybe()
	return env
}

func input(maxRetries int) SyncJobInput {
	return SyncJobInput{
		MaxRetries: &maxRetries,
		Source:     source.Source{ID: "pets", URL: "https://example.com/openapi.json"},
	}
}

func queryStatus(t *testing.T, env *testsuite.TestWorkflowEnvironment) Status {
	t.Helper()
	v, err := env.QueryWorkflow(QueryStatus)
	require.NoError(t, err)
	var st Status
	require.NoError(t, v.Get(&st))
	return st
}

func result(t *testing.T, env *testsuite.TestWorkflowEnvironment) SyncJobResult {
	t.Helper()
	var res SyncJobResult
	require.NoError(t, env.GetWorkflowResult(&res))
	return res
}

func expectPipeline(env *testsuite.TestWorkflowEnvironment) {
	env.OnActivity(a.FetchSpec, mock.Anything, mock.Anything).Return(&activities.FetchResult{RawHash: "sha256:raw2", BaseHash: "sha256:base1", Bytes: 1234}, nil)
	env.OnActivity(a.ParseSpec, mock.Anything, mock.Anything).Return(&activities.ParseResult{Hash: "sha256:doc2", Counts: activities.Counts{Family: "openapi3.0", Version: "3.0.3", Paths: 2, Operations: 3, Schemas: 4}}, nil)
	env.OnActivity(a.DiffSpecs, mock.Anything, mock.Anything).Return(&activities.DiffResult{Total: 3, Breaking: 1, ReportHash: "sha256:rep", Top: []string{"removed GET /pets/{id}"}}, nil)
	env.OnActivity(a.MergeSpecs, mock.Anything, mock.Anything).Return(&activities.MergeResult{HeadVersion: 1, HeadHash: "sha256:base1", MergedHash: "sha256:doc2"}, nil)
	env.OnActivity(a.StoreVersion, mock.Anything, mock.Anything).Return(&activities.StoreResult{Version: 2, Hash: "sha256:doc2", Created: true, Changes: 3, Breaking: 1}, nil)
	env.OnActivity(a.Notify, mock.Anything, mock.Anything).Return(&activities.NotifyResult{}, nil)
}

func TestChangedSpecIsStored(t *testing.T) {
	env := newEnv(t)
	expectPipeline(env)
	env.ExecuteWorkflow(SyncJobWorkflow, input(3))
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	res := result(t, env)
	require.Equal(t, StatusCompleted, res.Status)
	require.False(t, res.NoChange)
	require.Equal(t, 2, res.Version)
	require.Equal(t, "sha256:doc2", res.VersionHash)
	require.Equal(t, 3, res.Changes)
	require.Equal(t, 1, res.BreakingChanges)
	require.Equal(t, []string{"removed GET /pets/{id}"}, res.TopChanges)
	require.Equal(t, "pets", res.API)

	st := queryStatus(t, env)
	require.Equal(t, StatusCompleted, st.Status)
	require.Equal(t, StepDone, st.Step)
	require.Equal(t, 3, st.ChangesDetected)
	require.Equal(t, "sha256:doc2", st.VersionHash)
	var names []string
	for _, s := range st.Steps {
		names = append(names, s.Name)
		require.Equal(t, StatusCompleted, s.Status, s.Name)
	}
	require.Equal(t, []string{StepFetch, StepParse, StepDiff, StepMerge, StepStore, StepNotify}, names)
	for _, n := range names {
		require.Contains(t, st.StepDurations, n)
	}
	env.AssertExpectations(t)
}

func TestNotModifiedSkipsTheRest(t *testing.T) {
	for _, fr := range []activities.FetchResult{{NotModified: true, BaseHash: "sha256:b"}, {Unchanged: true, RawHash: "sha256:r", BaseHash: "sha256:b"}} {
		env := newEnv(t)
		env.OnActivity(a.FetchSpec, mock.Anything, mock.Anything).Return(&fr, nil).Once()
		env.ExecuteWorkflow(SyncJobWorkflow, input(3))
		require.NoError(t, env.GetWorkflowError())
		res := result(t, env)
		require.True(t, res.NoChange)
		require.Equal(t, StatusCompleted, res.Status)
		require.Len(t, res.Steps, 1)
		env.AssertNotCalled(t, "ParseSpec", mock.Anything, mock.Anything)
		env.AssertNotCalled(t, "StoreVersion", mock.Anything, mock.Anything)
	}
}

func TestTransientFailuresAreRetriedAndCounted(t *testing.T) {
	env := newEnv(t)
	calls := 0
	env.OnActivity(a.FetchSpec, mock.Anything, mock.Anything).Return(func(_ context.Context, _ activities.FetchInput) (*activities.FetchResult, error) {
		calls++
		if calls <= 2 {
			return nil, errors.New(`fetch source "pets": GET https://example.com/openapi.json: 500 Internal Server Error`)
		}
		return &activities.FetchResult{NotModified: true}, nil
	})
	var during Status
	env.RegisterDelayedCallback(func() { during = queryStatus(t, env) }, 500*time.Millisecond)
	env.ExecuteWorkflow(SyncJobWorkflow, input(3))
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, 3, calls)
	// After the first failure, before the retry at 1s.
	require.Equal(t, 1, during.RetryCount)
	require.NotNil(t, during.NextAttempt)
	require.Contains(t, during.LastError, "500 Internal Server Error")
	st := queryStatus(t, env)
	require.Equal(t, 2, st.RetryCount)
	require.Equal(t, StatusCompleted, st.Status)
	require.Equal(t, 3, st.Steps[0].Attempts)
}

func TestRetriesAreBoundedByMaxRetries(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(a.FetchSpec, mock.Anything, mock.Anything).Return(nil, errors.New(`fetch source "pets": connection refused`)).Times(2)
	env.ExecuteWorkflow(SyncJobWorkflow, input(1))
	err := env.GetWorkflowError()
	require.Error(t, err)
	require.Contains(t, err.Error(), "connection refused")
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr))
	var res SyncJobResult
	require.NoError(t, appErr.Details(&res))
	require.Equal(t, StatusFailed, res.Status)
	require.Contains(t, res.Error, `fetch source "pets"`)
	st := queryStatus(t, env)
	require.Equal(t, StatusFailed, st.Status)
	require.Equal(t, 1, st.RetryCount)
	require.Equal(t, 1, st.MaxRetries)
	env.AssertExpectations(t)
}

func TestPermanentFailureIsNotRetried(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(a.FetchSpec, mock.Anything, mock.Anything).Return(&activities.FetchResult{RawHash: "sha256:raw"}, nil)
	env.OnActivity(a.ParseSpec, mock.Anything, mock.Anything).Return(nil,
		temporal.NewNonRetryableApplicationError(`parse source "pets": not an API spec: no "openapi" or "swagger" key`, activities.ErrTypeSpec, nil)).Once()
	env.ExecuteWorkflow(SyncJobWorkflow, input(5))
	err := env.GetWorkflowError()
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr))
	require.Equal(t, activities.ErrTypeSpec, appErr.Type())
	st := queryStatus(t, env)
	require.Equal(t, 0, st.RetryCount)
	require.Equal(t, StepDone, st.Step)
	require.Contains(t, st.LastError, "not an API spec")
	env.AssertNotCalled(t, "StoreVersion", mock.Anything, mock.Anything)
}

func TestPauseHoldsTheNextStepUntilResume(t *testing.T) {
	env := newEnv(t)
	expectPipeline(env)
	var fetchAt time.Time
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		if info.ActivityType.Name == "FetchSpec" {
			fetchAt = env.Now()
		}
	})
	start := env.Now()
	var paused Status
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(SignalPause, nil) }, 0)
	env.RegisterDelayedCallback(func() { paused = queryStatus(t, env) }, time.Minute)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(SignalResume, nil) }, 2*time.Minute)
	env.ExecuteWorkflow(SyncJobWorkflow, input(3))
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, StatusPaused, paused.Status)
	require.True(t, paused.Paused)
	// Paused before the first step: fetch waits for resume.
	require.Len(t, paused.Steps, 1)
	require.Equal(t, StepFetch, paused.Steps[0].Name)
	require.Zero(t, paused.Steps[0].Attempts)
	require.GreaterOrEqual(t, fetchAt.Sub(start), 2*time.Minute, "fetch started before resume")
	require.Equal(t, StatusCompleted, result(t, env).Status)
}

func TestStopWhilePausedEndsCleanly(t *testing.T) {
	env := newEnv(t)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(SignalPause, nil) }, 0)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(SignalStop, nil) }, time.Minute)
	env.ExecuteWorkflow(SyncJobWorkflow, input(3))
	require.NoError(t, env.GetWorkflowError())
	res := result(t, env)
	require.Equal(t, StatusStopped, res.Status)
	env.AssertNotCalled(t, "FetchSpec", mock.Anything, mock.Anything)
}

func TestLostVersionRaceReMerges(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(a.FetchSpec, mock.Anything, mock.Anything).Return(&activities.FetchResult{RawHash: "sha256:raw"}, nil)
	env.OnActivity(a.ParseSpec, mock.Anything, mock.Anything).Return(&activities.ParseResult{Hash: "sha256:doc"}, nil)
	env.OnActivity(a.MergeSpecs, mock.Anything, mock.Anything).Return(&activities.MergeResult{HeadVersion: 4, MergedHash: "sha256:doc"}, nil).Times(2)
	env.OnActivity(a.StoreVersion, mock.Anything, mock.Anything).Return(nil,
		temporal.NewNonRetryableApplicationError("head moved", activities.ErrTypeHeadMoved, nil)).Once()
	env.OnActivity(a.StoreVersion, mock.Anything, mock.Anything).Return(&activities.StoreResult{Version: 6, Hash: "sha256:doc", Created: true}, nil).Once()
	env.OnActivity(a.Notify, mock.Anything, mock.Anything).Return(&activities.NotifyResult{}, nil)
	env.ExecuteWorkflow(SyncJobWorkflow, input(3))
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, 6, result(t, env).Version)
	env.AssertExpectations(t)
}

func TestInvalidInputFailsWithAClearError(t *testing.T) {
	env := newEnv(t)
	in := input(3)
	in.Source.URL = "ftp://example.com/x"
	env.ExecuteWorkflow(SyncJobWorkflow, in)
	err := env.GetWorkflowError()
	require.Error(t, err)
	require.Contains(t, err.Error(), `want an absolute http:// or https:// URL`)
}

// A webhook retried by the job carries the same event, time included:
// receivers that hash or verify bodies see one event.
func TestRetriedWebhookIsTheSameEvent(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(a.FetchSpec, mock.Anything, mock.Anything).Return(&activities.FetchResult{RawHash: "sha256:raw2", BaseHash: "sha256:base1"}, nil)
	env.OnActivity(a.ParseSpec, mock.Anything, mock.Anything).Return(&activities.ParseResult{Hash: "sha256:doc2"}, nil)
	env.OnActivity(a.DiffSpecs, mock.Anything, mock.Anything).Return(&activities.DiffResult{Total: 1}, nil)
	env.OnActivity(a.MergeSpecs, mock.Anything, mock.Anything).Return(&activities.MergeResult{HeadVersion: 1, MergedHash: "sha256:doc2"}, nil)
	env.OnActivity(a.StoreVersion, mock.Anything, mock.Anything).Return(&activities.StoreResult{Version: 2, Hash: "sha256:doc2", Created: true}, nil)
	var sent []activities.NotifyInput
	env.OnActivity(a.Notify, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.NotifyInput) (*activities.NotifyResult, error) {
		sent = append(sent, in)
		if len(sent) < 3 {
			return nil, errors.New("receiver down")
		}
		return &activities.NotifyResult{}, nil
	})
	env.ExecuteWorkflow(SyncJobWorkflow, input(3))
	require.NoError(t, env.GetWorkflowError())
	require.Len(t, sent, 3)
	require.Equal(t, sent[0], sent[1])
	require.Equal(t, sent[0], sent[2])
}

// A step lost with its worker (no heartbeat) runs again at once and does
// not use up the job's retries: with maxRetries 0 the sync still completes.
func TestWorkerLossDoesNotCountAsARetry(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(a.FetchSpec, mock.Anything, mock.Anything).Return(&activities.FetchResult{RawHash: "sha256:raw2", BaseHash: "sha256:base1"}, nil)
	env.OnActivity(a.DiffSpecs, mock.Anything, mock.Anything).Return(&activities.DiffResult{Total: 1}, nil)
	env.OnActivity(a.MergeSpecs, mock.Anything, mock.Anything).Return(&activities.MergeResult{HeadVersion: 1, MergedHash: "sha256:doc2"}, nil)
	env.OnActivity(a.StoreVersion, mock.Anything, mock.Anything).Return(&activities.StoreResult{Version: 2, Hash: "sha256:doc2", Created: true}, nil)
	env.OnActivity(a.Notify, mock.Anything, mock.Anything).Return(&activities.NotifyResult{}, nil)
	lost := 0
	env.OnActivity(a.ParseSpec, mock.Anything, mock.Anything).Return(func(context.Context, activities.ParseInput) (*activities.ParseResult, error) {
		if lost < 2 {
			lost++
			return nil, temporal.NewHeartbeatTimeoutError()
		}
		return &activities.ParseResult{Hash: "sha256:doc2"}, nil
	})
	env.ExecuteWorkflow(SyncJobWorkflow, input(0))
	require.NoError(t, env.GetWorkflowError())
	st := queryStatus(t, env)
	require.Equal(t, StatusCompleted, st.Status)
	require.Equal(t, 2, st.WorkerLosses)
	require.Equal(t, 0, st.RetryCount)
}

// Every activity a workflow runs takes its options from the one policy
// table; steps that can run long heartbeat within seconds.
func TestEveryStepHasAPolicy(t *testing.T) {
	for _, step := range []string{StepFetch, StepParse, StepDiff, StepMerge, StepResolve, StepStore, StepNotify, PolicyApply, PolicyNotifyFailed, PolicyEngine, PolicySearchAttributes} {
		o := ActivityOptions(step)
		require.Positive(t, o.StartToCloseTimeout, step)
		require.NotNil(t, o.RetryPolicy, step)
		if step != PolicyEngine && step != PolicySearchAttributes {
			require.Equal(t, activities.HeartbeatTimeout, o.HeartbeatTimeout, step)
		}
	}
}

func TestUILinkEscapesTheWorkflowID(t *testing.T) {
	require.Equal(t, "http://127.0.0.1:8233/namespaces/default/workflows/sync%2Fexample-petstore/0199-ab/history",
		UILink("http://127.0.0.1:8233/", "default", SyncWorkflowID("example-petstore"), "0199-ab"))
	require.Equal(t, "http://ui/namespaces/default/workflows/sync%2Fpayments", UILink("http://ui", "default", "sync/payments", ""))
}

func TestStepTimeoutsScaleWithTheDocument(t *testing.T) {
	require.Positive(t, Policies[StepParse].PerMB)
	small, big := StartToCloseFor(StepParse, 100<<10), StartToCloseFor(StepParse, 50<<20)
	require.Equal(t, Policies[StepParse].StartToClose, small)
	require.Equal(t, Policies[StepParse].StartToClose+50*Policies[StepParse].PerMB, big)
	require.Equal(t, Policies[StepFetch].StartToClose, StartToCloseFor(StepFetch, 50<<20), "fetch has its own limits")
}
