package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/apilivesync/apilivesync/internal/fetch"
	"github.com/apilivesync/apilivesync/internal/source"
)

// TestValidateWithRefusesWhatFetchWouldRefuse: apply refuses metadata and
// private addresses, files outside the roots and references outside the
// allow-list, each at its file:line:col.
func TestValidateWithRefusesWhatFetchWouldRefuse(t *testing.T) {
	dir := t.TempDir()
	specs := filepath.Join(dir, "specs")
	require.NoError(t, os.MkdirAll(specs, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(specs, "ok.yaml"), []byte("openapi: 3.1.0\n"), 0o644))
	require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(specs, "passwd.yaml")))
	conf := filepath.Join(dir, "livesync.yaml")
	data := strings.Join([]string{
		"version: 1",       // 1
		"sources:",         // 2
		"  - id: metadata", // 3
		"    url: http://169.254.169.254/latest/meta-data/", // 4
		"  - id: private",                                  // 5
		"    url: https://10.1.2.3/openapi.json",           // 6
		"  - id: local",                                    // 7
		"    url: http://localhost:9000/openapi.json",      // 8
		"  - id: fine",                                     // 9
		"    filePath: specs/ok.yaml",                      // 10
		"    headers:",                                     // 11
		"      Authorization: Bearer ${LIVESYNC_SRC_FINE}", // 12
		"  - id: outside",                                  // 13
		"    file: ../../../../../../../etc/hosts",         // 14
		"  - id: linked",                                   // 15
		"    filePath: specs/passwd.yaml",                  // 16
		"  - id: borrower",                                 // 17
		"    url: https://api.example.com/openapi.json",    // 18
		"    headers:",                                     // 19
		"      Authorization: env:HOOK_SECRET",             // 20
		"      X-Other: ${NOT_ALLOWED}",                    // 21
		"  - id: proc",                                     // 22
		"    file: /proc/self/environ",                     // 23
		"webhooks:",                                        // 24
		"  - url: http://[fd00::1]/hook",                   // 25
		"    secretEnv: HOOK_SECRET",                       // 26
		"",
	}, "\n")
	require.NoError(t, os.WriteFile(conf, []byte(data), 0o644))
	cfg, err := parseBytes(conf, []byte(data))
	require.NoError(t, err, "the file itself is well-formed")

	policy := Policy{SourceRoots: []string{specs}, Secrets: source.SecretPolicy{Env: []string{"LIVESYNC_SRC_*", "HOOK_*"}}}
	err = ValidateWith(cfg, policy)
	var errs Errors
	require.ErrorAs(t, err, &errs)
	got := map[string]Error{}
	for _, e := range errs {
		got[e.Field] = e
	}
	for _, tc := range []struct {
		field     string
		line, col int
		want      []string
	}{
		{"sources[0].url", 4, 5, []string{"169.254.169.254 is a link-local (this range includes cloud metadata endpoints) address, which the fetch guard refuses"}},
		{"sources[1].url", 6, 5, []string{"10.1.2.3 is a private address", "private networks are off by default"}},
		{"sources[2].url", 8, 5, []string{"localhost stands for 127.0.0.1, a loopback address"}},
		{"sources[4].file", 14, 5, []string{"outside the source roots: " + specs, "-source-dir"}},
		{"sources[5].filePath", 16, 5, []string{"resolves to /etc/passwd", "outside the source roots"}},
		{"sources[6].headers.Authorization", 20, 7, []string{"env:HOOK_SECRET is not allowed", "worker's own secrets", "allowed env: LIVESYNC_SRC_*, HOOK_*, LIVESYNC_SOURCE_*"}},
		{"sources[6].headers.X-Other", 21, 7, []string{"${NOT_ALLOWED} is not allowed", "not in the allow-list"}},
		{"sources[7].file", 23, 5, []string{"/proc, /sys and /dev are never read"}},
		{"webhooks[0].url", 25, 5, []string{"fd00::1 is a private address"}},
	} {
		t.Run(tc.field, func(t *testing.T) {
			e, ok := got[tc.field]
			require.True(t, ok, "no problem at %s in:\n%v", tc.field, err)
			require.Equal(t, conf, e.File)
			require.Equal(t, tc.line, e.Line)
			require.Equal(t, tc.col, e.Column)
			for _, w := range tc.want {
				require.Contains(t, e.Msg, w)
			}
			require.True(t, strings.HasPrefix(e.Error(), conf+":"))
		})
	}
	require.Len(t, errs, 9, "the fine source passes: %v", err)

	// What the operator allows passes.
	cfg2, err := parseBytes(conf, []byte(strings.Join([]string{
		"version: 1",
		"sources:",
		"  - {id: dev, url: 'http://localhost:9000/openapi.json'}",
		"  - {id: internal, url: 'https://10.1.2.3/openapi.json'}",
		"  - {id: fine, filePath: specs/ok.yaml, headers: {Authorization: 'Bearer ${LIVESYNC_SOURCE_FINE}'}}",
		"fetch: {allow: [10.1.2.0/24]}",
	}, "\n")))
	require.NoError(t, err)
	require.NoError(t, ValidateWith(cfg2, cfg2.Policy(Policy{Guard: fetch.GuardOptions{AllowLoopback: true}, SourceRoots: []string{specs}})))
	require.Error(t, ValidateWith(cfg2, Policy{SourceRoots: []string{specs}}), "fetch.allow counts only through Config.Policy")
}

