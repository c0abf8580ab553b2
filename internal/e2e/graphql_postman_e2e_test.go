package e2e_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/apilivesync/apilivesync/internal/cli"
	"github.com/apilivesync/apilivesync/internal/kind"
	"github.com/apilivesync/apilivesync/internal/postman"
	"github.com/apilivesync/apilivesync/internal/source"
	"github.com/apilivesync/apilivesync/internal/store"
	"github.com/apilivesync/apilivesync/workflows/syncjob"
)

// GraphQL schemas (SDL over HTTP, and an introspection endpoint) and
// Postman collections go through the same SyncJob as OpenAPI: sync, a
// breaking change held by the gate and approved, a local edit (starter
// push) merged with a remote change, and bad input that fails clearly and
// keeps the last good version.

// The GraphQL schema's versions: v2 removes User.email (breaking); the
// local edit adds User.nickname to v2; v3 adds Query.me to v2.
const (
	gqlV1 = `type Query {
  user(id: ID!): User
  users: [User!]!
}

"A person."
type User {
  id: ID!
  name: String
  email: String
}
`
	gqlV2    = "type Query {\n  user(id: ID!): User\n  users: [User!]!\n}\n\n\"A person.\"\ntype User {\n  id: ID!\n  name: String\n}\n"
	gqlLocal = "type Query {\n  user(id: ID!): User\n  users: [User!]!\n}\n\n\"A person.\"\ntype User {\n  id: ID!\n  name: String\n  nickname: String\n}\n"
	gqlV3    = "type Query {\n  me: User\n  user(id: ID!): User\n  users: [User!]!\n}\n\n\"A person.\"\ntype User {\n  id: ID!\n  name: String\n}\n"
	// gqlBroken misses a colon on line 7.
	gqlBroken = "type Query {\n  user(id: ID!): User\n}\n\ntype User {\n  id: ID!\n  name String\n}\n"
)

// postmanCollection is a v2.1 collection of the given requests (name →
// item JSON without its name) in one folder "Users".
func postmanCollection(requests map[string]string) []byte {
	var items []string
	for _, name := range []string{"Get user", "List users", "Delete user"} {
		if r, ok := requests[name]; ok {
			items = append(items, `{"name": "`+name+`", `+r+`}`)
		}
	}
	return []byte(`{
  "info": {"_postman_id": "0b7e3a52-0000-4000-8000-000000000001", "name": "People",
           "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
  "variable": [{"key": "baseUrl", "value": "https://people.example.com"}],
  "item": [{"name": "Users", "item": [` + strings.Join(items, ",\n") + `]}]
}`)
}

var (
	pmGetUser    = `"request": {"method": "GET", "url": "{{baseUrl}}/users/:id", "description": "One user."}`
	pmGetUserEd  = `"request": {"method": "GET", "url": "{{baseUrl}}/users/:id", "description": "One user, by id (edited here)."}`
	pmListUsers  = `"request": {"method": "GET", "url": "{{baseUrl}}/users?page=1"}`
	pmDeleteUser = `"request": {"method": "DELETE", "url": "{{baseUrl}}/users/:id"}`
	// v2 removes "List users" (breaking); v3 adds "Delete user" to v2.
	pmV1    = postmanCollection(map[string]string{"Get user": pmGetUser, "List users": pmListUsers})
	pmV2    = postmanCollection(map[string]string{"Get user": pmGetUser})
	pmLocal = postmanCollection(map[string]string{"Get user": pmGetUserEd})
	pmV3    = postmanCollection(map[string]string{"Get user": pmGetUser, "Delete user": pmDeleteUser})
	pmV1x   = []byte(`{"id": "b1", "name": "Old", "order": ["r1"], "folders": [], "requests": [{"id": "r1", "url": "https://x", "method": "GET"}]}`)
)

// gqlServer is a GraphQL endpoint that answers the introspection query
// with the introspection of its current SDL (or a broken answer).
type gqlServer struct {
	mu     sync.Mutex
	sdl    string
	answer string // non-empty: answer this instead (an error, an HTML page)
	auth   string // the last Authorization header
	posts  int
	srv    *httptest.Server
}

