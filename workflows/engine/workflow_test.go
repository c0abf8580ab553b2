package engine

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/proto"

	"github.com/apilivesync/apilivesync/activities"
	"github.com/apilivesync/apilivesync/internal/registry"
	"github.com/apilivesync/apilivesync/internal/source"
	"github.com/apilivesync/apilivesync/internal/store"
	"github.com/apilivesync/apilivesync/workflows/syncjob"
)

var ea *activities.EngineActivities

// newEngineEnv runs the engine with its real registry activities on an
// in-memory store; sources here have no refresh interval, so no schedule
// is touched, and sync jobs are mocked by the tests that run them.
func newEngineEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *registry.Registry) {
	t.Helper()
	st, err := store.Open(context.Background(), "mem://")
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	reg := registry.New(st)
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterActivity(&activities.EngineActivities{Registry: reg})
	env.RegisterActivity(&activities.Activities{})
	env.OnActivity(ea.SignalRunningJobs, mock.Anything, mock.Anything).Return(0, nil).Maybe()
	env.RegisterWorkflowWithOptions(SyncEngineWorkflow, workflow.RegisterOptions{Name: EngineWorkflowName})
	env.RegisterWorkflowWithOptions(syncjob.SyncJobWorkflow, workflow.RegisterOptions{Name: syncjob.SyncJobWorkflowName})
	return env, reg
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

func src(id string, deps ...string) source.Source {
	return source.Source{ID: id, URL: "https://example.com/" + id + ".json", DependsOn: deps}
}

func prio(s source.Source, p string) source.Source { s.Priority = p; return s }

func engineMetrics(t *testing.T, env *testsuite.TestWorkflowEnvironment) SyncEngineMetrics {
	t.Helper()
	v, err := env.QueryWorkflow(QueryMetrics)
	require.NoError(t, err)
	var m SyncEngineMetrics
	require.NoError(t, v.Get(&m))
	return m
}

// mockJobs stands in for sync jobs: each records when it started and
// reports back, failing the IDs in fail.
func mockJobs(env *testsuite.TestWorkflowEnvironment, fail map[string]bool) map[string]time.Time {
	started := map[string]time.Time{}
	env.OnWorkflow(syncjob.SyncJobWorkflowName, mock.Anything, mock.Anything).Return(func(ctx workflow.Context, in syncjob.SyncJobInput) (*syncjob.SyncJobResult, error) {
		started[in.ID] = workflow.Now(ctx)
		_ = workflow.Sleep(ctx, time.Second)
		st := syncjob.StatusCompleted
		if fail[in.ID] {
			st = syncjob.StatusFailed
		}
		env.SignalWorkflow(syncjob.SignalSyncFinished, syncjob.SyncReport{JobID: in.ID, Status: st, DurationMs: 1000})
		return &syncjob.SyncJobResult{ID: in.ID, Status: st}, nil
	})
	return started
}

// The engine carries O(1) state across continue-as-new: registering
// thousands of sources and counting hundreds of reports leaves a
// continue-as-new input of a few hundred bytes, and every report counted.
func TestEngineStateStaysSmallAcrossContinueAsNew(t *testing.T) {
	env, reg := newEngineEnv(t)
	mockJobs(env, nil)
	const n, reports = 3000, 700
	sources := make([]source.Source, n)
	for i := range sources {
		sources[i] = src(fmt.Sprintf("s%05d", i))
		sources[i].Enabled = new(bool) // disabled: registering them queues nothing
	}
	var u *updateResult
	env.RegisterDelayedCallback(func() {
		u = update(env, UpdateApplyConfig, ApplyInput{Sources: sources})
		for i := range reports {
			env.SignalWorkflow(syncjob.SignalSyncFinished, syncjob.SyncReport{JobID: fmt.Sprintf("s%05d", i%n), Status: syncjob.StatusCompleted, DurationMs: 10})
		}
	}, time.Second)
	env.ExecuteWorkflow(SyncEngineWorkflow, EngineInput{Config: EngineConfig{ContinueAsNewAfter: 500}})
	require.NoError(t, u.err)
	require.Len(t, u.val.(ApplyResult).Added, n)
	var can *workflow.ContinueAsNewError
	require.ErrorAs(t, env.GetWorkflowError(), &can)
	size := 0
	for _, p := range can.Input.Payloads {
		size += proto.Size(p)
	}
	require.Less(t, size, 2048, "continue-as-new input grows with the registry")
	var next EngineInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.Equal(t, int64(reports), next.State.Metrics.TotalSyncs, "reports received before continuing are counted")
	require.Equal(t, n, next.State.Registered)
	page, _, err := reg.Page(context.Background(), "", 10)
	require.NoError(t, err)
	require.Len(t, page, 10)
}

// A dependent sync starts after its dependency finished; one whose
// dependency failed is held with the reason; a cycle is refused.
func TestEngineRunsDependenciesFirstAndHoldsAfterAFailure(t *testing.T) {
	env, reg := newEngineEnv(t)
	started := mockJobs(env, map[string]bool{"broken": true})
	var unknown, cycle *updateResult
	env.RegisterDelayedCallback(func() {
		update(env, UpdateApplyConfig, ApplyInput{Sources: []source.Source{src("a", "b"), src("b"), src("c", "broken"), src("broken")}})
		cycle = update(env, UpdateApplyConfig, ApplyInput{Sources: []source.Source{src("x", "y"), src("y", "x")}, Keep: true})
		unknown = update(env, UpdateApplyConfig, ApplyInput{Sources: []source.Source{src("z", "nobody")}, Keep: true})
	}, time.Second)
	var m SyncEngineMetrics
	env.RegisterDelayedCallback(func() {
		m = engineMetrics(t, env)
		env.CancelWorkflow()
	}, time.Minute)
	env.ExecuteWorkflow(SyncEngineWorkflow, EngineInput{})
	require.ErrorContains(t, cycle.err, "dependency cycle: x → y → x")
	require.ErrorContains(t, unknown.err, `dependsOn "nobody": no such source`)
	require.Contains(t, started, "a", "a newly added source syncs at once")
	require.Contains(t, started, "b")
	require.GreaterOrEqual(t, started["a"].Sub(started["b"]), time.Second, "a ran before its dependency b finished")
	require.NotContains(t, started, "c", "c ran although its dependency failed")
	j, err := reg.Get(context.Background(), "c")
	require.NoError(t, err)
	require.Equal(t, "held", j.LastStatus)
	require.Contains(t, j.Held, "broken")
	require.Equal(t, int64(3), m.TotalSyncs)
	require.Equal(t, int64(1), m.FailedSyncs)
}

// Syncs that fall due together run as one batch, highest priority first;
// a paused source is skipped by sync-all, and says why.
func TestEngineBatchesDueSyncsAndHonoursPauses(t *testing.T) {
	env, _ := newEngineEnv(t)
	started := mockJobs(env, nil)
	var firstDue time.Time
	var syncAll SelectResult
	env.RegisterDelayedCallback(func() {
		update(env, UpdateUpdateConfig, EngineConfig{BatchWindow: source.Duration(5 * time.Second), MaxConcurrent: 1})
		update(env, UpdateApplyConfig, ApplyInput{Sources: []source.Source{prio(src("low"), "low"), src("mid"), prio(src("high"), "high"), src("paused")}, Keep: true})
	}, time.Second)
	env.RegisterDelayedCallback(func() {
		// The first syncs of the new sources are done; now pause one and let three fall due.
		update(env, UpdatePauseSync, SelectInput{IDs: []string{"paused"}})
		for k := range started {
			delete(started, k)
		}
		firstDue = env.Now()
		env.SignalWorkflow(SignalSyncDue, DueInput{SourceID: "low"})
	}, 20*time.Second)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(SignalSyncDue, DueInput{SourceID: "mid"}) }, 21*time.Second)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(SignalSyncDue, DueInput{SourceID: "high"})
		env.SignalWorkflow(SignalSyncDue, DueInput{SourceID: "high"}) // due twice: once in the batch
	}, 22*time.Second)
	batch := map[string]time.Time{}
	env.RegisterDelayedCallback(func() {
		for k, v := range started {
			batch[k] = v
		}
		u := update(env, UpdateStartSync, SelectInput{})
		env.RegisterDelayedCallback(func() {
			require.NoError(t, u.err)
			syncAll = u.val.(SelectResult)
			env.CancelWorkflow()
		}, time.Second)
	}, time.Minute)
	env.ExecuteWorkflow(SyncEngineWorkflow, EngineInput{})
	started = batch
	require.Len(t, started, 3)
	for id, at := range started {
		require.GreaterOrEqual(t, at.Sub(firstDue), 5*time.Second, "%s ran before its batch closed", id)
	}
	require.True(t, started["high"].Before(started["mid"]), "high priority first: %v", started)
	require.Equal(t, "paused", syncAll.Skipped["paused"])
	require.NotContains(t, syncAll.IDs, "paused")
}

