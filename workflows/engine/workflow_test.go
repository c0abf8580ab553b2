package engine

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/apilivesync/apilivesync/activities"
	"github.com/apilivesync/apilivesync/internal/source"
	"github.com/apilivesync/apilivesync/workflows/syncjob"
)

var ea *activities.EngineActivities

func newEngineEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterActivity(&activities.EngineActivities{})
	env.RegisterWorkflowWithOptions(SyncEngineWorkflow, workflow.RegisterOptions{Name: EngineWorkflowName})
	env.RegisterWorkflowWithOptions(syncjob.SyncJobWorkflow, workflow.RegisterOptions{Name: syncjob.SyncJobWorkflowName})
	return env
}

type updateResult struct {
	err error
	val any
}

func (u *updateResult) Accept()                   {}
func (u *updateResult) Reject(err error)          { u.err = err }
func (u *updateResult) Complete(v any, err error) { u.val, u.err = v, err }

func update(env *testsuite.TestWorkflowEnvironment, name string, arg any) *updateResult {
	u := &updateResult{}
	env.UpdateWorkflow(name, "", u, arg)
	return u
}

func src(id string, every time.Duration) source.Source {
	return source.Source{ID: id, URL: "https://example.com/" + id + ".json", RefreshInterval: source.Duration(every)}
}

func engineStatus(t *testing.T, env *testsuite.TestWorkflowEnvironment) map[string]JobInfo {
	t.Helper()
	v, err := env.QueryWorkflow(QueryGetSyncStatus)
	require.NoError(t, err)
	var jobs []JobInfo
	require.NoError(t, v.Get(&jobs))
	out := map[string]JobInfo{}
	for _, j := range jobs {
		out[j.ID] = j
	}
	return out
}

func engineMetrics(t *testing.T, env *testsuite.TestWorkflowEnvironment) SyncEngineMetrics {
	t.Helper()
	v, err := env.QueryWorkflow(QueryMetrics)
	require.NoError(t, err)
	var m SyncEngineMetrics
	require.NoError(t, v.Get(&m))
	return m
}

func TestEngineRegistryAppliesSchedulesAndIsIdempotent(t *testing.T) {
	env := newEngineEnv(t)
	var upserts []activities.ScheduleInput
	var deletes []string
	env.OnActivity(ea.UpsertSchedule, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ScheduleInput) error {
		upserts = append(upserts, in)
		return nil
	})
	env.OnActivity(ea.DeleteSchedule, mock.Anything, mock.Anything).Return(func(_ context.Context, id string) error {
		deletes = append(deletes, id)
		return nil
	})
	var first, second, third *updateResult
	var bad *updateResult
	env.RegisterDelayedCallback(func() {
		first = update(env, UpdateApplyConfig, ApplyInput{Sources: []source.Source{src("a", time.Hour), src("b", 5*time.Minute), src("c", 0)}})
	}, time.Second)
	env.RegisterDelayedCallback(func() {
		second = update(env, UpdateApplyConfig, ApplyInput{Sources: []source.Source{src("a", time.Hour), src("b", 5*time.Minute), src("c", 0)}})
	}, 2*time.Second)
	env.RegisterDelayedCallback(func() {
		changed := src("b", 10*time.Minute)
		third = update(env, UpdateApplyConfig, ApplyInput{Sources: []source.Source{changed, src("c", 0)}})
		bad = update(env, UpdateAddSource, source.Source{ID: "bad id!", URL: "ftp://x"})
	}, 3*time.Second)
	env.RegisterDelayedCallback(func() {
		jobs := engineStatus(t, env)
		require.Len(t, jobs, 2)
		require.True(t, jobs["b"].Scheduled)
		require.False(t, jobs["c"].Scheduled, "no refresh interval: on demand only")
		env.CancelWorkflow()
	}, 4*time.Second)
	env.ExecuteWorkflow(SyncEngineWorkflow, EngineInput{})

	require.NoError(t, first.err)
	res := first.val.(ApplyResult)
	require.Equal(t, []string{"a", "b", "c"}, res.Added)
	require.NoError(t, second.err)
	res = second.val.(ApplyResult)
	require.Empty(t, res.Added)
	require.Empty(t, res.Updated)
	require.Empty(t, res.Removed)
	require.Len(t, res.Unchanged, 3)
	require.NoError(t, third.err)
	res = third.val.(ApplyResult)
	require.Equal(t, []string{"b"}, res.Updated)
	require.Equal(t, []string{"a"}, res.Removed)
	require.Error(t, bad.err)
	require.Contains(t, bad.err.Error(), "invalid source id")

	// a and b scheduled once each by the first apply, nothing by the second,
	// b again by the third; a's schedule deleted.
	require.Len(t, upserts, 3)
	require.Equal(t, 5*time.Minute, upserts[1].Interval)
	require.Equal(t, 30*time.Second, upserts[1].Jitter, "10%% of the interval")
	require.Equal(t, time.Minute, upserts[0].Jitter, "at most a minute")
	require.Equal(t, DueWorkflowIDPrefix+"b", upserts[1].WorkflowIDPrefix)
	require.Equal(t, SyncDueWorkflowName, upserts[1].Workflow)
	require.Equal(t, []string{"a"}, deletes)
}

