package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/apilivesync/apilivesync/activities"
	"github.com/apilivesync/apilivesync/internal/cli"
	"github.com/apilivesync/apilivesync/internal/config"
	"github.com/apilivesync/apilivesync/internal/source"
	"github.com/apilivesync/apilivesync/workflows/engine"
	"github.com/apilivesync/apilivesync/workflows/syncjob"
)

// engineQuiet waits until the engine runs and queues nothing.
func engineQuiet(t *testing.T) engine.SyncEngineMetrics {
	t.Helper()
	var m engine.SyncEngineMetrics
	require.Eventually(t, func() bool {
		m = engineMetricsOrZero(t)
		return m.ActiveJobs == 0 && m.QueueLength == 0
	}, time.Minute, 100*time.Millisecond)
	return m
}

// Every sync counts in the engine's metrics, however it was started, and
// a direct start with a refresh interval gets a schedule.
func TestEverySyncReportsToTheEngine(t *testing.T) {
	src := newSpecServer(t, petstore(t))
	before := engineQuiet(t)
	out, err := starter(t, "sync", "--source", src.url(), "--id", "rep-manual", "--wait")
	require.NoError(t, err, out)
	require.Eventually(t, func() bool {
		m := engineMetricsOrZero(t)
		return m.TotalSyncs == before.TotalSyncs+1 && m.SuccessfulSyncs == before.SuccessfulSyncs+1
	}, 30*time.Second, 100*time.Millisecond, "a manual sync is not counted")

	// Started directly (as `temporal workflow start` would), with a refresh interval.
	in := syncjob.SyncJobInput{Source: source.Source{ID: "rep-refresh", URL: src.url(), RefreshInterval: source.Duration(time.Hour)}}
	_, err = syncjob.Start(t.Context(), env.client, in, true)
	require.NoError(t, err)
	d, err := env.client.ScheduleClient().GetHandle(t.Context(), activities.ScheduleID("rep-refresh")).Describe(t.Context())
	require.NoError(t, err, "refreshInterval on a direct start creates the source's schedule")
	require.Equal(t, time.Hour, d.Schedule.Spec.Intervals[0].Every)
	require.Contains(t, engineJobsAll(t), "rep-refresh")

	// Idle, the job's next attempt is its source's next scheduled sync.
	out, err = starter(t, "status", "rep-refresh", "--json")
	require.NoError(t, err, out)
	var st syncjob.Status
	require.NoError(t, json.Unmarshal([]byte(out), &st), out)
	require.NotNil(t, st.NextAttempt, out)
	// Intervals are aligned to the epoch, plus jitter (at most 6m for 1h).
	require.True(t, st.NextAttempt.After(time.Now()) && st.NextAttempt.Before(time.Now().Add(67*time.Minute)), "next attempt %s", st.NextAttempt)
}

// engineJobsAll is every registered source, through `engine status --all --json`.
func engineJobsAll(t *testing.T) map[string]engine.JobInfo {
	t.Helper()
	return engineJobsOf(t, "--all")
}

