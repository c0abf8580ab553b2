package resolve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sashabaranov/go-openai"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// secretKey is the API key the tests put in the environment; it may appear
// in the Authorization header and nowhere else.
const secretKey = "sk-test-SECRET-7f3a9c"

// keyEnv is the environment variable the tests configure for the key.
const keyEnv = "APILIVESYNC_TEST_LLM_KEY"

// reply is what the fake server answers to one request.
type reply struct {
	status  int               // 0 means 200
	header  map[string]string // extra response headers
	content string            // the assistant message content, for a 200
	body    string            // the raw body, for an error status
	sleep   time.Duration     // wait before answering (or until the client gives up)
}

// seenRequest is one request the fake server received.
type seenRequest struct {
	header http.Header
	raw    string
	req    openai.ChatCompletionRequest
}

// fakeLLM is an httptest server speaking the chat-completions protocol.
type fakeLLM struct {
	*httptest.Server
	mu      sync.Mutex
	seen    []seenRequest
	respond func(n int, req openai.ChatCompletionRequest) reply
}

// newFakeLLM starts a server answering request n (0-based) with respond.
func newFakeLLM(t testing.TB, respond func(n int, req openai.ChatCompletionRequest) reply) *fakeLLM {
	f := &fakeLLM{respond: respond}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeLLM) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		http.Error(w, `{"error":{"message":"not found","type":"invalid_request_error"}}`, http.StatusNotFound)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req openai.ChatCompletionRequest
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, `{"error":{"message":"bad json","type":"invalid_request_error"}}`, http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	n := len(f.seen)
	f.seen = append(f.seen, seenRequest{header: r.Header.Clone(), raw: string(body), req: req})
	f.mu.Unlock()

	rep := f.respond(n, req)
	if rep.sleep > 0 {
		select {
		case <-time.After(rep.sleep):
		case <-r.Context().Done():
			return
		}
	}
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	if rep.status != 0 && rep.status != http.StatusOK {
		w.WriteHeader(rep.status)
		_, _ = io.WriteString(w, rep.body)
		return
	}
	_ = json.NewEncoder(w).Encode(openai.ChatCompletionResponse{
		ID: fmt.Sprintf("chatcmpl-%d", n), Object: "chat.completion", Created: 1700000000, Model: req.Model,
		Choices: []openai.ChatCompletionChoice{{
			Index:        0,
			Message:      openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant, Content: rep.content},
			FinishReason: openai.FinishReasonStop,
		}},
	})
}

// requests returns what the server has received so far.
func (f *fakeLLM) requests() []seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seenRequest(nil), f.seen...)
}

// answer encodes decisions as the model's answer.
func answer(decisions ...map[string]any) string {
	b, _ := json.Marshal(map[string]any{"decisions": decisions})
	return string(b)
}

// apiError is an OpenAI-style error body.
func apiError(msg, typ string) string {
	return fmt.Sprintf(`{"error":{"message":%q,"type":%q}}`, msg, typ)
}

// testResolver returns a resolver for srv with fast retries, the key in the
// environment unless noKey, and a log observer.
func testResolver(srv *fakeLLM, edit func(*AIConfig), noKey bool) (*AIResolver, *observer.ObservedLogs) {
	cfg := AIConfig{
		BaseURL:       srv.URL + "/v1",
		Model:         "test-model",
		APIKeyEnv:     keyEnv,
		Timeout:       2 * time.Second,
		MaxRetries:    2,
		Backoff:       time.Millisecond,
		MaxBackoff:    2 * time.Millisecond,
		MaxRetryAfter: 50 * time.Millisecond,
		MaxReasks:     -1,
	}
	if edit != nil {
		edit(&cfg)
	}
	env := map[string]string{"UNRELATED_TOKEN": "ghp_unrelated"}
	if !noKey {
		env[keyEnv] = secretKey
	}
	core, logs := observer.New(zapcore.DebugLevel)
	return NewAIResolver(cfg, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, zap.New(core)), logs
}

// goodAnswer decides the fixture's three conflicts: remote, local, and a new value.
func goodAnswer(cs []Conflict) string {
	return answer(
		map[string]any{"id": cs[0].ID, "choice": "remote", "value": "", "reason": "  the source raised the limit\n"},
		map[string]any{"id": cs[1].ID, "choice": "local", "value": "", "reason": "keeps the hand-written summary"},
		map[string]any{"id": cs[2].ID, "choice": "value", "value": `{"type":"string","maxLength":64, "nullable": true}`, "reason": "merge both"},
	)
}

