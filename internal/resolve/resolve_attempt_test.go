package resolve

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/sashabaranov/go-openai"
	"github.com/stretchr/testify/require"
)

// TestAIResolveAttemptTransient: a durable attempt asks once and hands
// failures that may pass to its caller (Temporal) with the server's hint.
func TestAIResolveAttemptTransient(t *testing.T) {
	cs := loadConflicts(t)
	tests := []struct {
		name           string
		respond        reply
		wantStatus     int
		wantRetryAfter time.Duration
	}{
		{name: "500", respond: reply{status: 500, body: "upstream exploded"}, wantStatus: 500},
		{name: "503", respond: reply{status: 503, body: "overloaded"}, wantStatus: 503},
		{name: "429 with Retry-After", respond: reply{status: 429, header: map[string]string{"Retry-After": "7"},
			body: apiError("Rate limit reached", "requests")}, wantStatus: 429, wantRetryAfter: 7 * time.Second},
		{name: "429 with retry-after-ms past the in-process bound", respond: reply{status: 429, header: map[string]string{"Retry-After-Ms": "90000"},
			body: apiError("quota", "requests")}, wantStatus: 429, wantRetryAfter: 90 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeLLM(t, func(int, openai.ChatCompletionRequest) reply { return tt.respond })
			r, logs := testResolver(srv, nil, false)
			out, err := r.ResolveAttempt(t.Context(), "petstore", cs, AttemptOptions{})
			require.Nil(t, out)
			var te *TransientError
			require.ErrorAs(t, err, &te)
			require.Equal(t, "petstore", te.API)
			require.Equal(t, tt.wantStatus, te.StatusCode)
			require.Equal(t, tt.wantRetryAfter, te.RetryAfter)
			require.Contains(t, err.Error(), `api "petstore"`)
			require.Len(t, srv.requests(), 1, "no retry in process: Temporal retries")
			requireNoSecret(t, srv, logs)
		})
	}

	t.Run("connection refused", func(t *testing.T) {
		srv := newFakeLLM(t, func(int, openai.ChatCompletionRequest) reply { return reply{content: goodAnswer(cs)} })
		r, _ := testResolver(srv, nil, false)
		srv.Close()
		_, err := r.ResolveAttempt(t.Context(), "petstore", cs, AttemptOptions{})
		var te *TransientError
		require.ErrorAs(t, err, &te)
		require.Zero(t, te.StatusCode)
		require.Contains(t, err.Error(), "could not be reached")
	})

	t.Run("timeout", func(t *testing.T) {
		srv := newFakeLLM(t, func(int, openai.ChatCompletionRequest) reply {
			return reply{sleep: 5 * time.Second, content: goodAnswer(cs)}
		})
		r, _ := testResolver(srv, func(c *AIConfig) { c.Timeout = 50 * time.Millisecond }, false)
		_, err := r.ResolveAttempt(t.Context(), "petstore", cs, AttemptOptions{})
		var te *TransientError
		require.ErrorAs(t, err, &te)
		require.Contains(t, err.Error(), "deadline exceeded")
	})

	t.Run("decisions of an earlier chunk are kept for the next attempt", func(t *testing.T) {
		srv := newFakeLLM(t, func(n int, req openai.ChatCompletionRequest) reply {
			if n == 1 {
				return reply{status: 502, body: "bad gateway"}
			}
			var body promptBody
			_ = json.Unmarshal([]byte(req.Messages[len(req.Messages)-1].Content), &body)
			var ds []map[string]any
			for _, p := range body.Conflicts {
				ds = append(ds, map[string]any{"id": p.ID, "choice": "local", "value": "", "reason": "ok"})
			}
			return reply{content: answer(ds...)}
		})
		r, _ := testResolver(srv, func(c *AIConfig) { c.MaxConflictsPerCall = 2 }, false)
		_, err := r.ResolveAttempt(t.Context(), "petstore", cs, AttemptOptions{})
		var te *TransientError
		require.ErrorAs(t, err, &te)
		out, err := r.ResolveAttempt(t.Context(), "petstore", cs, AttemptOptions{})
		require.NoError(t, err)
		require.Empty(t, out.Fallback)
		require.Equal(t, 2, out.Cached)
		require.Len(t, srv.requests(), 3)
	})
}

