package e2e_test

import (
	"encoding/json"
	"io"
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

	"github.com/apilivesync/apilivesync/internal/app"
	"github.com/apilivesync/apilivesync/internal/fetch"
	"github.com/apilivesync/apilivesync/internal/resolve"
	"github.com/apilivesync/apilivesync/internal/source"
	"github.com/apilivesync/apilivesync/workflows/syncjob"
)

// The durable AI step, end to end: a real worker with the real go-openai
// client against an OpenAI-compatible model served by httptest, which each
// test scripts per API (down, rate-limited, talking nonsense, back). These
// jobs run on their own task queue, served by a worker whose AI resolver
// asks that model.

const aiTaskQueue = "e2e-ai-durable"

// aiReply is what the scripted model answers to one request.
type aiReply struct {
	status     int    // 0: 200 with content
	retryAfter string // Retry-After header
	content    string
}

// aiRequest is one request the model received.
type aiRequest struct {
	at   time.Time
	body string
	// last is the content of the last message: the conflicts, or a re-ask.
	last string
}

// scriptedModel is the model behind aiTaskQueue's worker.
var scriptedModel struct {
	once    sync.Once
	mu      sync.Mutex
	scripts map[string]func(n int, conflicts []fakeAIConflict) aiReply
	seen    map[string][]aiRequest
}

// modelScript makes the model answer request n (0-based) about api with script.
func modelScript(t *testing.T, api string, script func(n int, conflicts []fakeAIConflict) aiReply) {
	startAIWorker(t)
	scriptedModel.mu.Lock()
	defer scriptedModel.mu.Unlock()
	scriptedModel.scripts[api] = script
}

// modelRequests returns the requests the model received about api.
func modelRequests(api string) []aiRequest {
	scriptedModel.mu.Lock()
	defer scriptedModel.mu.Unlock()
	return append([]aiRequest(nil), scriptedModel.seen[api]...)
}

func serveScriptedModel(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req struct {
		Model    string `json:"model"`
		Messages []struct {
			Content string `json:"content"`
		} `json:"messages"`
	}
	var prompt struct {
		API       string           `json:"api"`
		Conflicts []fakeAIConflict `json:"conflicts"`
	}
	if json.Unmarshal(body, &req) != nil || len(req.Messages) < 2 || json.Unmarshal([]byte(req.Messages[len(req.Messages)-1].Content), &prompt) != nil {
		http.Error(w, `{"error":{"message":"unreadable request","type":"invalid_request_error"}}`, http.StatusBadRequest)
		return
	}
	scriptedModel.mu.Lock()
	n := len(scriptedModel.seen[prompt.API])
	scriptedModel.seen[prompt.API] = append(scriptedModel.seen[prompt.API], aiRequest{at: time.Now(), body: string(body), last: req.Messages[len(req.Messages)-1].Content})
	script := scriptedModel.scripts[prompt.API]
	scriptedModel.mu.Unlock()
	rep := aiReply{content: `{"decisions":[]}`}
	if script != nil {
		rep = script(n, prompt.Conflicts)
	}
	w.Header().Set("Content-Type", "application/json")
	if rep.retryAfter != "" {
		w.Header().Set("Retry-After", rep.retryAfter)
	}
	if rep.status != 0 {
		w.WriteHeader(rep.status)
		_, _ = io.WriteString(w, `{"error":{"message":"scripted failure","type":"server_error"}}`)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-scripted", "object": "chat.completion", "created": 0, "model": req.Model,
		"choices": []map[string]any{{"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": rep.content}}},
	})
}