// requireNoSecret fails if the key appears in the request body or the logs.
func requireNoSecret(t *testing.T, srv *fakeLLM, logs *observer.ObservedLogs) {
	t.Helper()
	for _, r := range srv.requests() {
		require.NotContains(t, r.raw, secretKey, "the key never goes into the prompt")
		require.NotContains(t, r.raw, "ghp_unrelated")
	}
	for _, e := range logs.All() {
		require.NotContains(t, e.Message, secretKey)
		for k, v := range e.ContextMap() {
			require.NotContains(t, fmt.Sprint(v), secretKey, "log field %s", k)
		}
	}
}

func TestAIResolveGoodAnswer(t *testing.T) {
	cs := loadConflicts(t)
	srv := newFakeLLM(t, func(int, openai.ChatCompletionRequest) reply { return reply{content: goodAnswer(cs)} })
	r, logs := testResolver(srv, func(c *AIConfig) { c.Temperature = 0.2 }, false)

	out, err := r.Resolve(t.Context(), "petstore", cs)
	require.NoError(t, err)
	require.Empty(t, out.Fallback)
	require.Empty(t, out.FallbackReason)
	require.Equal(t, "test-model", out.Model)
	require.Equal(t, 0, out.Cached)
	require.Equal(t, []Decision{
		{ID: cs[0].ID, Pointer: cs[0].Pointer, Choice: ChoiceRemote, Reason: "the source raised the limit", Strategy: StrategyAI},
		{ID: cs[1].ID, Pointer: cs[1].Pointer, Choice: ChoiceLocal, Reason: "keeps the hand-written summary", Strategy: StrategyAI},
		{ID: cs[2].ID, Pointer: cs[2].Pointer, Choice: ChoiceValue, Value: json.RawMessage(`{"type":"string","maxLength":64,"nullable":true}`),
			Reason: "merge both", Strategy: StrategyAI},
	}, out.Decisions)
	require.NoError(t, validateDecisions(cs, out.Decisions))

	reqs := srv.requests()
	require.Len(t, reqs, 1)
	got := reqs[0]
	require.Equal(t, "Bearer "+secretKey, got.header.Get("Authorization"))
	require.Equal(t, "test-model", got.req.Model)
	require.InDelta(t, 0.2, got.req.Temperature, 1e-6)
	require.NotNil(t, got.req.ResponseFormat)
	require.Equal(t, openai.ChatCompletionResponseFormatTypeJSONSchema, got.req.ResponseFormat.Type)
	require.True(t, got.req.ResponseFormat.JSONSchema.Strict)
	schema, err := json.Marshal(got.req.ResponseFormat.JSONSchema.Schema)
	require.NoError(t, err)
	for _, c := range cs {
		require.Contains(t, string(schema), c.ID, "the schema pins the conflict ids")
	}

	require.Len(t, got.req.Messages, 2)
	require.Equal(t, openai.ChatMessageRoleSystem, got.req.Messages[0].Role)
	var body promptBody
	require.NoError(t, json.Unmarshal([]byte(got.req.Messages[1].Content), &body))
	require.Equal(t, "petstore", body.API)
	require.Len(t, body.Conflicts, 3)
	byPointer := map[string]promptConflict{}
	for _, p := range body.Conflicts {
		byPointer[p.Pointer] = p
	}
	for _, c := range cs {
		p, ok := byPointer[c.Pointer]
		require.True(t, ok, "prompt carries pointer %s", c.Pointer)
		require.Equal(t, c.ID, p.ID)
		require.Equal(t, c.Context, p.Context)
		require.JSONEq(t, string(c.Base), string(p.Base))
		require.JSONEq(t, string(c.Local), string(p.Local))
		if c.Remote == nil {
			require.Nil(t, p.Remote, "an absent side stays absent")
		} else {
			require.JSONEq(t, string(c.Remote), string(p.Remote))
		}
	}
	require.Contains(t, got.raw, `List all pets in the store`)
	requireNoSecret(t, srv, logs)
}

