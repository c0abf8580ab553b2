package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/apilivesync/apilivesync/activities"
	"github.com/apilivesync/apilivesync/internal/app"
	"github.com/apilivesync/apilivesync/workflows/engine"
	"github.com/apilivesync/apilivesync/workflows/syncjob"
)

func engineJobs(t *testing.T) map[string]engine.JobInfo {
	t.Helper()
	return engineJobsOf(t)
}

// engineJobsOf runs `engine status --json` with more arguments.
func engineJobsOf(t *testing.T, args ...string) map[string]engine.JobInfo {
	t.Helper()
	out, err := starter(t, append([]string{"engine", "status", "--json"}, args...)...)
	require.NoError(t, err, out)
	var jobs []engine.JobInfo
	require.NoError(t, json.Unmarshal([]byte(out), &jobs), out)
	m := map[string]engine.JobInfo{}
	for _, j := range jobs {
		m[j.ID] = j
	}
	return m
}

func engineMetrics(t *testing.T) engine.SyncEngineMetrics {
	t.Helper()
	out, err := starter(t, "metrics", "--json")
	require.NoError(t, err, out)
	var m engine.SyncEngineMetrics
	require.NoError(t, json.Unmarshal([]byte(out), &m), out)
	return m
}

// engineMetricsOrZero is the engine's metrics, or zero when it is not running yet.
func engineMetricsOrZero(t *testing.T) engine.SyncEngineMetrics {
	t.Helper()
	out, err := starter(t, "metrics", "--json")
	if err != nil {
		return engine.SyncEngineMetrics{}
	}
	var m engine.SyncEngineMetrics
	require.NoError(t, json.Unmarshal([]byte(out), &m), out)
	return m
}

func schedulePaused(t *testing.T, sourceID string) (bool, string) {
	t.Helper()
	d, err := env.client.ScheduleClient().GetHandle(t.Context(), activities.ScheduleID(sourceID)).Describe(t.Context())
	require.NoError(t, err)
	return d.Schedule.State.Paused, d.Schedule.State.Note
}