// Dependencies, pauses, new sources and the paged status, on the real server.
func TestEngineDependenciesPausesAndPaging(t *testing.T) {
	good := newSpecServer(t, petstore(t))
	broken := newSpecServer(t, petstore(t))
	broken.set(func(s *specServer) { s.status = 404 })
	dir := t.TempDir()
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1\nsources:\n")
	fmt.Fprintf(&b, "  - id: dep-base\n    url: %s\n    refreshInterval: 0s\n", good.url())
	fmt.Fprintf(&b, "  - id: dep-child\n    url: %s\n    refreshInterval: 0s\n    api: dep-child\n    dependsOn: [dep-base]\n", good.url())
	fmt.Fprintf(&b, "  - id: dep-broken\n    url: %s\n    refreshInterval: 0s\n", broken.srv.URL+"/missing.json")
	fmt.Fprintf(&b, "  - id: dep-after-broken\n    url: %s\n    refreshInterval: 0s\n    dependsOn: [dep-broken]\n", good.url())
	for i := range 150 {
		fmt.Fprintf(&b, "  - id: dep-idle-%03d\n    url: %s\n    enabled: false\n    refreshInterval: 0s\n", i, good.url())
	}
	cfgFile := filepath.Join(dir, "deps.yaml")
	require.NoError(t, os.WriteFile(cfgFile, []byte(b.String()), 0o644))

	// Cycles and unknown IDs are refused at apply, nothing applied.
	bad := filepath.Join(dir, "cycle.yaml")
	require.NoError(t, os.WriteFile(bad, []byte(fmt.Sprintf("version: 1\nsources:\n  - id: cy-a\n    url: %[1]s\n    dependsOn: [cy-b]\n  - id: cy-b\n    url: %[1]s\n    dependsOn: [cy-a]\n  - id: cy-c\n    url: %[1]s\n    dependsOn: [nobody]\n", good.url())), 0o644))
	out, err := starter(t, "apply", "-f", bad)
	require.Error(t, err, out)
	require.Contains(t, err.Error(), "dependency cycle: cy-a → cy-b → cy-a")
	require.Contains(t, err.Error(), `source "cy-c": dependsOn "nobody": no such source`)

	out, err = starter(t, "apply", "-f", cfgFile, "--json")
	require.NoError(t, err, out)
	// New sources sync at once: the dependent after its dependency; the
	// dependent of the broken one is held.
	require.Eventually(t, func() bool {
		jobs := engineJobsAll(t)
		return jobs["dep-child"].LastStatus != "" && jobs["dep-after-broken"].LastStatus != "" && jobs["dep-broken"].LastStatus != ""
	}, time.Minute, 200*time.Millisecond)
	engineQuiet(t)
	jobs := engineJobsAll(t)
	require.Equal(t, syncjob.StatusFailed, jobs["dep-broken"].LastStatus)
	require.Equal(t, "held", jobs["dep-after-broken"].LastStatus)
	require.Contains(t, jobs["dep-after-broken"].Held, "dep-broken")
	require.Equal(t, 1, head(t, "dep-child").Number)
	// dep-base's run reports its end (the ReportSync activity) as its last
	// step; dep-child's run starts after that.
	var reported time.Time
	reports := map[int64]bool{}
	it := env.client.GetWorkflowHistory(t.Context(), syncjob.SyncWorkflowID("dep-base"), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		switch ev.EventType {
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			reports[ev.EventId] = ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName() == "ReportSync"
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			if reports[ev.GetActivityTaskStartedEventAttributes().GetScheduledEventId()] {
				reported = ev.EventTime.AsTime() // the last report starts before the engine hears of it
			}
		}
	}
	require.False(t, reported.IsZero())
	child, err := env.client.DescribeWorkflowExecution(t.Context(), syncjob.SyncWorkflowID("dep-child"), "")
	require.NoError(t, err)
	require.False(t, child.WorkflowExecutionInfo.StartTime.AsTime().Before(reported),
		"dep-child started before dep-base finished")

	// The status pages: the first 100 and the totals; --all lists every one.
	out, err = starter(t, "engine", "status")
	require.NoError(t, err, out)
	require.Contains(t, out, "154 sources registered")
	require.Contains(t, out, "showing 100 of 154 sources")
	require.Len(t, engineJobsAll(t), 154)

	// A paused source is skipped by sync-all, and the result says why.
	out, err = starter(t, "engine", "pause", "dep-base")
	require.NoError(t, err, out)
	out, err = starter(t, "sync-all", "--json")
	require.NoError(t, err, out)
	var res engine.SelectResult
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	require.Equal(t, "paused", res.Skipped["dep-base"])
	require.NotContains(t, res.IDs, "dep-base")
	require.Contains(t, res.IDs, "dep-child")
	engineQuiet(t)
	out, err = starter(t, "sync-all")
	require.NoError(t, err, out)
	require.Contains(t, out, "skipped dep-base: paused")
	engineQuiet(t)
	out, err = starter(t, "engine", "resume", "dep-base")
	require.NoError(t, err, out)

	// Pausing the engine shows in status and metrics, and holds sync-all's syncs.
	out, err = starter(t, "engine", "pause")
	require.NoError(t, err, out)
	out, err = starter(t, "engine", "status")
	require.NoError(t, err, out)
	require.Contains(t, out, "engine PAUSED")
	require.True(t, engineMetrics(t).Paused)
	before := engineMetrics(t).TotalSyncs
	out, err = starter(t, "sync-all")
	require.NoError(t, err, out)
	time.Sleep(2 * time.Second)
	m := engineMetrics(t)
	require.Equal(t, before, m.TotalSyncs, "a paused engine ran syncs")
	require.Positive(t, m.QueueLength)
	out, err = starter(t, "engine", "resume")
	require.NoError(t, err, out)
	m = engineQuiet(t)
	require.Greater(t, m.TotalSyncs, before)
	require.False(t, m.Paused)
}

// A big apply goes in chunks, reports progress, and an apply cut short
// (a crash) is finished by running it again.
func TestChunkedApplyResumes(t *testing.T) {
	good := newSpecServer(t, petstore(t))
	off := false
	cfg := &config.Config{}
	for i := range 2*cli.ApplyChunk + 10 {
		cfg.Sources = append(cfg.Sources, source.Source{ID: fmt.Sprintf("chunk-%04d", i), URL: good.url(), Enabled: &off})
	}
	ctx, cancel := context.WithCancel(t.Context())
	var seen []int
	_, err := cli.ApplyConfig(ctx, env.client, cfg, false, func(done, total int) {
		seen = append(seen, done)
		cancel() // the starter dies after its first chunk
	})
	require.Error(t, err)
	require.Contains(t, err.Error(), "run the same apply again to finish")
	require.Equal(t, []int{cli.ApplyChunk}, seen)

	seen = nil
	res, err := cli.ApplyConfig(t.Context(), env.client, cfg, false, func(done, total int) { seen = append(seen, done) })
	require.NoError(t, err)
	require.Equal(t, []int{cli.ApplyChunk, 2 * cli.ApplyChunk, 2*cli.ApplyChunk + 10}, seen)
	require.Len(t, res.Unchanged, cli.ApplyChunk, "the first chunk was applied before the crash")
	require.Len(t, res.Added, cli.ApplyChunk+10)
	require.Equal(t, len(cfg.Sources), res.Registered)

	res, err = cli.ApplyConfig(t.Context(), env.client, cfg, false, nil)
	require.NoError(t, err)
	require.Len(t, res.Unchanged, len(cfg.Sources))
	require.Equal(t, len(cfg.Sources), engineMetrics(t).RegisteredSources)
}