func TestAIResolveRejectsBadAnswers(t *testing.T) {
	cs := loadConflicts(t)
	tests := []struct {
		name    string
		content string
		// wantDecided are the indexes of conflicts that keep a decision; the
		// rest fall back with a reason containing wantReason[index].
		wantDecided []int
		wantReason  map[int]string
	}{
		{
			name:       "malformed JSON",
			content:    `{"decisions": [{"id": "` + cs[0].ID + `", "choice": "remote"`,
			wantReason: map[int]string{0: "not the expected JSON", 1: "not the expected JSON", 2: "not the expected JSON"},
		},
		{
			name:       "not an object with decisions",
			content:    `["remote","local"]`,
			wantReason: map[int]string{0: "not the expected JSON", 1: "not the expected JSON", 2: "not the expected JSON"},
		},
		{
			name: "other ids and pointers",
			content: answer(
				map[string]any{"id": "0000deadbeef", "pointer": "/info/title", "choice": "value", "value": `"pwned"`, "reason": "x"},
				map[string]any{"id": cs[0].ID, "pointer": "/servers/0/url", "choice": "remote", "value": "", "reason": "x"},
				map[string]any{"id": cs[1].ID, "pointer": cs[1].Pointer, "choice": "local", "value": "", "reason": "ok"},
				map[string]any{"id": cs[2].ID, "choice": "base", "value": "", "reason": "ok"},
			),
			wantDecided: []int{1, 2},
			wantReason:  map[int]string{0: `pointer "/servers/0/url"`},
		},
		{
			name: "choice outside the set",
			content: answer(
				map[string]any{"id": cs[0].ID, "choice": "merge", "value": "", "reason": "x"},
				map[string]any{"id": cs[1].ID, "choice": "remote", "value": "", "reason": "ok"},
				map[string]any{"id": cs[2].ID, "choice": "local", "value": "", "reason": "ok"},
			),
			wantDecided: []int{1, 2},
			wantReason:  map[int]string{0: `chose "merge"`},
		},
		{
			name: "invalid or missing values, a duplicate and an omission",
			content: answer(
				map[string]any{"id": cs[0].ID, "choice": "value", "value": `{"maximum": `, "reason": "x"},
				map[string]any{"id": cs[1].ID, "choice": "value", "value": "", "reason": "x"},
				map[string]any{"id": cs[1].ID, "choice": "local", "value": "", "reason": "x"},
			),
			wantReason: map[int]string{0: "not valid JSON", 1: "without a value", 2: "no decision"},
		},
		{
			name: "duplicate decisions",
			content: answer(
				map[string]any{"id": cs[0].ID, "choice": "remote", "value": "", "reason": "x"},
				map[string]any{"id": cs[0].ID, "choice": "local", "value": "", "reason": "x"},
				map[string]any{"id": cs[1].ID, "choice": "local", "value": "", "reason": "x"},
				map[string]any{"id": cs[2].ID, "choice": "remote", "value": "", "reason": "x"},
			),
			wantDecided: []int{1, 2},
			wantReason:  map[int]string{0: "more than once"},
		},
		{
			name: "bare JSON value and a code fence from a lenient server",
			content: "```json\n" + answer(
				map[string]any{"id": cs[0].ID, "choice": "value", "value": 150, "reason": "between"},
				map[string]any{"id": cs[1].ID, "choice": "remote", "reason": "x"},
				map[string]any{"id": cs[2].ID, "choice": "local", "reason": "x"},
			) + "\n```",
			wantDecided: []int{0, 1, 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeLLM(t, func(int, openai.ChatCompletionRequest) reply { return reply{content: tt.content} })
			r, logs := testResolver(srv, nil, false)
			out, err := r.Resolve(t.Context(), "petstore", cs)
			require.NoError(t, err)
			require.Len(t, srv.requests(), 1, "a bad answer is not retried")

			decided := map[string]Decision{}
			for _, d := range out.Decisions {
				decided[d.ID] = d
			}
			var wantFallback []Conflict
			for i, c := range cs {
				if contains(tt.wantDecided, i) {
					require.Contains(t, decided, c.ID, "conflict %d decided", i)
					continue
				}
				require.NotContains(t, decided, c.ID, "conflict %d not decided", i)
				wantFallback = append(wantFallback, c)
				require.Contains(t, out.FallbackReasons[c.ID], tt.wantReason[i], "conflict %d", i)
				require.Contains(t, out.FallbackReason, tt.wantReason[i])
			}
			require.Equal(t, wantFallback, out.Fallback)
			require.Len(t, out.Decisions, len(tt.wantDecided), "nothing beyond the conflicts is decided")
			for _, d := range out.Decisions {
				require.Equal(t, StrategyAI, d.Strategy)
			}
			if len(out.Fallback) > 0 {
				require.Error(t, validateDecisions(cs, out.Decisions), "fallbacks are still to decide")
			}
			requireNoSecret(t, srv, logs)
		})
	}
}

