package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/apilivesync/apilivesync/internal/source"
)

var updateGolden = os.Getenv("UPDATE_GOLDEN") == "1"

func dur(d time.Duration) source.Duration { return source.Duration(d) }

func ptr[T any](v T) *T { return &v }

// parseBytes decodes a config file's bytes as Load does, without reading
// the file or checking that file sources and rules files exist; name labels
// errors and its directory resolves relative paths.
func parseBytes(name string, data []byte) (*Config, error) {
	d := newDecoder(name, filepath.Dir(name))
	cfg := d.parse(data)
	if err := d.result(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// TestNormalize checks what Resolved relies on: normalize fills every
// default, so a source written with defaults left out equals one written
// with them filled in, reads filePath into File, copies what it keeps, and
// changes nothing the second time.
func TestNormalize(t *testing.T) {
	on := true
	bare := source.Source{ID: "a", URL: "https://a/"}
	written := source.Source{ID: "a", URL: "https://a/", API: "a", Strategy: source.StrategyPreferRemote,
		Gate: source.GateAuto, Priority: "medium", Enabled: &on, HoldTimeout: source.Duration(source.DefaultDecisionTimeout),
		ManualTimeout: source.Duration(source.DefaultDecisionTimeout), OnHoldTimeout: "reject", OnManualTimeout: "fail",
		Headers: map[string]string{}}
	got := normalize(bare)
	require.Equal(t, "a", got.API)
	require.Equal(t, source.StrategyPreferRemote, got.Strategy)
	require.Equal(t, source.GateAuto, got.Gate)
	require.Equal(t, "medium", got.Priority)
	require.True(t, got.IsEnabled())
	require.Equal(t, "reject", got.OnHoldTimeout)
	require.Equal(t, "fail", got.OnManualTimeout)
	require.Nil(t, got.Headers)
	require.Equal(t, got, normalize(written), "defaults written out equal defaults left out")
	require.Equal(t, got, normalize(got), "normalizing twice changes nothing")

	file := normalize(source.Source{ID: "a", FilePath: "/x.yaml"})
	require.Equal(t, "/x.yaml", file.File, "filePath is read into File")
	require.Empty(t, file.FilePath)
	require.Equal(t, normalize(source.Source{ID: "a", File: "/x.yaml"}), file)

	in := source.Source{ID: "a", URL: "https://a/", Headers: map[string]string{"A": "env:X"},
		Owns: source.Ownership{PathPrefixes: []string{"/b", "/a"}, Paths: []string{}}}
	out := normalize(in)
	require.Nil(t, out.Owns.Paths)
	out.Headers["A"] = "env:Y"
	out.Owns.PathPrefixes[0] = "/c"
	require.Equal(t, "env:X", in.Headers["A"], "headers are copied")
	require.Equal(t, []string{"/b", "/a"}, in.Owns.PathPrefixes, "owned lists are copied")
}

func TestLoadExample(t *testing.T) {
	cfg, err := Load("testdata/example.yaml")
	require.NoError(t, err)
	dir, err := filepath.Abs("testdata")
	require.NoError(t, err)

	require.Equal(t, 1, cfg.Version)
	require.Equal(t, dir, cfg.Dir)
	require.Equal(t, Engine{MaxConcurrent: 4, FailureThreshold: 5, Jitter: dur(30 * time.Second),
		DefaultRefresh: dur(30 * time.Minute), DefaultPriority: "medium"}, cfg.Engine)
	require.Equal(t, []API{
		{ID: "shop", Name: "Shop (public API)", Strategy: source.StrategySourcePriority, Gate: source.GateHold,
			RulesFile: filepath.Join(dir, "rules", "strict.yaml"), HoldTimeout: dur(48 * time.Hour), OnHoldTimeout: "reject",
			ManualTimeout: dur(2 * time.Hour), OnManualTimeout: source.StrategyPreferRemote},
		{ID: "partners", Strategy: source.StrategyAI, Gate: source.GateBlock, AIRetryWindow: dur(2 * time.Hour), AIMaxReasks: ptr(1)},
	}, cfg.APIs)
	require.Equal(t, AI{BaseURL: "https://api.openai.com/v1", Model: "gpt-4o-mini", APIKeyEnv: "OPENAI_API_KEY", Timeout: dur(time.Minute)}, cfg.AI)
	require.Equal(t, []Webhook{
		{URL: "https://hooks.example.com/livesync", SecretEnv: "LIVESYNC_WEBHOOK_SECRET", Events: []string{EventSyncCompleted, EventSyncFailed}},
		{URL: "https://audit.example.com/events", SecretEnv: "AUDIT_WEBHOOK_SECRET"},
	}, cfg.Webhooks)
	require.Equal(t, Fetch{MaxBytes: 10 << 20, Timeout: dur(45 * time.Second), Allow: []string{"billing.internal", "10.20.0.0/16"},
		SourceDirs: []string{filepath.Join(dir, "specs")},
		Secrets:    source.SecretPolicy{Env: []string{"INTERNAL_TOKEN", "ORDERS_TOKEN"}, Dirs: []string{"/run/secrets"}}}, cfg.Fetch)
	p := cfg.Policy(Policy{})
	require.NoError(t, ValidateWith(cfg, p), "the example passes under its own policy")
	require.Equal(t, []string{"LIVESYNC_WEBHOOK_SECRET", "AUDIT_WEBHOOK_SECRET", "OPENAI_API_KEY"}, p.Secrets.Deny)
	opts := cfg.FetchOptions()
	require.Equal(t, int64(10<<20), opts.MaxBytes)
	require.Equal(t, 45*time.Second, opts.Timeout)
	require.Equal(t, dir, opts.BaseDir)
	require.NoError(t, opts.Guard.Validate())
	require.Equal(t, 30*time.Second, cfg.Engine.JitterFor(time.Hour))

	res := cfg.Resolved()
	type want struct {
		api, strategy, gate, priority string
		refresh, hold, manual         time.Duration
		onHold, onManual              string
		enabled                       bool
		location                      string
		headers                       map[string]string
	}
	internal := map[string]string{"Authorization": "env:INTERNAL_TOKEN"}
	wants := map[string]want{
		// API defaults fill strategy, gate and timeouts; the merged anchor gives priority and headers.
		"shop-catalog": {"shop", "source-priority", "hold", "high", 5 * time.Minute, 48 * time.Hour, 2 * time.Hour, "reject", "prefer-remote", true,
			"https://catalog.example.com/openapi.json", internal},
		// Engine defaults fill priority and refresh.
		"shop-orders": {"shop", "source-priority", "hold", "medium", 30 * time.Minute, 48 * time.Hour, 2 * time.Hour, "reject", "prefer-remote", true,
			"https://orders.example.com/v3/api-docs", map[string]string{"Authorization": "${ORDERS_TOKEN}", "X-Client-Cert": "file:/run/secrets/orders-client"}},
		// refreshInterval: 0 stays on demand; the file resolves against the config's directory.
		"inventory": {"inventory", "prefer-local", "auto", "low", 0, 24 * time.Hour, 24 * time.Hour, "reject", "fail", true,
			filepath.Join(dir, "specs", "inventory.yaml"), nil},
		// The source's own timeouts win over the API's; numbers are seconds.
		"partners-gateway": {"partners", "ai", "block", "medium", time.Hour, 12 * time.Hour, 30 * time.Minute, "approve", "fail", false,
			"https://gateway.partners.example.com/swagger.json", nil},
		// An undeclared API: the source package's defaults.
		"billing": {"billing", "prefer-remote", "auto", "high", 30 * time.Minute, 24 * time.Hour, 24 * time.Hour, "reject", "fail", true,
			"http://billing.internal:8080/openapi.yaml", internal},
	}
	require.Len(t, res, len(wants))
	for _, s := range res {
		t.Run(s.ID, func(t *testing.T) {
			w, ok := wants[s.ID]
			require.True(t, ok)
			require.NoError(t, s.Validate())
			got := want{s.API, s.Strategy, s.Gate, s.Priority, s.RefreshInterval.Std(), s.HoldTimeout.Std(), s.ManualTimeout.Std(),
				s.OnHoldTimeout, s.OnManualTimeout, s.IsEnabled(), s.Location(), s.Headers}
			require.Equal(t, w, got)
			if s.ID == "shop-catalog" {
				require.Equal(t, source.KindOpenAPI, s.Kind)
			} else {
				require.Empty(t, s.Kind, "detected from the content")
			}
		})
	}
	// AI settings: the source's window wins, the API's re-asks fill in; other sources leave both to the job's defaults.
	ai := map[string]source.Source{}
	for _, s := range res {
		ai[s.ID] = source.Source{AIRetryWindow: s.AIRetryWindow, AIMaxReasks: s.AIMaxReasks}
	}
	require.Equal(t, source.Source{AIRetryWindow: dur(15 * time.Minute), AIMaxReasks: ptr(1)}, ai["partners-gateway"])
	require.Equal(t, source.Source{}, ai["shop-catalog"])
	require.Equal(t, []string{"/products", "/categories"}, res[0].Owns.PathPrefixes)
	require.Equal(t, 2, res[1].Rank)
	// Resolved leaves the config as written.
	require.Empty(t, cfg.Sources[1].Priority)
	require.Empty(t, cfg.Sources[2].API)
}

// TestAISettingsResolve: a source's aiRetryWindow and aiMaxReasks win over
// its API's, which fill what the source leaves out; aiMaxReasks 0 is kept
// (never ask again), unlike a field left out (the job's default).
func TestAISettingsResolve(t *testing.T) {
	const file = "version: 1\n" +
		"apis: [{id: p, strategy: ai, aiRetryWindow: 2h, aiMaxReasks: 2}]\n" +
		"sources:\n" +
		"  - {id: inherits, url: https://a.example.com/a.json, api: p, rank: 1}\n" +
		"  - {id: own, url: https://b.example.com/b.json, api: p, rank: 2, aiRetryWindow: 90s, aiMaxReasks: 0}\n" +
		"  - {id: plain, url: https://c.example.com/c.json, strategy: ai}\n"
	cfg, err := parseBytes("livesync.yaml", []byte(file))
	require.NoError(t, err)
	type ai struct {
		window time.Duration
		reasks *int
	}
	got := map[string]ai{}
	for _, s := range cfg.Resolved() {
		require.NoError(t, s.Validate())
		got[s.ID] = ai{s.AIRetryWindow.Std(), s.AIMaxReasks}
	}
	require.Equal(t, map[string]ai{
		"inherits": {2 * time.Hour, ptr(2)},
		"own":      {90 * time.Second, ptr(0)},
		"plain":    {0, nil},
	}, got)
	*cfg.Resolved()[0].AIMaxReasks = 7
	require.Equal(t, 2, *cfg.APIs[0].AIMaxReasks, "Resolved copies the API's count, never shares it")
}

func TestParseDefaults(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		engine  Engine
		refresh map[string]time.Duration
	}{
		{
			name:    "engine left out",
			yaml:    "version: 1\nsources:\n  - {id: a, url: https://a.example.com/a.json}\n  - {id: b, url: https://b.example.com/b.json, refreshInterval: 0}\n",
			engine:  Engine{MaxConcurrent: 10, FailureThreshold: 5, DefaultRefresh: dur(time.Hour), DefaultPriority: "medium"},
			refresh: map[string]time.Duration{"a": time.Hour, "b": 0},
		},
		{
			name:    "defaultRefresh 0 makes every source on demand",
			yaml:    "version: 1\nengine: {defaultRefresh: 0, defaultPriority: low}\nsources:\n  - {id: a, url: https://a.example.com/a.json}\n  - {id: b, url: https://b.example.com/b.json, refreshInterval: 15s}\n",
			engine:  Engine{MaxConcurrent: 10, FailureThreshold: 5, DefaultPriority: "low"},
			refresh: map[string]time.Duration{"a": 0, "b": 15 * time.Second},
		},
		{
			name:    "empty file lists",
			yaml:    "version: 1\napis:\nsources: []\nwebhooks: ~\n",
			engine:  Engine{MaxConcurrent: 10, FailureThreshold: 5, DefaultRefresh: dur(time.Hour), DefaultPriority: "medium"},
			refresh: map[string]time.Duration{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseBytes("livesync.yaml", []byte(tt.yaml))
			require.NoError(t, err)
			require.Equal(t, tt.engine, cfg.Engine)
			got := map[string]time.Duration{}
			for _, s := range cfg.Resolved() {
				got[s.ID] = s.RefreshInterval.Std()
				require.Equal(t, tt.engine.DefaultPriority, s.Priority)
			}
			require.Equal(t, tt.refresh, got)
		})
	}
}

func TestJitterFor(t *testing.T) {
	tests := []struct {
		jitter, interval, want time.Duration
	}{
		{0, 5 * time.Minute, 30 * time.Second},
		{0, time.Hour, time.Minute},
		{0, 0, 0},
		{5 * time.Second, time.Hour, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.interval.String()+"/"+tt.jitter.String(), func(t *testing.T) {
			require.Equal(t, tt.want, Engine{Jitter: dur(tt.jitter)}.JitterFor(tt.interval))
		})
	}
}

// TestInvalidFiles loads each file in testdata/invalid and compares every
// reported problem with the golden list (UPDATE_GOLDEN=1 rewrites it).
func TestInvalidFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	dir, err := filepath.Abs("testdata")
	require.NoError(t, err)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cfg, err := Load(f)
			require.Error(t, err)
			require.Nil(t, cfg)
			var errs Errors
			require.ErrorAs(t, err, &errs)
			for _, e := range errs {
				require.Equal(t, f, e.File)
			}
			got := strings.ReplaceAll(err.Error(), dir, "$TESTDATA") + "\n"
			golden := strings.TrimSuffix(f, ".yaml") + ".golden"
			if updateGolden {
				require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run with UPDATE_GOLDEN=1 to create it")
			require.Equal(t, string(want), got)
			if filepath.Base(f) != "syntax.yaml" {
				require.Greater(t, len(errs), 3, "every problem of the file is reported")
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	const head = "version: 1\n"
	tests := []struct {
		name string
		yaml string
		want []string // nil: the file is valid
	}{
		{
			name: "x- fields hold anchors and are ignored",
			yaml: head + "x-common: &c {priority: low}\nsources:\n  - id: a\n    url: https://a.example.com/a.json\n    x-note: anything\n    <<: *c\n",
		},
		{
			name: "written keys win over merged ones",
			yaml: head + "x-c: &c {priority: urgent, gate: hold}\nsources:\n  - {id: a, url: https://a.example.com/a.json, priority: low, <<: *c}\n",
		},
		{
			name: "merged bad value is reported at the anchor",
			yaml: head + "x-c: &c {gate: maybe}\nsources:\n  - id: a\n    url: https://a.example.com/a.json\n    <<: [*c]\n",
			want: []string{`c.yaml:2:10: sources[0].gate: "maybe": want auto, hold or block`},
		},
		{
			name: "alias cycle",
			yaml: head + "sources:\n  - &m {id: a, url: 'https://a.example.com/', <<: *m}\n",
			want: []string{`c.yaml:3:51: sources[0]: alias refers to a value that contains it`},
		},
		{
			name: "undeclared API far from any declared one is implicit",
			yaml: head + "apis: [{id: payments}]\nsources:\n  - {id: a, url: https://a.example.com/a.json, api: analytics}\n",
		},
		{
			name: "near-miss of a declared API is refused",
			yaml: head + "apis: [{id: users-v1}]\nsources:\n  - {id: a, url: https://a.example.com/a.json, api: users-v2}\n",
			want: []string{`c.yaml:4:48: sources[0].api: api "users-v2" is not declared under apis (did you mean users-v1?); declare it to feed a separate API`},
		},
		{
			name: "misspelt field is not also reported missing",
			yaml: head + "sources:\n  - id: a\n    URL: https://a.example.com/a.json\n",
			want: []string{`c.yaml:4:5: sources[0].URL: unknown field "URL" (did you mean url?)`},
		},
		{
			name: "missing version",
			yaml: "sources: []\n",
			want: []string{`c.yaml: version: required: set version: 1`},
		},
		{
			name: "empty file",
			yaml: "",
			want: []string{`c.yaml: version: required: set version: 1`},
		},
		{
			name: "top level is a list",
			yaml: "- version: 1\n",
			want: []string{`c.yaml: version: required: set version: 1`, `c.yaml:1:1: want a mapping, got a list`},
		},
		{
			name: "ranks differ so overlap is allowed",
			yaml: head + "sources:\n  - {id: a, url: https://a.example.com/a.json, api: x, rank: 1}\n  - {id: b, url: https://b.example.com/b.json, api: x, rank: 2}\n",
		},
		{
			name: "disjoint owners of one API",
			yaml: head + "sources:\n  - {id: a, url: https://a.example.com/a.json, api: x, owns: {pathPrefixes: [/a], components: [schemas/A*]}}\n" +
				"  - {id: b, url: https://b.example.com/b.json, api: x, owns: {pathPrefixes: [/b], paths: [/c], components: [schemas/B]}}\n",
		},
		{
			name: "exact path under another source's prefix",
			yaml: head + "sources:\n  - {id: a, url: https://a.example.com/a.json, api: x, owns: {pathPrefixes: [/a]}}\n" +
				"  - {id: b, url: https://b.example.com/b.json, api: x, owns: {paths: [/a/b]}}\n",
			want: []string{`c.yaml:4:56: sources[1].owns: source "b" overlaps source "a" (line 3) on api "x": both own path "/a/b" with rank 0; give them different ranks or disjoint owns`},
		},
		{
			name: "unrestricted source overlaps a restricted one",
			yaml: head + "sources:\n  - {id: a, url: https://a.example.com/a.json, api: x}\n" +
				"  - {id: b, url: https://b.example.com/b.json, api: x, owns: {components: [schemas/B]}}\n",
			want: []string{`c.yaml:4:56: sources[1].owns: source "b" overlaps source "a" (line 3) on api "x": both own components "schemas/B" with rank 0; give them different ranks or disjoint owns`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseBytes("c.yaml", []byte(tt.yaml))
			if tt.want == nil {
				require.NoError(t, err)
				require.NotNil(t, cfg)
				return
			}
			var errs Errors
			require.ErrorAs(t, err, &errs)
			got := make([]string, len(errs))
			for i, e := range errs {
				got[i] = e.Error()
			}
			require.Equal(t, tt.want, got)
		})
	}
}

func TestMergedValues(t *testing.T) {
	cfg, err := parseBytes("c.yaml", []byte("version: 1\nx-c: &c {priority: high, gate: hold, headers: {A: env:A}}\n"+
		"sources:\n  - {id: a, url: https://a.example.com/a.json, priority: low, <<: *c}\n  - {id: b, url: https://b.example.com/b.json, <<: *c}\n"))
	require.NoError(t, err)
	require.Equal(t, "low", cfg.Sources[0].Priority)
	require.Equal(t, "high", cfg.Sources[1].Priority)
	require.Equal(t, source.GateHold, cfg.Sources[1].Gate)
	// Each source gets its own map.
	cfg.Sources[0].Headers["A"] = "env:B"
	require.Equal(t, "env:A", cfg.Sources[1].Headers["A"])
}

func TestAliasBomb(t *testing.T) {
	// Each level merges the previous one ten times: 10^8 fields once expanded.
	var b strings.Builder
	b.WriteString("version: 1\nx-0: &l0 {id: x}\n")
	for i := 1; i <= 8; i++ {
		prev := fmt.Sprintf("*l%d", i-1)
		fmt.Fprintf(&b, "x-%d: &l%d {<<: [%s]}\n", i, i, strings.TrimSuffix(strings.Repeat(prev+", ", 10), ", "))
	}
	b.WriteString("sources: [*l8]\n")
	_, err := parseBytes("bomb.yaml", []byte(b.String()))
	var errs Errors
	require.ErrorAs(t, err, &errs)
	require.Len(t, errs, 1)
	require.Contains(t, errs[0].Msg, "too large once its aliases are expanded")
}

func TestRelativePaths(t *testing.T) {
	abs := filepath.Join(t.TempDir(), "abs.yaml")
	tests := []struct {
		name, config, file, rules string
		wantFile, wantRules       string
	}{
		{"relative to the config's directory", "deploy/livesync.yaml", "specs/a.yaml", "rules.yaml",
			filepath.Join("deploy", "specs", "a.yaml"), filepath.Join("deploy", "rules.yaml")},
		{"parent directory", "deploy/prod/livesync.yaml", "../specs/a.yaml", "../../rules.yaml",
			filepath.Join("deploy", "specs", "a.yaml"), "rules.yaml"},
		{"config in the working directory", "livesync.yaml", "a.yaml", "r.yaml", "a.yaml", "r.yaml"},
		{"absolute paths stay", "deploy/livesync.yaml", abs, abs, abs, abs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := "version: 1\napis: [{id: x, rulesFile: '" + tt.rules + "'}]\nsources: [{id: a, api: x, file: '" + tt.file + "'}]\n"
			cfg, err := parseBytes(tt.config, []byte(data))
			require.NoError(t, err)
			require.Equal(t, tt.wantFile, cfg.Sources[0].File)
			require.Equal(t, tt.wantRules, cfg.APIs[0].RulesFile)
			require.Equal(t, tt.wantFile, cfg.Resolved()[0].File)
		})
	}

	t.Run("Load makes them absolute", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "conf", "specs"), 0o755))
		spec := filepath.Join(dir, "conf", "specs", "a.yaml")
		require.NoError(t, os.WriteFile(spec, []byte("openapi: 3.0.3\n"), 0o644))
		rules := filepath.Join(dir, "rules.yaml")
		require.NoError(t, os.WriteFile(rules, []byte("extends: none\n"), 0o644))
		conf := filepath.Join(dir, "conf", "livesync.yaml")
		require.NoError(t, os.WriteFile(conf, []byte("version: 1\napis: [{id: x, rulesFile: ../rules.yaml}]\nsources: [{id: a, api: x, file: specs/a.yaml}]\n"), 0o644))
		t.Chdir(dir)
		cfg, err := Load(filepath.Join("conf", "livesync.yaml"))
		require.NoError(t, err)
		require.Equal(t, spec, cfg.Sources[0].File)
		require.Equal(t, rules, cfg.APIs[0].RulesFile)
		require.Equal(t, filepath.Join(dir, "conf"), cfg.Dir)
	})
}