// TestAIResolveAttemptPermanent: failures asking again cannot fix go to a
// person at once, with a reason that says what to do.
func TestAIResolveAttemptPermanent(t *testing.T) {
	cs := loadConflicts(t)
	for _, tt := range []struct {
		status int
		want   string
	}{
		{401, "refused the key (401)"},
		{403, "refused the key (403)"},
		{400, "rejected the request (400)"},
	} {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			srv := newFakeLLM(t, func(int, openai.ChatCompletionRequest) reply {
				return reply{status: tt.status, body: apiError("no: "+secretKey, "invalid_request_error")}
			})
			r, logs := testResolver(srv, nil, false)
			out, err := r.ResolveAttempt(t.Context(), "petstore", cs, AttemptOptions{})
			require.NoError(t, err)
			require.Empty(t, out.Decisions)
			require.Equal(t, cs, out.Fallback)
			require.Contains(t, out.FallbackReason, tt.want)
			require.NotContains(t, out.FallbackReason, secretKey)
			require.Len(t, srv.requests(), 1)
			requireNoSecret(t, srv, logs)
		})
	}
}

// TestAIResolveReask: a malformed or invalid answer is asked again with
// what was wrong, about the conflicts still undecided only.
func TestAIResolveReask(t *testing.T) {
	cs := loadConflicts(t)

	t.Run("malformed then valid", func(t *testing.T) {
		srv := newFakeLLM(t, func(n int, _ openai.ChatCompletionRequest) reply {
			if n == 0 {
				return reply{content: "I would keep the local one."}
			}
			return reply{content: goodAnswer(cs)}
		})
		r, _ := testResolver(srv, nil, false)
		out, err := r.ResolveAttempt(t.Context(), "petstore", cs, AttemptOptions{MaxReasks: 3})
		require.NoError(t, err)
		require.Empty(t, out.Fallback)
		require.Len(t, out.Decisions, 3)
		reqs := srv.requests()
		require.Len(t, reqs, 2)
		msgs := reqs[1].req.Messages
		require.Len(t, msgs, 4, "system, conflicts, the bad answer, the re-ask")
		require.Equal(t, openai.ChatMessageRoleAssistant, msgs[2].Role)
		require.Equal(t, "I would keep the local one.", msgs[2].Content)
		var body reaskBody
		require.NoError(t, json.Unmarshal([]byte(msgs[3].Content), &body))
		require.Contains(t, body.Rejected, "not the expected JSON")
		require.Len(t, body.Conflicts, 3)
		require.Equal(t, "petstore", body.API)
	})

	t.Run("one invalid decision is asked again alone", func(t *testing.T) {
		srv := newFakeLLM(t, func(n int, _ openai.ChatCompletionRequest) reply {
			if n == 0 {
				return reply{content: answer(
					map[string]any{"id": cs[0].ID, "choice": "merge", "value": "", "reason": "x"},
					map[string]any{"id": cs[1].ID, "choice": "local", "value": "", "reason": "ok"},
					map[string]any{"id": cs[2].ID, "choice": "remote", "value": "", "reason": "ok"},
				)}
			}
			return reply{content: answer(map[string]any{"id": cs[0].ID, "choice": "remote", "value": "", "reason": "fixed"})}
		})
		r, _ := testResolver(srv, nil, false)
		out, err := r.ResolveAttempt(t.Context(), "petstore", cs, AttemptOptions{MaxReasks: 3})
		require.NoError(t, err)
		require.Empty(t, out.Fallback)
		require.Equal(t, []string{ChoiceRemote, ChoiceLocal, ChoiceRemote},
			[]string{out.Decisions[0].Choice, out.Decisions[1].Choice, out.Decisions[2].Choice})
		reqs := srv.requests()
		require.Len(t, reqs, 2)
		var body reaskBody
		msgs := reqs[1].req.Messages
		require.NoError(t, json.Unmarshal([]byte(msgs[len(msgs)-1].Content), &body))
		require.Len(t, body.Conflicts, 1)
		require.Equal(t, cs[0].ID, body.Conflicts[0].ID)
		require.Contains(t, body.Rejected, `chose "merge"`)
		schema, err := json.Marshal(reqs[1].req.ResponseFormat.JSONSchema.Schema)
		require.NoError(t, err)
		require.NotContains(t, string(schema), cs[1].ID, "the schema asks only for the conflict still open")
	})

	t.Run("still malformed after the re-asks", func(t *testing.T) {
		srv := newFakeLLM(t, func(int, openai.ChatCompletionRequest) reply { return reply{content: "no idea"} })
		r, _ := testResolver(srv, nil, false)
		out, err := r.ResolveAttempt(t.Context(), "petstore", cs, AttemptOptions{MaxReasks: 2})
		require.NoError(t, err)
		require.Equal(t, cs, out.Fallback)
		require.Contains(t, out.FallbackReason, "not the expected JSON")
		require.Len(t, srv.requests(), 3, "asked once and again twice")
	})

	t.Run("Resolve re-asks by default too", func(t *testing.T) {
		srv := newFakeLLM(t, func(int, openai.ChatCompletionRequest) reply { return reply{content: "no idea"} })
		r, _ := testResolver(srv, func(c *AIConfig) { c.MaxReasks = 0 }, false)
		out, err := r.Resolve(t.Context(), "petstore", cs)
		require.NoError(t, err)
		require.Len(t, out.Fallback, 3)
		require.Len(t, srv.requests(), 1+DefaultAIMaxReasks)
	})
}