func newGQLServer(t *testing.T, sdl string) *gqlServer {
	g := &gqlServer{sdl: sdl}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		defer g.mu.Unlock()
		var body struct {
			Query         string `json:"query"`
			OperationName string `json:"operationName"`
		}
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" ||
			json.NewDecoder(r.Body).Decode(&body) != nil || !strings.Contains(body.Query, "__schema") {
			http.Error(w, `{"errors":[{"message":"POST a query as JSON"}]}`, http.StatusBadRequest)
			return
		}
		g.posts++
		g.auth = r.Header.Get("Authorization")
		if g.answer != "" {
			if strings.HasPrefix(g.answer, "<") {
				w.Header().Set("Content-Type", "text/html")
			}
			_, _ = w.Write([]byte(g.answer))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(introspectionOf(t, g.sdl))
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *gqlServer) set(f func(g *gqlServer)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	f(g)
}

// introspectionOf answers the standard introspection query for sdl, the way
// a GraphQL server does: every type (built-ins included) and directive.
func introspectionOf(t *testing.T, sdl string) []byte {
	schema, gerr := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphql", Input: sdl})
	require.Nil(t, gerr)
	var typeRef func(*ast.Type) map[string]any
	typeRef = func(ty *ast.Type) map[string]any {
		var ref map[string]any
		if ty.Elem != nil {
			ref = map[string]any{"kind": "LIST", "name": nil, "ofType": typeRef(ty.Elem)}
		} else {
			ref = map[string]any{"kind": string(schema.Types[ty.NamedType].Kind), "name": ty.NamedType, "ofType": nil}
		}
		if ty.NonNull {
			ref = map[string]any{"kind": "NON_NULL", "name": nil, "ofType": ref}
		}
		return ref
	}
	orNil := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	inputValues := func(args ast.ArgumentDefinitionList) []any {
		out := []any{}
		for _, a := range args {
			var def any
			if a.DefaultValue != nil {
				def = a.DefaultValue.String()
			}
			out = append(out, map[string]any{"name": a.Name, "description": orNil(a.Description), "type": typeRef(a.Type), "defaultValue": def})
		}
		return out
	}
	deprecation := func(ds ast.DirectiveList) (bool, any) {
		if d := ds.ForName("deprecated"); d != nil {
			if r := d.Arguments.ForName("reason"); r != nil {
				return true, r.Value.Raw
			}
			return true, "No longer supported"
		}
		return false, nil
	}
	named := func(names []string) []any {
		out := []any{}
		for _, n := range names {
			out = append(out, map[string]any{"kind": string(schema.Types[n].Kind), "name": n, "ofType": nil})
		}
		return out
	}
	var types []any
	for _, d := range schema.Types {
		ty := map[string]any{"kind": string(d.Kind), "name": d.Name, "description": orNil(d.Description),
			"fields": nil, "inputFields": nil, "interfaces": nil, "enumValues": nil, "possibleTypes": nil}
		switch d.Kind {
		case ast.Object, ast.Interface:
			var fields []any
			for _, f := range d.Fields {
				if strings.HasPrefix(f.Name, "__") {
					continue
				}
				dep, reason := deprecation(f.Directives)
				fields = append(fields, map[string]any{"name": f.Name, "description": orNil(f.Description), "args": inputValues(f.Arguments),
					"type": typeRef(f.Type), "isDeprecated": dep, "deprecationReason": reason})
			}
			ty["fields"], ty["interfaces"] = fields, named(d.Interfaces)
			if d.Kind == ast.Interface {
				var impl []string
				for _, p := range schema.GetPossibleTypes(d) {
					impl = append(impl, p.Name)
				}
				ty["possibleTypes"] = named(impl)
			}
		case ast.Union:
			ty["possibleTypes"] = named(d.Types)
		case ast.Enum:
			var values []any
			for _, v := range d.EnumValues {
				dep, reason := deprecation(v.Directives)
				values = append(values, map[string]any{"name": v.Name, "description": orNil(v.Description), "isDeprecated": dep, "deprecationReason": reason})
			}
			ty["enumValues"] = values
		case ast.InputObject:
			var fields ast.ArgumentDefinitionList
			for _, f := range d.Fields {
				fields = append(fields, &ast.ArgumentDefinition{Name: f.Name, Description: f.Description, Type: f.Type, DefaultValue: f.DefaultValue})
			}
			ty["inputFields"] = inputValues(fields)
		}
		types = append(types, ty)
	}
	var directives []any
	for _, d := range schema.Directives {
		var locs []string
		for _, l := range d.Locations {
			locs = append(locs, string(l))
		}
		directives = append(directives, map[string]any{"name": d.Name, "description": orNil(d.Description), "locations": locs, "args": inputValues(d.Arguments)})
	}
	root := func(d *ast.Definition) any {
		if d == nil {
			return nil
		}
		return map[string]any{"name": d.Name}
	}
	out, err := json.Marshal(map[string]any{"data": map[string]any{"__schema": map[string]any{
		"queryType": root(schema.Query), "mutationType": root(schema.Mutation), "subscriptionType": root(schema.Subscription),
		"types": types, "directives": directives}}})
	require.NoError(t, err)
	return out
}

// canonical is a document's canonical form, as the store keeps it.
func canonical(t *testing.T, k string, data []byte) string {
	t.Helper()
	p, err := kind.Parse(k, "want", data)
	require.NoError(t, err)
	return string(p.Canonical)
}

// kindCase is one kind of source and its versions.
type kindCase struct {
	name, kind        string
	v1, v2, local, v3 []byte
	// breaking is what the v1 → v2 change is called in the status.
	breaking string
	// merged are what the merge of local and v3 must contain.
	merged []string
	// src builds the source; set changes what it serves.
	src func(t *testing.T, id string) (source.Source, func([]byte))
}

func kindCases() []kindCase {
	sdlSource := func(t *testing.T, id string) (source.Source, func([]byte)) {
		srv := newSpecServer(t, []byte(gqlV1))
		return source.Source{ID: id, URL: srv.srv.URL + "/schema.graphql", Gate: source.GateHold},
			func(b []byte) { srv.set(func(s *specServer) { s.body = b }) }
	}
	introspectSource := func(t *testing.T, id string) (source.Source, func([]byte)) {
		name, secret := secretEnv(t)
		g := newGQLServer(t, gqlV1)
		t.Cleanup(func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			require.Equal(t, "Bearer "+secret, g.auth, "the source's headers go with the introspection query")
		})
		return source.Source{ID: id, URL: g.srv.URL + "/graphql", Introspect: true, Gate: source.GateHold,
				Headers: map[string]string{"Authorization": "Bearer ${" + name + "}"}},
			func(b []byte) { g.set(func(g *gqlServer) { g.sdl = string(b) }) }
	}
	postmanSource := func(t *testing.T, id string) (source.Source, func([]byte)) {
		srv := newSpecServer(t, pmV1)
		return source.Source{ID: id, URL: srv.srv.URL + "/collection.json", Kind: source.KindPostman, Gate: source.GateHold},
			func(b []byte) { srv.set(func(s *specServer) { s.body = b }) }
	}
	gql := func(name string, src func(*testing.T, string) (source.Source, func([]byte))) kindCase {
		return kindCase{name: name, kind: kind.GraphQL, v1: []byte(gqlV1), v2: []byte(gqlV2), local: []byte(gqlLocal), v3: []byte(gqlV3),
			breaking: "User.email", merged: []string{"nickname: String", "me: User"}, src: src}
	}
	return []kindCase{
		gql("graphql-sdl", sdlSource),
		gql("graphql-introspect", introspectSource),
		{name: "postman", kind: kind.Postman, v1: pmV1, v2: pmV2, local: pmLocal, v3: pmV3,
			breaking: "/Users/List users", merged: []string{"One user, by id (edited here).", "/Users/Delete user"}, src: postmanSource},
	}
}

