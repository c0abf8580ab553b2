package codec

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.temporal.io/server/temporaltest"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

const (
	secretInput = "payments-api https://internal.example/specs/payments.yaml"
	secretMemo  = "owner: team-billing-7f3a"
)

// ShoutActivity is the activity of the integration workflow: its input
// and result cross history too.
func ShoutActivity(_ context.Context, s string) (string, error) {
	return strings.ToUpper(s), nil
}

// ShoutWorkflow passes its input through an activity and returns the
// result.
func ShoutWorkflow(ctx workflow.Context, s string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	var out string
	err := workflow.ExecuteActivity(ctx, ShoutActivity, s).Get(ctx, &out)
	return out, err
}

// TestEncryptedHistoryOnRealServer runs a workflow on an embedded Temporal
// server with the encrypting data converter, then reads the raw history
// with a client that has no codec.
func TestEncryptedHistoryOnRealServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server")
	}
	keys := ring(t, "id2", "id1")
	ts := temporaltest.NewServer(temporaltest.WithT(t),
		temporaltest.WithBaseClientOptions(client.Options{DataConverter: DataConverter(keys)}))
	const taskQueue = "codec-it"
	ts.NewWorker(taskQueue, func(r worker.Registry) {
		r.RegisterWorkflow(ShoutWorkflow)
		r.RegisterActivity(ShoutActivity)
	})
	codecClient := ts.GetDefaultClient()
	plainClient := ts.NewClientWithOptions(client.Options{})

	ctx := t.Context()
	run, err := codecClient.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        "codec/it",
		TaskQueue: taskQueue,
		Memo:      map[string]any{"note": secretMemo},
	}, ShoutWorkflow, secretInput)
	require.NoError(t, err)
	var result string
	require.NoError(t, run.Get(ctx, &result))
	require.Equal(t, strings.ToUpper(secretInput), result, "the codec client decodes the result")

	// Raw history, read without the codec.
	var events int
	var startedInput *commonpb.Payloads
	iter := plainClient.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		events++
		raw, err := proto.Marshal(ev)
		require.NoError(t, err)
		for _, secret := range []string{secretInput, strings.ToUpper(secretInput), "payments", "PAYMENTS", secretMemo} {
			require.False(t, bytes.Contains(raw, []byte(secret)), "event %d (%s) shows %q in clear", ev.GetEventId(), ev.GetEventType(), secret)
		}
		if a := ev.GetWorkflowExecutionStartedEventAttributes(); a != nil {
			startedInput = a.GetInput()
			require.Equal(t, EncodingEncrypted, string(a.GetMemo().GetFields()["note"].GetMetadata()[converter.MetadataEncoding]))
		}
		if a := ev.GetWorkflowExecutionCompletedEventAttributes(); a != nil {
			p := a.GetResult().GetPayloads()[0]
			require.Equal(t, EncodingEncrypted, string(p.GetMetadata()[converter.MetadataEncoding]))
			require.Equal(t, "id2", string(p.GetMetadata()[MetadataKeyID]))
		}
	}
	require.GreaterOrEqual(t, events, 11, "a workflow with one activity has at least 11 events")
	require.NotNil(t, startedInput)
	require.Len(t, startedInput.GetPayloads(), 1)

	var notDecoded string
	err = plainClient.GetWorkflow(ctx, run.GetID(), run.GetRunID()).Get(ctx, &notDecoded)
	require.Error(t, err, "a client without the codec cannot read the result")
	require.Empty(t, notDecoded)

	// What the Web UI does with that raw input: post it to the codec server.
	srv := httptest.NewServer(Handler(keys, HandlerOptions{AllowedOrigins: []string{uiOrigin}}))
	t.Cleanup(srv.Close)
	body, err := protojson.Marshal(startedInput)
	require.NoError(t, err)
	resp := call(t, srv, http.MethodPost, "/"+ts.GetDefaultNamespace()+"/decode", string(body), uiHeaders(map[string]string{"X-Namespace": ts.GetDefaultNamespace()}))
	require.Equal(t, http.StatusOK, resp.status, resp.body)
	decoded := payloadsOf(t, resp.body)
	require.Len(t, decoded, 1)
	var input string
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(decoded[0], &input))
	require.Equal(t, secretInput, input)
}
