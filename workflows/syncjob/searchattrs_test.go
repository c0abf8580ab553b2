package syncjob

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/apilivesync/apilivesync/activities"
	"github.com/apilivesync/apilivesync/internal/source"
)

func TestSearchAttributesListsEveryName(t *testing.T) {
	require.Equal(t, map[string]enumspb.IndexedValueType{
		"LiveSyncSource":   enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		"LiveSyncAPI":      enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		"LiveSyncOutcome":  enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		"LiveSyncTrigger":  enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		"LiveSyncBreaking": enumspb.INDEXED_VALUE_TYPE_INT,
		"LiveSyncVersion":  enumspb.INDEXED_VALUE_TYPE_INT,
	}, SearchAttributes())
}

// recordSearchAttributes keeps what the workflow upserts, as the server
// would: the last value of each name, unset ones removed.
func recordSearchAttributes(env *testsuite.TestWorkflowEnvironment) (map[string]any, *int) {
	got, upserts := map[string]any{}, new(int)
	env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		*upserts++
		values := args.Get(0).(temporal.SearchAttributes).GetUntypedValues()
		if len(values) == 0 {
			// The SDK hides unset keys from the mock; the job unsets only
			// the outcome, alone, when it runs again after waiting.
			delete(got, SearchAttrOutcome.GetName())
		}
		for k, v := range values {
			got[k.GetName()] = v
		}
	}).Return(nil)
	return got, upserts
}

func gated(gate string) SyncJobInput {
	in := input(0)
	in.Source.Gate, in.Source.HoldTimeout = gate, source.Duration(time.Hour)
	return in
}

// Every run sets its search attributes itself, whoever started it: the
// outcome, the trigger, the breaking count and the version.
func TestEveryRunSetsItsSearchAttributes(t *testing.T) {
	tests := []struct {
		name    string
		in      SyncJobInput
		setup   func(env *testsuite.TestWorkflowEnvironment)
		outcome string
		want    map[string]any
	}{
		{"stored", input(3), expectPipeline, OutcomeStored,
			map[string]any{"LiveSyncBreaking": int64(1), "LiveSyncVersion": int64(2)}},
		{"no change", input(3), func(env *testsuite.TestWorkflowEnvironment) {
			env.OnActivity(a.FetchSpec, mock.Anything, mock.Anything).Return(&activities.FetchResult{NotModified: true, HeadVersion: 4}, nil)
		}, OutcomeNoChange, map[string]any{"LiveSyncBreaking": int64(0), "LiveSyncVersion": int64(4)}},
		{"failed", input(0), func(env *testsuite.TestWorkflowEnvironment) {
			env.OnActivity(a.FetchSpec, mock.Anything, mock.Anything).Return(nil, temporal.NewNonRetryableApplicationError("404", activities.ErrTypeSource, nil))
			env.OnActivity(a.Notify, mock.Anything, mock.Anything).Return(&activities.NotifyResult{}, nil)
		}, OutcomeFailed, map[string]any{"LiveSyncBreaking": int64(0)}},
		{"stopped", input(3), func(env *testsuite.TestWorkflowEnvironment) {
			env.RegisterDelayedCallback(func() { env.SignalWorkflow(SignalPause, nil) }, 0)
			env.RegisterDelayedCallback(func() { env.SignalWorkflow(SignalStop, nil) }, time.Minute)
		}, OutcomeStopped, map[string]any{"LiveSyncBreaking": int64(0)}},
		{"held by the gate", gated(source.GateBlock), expectPipeline, OutcomeHeld, map[string]any{"LiveSyncBreaking": int64(1)}},
		{"held past the deadline", gated(source.GateHold), expectPipeline, OutcomeHeld, map[string]any{"LiveSyncBreaking": int64(1)}},
		{"rejected by a person", gated(source.GateHold), func(env *testsuite.TestWorkflowEnvironment) {
			expectPipeline(env)
			env.RegisterDelayedCallback(func() {
				env.UpdateWorkflow(UpdateReject, "", &testsuite.TestUpdateCallback{}, ApprovalInput{By: "ana"})
			}, time.Minute)
		}, OutcomeRejected, map[string]any{"LiveSyncBreaking": int64(1)}},
		{"approved by a person", gated(source.GateHold), func(env *testsuite.TestWorkflowEnvironment) {
			expectPipeline(env)
			env.RegisterDelayedCallback(func() {
				env.UpdateWorkflow(UpdateApprove, "", &testsuite.TestUpdateCallback{}, ApprovalInput{By: "ana"})
			}, time.Minute)
		}, OutcomeStored, map[string]any{"LiveSyncBreaking": int64(1), "LiveSyncVersion": int64(2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t)
			got, _ := recordSearchAttributes(env)
			tt.setup(env)
			env.ExecuteWorkflow(SyncJobWorkflow, tt.in)
			require.True(t, env.IsWorkflowCompleted())
			var res SyncJobResult
			if err := env.GetWorkflowError(); err != nil {
				var appErr *temporal.ApplicationError
				require.ErrorAs(t, err, &appErr)
				require.NoError(t, appErr.Details(&res))
			} else {
				res = result(t, env)
			}
			require.Equal(t, tt.outcome, res.Outcome)
			require.Equal(t, tt.outcome, queryStatus(t, env).Outcome)
			want := map[string]any{"LiveSyncSource": "pets", "LiveSyncAPI": "pets", "LiveSyncTrigger": TriggerAPI, "LiveSyncOutcome": tt.outcome}
			for k, v := range tt.want {
				want[k] = v
			}
			require.Equal(t, want, got)
		})
	}
}

