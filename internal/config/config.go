// Package config reads the YAML file that declares a whole API Live Sync
// service: the engine's settings, the APIs, their sources, AI conflict
// resolution, webhooks and the fetcher's limits. `worker -dev -config FILE`
// and `starter apply -f FILE` reconcile a running engine to it through the
// engine's applyConfig update, with the sources Config.Resolved returns.
//
// A file is accepted or refused as a whole: Load collects every
// problem (unknown or misspelt fields, bad values, duplicate IDs, overlapping
// ownership, secrets written inline) and return them together as Errors,
// each with its file, line, column and field.
//
// Decisions worth knowing:
//   - A source's API need not be declared under apis: an undeclared API is
//     implicit, with default settings. A source that names an undeclared API
//     whose ID is a small edit away from a declared one is refused as a
//     probable typo; declare the API to use it on purpose.
//   - Two sources of one API whose owned parts overlap (an unrestricted source
//     overlaps everything) are refused unless their ranks differ, since
//     otherwise neither wins a conflict between them.
//   - Relative file and rulesFile paths resolve against the config file's
//     directory.
//   - Sources without refreshInterval take engine.defaultRefresh (1h unless
//     set); write refreshInterval: 0 to sync a source only on demand.
//   - Fields whose names start with "x-" are ignored anywhere, so a file can
//     keep anchored defaults (x-defaults: &common …) to merge with <<: *common.
//   - Secrets never live in the file: headers are references (env:NAME,
//     ${NAME}, file:/path), the AI key and webhook HMAC keys are named by
//     environment variable (apiKeyEnv, secretEnv), and credentials in URLs
//     are refused.
//   - What sources may borrow is the operator's: ValidateWith checks the
//     sources against a Policy (the SSRF guard, the file-source roots and
//     the secret allow-list) so apply refuses what fetch would refuse
//     later. fetch.sourceDirs and fetch.secrets widen that policy only when
//     the worker reads its own config (Config.Policy); a file given to
//     starter apply is checked against the worker's policy, never widens it.
//     The variables this file names for the worker's own secrets (webhook
//     secretEnv, ai.apiKeyEnv) are never referable by a source.
//   - Source IDs (and API IDs) that differ only in case are refused: they
//     name workflows and store keys, which may be case-insensitive.
//   - A source's file is written filePath (or file, the older name); kind
//     may be left out to be detected from the content.
package config

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/apilivesync/apilivesync/internal/fetch"
	"github.com/apilivesync/apilivesync/internal/source"
)

// Version is the only config file version this package reads.
const Version = 1

// Defaults applied by Load to fields left out of the file.
const (
	DefaultMaxConcurrent    = 10
	DefaultFailureThreshold = 5
	DefaultRefresh          = time.Hour
	// MaxDefaultJitter caps the jitter derived from a source's interval.
	MaxDefaultJitter = time.Minute
	// MinRefreshInterval is the shortest schedule a source may ask for.
	MinRefreshInterval = 10 * time.Second
)

// Webhook events a webhook may subscribe to.
const (
	EventSourceAdded   = "source.added"
	EventSourceRemoved = "source.removed"
	EventSyncStarted   = "sync.started"
	EventSyncCompleted = "sync.completed"
	EventSyncFailed    = "sync.failed"
)

// Events lists every webhook event, in a stable order.
var Events = []string{EventSourceAdded, EventSourceRemoved, EventSyncStarted, EventSyncCompleted, EventSyncFailed}

// Config is a whole service declaration.
type Config struct {
	// Version of the file format; must be 1.
	Version int `yaml:"version"`
	// Engine tunes the sync engine.
	Engine Engine `yaml:"engine"`
	// APIs declares APIs with settings; sources may also feed undeclared
	// (implicit, default) APIs.
	APIs []API `yaml:"apis"`
	// Sources declares where specs live. Relative file paths are already
	// resolved against Dir.
	Sources []source.Source `yaml:"sources"`
	// AI configures the ai conflict strategy.
	AI AI `yaml:"ai"`
	// Webhooks receive sync events.
	Webhooks []Webhook `yaml:"webhooks"`
	// Fetch limits how specs are downloaded.
	Fetch Fetch `yaml:"fetch"`

	// Dir is the directory relative paths were resolved against.
	Dir string `yaml:"-"`

	// onDemand holds the IDs of sources that wrote refreshInterval: 0.
	onDemand map[string]bool
	// where is the decoder that read the file, kept so ValidateWith can
	// place its problems at file:line:col.
	where *decoder
}