// startAIWorker starts, once, the model and the worker of aiTaskQueue.
func startAIWorker(t *testing.T) {
	scriptedModel.once.Do(func() {
		scriptedModel.scripts = map[string]func(int, []fakeAIConflict) aiReply{}
		scriptedModel.seen = map[string][]aiRequest{}
		srv := httptest.NewServer(http.HandlerFunc(serveScriptedModel))
		// The server and the worker live as long as the test binary.
		cfg := resolve.AIConfig{BaseURL: srv.URL + "/v1", Model: "scripted-model", APIKeyEnv: fakeAIKeyEnv, Timeout: 2 * time.Second}
		acts := app.NewActivities(env.store, testFetchOptions(testMaxBytes), cfg, zap.NewNop())
		acts.AI = resolve.NewAIResolver(cfg, os.LookupEnv, zap.NewNop())
		fo := testFetchOptions(testMaxBytes)
		fo.Timeout, fo.IdleTimeout = 2*time.Second, time.Second
		acts.Fetcher = fetch.New(fo)
		w := worker.New(env.client, aiTaskQueue, app.WithHeartbeats(worker.Options{}))
		app.Register(w, acts, env.client)
		if err := w.Start(); err != nil {
			panic(err)
		}
	})
}

// decideAll answers every conflict of a call with choice.
func decideAll(choice string) func(int, []fakeAIConflict) string {
	return func(_ int, cs []fakeAIConflict) string {
		var ds []map[string]string
		for _, c := range cs {
			ds = append(ds, map[string]string{"id": c.ID, "choice": choice, "value": "", "reason": "the model chose " + choice})
		}
		b, _ := json.Marshal(map[string]any{"decisions": ds})
		return string(b)
	}
}

// startAIConflict is startConflict for the ai strategy on aiTaskQueue: the
// sync that meets the two conflicts runs with window as its AI retry window
// (0: none in the job's input); tune, when given, sets the source's fields.
func startAIConflict(t *testing.T, api string, window time.Duration, tune ...func(*source.Source)) client.WorkflowRun {
	t.Helper()
	startAIWorker(t)
	srv := newSpecServer(t, petstore(t))
	src := source.Source{ID: api, URL: srv.url(), Strategy: source.StrategyAI}
	for _, f := range tune {
		f(&src)
	}
	require.Equal(t, 1, syncSource(t, src).Version)

	local, remote := string(petstore(t)), string(petstore(t))
	for _, s := range summaries {
		local = strings.Replace(local, "summary: "+s.text, "summary: "+s.text+" (local edit of "+api+")", 1)
		remote = strings.Replace(remote, "summary: "+s.text, "summary: "+s.text+" (upstream of "+api+")", 1)
	}
	remote = strings.Replace(remote, "version: 1.0.0", "version: 1.0.1", 1)
	file := filepath.Join(t.TempDir(), "local.yaml")
	require.NoError(t, os.WriteFile(file, []byte(local), 0o644))
	out, err := starter(t, "push", api, file)
	require.NoError(t, err, out)
	srv.set(func(s *specServer) { s.body = []byte(remote) })

	in := fastRetries(1) // the AI step's backoff: 100ms, then 200ms
	in.Source, in.AIRetryWindow = src, source.Duration(window)
	opts := syncjob.StartOptions(in, false)
	opts.TaskQueue = aiTaskQueue
	run, err := env.client.ExecuteWorkflow(t.Context(), opts, syncjob.SyncJobWorkflowName, in)
	require.NoError(t, err)
	return run
}

// requireAIDecided checks that the model decided both conflicts (local)
// and that version 3 holds its choice.
func requireAIDecided(t *testing.T, api string, res *syncjob.SyncJobResult) {
	t.Helper()
	require.Equal(t, syncjob.StatusCompleted, res.Status, res.Error)
	require.Equal(t, 3, res.Version)
	require.Len(t, res.Decisions, 2)
	for i, d := range res.Decisions {
		require.Equal(t, syncjob.Decision{Pointer: summaries[i].pointer, Choice: "local", Strategy: source.StrategyAI, Reason: "the model chose local"}, d)
	}
	require.Equal(t, summaries[0].text+" (local edit of "+api+")", at(headDoc(t, api), "paths", "/pets", "get", "summary"))
}

