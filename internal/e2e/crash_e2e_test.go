package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"

	"github.com/apilivesync/apilivesync/activities"
	"github.com/apilivesync/apilivesync/internal/app"
	"github.com/apilivesync/apilivesync/internal/devserver"
	"github.com/apilivesync/apilivesync/internal/notify"
	"github.com/apilivesync/apilivesync/internal/registry"
	"github.com/apilivesync/apilivesync/internal/resolve"
	"github.com/apilivesync/apilivesync/internal/source"
	"github.com/apilivesync/apilivesync/internal/store"
	"github.com/apilivesync/apilivesync/workflows/engine"
	"github.com/apilivesync/apilivesync/workflows/syncjob"
)

// Crash tests run workers as separate processes (this test binary, re-run
// with childWorkerEnv set) against their own embedded server, and kill them
// with SIGKILL in the middle of a sync.
const (
	childWorkerEnv   = "LIVESYNC_TEST_CHILD_WORKER"
	childFrontendEnv = "LIVESYNC_TEST_FRONTEND"
	childStoreEnv    = "LIVESYNC_TEST_STORE"
	childWebhookEnv  = "LIVESYNC_TEST_WEBHOOK"
	childSecretEnv   = "LIVESYNC_TEST_WEBHOOK_SECRET"
)

func runChildWorker() int {
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer cancel()
	c, err := client.Dial(client.Options{HostPort: os.Getenv(childFrontendEnv), Logger: quiet{}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child worker:", err)
		return 1
	}
	defer c.Close()
	st, err := store.Open(ctx, os.Getenv(childStoreEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child worker:", err)
		return 1
	}
	acts := app.NewActivities(st, testFetchOptions(0), resolve.AIConfig{}, zap.NewNop())
	if hook := os.Getenv(childWebhookEnv); hook != "" {
		acts.Notifier = activities.Webhooks{N: notify.New([]notify.Webhook{{URL: hook, Secret: []byte(os.Getenv(childSecretEnv))}},
			notify.Options{Client: acts.Fetcher.Client(), Timeout: 2 * time.Second, Backoff: 100 * time.Millisecond})}
	}
	stop, err := app.StartWorkers(app.NewWorkers(c, acts, app.WithHeartbeats(worker.Options{})))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child worker:", err)
		return 1
	}
	<-ctx.Done()
	stop()
	return 0
}

type crashRig struct {
	t        *testing.T
	srv      *devserver.Server
	dir      string
	c        client.Client
	storeURL string
	hookURL  string
	procs    []*exec.Cmd
}

func newCrashRig(t *testing.T, hookURL string) *crashRig {
	dir := t.TempDir()
	r := &crashRig{t: t, dir: dir, hookURL: hookURL}
	r.startServer()
	u, err := store.DirURL(dir + "/store")
	require.NoError(t, err)
	r.storeURL = u
	t.Cleanup(func() {
		for _, p := range r.procs {
			_ = p.Process.Kill()
			_, _ = p.Process.Wait()
		}
		r.c.Close()
		_ = r.srv.Stop()
	})
	return r
}

func (r *crashRig) startServer() {
	port := 0
	if r.srv != nil {
		h := r.srv.FrontendHostPort()
		fmt.Sscanf(h[len("127.0.0.1:"):], "%d", &port)
	}
	srv, err := devserver.Start(r.t.Context(), devserver.Options{DataDir: r.dir, FrontendPort: port, UIPort: devserver.NoUI, SearchAttributes: syncjob.SearchAttributes()})
	require.NoError(r.t, err)
	r.srv = srv
	c, err := client.Dial(client.Options{HostPort: srv.FrontendHostPort(), Logger: quiet{}})
	require.NoError(r.t, err)
	r.c = c
}

// startWorker starts a worker process and waits until it polls.
func (r *crashRig) startWorker() *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childWorkerEnv+"=1", childFrontendEnv+"="+r.srv.FrontendHostPort(), childStoreEnv+"="+r.storeURL,
		childWebhookEnv+"="+r.hookURL, childSecretEnv+"=crash-test-secret")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	require.NoError(r.t, cmd.Start())
	r.procs = append(r.procs, cmd)
	require.Eventually(r.t, func() bool {
		d, err := r.c.DescribeTaskQueue(r.t.Context(), syncjob.TaskQueue, enumspb.TASK_QUEUE_TYPE_ACTIVITY)
		if err != nil {
			return false
		}
		for _, p := range d.Pollers {
			if pollerOf(p, cmd.Process.Pid) {
				return true
			}
		}
		return false
	}, time.Minute, 100*time.Millisecond, "worker process did not start polling")
	return cmd
}

