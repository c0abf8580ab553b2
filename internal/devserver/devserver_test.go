package devserver_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/apilivesync/apilivesync/internal/devserver"
)

const (
	saSource = "LiveSyncSource"
	saAPI    = "LiveSyncAPI"
)

var sourceKey = temporal.NewSearchAttributeKeyKeyword(saSource)

func greetWorkflow(ctx workflow.Context, name string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		Priority:            temporal.Priority{PriorityKey: 2},
	})
	var out string
	err := workflow.ExecuteActivity(ctx, greetActivity, name).Get(ctx, &out)
	return out, err
}

func greetActivity(_ context.Context, name string) (string, error) {
	return "hello, " + name, nil
}

// startServer starts a dev server and stops it when the test ends.
func startServer(t *testing.T, opts devserver.Options) *devserver.Server {
	t.Helper()
	s, err := devserver.Start(t.Context(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Stop()) })
	return s
}

func dial(t *testing.T, s *devserver.Server, namespace string) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{
		HostPort:  s.FrontendHostPort(),
		Namespace: namespace,
		Logger:    sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))),
	})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

func runWorker(t *testing.T, c client.Client, taskQueue string, opts worker.Options, workflows ...any) {
	t.Helper()
	w := worker.New(c, taskQueue, opts)
	for _, wf := range workflows {
		w.RegisterWorkflow(wf)
	}
	w.RegisterActivity(greetActivity)
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
}

