package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	"go.temporal.io/sdk/temporal"

	"github.com/apilivesync/apilivesync/internal/codec"
	"github.com/apilivesync/apilivesync/workflows"
)

var (
	saSource = temporal.NewSearchAttributeKeyKeyword("LiveSyncSource")
	saAPI    = temporal.NewSearchAttributeKeyKeyword("LiveSyncAPI")
)

// SyncStartOptions are the start options of a SyncJob: its derived ID, the
// task queue, attach-if-running, and its priority.
func SyncStartOptions(in workflows.SyncJobInput, withSearchAttributes bool) client.StartWorkflowOptions {
	id := in.ID
	if id == "" {
		id = in.SourceID
	}
	if id == "" {
		id = in.Source.ID
	}
	prio := in.Priority
	if prio == "" {
		prio = in.Source.Priority
	}
	o := client.StartWorkflowOptions{
		ID:        workflows.SyncWorkflowID(id),
		TaskQueue: workflows.TaskQueue,
		// A second start while a sync runs attaches to it; after it ends, a new run starts.
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		Priority:                 temporal.Priority{PriorityKey: workflows.PriorityKey(prio)},
	}
	if withSearchAttributes {
		o.TypedSearchAttributes = temporal.NewSearchAttributes(saSource.ValueSet(in.Source.ID), saAPI.ValueSet(in.Source.APIID()))
	}
	return o
}

// StartSync starts (or attaches to) the SyncJob for in.Source and, when
// wait is set, returns its result. A failed sync returns its result (with
// Error set) and the error.
func StartSync(ctx context.Context, c client.Client, in workflows.SyncJobInput, wait bool) (*workflows.SyncJobResult, error) {
	run, err := StartSyncRun(ctx, c, in)
	if err != nil {
		return nil, err
	}
	if !wait {
		return &workflows.SyncJobResult{ID: strings.TrimPrefix(run.GetID(), workflows.SyncWorkflowIDPrefix), Status: workflows.StatusRunning}, nil
	}
	return SyncResult(ctx, run)
}

// StartSyncRun starts (or attaches to) the SyncJob and returns its run. A
// scheduled sync of the same source that is running (sync/<id>-<time>) is
// attached to as well, so a manual sync does not run beside it.
func StartSyncRun(ctx context.Context, c client.Client, in workflows.SyncJobInput) (client.WorkflowRun, error) {
	if run := runningScheduled(ctx, c, in); run != nil {
		return run, nil
	}
	run, err := c.ExecuteWorkflow(ctx, SyncStartOptions(in, true), workflows.SyncJobWorkflowName, in)
	var invalid *serviceerror.InvalidArgument
	if errors.As(err, &invalid) && strings.Contains(strings.ToLower(invalid.Error()), "search attribute") {
		// A cluster without our search attributes: start without them.
		run, err = c.ExecuteWorkflow(ctx, SyncStartOptions(in, false), workflows.SyncJobWorkflowName, in)
	}
	if err != nil {
		return nil, fmt.Errorf("start sync of source %q: %w", in.Source.ID, err)
	}
	return run, nil
}

func runningScheduled(ctx context.Context, c client.Client, in workflows.SyncJobInput) client.WorkflowRun {
	id := SyncStartOptions(in, false).ID
	resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = 'Running' AND WorkflowId STARTS_WITH '%s-20'", workflows.SyncJobWorkflowName, id),
	})
	if err != nil || len(resp.Executions) == 0 {
		return nil // visibility without STARTS_WITH, or none running: start as usual
	}
	e := resp.Executions[0].GetExecution()
	return c.GetWorkflow(ctx, e.GetWorkflowId(), e.GetRunId())
}

// SyncResult waits for a SyncJob run and returns its result, also when it failed.
func SyncResult(ctx context.Context, run client.WorkflowRun) (*workflows.SyncJobResult, error) {
	var res workflows.SyncJobResult
	err := run.Get(ctx, &res)
	if err == nil {
		return &res, nil
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.HasDetails() {
		if derr := appErr.Details(&res); derr == nil {
			return &res, errors.New(res.Error)
		}
	}
	return nil, err
}

// DialClient connects to Temporal: the standard environment and config file
// (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS, API key), overridden by the
// explicit address and namespace when given.
func DialClient(ctx context.Context, address, namespace string) (client.Client, error) {
	opts, err := envconfig.LoadDefaultClientOptions()
	if err != nil {
		return nil, fmt.Errorf("load Temporal client config: %w", err)
	}
	if address != "" {
		opts.HostPort = address
	}
	if opts.HostPort == "" {
		opts.HostPort = client.DefaultHostPort
	}
	if namespace != "" {
		opts.Namespace = namespace
	}
	opts.Logger = quietLogger{}
	if err := useCodec(&opts); err != nil {
		return nil, err
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s (is `go run ./worker -dev` running?): %w", opts.HostPort, err)
	}
	return c, nil
}

// useCodec encrypts payloads (and failure messages) with the AES-GCM codec
// when LIVESYNC_CODEC_KEY is set; every client of the namespace must.
func useCodec(opts *client.Options) error {
	keys, err := codec.KeysFromEnv(os.LookupEnv)
	if err != nil || keys == nil {
		return err
	}
	dc := codec.DataConverter(keys)
	opts.DataConverter = dc
	opts.FailureConverter = temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{DataConverter: dc, EncodeCommonAttributes: true})
	return nil
}

// quietLogger drops the SDK's client logs in command-line tools.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}