func TestGraphQLAndPostmanSyncHoldAndMerge(t *testing.T) {
	for _, tc := range kindCases() {
		t.Run(tc.name, func(t *testing.T) {
			id := "e2e-kind-" + tc.name
			src, serve := tc.src(t, id)

			// v1: stored in canonical form, counted, its kind recorded.
			res := syncSource(t, src)
			require.Equal(t, syncjob.StatusCompleted, res.Status, res.Error)
			require.Equal(t, 1, res.Version)
			require.Positive(t, res.Operations)
			v1 := head(t, id)
			require.Equal(t, tc.kind, v1.Counts.Kind)
			got, err := env.store.GetBlob(t.Context(), v1.Hash)
			require.NoError(t, err)
			require.Equal(t, canonical(t, tc.kind, tc.v1), string(got))

			// v2 breaks clients: the gate holds it until someone approves.
			serve(tc.v2)
			run := startJob(t, src)
			st := waitingFor(t, id, syncjob.WaitApproval)
			require.Positive(t, st.BreakingChanges)
			require.Contains(t, strings.Join(st.Waiting.TopChanges, "\n"), tc.breaking)
			require.Equal(t, 1, head(t, id).Number, "nothing is stored while held")
			out, err := starter(t, "approve", id, "--by", "alice")
			require.NoError(t, err, out)
			res = jobResult(t, run)
			require.Equal(t, 2, res.Version, "%+v", res)
			v2 := head(t, id)
			require.Positive(t, v2.Breaking)
			got, err = env.store.GetBlob(t.Context(), v2.Hash)
			require.NoError(t, err)
			require.Equal(t, canonical(t, tc.kind, tc.v2), string(got))
			out, err = starter(t, "show", id+"@2")
			require.NoError(t, err, out)
			require.Contains(t, out, tc.breaking)

			// A local edit, pushed; then the source changes elsewhere: both survive.
			file := filepath.Join(t.TempDir(), "local")
			require.NoError(t, os.WriteFile(file, tc.local, 0o644))
			out, err = starter(t, "push", id, file, "--message", "local edit")
			require.NoError(t, err, out)
			v3 := head(t, id)
			require.Equal(t, 3, v3.Number)
			require.Equal(t, store.OriginPush, v3.Origin)
			require.Equal(t, tc.kind, v3.Counts.Kind)

			serve(tc.v3)
			res = syncSource(t, src)
			require.Equal(t, syncjob.StatusCompleted, res.Status, res.Error)
			require.False(t, res.Blocked, "an added request or field passes the gate")
			require.Equal(t, 4, res.Version, "%+v", res)
			require.Zero(t, res.Conflicts)
			v4 := head(t, id)
			require.Equal(t, store.OriginSync, v4.Origin)
			merged, err := env.store.GetBlob(t.Context(), v4.Hash)
			require.NoError(t, err)
			for _, want := range tc.merged {
				require.Contains(t, string(merged), want)
			}
			require.Equal(t, canonical(t, tc.kind, merged), string(merged), "the merged document is stored canonical")
		})
	}
}

