// Package source defines a Source: where a spec lives, how to reach it, and
// the API it feeds. It is shared by config files, workflow inputs and
// activities, so its JSON and YAML field names are a contract.
//
// A source never borrows what the operator did not give it:
//
//   - Header references (env:NAME, ${NAME}, file:/path) are checked against
//     a SecretPolicy (Source.ValidateRefs). The worker builds it from
//     -secret-env and -secret-dir (comma lists) and its config's
//     fetch.secrets. With no list given only DefaultSecretEnvPattern,
//     LIVESYNC_SOURCE_*, is referable, and no file is. The worker's own
//     secrets (WorkerSecretEnv, plus its webhook and AI key variables) are
//     never referable, whatever the patterns say.
//   - File sources must lie inside the operator's Roots (-source-dir; -dev
//     adds the working directory and the examples, see DevRoots), checked
//     after symbolic links and ".." are resolved; /proc, /sys and /dev are
//     always refused (Source.ValidateFile, Roots.Open).
package source

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// Kinds of source. An empty kind is detected from the content.
const (
	// KindOpenAPI covers OpenAPI 3.0, 3.1 and Swagger 2.0 documents.
	KindOpenAPI = "openapi"
	// KindGraphQL is a GraphQL schema: SDL, or an introspection endpoint
	// (Introspect).
	KindGraphQL = "graphql"
	// KindPostman is a Postman collection, v2.0 or v2.1.
	KindPostman = "postman"
)

// Kinds lists every kind, in a stable order.
var Kinds = []string{KindOpenAPI, KindGraphQL, KindPostman}

// Ownership says which part of an API a source feeds. Empty owns everything.
type Ownership struct {
	// PathPrefixes: the source owns every path starting with one of these.
	PathPrefixes []string `json:"pathPrefixes,omitempty" yaml:"pathPrefixes,omitempty"`
	// Paths: exact paths the source owns.
	Paths []string `json:"paths,omitempty" yaml:"paths,omitempty"`
	// Components: component names the source owns, as "schemas/Pet".
	Components []string `json:"components,omitempty" yaml:"components,omitempty"`
}

// IsZero reports whether the ownership is unrestricted.
func (o Ownership) IsZero() bool {
	return len(o.PathPrefixes) == 0 && len(o.Paths) == 0 && len(o.Components) == 0
}

