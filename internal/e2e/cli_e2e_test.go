package e2e_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/apilivesync/apilivesync/activities"
	"github.com/apilivesync/apilivesync/internal/cli"
	"github.com/apilivesync/apilivesync/internal/source"
	"github.com/apilivesync/apilivesync/internal/store"
	"github.com/apilivesync/apilivesync/workflows/engine"
	"github.com/apilivesync/apilivesync/workflows/syncjob"
)

// TestStarterSyncReadmeFileExample runs the README's file example as
// written, from the directory it assumes; syncing the file again says it
// is unchanged in a file's words, not HTTP's.
func TestStarterSyncReadmeFileExample(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "api"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "api", "openapi.yaml"), petstore(t), 0o644))
	t.Chdir(dir)

	out, err := starter(t, "sync", "--source", "./api/openapi.yaml", "--wait", "--json")
	require.NoError(t, err, out)
	var res syncjob.SyncJobResult
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	require.Equal(t, "api-openapi", res.ID, "the ID names the file and its directory")
	require.Equal(t, syncjob.StatusCompleted, res.Status)
	require.False(t, res.NoChange)
	require.Equal(t, 1, head(t, "api-openapi").Number)
	require.Equal(t, res.VersionHash, head(t, "api-openapi").Hash)

	// The same file, untouched: no change, and no HTTP status in sight.
	out, err = starter(t, "sync", "--source", "./api/openapi.yaml", "--wait", "--json")
	require.NoError(t, err, out)
	var again syncjob.SyncJobResult
	require.NoError(t, json.Unmarshal([]byte(out), &again), out)
	require.True(t, again.NoChange)
	require.Equal(t, res.VersionHash, again.VersionHash)
	require.Contains(t, again.Message, "unchanged")
	for _, http := range []string{"304", "Not Modified"} {
		require.NotContains(t, again.Message, http)
	}
	st := status(t, "api-openapi")
	require.NotContains(t, st.Message, "304")
	require.Equal(t, 1, head(t, "api-openapi").Number, "nothing stored")

	// The summary a person reads says the same.
	out, err = starter(t, "sync", "--source", "./api/openapi.yaml", "--wait")
	require.NoError(t, err, out)
	require.Contains(t, out, "unchanged")
	require.NotContains(t, out, "304")
}

// TestUndoUndoesTheLastAction: undo reverts the last version-producing
// action, whatever it was (sync, rollback, push), and successive undos
// walk back through them.
func TestUndoUndoesTheLastAction(t *testing.T) {
	const api = "e2e-undo"
	src := newSpecServer(t, petstore(t))
	_, err := syncNow(t, api, src.url(), 1)
	require.NoError(t, err)
	src.set(func(s *specServer) { s.body = petstoreV2(t) })
	_, err = syncNow(t, api, src.url(), 1)
	require.NoError(t, err)
	v1, v2 := version(t, api, 1), version(t, api, 2)
	require.NotEqual(t, v1.Hash, v2.Hash)

	// rollback to 1, then undo: the rollback is undone (back to 2), not
	// the sync before it.
	out, err := starter(t, "rollback", api+"@1")
	require.NoError(t, err, out)
	require.Equal(t, v1.Hash, head(t, api).Hash)
	out, err = starter(t, "undo", api)
	require.NoError(t, err, out)
	require.Contains(t, out, "undid the rollback that made version 3 (back to version 2)")
	h := head(t, api)
	require.Equal(t, 4, h.Number)
	require.Equal(t, v2.Hash, h.Hash)
	require.Equal(t, store.OriginUndo, h.Origin)
	require.Equal(t, 3, h.Undoes)
	require.Equal(t, 2, h.RestoredFrom)
	require.Positive(t, h.Breaking, "going back to 2 removes the path again")

	out, err = starter(t, "show", api+"@4")
	require.NoError(t, err, out)
	require.Contains(t, out, "undoes")
	require.Contains(t, out, "version 3")

	// undo again: the action before the rollback, the second sync.
	out, err = starter(t, "undo", api, "--json")
	require.NoError(t, err, out)
	var v store.Version
	require.NoError(t, json.Unmarshal([]byte(out), &v), out)
	require.Equal(t, 5, v.Number)
	require.Equal(t, v1.Hash, v.Hash)
	require.Equal(t, 2, v.Undoes)
	require.Equal(t, 1, v.RestoredFrom)

	// Nothing is before the first sync.
	_, err = starter(t, "undo", api)
	require.ErrorContains(t, err, "first version")
	require.Equal(t, 5, head(t, api).Number)

	// A push is an action like any other.
	edited := strings.Replace(string(petstore(t)), "title: Swagger Petstore", "title: Undo Petstore", 1)
	file := filepath.Join(t.TempDir(), "edit.yaml")
	require.NoError(t, os.WriteFile(file, []byte(edited), 0o644))
	out, err = starter(t, "push", api, file)
	require.NoError(t, err, out)
	require.Equal(t, 6, head(t, api).Number)
	out, err = starter(t, "undo", api)
	require.NoError(t, err, out)
	require.Contains(t, out, "undid the push that made version 6 (back to version 5)")
	h = head(t, api)
	require.Equal(t, 7, h.Number)
	require.Equal(t, v1.Hash, h.Hash)

	// And a sync after an undo is undone by the next undo.
	third := strings.Replace(string(petstoreV2(t)), "version: 1.1.0", "version: 1.2.0", 1)
	src.set(func(s *specServer) { s.body = []byte(third) })
	_, err = syncNow(t, api, src.url(), 1)
	require.NoError(t, err)
	require.Equal(t, 8, head(t, api).Number)
	out, err = starter(t, "undo", api)
	require.NoError(t, err, out)
	require.Contains(t, out, "undid the sync that made version 8 (back to version 7)")
	require.Equal(t, v1.Hash, head(t, api).Hash)
}