func TestCaseDuplicateIDs(t *testing.T) {
	_, err := parseBytes("c.yaml", []byte("version: 1\nsources:\n  - {id: payments, url: 'https://a.example.com/'}\n  - {id: Payments, url: 'https://b.example.com/'}\n"))
	var one Error
	require.ErrorAs(t, err, &one)
	require.Equal(t, Error{File: "c.yaml", Line: 4, Column: 6, Field: "sources[1].id",
		Msg: `source id "Payments" differs only in case from "payments" (line 3): IDs name workflows and store keys, which may ignore case; rename one`}, one)

	_, err = parseBytes("c.yaml", []byte("version: 1\napis: [{id: shop}, {id: SHOP}]\n"))
	require.ErrorContains(t, err, `c.yaml:2:21: apis[1].id: api id "SHOP" differs only in case from "shop"`)
}

func TestConfigPolicy(t *testing.T) {
	dir := t.TempDir()
	cfg, err := parseBytes(filepath.Join(dir, "c.yaml"), []byte(strings.Join([]string{
		"version: 1",
		"ai: {model: m, apiKeyEnv: MY_AI_KEY}",
		"webhooks: [{url: 'https://h.example.com/', secretEnv: MY_HOOK_KEY}]",
		"fetch:",
		"  allowPrivate: true",
		"  allow: [specs.internal]",
		"  sourceDirs: [specs]",
		"  secrets: {env: [LIVESYNC_SRC_*, '*_TOKEN'], dirs: [secrets], deny: [OLD_TOKEN]}",
	}, "\n")))
	require.NoError(t, err)
	require.Equal(t, []string{"MY_HOOK_KEY", "MY_AI_KEY"}, cfg.WorkerSecretEnv())
	p := cfg.Policy(Policy{SourceRoots: []string{"/srv/specs"}, Secrets: source.SecretPolicy{Env: []string{"PAYMENTS_TOKEN"}}})
	require.Equal(t, Policy{
		Guard:       fetch.GuardOptions{AllowPrivate: true, Allow: []string{"specs.internal"}},
		SourceRoots: []string{"/srv/specs", filepath.Join(dir, "specs")},
		Secrets: source.SecretPolicy{
			Env:  []string{"PAYMENTS_TOKEN", "LIVESYNC_SRC_*", "*_TOKEN"},
			Dirs: []string{filepath.Join(dir, "secrets")},
			Deny: []string{"OLD_TOKEN", "MY_HOOK_KEY", "MY_AI_KEY"},
		},
	}, p)
	opts := p.Apply(cfg.FetchOptions())
	require.Equal(t, p.Guard, opts.Guard)
	require.Equal(t, p.SourceRoots, opts.SourceRoots)
	require.Equal(t, p.Secrets, opts.Secrets)
	require.ErrorContains(t, p.Secrets.CheckEnv("MY_HOOK_KEY"), "worker's own secrets")
	require.ErrorContains(t, p.Secrets.CheckEnv("OLD_TOKEN"), "worker's own secrets")
	require.NoError(t, p.Secrets.CheckEnv("GITHUB_TOKEN"))

	_, err = parseBytes("c.yaml", []byte("version: 1\nfetch:\n  secrets: {env: [A-B], dirs: [/proc/x]}\n"))
	require.ErrorContains(t, err, `c.yaml:3:19: fetch.secrets.env[0]: "A-B": want a variable name`)
	require.ErrorContains(t, err, `fetch.secrets.dirs[0]: "/proc/x": it would expose /proc`)
}

func TestIssue13SourceFields(t *testing.T) {
	cfg, err := parseBytes("deploy/c.yaml", []byte(strings.Join([]string{
		"version: 1",
		"sources:",
		"  - {id: gql, url: 'https://api.example.com/graphql', kind: graphql, introspect: true}",
		"  - {id: sdl, filePath: schema.graphql, kind: graphql, strict: true}",
		"  - {id: pm, file: collection.json, kind: postman}",
		"  - {id: detect, filePath: spec.yaml}",
	}, "\n")))
	require.NoError(t, err)
	res := cfg.Resolved()
	require.True(t, res[0].Introspect)
	require.Equal(t, source.KindGraphQL, res[0].Kind)
	require.Equal(t, filepath.Join("deploy", "schema.graphql"), res[1].File, "filePath is read into File")
	require.Empty(t, res[1].FilePath)
	require.True(t, res[1].Strict)
	require.Equal(t, filepath.Join("deploy", "collection.json"), res[2].File)
	require.Equal(t, source.KindPostman, res[2].Kind)
	require.Empty(t, res[3].Kind, "an empty kind is detected from the content")

	_, err = parseBytes("c.yaml", []byte("version: 1\nsources:\n  - id: x\n    url: https://a.example.com/\n    kind: postman\n    introspect: true\n"))
	require.ErrorContains(t, err, `c.yaml:6:5: sources[0].introspect: only a graphql source can be introspected, not kind "postman"`)
	_, err = parseBytes("c.yaml", []byte("version: 1\nsources:\n  - id: x\n    introspect: yes please\n"))
	require.ErrorContains(t, err, `c.yaml:4:17: sources[0].introspect: want true or false`)

	// A source written with filePath resolves as one written with file.
	require.Equal(t, normalize(source.Source{ID: "a", File: "/x.yaml"}), normalize(source.Source{ID: "a", FilePath: "/x.yaml"}))
}