// killWorkers SIGKILLs every worker process the rig started.
func (r *crashRig) killWorkers(t *testing.T) {
	for _, p := range r.procs {
		kill9(t, p)
	}
	r.procs = nil
}

// onlyWorker leaves one fresh worker process running, the one returned.
func (r *crashRig) onlyWorker(t *testing.T) *exec.Cmd {
	r.killWorkers(t)
	return r.startWorker()
}

// completedAfterKill waits (up to timeout) for run, started before a
// worker was killed at killed, to complete, logs how long that took after
// the kill, and returns its result and final status.
func (r *crashRig) completedAfterKill(t *testing.T, run client.WorkflowRun, what string, killed time.Time, timeout time.Duration) (syncjob.SyncJobResult, syncjob.Status) {
	t.Helper()
	var res syncjob.SyncJobResult
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	require.NoError(t, run.Get(ctx, &res))
	require.Equal(t, syncjob.StatusCompleted, res.Status)
	t.Logf("%s: the sync completed %s after SIGKILL", what, time.Since(killed).Round(100*time.Millisecond))
	var stat syncjob.Status
	v, err := r.c.QueryWorkflow(t.Context(), run.GetID(), run.GetRunID(), syncjob.QueryStatus)
	require.NoError(t, err)
	require.NoError(t, v.Get(&stat))
	return res, stat
}

func pollerOf(p *taskqueue.PollerInfo, pid int) bool {
	return len(p.GetIdentity()) > 0 && containsPID(p.GetIdentity(), pid)
}

func containsPID(identity string, pid int) bool {
	return len(identity) > 0 && (identity == fmt.Sprint(pid) || hasPrefix(identity, fmt.Sprintf("%d@", pid)))
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

func kill9(t *testing.T, cmd *exec.Cmd) {
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		require.NoError(t, err)
	}
	_, _ = cmd.Process.Wait()
}

// hookReceiver counts deliveries per idempotency key, as a receiver that
// dedupes would.
type hookReceiver struct {
	mu     sync.Mutex
	byKey  map[string]int
	events map[string]string
	hold   chan struct{}
	got    chan struct{}
	srv    *httptest.Server
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{byKey: map[string]int{}, events: map[string]string{}, got: make(chan struct{}, 16)}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		hold := h.hold
		key := r.Header.Get(notify.HeaderIdempotencyKey)
		h.byKey[key]++
		h.events[key] = r.Header.Get(notify.HeaderEvent)
		h.mu.Unlock()
		select {
		case h.got <- struct{}{}:
		default:
		}
		if hold != nil {
			<-hold
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) keys() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]int{}
	for k, v := range h.byKey {
		out[k] = v
	}
	return out
}