// resolveSteps returns the resolve steps of a result.
func resolveSteps(res *syncjob.SyncJobResult) []syncjob.StepInfo {
	var out []syncjob.StepInfo
	for _, s := range res.Steps {
		if s.Name == syncjob.StepResolve {
			out = append(out, s)
		}
	}
	return out
}

// pendingAIAttempt returns the attempt and last failure of the job's
// pending activity, as the Temporal UI shows them.
func pendingAIAttempt(t *testing.T, job string) (int32, string) {
	d, err := env.client.DescribeWorkflowExecution(t.Context(), syncjob.SyncWorkflowID(job), "")
	if err != nil {
		return 0, ""
	}
	for _, pa := range d.GetPendingActivities() {
		if pa.GetActivityType().GetName() == "ResolveConflicts" {
			return pa.GetAttempt(), pa.GetLastFailure().GetMessage()
		}
	}
	return 0, ""
}

func TestAIDurableRetries(t *testing.T) {
	t.Run("model-down-then-back", func(t *testing.T) {
		api := "e2e-ai-down-back"
		var mu sync.Mutex
		up := false
		modelScript(t, api, func(n int, cs []fakeAIConflict) aiReply {
			mu.Lock()
			defer mu.Unlock()
			if !up {
				return aiReply{status: http.StatusInternalServerError}
			}
			return aiReply{content: decideAll("local")(n, cs)}
		})
		run := startAIConflict(t, api, time.Minute)
		// Temporal retries the step: the UI shows the attempts and why.
		var attempt int32
		var failure string
		require.Eventually(t, func() bool {
			attempt, failure = pendingAIAttempt(t, api)
			return attempt >= 3
		}, 30*time.Second, 50*time.Millisecond)
		t.Logf("attempt %d, last failure: %s", attempt, failure)
		require.Contains(t, failure, "500")
		require.Contains(t, failure, `api "`+api+`"`)
		mu.Lock()
		up = true
		mu.Unlock()

		// No person was asked: the job would wait for one for 24h.
		res := jobResult(t, run)
		requireAIDecided(t, api, res)
		reqs := modelRequests(api)
		steps := resolveSteps(res)
		require.Len(t, steps, 1)
		require.Equal(t, len(reqs), steps[0].Attempts, "one request per attempt, each attempt visible")
		require.GreaterOrEqual(t, steps[0].Attempts, 3)
	})

	t.Run("429-retry-after-honoured", func(t *testing.T) {
		api := "e2e-ai-429"
		modelScript(t, api, func(n int, cs []fakeAIConflict) aiReply {
			if n == 0 {
				return aiReply{status: http.StatusTooManyRequests, retryAfter: "2"}
			}
			return aiReply{content: decideAll("local")(n, cs)}
		})
		res := jobResult(t, startAIConflict(t, api, time.Minute))
		requireAIDecided(t, api, res)
		reqs := modelRequests(api)
		require.Len(t, reqs, 2)
		gap := reqs[1].at.Sub(reqs[0].at)
		// The job's own backoff is 100ms: only the Retry-After makes it 2s.
		require.GreaterOrEqual(t, gap, 1900*time.Millisecond, "retried after %s", gap)
		require.Less(t, gap, 10*time.Second)
		require.Equal(t, 2, resolveSteps(res)[0].Attempts)
	})

	t.Run("malformed-then-valid-after-the-error-was-sent-back", func(t *testing.T) {
		api := "e2e-ai-reask"
		modelScript(t, api, func(n int, cs []fakeAIConflict) aiReply {
			if n == 0 {
				return aiReply{content: "The local one, I think."}
			}
			return aiReply{content: decideAll("local")(n, cs)}
		})
		res := jobResult(t, startAIConflict(t, api, time.Minute))
		requireAIDecided(t, api, res)
		reqs := modelRequests(api)
		require.Len(t, reqs, 2)
		require.NotContains(t, reqs[0].last, "not accepted")
		require.Contains(t, reqs[1].last, "Your previous answer was not accepted")
		require.Contains(t, reqs[1].last, "not the expected JSON")
		require.Contains(t, reqs[1].body, "The local one, I think.", "the rejected answer is part of the conversation")
		require.Equal(t, 1, resolveSteps(res)[0].Attempts, "re-asked within one attempt")
	})

	t.Run("down-past-the-window-then-handed-back", func(t *testing.T) {
		api := "e2e-ai-window"
		var mu sync.Mutex
		up := false
		modelScript(t, api, func(n int, cs []fakeAIConflict) aiReply {
			mu.Lock()
			defer mu.Unlock()
			if !up {
				return aiReply{status: http.StatusServiceUnavailable}
			}
			return aiReply{content: decideAll("local")(n, cs)}
		})
		window := 3 * time.Second
		run := startAIConflict(t, api, window)
		st := waitingFor(t, api, syncjob.WaitConflicts)
		t.Logf("waiting: %s", st.Waiting.Reason)
		require.Len(t, st.Waiting.Conflicts, 2)
		require.Contains(t, st.Waiting.Reason, "unavailable through the 3s AI retry window")
		require.Contains(t, st.Waiting.Reason, "503")
		require.Contains(t, st.Waiting.Reason, "starter resolve "+api+" --ai")
		down := len(modelRequests(api))
		require.GreaterOrEqual(t, down, 2, "retried within the window")

		out, err := starter(t, "conflicts", api)
		require.NoError(t, err, out)
		require.Contains(t, out, "starter resolve "+api+" --ai")

		mu.Lock()
		up = true
		mu.Unlock()
		out, err = starter(t, "resolve", api, "--ai", "--by", "frank")
		require.NoError(t, err, out)
		require.Contains(t, out, "handed back to the model")
		out, err = starter(t, "resolve", api, "--ai")
		require.Error(t, err, "handed back once: %s", out)

		res := jobResult(t, run)
		requireAIDecided(t, api, res)
		require.Len(t, modelRequests(api), down+1)
		steps := resolveSteps(res)
		require.Len(t, steps, 2, "the AI step ran again after the hand-back")
		require.Equal(t, syncjob.StatusCompleted, steps[1].Status)
	})
}

