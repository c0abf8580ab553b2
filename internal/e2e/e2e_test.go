package e2e_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	sdkpb "go.temporal.io/api/sdk/v1"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/protobuf/proto"

	"github.com/apilivesync/apilivesync/examples"
	"github.com/apilivesync/apilivesync/internal/app"
	"github.com/apilivesync/apilivesync/internal/cli"
	"github.com/apilivesync/apilivesync/internal/devserver"
	"github.com/apilivesync/apilivesync/internal/fetch"
	"github.com/apilivesync/apilivesync/internal/resolve"
	"github.com/apilivesync/apilivesync/internal/source"
	"github.com/apilivesync/apilivesync/internal/spec"
	"github.com/apilivesync/apilivesync/internal/store"
	"github.com/apilivesync/apilivesync/workflows/syncjob"
)

// The end-to-end tests run the real worker against a real embedded Temporal
// server, with sources served over real HTTP by httptest.
var env struct {
	server   *devserver.Server
	client   client.Client
	store    *store.Store
	storeURL string
	logs     *observer.ObservedLogs
}

const testMaxBytes = 2 << 20

func TestMain(m *testing.M) {
	if os.Getenv(childWorkerEnv) != "" {
		// This test binary is a worker process of a crash test.
		os.Exit(runChildWorker())
	}
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "livesync-e2e-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	srv, err := devserver.Start(ctx, devserver.Options{DataDir: dir, UIPort: 0, SearchAttributes: syncjob.SearchAttributes()})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start dev server:", err)
		return 1
	}
	defer srv.Stop()
	c, err := client.Dial(client.Options{HostPort: srv.FrontendHostPort(), Namespace: srv.Namespace(), Logger: quiet{}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "dial:", err)
		return 1
	}
	defer c.Close()
	storeURL, err := store.DirURL(dir + "/store")
	if err != nil {
		panic(err)
	}
	st, err := store.Open(ctx, storeURL)
	if err != nil {
		panic(err)
	}
	// Every log line is kept, so tests can check what the logs (never) say.
	obsCore, logs := observer.New(zap.DebugLevel)
	env.logs = logs
	logger := zap.New(obsCore)
	if os.Getenv("E2E_LOG") != "" {
		dev, _ := zap.NewDevelopment()
		logger = zap.New(zapcore.NewTee(obsCore, dev.Core()))
	}
	// A fake OpenAI-compatible model for the ai strategy; tests set its
	// answers per API (people_e2e_test.go).
	aiSrv := httptest.NewServer(http.HandlerFunc(serveFakeAI))
	defer aiSrv.Close()
	_ = os.Setenv(fakeAIKeyEnv, fakeAIKey)
	aiCfg := resolve.AIConfig{BaseURL: aiSrv.URL + "/v1", Model: "test-model", APIKeyEnv: fakeAIKeyEnv}
	acts := app.NewActivities(st, testFetchOptions(testMaxBytes), aiCfg, logger)
	// NewActivities gives the resolver no environment lookup, so it never
	// finds the key; until that is fixed, build it with os.LookupEnv.
	acts.AI = resolve.NewAIResolver(aiCfg, os.LookupEnv, logger)
	fo := testFetchOptions(testMaxBytes)
	fo.Timeout, fo.IdleTimeout, fo.Logger = 2*time.Second, time.Second, logger
	acts.Fetcher = fetch.New(fo)
	stopWorkers, err := app.StartWorkers(app.NewWorkers(c, acts, app.WithHeartbeats(worker.Options{})))
	if err != nil {
		panic(err)
	}
	defer stopWorkers()
	env.server, env.client, env.store, env.storeURL = srv, c, st, storeURL
	code := m.Run()
	if os.Getenv("UPDATE_HISTORIES") != "" {
		if err := recordHistories(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "record histories:", err)
			return 1
		}
	}
	return code
}

type quiet struct{}