// Engine tunes the sync engine.
type Engine struct {
	// MaxConcurrent bounds how many syncs a sync-all runs at once (default 10).
	MaxConcurrent int `yaml:"maxConcurrent"`
	// FailureThreshold is how many consecutive failures pause a source's
	// schedule (default 5).
	FailureThreshold int `yaml:"failureThreshold"`
	// Jitter is the most a scheduled sync is delayed at random; zero means
	// 10% of the source's interval, at most one minute (see JitterFor).
	Jitter source.Duration `yaml:"jitter"`
	// DefaultRefresh is the refresh interval of sources that set none
	// (default 1h; 0 makes them on demand only).
	DefaultRefresh source.Duration `yaml:"defaultRefresh"`
	// DefaultPriority is the priority of sources that set none (default medium).
	DefaultPriority string `yaml:"defaultPriority"`
	// BatchWindow is how long the engine gathers syncs that fall due
	// together before running them as one batch (default 2s).
	BatchWindow source.Duration `yaml:"batchWindow"`
}

// API is an API's settings; its sources take them unless they set their own.
type API struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
	// Strategy decides merge conflicts (source.Strategy* values).
	Strategy string `yaml:"strategy"`
	// Gate decides breaking changes (source.Gate* values).
	Gate string `yaml:"gate"`
	// RulesFile is a breaking-change rules YAML file (see diff.LoadRules);
	// empty uses the default rules. Relative paths are already resolved
	// against the config file's directory.
	RulesFile       string          `yaml:"rulesFile"`
	HoldTimeout     source.Duration `yaml:"holdTimeout"`
	OnHoldTimeout   string          `yaml:"onHoldTimeout"`
	ManualTimeout   source.Duration `yaml:"manualTimeout"`
	OnManualTimeout string          `yaml:"onManualTimeout"`
	// AIRetryWindow and AIMaxReasks tune the ai strategy for the API's
	// sources (source.Source documents them); a source's own win.
	AIRetryWindow source.Duration `yaml:"aiRetryWindow"`
	AIMaxReasks   *int            `yaml:"aiMaxReasks"`
}

// AI configures AI conflict resolution. Zero fields take the resolver's
// defaults. The key itself is never in the file: APIKeyEnv names the
// environment variable that holds it.
type AI struct {
	BaseURL   string          `yaml:"baseURL"`
	Model     string          `yaml:"model"`
	APIKeyEnv string          `yaml:"apiKeyEnv"`
	Timeout   source.Duration `yaml:"timeout"`
}

// Webhook receives sync events as signed POSTs.
type Webhook struct {
	URL string `yaml:"url"`
	// SecretEnv names the environment variable holding the HMAC key that
	// signs deliveries (required).
	SecretEnv string `yaml:"secretEnv"`
	// Events filters the events sent (the Event* values); empty sends all.
	Events []string `yaml:"events"`
}

// Fetch limits how specs are downloaded. Zero fields take the fetcher's
// defaults.
type Fetch struct {
	MaxBytes int64           `yaml:"maxBytes"`
	Timeout  source.Duration `yaml:"timeout"`
	// AllowPrivate lets the SSRF guard connect to private networks.
	AllowPrivate bool `yaml:"allowPrivate"`
	// Allow lists hosts, host:ports, IP addresses and CIDRs the SSRF guard
	// always lets through.
	Allow []string `yaml:"allow"`
	// SourceDirs are directories file sources may be read from, beside the
	// worker's -source-dir (relative ones resolve against the config file's
	// directory). File sources elsewhere are refused.
	SourceDirs []string `yaml:"sourceDirs"`
	// Secrets is the allow-list of header references, beside the worker's
	// -secret-env and -secret-dir: env (variable names or patterns such as
	// LIVESYNC_SRC_*), dirs (directories of file: references) and deny
	// (more names no source may read). See source.SecretPolicy.
	Secrets source.SecretPolicy `yaml:"secrets"`
}

// Defaults source.Source documents for fields it leaves empty.
const (
	defaultOnHoldTimeout   = "reject"
	defaultOnManualTimeout = "fail"
)