func version(t *testing.T, api string, n int) *store.Version {
	t.Helper()
	v, err := env.store.Version(t.Context(), api, n)
	require.NoError(t, err)
	return v
}

// TestStarterEngineConfigSetAddStop drives the engine's getConfig,
// updateConfig, addSyncJob and stopSync from the starter.
func TestStarterEngineConfigSetAddStop(t *testing.T) {
	src := newSpecServer(t, petstore(t))
	t.Setenv("LIVESYNC_TEST_SECRET_CLI", "token-value")

	// engine add registers a source with everything `sync` takes, and a
	// schedule; it starts the engine when it is not running.
	out, err := starter(t, "engine", "add", "--source", src.url(), "--id", "cli-eng-a", "--api", "cli-eng",
		"--priority", "high", "--refresh", "1h", "--max-retries", "1", "--gate", "auto",
		"--header", "X-Token=env:LIVESYNC_TEST_SECRET_CLI", "--json")
	require.NoError(t, err, out)
	t.Cleanup(func() { _, _ = starter(t, "engine", "remove", "cli-eng-a", "cli-eng-file") })
	var job engine.JobInfo
	require.NoError(t, json.Unmarshal([]byte(out), &job), out)
	require.Equal(t, "cli-eng-a", job.ID)
	require.Equal(t, "cli-eng", job.Source.API)
	require.Equal(t, syncjob.PriorityHigh, job.Source.Priority)
	require.Equal(t, source.Duration(time.Hour), job.Source.RefreshInterval)
	require.Equal(t, map[string]string{"X-Token": "env:LIVESYNC_TEST_SECRET_CLI"}, job.Source.Headers)
	require.NotNil(t, job.MaxRetries)
	require.Equal(t, 1, *job.MaxRetries)
	require.True(t, job.Scheduled)
	got := engineJobs(t)["cli-eng-a"]
	require.Equal(t, src.url(), got.Source.URL)
	_, err = env.client.ScheduleClient().GetHandle(t.Context(), activities.ScheduleID("cli-eng-a")).Describe(t.Context())
	require.NoError(t, err, "the source has its schedule")

	// A file source, by relative path, of a declared kind; no --refresh: no schedule.
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "petstore.yaml"), petstore(t), 0o644))
	t.Chdir(dir)
	out, err = starter(t, "engine", "add", "--source", "petstore.yaml", "--id", "cli-eng-file", "--api", "cli-eng", "--kind", "openapi")
	require.NoError(t, err, out)
	require.Contains(t, out, "added source cli-eng-file (api cli-eng, medium priority): no schedule")
	got = engineJobs(t)["cli-eng-file"]
	require.Equal(t, filepath.Join(dir, "petstore.yaml"), got.Source.LocalFile())
	require.Equal(t, "openapi", got.Source.Kind)
	require.False(t, got.Scheduled)

	// Twice is refused by the engine; a bad flag before anything is sent.
	_, err = starter(t, "engine", "add", "--source", src.url(), "--id", "cli-eng-a")
	require.ErrorContains(t, err, "already registered")
	_, err = starter(t, "engine", "add", "--source", src.url(), "--id", "cli-eng-b", "--priority", "urgent")
	require.ErrorContains(t, err, "urgent")
	require.NotContains(t, engineJobs(t), "cli-eng-b")

	// engine config shows getConfig; engine set changes only the named keys.
	out, err = starter(t, "engine", "config", "--json")
	require.NoError(t, err, out)
	var orig engine.EngineConfig
	require.NoError(t, json.Unmarshal([]byte(out), &orig), out)
	require.Positive(t, orig.MaxConcurrent)
	t.Cleanup(func() {
		var back engine.EngineConfig
		_ = engine.Update(t.Context(), env.client, engine.UpdateUpdateConfig, orig, &back)
	})
	out, err = starter(t, "engine", "config")
	require.NoError(t, err, out)
	for _, k := range []string{"maxConcurrent", "failureThreshold", "jitter", "paused", "continueAsNewAfter", "batchWindow"} {
		require.Contains(t, out, k)
	}

	out, err = starter(t, "engine", "set", "maxConcurrent=3", "batchWindow=500ms", "jitter=5s", "--json")
	require.NoError(t, err, out)
	var set engine.EngineConfig
	require.NoError(t, json.Unmarshal([]byte(out), &set), out)
	want := orig
	want.MaxConcurrent, want.BatchWindow, want.Jitter = 3, source.Duration(500*time.Millisecond), source.Duration(5*time.Second)
	require.Equal(t, want, set)
	out, err = starter(t, "engine", "config", "--json")
	require.NoError(t, err, out)
	var now engine.EngineConfig
	require.NoError(t, json.Unmarshal([]byte(out), &now), out)
	require.Equal(t, want, now, "getConfig reads back what was set")

	// Unknown keys and bad values are refused, naming the key; nothing changes.
	for _, tc := range []struct{ arg, want string }{
		{"maxConcurent=4", `unknown key "maxConcurent"`},
		{"failureThreshold=lots", "failureThreshold=lots"},
		{"jitter=-1s", "jitter=-1s"},
		{"maxConcurrent=5000", "maxConcurrent 5000"}, // the engine's validator
	} {
		_, err = starter(t, "engine", "set", "paused=true", tc.arg)
		require.ErrorContains(t, err, tc.want, tc.arg)
	}
	var exit *cli.ExitError
	_, err = starter(t, "engine", "set", "maxConcurent=4")
	require.ErrorAs(t, err, &exit)
	require.Equal(t, 2, exit.Code)
	out, err = starter(t, "engine", "config", "--json")
	require.NoError(t, err, out)
	now = engine.EngineConfig{}
	require.NoError(t, json.Unmarshal([]byte(out), &now), out)
	require.Equal(t, want, now, "a refused set changes nothing")

	// paused=true pauses the schedules; paused=false resumes them.
	out, err = starter(t, "engine", "set", "paused=true")
	require.NoError(t, err, out)
	require.Regexp(t, `paused\s+true`, out)
	require.Eventually(t, func() bool { p, _ := schedulePaused(t, "cli-eng-a"); return p }, 20*time.Second, 100*time.Millisecond)
	out, err = starter(t, "engine", "set", "paused=false")
	require.NoError(t, err, out)
	require.Eventually(t, func() bool { p, _ := schedulePaused(t, "cli-eng-a"); return !p }, 20*time.Second, 100*time.Millisecond)

	// engine stop stops a running sync: hold the source's answer, queue
	// the sync, stop it, then let the fetch finish.
	fromA := func() int {
		vs, err := env.store.Versions(t.Context(), "cli-eng")
		require.NoError(t, err)
		n := 0
		for _, v := range vs {
			if v.SourceID == "cli-eng-a" {
				n++
			}
		}
		return n
	}
	before := fromA()
	src.set(func(s *specServer) { s.body = petstoreV2(t) }) // a change the stopped sync never stores
	hold, arrived := make(chan struct{}), make(chan struct{}, 1)
	var release sync.Once
	letGo := func() {
		release.Do(func() {
			src.set(func(s *specServer) { s.hold, s.arrived = nil, nil })
			close(hold)
		})
	}
	t.Cleanup(letGo) // a failing test never leaves the server's handler waiting
	src.set(func(s *specServer) { s.hold, s.arrived = hold, arrived })
	out, err = starter(t, "sync-all", "--api", "cli-eng")
	require.NoError(t, err, out)
	select {
	case <-arrived:
	case <-time.After(time.Minute):
		t.Fatal("the sync never fetched")
	}
	out, err = starter(t, "engine", "stop", "cli-eng-a", "--json")
	require.NoError(t, err, out)
	var stopped engine.SelectResult
	require.NoError(t, json.Unmarshal([]byte(out), &stopped), out)
	letGo()
	require.Eventually(t, func() bool { return status(t, "cli-eng-a").Status == syncjob.StatusStopped }, time.Minute, 100*time.Millisecond)
	require.Equal(t, before, fromA(), "the stopped sync stored nothing")

	// By API; a job that cannot exist is refused.
	out, err = starter(t, "engine", "stop", "--api", "cli-eng")
	require.NoError(t, err, out)
	require.True(t, strings.HasPrefix(out, "stop: "), out)
	_, err = starter(t, "engine", "stop", "no/such/job")
	require.ErrorContains(t, err, "no/such/job")

	// `engine` alone is the status; an unknown command is a usage error.
	out, err = starter(t, "engine")
	require.NoError(t, err, out)
	require.Contains(t, out, "cli-eng-a")
	_, err = starter(t, "engine", "bogus")
	require.ErrorAs(t, err, &exit)
	require.Equal(t, 2, exit.Code)
	require.ErrorContains(t, err, "config, set, add")
}