func (quiet) Debug(string, ...any) {}
func (quiet) Info(string, ...any)  {}
func (quiet) Warn(string, ...any)  {}
func (quiet) Error(string, ...any) {}

// specServer serves one document with ETags, and can fail or stall on demand.
type specServer struct {
	mu       sync.Mutex
	body     []byte
	status   int // non-zero: answer with this status
	failNext int // answer 500 this many times first
	hits     int
	gets304  int
	hold     chan struct{} // non-nil: requests wait until it is closed
	arrived  chan struct{}
	srv      *httptest.Server
}

func newSpecServer(t *testing.T, body []byte) *specServer {
	s := &specServer{body: body}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *specServer) url() string { return s.srv.URL + "/openapi.yaml" }

func (s *specServer) set(f func(s *specServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func (s *specServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits++
	hold, arrived := s.hold, s.arrived
	s.mu.Unlock()
	if arrived != nil {
		select {
		case arrived <- struct{}{}:
		default:
		}
	}
	if hold != nil {
		<-hold
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failNext > 0 {
		s.failNext--
		http.Error(w, "temporarily broken", http.StatusInternalServerError)
		return
	}
	if s.status != 0 {
		http.Error(w, http.StatusText(s.status), s.status)
		return
	}
	sum := sha256.Sum256(s.body)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		s.gets304++
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(s.body)
}

func petstore(t *testing.T) []byte {
	b, err := fs.ReadFile(examples.Specs(), "petstore.yaml")
	require.NoError(t, err)
	return b
}

// petstoreV2 removes GET /pets/{petId} (breaking) and bumps the version.
func petstoreV2(t *testing.T) []byte {
	s := string(petstore(t))
	i, j := strings.Index(s, "  /pets/{petId}:"), strings.Index(s, "components:")
	require.True(t, i > 0 && j > i)
	s = s[:i] + s[j:]
	return []byte(strings.Replace(s, "version: 1.0.0", "version: 1.1.0", 1))
}

func fastRetries(n int) syncjob.SyncJobInput {
	return syncjob.SyncJobInput{MaxRetries: &n, RetryInitialInterval: source.Duration(100 * time.Millisecond), RetryMaxInterval: source.Duration(200 * time.Millisecond)}
}

func syncNow(t *testing.T, id, url string, maxRetries int) (*syncjob.SyncJobResult, error) {
	t.Helper()
	in := fastRetries(maxRetries)
	in.Source = source.Source{ID: id, URL: url}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	return syncjob.Start(ctx, env.client, in, true)
}

func status(t *testing.T, id string) syncjob.Status {
	t.Helper()
	v, err := env.client.QueryWorkflow(t.Context(), syncjob.SyncWorkflowID(id), "", syncjob.QueryStatus)
	require.NoError(t, err)
	var st syncjob.Status
	require.NoError(t, v.Get(&st))
	return st
}

func head(t *testing.T, api string) *store.Version {
	t.Helper()
	v, err := env.store.Head(t.Context(), api)
	require.NoError(t, err)
	return v
}

func TestFirstSyncChangeAndNoChange(t *testing.T) {
	src := newSpecServer(t, petstore(t))

	// First sync stores version 1: the normalized document.
	res, err := syncNow(t, "e2e-pets", src.url(), 3)
	require.NoError(t, err)
	require.Equal(t, syncjob.StatusCompleted, res.Status)
	require.False(t, res.NoChange)
	require.Equal(t, 1, res.Version)
	require.Equal(t, 2, res.Paths)
	require.Equal(t, 3, res.Operations)
	v1 := head(t, "e2e-pets")
	require.Equal(t, 1, v1.Number)
	require.Equal(t, res.VersionHash, v1.Hash)
	stored, err := env.store.GetBlob(t.Context(), v1.Hash)
	require.NoError(t, err)
	want, err := spec.Parse("petstore.yaml", petstore(t), spec.Options{})
	require.NoError(t, err)
	require.JSONEq(t, string(want.Canonical), string(stored))

	// A changed spec: its diff shows in the status and version 2 is stored.
	src.set(func(s *specServer) { s.body = petstoreV2(t) })
	res, err = syncNow(t, "e2e-pets", src.url(), 3)
	require.NoError(t, err)
	require.Equal(t, 2, res.Version)
	require.Positive(t, res.Changes)
	require.Positive(t, res.BreakingChanges)
	st := status(t, "e2e-pets")
	require.Equal(t, syncjob.StatusCompleted, st.Status)
	require.Equal(t, res.Changes, st.ChangesDetected)
	require.Equal(t, res.VersionHash, st.VersionHash)
	v2 := head(t, "e2e-pets")
	require.Equal(t, 2, v2.Number)
	require.Equal(t, 1, v2.Parent)
	require.NotEmpty(t, v2.ReportHash)
	var report struct {
		Total    int `json:"total"`
		Breaking int `json:"breaking"`
		Changes  []struct {
			Pointer  string `json:"pointer"`
			Kind     string `json:"kind"`
			Breaking bool   `json:"breaking"`
		} `json:"changes"`
	}
	require.NoError(t, env.store.GetJSON(t.Context(), v2.ReportHash, &report))
	require.Equal(t, res.Changes, report.Total)
	found := false
	for _, c := range report.Changes {
		if strings.Contains(c.Pointer, "~1pets~1{petId}") && c.Kind == "removed" && c.Breaking {
			found = true
		}
	}
	require.True(t, found, "the removed path is reported as breaking: %+v", report.Changes)

	// No change: the conditional request gets a 304 and nothing is stored.
	res, err = syncNow(t, "e2e-pets", src.url(), 3)
	require.NoError(t, err)
	require.True(t, res.NoChange)
	require.Len(t, res.Steps, 1)
	require.Equal(t, 1, src.gets304)
	require.Equal(t, 2, head(t, "e2e-pets").Number)
}

func TestReformattedSpecIsNoChange(t *testing.T) {
	src := newSpecServer(t, petstore(t))
	_, err := syncNow(t, "e2e-reformat", src.url(), 3)
	require.NoError(t, err)
	// The same document as JSON with other key order and whitespace.
	doc, err := spec.Parse("petstore.yaml", petstore(t), spec.Options{})
	require.NoError(t, err)
	var v any
	require.NoError(t, json.Unmarshal(doc.Canonical, &v))
	pretty, _ := json.MarshalIndent(v, "", "        ")
	src.set(func(s *specServer) { s.body = pretty })
	res, err := syncNow(t, "e2e-reformat", src.url(), 3)
	require.NoError(t, err)
	require.True(t, res.NoChange, "%+v", res)
	require.Equal(t, 1, head(t, "e2e-reformat").Number)
}

func TestPauseAndResume(t *testing.T) {
	src := newSpecServer(t, petstore(t))
	hold := make(chan struct{})
	src.set(func(s *specServer) { s.hold, s.arrived = hold, make(chan struct{}, 1) })
	in := fastRetries(3)
	id := fmt.Sprintf("e2e-pause-%d", time.Now().UnixNano()%1_000_000)
	in.Source = source.Source{ID: id, URL: src.url()}
	run, err := syncjob.StartRun(t.Context(), env.client, in)
	require.NoError(t, err)
	<-src.arrived // the fetch is under way
	require.NoError(t, env.client.SignalWorkflow(t.Context(), run.GetID(), "", syncjob.SignalPause, nil))
	close(hold)
	// The fetch finishes; no step starts after it until resume.
	require.Eventually(t, func() bool {
		st := status(t, id)
		return st.Status == syncjob.StatusPaused && len(st.Steps) >= 2 && st.Steps[0].Status == syncjob.StatusCompleted
	}, 20*time.Second, 50*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	st := status(t, id)
	if st.Steps[1].Attempts != 0 {
		it := env.client.GetWorkflowHistory(t.Context(), run.GetID(), run.GetRunID(), false, 0)
		for it.HasNext() {
			ev, _ := it.Next()
			t.Log(ev.GetEventId(), ev.GetEventType().String())
		}
	}
	require.Equal(t, syncjob.StatusPaused, st.Status)
	require.Equal(t, 0, st.Steps[1].Attempts, "parse must not start while paused")
	require.Nil(t, head(t, id))

	require.NoError(t, env.client.SignalWorkflow(t.Context(), run.GetID(), "", syncjob.SignalResume, nil))
	res, err := syncjob.Result(t.Context(), run)
	require.NoError(t, err)
	require.Equal(t, syncjob.StatusCompleted, res.Status)
	require.Equal(t, 1, head(t, id).Number)
}

func TestTransientErrorRecoversOnRetry(t *testing.T) {
	src := newSpecServer(t, petstore(t))
	src.set(func(s *specServer) { s.failNext = 1 })
	res, err := syncNow(t, "e2e-flaky", src.url(), 3)
	require.NoError(t, err)
	require.Equal(t, 1, res.Version)
	st := status(t, "e2e-flaky")
	require.Equal(t, 1, st.RetryCount)
	require.Equal(t, 2, st.Steps[0].Attempts)
}

// badInput checks that every kind of bad input ends as a clear failure that
// names the source and the problem, and that the last good version stays.
func TestBadInputKeepsTheLastGoodVersion(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	refusedURL := "http://" + closed.Addr().String() + "/openapi.json"
	require.NoError(t, closed.Close())

	brokenRef := strings.Replace(string(petstore(t)), `$ref: "#/components/schemas/Pets"`, `$ref: "#/components/schemas/Nope"`, 1)
	cases := []struct {
		name      string
		setup     func(s *specServer)
		url       func(s *specServer) string
		want      []string
		retryable bool
		strict    bool // the source refuses dangling references
	}{
		{name: "404", setup: func(s *specServer) { s.status = 404 }, want: []string{"404"}},
		{name: "500-forever", setup: func(s *specServer) { s.status = 500 }, want: []string{"500"}, retryable: true},
		{name: "refused", url: func(*specServer) string { return refusedURL }, want: []string{"refused"}, retryable: true},
		{name: "timeout", setup: func(s *specServer) { s.hold = make(chan struct{}) }, want: []string{"time"}, retryable: true},
		{name: "too-large", setup: func(s *specServer) { s.body = bytes.Repeat([]byte("# padding\n"), testMaxBytes/5) }, want: []string{"limit"}},
		{name: "not-yaml", setup: func(s *specServer) { s.body = []byte("<html><body>{{oops: [</body></html>\n\t- : :") }, want: []string{"YAML"}},
		{name: "not-a-spec", setup: func(s *specServer) { s.body = []byte(`{"name": "just some json", "items": [1,2,3]}`) }, want: []string{"not an openapi or swagger document"}},
		{name: "broken-ref-strict", setup: func(s *specServer) { s.body = []byte(brokenRef) }, want: []string{"#/components/schemas/Nope", "strict"}, strict: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := "e2e-bad-" + tc.name
			src := newSpecServer(t, petstore(t))
			res, err := syncNow(t, id, src.url(), 1)
			require.NoError(t, err)
			require.Equal(t, 1, res.Version)
			good := head(t, id)

			if tc.setup != nil {
				src.set(tc.setup)
			}
			url := src.url()
			if tc.url != nil {
				url = tc.url(src)
			}
			in := fastRetries(1)
			in.Source = source.Source{ID: id, URL: url, Strict: tc.strict}
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			res, err = syncjob.Start(ctx, env.client, in, true)
			if hold := src.hold; hold != nil {
				close(hold)
			}
			require.Error(t, err)
			require.NotNil(t, res)
			require.Equal(t, syncjob.StatusFailed, res.Status)
			st := status(t, id)
			require.Equal(t, syncjob.StatusFailed, st.Status)
			require.Contains(t, st.LastError, id, "the error names the source")
			for _, w := range tc.want {
				require.Contains(t, strings.ToLower(st.LastError), strings.ToLower(w))
			}
			if tc.retryable {
				require.Equal(t, 1, st.RetryCount, "transient failures are retried")
			} else {
				require.Equal(t, 0, st.RetryCount, "permanent failures are not retried")
			}
			after := head(t, id)
			require.Equal(t, good.Number, after.Number, "the last good version stays current")
			require.Equal(t, good.Hash, after.Hash)
		})
	}
}

func TestHistoryCarriesHashesNotDocuments(t *testing.T) {
	// A spec of about 1 MB: the petstore with many generated paths.
	var b strings.Builder
	b.WriteString(string(petstore(t)))
	big := strings.Replace(b.String(), "paths:\n", "paths:\n"+generatedPaths(8000), 1)
	require.Greater(t, len(big), 900_000)
	src := newSpecServer(t, []byte(big))
	res, err := syncNow(t, "e2e-history", src.url(), 1)
	require.NoError(t, err)
	require.Equal(t, 1, res.Version)
	size := historySize(t, syncjob.SyncWorkflowID("e2e-history"))
	require.Less(t, size, 32<<10, "one sync's history stays under 32 KB")
}

func generatedPaths(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "  /generated/%d:\n    get:\n      operationId: gen%d\n      responses:\n        '200':\n          description: ok %d\n", i, i, i)
	}
	return b.String()
}

func historySize(t *testing.T, workflowID string) int {
	t.Helper()
	it := env.client.GetWorkflowHistory(t.Context(), workflowID, "", false, 0)
	total := 0
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		total += proto.Size(ev)
	}
	return total
}

