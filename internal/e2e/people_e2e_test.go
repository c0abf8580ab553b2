package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/apilivesync/apilivesync/activities"
	"github.com/apilivesync/apilivesync/internal/cli"
	"github.com/apilivesync/apilivesync/internal/resolve"
	"github.com/apilivesync/apilivesync/internal/source"
	"github.com/apilivesync/apilivesync/internal/spec"
	"github.com/apilivesync/apilivesync/internal/store"
	"github.com/apilivesync/apilivesync/workflows/syncjob"
)

// The tests of the people's side of a sync: the breaking-change gate
// (approve, reject, timeouts, block), ownership across two sources, and
// merge conflicts decided by a person (`starter conflicts`, `starter
// resolve`) or by the AI strategy against a fake OpenAI-compatible model.

const (
	fakeAIKeyEnv = "LIVESYNC_TEST_AI_KEY"
	fakeAIKey    = "test-key-for-the-fake-model"
)

// fakeAI is the model behind the ai strategy in these tests: per API, a
// function turns the conflicts of a call into the model's answer text.
var fakeAI struct {
	mu      sync.Mutex
	answers map[string]func([]fakeAIConflict) string
	calls   map[string]int
}

// fakeAIConflict is a conflict as the resolver's prompt carries it.
type fakeAIConflict struct {
	ID      string          `json:"id"`
	Pointer string          `json:"pointer"`
	Kind    string          `json:"kind"`
	Base    json.RawMessage `json:"base"`
	Local   json.RawMessage `json:"local"`
	Remote  json.RawMessage `json:"remote"`
}

// setAIAnswer makes the fake model answer calls about api with answer.
func setAIAnswer(t *testing.T, api string, answer func([]fakeAIConflict) string) {
	fakeAI.mu.Lock()
	defer fakeAI.mu.Unlock()
	if fakeAI.answers == nil {
		fakeAI.answers, fakeAI.calls = map[string]func([]fakeAIConflict) string{}, map[string]int{}
	}
	fakeAI.answers[api] = answer
	t.Cleanup(func() {
		fakeAI.mu.Lock()
		defer fakeAI.mu.Unlock()
		delete(fakeAI.answers, api)
	})
}

func aiCalls(api string) int {
	fakeAI.mu.Lock()
	defer fakeAI.mu.Unlock()
	return fakeAI.calls[api]
}

