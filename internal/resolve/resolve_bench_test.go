package resolve

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/sashabaranov/go-openai"
	"github.com/stretchr/testify/require"
)

// benchConflicts returns n conflicts shaped like the fixture's.
func benchConflicts(b *testing.B, n int) []Conflict {
	base := loadConflicts(b)
	cs := make([]Conflict, 0, n)
	for i := range n {
		c := base[i%len(base)]
		c.Pointer = fmt.Sprintf("%s/%d", c.Pointer, i)
		c.ID = conflictID(c)
		cs = append(cs, c)
	}
	return cs
}

// BenchmarkBuildPrompt measures turning 20 conflicts into a call's messages.
func BenchmarkBuildPrompt(b *testing.B) {
	cs := benchConflicts(b, 20)
	b.ReportAllocs()
	for b.Loop() {
		ps := make([]promptConflict, 0, len(cs))
		for _, c := range cs {
			ps = append(ps, toPrompt(c, DefaultMaxValueBytes))
		}
		if _, err := buildMessages("petstore", ps); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseAnswer measures validating a model's answer for 20 conflicts.
func BenchmarkParseAnswer(b *testing.B) {
	cs := benchConflicts(b, 20)
	ps := make([]promptConflict, 0, len(cs))
	var ds []map[string]any
	for _, c := range cs {
		ps = append(ps, toPrompt(c, DefaultMaxValueBytes))
		ds = append(ds, map[string]any{"id": c.ID, "choice": "value", "value": `{"type":"string"}`, "reason": "merged"})
	}
	content := answer(ds...)
	b.ReportAllocs()
	for b.Loop() {
		got, _, err := parseAnswer(content, ps)
		if err != nil || len(got) != len(cs) {
			b.Fatal(err, len(got))
		}
	}
}

// BenchmarkResolve measures a full Resolve of 20 conflicts through the real
// client against a local chat-completions server, cache off.
func BenchmarkResolve(b *testing.B) {
	cs := benchConflicts(b, 20)
	var ds []map[string]any
	for _, c := range cs {
		ds = append(ds, map[string]any{"id": c.ID, "choice": "remote", "value": "", "reason": "newer"})
	}
	content := answer(ds...)
	srv := newFakeLLM(b, func(int, openai.ChatCompletionRequest) reply { return reply{content: content} })
	r, _ := testResolver(srv, func(c *AIConfig) { c.CacheEntries = -1 }, false)
	b.ReportAllocs()
	for b.Loop() {
		out, err := r.Resolve(b.Context(), "petstore", cs)
		require.NoError(b, err)
		require.Len(b, out.Decisions, len(cs))
	}
}

// BenchmarkResolveCached measures a Resolve of 20 conflicts all in the cache.
func BenchmarkResolveCached(b *testing.B) {
	cs := benchConflicts(b, 20)
	r := NewAIResolver(AIConfig{}, nil, nil)
	for _, c := range cs {
		r.cache.Put(r.cacheKey(c.ID), Decision{ID: c.ID, Pointer: c.Pointer, Choice: ChoiceRemote, Strategy: StrategyAI})
	}
	b.ReportAllocs()
	for b.Loop() {
		out, err := r.Resolve(b.Context(), "petstore", cs)
		if err != nil || out.Cached != len(cs) {
			b.Fatal(err)
		}
	}
}

// BenchmarkLRUCache measures Put then Get on a full cache.
func BenchmarkLRUCache(b *testing.B) {
	c := NewLRUCache(1024)
	keys := make([]string, 4096)
	for i := range keys {
		keys[i] = fmt.Sprintf("model\x00%032x", i)
	}
	d := Decision{ID: "x", Choice: ChoiceLocal, Value: json.RawMessage(`1`)}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := keys[i%len(keys)]
		c.Put(k, d)
		c.Get(k)
		i++
	}
}