func TestEngineApplyScheduleSyncAllAndAutoPause(t *testing.T) {
	good := newSpecServer(t, petstore(t))
	broken := newSpecServer(t, petstore(t))
	broken.set(func(s *specServer) { s.status = 404 })
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "livesync.yaml")
	write := func(extra string) {
		cfg := fmt.Sprintf(`version: 1
engine:
  maxConcurrent: 2
  failureThreshold: 2
sources:
  - id: eng-a
    url: %s
    refreshInterval: 1h
    priority: high
  - id: eng-b
    url: %s
    refreshInterval: 30m
    api: eng-shared
  - id: eng-broken
    url: %s
    refreshInterval: 1h
%s`, good.url(), good.url(), broken.srv.URL+"/missing.json", extra)
		require.NoError(t, os.WriteFile(cfgFile, []byte(cfg), 0o644))
	}
	write("")

	before := engineMetricsOrZero(t)
	out, err := starter(t, "apply", "-f", cfgFile, "--json")
	require.NoError(t, err, out)
	var res engine.ApplyResult
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	require.ElementsMatch(t, []string{"eng-a", "eng-b", "eng-broken"}, res.Added)

	// One Temporal Schedule per source, visible like `temporal schedule list`.
	for _, id := range []string{"eng-a", "eng-b", "eng-broken"} {
		d, err := env.client.ScheduleClient().GetHandle(t.Context(), activities.ScheduleID(id)).Describe(t.Context())
		require.NoError(t, err, id)
		require.False(t, d.Schedule.State.Paused)
		require.Len(t, d.Schedule.Spec.Intervals, 1)
	}

	// Applying the same file again changes nothing.
	out, err = starter(t, "apply", "-f", cfgFile, "--json")
	require.NoError(t, err, out)
	res = engine.ApplyResult{}
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	require.Empty(t, res.Added)
	require.Empty(t, res.Updated)
	require.Empty(t, res.Removed)
	require.Len(t, res.Unchanged, 3)

	// An invalid file is refused whole, every error listed, nothing applied.
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("version: 1\nsources:\n  - id: x\n    urll: http://a\n  - id: eng-a\n    url: ftp://nope\n    priority: urgent\n"), 0o644))
	_, err = starter(t, "apply", "-f", bad)
	require.Error(t, err)
	msg := err.Error()
	require.Contains(t, msg, "bad.yaml:4")
	require.Contains(t, msg, "urll")
	require.Contains(t, msg, "priority")
	require.Len(t, engineJobs(t), 3)

	// New sources sync at once, then sync-all runs every source again; the
	// broken one fails twice and its schedule pauses itself.
	for round := 1; round <= 2; round++ {
		if round > 1 {
			out, err = starter(t, "sync-all")
			require.NoError(t, err, out)
		}
		require.Eventually(t, func() bool {
			m := engineMetrics(t)
			return m.TotalSyncs >= before.TotalSyncs+int64(3*round) && m.ActiveJobs == 0 && m.QueueLength == 0
		}, time.Minute, 200*time.Millisecond)
	}
	m := engineMetrics(t)
	require.Equal(t, before.FailedSyncs+2, m.FailedSyncs)
	require.Equal(t, before.SuccessfulSyncs+4, m.SuccessfulSyncs)
	require.NotNil(t, m.LastSyncTime)
	require.Positive(t, m.AverageSyncTime)
	require.Positive(t, m.Uptime)

	jobs := engineJobs(t)
	require.Equal(t, 2, jobs["eng-broken"].ConsecutiveFailures)
	require.Contains(t, jobs["eng-broken"].PausedReason, "2 consecutive failures")
	require.Contains(t, jobs["eng-broken"].LastError, "404")
	require.Equal(t, 0, jobs["eng-a"].ConsecutiveFailures)
	require.Equal(t, 1, head(t, "eng-a").Number)
	require.Equal(t, 1, head(t, "eng-shared").Number)
	require.Eventually(t, func() bool { p, _ := schedulePaused(t, "eng-broken"); return p }, 20*time.Second, 100*time.Millisecond)
	_, note := schedulePaused(t, "eng-broken")
	require.Contains(t, note, "consecutive failures")

	// A schedule firing hands the due sync to the engine, which runs it as
	// sync/<source>, the same workflow ID a manual sync uses.
	before = engineMetrics(t)
	require.NoError(t, env.client.ScheduleClient().GetHandle(t.Context(), activities.ScheduleID("eng-a")).Trigger(t.Context(), client.ScheduleTriggerOptions{}))
	require.Eventually(t, func() bool {
		m := engineMetrics(t)
		return m.TotalSyncs == before.TotalSyncs+1 && m.ActiveJobs == 0
	}, time.Minute, 200*time.Millisecond)
	require.Equal(t, syncjob.SyncWorkflowID("eng-a"), engineJobs(t)["eng-a"].LastWorkflowID)

	// Pausing the engine pauses every schedule; resuming brings them back.
	out, err = starter(t, "engine", "pause")
	require.NoError(t, err, out)
	for _, id := range []string{"eng-a", "eng-b"} {
		p, _ := schedulePaused(t, id)
		require.True(t, p, id)
	}
	out, err = starter(t, "engine", "resume")
	require.NoError(t, err, out)
	p, _ := schedulePaused(t, "eng-a")
	require.False(t, p)

	// Removing a source from the file removes it and its schedule.
	write("")
	cfg, _ := os.ReadFile(cfgFile)
	trimmed := string(cfg[:strings.Index(string(cfg), "  - id: eng-broken")])
	require.NoError(t, os.WriteFile(cfgFile, []byte(trimmed), 0o644))
	out, err = starter(t, "apply", "-f", cfgFile, "--json")
	require.NoError(t, err, out)
	res = engine.ApplyResult{}
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	require.Equal(t, []string{"eng-broken"}, res.Removed)
	_, err = env.client.ScheduleClient().GetHandle(t.Context(), activities.ScheduleID("eng-broken")).Describe(t.Context())
	require.Error(t, err)
}

// TestWorkerDevRunsTheExamples runs the README's main command in-process:
// the embedded server, the UI, the worker and the example syncs, on free
// ports and a fresh data directory; it also checks /metrics.
func TestWorkerDevRunsTheExamples(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	ready := make(chan app.Running, 1)
	done := make(chan error, 1)
	go func() {
		done <- app.RunWorker(ctx, app.WorkerOptions{
			Dev: true, DataDir: t.TempDir(), Port: 0, UIPort: 0, Examples: true, MetricsAddr: "127.0.0.1:0",
			Ready: func(r app.Running) { ready <- r },
		}, zap.NewNop())
	}()
	var r app.Running
	select {
	case r = <-ready:
	case err := <-done:
		t.Fatalf("worker stopped: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("worker did not start")
	}
	c, err := client.Dial(client.Options{HostPort: r.Frontend, Namespace: r.Namespace, Logger: quiet{}})
	require.NoError(t, err)
	defer c.Close()
	for _, id := range []string{"example-petstore", "example-petstore-swagger2", "example-uspto", "example-webhooks-3.1"} {
		require.Eventually(t, func() bool {
			d, err := c.DescribeWorkflowExecution(t.Context(), syncjob.SyncWorkflowID(id), "")
			return err == nil && d.WorkflowExecutionInfo.Status.String() == "Completed"
		}, time.Minute, 100*time.Millisecond, id)
	}
	resp, err := http.Get(r.UIURL)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	resp, err = http.Get(r.MetricsURL)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, string(body), `livesync_syncs_total{`)
	require.Contains(t, string(body), `result="completed"`)
	require.Contains(t, string(body), "temporal_")

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(time.Minute):
		t.Fatal("worker did not stop on cancel")
	}
}