// serveFakeAI implements POST /v1/chat/completions: it reads the API and
// its conflicts from the user message and answers what the test set.
func serveFakeAI(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		http.NotFound(w, r)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+fakeAIKey {
		http.Error(w, `{"error":{"message":"bad key","type":"invalid_request_error"}}`, http.StatusUnauthorized)
		return
	}
	var req struct {
		Model    string `json:"model"`
		Messages []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
	}
	var prompt struct {
		API       string           `json:"api"`
		Conflicts []fakeAIConflict `json:"conflicts"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Messages) == 0 ||
		json.Unmarshal([]byte(req.Messages[len(req.Messages)-1].Content), &prompt) != nil {
		http.Error(w, `{"error":{"message":"unreadable request","type":"invalid_request_error"}}`, http.StatusBadRequest)
		return
	}
	fakeAI.mu.Lock()
	answer := fakeAI.answers[prompt.API]
	fakeAI.calls[prompt.API]++
	fakeAI.mu.Unlock()
	content := `{"decisions":[]}`
	if answer != nil {
		content = answer(prompt.Conflicts)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": req.Model,
		"choices": []map[string]any{{"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": content}}},
	})
}

// startJob starts a sync of src (one retry, fast) without waiting.
func startJob(t *testing.T, src source.Source) client.WorkflowRun {
	t.Helper()
	in := fastRetries(1)
	in.Source = src
	run, err := syncjob.StartRun(t.Context(), env.client, in)
	require.NoError(t, err)
	return run
}

// jobResult waits for a run's result.
func jobResult(t *testing.T, run client.WorkflowRun) *syncjob.SyncJobResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	res, err := syncjob.Result(ctx, run)
	require.NoError(t, err)
	return res
}

func syncSource(t *testing.T, src source.Source) *syncjob.SyncJobResult {
	t.Helper()
	return jobResult(t, startJob(t, src))
}

// waitingFor waits until job waits for kind and returns its status.
func waitingFor(t *testing.T, job, kind string) syncjob.Status {
	t.Helper()
	var st syncjob.Status
	require.Eventually(t, func() bool {
		v, err := env.client.QueryWorkflow(t.Context(), syncjob.SyncWorkflowID(job), "", syncjob.QueryStatus)
		if err != nil || v.Get(&st) != nil {
			return false
		}
		return st.Waiting != nil && st.Waiting.Kind == kind
	}, 30*time.Second, 20*time.Millisecond, "job %s never waited for %s", job, kind)
	return st
}

// headDoc is the API's current document, decoded.
func headDoc(t *testing.T, api string) map[string]any {
	t.Helper()
	h := head(t, api)
	require.NotNil(t, h, "api %s has a version", api)
	data, err := env.store.GetBlob(t.Context(), h.Hash)
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(data, &doc))
	return doc
}

// at reads a nested member of a decoded document: at(doc, "paths", "/pets", "get").
func at(doc any, keys ...string) any {
	for _, k := range keys {
		m, ok := doc.(map[string]any)
		if !ok {
			return nil
		}
		doc = m[k]
	}
	return doc
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "people", name))
	require.NoError(t, err)
	return b
}

func TestGateHold(t *testing.T) {
	cases := []struct {
		name string
		// decide answers the held job through the starter; nil lets the hold time out.
		decide      []string
		holdTimeout time.Duration
		onTimeout   string
		wantOut     string
		wantStored  bool
		wantMessage string
	}{
		{name: "approve", decide: []string{"approve", "--by", "alice", "--comment", "clients are ready"},
			wantOut: "approved", wantStored: true, wantMessage: "breaking changes approved by alice"},
		{name: "reject", decide: []string{"reject", "--by", "bob"},
			wantOut: "rejected", wantMessage: "rejected by bob; the last version stays current"},
		{name: "timeout-approve", holdTimeout: 2 * time.Second, onTimeout: "approve", wantStored: true,
			wantMessage: "no answer within 2s: approved by policy"},
		{name: "timeout-reject", holdTimeout: time.Second,
			wantMessage: "rejected; the last version stays current"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := "e2e-ppl-hold-" + tc.name
			srv := newSpecServer(t, petstore(t))
			src := source.Source{ID: id, URL: srv.url(), Gate: source.GateHold,
				HoldTimeout: source.Duration(tc.holdTimeout), OnHoldTimeout: tc.onTimeout}
			res := syncSource(t, src)
			require.Equal(t, 1, res.Version, "the first sync has nothing to gate")
			v1 := head(t, id)

			srv.set(func(s *specServer) { s.body = petstoreV2(t) })
			run := startJob(t, src)
			if tc.decide != nil {
				st := waitingFor(t, id, syncjob.WaitApproval)
				require.Equal(t, syncjob.StatusWaiting, st.Status)
				require.Positive(t, st.BreakingChanges)
				require.NotEmpty(t, st.Waiting.TopChanges)
				require.Contains(t, st.Waiting.Reason, "starter approve "+id)
				require.Equal(t, "reject", st.Waiting.OnTimeout)
				require.Equal(t, source.DefaultDecisionTimeout, st.Waiting.Deadline.Sub(st.Waiting.Since))

				// The job waits for approval, not for conflicts.
				_, err := starter(t, "resolve", id, "--pointer", "/info/title", "--choice", "local")
				require.ErrorContains(t, err, "this job has no open conflicts")

				out, err := starter(t, append(slices.Clone(tc.decide), id)...)
				require.NoError(t, err, out)
				require.Contains(t, out, tc.wantOut)
			}
			res = jobResult(t, run)
			require.Equal(t, syncjob.StatusCompleted, res.Status)
			require.Contains(t, res.Message, tc.wantMessage)
			h := head(t, id)
			if tc.wantStored {
				require.False(t, res.Blocked)
				require.Equal(t, 2, res.Version)
				require.Equal(t, 2, h.Number)
				require.Positive(t, h.Breaking)
				want, err := spec.Parse("petstore-v2.yaml", petstoreV2(t), spec.Options{})
				require.NoError(t, err)
				got, err := env.store.GetBlob(t.Context(), h.Hash)
				require.NoError(t, err)
				require.JSONEq(t, string(want.Canonical), string(got))
			} else {
				require.True(t, res.Blocked)
				require.Equal(t, v1.Number, h.Number, "the last version stays current")
				require.Equal(t, v1.Hash, h.Hash)
			}

			// The job is over: nothing waits for an answer any more.
			_, err := starter(t, "approve", id)
			require.Error(t, err)
			require.Contains(t, err.Error(), id)
		})
	}
}

func TestGateBlock(t *testing.T) {
	id := "e2e-ppl-block"
	srv := newSpecServer(t, petstore(t))
	src := source.Source{ID: id, URL: srv.url(), Gate: source.GateBlock}
	require.Equal(t, 1, syncSource(t, src).Version)
	v1 := head(t, id)

	srv.set(func(s *specServer) { s.body = petstoreV2(t) })
	res := syncSource(t, src)
	require.Equal(t, syncjob.StatusCompleted, res.Status)
	require.True(t, res.Blocked)
	require.Positive(t, res.BreakingChanges)
	require.Contains(t, res.Message, "breaking change(s) blocked by the gate; the last version stays current")
	require.Equal(t, v1.Number, head(t, id).Number)
	require.Equal(t, v1.Hash, head(t, id).Hash)

	// A non-breaking change passes the same gate.
	srv.set(func(s *specServer) {
		s.body = []byte(strings.Replace(string(petstore(t)), "summary: List all pets", "summary: List every pet", 1))
	})
	res = syncSource(t, src)
	require.False(t, res.Blocked)
	require.Equal(t, 2, res.Version)
}

func TestTwoSourcesFeedOneAPI(t *testing.T) {
	api := "e2e-ppl-shared"
	petsSrv := newSpecServer(t, fixture(t, "pets.yaml"))
	ownersSrv := newSpecServer(t, fixture(t, "owners.yaml"))
	pets := source.Source{ID: "e2e-ppl-shared-pets", URL: petsSrv.url(), API: api,
		Owns: source.Ownership{PathPrefixes: []string{"/pets"}, Components: []string{"schemas/Pet"}}}
	owners := source.Source{ID: "e2e-ppl-shared-owners", URL: ownersSrv.url(), API: api,
		Owns: source.Ownership{PathPrefixes: []string{"/owners"}, Components: []string{"schemas/Owner"}}}

	res := syncSource(t, pets)
	require.Equal(t, 1, res.Version, "%+v", res)
	res = syncSource(t, owners)
	require.Equal(t, 2, res.Version, "%+v", res)
	doc := headDoc(t, api)
	for _, p := range []string{"/pets", "/pets/{id}", "/owners"} {
		require.NotNil(t, at(doc, "paths", p), "path %s is in the API", p)
	}
	for _, s := range []string{"Pet", "Owner"} {
		require.NotNil(t, at(doc, "components", "schemas", s), "schema %s is in the API", s)
	}

	// A person edits a /pets operation's description.
	out, err := starter(t, "pull", api)
	require.NoError(t, err)
	var edited map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &edited), out)
	at(edited, "paths", "/pets", "get").(map[string]any)["description"] = "Every pet, with its owner's consent."
	file := filepath.Join(t.TempDir(), "edit.json")
	data, err := json.Marshal(edited)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, data, 0o644))
	out, err = starter(t, "push", api, file, "--message", "clearer description")
	require.NoError(t, err, out)
	require.Equal(t, 3, head(t, api).Number)

	// The pets source adds a path: the edit survives, and so do the owners.
	petsSrv.set(func(s *specServer) { s.body = fixture(t, "pets-photos.yaml") })
	res = syncSource(t, pets)
	require.Equal(t, 4, res.Version, "%+v", res)
	require.Zero(t, res.Conflicts)
	doc = headDoc(t, api)
	require.Equal(t, "Every pet, with its owner's consent.", at(doc, "paths", "/pets", "get", "description"))
	for _, p := range []string{"/pets", "/pets/{id}", "/pets/{id}/photos", "/owners"} {
		require.NotNil(t, at(doc, "paths", p), "path %s is in the API", p)
	}
	require.NotNil(t, at(doc, "components", "schemas", "Owner"))
	v := head(t, api)
	require.Equal(t, store.OriginSync, v.Origin)
	require.Equal(t, pets.ID, v.SourceID)
}

// summaries are the two operation summaries the conflict tests change on
// both sides.
var summaries = []struct{ pointer, text string }{
	{"/paths/~1pets/get/summary", "List all pets"},
	{"/paths/~1pets/post/summary", "Create a pet"},
}

// startConflict syncs the petstore into api with strategy, pushes a local
// edit of both summaries, changes them differently at the source (and the
// API's version, which merges cleanly), and starts the sync that meets the
// two conflicts.
func startConflict(t *testing.T, api, strategy string, opts ...func(*source.Source)) (source.Source, client.WorkflowRun) {
	t.Helper()
	srv := newSpecServer(t, petstore(t))
	src := source.Source{ID: api, URL: srv.url(), Strategy: strategy}
	for _, o := range opts {
		o(&src)
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
	require.Equal(t, 2, head(t, api).Number)

	srv.set(func(s *specServer) { s.body = []byte(remote) })
	return src, startJob(t, src)
}

func quoted(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// listConflicts runs `starter conflicts API --json` until it lists n rows.
func listConflicts(t *testing.T, api string, n int) []cli.OpenConflict {
	t.Helper()
	var rows []cli.OpenConflict
	require.Eventually(t, func() bool {
		out, err := starter(t, "conflicts", api, "--json")
		if err != nil || json.Unmarshal([]byte(out), &rows) != nil {
			return false
		}
		return len(rows) == n
	}, 30*time.Second, 100*time.Millisecond, "conflicts of %s", api)
	return rows
}

func TestManualConflicts(t *testing.T) {
	api := "e2e-ppl-manual"
	_, run := startConflict(t, api, source.StrategyManual)
	st := waitingFor(t, api, syncjob.WaitConflicts)
	require.Equal(t, syncjob.StatusWaiting, st.Status)
	require.Equal(t, syncjob.StepResolve, st.Step)
	require.Equal(t, 2, st.Conflicts)
	require.Len(t, st.Waiting.Conflicts, 2)
	require.Contains(t, st.Waiting.Reason, "starter conflicts "+api)
	require.Equal(t, "fail", st.Waiting.OnTimeout)

	// The values, as JSON and as a table.
	rows := listConflicts(t, api, 2)
	for i, s := range summaries {
		r := rows[i]
		require.Equal(t, api, r.Job)
		require.Equal(t, s.pointer, r.Pointer)
		require.Equal(t, "both-modified", r.Kind)
		require.NotEmpty(t, r.ID)
		require.JSONEq(t, quoted(s.text), string(r.Base))
		require.JSONEq(t, quoted(s.text+" (local edit of "+api+")"), string(r.Local))
		require.JSONEq(t, quoted(s.text+" (upstream of "+api+")"), string(r.Remote))
	}
	out, err := starter(t, "conflicts", api)
	require.NoError(t, err, out)
	for _, want := range []string{"POINTER", summaries[0].pointer, summaries[1].pointer, "both-modified", `"List all pets"`, "starter resolve " + api} {
		require.Contains(t, out, want)
	}
	out, err = starter(t, "conflicts", "e2e-ppl-no-such-api")
	require.NoError(t, err, out)
	require.Contains(t, out, "has no open conflicts")

	// Wrong answers are refused, with the reason, and the job keeps waiting.
	dir := t.TempDir()
	twice := filepath.Join(dir, "twice.json")
	require.NoError(t, os.WriteFile(twice, []byte(`[{"pointer":"`+summaries[0].pointer+`","choice":"local"},{"pointer":"`+summaries[0].pointer+`","choice":"remote"}]`), 0o644))
	typo := filepath.Join(dir, "typo.json")
	require.NoError(t, os.WriteFile(typo, []byte(`[{"pointer":"`+summaries[0].pointer+`","choise":"local"}]`), 0o644))
	invalid := []struct {
		name string
		args []string
		want string
		code int
	}{
		{"unknown-pointer", []string{"--pointer", "/info/nope", "--choice", "local"}, `no open conflict at "/info/nope"`, 1},
		{"bad-choice", []string{"--pointer", summaries[0].pointer, "--choice", "mine"}, `choice "mine": want remote, local, base or value`, 1},
		{"value-without-json", []string{"--pointer", summaries[0].pointer, "--choice", "value", "--value", "not json"}, "is not valid JSON", 2},
		{"value-missing", []string{"--pointer", summaries[0].pointer, "--choice", "value"}, "needs a valid JSON value", 1},
		{"twice", []string{"-f", twice}, "is resolved twice", 1},
		{"typo-in-file", []string{"-f", typo}, `unknown field "choise"`, 2},
		{"no-mode", nil, "give one of", 2},
		{"all-base", []string{"--all", "base"}, "want remote or local", 2},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			out, err := starter(t, append([]string{"resolve", api}, tc.args...)...)
			require.ErrorContains(t, err, tc.want, out)
			var exit *cli.ExitError
			require.ErrorAs(t, err, &exit)
			require.Equal(t, tc.code, exit.Code)
			require.Equal(t, syncjob.StatusWaiting, status(t, api).Status)
		})
	}
	_, err = starter(t, "approve", api)
	require.ErrorContains(t, err, "this job is not waiting for approval")

	// One decision leaves one conflict open; a file decides the other with a new value.
	out, err = starter(t, "resolve", api, "--pointer", summaries[0].pointer, "--choice", "local", "--by", "carol", "--json")
	require.NoError(t, err, out)
	var rr syncjob.ResolveResult
	require.NoError(t, json.Unmarshal([]byte(out), &rr), out)
	require.Equal(t, syncjob.ResolveResult{Remaining: 1}, rr)
	require.Equal(t, syncjob.StatusWaiting, status(t, api).Status)

	decisions := filepath.Join(dir, "decisions.json")
	require.NoError(t, os.WriteFile(decisions, []byte(`[{"pointer":"`+summaries[1].pointer+`","choice":"value","value":"Add one pet"}]`), 0o644))
	out, err = starter(t, "resolve", api, "-f", decisions, "--by", "dave")
	require.NoError(t, err, out)
	require.Contains(t, out, "applied")

	res := jobResult(t, run)
	require.Equal(t, syncjob.StatusCompleted, res.Status)
	require.Equal(t, 3, res.Version)
	require.Equal(t, 2, res.Conflicts)
	want := []syncjob.Decision{
		{Pointer: summaries[0].pointer, Choice: "local", Strategy: source.StrategyManual, Reason: "decided by carol"},
		{Pointer: summaries[1].pointer, Choice: "value", Strategy: source.StrategyManual, Reason: "decided by dave"},
	}
	require.Equal(t, want, res.Decisions)
	h := head(t, api)
	require.Equal(t, 3, h.Number)
	require.JSONEq(t, mustJSON(t, want), mustJSON(t, h.Decisions), "the version records the decisions")
	doc := headDoc(t, api)
	require.Equal(t, summaries[0].text+" (local edit of "+api+")", at(doc, "paths", "/pets", "get", "summary"))
	require.Equal(t, "Add one pet", at(doc, "paths", "/pets", "post", "summary"))
	require.Equal(t, "1.0.1", at(doc, "info", "version"), "the source's clean change is merged")

	out, err = starter(t, "conflicts", api, "--json")
	require.NoError(t, err, out)
	require.JSONEq(t, "[]", out)
}

func TestAIConflicts(t *testing.T) {
	t.Run("valid-decision", func(t *testing.T) {
		api := "e2e-ppl-ai-ok"
		setAIAnswer(t, api, func(cs []fakeAIConflict) string {
			var ds []map[string]string
			for _, c := range cs {
				ds = append(ds, map[string]string{"id": c.ID, "choice": "local", "value": "", "reason": "the hand-written summary is clearer"})
			}
			b, _ := json.Marshal(map[string]any{"decisions": ds})
			return string(b)
		})
		_, run := startConflict(t, api, source.StrategyAI)
		res := jobResult(t, run)
		require.Equal(t, syncjob.StatusCompleted, res.Status)
		require.Equal(t, 3, res.Version)
		require.Equal(t, 1, aiCalls(api))
		require.Len(t, res.Decisions, 2)
		for i, d := range res.Decisions {
			require.Equal(t, syncjob.Decision{Pointer: summaries[i].pointer, Choice: "local", Strategy: source.StrategyAI,
				Reason: "the hand-written summary is clearer"}, d)
		}
		require.JSONEq(t, mustJSON(t, res.Decisions), mustJSON(t, head(t, api).Decisions))
		doc := headDoc(t, api)
		require.Equal(t, summaries[0].text+" (local edit of "+api+")", at(doc, "paths", "/pets", "get", "summary"))
		require.Equal(t, "1.0.1", at(doc, "info", "version"))
	})

	t.Run("malformed-answer-falls-back-to-a-person", func(t *testing.T) {
		api := "e2e-ppl-ai-bad"
		setAIAnswer(t, api, func([]fakeAIConflict) string { return "I think the local one, probably." })
		_, run := startConflict(t, api, source.StrategyAI)
		st := waitingFor(t, api, syncjob.WaitConflicts)
		require.Equal(t, 1+resolve.DefaultAIMaxReasks, aiCalls(api), "asked, then asked again with the error")
		require.Len(t, st.Waiting.Conflicts, 2)
		require.Contains(t, st.Waiting.Reason, "left for a person")
		require.Contains(t, st.Waiting.Reason, "not the expected JSON")
		require.Len(t, listConflicts(t, api, 2), 2)

		out, err := starter(t, "resolve", api, "--all", "remote", "--by", "erin")
		require.NoError(t, err, out)
		require.Contains(t, out, "applied")
		res := jobResult(t, run)
		require.Equal(t, 3, res.Version)
		require.Len(t, res.Decisions, 2)
		for i, d := range res.Decisions {
			require.Equal(t, syncjob.Decision{Pointer: summaries[i].pointer, Choice: "remote", Strategy: source.StrategyManual, Reason: "decided by erin"}, d)
		}
		doc := headDoc(t, api)
		require.Equal(t, summaries[0].text+" (upstream of "+api+")", at(doc, "paths", "/pets", "get", "summary"))
	})
}

func TestConflictDeadline(t *testing.T) {
	cases := []struct {
		onTimeout string
		wantErr   string
		want      string // the GET summary stored, when one is
	}{
		{onTimeout: "fail", wantErr: "2 conflict(s) from source \"e2e-ppl-deadline-fail\" were not decided within 1s; the last version stays current"},
		{onTimeout: source.StrategyPreferLocal, want: "local edit"},
		{onTimeout: source.StrategyPreferRemote, want: "upstream"},
	}
	for _, tc := range cases {
		t.Run(tc.onTimeout, func(t *testing.T) {
			api := "e2e-ppl-deadline-" + tc.onTimeout
			_, run := startConflict(t, api, source.StrategyManual, func(s *source.Source) {
				s.ManualTimeout, s.OnManualTimeout = source.Duration(time.Second), tc.onTimeout
			})
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			res, err := syncjob.Result(ctx, run)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				require.Equal(t, syncjob.StatusFailed, res.Status)
				require.Equal(t, 2, head(t, api).Number, "the last version stays current")
				return
			}
			require.NoError(t, err)
			require.Equal(t, 3, res.Version)
			require.Contains(t, res.Message, "resolved "+tc.onTimeout+" by policy")
			require.Len(t, res.Decisions, 2)
			require.Equal(t, tc.onTimeout, res.Decisions[0].Strategy)
			require.Equal(t, "no decision within 1s", res.Decisions[0].Reason)
			require.Contains(t, at(headDoc(t, api), "paths", "/pets", "get", "summary"), tc.want)
		})
	}
}

func TestStopWhileWaiting(t *testing.T) {
	cases := []struct {
		name, kind string
		start      func(t *testing.T, id string) client.WorkflowRun
	}{
		{name: "approval", kind: syncjob.WaitApproval, start: func(t *testing.T, id string) client.WorkflowRun {
			srv := newSpecServer(t, petstore(t))
			src := source.Source{ID: id, URL: srv.url(), Gate: source.GateHold}
			require.Equal(t, 1, syncSource(t, src).Version)
			srv.set(func(s *specServer) { s.body = petstoreV2(t) })
			return startJob(t, src)
		}},
		{name: "conflicts", kind: syncjob.WaitConflicts, start: func(t *testing.T, id string) client.WorkflowRun {
			_, run := startConflict(t, id, source.StrategyManual)
			return run
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := "e2e-ppl-stop-" + tc.name
			run := tc.start(t, id)
			waitingFor(t, id, tc.kind)
			before := head(t, id)
			out, err := starter(t, "stop", id)
			require.NoError(t, err, out)
			res := jobResult(t, run)
			require.Equal(t, syncjob.StatusStopped, res.Status)
			require.Contains(t, res.Message, "stopped on request")
			require.NotContains(t, res.Message, "step "+syncjob.StepDone, "the message names the step the job stopped at")
			require.Equal(t, before.Number, head(t, id).Number, "a stopped job stores nothing")
			st := status(t, id)
			require.Equal(t, syncjob.StatusStopped, st.Status)
			require.Nil(t, st.Waiting)
		})
	}
}

// TestManyConflicts: more conflicts than a status carries
// (activities.MaxConflictsInHistory) are still listed and decided.
func TestManyConflicts(t *testing.T) {
	const n = activities.MaxConflictsInHistory + 20
	api := "e2e-ppl-many"
	withPaths := func(summary string) []byte {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "  /many/%03d:\n    get:\n      summary: %s %d\n      responses:\n        '200':\n          description: ok\n", i, summary, i)
		}
		return []byte(strings.Replace(string(petstore(t)), "paths:\n", "paths:\n"+b.String(), 1))
	}
	srv := newSpecServer(t, withPaths("original"))
	src := source.Source{ID: api, URL: srv.url(), Strategy: source.StrategyManual}
	require.Equal(t, 1, syncSource(t, src).Version)
	file := filepath.Join(t.TempDir(), "local.yaml")
	require.NoError(t, os.WriteFile(file, withPaths("local"), 0o644))
	out, err := starter(t, "push", api, file)
	require.NoError(t, err, out)
	srv.set(func(s *specServer) { s.body = withPaths("upstream") })
	run := startJob(t, src)

	st := waitingFor(t, api, syncjob.WaitConflicts)
	require.Equal(t, n, st.Conflicts)
	require.Len(t, st.Waiting.Conflicts, activities.MaxConflictsInHistory, "the status carries a bounded list")
	require.Len(t, listConflicts(t, api, n), n, "the store has them all")

	out, err = starter(t, "resolve", api, "--all", "local", "--by", "frank")
	require.NoError(t, err, out)
	require.Contains(t, out, "applied")
	res := jobResult(t, run)
	// Every conflict kept the local value and the source changed nothing
	// else: the result is the current version, so no new one is stored.
	require.Equal(t, 2, res.Version)
	require.True(t, res.NoChange)
	require.Len(t, res.Decisions, n)
	require.Equal(t, fmt.Sprintf("local %d", n-1), at(headDoc(t, api), "paths", fmt.Sprintf("/many/%03d", n-1), "get", "summary"))
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
