package source

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestValidate(t *testing.T) {
	ok := Source{ID: "pets", URL: "https://example.com/openapi.json", Headers: map[string]string{"Authorization": "Bearer ${TOKEN}", "X-Key": "env:KEY"}}
	require.NoError(t, ok.Validate())
	never := ok
	never.AIMaxReasks, never.AIRetryWindow = new(int), Duration(time.Minute)
	require.NoError(t, never.Validate(), "aiMaxReasks 0 never asks the model again")
	for name, tc := range map[string]struct {
		src  Source
		want string
	}{
		"no location":        {Source{ID: "a"}, "set url or filePath"},
		"both":               {Source{ID: "a", URL: "https://x/y", File: "y.yaml"}, "not both"},
		"bad scheme":         {Source{ID: "a", URL: "ftp://x/y"}, "http:// or https://"},
		"credentials":        {Source{ID: "a", URL: "https://u:p@x/y"}, "credentials in the URL"},
		"literal secret":     {Source{ID: "a", URL: "https://x/y", Headers: map[string]string{"Authorization": "Bearer abc123"}}, `header "Authorization"`},
		"bad id":             {Source{ID: "../x", URL: "https://x/y"}, "invalid source id"},
		"bad priority":       {Source{ID: "a", URL: "https://x/y", Priority: "urgent"}, "priority"},
		"bad strategy":       {Source{ID: "a", URL: "https://x/y", Strategy: "merge"}, "strategy"},
		"bad gate":           {Source{ID: "a", URL: "https://x/y", Gate: "maybe"}, "gate"},
		"bad on-timeout":     {Source{ID: "a", URL: "https://x/y", OnHoldTimeout: "later"}, "onHoldTimeout"},
		"negative period":    {Source{ID: "a", URL: "https://x/y", RefreshInterval: -1}, "refreshInterval"},
		"file and filePath":  {Source{ID: "a", File: "a.yaml", FilePath: "b.yaml"}, "set filePath or file (the older name), not both"},
		"url and filePath":   {Source{ID: "a", URL: "https://x/y", FilePath: "b.yaml"}, "not both"},
		"unknown kind":       {Source{ID: "a", URL: "https://x/y", Kind: "soap"}, `kind "soap" is not supported`},
		"introspect file":    {Source{ID: "a", FilePath: "s.graphql", Introspect: true}, "only a url source"},
		"introspect kind":    {Source{ID: "a", URL: "https://x/graphql", Kind: KindOpenAPI, Introspect: true}, "only a graphql source"},
		"negative ai window": {Source{ID: "a", URL: "https://x/y", AIRetryWindow: Duration(-time.Minute)}, `source "a": aiRetryWindow -1m0s: must not be negative`},
		"negative re-asks":   {Source{ID: "a", URL: "https://x/y", AIMaxReasks: func() *int { n := -1; return &n }()}, `source "a": aiMaxReasks -1: must not be negative`},
	} {
		err := tc.src.Validate()
		require.Error(t, err, name)
		require.Contains(t, err.Error(), tc.want, name)
	}
}

func TestSecretRefs(t *testing.T) {
	for v, want := range map[string]bool{
		"env:TOKEN": true, "${TOKEN}": true, "Bearer ${TOKEN}": true, "file:/run/secrets/x": true,
		"Bearer abc": false, "abc": false, "${not a name}": false, "Bearer ${A} ${B}": false,
	} {
		require.Equal(t, want, IsSecretRef(v), v)
	}
}

func TestDurationReadsPeopleAndMachines(t *testing.T) {
	for in, want := range map[string]time.Duration{`"5m"`: 5 * time.Minute, `"1h30m"`: 90 * time.Minute, `30`: 30 * time.Second, `""`: 0, `null`: 0} {
		var d Duration
		require.NoError(t, json.Unmarshal([]byte(in), &d), in)
		require.Equal(t, want, d.Std(), in)
	}
	var d Duration
	require.ErrorContains(t, json.Unmarshal([]byte(`"soon"`), &d), "30s, 5m or 1h")
	out, err := json.Marshal(Duration(90 * time.Second))
	require.NoError(t, err)
	require.Equal(t, `"1m30s"`, string(out))
}

func TestDefaults(t *testing.T) {
	s := Source{ID: "a"}
	require.True(t, s.IsEnabled())
	require.Equal(t, "a", s.APIID())
	require.Equal(t, GateAuto, s.GateOrDefault())
	require.Equal(t, StrategyPreferRemote, s.StrategyOrDefault())
	off := false
	s.Enabled, s.API = &off, "shop"
	require.False(t, s.IsEnabled())
	require.Equal(t, "shop", s.APIID())
}

func TestIssue13Fields(t *testing.T) {
	for name, src := range map[string]Source{
		"graphql introspection":        {ID: "gql", URL: "https://x/graphql", Kind: KindGraphQL, Introspect: true},
		"introspection, kind detected": {ID: "gql", URL: "https://x/graphql", Introspect: true},
		"postman by filePath":          {ID: "pm", FilePath: "c.json", Kind: KindPostman, Strict: true},
		"openapi by file":              {ID: "oa", File: "o.yaml", Kind: KindOpenAPI},
	} {
		t.Run(name, func(t *testing.T) { require.NoError(t, src.Validate()) })
	}

	var s Source
	require.NoError(t, json.Unmarshal([]byte(`{"id":"pm","filePath":"c.json","kind":"postman","strict":true,"introspect":false}`), &s))
	require.Equal(t, "c.json", s.LocalFile())
	require.Equal(t, "c.json", s.Location())
	n := s.Normalize()
	require.Equal(t, "c.json", n.File)
	require.Empty(t, n.FilePath)
	require.True(t, n.Strict)
	both := Source{File: "a", FilePath: "b"}
	require.Equal(t, both, both.Normalize(), "a source with both is left for Validate to refuse")
}