// firstThen answers the first request with first and the others with then.
func firstThen(first, then reply) func(int) reply {
	return func(n int) reply {
		if n == 0 {
			return first
		}
		return then
	}
}

// contains reports whether xs holds x.
func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func TestAIResolveTransportFailures(t *testing.T) {
	cs := loadConflicts(t)
	rateLimited := reply{status: http.StatusTooManyRequests, header: map[string]string{"Retry-After": "0"},
		body: apiError("Rate limit reached for requests", "requests")}
	tests := []struct {
		name         string
		edit         func(*AIConfig)
		respond      func(n int) reply
		wantRequests int
		wantDecided  bool
		wantReason   string
	}{
		{
			name:         "429 then success",
			respond:      firstThen(rateLimited, reply{content: goodAnswer(cs)}),
			wantRequests: 2, wantDecided: true,
		},
		{
			name: "429 with a short retry-after-ms then success",
			respond: func(n int) reply {
				if n == 0 {
					return reply{status: 429, header: map[string]string{"Retry-After-Ms": "5"}, body: apiError("slow down", "requests")}
				}
				return reply{content: goodAnswer(cs)}
			},
			wantRequests: 2, wantDecided: true,
		},
		{
			name:         "429 forever",
			respond:      func(int) reply { return rateLimited },
			wantRequests: 3, wantReason: "429",
		},
		{
			name: "429 asking to wait past the bound",
			respond: func(int) reply {
				return reply{status: 429, header: map[string]string{"Retry-After": "3600"}, body: apiError("quota", "requests")}
			},
			wantRequests: 1, wantReason: "server asked to wait 1h0m0s",
		},
		{
			name:         "500 every time",
			respond:      func(int) reply { return reply{status: 500, body: "upstream exploded"} },
			wantRequests: 3, wantReason: "500",
		},
		{
			name:         "502 then success",
			respond:      firstThen(reply{status: 502, body: "bad gateway"}, reply{content: goodAnswer(cs)}),
			wantRequests: 2, wantDecided: true,
		},
		{
			name:    "timeout",
			edit:    func(c *AIConfig) { c.Timeout = 50 * time.Millisecond; c.MaxRetries = 1 },
			respond: func(int) reply { return reply{sleep: 10 * time.Second, content: goodAnswer(cs)} },
			// Under load a timed-out attempt may never reach the handler, so
			// the attempts are counted by the client, not the server.
			wantRequests: -1, wantReason: "failed after 2 attempt(s): Post",
		},
		{
			name: "401 is not retried",
			respond: func(int) reply {
				return reply{status: 401, body: apiError("Incorrect API key provided: "+secretKey, "invalid_request_error")}
			},
			wantRequests: 1, wantReason: "401",
		},
		{
			name:         "no choices",
			respond:      func(int) reply { return reply{status: 200, content: ""} },
			wantRequests: 1, wantReason: "not the expected JSON",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeLLM(t, func(n int, _ openai.ChatCompletionRequest) reply { return tt.respond(n) })
			r, logs := testResolver(srv, tt.edit, false)
			out, err := r.Resolve(t.Context(), "petstore", cs)
			require.NoError(t, err)
			if tt.wantRequests >= 0 {
				require.Len(t, srv.requests(), tt.wantRequests, "fallback: %s", out.FallbackReason)
			}
			if tt.wantDecided {
				require.Empty(t, out.Fallback)
				require.NoError(t, validateDecisions(cs, out.Decisions))
				return
			}
			require.Empty(t, out.Decisions, "a failed call decides nothing")
			require.Equal(t, cs, out.Fallback)
			require.Contains(t, out.FallbackReason, tt.wantReason)
			require.NotContains(t, out.FallbackReason, secretKey)
			for _, c := range cs {
				require.Contains(t, out.FallbackReasons[c.ID], tt.wantReason)
			}
			if tt.name == "timeout" {
				require.Contains(t, out.FallbackReason, "deadline exceeded")
			}
			requireNoSecret(t, srv, logs)
		})
	}
}