// TestTransientErrorText: the message names the API, the status and the hint.
func TestTransientErrorText(t *testing.T) {
	err := &TransientError{API: "pets", StatusCode: 429, RetryAfter: 2 * time.Second, Err: errors.New("slow down")}
	require.Equal(t, `AI conflict resolution for api "pets": the model answered 429 Too Many Requests (retry after 2s): slow down`, err.Error())
}

// TestAIResolveAttemptCheck: decisions that are each valid but together make
// an invalid document are sent back with the problem, past the cache.
func TestAIResolveAttemptCheck(t *testing.T) {
	cs := loadConflicts(t)
	srv := newFakeLLM(t, func(n int, _ openai.ChatCompletionRequest) reply { return reply{content: goodAnswer(cs)} })
	r, _ := testResolver(srv, nil, false)
	checks := 0
	check := func(ds []Decision) (string, error) {
		checks++
		require.Len(t, ds, 3)
		if checks == 1 {
			return `paths./pets.get: "summary" must be a string`, nil
		}
		return "", nil
	}
	out, err := r.ResolveAttempt(t.Context(), "petstore", cs, AttemptOptions{MaxReasks: 1, Check: check})
	require.NoError(t, err)
	require.Empty(t, out.Fallback)
	require.Zero(t, out.Cached, "the rejected decisions are not taken from the cache")
	reqs := srv.requests()
	require.Len(t, reqs, 2)
	require.Len(t, reqs[1].req.Messages, 2, "a fresh question with what was wrong")
	var body reaskBody
	require.NoError(t, json.Unmarshal([]byte(reqs[1].req.Messages[1].Content), &body))
	require.Contains(t, body.Rejected, `do not make a valid document: paths./pets.get: "summary" must be a string`)
	require.Len(t, body.Conflicts, 3)

	t.Run("still invalid after the re-asks", func(t *testing.T) {
		srv := newFakeLLM(t, func(int, openai.ChatCompletionRequest) reply { return reply{content: goodAnswer(cs)} })
		r, _ := testResolver(srv, nil, false)
		out, err := r.ResolveAttempt(t.Context(), "petstore", cs, AttemptOptions{MaxReasks: 2,
			Check: func([]Decision) (string, error) { return "broken $ref", nil }})
		require.NoError(t, err)
		require.Equal(t, cs, out.Fallback)
		require.Empty(t, out.Decisions)
		require.Contains(t, out.FallbackReason, "broken $ref")
		require.Len(t, srv.requests(), 3)
	})

	t.Run("a failing check ends the attempt", func(t *testing.T) {
		srv := newFakeLLM(t, func(int, openai.ChatCompletionRequest) reply { return reply{content: goodAnswer(cs)} })
		r, _ := testResolver(srv, nil, false)
		boom := errors.New("store unavailable")
		_, err := r.ResolveAttempt(t.Context(), "petstore", cs, AttemptOptions{Check: func([]Decision) (string, error) { return "", boom }})
		require.ErrorIs(t, err, boom)
	})
}