func TestEngineCountsSyncsAndPausesAfterRepeatedFailures(t *testing.T) {
	env := newEngineEnv(t)
	env.OnActivity(ea.UpsertSchedule, mock.Anything, mock.Anything).Return(nil)
	var pauses []activities.PauseScheduleInput
	env.OnActivity(ea.PauseSchedule, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.PauseScheduleInput) error {
		pauses = append(pauses, in)
		return nil
	})
	finished := func(status string, ms int64) {
		env.SignalWorkflow(syncjob.SignalSyncFinished, syncjob.SyncReport{JobID: "a", WorkflowID: "sync/a", Status: status, DurationMs: ms, Error: map[bool]string{true: "boom"}[status == syncjob.StatusFailed]})
	}
	env.RegisterDelayedCallback(func() {
		update(env, UpdateUpdateConfig, EngineConfig{FailureThreshold: 3, MaxConcurrent: 2})
		update(env, UpdateAddSource, src("a", time.Hour))
	}, time.Second)
	env.RegisterDelayedCallback(func() {
		finished(syncjob.StatusCompleted, 100)
		finished(syncjob.StatusFailed, 300)
		finished(syncjob.StatusFailed, 300)
	}, 2*time.Second)
	var afterTwo map[string]JobInfo
	env.RegisterDelayedCallback(func() {
		afterTwo = engineStatus(t, env)
		finished(syncjob.StatusFailed, 300)
	}, 3*time.Second)
	var paused map[string]JobInfo
	var m SyncEngineMetrics
	env.RegisterDelayedCallback(func() {
		paused = engineStatus(t, env)
		m = engineMetrics(t, env)
		finished(syncjob.StatusCompleted, 100)
	}, 4*time.Second)
	var resumed map[string]JobInfo
	env.RegisterDelayedCallback(func() {
		resumed = engineStatus(t, env)
		env.CancelWorkflow()
	}, 5*time.Second)
	env.ExecuteWorkflow(SyncEngineWorkflow, EngineInput{})

	require.Equal(t, 2, afterTwo["a"].ConsecutiveFailures)
	require.Empty(t, afterTwo["a"].PausedReason)
	require.Equal(t, 3, paused["a"].ConsecutiveFailures)
	require.Contains(t, paused["a"].PausedReason, "3 consecutive failures")
	require.Equal(t, int64(4), m.TotalSyncs)
	require.Equal(t, int64(1), m.SuccessfulSyncs)
	require.Equal(t, int64(3), m.FailedSyncs)
	require.InDelta(t, 250.0, m.AverageSyncTime, 0.01)
	require.NotNil(t, m.LastSyncTime)
	require.Equal(t, 1, m.RegisteredSources)
	require.Zero(t, resumed["a"].ConsecutiveFailures, "a success resets the count")
	require.Empty(t, resumed["a"].PausedReason)
	require.Len(t, pauses, 2)
	require.True(t, pauses[0].Pause)
	require.False(t, pauses[1].Pause)
}

func TestEngineSyncAllRunsChildrenWithBoundedConcurrency(t *testing.T) {
	env := newEngineEnv(t)
	env.OnActivity(ea.UpsertSchedule, mock.Anything, mock.Anything).Return(nil)
	running, peak := 0, 0
	env.OnWorkflow(syncjob.SyncJobWorkflowName, mock.Anything, mock.Anything).Return(func(ctx workflow.Context, in syncjob.SyncJobInput) (*syncjob.SyncJobResult, error) {
		running++
		if running > peak {
			peak = running
		}
		_ = workflow.Sleep(ctx, time.Minute)
		running--
		env.SignalWorkflow(syncjob.SignalSyncFinished, syncjob.SyncReport{JobID: in.ID, Status: syncjob.StatusCompleted, DurationMs: 60000})
		return &syncjob.SyncJobResult{ID: in.ID, Status: syncjob.StatusCompleted}, nil
	})
	var started *updateResult
	env.RegisterDelayedCallback(func() {
		update(env, UpdateUpdateConfig, EngineConfig{MaxConcurrent: 2})
		var srcs []source.Source
		for _, id := range []string{"a", "b", "c", "d", "e"} {
			srcs = append(srcs, src(id, 0))
		}
		update(env, UpdateApplyConfig, ApplyInput{Sources: srcs, Keep: true})
	}, time.Second)
	// After apply has checked and registered the sources (an activity).
	env.RegisterDelayedCallback(func() { started = update(env, UpdateStartSync, SelectInput{}) }, 2*time.Second)
	var during, m SyncEngineMetrics
	env.RegisterDelayedCallback(func() { during = engineMetrics(t, env) }, 30*time.Second)
	env.RegisterDelayedCallback(func() {
		m = engineMetrics(t, env)
		env.CancelWorkflow()
	}, 10*time.Minute)
	env.ExecuteWorkflow(SyncEngineWorkflow, EngineInput{})
	require.NoError(t, started.err)
	require.Len(t, started.val.(SelectResult).IDs, 5)
	require.LessOrEqual(t, peak, 2, "at most MaxConcurrent syncs at once")
	require.Equal(t, 2, during.ActiveJobs)
	require.Equal(t, 3, during.QueueLength)
	require.Equal(t, int64(5), m.TotalSyncs)
	require.Zero(t, m.QueueLength)
	require.Zero(t, m.ActiveJobs)
}

