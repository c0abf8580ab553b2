package config

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/apilivesync/apilivesync/internal/source"
)

func src(id, url string) source.Source { return source.Source{ID: id, URL: url} }

func ids(srcs []source.Source) []string {
	out := make([]string, len(srcs))
	for i, s := range srcs {
		out[i] = s.ID
	}
	return out
}

func TestPlanChanges(t *testing.T) {
	off := false
	on := true
	tests := []struct {
		name                string
		current, desired    []source.Source
		add, update, remove []string
		unchanged           []string
	}{
		{
			name:    "empty engine: everything is added, sorted",
			desired: []source.Source{src("b", "https://b/"), src("a", "https://a/")},
			add:     []string{"a", "b"},
		},
		{
			name:    "empty config: everything is removed, sorted",
			current: []source.Source{src("b", "https://b/"), src("a", "https://a/")},
			remove:  []string{"a", "b"},
		},
		{
			name:      "add, update, remove and unchanged together",
			current:   []source.Source{src("keep", "https://k/"), src("move", "https://old/"), src("drop", "https://d/")},
			desired:   []source.Source{src("new", "https://n/"), src("move", "https://new/"), src("keep", "https://k/")},
			add:       []string{"new"},
			update:    []string{"move"},
			remove:    []string{"drop"},
			unchanged: []string{"keep"},
		},
		{
			name: "defaults written out equal defaults left out",
			current: []source.Source{{ID: "a", URL: "https://a/", API: "a", Kind: source.KindOpenAPI, Strategy: source.StrategyPreferRemote,
				Gate: source.GateAuto, Priority: "medium", Enabled: &on, HoldTimeout: source.Duration(source.DefaultDecisionTimeout),
				OnHoldTimeout: "reject", OnManualTimeout: "fail", Headers: map[string]string{}}},
			desired:   []source.Source{src("a", "https://a/")},
			unchanged: []string{"a"},
		},
		{
			name:      "header names compare canonically and owned lists by content",
			current:   []source.Source{{ID: "a", URL: "https://a/", Headers: map[string]string{"authorization": "env:T"}, Owns: source.Ownership{PathPrefixes: []string{"/b", "/a"}}}},
			desired:   []source.Source{{ID: "a", URL: "https://a/", Headers: map[string]string{"Authorization": "env:T"}, Owns: source.Ownership{PathPrefixes: []string{"/a", "/b"}}}},
			unchanged: []string{"a"},
		},
		{
			name:    "disabling is an update",
			current: []source.Source{src("a", "https://a/")},
			desired: []source.Source{{ID: "a", URL: "https://a/", Enabled: &off}},
			update:  []string{"a"},
		},
		{
			name:    "a changed refresh interval is an update",
			current: []source.Source{{ID: "a", URL: "https://a/", RefreshInterval: source.Duration(time.Minute)}},
			desired: []source.Source{{ID: "a", URL: "https://a/", RefreshInterval: source.Duration(time.Hour)}},
			update:  []string{"a"},
		},
		{
			name:    "a header value change is an update",
			current: []source.Source{{ID: "a", URL: "https://a/", Headers: map[string]string{"A": "env:X"}}},
			desired: []source.Source{{ID: "a", URL: "https://a/", Headers: map[string]string{"A": "env:Y"}}},
			update:  []string{"a"},
		},
		{
			name:      "the last of duplicate IDs counts",
			current:   []source.Source{src("a", "https://a/")},
			desired:   []source.Source{src("a", "https://x/"), src("a", "https://a/")},
			unchanged: []string{"a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := PlanChanges(tt.current, tt.desired)
			require.Equal(t, tt.add, nilIfEmpty(ids(p.Add)))
			require.Equal(t, tt.update, nilIfEmpty(ids(p.Update)))
			require.Equal(t, tt.remove, p.Remove)
			require.Equal(t, tt.unchanged, p.Unchanged)
			require.Equal(t, len(tt.add)+len(tt.update)+len(tt.remove) == 0, p.Empty())
			require.Equal(t, fmt.Sprintf("add %d, update %d, remove %d, unchanged %d", len(tt.add), len(tt.update), len(tt.remove), len(tt.unchanged)), p.String())
			for _, u := range p.Update {
				i := slices.IndexFunc(tt.desired, func(s source.Source) bool { return s.ID == u.ID })
				require.Equal(t, tt.desired[i], u, "an update carries the desired source")
			}
		})
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// apply is what an engine does with a plan.
func apply(current []source.Source, p Plan) []source.Source {
	m := byID(current)
	for _, id := range p.Remove {
		delete(m, id)
	}
	for _, s := range slices.Concat(p.Add, p.Update) {
		m[s.ID] = s
	}
	out := make([]source.Source, 0, len(m))
	for _, id := range sortedIDs(m) {
		out = append(out, m[id])
	}
	return out
}

func TestPlanIdempotent(t *testing.T) {
	cfg, err := Load("testdata/example.yaml")
	require.NoError(t, err)
	desired := cfg.Resolved()

	t.Run("desired against itself", func(t *testing.T) {
		p := PlanChanges(desired, desired)
		require.True(t, p.Empty())
		require.Equal(t, []string{"billing", "inventory", "partners-gateway", "shop-catalog", "shop-orders"}, p.Unchanged)
	})
	t.Run("resolved against as written", func(t *testing.T) {
		// The engine stores resolved sources; the file leaves defaults out.
		edited := slices.Clone(cfg.Sources)
		for i := range edited {
			edited[i].Priority = desired[i].Priority
			edited[i].RefreshInterval = desired[i].RefreshInterval
			edited[i].Strategy, edited[i].Gate = desired[i].Strategy, desired[i].Gate
			edited[i].HoldTimeout, edited[i].ManualTimeout = desired[i].HoldTimeout, desired[i].ManualTimeout
			edited[i].OnHoldTimeout, edited[i].OnManualTimeout = desired[i].OnHoldTimeout, desired[i].OnManualTimeout
			edited[i].Rules = desired[i].Rules
		}
		require.True(t, PlanChanges(desired, edited).Empty())
	})
	t.Run("apply twice changes nothing the second time", func(t *testing.T) {
		current := []source.Source{src("stale", "https://stale/"), {ID: "billing", URL: "http://old.internal/openapi.yaml"}}
		first := PlanChanges(current, desired)
		require.Equal(t, []string{"inventory", "partners-gateway", "shop-catalog", "shop-orders"}, ids(first.Add))
		require.Equal(t, []string{"billing"}, ids(first.Update))
		require.Equal(t, []string{"stale"}, first.Remove)
		current = apply(current, first)
		second := PlanChanges(current, desired)
		require.True(t, second.Empty(), second.String())
		require.Len(t, second.Unchanged, len(desired))
	})
}