// While a person is asked, the list says waiting; once answered, the run
// is running again (no outcome) until it ends.
func TestWaitingForAPersonIsAnOutcomeUntilAnswered(t *testing.T) {
	env := newEnv(t)
	got, _ := recordSearchAttributes(env)
	var waiting, afterApproval map[string]any
	var waitingStatus Status
	copyOf := func(m map[string]any) map[string]any {
		c := map[string]any{}
		for k, v := range m {
			c[k] = v
		}
		return c
	}
	env.RegisterDelayedCallback(func() { waiting, waitingStatus = copyOf(got), queryStatus(t, env) }, 30*time.Second)
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateApprove, "", &testsuite.TestUpdateCallback{}, ApprovalInput{By: "ana"})
	}, time.Minute)
	env.OnActivity(a.MergeSpecs, mock.Anything, mock.Anything).Return(func(context.Context, activities.MergeInput) (*activities.MergeResult, error) {
		afterApproval = copyOf(got)
		return &activities.MergeResult{HeadVersion: 1, HeadHash: "sha256:base1", MergedHash: "sha256:doc2"}, nil
	})
	expectPipeline(env) // every other step; the merge above comes first
	env.ExecuteWorkflow(SyncJobWorkflow, gated(source.GateHold))
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, OutcomeWaiting, waiting["LiveSyncOutcome"])
	require.Equal(t, OutcomeWaiting, waitingStatus.Outcome)
	require.NotContains(t, afterApproval, "LiveSyncOutcome")
	require.Equal(t, OutcomeStored, got["LiveSyncOutcome"])
}

// A namespace without (some of) the attributes still syncs: the job sets
// only those it has, or none when it cannot tell.
func TestMissingSearchAttributesDoNotFailTheSync(t *testing.T) {
	for _, tt := range []struct {
		name  string
		names []string
		err   error
		want  []string
	}{
		{"only the starter's two", []string{"LiveSyncAPI", "LiveSyncSource"}, nil, []string{"LiveSyncAPI", "LiveSyncSource"}},
		{"none", nil, nil, nil},
		{"cannot tell", nil, temporal.NewNonRetryableApplicationError("permission denied", "PermissionDenied", errors.New("denied")), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnvWithSearchAttributes(t, tt.names, tt.err)
			got, upserts := recordSearchAttributes(env)
			expectPipeline(env)
			env.ExecuteWorkflow(SyncJobWorkflow, input(3))
			require.NoError(t, env.GetWorkflowError())
			require.Equal(t, OutcomeStored, result(t, env).Outcome)
			var names []string
			for k := range got {
				names = append(names, k)
			}
			require.ElementsMatch(t, tt.want, names)
			if len(tt.want) == 0 {
				require.Zero(t, *upserts)
			}
		})
	}
}

func TestTriggerIsValidated(t *testing.T) {
	in := input(3)
	require.NoError(t, in.Normalize())
	require.Equal(t, TriggerAPI, in.Trigger)
	in.Trigger = "cron"
	require.ErrorContains(t, in.Normalize(), `invalid trigger "cron"`)
}

func TestStoppedRunSaysSoInItsDetails(t *testing.T) {
	j := &syncJob{st: Status{ID: "pets", SourceID: "pets", API: "pets", Status: StatusStopped, Outcome: OutcomeStopped,
		Message: "stopped on request at fetch", Trigger: TriggerManual}}
	d := j.details()
	require.Contains(t, d, "**stopped: stopped on request at fetch**")
	require.Contains(t, d, "outcome `stopped`, trigger `manual`")
}