func TestAIResolveNoKey(t *testing.T) {
	cs := loadConflicts(t)
	srv := newFakeLLM(t, func(int, openai.ChatCompletionRequest) reply { return reply{content: goodAnswer(cs)} })
	r, _ := testResolver(srv, nil, true)
	require.ErrorIs(t, r.Ready(), ErrNoAPIKey)
	require.ErrorContains(t, r.Ready(), keyEnv)

	out, err := r.Resolve(t.Context(), "petstore", cs)
	require.NoError(t, err)
	require.Empty(t, srv.requests(), "no key, no call")
	require.Empty(t, out.Decisions)
	require.Equal(t, cs, out.Fallback)
	require.Contains(t, out.FallbackReason, keyEnv)
	require.Contains(t, out.FallbackReason, ErrNoAPIKey.Error())
}

func TestAIResolveCache(t *testing.T) {
	cs := loadConflicts(t)
	srv := newFakeLLM(t, func(int, openai.ChatCompletionRequest) reply { return reply{content: goodAnswer(cs)} })
	r, _ := testResolver(srv, nil, false)

	first, err := r.Resolve(t.Context(), "petstore", cs)
	require.NoError(t, err)
	require.Len(t, srv.requests(), 1)

	second, err := r.Resolve(t.Context(), "petstore", cs)
	require.NoError(t, err)
	require.Len(t, srv.requests(), 1, "identical conflicts make no second call")
	require.Equal(t, 3, second.Cached)
	require.Equal(t, first.Decisions, second.Decisions)

	// A new conflict beside cached ones: only the new one is sent.
	extra := Conflict{Pointer: "/info/version", Kind: "both-changed", Base: json.RawMessage(`"1.0"`), Local: json.RawMessage(`"1.1"`), Remote: json.RawMessage(`"2.0"`)}
	extra.ID = conflictID(extra)
	srv.respond = func(int, openai.ChatCompletionRequest) reply {
		return reply{content: answer(map[string]any{"id": extra.ID, "choice": "remote", "value": "", "reason": "newer"})}
	}
	third, err := r.Resolve(t.Context(), "petstore", append(cs, extra))
	require.NoError(t, err)
	reqs := srv.requests()
	require.Len(t, reqs, 2)
	require.Contains(t, reqs[1].raw, "/info/version")
	require.NotContains(t, reqs[1].raw, cs[0].ID, "cached conflicts are not sent again")
	require.Equal(t, 3, third.Cached)
	require.NoError(t, validateDecisions(append(cs, extra), third.Decisions))

	// Another model does not share the cache's answers.
	r2 := NewAIResolver(AIConfig{BaseURL: srv.URL + "/v1", Model: "other-model", APIKeyEnv: keyEnv},
		func(string) (string, bool) { return secretKey, true }, nil).WithCache(r.cache)
	_, err = r2.Resolve(t.Context(), "petstore", cs[:1])
	require.NoError(t, err)
	require.Len(t, srv.requests(), 3)
}

func TestAIResolveJSONObjectServer(t *testing.T) {
	cs := loadConflicts(t)
	srv := newFakeLLM(t, func(_ int, req openai.ChatCompletionRequest) reply {
		if req.ResponseFormat != nil && req.ResponseFormat.Type == openai.ChatCompletionResponseFormatTypeJSONSchema {
			return reply{status: 400, body: apiError("response_format json_schema is not supported by this server", "invalid_request_error")}
		}
		return reply{content: goodAnswer(cs)}
	})
	r, _ := testResolver(srv, func(c *AIConfig) { c.CacheEntries = -1 }, false)

	out, err := r.Resolve(t.Context(), "petstore", cs)
	require.NoError(t, err)
	require.Empty(t, out.Fallback)
	require.Len(t, out.Decisions, 3)
	reqs := srv.requests()
	require.Len(t, reqs, 2)
	require.Equal(t, openai.ChatCompletionResponseFormatTypeJSONObject, reqs[1].req.ResponseFormat.Type)

	_, err = r.Resolve(t.Context(), "petstore", cs)
	require.NoError(t, err)
	reqs = srv.requests()
	require.Len(t, reqs, 3, "the resolver remembers the server knows no schemas (and caching is off)")
	require.Equal(t, openai.ChatCompletionResponseFormatTypeJSONObject, reqs[2].req.ResponseFormat.Type)
}