// starter runs the starter program's commands against the test server and store.
func starter(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	s := &cli.Starter{Stdout: &out, Stderr: &errOut,
		Dial: func(ctx context.Context, _, _ string) (client.Client, error) {
			return client.Dial(client.Options{HostPort: env.server.FrontendHostPort(), Namespace: env.server.Namespace(), Logger: quiet{}})
		},
		Getenv: func(k string) string {
			if k == store.URLEnv {
				return env.storeURL
			}
			return ""
		},
	}
	err := s.Run(t.Context(), args)
	return out.String() + errOut.String(), err
}

func TestStarterSyncJSONContract(t *testing.T) {
	src := newSpecServer(t, petstore(t))
	out, err := starter(t, "sync", "--source", src.url(), "--id", "e2e-cli", "--wait", "--json")
	require.NoError(t, err, out)
	var res map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	for _, k := range []string{"id", "status", "noChange", "versionHash", "changes", "breakingChanges", "error"} {
		require.Contains(t, res, k)
	}
	require.Equal(t, "e2e-cli", res["id"])
	require.Equal(t, "completed", res["status"])
	require.Equal(t, false, res["noChange"])
	require.NotEmpty(t, res["versionHash"])

	// No change still names the current version.
	out, err = starter(t, "sync", "--source", src.url(), "--id", "e2e-cli", "--wait", "--json")
	require.NoError(t, err, out)
	var again map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &again), out)
	require.Equal(t, true, again["noChange"])
	require.Equal(t, res["versionHash"], again["versionHash"])

	out, err = starter(t, "status", "e2e-cli", "--json")
	require.NoError(t, err, out)
	var st syncjob.Status
	require.NoError(t, json.Unmarshal([]byte(out), &st), out)
	require.Equal(t, syncjob.StatusCompleted, st.Status)

	// A failing sync exits non-zero with the error in the JSON.
	src.set(func(s *specServer) { s.status = 404 })
	out, err = starter(t, "sync", "--source", src.url(), "--id", "e2e-cli", "--wait", "--json", "--max-retries", "0")
	require.Error(t, err)
	var failed map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &failed), out)
	require.Equal(t, "failed", failed["status"])
	require.Contains(t, failed["error"], "404")
}