func TestWorkerKilledMidSyncAnotherFinishesIt(t *testing.T) {
	hooks := newHookReceiver(t)
	rig := newCrashRig(t, hooks.srv.URL)
	src := newSpecServer(t, petstore(t))
	st, err := store.Open(t.Context(), rig.storeURL)
	require.NoError(t, err)
	defer st.Close()

	for _, step := range []string{"fetch", "notify"} {
		t.Run("killed during "+step, func(t *testing.T) {
			id := "crash-" + step
			hold := make(chan struct{})
			if step == "fetch" {
				src.set(func(s *specServer) { s.hold, s.arrived = hold, make(chan struct{}, 1) })
			} else {
				src.set(func(s *specServer) { s.hold, s.arrived = nil, nil })
				for len(hooks.got) > 0 {
					<-hooks.got // earlier deliveries
				}
				hooks.mu.Lock()
				hooks.hold = hold
				hooks.mu.Unlock()
			}
			// Only worker A runs when the step starts.
			a := rig.onlyWorker(t)
			// No retries at all: a lost worker is not a failed attempt. The
			// step timeouts stay the product's; heartbeats notice the loss.
			in := fastRetries(0)
			in.Source = source.Source{ID: id, URL: src.url()}
			run, err := rig.c.ExecuteWorkflow(t.Context(), syncjob.StartOptions(in, true), syncjob.SyncJobWorkflowName, in)
			require.NoError(t, err)

			// Wait until the step is under way on worker A, then kill it.
			if step == "fetch" {
				<-src.arrived
			} else {
				<-hooks.got
			}
			kill9(t, a)
			killed := time.Now()
			close(hold)
			rig.startWorker()

			_, stat := rig.completedAfterKill(t, run, "killed during "+step, killed, time.Minute)
			require.GreaterOrEqual(t, stat.WorkerLosses, 1, "the lost step is counted as a worker loss")
			require.Zero(t, stat.RetryCount, "and not against maxRetries")

			// Exactly one version, and every webhook event processed once.
			vs, err := st.Versions(t.Context(), id)
			require.NoError(t, err)
			require.Len(t, vs, 1)
			key := run.GetID() + "/" + run.GetRunID()
			require.Eventually(t, func() bool { return hooks.keys()[key] >= 1 }, 20*time.Second, 50*time.Millisecond)
			if step == "notify" {
				// The receiver saw the same event again after the crash, under
				// the same idempotency key: one event, deduplicated.
				require.GreaterOrEqual(t, hooks.keys()[key], 2)
			}
			distinct := 0
			for k := range hooks.keys() {
				if len(k) > len(run.GetID()) && k[:len(run.GetID())] == run.GetID() {
					distinct++
				}
			}
			require.Equal(t, 1, distinct, "one sync.completed event for the sync")
			hooks.mu.Lock()
			hooks.hold = nil
			hooks.mu.Unlock()
		})
	}
}