// Load reads a config file, applies defaults and validates everything,
// including that file sources exist and rules files load. An invalid file
// yields Errors listing every problem.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config %q: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("config %q: %w", path, err)
	}
	d := newDecoder(path, filepath.Dir(abs))
	cfg := d.parse(data)
	d.checkFiles(cfg)
	if err := d.result(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// API returns the declared API with the ID, or an implicit one with default
// settings.
func (c *Config) API(id string) API {
	for _, a := range c.APIs {
		if a.ID == id {
			return a
		}
	}
	return API{ID: id}
}

// Resolved returns every source with nothing left implicit: the API
// defaulting to the source's ID, the API's strategy, gate, timeouts and AI
// settings,
// the engine's priority and refresh interval, then the source package's
// own defaults. The config is not modified.
func (c *Config) Resolved() []source.Source {
	out := make([]source.Source, 0, len(c.Sources))
	for _, s := range c.Sources {
		s.API = s.APIID()
		a := c.API(s.API)
		if s.Strategy == "" {
			s.Strategy = a.Strategy
		}
		if s.Gate == "" {
			s.Gate = a.Gate
		}
		if s.Rules == "" {
			s.Rules = a.RulesFile
		}
		if s.HoldTimeout == 0 {
			s.HoldTimeout = a.HoldTimeout
		}
		if s.OnHoldTimeout == "" {
			s.OnHoldTimeout = a.OnHoldTimeout
		}
		if s.ManualTimeout == 0 {
			s.ManualTimeout = a.ManualTimeout
		}
		if s.OnManualTimeout == "" {
			s.OnManualTimeout = a.OnManualTimeout
		}
		if s.AIRetryWindow == 0 {
			s.AIRetryWindow = a.AIRetryWindow
		}
		if s.AIMaxReasks == nil && a.AIMaxReasks != nil {
			n := *a.AIMaxReasks
			s.AIMaxReasks = &n
		}
		if s.Priority == "" {
			s.Priority = c.Engine.DefaultPriority
		}
		if s.RefreshInterval == 0 && !c.onDemand[s.ID] {
			s.RefreshInterval = c.Engine.DefaultRefresh
		}
		out = append(out, normalize(s))
	}
	return out
}

// JitterFor is the most a scheduled sync of a source refreshed every
// interval is delayed at random: Jitter when set, else 10% of the interval
// capped at MaxDefaultJitter.
func (e Engine) JitterFor(interval time.Duration) time.Duration {
	if e.Jitter > 0 {
		return e.Jitter.Std()
	}
	return min(interval/10, MaxDefaultJitter)
}

// FetchOptions returns the fetcher options the config asks for, with
// relative files resolved against the config's directory.
func (c *Config) FetchOptions() fetch.Options {
	return fetch.Options{
		MaxBytes: c.Fetch.MaxBytes,
		Timeout:  c.Fetch.Timeout.Std(),
		BaseDir:  c.Dir,
		Guard:    fetch.GuardOptions{AllowPrivate: c.Fetch.AllowPrivate, Allow: c.Fetch.Allow},
	}
}

// normalize fills every field the source package defaults, so equal
// meanings compare equal.
func normalize(s source.Source) source.Source {
	s = s.Normalize()
	s.API = s.APIID()
	s.Strategy = s.StrategyOrDefault()
	s.Gate = s.GateOrDefault()
	if s.Priority == "" {
		s.Priority = defaultPriority
	}
	enabled := s.IsEnabled()
	s.Enabled = &enabled
	if s.HoldTimeout == 0 {
		s.HoldTimeout = source.Duration(source.DefaultDecisionTimeout)
	}
	if s.ManualTimeout == 0 {
		s.ManualTimeout = source.Duration(source.DefaultDecisionTimeout)
	}
	if s.OnHoldTimeout == "" {
		s.OnHoldTimeout = defaultOnHoldTimeout
	}
	if s.OnManualTimeout == "" {
		s.OnManualTimeout = defaultOnManualTimeout
	}
	if len(s.Headers) == 0 {
		s.Headers = nil
	} else {
		s.Headers = maps.Clone(s.Headers)
	}
	s.Owns = source.Ownership{
		PathPrefixes: nonEmpty(s.Owns.PathPrefixes),
		Paths:        nonEmpty(s.Owns.Paths),
		Components:   nonEmpty(s.Owns.Components),
	}
	return s
}

func nonEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}
