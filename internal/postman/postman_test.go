package postman

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apilivesync/apilivesync/internal/diff"
	"github.com/apilivesync/apilivesync/internal/merge"
	"github.com/stretchr/testify/require"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

func mustParse(t testing.TB, name string, data []byte) *Document {
	t.Helper()
	d, err := Parse(name, data)
	require.NoError(t, err)
	return d
}

func TestParseFixtures(t *testing.T) {
	v21 := mustParse(t, "v21", readFixture(t, "crm.v21.json"))
	require.Equal(t, Summary{Version: "2.1.0", Name: "CRM", Folders: 1, Requests: 4, Variables: 1}, v21.Summary)
	v20 := mustParse(t, "v20", readFixture(t, "crm.v20.json"))
	require.Equal(t, "2.0.0", v20.Summary.Version)
	// v2.0 and v2.1 shapes, item order and exporter id do not change the canonical form
	require.Equal(t, string(v21.Canonical), string(v20.Canonical))
	require.Equal(t, v21.Hash(), v20.Hash())
	for _, d := range []*Document{v21, v20} {
		again := mustParse(t, "canonical", d.Canonical)
		require.Equal(t, string(d.Canonical), string(again.Canonical))
		require.Empty(t, Compare(d, d).Changes)
		require.Empty(t, Compare(d, again).Changes)
	}
	c := string(v21.Canonical)
	require.Contains(t, c, `"/Users/GET ~1users"`)
	require.Contains(t, c, `"{{baseUrl}}/users/:id"`)
	require.Contains(t, c, `"token": "{{token}}"`)
	require.NotContains(t, c, "_exporter_id")
}

func TestBadInput(t *testing.T) {
	deep := `{"info":{"name":"d","schema":"` + SchemaV210 + `"},"item":[` + strings.Repeat(`{"name":"f","item":[`, 70) + strings.Repeat("]}", 70) + "]}"
	tests := []struct {
		name string
		data []byte
		opts Options
		kind string
		msg  string
	}{
		{"v1 collection", readFixture(t, "v1.json"), Options{}, KindUnsupportedVersion, "export it as Collection v2.1"},
		{"v3 schema", readFixture(t, "v3.json"), Options{}, KindUnsupportedVersion, "only v2.0.0 and v2.1.0"},
		{"OpenAPI", []byte(`{"openapi":"3.0.0","info":{"title":"x","version":"1"},"paths":{}}`), Options{}, KindNotCollection, `neither "schema" nor "_postman_id"`},
		{"HTML", []byte("<html>login</html>"), Options{}, KindNotJSON, "HTML"},
		{"broken JSON", []byte("{\"info\":\n  {,}"), Options{}, KindNotJSON, "line 2, column 5"},
		{"list", []byte(`[1]`), Options{}, KindNotCollection, "not a JSON object"},
		{"deep folders", []byte(deep), Options{}, KindTooComplex, "64 levels"},
		{"too many items", readFixture(t, "crm.v21.json"), Options{MaxItems: 3}, KindTooComplex, "more than 3"},
		{"item without request", []byte(`{"info":{"name":"d","schema":"` + SchemaV210 + `"},"item":[{"name":"x"}]}`), Options{}, KindInvalid, "/x: invalid collection"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseWithOptions("src", tt.data, tt.opts)
			var e *Error
			require.True(t, errors.As(err, &e), "got %v", err)
			require.Equal(t, tt.kind, e.Kind, err.Error())
			require.Contains(t, err.Error(), tt.msg)
			require.Contains(t, err.Error(), `postman collection "src"`)
		})
	}
}