func TestAIResolveChunks(t *testing.T) {
	cs := loadConflicts(t)
	srv := newFakeLLM(t, func(_ int, req openai.ChatCompletionRequest) reply {
		// Fail the call that carries the third conflict; answer the other.
		if strings.Contains(req.Messages[1].Content, cs[2].ID) {
			return reply{status: 503, body: "overloaded"}
		}
		return reply{content: goodAnswer(cs)}
	})
	r, _ := testResolver(srv, func(c *AIConfig) { c.MaxConflictsPerCall = 2; c.MaxRetries = -1 }, false)
	out, err := r.Resolve(t.Context(), "petstore", cs)
	require.NoError(t, err)
	require.Len(t, srv.requests(), 2)
	require.Equal(t, []Conflict{cs[2]}, out.Fallback)
	require.Contains(t, out.FallbackReason, "1 of 3")
	require.Contains(t, out.FallbackReason, "503")
	require.Len(t, out.Decisions, 2)
	require.Equal(t, cs[0].ID, out.Decisions[0].ID)
	require.Equal(t, cs[1].ID, out.Decisions[1].ID)
}

func TestAIResolveTruncatedValue(t *testing.T) {
	big := map[string]string{}
	for i := range 200 {
		big[fmt.Sprintf("x-field-%03d", i)] = strings.Repeat("v", 40)
	}
	bigJSON, err := json.Marshal(big)
	require.NoError(t, err)
	c := Conflict{Pointer: "/components/schemas/Big", Kind: "both-changed", Local: bigJSON, Remote: json.RawMessage(`{"type":"object"}`), Context: strings.Repeat("ctx ", 500)}
	c.ID = conflictID(c)

	srv := newFakeLLM(t, func(int, openai.ChatCompletionRequest) reply {
		return reply{content: answer(map[string]any{"id": c.ID, "choice": "value", "value": `{"type":"object"}`, "reason": "x"})}
	})
	r, _ := testResolver(srv, func(cfg *AIConfig) { cfg.MaxValueBytes = 512 }, false)
	out, err := r.Resolve(t.Context(), "big", []Conflict{c})
	require.NoError(t, err)
	require.Equal(t, []Conflict{c}, out.Fallback)
	require.Contains(t, out.FallbackReasons[c.ID], "truncated")

	user := srv.requests()[0].req.Messages[1].Content
	require.Less(t, len(user), 512+1024, "the prompt is bounded whatever the value's size")
	var body promptBody
	require.NoError(t, json.Unmarshal([]byte(user), &body))
	require.Nil(t, body.Conflicts[0].Local)
	require.Contains(t, body.Conflicts[0].LocalTruncated, fmt.Sprintf("of %d bytes", len(bigJSON)))
	require.LessOrEqual(t, len([]rune(body.Conflicts[0].Context)), maxContextRunes)
}

func TestAIResolveInvalidInput(t *testing.T) {
	srv := newFakeLLM(t, func(int, openai.ChatCompletionRequest) reply { return reply{content: `{}`} })
	r, _ := testResolver(srv, nil, false)
	tests := []struct {
		name      string
		conflicts []Conflict
		want      string
	}{
		{name: "missing id", conflicts: []Conflict{{Pointer: "/a"}}, want: "no id"},
		{name: "duplicate id", conflicts: []Conflict{{ID: "x", Pointer: "/a"}, {ID: "x", Pointer: "/b"}}, want: "share this id"},
		{name: "invalid value", conflicts: []Conflict{{ID: "x", Pointer: "/a", Local: json.RawMessage(`{`)}}, want: "local value is not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Resolve(t.Context(), "petstore", tt.conflicts)
			require.ErrorContains(t, err, tt.want)
			require.ErrorContains(t, err, `"petstore"`)
			var de *DecisionError
			require.True(t, errors.As(err, &de))
		})
	}
	require.Empty(t, srv.requests())
}

func TestAIResolveCanceled(t *testing.T) {
	cs := loadConflicts(t)
	ctx, cancel := context.WithCancel(t.Context())
	srv := newFakeLLM(t, func(int, openai.ChatCompletionRequest) reply {
		cancel()
		return reply{sleep: 10 * time.Second}
	})
	r, _ := testResolver(srv, nil, false)
	out, err := r.Resolve(ctx, "petstore", cs)
	require.ErrorIs(t, err, context.Canceled)
	require.Nil(t, out)
	require.Len(t, srv.requests(), 1, "no retries once the caller gave up")
}

func TestAIResolveNoConflicts(t *testing.T) {
	srv := newFakeLLM(t, func(int, openai.ChatCompletionRequest) reply { return reply{content: `{}`} })
	r, _ := testResolver(srv, nil, false)
	out, err := r.Resolve(t.Context(), "petstore", nil)
	require.NoError(t, err)
	require.Empty(t, out.Decisions)
	require.Empty(t, out.Fallback)
	require.Empty(t, srv.requests())
}