func port(t *testing.T, hostPort string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(hostPort)
	require.NoError(t, err)
	n, err := strconv.Atoi(p)
	require.NoError(t, err)
	return n
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// TestPersistsAcrossRestart runs a workflow to completion, restarts the
// server on the same data dir, and reads the workflow, the namespaces and
// the search attributes back.
func TestPersistsAcrossRestart(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "nested", "data") // created by Start
	opts := devserver.Options{
		DataDir:          dataDir,
		ExtraNamespaces:  []string{"extra"},
		SearchAttributes: map[string]enumspb.IndexedValueType{saSource: enumspb.INDEXED_VALUE_TYPE_KEYWORD},
	}
	const workflowID = "greet/payments"

	first, err := devserver.Start(t.Context(), opts)
	require.NoError(t, err)
	require.Equal(t, "default", first.Namespace())
	require.FileExists(t, filepath.Join(dataDir, devserver.DatabaseFileName))

	t.Run("workflow runs to completion", func(t *testing.T) {
		c := dial(t, first, first.Namespace())
		runWorker(t, c, "greet", worker.Options{}, greetWorkflow)
		run, err := c.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{
			ID:                    workflowID,
			TaskQueue:             "greet",
			TypedSearchAttributes: temporal.NewSearchAttributes(sourceKey.ValueSet("payments")),
		}, greetWorkflow, "payments")
		require.NoError(t, err)
		var out string
		require.NoError(t, run.Get(t.Context(), &out))
		require.Equal(t, "hello, payments", out)
	})

	t.Run("UI serves the app and proxies the API", func(t *testing.T) {
		require.NotEmpty(t, first.UIURL())
		status, body := httpGet(t, first.UIURL()+"/")
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, "<html")

		status, body = httpGet(t, first.UIURL()+"/api/v1/namespaces")
		require.Equal(t, http.StatusOK, status, body)
		require.Contains(t, body, `"default"`)
		require.Contains(t, body, `"extra"`)
	})

	t.Run("a second server on a taken port fails naming the port", func(t *testing.T) {
		uiPort := port(t, first.UIURL()[len("http://"):])
		tests := []struct {
			name    string
			opts    devserver.Options
			port    int
			purpose string
		}{
			{"frontend", devserver.Options{FrontendPort: port(t, first.FrontendHostPort()), UIPort: devserver.NoUI}, port(t, first.FrontendHostPort()), "frontend gRPC"},
			{"UI", devserver.Options{UIPort: uiPort}, uiPort, "Web UI"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := devserver.Start(t.Context(), tt.opts)
				var inUse *devserver.PortInUseError
				require.ErrorAs(t, err, &inUse)
				require.Equal(t, tt.port, inUse.Port)
				require.Equal(t, tt.purpose, inUse.Purpose)
				require.Contains(t, err.Error(), "port "+strconv.Itoa(tt.port))
			})
		}
	})

	t.Run("a second server on the same data dir is refused", func(t *testing.T) {
		_, err := devserver.Start(t.Context(), devserver.Options{DataDir: dataDir, UIPort: devserver.NoUI})
		var dirErr *devserver.DataDirError
		require.ErrorAs(t, err, &dirErr)
		require.Equal(t, dataDir, dirErr.Path)
		require.ErrorContains(t, err, "already in use by another running dev server")
	})

	t.Run("a second server runs beside the first", func(t *testing.T) {
		second := startServer(t, devserver.Options{Namespace: "second", UIPort: devserver.NoUI})
		require.NotEqual(t, first.FrontendHostPort(), second.FrontendHostPort())
		require.Empty(t, second.UIURL())
		_, err := dial(t, second, "second").WorkflowService().DescribeNamespace(t.Context(),
			&workflowservice.DescribeNamespaceRequest{Namespace: "second"})
		require.NoError(t, err)
		_, err = dial(t, first, "default").WorkflowService().DescribeNamespace(t.Context(),
			&workflowservice.DescribeNamespaceRequest{Namespace: "second"})
		require.Error(t, err, "namespace of the second server leaked into the first")
	})

	require.NoError(t, first.Stop())
	require.NoError(t, first.Stop(), "second Stop")

	// Restart on the same dir, on the same ports, asking for one more search attribute.
	opts.FrontendPort = port(t, first.FrontendHostPort())
	opts.SearchAttributes = map[string]enumspb.IndexedValueType{
		saSource: enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		saAPI:    enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	}
	restarted := startServer(t, opts)
	require.Equal(t, first.FrontendHostPort(), restarted.FrontendHostPort())
	c := dial(t, restarted, restarted.Namespace())

	t.Run("completed workflow is still there", func(t *testing.T) {
		desc, err := c.DescribeWorkflowExecution(t.Context(), workflowID, "")
		require.NoError(t, err)
		info := desc.GetWorkflowExecutionInfo()
		require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, info.GetStatus())
		require.Contains(t, info.GetSearchAttributes().GetIndexedFields(), saSource)

		var result string
		iter := c.GetWorkflowHistory(t.Context(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
		require.True(t, iter.HasNext())
		ev, err := iter.Next()
		require.NoError(t, err)
		require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, ev.GetEventType())
		payloads := ev.GetWorkflowExecutionCompletedEventAttributes().GetResult()
		require.NoError(t, converterGet(payloads, &result))
		require.Equal(t, "hello, payments", result)
	})

	t.Run("namespaces and search attributes survive", func(t *testing.T) {
		for _, ns := range []string{"default", "extra"} {
			_, err := c.WorkflowService().DescribeNamespace(t.Context(), &workflowservice.DescribeNamespaceRequest{Namespace: ns})
			require.NoError(t, err, ns)
			sas, err := c.OperatorService().ListSearchAttributes(t.Context(), &operatorservice.ListSearchAttributesRequest{Namespace: ns})
			require.NoError(t, err)
			require.Equal(t, enumspb.INDEXED_VALUE_TYPE_KEYWORD, sas.GetCustomAttributes()[saSource], ns)
			require.Equal(t, enumspb.INDEXED_VALUE_TYPE_KEYWORD, sas.GetCustomAttributes()[saAPI], ns)
		}
	})

	t.Run("visibility finds the workflow by search attribute", func(t *testing.T) {
		// Visibility is written asynchronously; wait for the record, not for a duration.
		require.EventuallyWithT(t, func(ct *assert.CollectT) {
			resp, err := c.ListWorkflow(t.Context(), &workflowservice.ListWorkflowExecutionsRequest{
				Query: saSource + ` = "payments"`,
			})
			require.NoError(ct, err)
			require.Len(ct, resp.GetExecutions(), 1)
			require.Equal(ct, workflowID, resp.GetExecutions()[0].GetExecution().GetWorkflowId())
		}, time.Minute, 200*time.Millisecond)
	})
}