func TestEngineContinuesAsNewWithItsState(t *testing.T) {
	env := newEngineEnv(t)
	env.OnActivity(ea.UpsertSchedule, mock.Anything, mock.Anything).Return(nil)
	env.RegisterDelayedCallback(func() {
		update(env, UpdateAddSource, src("a", time.Hour))
		for range 12 {
			env.SignalWorkflow(syncjob.SignalSyncFinished, syncjob.SyncReport{JobID: "a", Status: syncjob.StatusCompleted, DurationMs: 10})
		}
	}, time.Second)
	env.ExecuteWorkflow(SyncEngineWorkflow, EngineInput{Config: EngineConfig{ContinueAsNewAfter: 10}})
	err := env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	require.ErrorAs(t, err, &can)
	var next EngineInput
	require.NoError(t, converterDecode(can, &next))
	require.NotNil(t, next.State)
	require.Contains(t, next.State.Jobs, "a")
	require.Equal(t, int64(12), next.State.Metrics.TotalSyncs, "signals received before continuing are counted")
}

func converterDecode(can *workflow.ContinueAsNewError, out *EngineInput) error {
	return converter.GetDefaultDataConverter().FromPayloads(can.Input, out)
}

func TestEngineBatchesSyncsThatFallDueTogether(t *testing.T) {
	env := newEngineEnv(t)
	env.OnActivity(ea.UpsertSchedule, mock.Anything, mock.Anything).Return(nil)
	started := map[string]time.Time{}
	env.OnWorkflow(syncjob.SyncJobWorkflowName, mock.Anything, mock.Anything).Return(func(ctx workflow.Context, in syncjob.SyncJobInput) (*syncjob.SyncJobResult, error) {
		started[in.ID] = workflow.Now(ctx)
		env.SignalWorkflow(syncjob.SignalSyncFinished, syncjob.SyncReport{JobID: in.ID, Status: syncjob.StatusCompleted, DurationMs: 5})
		return &syncjob.SyncJobResult{ID: in.ID, Status: syncjob.StatusCompleted}, nil
	})
	var firstDue time.Time
	env.RegisterDelayedCallback(func() {
		update(env, UpdateUpdateConfig, EngineConfig{BatchWindow: source.Duration(5 * time.Second), MaxConcurrent: 10})
		update(env, UpdateApplyConfig, ApplyInput{Sources: []source.Source{src("low", time.Hour), src("mid", time.Hour), src("high", time.Hour)}, Keep: true})
	}, time.Second)
	env.RegisterDelayedCallback(func() {
		firstDue = env.Now()
		env.SignalWorkflow(SignalSyncDue, DueInput{SourceID: "low"})
	}, 2*time.Second)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(SignalSyncDue, DueInput{SourceID: "mid"}) }, 3*time.Second)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(SignalSyncDue, DueInput{SourceID: "high"})
		env.SignalWorkflow(SignalSyncDue, DueInput{SourceID: "high"}) // due twice: once in the batch
	}, 4*time.Second)
	var m SyncEngineMetrics
	env.RegisterDelayedCallback(func() {
		m = engineMetrics(t, env)
		env.CancelWorkflow()
	}, time.Minute)
	env.ExecuteWorkflow(SyncEngineWorkflow, EngineInput{})
	require.Len(t, started, 3)
	for id, at := range started {
		require.GreaterOrEqual(t, at.Sub(firstDue), 5*time.Second, "%s ran before its batch closed", id)
		require.Equal(t, started["low"], at, "the batch runs together")
	}
	require.Equal(t, int64(3), m.TotalSyncs)
}