func TestRules(t *testing.T) {
	base := string(readFixture(t, "crm.v21.json"))
	tests := []struct {
		name, from, to, rule, level, pointer string
	}{
		{"unchanged", `"name": "Login",`, `"name": "Login",`, "", "", ""},
		{"request renamed", `"name": "Create user"`, `"name": "Add user"`, RuleRequestRenamed, diff.LevelWarning, "/Users/Add user"},
		{"request moved out of its folder is a rename", `"name": "Login"`, `"name": "Sign in"`, RuleRequestRenamed, diff.LevelWarning, "/Sign in"},
		{"method changed", `"method": "POST",
            "header"`, `"method": "PUT",
            "header"`, RuleMethodChanged, diff.LevelError, "/Users/Create user#method"},
		{"url changed", `"url": "{{baseUrl}}/users"`, `"url": "{{baseUrl}}/people"`, RuleURLChanged, diff.LevelError, "/Users/Create user#url"},
		{"query added", `?page=1&size=20`, `?page=1&size=20&sort=name`, RuleQueryAdded, diff.LevelWarning, "/Users/GET ~1users#query/sort"},
		{"query removed", `?page=1&size=20`, `?page=1`, RuleQueryRemoved, diff.LevelError, "/Users/GET ~1users#query/size"},
		{"header added", `[{"key": "Content-Type", "value": "application/json"}]`, `[{"key": "Content-Type", "value": "application/json"}, {"key": "X-Tenant", "value": "{{tenant}}"}]`, RuleHeaderAdded, diff.LevelWarning, "/Users/Create user#header/X-Tenant"},
		{"disabled header added", `[{"key": "Content-Type", "value": "application/json"}]`, `[{"key": "Content-Type", "value": "application/json"}, {"key": "X-Trace", "value": "1", "disabled": true}]`, RuleDisabledParam, diff.LevelInfo, "/Users/Create user#header/X-Trace"},
		{"header removed", `{"key": "Accept", "value": "application/json"}, `, ``, RuleHeaderRemoved, diff.LevelError, "/Users/Get user#header/Accept"},
		{"body mode changed", `"mode": "urlencoded"`, `"mode": "formdata", "formdata": [], "x": "urlencoded"`, RuleBodyModeChanged, diff.LevelError, "/Login#body"},
		{"body shape changed", `\"age\": 30`, `\"age\": \"30\"`, RuleBodySchemaChanged, diff.LevelError, "/Users/Create user#body"},
		{"body value changed", `\"Ann\"`, `\"Bob\"`, RuleBodyExampleChanged, diff.LevelInfo, "/Users/Create user#body"},
		{"form field added", `{"key": "password", "value": "x"}`, `{"key": "password", "value": "x"}, {"key": "otp", "value": ""}`, RuleBodyFieldAdded, diff.LevelWarning, "/Login#body/otp"},
		{"form field removed", `{"key": "user", "value": "ann"}, `, ``, RuleBodyFieldRemoved, diff.LevelError, "/Login#body/user"},
		{"auth changed", `"auth": {"type": "noauth"},`, `"auth": {"type": "basic", "basic": [{"key": "username", "value": "u"}]},`, RuleAuthChanged, diff.LevelError, "/Login#auth"},
		{"collection auth changed", `"value": "{{token}}"`, `"value": "{{otherToken}}"`, RuleAuthChanged, diff.LevelError, "/#auth"},
		{"variable changed", `https://api.example.com/v1`, `https://api.example.com/v2`, RuleVariableChanged, diff.LevelWarning, "/#variable/baseUrl"},
		{"example changed", `"code": 200`, `"code": 201`, RuleExample, diff.LevelInfo, "/Users/Get user#examples/OK"},
		{"test changed", `status(201)`, `status(200)`, RuleEvent, diff.LevelInfo, "/Users/Create user#event"},
		{"description added", `"name": "Login",`, `"name": "Login", "description": "Signs in.",`, RuleDescription, diff.LevelInfo, "/Login#description"},
	}
	old := mustParse(t, "old", []byte(base))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Contains(t, base, tt.from)
			new := mustParse(t, "new", []byte(strings.Replace(base, tt.from, tt.to, 1)))
			rep := Compare(old, new)
			if tt.rule == "" {
				require.Empty(t, rep.Changes)
				return
			}
			var got *diff.Change
			for i, c := range rep.Changes {
				if c.Rule == tt.rule {
					got = &rep.Changes[i]
				}
			}
			require.NotNil(t, got, "rule %s not among %+v", tt.rule, rep.Changes)
			require.Equal(t, tt.level, got.Level)
			require.Equal(t, tt.level == diff.LevelError, got.Breaking)
			require.Equal(t, tt.pointer, got.Pointer)
			var buf bytes.Buffer
			for _, f := range []string{diff.FormatText, diff.FormatMarkdown, diff.FormatJSON} {
				require.NoError(t, rep.Write(&buf, f))
			}
		})
	}
	t.Run("request removed", func(t *testing.T) {
		// drop the Login item (the last one) by cutting the list short
		i := strings.Index(base, `,
    {
      "name": "Login"`)
		require.Positive(t, i)
		new := mustParse(t, "new", []byte(base[:i]+"\n  ]\n}\n"))
		rep := Compare(old, new)
		require.Equal(t, 1, rep.Total)
		require.Equal(t, RuleRequestRemoved, rep.Changes[0].Rule)
		require.Equal(t, "/Login", rep.Changes[0].Pointer)
		require.Equal(t, 1, rep.Breaking)
	})
}

