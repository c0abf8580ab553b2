package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkpb "go.temporal.io/api/sdk/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"

	"github.com/apilivesync/apilivesync/internal/app"
	"github.com/apilivesync/apilivesync/internal/cli"
	"github.com/apilivesync/apilivesync/internal/devserver"
	"github.com/apilivesync/apilivesync/internal/resolve"
	"github.com/apilivesync/apilivesync/internal/source"
	"github.com/apilivesync/apilivesync/internal/store"
	"github.com/apilivesync/apilivesync/workflows/syncjob"
)

// The tests of what an operator sees in the Temporal UI and CLI: the
// search attributes every sync sets on itself, however it was started,
// and the run's page in a real browser.

// startStarter starts a sync the way the starter does (syncjob.StartRun:
// trigger manual, search attributes and summary in the start options).
func startStarter(t *testing.T, id, url string, maxRetries int) client.WorkflowRun {
	t.Helper()
	in := fastRetries(maxRetries)
	in.Source = source.Source{ID: id, URL: url}
	run, err := syncjob.StartRun(t.Context(), env.client, in)
	require.NoError(t, err)
	return run
}

// startRaw starts a sync the way `temporal workflow start --input …` or
// the UI's Start Workflow does: the input typed by hand, no search
// attributes, no summary, no trigger.
func startRaw(t *testing.T, id, url string) client.WorkflowRun {
	t.Helper()
	run, err := env.client.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{
		ID: syncjob.SyncWorkflowID(id), TaskQueue: syncjob.TaskQueue,
	}, syncjob.SyncJobWorkflowName, map[string]any{"source": map[string]any{"id": id, "url": url}, "maxRetries": 0})
	require.NoError(t, err)
	return run
}

func waitRun(t *testing.T, run client.WorkflowRun) *syncjob.SyncJobResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	res, _ := syncjob.Result(ctx, run)
	require.NotNil(t, res, "run %s ended without a result", run.GetRunID())
	return res
}

// searchAttrs reads a run's search attributes back from the server.
type searchAttrs struct {
	API, Source, Outcome, Trigger string
	Breaking, Version             int64
	HasVersion                    bool
}

func describeSearchAttrs(t *testing.T, workflowID, runID string) searchAttrs {
	t.Helper()
	desc, err := env.client.DescribeWorkflow(t.Context(), workflowID, runID)
	require.NoError(t, err)
	sa := desc.TypedSearchAttributes
	var got searchAttrs
	got.API, _ = sa.GetKeyword(syncjob.SearchAttrAPI)
	got.Source, _ = sa.GetKeyword(syncjob.SearchAttrSource)
	got.Outcome, _ = sa.GetKeyword(syncjob.SearchAttrOutcome)
	got.Trigger, _ = sa.GetKeyword(syncjob.SearchAttrTrigger)
	got.Breaking, _ = sa.GetInt64(syncjob.SearchAttrBreaking)
	got.Version, got.HasVersion = sa.GetInt64(syncjob.SearchAttrVersion)
	return got
}

// listRunIDs runs a visibility query, waiting until it finds want runs
// (visibility is written asynchronously).
func listRunIDs(t *testing.T, query string, want []string) {
	t.Helper()
	slices.Sort(want)
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		resp, err := env.client.ListWorkflow(t.Context(), &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		require.NoError(ct, err)
		var got []string
		for _, e := range resp.GetExecutions() {
			got = append(got, e.GetExecution().GetRunId())
		}
		slices.Sort(got)
		require.Equal(ct, want, got, query)
	}, 30*time.Second, 100*time.Millisecond)
}

func currentDetails(t *testing.T, workflowID, runID string) string {
	t.Helper()
	v, err := env.client.QueryWorkflow(t.Context(), workflowID, runID, "__temporal_workflow_metadata")
	require.NoError(t, err)
	var md sdkpb.WorkflowMetadata
	require.NoError(t, v.Get(&md))
	return md.GetCurrentDetails()
}