// TestAIMaxReasksFromTheSource: a source's aiMaxReasks (as a config file
// sets it) bounds the re-asks of a job whose input sets none: with 1, an
// answer still malformed after one re-ask goes to a person (the worker's
// default would have asked three more times).
func TestAIMaxReasksFromTheSource(t *testing.T) {
	api := "e2e-ai-source-reasks"
	modelScript(t, api, func(int, []fakeAIConflict) aiReply { return aiReply{content: "The local one, I think."} })
	one := 1
	run := startAIConflict(t, api, time.Minute, func(s *source.Source) { s.AIMaxReasks = &one })
	st := waitingFor(t, api, syncjob.WaitConflicts)
	require.Len(t, st.Waiting.Conflicts, 2)
	require.Contains(t, st.Waiting.Reason, "not the expected JSON")
	reqs := modelRequests(api)
	require.Len(t, reqs, 2, "asked, then asked again once: the source's aiMaxReasks, not the worker's %d", resolve.DefaultAIMaxReasks)
	require.Contains(t, reqs[1].last, "Your previous answer was not accepted")

	out, err := starter(t, "resolve", api, "--all", "remote", "--by", "kim")
	require.NoError(t, err, out)
	res := jobResult(t, run)
	require.Equal(t, syncjob.StatusCompleted, res.Status, res.Error)
	require.Len(t, res.Decisions, 2)
	require.Equal(t, source.StrategyManual, res.Decisions[0].Strategy)
	require.Len(t, modelRequests(api), 2, "the model was not asked again")
}