func TestCatalogue(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Catalogue() {
		require.False(t, seen[r.ID])
		seen[r.ID] = true
		require.NotEmpty(t, r.Explanation)
	}
	require.Len(t, seen, len(levels))
}

func TestMerge(t *testing.T) {
	base := string(readFixture(t, "crm.v21.json"))
	edit := func(pairs ...string) []byte {
		s := base
		for i := 0; i < len(pairs); i += 2 {
			require.Contains(t, s, pairs[i])
			s = strings.Replace(s, pairs[i], pairs[i+1], 1)
		}
		return []byte(s)
	}
	t.Run("different requests merge cleanly", func(t *testing.T) {
		local := edit(`"url": "{{baseUrl}}/users"`, `"url": "{{baseUrl}}/people"`)
		remote := edit(`"url": "{{baseUrl}}/login"`, `"url": "{{baseUrl}}/session"`)
		res, err := Merge([]byte(base), local, remote)
		require.NoError(t, err)
		require.Empty(t, res.Result.Conflicts)
		merged := mustParse(t, "merged", res.Result.Merged)
		require.Equal(t, "{{baseUrl}}/people", merged.c.Requests["/Users/Create user"].URL)
		require.Equal(t, "{{baseUrl}}/session", merged.c.Requests["/Login"].URL)
	})
	t.Run("same request field conflicts at its path", func(t *testing.T) {
		local := edit(`"url": "{{baseUrl}}/users"`, `"url": "{{baseUrl}}/people"`)
		remote := edit(`"url": "{{baseUrl}}/users"`, `"url": "{{baseUrl}}/members"`)
		res, err := Merge([]byte(base), local, remote)
		require.NoError(t, err)
		require.Len(t, res.Result.Conflicts, 1)
		c := res.Result.Conflicts[0]
		require.Equal(t, "/Users/Create user#url", res.Locations[c.Pointer])
		rs, err := merge.Resolve(res.Result.Conflicts, merge.StrategyPreferRemote)
		require.NoError(t, err)
		out, err := merge.Apply(res.Result, rs)
		require.NoError(t, err)
		require.Equal(t, "{{baseUrl}}/members", mustParse(t, "resolved", out).c.Requests["/Users/Create user"].URL)
	})
}

func TestLocation(t *testing.T) {
	for p, want := range map[string]string{
		"/requests/~1Users~1GET ~01users/method": "/Users/GET ~1users#method",
		"/requests/~1Login/query/page/value":     "/Login#query/page/value",
		"/folders/~1Users":                       "/Users",
		"/variable/baseUrl/value":                "/#variable/baseUrl/value",
		"":                                       "/",
	} {
		require.Equal(t, want, Location(p), p)
	}
}