// Every sync sets LiveSyncAPI, LiveSyncSource, LiveSyncTrigger,
// LiveSyncOutcome, LiveSyncBreaking and LiveSyncVersion on itself, whoever
// started it, so an operator finds it with a query.
func TestEverySyncCarriesItsSearchAttributes(t *testing.T) {
	id := fmt.Sprintf("e2e-sa-%d", time.Now().UnixNano()%1_000_000)
	wid := syncjob.SyncWorkflowID(id)
	src := newSpecServer(t, petstore(t))

	// 1. The starter stores version 1.
	run := startStarter(t, id, src.url(), 0)
	res := waitRun(t, run)
	require.Equal(t, syncjob.OutcomeStored, res.Outcome)
	storedV1 := run.GetRunID()
	require.Equal(t, searchAttrs{API: id, Source: id, Outcome: syncjob.OutcomeStored, Trigger: syncjob.TriggerManual, Version: 1, HasVersion: true},
		describeSearchAttrs(t, wid, storedV1))

	// 2. Started by hand, nothing changed: no-change, the current version.
	run = startRaw(t, id, src.url())
	res = waitRun(t, run)
	require.True(t, res.NoChange)
	noChange := run.GetRunID()
	require.Equal(t, searchAttrs{API: id, Source: id, Outcome: syncjob.OutcomeNoChange, Trigger: syncjob.TriggerAPI, Version: 1, HasVersion: true},
		describeSearchAttrs(t, wid, noChange))

	// 3. Started by hand, a breaking change: stored version 2.
	src.set(func(s *specServer) { s.body = petstoreV2(t) })
	run = startRaw(t, id, src.url())
	res = waitRun(t, run)
	require.Equal(t, 2, res.Version)
	require.Positive(t, res.BreakingChanges)
	storedV2 := run.GetRunID()
	require.Equal(t, searchAttrs{API: id, Source: id, Outcome: syncjob.OutcomeStored, Trigger: syncjob.TriggerAPI,
		Breaking: int64(res.BreakingChanges), Version: 2, HasVersion: true},
		describeSearchAttrs(t, wid, storedV2))

	// 4. The source answers 404: failed, no version set by the run.
	src.set(func(s *specServer) { s.status = 404 })
	run = startStarter(t, id, src.url(), 0)
	res = waitRun(t, run)
	require.Equal(t, syncjob.StatusFailed, res.Status)
	failed := run.GetRunID()
	require.Equal(t, searchAttrs{API: id, Source: id, Outcome: syncjob.OutcomeFailed, Trigger: syncjob.TriggerManual},
		describeSearchAttrs(t, wid, failed))

	// 5. Stopped while fetching: the run closes Completed, and says stopped.
	hold := make(chan struct{})
	// A new document, so the stop is met before the next step.
	src.set(func(s *specServer) {
		s.body, s.status, s.hold, s.arrived = petstore(t), 0, hold, make(chan struct{}, 1)
	})
	run = startStarter(t, id, src.url(), 0)
	<-src.arrived
	require.NoError(t, env.client.SignalWorkflow(t.Context(), wid, run.GetRunID(), syncjob.SignalStop, nil))
	close(hold)
	res = waitRun(t, run)
	require.Equal(t, syncjob.StatusStopped, res.Status)
	stopped := run.GetRunID()
	require.Equal(t, searchAttrs{API: id, Source: id, Outcome: syncjob.OutcomeStopped, Trigger: syncjob.TriggerManual},
		describeSearchAttrs(t, wid, stopped))
	details := currentDetails(t, wid, stopped)
	require.Contains(t, details, "**stopped: stopped on request")
	require.Contains(t, details, "outcome `stopped`")

	// What an operator types in the UI's search box or `temporal workflow list -q`.
	api := `LiveSyncAPI = "` + id + `"`
	listRunIDs(t, api+` AND LiveSyncOutcome = "stored"`, []string{storedV1, storedV2})
	listRunIDs(t, api+` AND LiveSyncOutcome = "no-change"`, []string{noChange})
	listRunIDs(t, api+` AND LiveSyncOutcome = "failed"`, []string{failed})
	listRunIDs(t, api+` AND LiveSyncOutcome = "stopped"`, []string{stopped})
	listRunIDs(t, api+` AND LiveSyncTrigger = "api"`, []string{noChange, storedV2})
	listRunIDs(t, api+` AND LiveSyncBreaking > 0`, []string{storedV2})
	listRunIDs(t, `LiveSyncSource = "`+id+`" AND LiveSyncVersion = 1`, []string{storedV1, noChange})

	// `starter status` lists the stopped job as stopped, not completed.
	require.Eventually(t, func() bool {
		out, err := starter(t, "status", "--json")
		require.NoError(t, err, out)
		var jobs []cli.JobSummary
		require.NoError(t, json.Unmarshal([]byte(out), &jobs), out)
		for _, j := range jobs {
			if j.ID == id {
				return j.Status == syncjob.StatusStopped && j.Outcome == syncjob.OutcomeStopped
			}
		}
		return false
	}, 10*time.Second, 100*time.Millisecond)
}