// TestGraphQLAndPostmanConflictsAtReadableLocations: both sides change one
// field or request differently; the conflict names it as people do.
func TestGraphQLAndPostmanConflictsAtReadableLocations(t *testing.T) {
	for _, tc := range []struct {
		name, kind         string
		v1, local, remote  []byte
		location, resolved string
	}{
		{name: "graphql", kind: kind.GraphQL, v1: []byte(gqlV1),
			local:    []byte(strings.Replace(gqlV1, "name: String", "name: String!", 1)),
			remote:   []byte(strings.Replace(gqlV1, "name: String", "name: ID", 1)),
			location: "User.name", resolved: "name: ID"},
		{name: "postman", kind: kind.Postman, v1: pmV1,
			local:    postmanCollection(map[string]string{"Get user": pmGetUserEd, "List users": pmListUsers}),
			remote:   postmanCollection(map[string]string{"Get user": strings.Replace(pmGetUser, "One user.", "One user (upstream).", 1), "List users": pmListUsers}),
			location: "/Users/Get user", resolved: "One user (upstream)."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "e2e-kind-conflict-" + tc.name
			srv := newSpecServer(t, tc.v1)
			src := source.Source{ID: id, URL: srv.srv.URL + "/doc", Strategy: source.StrategyManual}
			require.Equal(t, 1, syncSource(t, src).Version)
			file := filepath.Join(t.TempDir(), "local")
			require.NoError(t, os.WriteFile(file, tc.local, 0o644))
			out, err := starter(t, "push", id, file)
			require.NoError(t, err, out)

			srv.set(func(s *specServer) { s.body = tc.remote })
			run := startJob(t, src)
			st := waitingFor(t, id, syncjob.WaitConflicts)
			require.NotEmpty(t, st.Waiting.Conflicts)
			c := st.Waiting.Conflicts[0]
			require.Contains(t, c.Location, tc.location, "%+v", st.Waiting.Conflicts)

			out, err = starter(t, "resolve", id, "--all", "remote", "--by", "erin")
			require.NoError(t, err, out)
			res := jobResult(t, run)
			require.Equal(t, syncjob.StatusCompleted, res.Status, res.Error)
			require.Equal(t, 3, res.Version)
			doc, err := env.store.GetBlob(t.Context(), head(t, id).Hash)
			require.NoError(t, err)
			require.Contains(t, string(doc), tc.resolved)
			require.Equal(t, canonical(t, tc.kind, doc), string(doc))
		})
	}
}