// TestAIBadKeyAsksAPersonAtOnce: a 401 is not retried: a person is asked
// at once, told why and what to do.
func TestAIBadKeyAsksAPersonAtOnce(t *testing.T) {
	api := "e2e-ai-401"
	modelScript(t, api, func(int, []fakeAIConflict) aiReply { return aiReply{status: http.StatusUnauthorized} })
	run := startAIConflict(t, api, time.Hour)
	st := waitingFor(t, api, syncjob.WaitConflicts)
	require.Contains(t, st.Waiting.Reason, "refused the key (401)")
	require.Contains(t, st.Waiting.Reason, "--ai")
	require.Len(t, modelRequests(api), 1, "not retried")
	require.Less(t, time.Since(st.StartedAt), time.Minute, "no retry window was spent")

	out, err := starter(t, "resolve", api, "--all", "remote", "--by", "jo")
	require.NoError(t, err, out)
	res := jobResult(t, run)
	require.Equal(t, syncjob.StatusCompleted, res.Status)
	require.Equal(t, source.StrategyManual, res.Decisions[0].Strategy)
}

// TestResolveNamesAPIOrJob: resolve and conflicts take the API or the job;
// an API with several waiting syncs is said so, with the jobs listed.
func TestResolveNamesAPIOrJob(t *testing.T) {
	api := "e2e-ai-two-jobs"
	srv := newSpecServer(t, petstore(t))
	src := source.Source{ID: api, URL: srv.url(), Strategy: source.StrategyManual}
	require.Equal(t, 1, syncSource(t, src).Version)
	local, remote := string(petstore(t)), string(petstore(t))
	for _, s := range summaries {
		local = strings.Replace(local, "summary: "+s.text, "summary: "+s.text+" (local edit)", 1)
		remote = strings.Replace(remote, "summary: "+s.text, "summary: "+s.text+" (upstream)", 1)
	}
	file := filepath.Join(t.TempDir(), "local.yaml")
	require.NoError(t, os.WriteFile(file, []byte(local), 0o644))
	out, err := starter(t, "push", api, file)
	require.NoError(t, err, out)
	srv.set(func(s *specServer) { s.body = []byte(remote) })

	// Two jobs of one source (one API) meet the same conflicts.
	runs := map[string]client.WorkflowRun{}
	for _, job := range []string{api + "-a", api + "-b"} {
		in := fastRetries(1)
		in.ID, in.Source = job, src
		run, err := syncjob.StartRun(t.Context(), env.client, in)
		require.NoError(t, err)
		runs[job] = run
		waitingFor(t, job, syncjob.WaitConflicts)
	}
	require.Eventually(t, func() bool {
		out, err = starter(t, "conflicts", api)
		return err == nil && strings.Contains(out, "2 syncs waiting")
	}, 30*time.Second, 100*time.Millisecond, out)
	require.Contains(t, out, api+"-a (source "+api)
	require.Contains(t, out, api+"-b (source "+api)

	out, err = starter(t, "resolve", api, "--all", "remote")
	require.Error(t, err)
	require.Contains(t, out+err.Error(), "has 2 syncs waiting for conflict decisions")
	require.Contains(t, err.Error(), api+"-a")
	require.Contains(t, err.Error(), api+"-b")

	// The job's own name picks one; conflicts JOB shows only its rows.
	var rows []struct {
		Job string `json:"job"`
	}
	out, err = starter(t, "conflicts", api+"-a", "--json")
	require.NoError(t, err, out)
	require.NoError(t, json.Unmarshal([]byte(out), &rows))
	require.Len(t, rows, 2)
	for _, r := range rows {
		require.Equal(t, api+"-a", r.Job)
	}
	out, err = starter(t, "resolve", api+"-a", "--all", "remote")
	require.NoError(t, err, out)
	require.Contains(t, out, "applied")
	res := jobResult(t, runs[api+"-a"])
	require.Equal(t, syncjob.StatusCompleted, res.Status)

	// One waiting sync left: the API names it.
	out, err = starter(t, "resolve", api, "--all", "local")
	require.NoError(t, err, out)
	require.Contains(t, out, "job "+api+"-b")
	res = jobResult(t, runs[api+"-b"])
	require.Equal(t, syncjob.StatusCompleted, res.Status)
}