// Source is where a spec lives.
type Source struct {
	ID   string `json:"id" yaml:"id"`
	Name string `json:"name,omitempty" yaml:"name,omitempty"`
	// Kind is "openapi" (OpenAPI 3.0, 3.1 and Swagger 2.0), "graphql" or
	// "postman"; empty means detected from the content.
	Kind string `json:"kind,omitempty" yaml:"kind,omitempty"`
	// URL (http or https) or a file path locates the spec; exactly one is
	// set. The path is written filePath (the design's name) or file (the
	// older one), never both; LocalFile returns whichever is set and
	// Normalize moves filePath into File.
	URL      string `json:"url,omitempty" yaml:"url,omitempty"`
	File     string `json:"file,omitempty" yaml:"file,omitempty"`
	FilePath string `json:"filePath,omitempty" yaml:"filePath,omitempty"`
	// Introspect fetches a GraphQL schema by POSTing the standard
	// introspection query to URL (with the source's headers). Only on a
	// URL source whose kind is graphql or empty.
	Introspect bool `json:"introspect,omitempty" yaml:"introspect,omitempty"`
	// Strict refuses a spec with dangling references instead of warning.
	Strict bool `json:"strict,omitempty" yaml:"strict,omitempty"`
	// Headers maps a request header to a reference to its value, never the
	// value itself: "env:NAME", "${NAME}" or "file:/run/secrets/x".
	Headers map[string]string `json:"headers,omitempty" yaml:"headers,omitempty"`
	// RefreshInterval is how often the source is synced on schedule (0: only on demand).
	RefreshInterval Duration `json:"refreshInterval,omitempty" yaml:"refreshInterval,omitempty"`
	// Enabled is true unless set to false.
	Enabled *bool `json:"enabled,omitempty" yaml:"enabled,omitempty"`
	// API is the API this source feeds; empty means the source's own ID.
	API string `json:"api,omitempty" yaml:"api,omitempty"`
	// Priority is high, medium (default) or low.
	Priority string `json:"priority,omitempty" yaml:"priority,omitempty"`
	// DependsOn names sources whose sync must finish (stored or no change)
	// before this source's sync starts, when they are synced together.
	DependsOn []string `json:"dependsOn,omitempty" yaml:"dependsOn,omitempty"`
	// Strategy decides merge conflicts: prefer-remote, prefer-local,
	// source-priority, manual or ai. Empty takes the API's.
	Strategy string `json:"strategy,omitempty" yaml:"strategy,omitempty"`
	// Gate decides breaking changes: auto, hold or block. Empty takes the API's.
	Gate string `json:"gate,omitempty" yaml:"gate,omitempty"`
	// Owns restricts the part of the API this source feeds.
	Owns Ownership `json:"owns,omitempty" yaml:"owns,omitempty"`
	// Rules is a breaking-change rules YAML file (see internal/diff) that
	// judges this source's changes; empty uses the default rules.
	Rules string `json:"rules,omitempty" yaml:"rules,omitempty"`
	// Rank orders sources of one API for the source-priority strategy: lower wins.
	Rank int `json:"rank,omitempty" yaml:"rank,omitempty"`
	// HoldTimeout bounds how long a held breaking change waits for approval
	// (default 24h); OnHoldTimeout is then "reject" (default) or "approve".
	HoldTimeout   Duration `json:"holdTimeout,omitempty" yaml:"holdTimeout,omitempty"`
	OnHoldTimeout string   `json:"onHoldTimeout,omitempty" yaml:"onHoldTimeout,omitempty"`
	// ManualTimeout bounds how long open conflicts wait for a person (default
	// 24h); OnManualTimeout is then "fail" (default: keep the last version),
	// "prefer-remote" or "prefer-local".
	ManualTimeout   Duration `json:"manualTimeout,omitempty" yaml:"manualTimeout,omitempty"`
	OnManualTimeout string   `json:"onManualTimeout,omitempty" yaml:"onManualTimeout,omitempty"`
	// AIRetryWindow is how long, under the ai strategy, Temporal retries a
	// model that is unavailable (5xx, 429, timeouts) before a person is
	// asked; 0 takes the job's, else DefaultAIRetryWindow.
	AIRetryWindow Duration `json:"aiRetryWindow,omitempty" yaml:"aiRetryWindow,omitempty"`
	// AIMaxReasks is how many times a malformed or invalid answer is asked
	// again, with what was wrong, before a person is asked; 0 never asks
	// again, unset takes the job's, else the worker's (default 3).
	AIMaxReasks *int `json:"aiMaxReasks,omitempty" yaml:"aiMaxReasks,omitempty"`
}

// Gates of breaking changes.
const (
	GateAuto  = "auto"
	GateHold  = "hold"
	GateBlock = "block"
)

// Conflict strategies.
const (
	StrategyPreferRemote   = "prefer-remote"
	StrategyPreferLocal    = "prefer-local"
	StrategySourcePriority = "source-priority"
	StrategyManual         = "manual"
	StrategyAI             = "ai"
)

// DefaultDecisionTimeout bounds waits for people when not configured.
const DefaultDecisionTimeout = 24 * time.Hour

// DefaultAIRetryWindow is how long an unavailable model is retried when
// neither the job nor the source says.
const DefaultAIRetryWindow = time.Hour

// GateOrDefault is the source's gate, auto when unset.
func (s Source) GateOrDefault() string {
	if s.Gate == "" {
		return GateAuto
	}
	return s.Gate
}