func TestHistoryShowDiffRollbackUndoPushPull(t *testing.T) {
	src := newSpecServer(t, petstore(t))
	_, err := syncNow(t, "e2e-hist", src.url(), 1)
	require.NoError(t, err)
	src.set(func(s *specServer) { s.body = petstoreV2(t) })
	_, err = syncNow(t, "e2e-hist", src.url(), 1)
	require.NoError(t, err)

	out, err := starter(t, "history", "e2e-hist", "--json")
	require.NoError(t, err, out)
	var vs []store.Version
	require.NoError(t, json.Unmarshal([]byte(out), &vs))
	require.Len(t, vs, 2)
	require.Equal(t, store.OriginSync, vs[1].Origin)
	require.Positive(t, vs[1].Breaking)

	out, err = starter(t, "show", "e2e-hist@2")
	require.NoError(t, err, out)
	require.Contains(t, out, "/paths/~1pets~1{petId}")
	require.Contains(t, out, "path-removed")

	// diff of two stored versions, as JSON, failing on breaking changes.
	out, err = starter(t, "diff", "e2e-hist@1", "e2e-hist@2", "--format", "json", "--fail-on-breaking")
	var exit *cli.ExitError
	require.ErrorAs(t, err, &exit)
	require.Equal(t, 1, exit.Code)
	var rep struct {
		Changes  []map[string]any `json:"changes"`
		Total    int              `json:"total"`
		Breaking int              `json:"breaking"`
	}
	require.NoError(t, json.Unmarshal([]byte(out[:strings.LastIndex(out, "}")+1]), &rep), out)
	require.Equal(t, vs[1].Changes, rep.Total)
	for _, k := range []string{"pointer", "kind", "object", "breaking", "rule", "old", "new", "level"} {
		require.Contains(t, rep.Changes[0], k)
	}
	require.Contains(t, out, `"warnings"`)

	// rules: every rule with its level; a rules file can change a level.
	out, err = starter(t, "rules", "--json")
	require.NoError(t, err, out)
	var cat struct {
		RuleSet string           `json:"ruleSet"`
		Rules   []map[string]any `json:"rules"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &cat))
	require.Greater(t, len(cat.Rules), 100)
	lenient := filepath.Join(t.TempDir(), "lenient.yaml")
	require.NoError(t, os.WriteFile(lenient, []byte("levels:\n  path-removed: warning\n"), 0o644))

	// rejudge: the same history under other rules; the versions stay.
	out, err = starter(t, "rejudge", "e2e-hist", "--json")
	require.NoError(t, err, out)
	var rj cli.RejudgeResult
	require.NoError(t, json.Unmarshal([]byte(out), &rj))
	require.Len(t, rj.Versions, 1)
	require.Positive(t, rj.Versions[0].Breaking)
	out, err = starter(t, "rejudge", "e2e-hist", "--rules", lenient, "--json")
	require.NoError(t, err, out)
	rj = cli.RejudgeResult{}
	require.NoError(t, json.Unmarshal([]byte(out), &rj))
	require.NotEqual(t, cat.RuleSet, rj.RuleSet, "another rule set, another identity")
	require.Less(t, rj.Versions[0].Breaking, vs[1].Breaking, "path-removed is a warning under these rules")
	require.Positive(t, rj.Versions[0].Warnings)
	after, err := starter(t, "history", "e2e-hist", "--json")
	require.NoError(t, err)
	var vs2 []store.Version
	require.NoError(t, json.Unmarshal([]byte(after), &vs2))
	require.Equal(t, vs, vs2, "rejudge never touches the versions")

	// rollback makes version 3 equal to version 1; undo goes back to 2's parent.
	out, err = starter(t, "rollback", "e2e-hist@1")
	require.NoError(t, err, out)
	h := head(t, "e2e-hist")
	require.Equal(t, 3, h.Number)
	require.Equal(t, vs[0].Hash, h.Hash)
	require.Equal(t, store.OriginRollback, h.Origin)
	require.Equal(t, 1, h.RestoredFrom)
	_, err = starter(t, "rollback", "e2e-hist@1")
	require.ErrorContains(t, err, "already has this document")

	// push a local edit, pull it back.
	dir := t.TempDir()
	edited := strings.Replace(string(petstoreV2(t)), "title: Swagger Petstore", "title: Our Petstore", 1)
	require.NoError(t, os.WriteFile(dir+"/edit.yaml", []byte(edited), 0o644))
	out, err = starter(t, "push", "e2e-hist", dir+"/edit.yaml", "--message", "rename")
	require.NoError(t, err, out)
	require.Equal(t, store.OriginPush, head(t, "e2e-hist").Origin)
	out, err = starter(t, "pull", "e2e-hist")
	require.NoError(t, err)
	require.Contains(t, out, `"title": "Our Petstore"`)
	require.True(t, strings.HasPrefix(out, "{\n  \"openapi\""), "keys in the order people write them: %.60s", out)
	require.Less(t, strings.Index(out, `"info"`), strings.Index(out, `"paths"`))
	require.Less(t, strings.Index(out, `"paths"`), strings.Index(out, `"components"`))
	yml := filepath.Join(dir, "pulled.yaml")
	_, err = starter(t, "pull", "e2e-hist", "-o", yml)
	require.NoError(t, err)
	pulled, err := os.ReadFile(yml)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(pulled), "openapi:"), "%.40s", pulled)
	_, err = starter(t, "push", "e2e-hist", yml)
	require.ErrorContains(t, err, "already has this document", "what was pulled is the same document")
	require.Equal(t, 4, head(t, "e2e-hist").Number)

	// A broken push stores nothing and says why.
	require.NoError(t, os.WriteFile(dir+"/bad.yaml", []byte("openapi: 3.0.0\ninfo: [\n"), 0o644))
	_, err = starter(t, "push", "e2e-hist", dir+"/bad.yaml")
	require.ErrorContains(t, err, "bad.yaml")
	require.Equal(t, 4, head(t, "e2e-hist").Number)

	// undo: back to the version before the last sync (version 1).
	out, err = starter(t, "undo", "e2e-hist")
	require.NoError(t, err, out)
	h = head(t, "e2e-hist")
	require.Equal(t, 5, h.Number)
	require.Equal(t, vs[0].Hash, h.Hash)
	require.Equal(t, store.OriginUndo, h.Origin)

	// diff works offline on two files, too.
	require.NoError(t, os.WriteFile(dir+"/v1.yaml", petstore(t), 0o644))
	out, err = starter(t, "diff", dir+"/v1.yaml", dir+"/edit.yaml", "--format", "markdown")
	require.NoError(t, err, out)
	require.Contains(t, out, "/pets/{petId}")
}

// TestRulesFileDecidesWhatBreaks: an API's rules file (here: removing a
// path is not breaking for this internal API) judges its syncs.
func TestRulesFileDecidesWhatBreaks(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "lenient.yaml")
	require.NoError(t, os.WriteFile(rules, []byte("extends: default\nrules:\n  path:\n    removed: false\n"), 0o644))
	src := newSpecServer(t, petstore(t))
	for _, tc := range []struct {
		id, rules string
		breaking  bool
	}{{"e2e-rules-default", "", true}, {"e2e-rules-lenient", rules, false}} {
		in := fastRetries(1)
		in.Source = source.Source{ID: tc.id, URL: src.url(), Rules: tc.rules}
		src.set(func(s *specServer) { s.body = petstore(t) })
		_, err := syncjob.Start(t.Context(), env.client, in, true)
		require.NoError(t, err)
		src.set(func(s *specServer) { s.body = petstoreV2(t) })
		res, err := syncjob.Start(t.Context(), env.client, in, true)
		require.NoError(t, err)
		require.Equal(t, 2, res.Version, tc.id)
		require.Equal(t, tc.breaking, res.BreakingChanges > 0, tc.id)
		v := head(t, tc.id)
		if tc.rules != "" {
			require.True(t, strings.HasPrefix(v.RuleSet, "sha256:"), "the version records the rule set: %s", v.RuleSet)
		} else {
			require.True(t, strings.HasPrefix(v.RuleSet, "default@"), v.RuleSet)
		}
	}
}

// testSecretEnv is the pattern of the variables tests let sources reference.
const testSecretEnv = "LIVESYNC_TEST_SECRET_*"

// testFetchOptions is the fetch policy of the tests' workers: loopback
// sources, files under the temp directory, secrets named testSecretEnv.
func testFetchOptions(maxBytes int64) fetch.Options {
	return fetch.Options{
		MaxBytes:    maxBytes,
		Guard:       fetch.GuardOptions{AllowLoopback: true},
		SourceRoots: []string{os.TempDir()},
		Secrets:     source.SecretPolicy{Env: []string{testSecretEnv}},
	}
}

// A published spec with a dangling reference still syncs: the reference is
// a warning in the status and the version record, not a refusal.
func TestDanglingReferenceIsAWarning(t *testing.T) {
	id := "e2e-dangling-ref"
	src := newSpecServer(t, petstore(t))
	_, err := syncNow(t, id, src.url(), 1)
	require.NoError(t, err)
	brokenRef := strings.Replace(string(petstore(t)), `$ref: "#/components/schemas/Pets"`, `$ref: "#/components/schemas/Nope"`, 1)
	src.set(func(s *specServer) { s.body = []byte(brokenRef) })
	res, err := syncNow(t, id, src.url(), 1)
	require.NoError(t, err)
	require.Equal(t, syncjob.StatusCompleted, res.Status)
	require.Equal(t, 2, res.Version)
	st := status(t, id)
	require.NotEmpty(t, st.Warnings)
	require.Contains(t, strings.Join(st.Warnings, "\n"), "#/components/schemas/Nope")
	require.Contains(t, strings.Join(head(t, id).Counts.Warnings, "\n"), "#/components/schemas/Nope", "the version records the warning")
}

// Every sync reads in the Temporal UI: a static summary (source → API and
// where it lives) and current details (what it did, its changes, and the
// starter command for more), whoever started it.
func TestSyncSummaryAndDetailsInTheUI(t *testing.T) {
	id := "e2e-ui-details"
	src := newSpecServer(t, petstore(t))
	_, err := syncNow(t, id, src.url(), 1)
	require.NoError(t, err)
	src.set(func(s *specServer) { s.body = petstoreV2(t) })
	res, err := syncNow(t, id, src.url(), 1)
	require.NoError(t, err)
	require.Equal(t, 2, res.Version)

	desc, err := env.client.DescribeWorkflow(t.Context(), syncjob.SyncWorkflowID(id), "")
	require.NoError(t, err)
	summary, err := desc.GetStaticSummary()
	require.NoError(t, err)
	require.Equal(t, "sync "+id+" → API "+id+": "+src.url(), summary)

	v, err := env.client.QueryWorkflow(t.Context(), syncjob.SyncWorkflowID(id), "", "__temporal_workflow_metadata")
	require.NoError(t, err)
	var md sdkpb.WorkflowMetadata
	require.NoError(t, v.Get(&md))
	details := md.GetCurrentDetails()
	require.Contains(t, details, "stored version 2")
	require.Contains(t, details, fmt.Sprintf("%d breaking", res.BreakingChanges))
	require.Contains(t, details, "breaking: ")
	require.Contains(t, details, "starter show "+id+"@2")
}