func TestSecretsRefused(t *testing.T) {
	_, err := Load("testdata/invalid/secrets.yaml")
	require.Error(t, err)
	msg := err.Error()
	for _, secret := range []string{"hunter2", "abc123", "sk-proj", "s3cr3t", "9abcdefghijklmnop"} {
		require.NotContains(t, msg, secret, "an error must not repeat a secret")
	}
	require.Contains(t, msg, "ai.apiKey: never put a secret in the config file: set apiKeyEnv")
	require.Contains(t, msg, "webhooks[0].secret: never put a secret in the config file: set secretEnv")

	tests := []struct {
		name, yaml string
		ok         bool
	}{
		{"env var name", "ai: {apiKeyEnv: OPENAI_API_KEY}", true},
		{"lower-case name", "ai: {apiKeyEnv: my_key}", true},
		{"key pasted into apiKeyEnv", "ai: {apiKeyEnv: sk-abc}", false},
		{"long random value", "ai: {apiKeyEnv: Abcdef0123456789ghijKLMN}", false},
		{"api_key field", "ai: {api_key: whatever}", false},
		{"token field", "ai: {token: whatever}", false},
		{"misspelt apiKeyEnv is a typo, not a secret", "ai: {api_key_env: OPENAI_API_KEY}", false},
		{"header reference", "sources: [{id: a, url: 'https://a.example.com/', headers: {Authorization: 'env:TOKEN'}}]", true},
		{"header value", "sources: [{id: a, url: 'https://a.example.com/', headers: {Authorization: 'Bearer x'}}]", false},
		{"user in URL", "sources: [{id: a, url: 'https://tok@a.example.com/'}]", false},
		{"webhook secret env", "webhooks: [{url: 'https://h.example.com/', secretEnv: HOOK_KEY}]", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseBytes("c.yaml", []byte("version: 1\n"+tt.yaml+"\n"))
			if tt.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
		})
	}
}

func TestErrorsAs(t *testing.T) {
	_, err := parseBytes("c.yaml", []byte("version: 1\nsources:\n  - {id: a, url: nope}\n"))
	var one Error
	require.ErrorAs(t, err, &one)
	require.Equal(t, Error{File: "c.yaml", Line: 3, Column: 13, Field: "sources[0].url", Msg: `"nope": want an absolute http:// or https:// URL`}, one)

	_, err = Load("testdata/does-not-exist.yaml")
	require.ErrorIs(t, err, os.ErrNotExist)
	require.False(t, errors.As(err, new(Errors)))
}

func TestSuggest(t *testing.T) {
	names := []string{"id", "url", "file", "refreshInterval", "priority", "api"}
	tests := []struct{ in, want string }{
		{"urll", "url"},
		{"refresh_interval", "refreshInterval"},
		{"RefreshInterval", "refreshInterval"},
		{"prioirty", "priority"},
		{"fil", "file"},
		{"colour", ""},
		{"ab", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			require.Equal(t, tt.want, suggest(tt.in, names))
		})
	}
}