const (
	priorityWorkflowQueue = "priority-workflows"
	priorityActivityQueue = "priority-activities"
)

// priorityWorkflow runs one recordPriority activity at priority key.
func priorityWorkflow(ctx workflow.Context, key int) (int, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           priorityActivityQueue,
		StartToCloseTimeout: 10 * time.Second,
		Priority:            temporal.Priority{PriorityKey: key},
	})
	var got int
	err := workflow.ExecuteActivity(ctx, "recordPriority", key).Get(ctx, &got)
	return got, err
}

// priorityRecorder records the order in which activities were dispatched.
type priorityRecorder struct {
	mu    sync.Mutex
	order []int
}

func (r *priorityRecorder) recordPriority(_ context.Context, key int) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.order = append(r.order, key)
	return key, nil
}

// TestPriority checks that task-queue priority is honoured: workflows with
// priority keys 5..1 (the workflow's own priority and its activity's) all
// run, and their activities, queued before any activity worker polls, are
// dispatched 1..5 to a worker that takes one task at a time.
func TestPriority(t *testing.T) {
	s := startServer(t, devserver.Options{UIPort: devserver.NoUI})
	c := dial(t, s, s.Namespace())
	runWorker(t, c, priorityWorkflowQueue, worker.Options{}, priorityWorkflow)

	keys := []int{5, 4, 3, 2, 1}
	runs := make([]client.WorkflowRun, 0, len(keys))
	for _, key := range keys {
		run, err := c.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{
			ID:        "priority/" + strconv.Itoa(key),
			TaskQueue: priorityWorkflowQueue,
			Priority:  temporal.Priority{PriorityKey: key},
		}, priorityWorkflow, key)
		require.NoError(t, err)
		runs = append(runs, run)
	}
	// Wait until every activity is scheduled (a condition, not a duration).
	for _, run := range runs {
		require.EventuallyWithT(t, func(ct *assert.CollectT) {
			desc, err := c.DescribeWorkflowExecution(t.Context(), run.GetID(), run.GetRunID())
			require.NoError(ct, err)
			require.Len(ct, desc.GetPendingActivities(), 1)
		}, time.Minute, 50*time.Millisecond)
	}

	rec := &priorityRecorder{}
	w := worker.New(c, priorityActivityQueue, worker.Options{
		MaxConcurrentActivityExecutionSize: 1,
		MaxConcurrentActivityTaskPollers:   1,
	})
	w.RegisterActivityWithOptions(rec.recordPriority, activity.RegisterOptions{Name: "recordPriority"})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)

	for i, run := range runs {
		var got int
		require.NoError(t, run.Get(t.Context(), &got))
		require.Equal(t, keys[i], got)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.Equal(t, []int{1, 2, 3, 4, 5}, rec.order)
}

func TestStartRejects(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o600))
	tests := []struct {
		name    string
		opts    devserver.Options
		dataDir string // the path a *DataDirError must name; "" for another error
		want    string
	}{
		{"data dir under a file", devserver.Options{DataDir: filepath.Join(file, "data")}, filepath.Join(file, "data"), "not a directory"},
		{"data dir on a read-only file system", devserver.Options{DataDir: "/proc/devserver-test"}, "/proc/devserver-test", "/proc/devserver-test"},
		{"host name instead of IP", devserver.Options{IP: "localhost"}, "", `IP "localhost" is not an IP address`},
		{"bad log level", devserver.Options{LogLevel: "loud"}, "", `log level "loud"`},
		{"bad UI port", devserver.Options{UIPort: -2}, "", "UI port -2"},
		{"empty extra namespace", devserver.Options{ExtraNamespaces: []string{""}}, "", "empty name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := devserver.Start(t.Context(), tt.opts)
			require.Nil(t, s)
			require.ErrorContains(t, err, tt.want)
			var dirErr *devserver.DataDirError
			require.Equal(t, tt.dataDir != "", errors.As(err, &dirErr))
			if tt.dataDir != "" {
				require.Equal(t, tt.dataDir, dirErr.Path)
				require.Contains(t, err.Error(), tt.dataDir)
			}
		})
	}
}