// chromium finds a Chromium binary, or skips the test saying how to get one.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium binary on PATH (apt-get install -y chromium): the UI page is not rendered")
	return ""
}

// The run's page in the Temporal UI (the link the worker logs), rendered by
// a real browser, opens and shows the sync's summary. (This UI version
// shows current details only while a run is open; the client reads them
// back in TestSyncSummaryAndDetailsInTheUI.)
func TestSyncPageInTheTemporalUI(t *testing.T) {
	browser := chromium(t)
	id := "e2e-ui-page"
	src := newSpecServer(t, petstore(t))
	run := startStarter(t, id, src.url(), 0)
	require.Equal(t, syncjob.OutcomeStored, waitRun(t, run).Outcome)

	// The shared dev server runs its Web UI on a free port, as `worker -dev` does.
	link := syncjob.UILink(env.server.UIURL(), env.server.Namespace(), run.GetID(), run.GetRunID())
	require.Contains(t, link, "/workflows/sync%2F"+id+"/", "the workflow ID is escaped")

	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=15000", "--dump-dom", link)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "chromium: %s", stderr.String())
	dom := string(out)
	if d := os.Getenv("E2E_UI_DOM"); d != "" {
		_ = os.WriteFile(d, out, 0o644)
	}
	summary := syncjob.Summary(source.Source{ID: id, URL: src.url()})
	require.True(t, strings.Contains(dom, summary), "the page does not show the summary %q (E2E_UI_DOM=file keeps the rendered DOM)", summary)
}

// On a namespace where nobody registered the search attributes (a real
// cluster before the README's commands), a sync still runs to the end: it
// sets none, where upserting them would fail every workflow task.
func TestSyncWithoutRegisteredSearchAttributes(t *testing.T) {
	srv, err := devserver.Start(t.Context(), devserver.Options{UIPort: devserver.NoUI})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, srv.Stop()) })
	c, err := client.Dial(client.Options{HostPort: srv.FrontendHostPort(), Namespace: srv.Namespace(), Logger: quiet{}})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	st, err := store.Open(t.Context(), env.storeURL)
	require.NoError(t, err)
	stop, err := app.StartWorkers(app.NewWorkers(c, app.NewActivities(st, testFetchOptions(testMaxBytes), resolve.AIConfig{}, zap.NewNop()), worker.Options{}))
	require.NoError(t, err)
	t.Cleanup(stop)

	id := fmt.Sprintf("e2e-sa-none-%d", time.Now().UnixNano()%1_000_000)
	src := newSpecServer(t, petstore(t))
	in := fastRetries(0)
	in.Source = source.Source{ID: id, URL: src.url()}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	res, err := syncjob.Start(ctx, c, in, true) // the start options' attributes are refused, then dropped
	require.NoError(t, err)
	require.Equal(t, syncjob.OutcomeStored, res.Outcome)
	desc, err := c.DescribeWorkflow(t.Context(), syncjob.SyncWorkflowID(id), "")
	require.NoError(t, err)
	for name := range syncjob.SearchAttributes() {
		for k := range desc.TypedSearchAttributes.GetUntypedValues() {
			require.NotEqual(t, name, k.GetName(), "set without being registered")
		}
	}
}