func TestServerRestartKeepsJobsVersionsSchedulesAndHeldApprovals(t *testing.T) {
	rig := newCrashRig(t, "")
	src := newSpecServer(t, petstore(t))
	rig.startWorker()
	in := fastRetries(3)
	in.Source = source.Source{ID: "restart-held", URL: src.url(), Gate: source.GateHold}
	res, err := syncjob.Start(t.Context(), rig.c, in, true)
	require.NoError(t, err)
	require.Equal(t, 1, res.Version)

	// A breaking change waits for approval; a schedule exists.
	src.set(func(s *specServer) { s.body = petstoreV2(t) })
	run, err := syncjob.StartRun(t.Context(), rig.c, in)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		v, err := rig.c.QueryWorkflow(t.Context(), run.GetID(), "", syncjob.QueryStatus)
		if err != nil {
			return false
		}
		var st syncjob.Status
		return v.Get(&st) == nil && st.Waiting != nil && st.Waiting.Kind == syncjob.WaitApproval
	}, 30*time.Second, 100*time.Millisecond)
	var applied engine.ApplyResult
	sched := source.Source{ID: "restart-scheduled", URL: src.url(), RefreshInterval: source.Duration(time.Hour)}
	require.NoError(t, engine.Update(t.Context(), rig.c, engine.UpdateApplyConfig, engine.ApplyInput{Sources: []source.Source{sched}}, &applied))
	require.Equal(t, []string{"restart-scheduled"}, applied.Added)

	// Stop the workers and the server; start them again on the same directory.
	rig.killWorkers(t)
	rig.c.Close()
	require.NoError(t, rig.srv.Stop())
	rig.startServer()
	rig.startWorker()

	// The held approval survived: approve it and the sync stores version 2.
	h, err := rig.c.UpdateWorkflow(t.Context(), client.UpdateWorkflowOptions{
		WorkflowID: run.GetID(), UpdateName: syncjob.UpdateApprove, Args: []any{syncjob.ApprovalInput{By: "restart-test"}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	require.NoError(t, err)
	var ar syncjob.ApprovalResult
	require.NoError(t, h.Get(t.Context(), &ar))
	require.Equal(t, "approved", ar.Decision)
	var final syncjob.SyncJobResult
	require.NoError(t, rig.c.GetWorkflow(t.Context(), run.GetID(), "").Get(t.Context(), &final))
	require.Equal(t, 2, final.Version)

	// The engine, its registry and the schedule survived too.
	d, err := rig.c.ScheduleClient().GetHandle(t.Context(), activities.ScheduleID("restart-scheduled")).Describe(t.Context())
	require.NoError(t, err)
	require.Len(t, d.Schedule.Spec.Intervals, 1)
	v, err := rig.c.QueryWorkflow(t.Context(), engine.EngineWorkflowID, "", engine.QueryMetrics)
	require.NoError(t, err)
	var m engine.SyncEngineMetrics
	require.NoError(t, v.Get(&m))
	require.Equal(t, 1, m.RegisteredSources)
	st, err := store.Open(t.Context(), rig.storeURL)
	require.NoError(t, err)
	defer st.Close()
	j, err := registry.New(st).Get(t.Context(), "restart-scheduled")
	require.NoError(t, err)
	require.True(t, j.Scheduled)

	// And the completed first sync is still in history.
	desc, err := rig.c.DescribeWorkflowExecution(t.Context(), run.GetID(), "")
	require.NoError(t, err)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, desc.WorkflowExecutionInfo.Status)
}

// bigSpec is the petstore with n generated operations (about 130 bytes
// each): big enough that parsing and diffing it take a while.
func bigSpec(t *testing.T, n int, variant string) []byte {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "  /generated/%d:\n    get:\n      operationId: gen%d\n      responses:\n        '200':\n          description: ok %d %s\n", i, i, i, variant)
	}
	return []byte(strings.Replace(string(petstore(t)), "paths:\n", "paths:\n"+b.String(), 1))
}

// A worker killed while it parses or diffs a big spec: another worker
// takes the step once the heartbeat times out, and the sync completes with
// maxRetries 0 and exactly one new version.
func TestWorkerKilledDuringParseOrDiff(t *testing.T) {
	rig := newCrashRig(t, "")
	st, err := store.Open(t.Context(), rig.storeURL)
	require.NoError(t, err)
	defer st.Close()
	src := newSpecServer(t, bigSpec(t, 20000, "v1"))
	id := "crash-big"
	in := fastRetries(0)
	in.Source = source.Source{ID: id, URL: src.url()}
	in.MaxRetries = new(int)

	for _, tc := range []struct {
		step, body string
		version    int
	}{{syncjob.StepParse, "v1", 1}, {syncjob.StepDiff, "v2", 2}} {
		t.Run("killed during "+tc.step, func(t *testing.T) {
			src.set(func(s *specServer) { s.body = bigSpec(t, 20000, tc.body) })
			a := rig.onlyWorker(t)
			run, err := rig.c.ExecuteWorkflow(t.Context(), syncjob.StartOptions(in, true), syncjob.SyncJobWorkflowName, in)
			require.NoError(t, err)
			require.Eventually(t, func() bool {
				v, err := rig.c.QueryWorkflow(t.Context(), run.GetID(), run.GetRunID(), syncjob.QueryStatus)
				if err != nil {
					return false
				}
				var s syncjob.Status
				return v.Get(&s) == nil && s.Step == tc.step && s.Status == syncjob.StatusRunning
			}, time.Minute, 20*time.Millisecond, "the sync never reached %s", tc.step)
			kill9(t, a)
			killed := time.Now()
			rig.startWorker()

			_, stat := rig.completedAfterKill(t, run, "killed during "+tc.step, killed, 3*time.Minute)
			vs, err := st.Versions(t.Context(), id)
			require.NoError(t, err)
			require.Len(t, vs, tc.version, "exactly one new version")
			require.Zero(t, stat.RetryCount)
		})
	}
}