// A report sent twice with one ID (a retried activity) counts once, also
// after the engine continued as new in between: the new run starts with
// the ID among its recent reports.
func TestEngineCountsARetriedReportOnce(t *testing.T) {
	env, _ := newEngineEnv(t)
	r := ReportArg{Report: syncjob.SyncReport{JobID: "a", RunID: "r1", Status: syncjob.StatusCompleted}, Finished: true}
	prev := &engine{st: &EngineState{}}
	require.False(t, prev.seen("report/a/r1/finished"), "the run before counted it")
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateReportSync, "report/a/r1/finished", &updateResult{}, r)
		env.UpdateWorkflow(UpdateReportSync, "report/b/r2/finished", &updateResult{}, r)
	}, time.Second)
	var m SyncEngineMetrics
	env.RegisterDelayedCallback(func() {
		m = engineMetrics(t, env)
		env.CancelWorkflow()
	}, time.Minute)
	state := &EngineState{Recent: prev.st.Recent}
	state.Config.defaults()
	env.ExecuteWorkflow(SyncEngineWorkflow, EngineInput{State: state})
	require.Equal(t, int64(1), m.TotalSyncs, "the retried report counted again")
}

// A sync whose end report never arrives stops counting as running once
// its run has closed, and frees its slot.
func TestEngineForgetsASyncThatClosedWithoutReporting(t *testing.T) {
	env, _ := newEngineEnv(t)
	env.OnWorkflow(syncjob.SyncJobWorkflowName, mock.Anything, mock.Anything).Return(&syncjob.SyncJobResult{Status: syncjob.StatusCompleted}, nil)
	env.OnActivity(ea.ClosedSyncs, mock.Anything, mock.Anything).Return([]string{"silent"}, nil)
	var before, after SyncEngineMetrics
	env.RegisterDelayedCallback(func() {
		update(env, UpdateApplyConfig, ApplyInput{Sources: []source.Source{src("silent")}})
	}, time.Second)
	env.RegisterDelayedCallback(func() { before = engineMetrics(t, env) }, time.Minute)
	env.RegisterDelayedCallback(func() {
		after = engineMetrics(t, env)
		env.CancelWorkflow()
	}, reapInterval+2*time.Minute)
	env.ExecuteWorkflow(SyncEngineWorkflow, EngineInput{})
	require.Equal(t, 1, before.ActiveJobs, "the sync ran without reporting")
	require.Equal(t, 0, after.ActiveJobs)
}