func TestGraphQLAndPostmanBadInputKeepsTheLastGoodVersion(t *testing.T) {
	cases := []struct {
		name string
		// start serves the good document and returns the source and how to break it.
		start func(t *testing.T, id string) (source.Source, func())
		want  []string
	}{
		{name: "sdl-invalid", want: []string{"line 7"}, start: func(t *testing.T, id string) (source.Source, func()) {
			srv := newSpecServer(t, []byte(gqlV1))
			return source.Source{ID: id, URL: srv.srv.URL + "/schema.graphql"},
				func() { srv.set(func(s *specServer) { s.body = []byte(gqlBroken) }) }
		}},
		{name: "introspect-errors", want: []string{"introspect", "not allowed"}, start: func(t *testing.T, id string) (source.Source, func()) {
			g := newGQLServer(t, gqlV1)
			return source.Source{ID: id, URL: g.srv.URL + "/graphql", Introspect: true},
				func() {
					g.set(func(g *gqlServer) {
						g.answer = `{"errors":[{"message":"GraphQL introspection is not allowed"}],"data":null}`
					})
				}
		}},
		{name: "introspect-html", want: []string{"introspect", "html"}, start: func(t *testing.T, id string) (source.Source, func()) {
			g := newGQLServer(t, gqlV1)
			return source.Source{ID: id, URL: g.srv.URL + "/graphql", Introspect: true},
				func() { g.set(func(g *gqlServer) { g.answer = "<!DOCTYPE html>\n<html><body>Sign in</body></html>" }) }
		}},
		{name: "postman-v1", want: []string{"v1"}, start: func(t *testing.T, id string) (source.Source, func()) {
			srv := newSpecServer(t, pmV1)
			return source.Source{ID: id, URL: srv.srv.URL + "/collection.json"},
				func() { srv.set(func(s *specServer) { s.body = pmV1x }) }
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := "e2e-kind-bad-" + tc.name
			src, breakIt := tc.start(t, id)
			res := syncSource(t, src)
			require.Equal(t, 1, res.Version, "%+v", res)
			good := head(t, id)

			breakIt()
			in := fastRetries(1)
			in.Source = src
			res, err := syncjob.Start(t.Context(), env.client, in, true)
			require.Error(t, err)
			require.Equal(t, syncjob.StatusFailed, res.Status)
			st := status(t, id)
			require.Contains(t, st.LastError, id, "the error names the source")
			for _, w := range tc.want {
				require.Contains(t, strings.ToLower(st.LastError), strings.ToLower(w))
			}
			require.Equal(t, 0, st.RetryCount, "bad input is not retried")
			after := head(t, id)
			require.Equal(t, good.Number, after.Number, "the last good version stays current")
			require.Equal(t, good.Hash, after.Hash)
		})
	}
}