// heldS3 is an S3 service (gofakes3, in memory) over real HTTP that can
// hold the PUT of an object whose key contains a marker: the version
// record a commit writes.
type heldS3 struct {
	srv     *httptest.Server
	mu      sync.Mutex
	marker  string
	hold    chan struct{}
	arrived chan struct{}
}

func newHeldS3(t *testing.T) *heldS3 {
	backend := s3mem.New()
	require.NoError(t, backend.CreateBucket("livesync"))
	inner := gofakes3.New(backend).Server()
	h := &heldS3{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		hold, arrived := h.hold, h.arrived
		held := hold != nil && r.Method == http.MethodPut && h.marker != "" && strings.Contains(r.URL.Path, h.marker)
		if held {
			h.hold, h.arrived = nil, nil // hold the first such write only
		}
		h.mu.Unlock()
		if held {
			arrived <- struct{}{}
			<-hold
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(h.srv.Close)
	// The child workers inherit these: the store's S3 credentials.
	t.Setenv("AWS_ACCESS_KEY_ID", "crash-test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "crash-test-secret")
	t.Setenv("AWS_REGION", "us-east-1")
	return h
}

func (h *heldS3) url() string {
	return "s3://livesync?endpoint=" + h.srv.URL + "&use_path_style=true"
}

// A worker killed while it stores the new version (its write to the store
// in flight): another worker takes the step once the heartbeat times out,
// the sync completes with maxRetries 0, and exactly one version is stored
// whether or not the dead worker's write landed.
func TestWorkerKilledDuringStore(t *testing.T) {
	s3 := newHeldS3(t)
	rig := newCrashRig(t, "")
	rig.storeURL = s3.url()
	st, err := store.Open(t.Context(), rig.storeURL)
	require.NoError(t, err)
	defer st.Close()
	src := newSpecServer(t, petstore(t))
	id := "crash-store"
	in := fastRetries(0)
	in.Source = source.Source{ID: id, URL: src.url()}

	for n, body := range [][]byte{petstore(t), petstoreV2(t)} {
		version := n + 1
		t.Run(fmt.Sprintf("version %d", version), func(t *testing.T) {
			src.set(func(s *specServer) { s.body = body })
			a := rig.onlyWorker(t)
			hold, arrived := make(chan struct{}), make(chan struct{}, 1)
			s3.mu.Lock()
			s3.marker, s3.hold, s3.arrived = fmt.Sprintf("/apis/%s/versions/%010d", id, version), hold, arrived
			s3.mu.Unlock()
			run, err := rig.c.ExecuteWorkflow(t.Context(), syncjob.StartOptions(in, true), syncjob.SyncJobWorkflowName, in)
			require.NoError(t, err)
			select {
			case <-arrived:
			case <-time.After(time.Minute):
				t.Fatal("the store step never wrote the version")
			}
			kill9(t, a)
			killed := time.Now()
			close(hold) // the dead worker's write may land now, or not
			rig.startWorker()

			res, stat := rig.completedAfterKill(t, run, "killed during store", killed, time.Minute)
			require.Equal(t, version, res.Version)
			vs, err := st.Versions(t.Context(), id)
			require.NoError(t, err)
			require.Len(t, vs, version, "exactly one new version")
			require.GreaterOrEqual(t, stat.WorkerLosses, 1)
			require.Zero(t, stat.RetryCount)
		})
	}
}