// StrategyOrDefault is the source's conflict strategy, prefer-remote when unset.
func (s Source) StrategyOrDefault() string {
	if s.Strategy == "" {
		return StrategyPreferRemote
	}
	return s.Strategy
}

// IsEnabled reports whether the source syncs.
func (s Source) IsEnabled() bool { return s.Enabled == nil || *s.Enabled }

// APIID is the API the source feeds.
func (s Source) APIID() string {
	if s.API != "" {
		return s.API
	}
	return s.ID
}

// Location is the URL or file, for messages.
func (s Source) Location() string {
	if s.URL != "" {
		return s.URL
	}
	return s.LocalFile()
}

// LocalFile is the file path, written file or filePath; "" for URL sources.
func (s Source) LocalFile() string {
	if s.File != "" {
		return s.File
	}
	return s.FilePath
}

// Normalize returns the source with filePath moved into File, so code that
// reads File sees the path whichever name was written. A source that sets
// both is returned unchanged (Validate refuses it).
func (s Source) Normalize() Source {
	if s.File == "" && s.FilePath != "" {
		s.File, s.FilePath = s.FilePath, ""
	}
	return s
}

// validIDText is ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$, written out: as a
// regexp its bounded repetition compiles into 128 states at start-up
// (130 KB, 1,800 allocations in every program that links this package).
func validIDText(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// ValidID checks an ID of a source, API or job: letters, digits, '.', '_'
// and '-', at most 128 characters, so it is safe in keys, paths and
// workflow IDs.
func ValidID(kind, id string) error {
	if !validIDText(id) {
		return fmt.Errorf("invalid %s id %q: use letters, digits, '.', '_' or '-' (at most 128, starting with a letter or digit)", kind, id)
	}
	return nil
}

// Validate lists what is wrong with the source, in one error.
func (s Source) Validate() error {
	var errs []string
	if err := ValidID("source", s.ID); err != nil {
		errs = append(errs, err.Error())
	}
	if s.API != "" {
		if err := ValidID("api", s.API); err != nil {
			errs = append(errs, err.Error())
		}
	}
	switch s.Kind {
	case "", KindOpenAPI, KindGraphQL, KindPostman:
	default:
		errs = append(errs, fmt.Sprintf("kind %q is not supported: want %s (or leave it out to detect it from the content)", s.Kind, strings.Join(Kinds, ", ")))
	}
	switch {
	case s.File != "" && s.FilePath != "":
		errs = append(errs, "set filePath or file (the older name), not both")
	case s.URL == "" && s.LocalFile() == "":
		errs = append(errs, "set url or filePath")
	case s.URL != "" && s.LocalFile() != "":
		errs = append(errs, "set url or filePath, not both")
	case s.URL != "":
		u, err := url.Parse(s.URL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			errs = append(errs, fmt.Sprintf("url %q: want an absolute http:// or https:// URL", s.URL))
		case u.User != nil:
			errs = append(errs, "url: credentials in the URL would be kept in history and logs; pass them as a header reference (headers: {Authorization: env:NAME})")
		}
	}
	if s.Introspect {
		switch {
		case s.URL == "":
			errs = append(errs, "introspect: only a url source can be introspected")
		case s.Kind != "" && s.Kind != KindGraphQL:
			errs = append(errs, fmt.Sprintf("introspect: only a graphql source can be introspected, not kind %q", s.Kind))
		}
	}
	names := make([]string, 0, len(s.Headers))
	for h := range s.Headers {
		names = append(names, h)
	}
	sort.Strings(names)
	for _, h := range names {
		if !IsSecretRef(s.Headers[h]) {
			errs = append(errs, fmt.Sprintf("header %q: give a reference (env:NAME, ${NAME} or file:/path), never the value itself", h))
		}
	}
	switch s.Priority {
	case "", "high", "medium", "low":
	default:
		errs = append(errs, fmt.Sprintf("priority %q: want high, medium or low", s.Priority))
	}
	for _, d := range s.DependsOn {
		if err := ValidID("source", d); err != nil {
			errs = append(errs, "dependsOn: "+err.Error())
		} else if d == s.ID {
			errs = append(errs, "dependsOn: a source cannot depend on itself")
		}
	}
	switch s.Strategy {
	case "", "prefer-remote", "prefer-local", "source-priority", "manual", "ai":
	default:
		errs = append(errs, fmt.Sprintf("strategy %q: want prefer-remote, prefer-local, source-priority, manual or ai", s.Strategy))
	}
	switch s.Gate {
	case "", "auto", "hold", "block":
	default:
		errs = append(errs, fmt.Sprintf("gate %q: want auto, hold or block", s.Gate))
	}
	switch s.OnHoldTimeout {
	case "", "reject", "approve":
	default:
		errs = append(errs, fmt.Sprintf("onHoldTimeout %q: want reject or approve", s.OnHoldTimeout))
	}
	switch s.OnManualTimeout {
	case "", "fail", StrategyPreferRemote, StrategyPreferLocal:
	default:
		errs = append(errs, fmt.Sprintf("onManualTimeout %q: want fail, prefer-remote or prefer-local", s.OnManualTimeout))
	}
	if s.HoldTimeout < 0 || s.ManualTimeout < 0 {
		errs = append(errs, "holdTimeout and manualTimeout must not be negative")
	}
	if s.RefreshInterval < 0 {
		errs = append(errs, "refreshInterval must not be negative")
	}
	if s.AIRetryWindow < 0 {
		errs = append(errs, fmt.Sprintf("aiRetryWindow %s: must not be negative (0 takes the default, %s)", s.AIRetryWindow.Std(), DefaultAIRetryWindow))
	}
	if s.AIMaxReasks != nil && *s.AIMaxReasks < 0 {
		errs = append(errs, fmt.Sprintf("aiMaxReasks %d: must not be negative (0 never asks the model again)", *s.AIMaxReasks))
	}
	if len(errs) == 0 {
		return nil
	}
	name := s.ID
	if name == "" {
		name = s.Location()
	}
	return fmt.Errorf("source %q: %s", name, strings.Join(errs, "; "))
}

// schemeRefRE accepts "${NAME}" after an optional scheme word: "Bearer ${TOKEN}".
var schemeRefRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^([A-Za-z][A-Za-z0-9-]*\s+)?\$\{[A-Za-z_][A-Za-z0-9_]*\}$`)
})

// IsSecretRef reports whether v is a reference to a secret rather than a
// value: "env:NAME", "file:/path", "${NAME}" or "Scheme ${NAME}".
func IsSecretRef(v string) bool {
	v = strings.TrimSpace(v)
	return strings.HasPrefix(v, "env:") || strings.HasPrefix(v, "file:") || schemeRefRE().MatchString(v)
}

// Duration is a time.Duration that reads and writes JSON as "30s", "5m",
// "1h30m" (a plain number is read as seconds), so people can type it.
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads "5m" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		if str == "" {
			*d = 0
			return nil
		}
		v, err := time.ParseDuration(str)
		if err != nil {
			return fmt.Errorf("invalid duration %q: use a form like 30s, 5m or 1h", str)
		}
		*d = Duration(v)
		return nil
	}
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		return fmt.Errorf("invalid duration %s: use a form like \"30s\", \"5m\" or a number of seconds", s)
	}
	*d = Duration(secs * float64(time.Second))
	return nil
}

// UnmarshalYAML reads the same forms from YAML config files.
func (d *Duration) UnmarshalYAML(unmarshal func(any) error) error {
	var raw any
	if err := unmarshal(&raw); err != nil {
		return err
	}
	b, _ := json.Marshal(raw)
	return d.UnmarshalJSON(b)
}

// Std returns the time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }
