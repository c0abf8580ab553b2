package resolve

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestBuildMessagesDeterministic(t *testing.T) {
	cs := loadConflicts(t)
	prompts := func(order []int) string {
		var ps []promptConflict
		for _, i := range order {
			ps = append(ps, toPrompt(cs[i], DefaultMaxValueBytes))
		}
		msgs, err := buildMessages("petstore", ps)
		require.NoError(t, err)
		require.Len(t, msgs, 2)
		require.Equal(t, systemPrompt, msgs[0].content)
		return msgs[1].content
	}
	a := prompts([]int{0, 1, 2})
	require.Equal(t, a, prompts([]int{2, 0, 1}), "input order does not change the prompt")
	require.Equal(t, a, prompts([]int{0, 1, 2}))

	// Reformatted values give the same prompt.
	cs[0].Local = json.RawMessage("  50\n")
	require.Equal(t, a, prompts([]int{0, 1, 2}))
}

func TestBoundValue(t *testing.T) {
	tests := []struct {
		name          string
		raw           string
		max           int
		wantRaw       string
		wantTruncated string
	}{
		{name: "absent", raw: "", max: 10},
		{name: "fits after compaction", raw: "{ \"a\" : 1 }", max: 7, wantRaw: `{"a":1}`},
		{name: "too long", raw: `{"a":"bcdefgh"}`, max: 6, wantTruncated: `{"a":"… (6 of 15 bytes)`},
		{name: "cut on a rune boundary", raw: `"ééé"`, max: 4, wantTruncated: `"é… (3 of 8 bytes)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, truncated := boundValue(json.RawMessage(tt.raw), tt.max)
			require.Equal(t, tt.wantRaw, string(raw))
			require.Equal(t, tt.wantTruncated, truncated)
		})
	}
}

func TestChunkConflicts(t *testing.T) {
	var ps []promptConflict
	for i := range 5 {
		ps = append(ps, promptConflict{ID: fmt.Sprint(i), Pointer: "/p", Local: json.RawMessage(`"` + strings.Repeat("x", 100) + `"`)})
	}
	one := promptSize(ps[0])
	tests := []struct {
		name            string
		maxCount, bytes int
		want            []int
	}{
		{name: "by count", maxCount: 2, bytes: 1 << 20, want: []int{2, 2, 1}},
		{name: "by size", maxCount: 10, bytes: 3 * one, want: []int{3, 2}},
		{name: "oversized conflict alone", maxCount: 10, bytes: one / 2, want: []int{1, 1, 1, 1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sizes []int
			var ids []string
			for _, c := range chunkConflicts(ps, tt.maxCount, tt.bytes) {
				sizes = append(sizes, len(c))
				for _, p := range c {
					ids = append(ids, p.ID)
				}
			}
			require.Equal(t, tt.want, sizes)
			require.Equal(t, []string{"0", "1", "2", "3", "4"}, ids, "every conflict once, in order")
		})
	}
}

func TestAnswerValue(t *testing.T) {
	tests := []struct {
		name, raw, want, problem string
	}{
		{name: "JSON text in a string", raw: `"{\"a\": [1, 2]}"`, want: `{"a":[1,2]}`},
		{name: "string value as JSON text", raw: `"\"hello\""`, want: `"hello"`},
		{name: "bare object", raw: `{"a": 1}`, want: `{"a":1}`},
		{name: "bare number", raw: `42`, want: `42`},
		{name: "empty string", raw: `""`, problem: "without a value"},
		{name: "null", raw: `null`, problem: "without a value"},
		{name: "absent", raw: ``, problem: "without a value"},
		{name: "plain words", raw: `"hello"`, problem: "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problem := answerValue(json.RawMessage(tt.raw))
			if tt.problem != "" {
				require.Contains(t, problem, tt.problem)
				require.Nil(t, got)
				return
			}
			require.Empty(t, problem)
			require.Equal(t, tt.want, string(got))
		})
	}
}

func TestStripFence(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":1}`:                 `{"a":1}`,
		"```json\n{\"a\":1}\n```": `{"a":1}`,
		"```\n{\"a\":1}\n```":     `{"a":1}`,
		"```{\"a\":1}```":         `{"a":1}`,
		" \n{\"a\":1}\n ":         `{"a":1}`,
	} {
		require.Equal(t, want, stripFence(in), "%q", in)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name   string
		header map[string]string
		want   time.Duration
	}{
		{name: "none", want: 0},
		{name: "seconds", header: map[string]string{"Retry-After": "7"}, want: 7 * time.Second},
		{name: "fractional seconds", header: map[string]string{"Retry-After": "0.5"}, want: 500 * time.Millisecond},
		{name: "milliseconds win", header: map[string]string{"Retry-After": "7", "Retry-After-Ms": "250"}, want: 250 * time.Millisecond},
		{name: "http date", header: map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)}, want: 90 * time.Second},
		{name: "date in the past", header: map[string]string{"Retry-After": now.Add(-time.Hour).Format(http.TimeFormat)}, want: 0},
		{name: "garbage", header: map[string]string{"Retry-After": "soon"}, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			require.Equal(t, tt.want, parseRetryAfter(h, now))
		})
	}
}

func TestBackoffBounds(t *testing.T) {
	r := NewAIResolver(AIConfig{Backoff: 100 * time.Millisecond, MaxBackoff: time.Second}, nil, nil)
	for retry, wantMax := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		wantMax *= time.Millisecond
		for range 20 {
			d := r.backoff(retry)
			require.GreaterOrEqual(t, d, wantMax/2, "retry %d", retry)
			require.LessOrEqual(t, d, wantMax, "retry %d", retry)
		}
	}
}

func TestAIConfigDefaults(t *testing.T) {
	cfg := AIConfig{}.withDefaults()
	require.Equal(t, DefaultAPIKeyEnv, cfg.APIKeyEnv)
	require.Equal(t, DefaultAIModel, cfg.Model)
	require.Equal(t, DefaultAIMaxRetries, cfg.MaxRetries)
	require.Equal(t, ResponseFormatJSONSchema, cfg.ResponseFormat)
	require.Equal(t, 0, AIConfig{MaxRetries: -1}.withDefaults().MaxRetries, "negative means no retries")
	require.Nil(t, NewAIResolver(AIConfig{CacheEntries: -1}, nil, nil).cache, "negative disables the cache")
	require.ErrorIs(t, NewAIResolver(AIConfig{}, nil, nil).Ready(), ErrNoAPIKey)
	require.True(t, slices.Contains(strategies, StrategyAI))
}