func TestGraphQLAndPostmanStarterDiffOffline(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, data, 0o644))
		return p
	}
	g1, g2 := write("v1.graphql", []byte(gqlV1)), write("v2.gql", []byte(gqlV2))
	p1, p2 := write("v1.postman_collection.json", pmV1), write("v2.json", pmV2)

	// GraphQL: text names the coordinate; --fail-on-breaking exits 1.
	out, err := starter(t, "diff", g1, g2, "--fail-on-breaking")
	var exit *cli.ExitError
	require.ErrorAs(t, err, &exit, out)
	require.Equal(t, 1, exit.Code)
	require.Contains(t, out, "User.email")
	out, err = starter(t, "diff", g1, g2, "--format", "markdown")
	require.NoError(t, err, out)
	require.Contains(t, out, "User.email")
	out, err = starter(t, "diff", g1, g1, "--fail-on-breaking")
	require.NoError(t, err, out)

	// Postman: the JSON report carries the removed request as breaking.
	out, err = starter(t, "diff", p1, p2, "--format", "json")
	require.NoError(t, err, out)
	var rep struct {
		Total, Breaking int
		RuleSet         string `json:"ruleSet"`
		Changes         []struct {
			Pointer  string `json:"pointer"`
			Rule     string `json:"rule"`
			Breaking bool   `json:"breaking"`
		} `json:"changes"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	require.Equal(t, postman.RuleSet, rep.RuleSet)
	require.Positive(t, rep.Breaking)
	found := false
	for _, c := range rep.Changes {
		found = found || (c.Pointer == "/Users/List users" && c.Rule == postman.RuleRequestRemoved && c.Breaking)
	}
	require.True(t, found, "%+v", rep.Changes)

	// Two kinds: refused, naming both files and kinds.
	_, err = starter(t, "diff", g1, p2)
	require.ErrorAs(t, err, &exit)
	for _, want := range []string{g1, "graphql", p2, "postman"} {
		require.ErrorContains(t, err, want)
	}
	// A broken schema is refused with its line.
	bad := write("bad.graphql", []byte(gqlBroken))
	_, err = starter(t, "diff", g1, bad)
	require.ErrorContains(t, err, "line 7")
	require.ErrorContains(t, err, bad)
}

// TestStarterSyncGraphQLAndPostmanFiles: `starter sync --source FILE` takes
// a schema or a collection (kind detected), and a source's filePath works.
func TestStarterSyncGraphQLAndPostmanFiles(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		file, kind string
		data       []byte
	}{
		{"people.graphql", kind.GraphQL, []byte(gqlV1)},
		{"people.gql", kind.GraphQL, []byte(gqlV2)},
		{"people.postman_collection.json", kind.Postman, pmV1},
	} {
		t.Run(tc.file, func(t *testing.T) {
			file := filepath.Join(dir, tc.file)
			require.NoError(t, os.WriteFile(file, tc.data, 0o644))
			id := "e2e-kind-file-" + strings.ReplaceAll(tc.file, ".", "-")
			out, err := starter(t, "sync", "--source", file, "--id", id, "--wait", "--json")
			require.NoError(t, err, out)
			var res syncjob.SyncJobResult
			require.NoError(t, json.Unmarshal([]byte(out), &res), out)
			require.Equal(t, syncjob.StatusCompleted, res.Status, res.Error)
			require.Equal(t, 1, res.Version)
			require.Equal(t, tc.kind, head(t, id).Counts.Kind)

			// The same file as a source's filePath (the design's name for file).
			res2 := syncSource(t, source.Source{ID: id + "-fp", FilePath: file})
			require.Equal(t, syncjob.StatusCompleted, res2.Status, res2.Error)
			require.Equal(t, res.VersionHash, res2.VersionHash, "one document, one hash")
		})
	}
}
