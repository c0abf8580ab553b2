package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/apilivesync/apilivesync/internal/diff"
	"github.com/apilivesync/apilivesync/internal/fetch"
	"github.com/apilivesync/apilivesync/internal/source"
)

// defaultPriority is the priority source.Source documents as its default.
const defaultPriority = "medium"

// componentTypes are the owners' component kinds ("schemas/Pet"), as the
// merge matches them (Swagger 2.0 sections map onto these).
var componentTypes = []string{"callbacks", "examples", "headers", "links", "parameters", "pathItems",
	"requestBodies", "responses", "schemas", "securitySchemes", "webhooks"}

// defaults fills engine fields left out of the file and remembers which
// sources asked to be synced on demand only.
func (d *decoder) defaults(c *Config) {
	e := &c.Engine
	if !d.has("engine.maxConcurrent") {
		e.MaxConcurrent = DefaultMaxConcurrent
	}
	if !d.has("engine.failureThreshold") {
		e.FailureThreshold = DefaultFailureThreshold
	}
	if !d.has("engine.defaultRefresh") {
		e.DefaultRefresh = source.Duration(DefaultRefresh)
	}
	if e.DefaultPriority == "" {
		e.DefaultPriority = defaultPriority
	}
	for i, s := range c.Sources {
		if s.RefreshInterval == 0 && d.has(fmt.Sprintf("sources[%d].refreshInterval", i)) {
			if c.onDemand == nil {
				c.onDemand = map[string]bool{}
			}
			c.onDemand[s.ID] = true
		}
	}
}

// resolvePaths makes relative file and rulesFile paths relative to the
// config file's directory.
func (d *decoder) resolvePaths(c *Config) {
	rel := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(d.dir, p)
	}
	for i := range c.Sources {
		c.Sources[i].File = rel(c.Sources[i].File)
		c.Sources[i].FilePath = rel(c.Sources[i].FilePath)
		c.Sources[i] = c.Sources[i].Normalize()
	}
	for i := range c.APIs {
		c.APIs[i].RulesFile = rel(c.APIs[i].RulesFile)
	}
	for i := range c.Fetch.SourceDirs {
		c.Fetch.SourceDirs[i] = rel(c.Fetch.SourceDirs[i])
	}
	for i := range c.Fetch.Secrets.Dirs {
		c.Fetch.Secrets.Dirs[i] = rel(c.Fetch.Secrets.Dirs[i])
	}
}

// fileField is the field a source's path was written in: filePath or file.
func (d *decoder) fileField(i int) string {
	p := fmt.Sprintf("sources[%d].filePath", i)
	if d.has(p) {
		return p
	}
	return fmt.Sprintf("sources[%d].file", i)
}

// checkFiles reports file sources that do not exist and rules files that
// do not load.
func (d *decoder) checkFiles(c *Config) {
	for i, s := range c.Sources {
		if s.File == "" || s.URL != "" {
			continue
		}
		field := d.fileField(i)
		switch st, err := os.Stat(s.File); {
		case errors.Is(err, fs.ErrNotExist):
			d.addAt(field, fmt.Sprintf("%s does not exist", s.File))
		case err != nil:
			d.addAt(field, err.Error())
		case st.IsDir():
			d.addAt(field, fmt.Sprintf("%s is a directory, want a spec file", s.File))
		}
	}
	for i, a := range c.APIs {
		if a.RulesFile == "" {
			continue
		}
		if _, err := diff.LoadRules(a.RulesFile); err != nil {
			d.addAt(fmt.Sprintf("apis[%d].rulesFile", i), err.Error())
		}
	}
}

// validate checks everything that decoding could not.
func (d *decoder) validate(c *Config) {
	switch {
	case !d.has("version"):
		d.addAt("version", fmt.Sprintf("required: set version: %d", Version))
	case c.Version != Version:
		d.addAt("version", fmt.Sprintf("version %d is not supported: want %d", c.Version, Version))
	}
	d.checkEngine(c.Engine)
	declared := d.checkAPIs(c.APIs)
	d.checkSources(c.Sources, declared)
	d.checkOwnership(c.Sources)
	d.checkAI(c.AI)
	d.checkWebhooks(c.Webhooks)
	d.checkFetch(c.Fetch)
}

func (d *decoder) checkEngine(e Engine) {
	if e.MaxConcurrent < 1 {
		d.addAt("engine.maxConcurrent", fmt.Sprintf("want at least 1, got %d", e.MaxConcurrent))
	}
	if e.FailureThreshold < 1 {
		d.addAt("engine.failureThreshold", fmt.Sprintf("want at least 1, got %d", e.FailureThreshold))
	}
	d.nonNegative("engine.jitter", e.Jitter)
	d.nonNegative("engine.batchWindow", e.BatchWindow)
	d.refresh("engine.defaultRefresh", e.DefaultRefresh)
	d.probe("engine.defaultPriority", "priority", func(s *source.Source) { s.Priority = e.DefaultPriority })
}

// checkAPIs checks declared APIs and returns their IDs.
func (d *decoder) checkAPIs(apis []API) []string {
	first := map[string]int{}
	folded := map[string]int{}
	var ids []string
	for i, a := range apis {
		p := fmt.Sprintf("apis[%d]", i)
		d.id(p+".id", "api", a.ID)
		if a.ID != "" {
			if j, dup := first[a.ID]; dup {
				d.addAt(p+".id", fmt.Sprintf("duplicate api id %q (first at line %d)", a.ID, d.at(fmt.Sprintf("apis[%d].id", j)).line))
			} else if j, dup := folded[strings.ToLower(a.ID)]; dup {
				d.addAt(p+".id", fmt.Sprintf("api id %q differs only in case from %q (line %d): IDs name store keys, which may ignore case; rename one",
					a.ID, apis[j].ID, d.at(fmt.Sprintf("apis[%d].id", j)).line))
			} else {
				first[a.ID] = i
				folded[strings.ToLower(a.ID)] = i
				ids = append(ids, a.ID)
			}
		}
		d.probe(p+".strategy", "strategy", func(s *source.Source) { s.Strategy = a.Strategy })
		d.probe(p+".gate", "gate", func(s *source.Source) { s.Gate = a.Gate })
		d.probe(p+".onHoldTimeout", "onHoldTimeout", func(s *source.Source) { s.OnHoldTimeout = a.OnHoldTimeout })
		d.probe(p+".onManualTimeout", "onManualTimeout", func(s *source.Source) { s.OnManualTimeout = a.OnManualTimeout })
		d.nonNegative(p+".holdTimeout", a.HoldTimeout)
		d.nonNegative(p+".manualTimeout", a.ManualTimeout)
		d.checkAISettings(p, fmt.Sprintf("api %q", a.ID), a.AIRetryWindow, a.AIMaxReasks)
	}
	return ids
}

func (d *decoder) checkSources(srcs []source.Source, declaredAPIs []string) {
	first := map[string]int{}
	folded := map[string]int{}
	for i, s := range srcs {
		p := fmt.Sprintf("sources[%d]", i)
		before := d.found
		d.id(p+".id", "source", s.ID)
		if s.ID != "" {
			if j, dup := first[s.ID]; dup {
				d.addAt(p+".id", fmt.Sprintf("duplicate source id %q (first at line %d)", s.ID, d.at(fmt.Sprintf("sources[%d].id", j)).line))
			} else if j, dup := folded[strings.ToLower(s.ID)]; dup {
				d.addAt(p+".id", fmt.Sprintf("source id %q differs only in case from %q (line %d): IDs name workflows and store keys, which may ignore case; rename one",
					s.ID, srcs[j].ID, d.at(fmt.Sprintf("sources[%d].id", j)).line))
			} else {
				first[s.ID] = i
				folded[strings.ToLower(s.ID)] = i
			}
		}
		if s.API != "" {
			d.id(p+".api", "api", s.API)
			if !slices.Contains(declaredAPIs, s.API) {
				if near := suggest(s.API, declaredAPIs); near != "" {
					d.addAt(p+".api", fmt.Sprintf("api %q is not declared under apis (did you mean %s?); declare it to feed a separate API", s.API, near))
				}
			}
		}
		d.probe(p+".kind", "kind", func(x *source.Source) { x.Kind = s.Kind })
		switch {
		case s.File != "" && s.FilePath != "":
			d.addAt(p+".file", "set filePath or file (the older name), not both")
		case s.URL == "" && s.LocalFile() == "":
			d.addAt(p+".url", "set url or filePath")
		case s.URL != "" && s.LocalFile() != "":
			d.addAt(d.fileField(i), "set url or filePath, not both")
		case s.URL != "":
			if d.httpURL(p+".url", s.URL) {
				d.probe(p+".url", "url", func(x *source.Source) { x.URL = s.URL })
			}
		}
		if s.Introspect {
			d.probe(p+".introspect", "introspect:", func(x *source.Source) {
				x.Introspect, x.Kind = true, s.Kind
				if s.URL == "" {
					x.URL, x.FilePath = "", "probe.graphql"
				}
			})
		}
		for _, h := range sortedKeys(s.Headers) {
			if h == "" {
				d.addAt(p+".headers", "empty header name")
			}
			if !source.IsSecretRef(s.Headers[h]) {
				d.addAt(p+".headers."+h, "give a reference (env:NAME, ${NAME} or file:/path), never the value itself")
			}
		}
		d.probe(p+".priority", "priority", func(x *source.Source) { x.Priority = s.Priority })
		d.probe(p+".strategy", "strategy", func(x *source.Source) { x.Strategy = s.Strategy })
		d.probe(p+".gate", "gate", func(x *source.Source) { x.Gate = s.Gate })
		d.probe(p+".onHoldTimeout", "onHoldTimeout", func(x *source.Source) { x.OnHoldTimeout = s.OnHoldTimeout })
		d.probe(p+".onManualTimeout", "onManualTimeout", func(x *source.Source) { x.OnManualTimeout = s.OnManualTimeout })
		d.nonNegative(p+".holdTimeout", s.HoldTimeout)
		d.nonNegative(p+".manualTimeout", s.ManualTimeout)
		d.checkAISettings(p, fmt.Sprintf("source %q", s.ID), s.AIRetryWindow, s.AIMaxReasks)
		d.refresh(p+".refreshInterval", s.RefreshInterval)
		d.checkOwns(p+".owns", s.Owns)
		// Whatever the checks above missed, the source package refuses.
		if d.found == before {
			if err := s.Validate(); err != nil {
				d.addAt(p, err.Error())
			}
		}
	}
}

func (d *decoder) checkOwns(p string, o source.Ownership) {
	for i, pre := range o.PathPrefixes {
		if !strings.HasPrefix(pre, "/") {
			d.addAt(fmt.Sprintf("%s.pathPrefixes[%d]", p, i), fmt.Sprintf("%q: want a path prefix starting with /", pre))
		}
	}
	for i, path := range o.Paths {
		if !strings.HasPrefix(path, "/") {
			d.addAt(fmt.Sprintf("%s.paths[%d]", p, i), fmt.Sprintf("%q: want a path starting with /", path))
		}
	}
	for i, c := range o.Components {
		f := fmt.Sprintf("%s.components[%d]", p, i)
		typ, name, ok := strings.Cut(c, "/")
		switch {
		case !ok || name == "":
			d.addAt(f, fmt.Sprintf("%q: want type/name like schemas/Pet (a trailing * matches a prefix)", c))
		case !slices.Contains(componentTypes, typ):
			msg := fmt.Sprintf("%q: unknown component type %q", c, typ)
			if s := suggest(typ, componentTypes); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", s)
			} else {
				msg += "; want one of " + strings.Join(componentTypes, ", ")
			}
			d.addAt(f, msg)
		}
	}
}

// checkOwnership refuses two sources of one API with the same rank whose
// owned parts overlap: neither would win a conflict between them.
func (d *decoder) checkOwnership(srcs []source.Source) {
	for j, b := range srcs {
		for i, a := range srcs[:j] {
			if a.APIID() != b.APIID() || a.Rank != b.Rank || a.ID == b.ID {
				continue
			}
			what := overlap(a.Owns, b.Owns)
			if what == "" {
				continue
			}
			d.addAt(fmt.Sprintf("sources[%d].owns", j), fmt.Sprintf(
				"source %q overlaps source %q (line %d) on api %q: both own %s with rank %d; give them different ranks or disjoint owns",
				b.ID, a.ID, d.at(fmt.Sprintf("sources[%d]", i)).line, a.APIID(), what, a.Rank))
		}
	}
}

// overlap describes something both ownerships own, or "" when they are
// disjoint. Paths match prefixes as the merge does: by string prefix.
func overlap(a, b source.Ownership) string {
	if a.IsZero() && b.IsZero() {
		return "the whole API"
	}
	if a.IsZero() {
		a, b = b, a
	}
	if b.IsZero() {
		return firstOwned(a)
	}
	for _, pa := range a.PathPrefixes {
		for _, pb := range b.PathPrefixes {
			if strings.HasPrefix(pa, pb) || strings.HasPrefix(pb, pa) {
				return fmt.Sprintf("paths starting with %q", longer(pa, pb))
			}
		}
	}
	for _, x := range [2][2]source.Ownership{{a, b}, {b, a}} {
		for _, p := range x[0].Paths {
			if slices.Contains(x[1].Paths, p) || slices.ContainsFunc(x[1].PathPrefixes, func(pre string) bool { return strings.HasPrefix(p, pre) }) {
				return fmt.Sprintf("path %q", p)
			}
		}
	}
	for _, ca := range a.Components {
		for _, cb := range b.Components {
			if c, ok := componentOverlap(ca, cb); ok {
				return fmt.Sprintf("components %q", c)
			}
		}
	}
	return ""
}

func firstOwned(o source.Ownership) string {
	switch {
	case len(o.PathPrefixes) > 0:
		return fmt.Sprintf("paths starting with %q", o.PathPrefixes[0])
	case len(o.Paths) > 0:
		return fmt.Sprintf("path %q", o.Paths[0])
	default:
		return fmt.Sprintf("components %q", o.Components[0])
	}
}

func longer(a, b string) string {
	if len(a) >= len(b) {
		return a
	}
	return b
}

// componentOverlap matches two component patterns ("schemas/Pet",
// "schemas/Pet*") and returns the narrower one when they share a name.
func componentOverlap(a, b string) (string, bool) {
	pa, wa := strings.CutSuffix(a, "*")
	pb, wb := strings.CutSuffix(b, "*")
	switch {
	case !wa && !wb:
		return a, a == b
	case wa && wb:
		return longer(a, b), strings.HasPrefix(pa, pb) || strings.HasPrefix(pb, pa)
	case wa:
		return b, strings.HasPrefix(pb, pa)
	default:
		return a, strings.HasPrefix(pa, pb)
	}
}

var envNameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`) })

// looksLikeKey guesses whether an environment variable "name" is in fact a
// key: long, with lower-case letters and digits, unlike OPENAI_API_KEY.
func looksLikeKey(v string) bool {
	return len(v) >= 20 && strings.ContainsAny(v, "abcdefghijklmnopqrstuvwxyz") && strings.ContainsAny(v, "0123456789")
}

// envName checks a field that names an environment variable. The value is
// never echoed: it may be the secret itself.
func (d *decoder) envName(field, v, example string) {
	if v == "" {
		return
	}
	if !envNameRE().MatchString(v) || looksLikeKey(v) {
		d.addAt(field, fmt.Sprintf("want the name of an environment variable (like %s), never the secret itself", example))
	}
}

func (d *decoder) checkAI(a AI) {
	if a.BaseURL != "" {
		d.httpURL("ai.baseURL", a.BaseURL)
	}
	d.envName("ai.apiKeyEnv", a.APIKeyEnv, "OPENAI_API_KEY")
	d.nonNegative("ai.timeout", a.Timeout)
}

func (d *decoder) checkWebhooks(hooks []Webhook) {
	for i, w := range hooks {
		p := fmt.Sprintf("webhooks[%d]", i)
		if w.URL == "" {
			d.addAt(p+".url", "required")
		} else {
			d.httpURL(p+".url", w.URL)
		}
		if w.SecretEnv == "" {
			d.addAt(p+".secretEnv", "required: every delivery is signed (HMAC-SHA256) so receivers can tell it from a forgery; name the variable that holds the key")
		}
		d.envName(p+".secretEnv", w.SecretEnv, "LIVESYNC_WEBHOOK_SECRET")
		seen := map[string]bool{}
		for j, ev := range w.Events {
			f := fmt.Sprintf("%s.events[%d]", p, j)
			switch {
			case seen[ev]:
				d.addAt(f, fmt.Sprintf("event %q is listed twice", ev))
			case !slices.Contains(Events, ev):
				msg := fmt.Sprintf("unknown event %q", ev)
				if s := suggest(ev, Events); s != "" {
					msg += fmt.Sprintf(" (did you mean %s?)", s)
				} else {
					msg += "; want one of " + strings.Join(Events, ", ")
				}
				d.addAt(f, msg)
			}
			seen[ev] = true
		}
	}
}

func (d *decoder) checkFetch(f Fetch) {
	if f.MaxBytes < 0 {
		d.addAt("fetch.maxBytes", fmt.Sprintf("must not be negative, got %d", f.MaxBytes))
	}
	d.nonNegative("fetch.timeout", f.Timeout)
	for i, a := range f.Allow {
		if err := (fetch.GuardOptions{Allow: []string{a}}).Validate(); err != nil {
			d.addAt(fmt.Sprintf("fetch.allow[%d]", i), strings.TrimPrefix(err.Error(), "fetch guard: "))
		}
	}
	for i, dir := range f.SourceDirs {
		if dir == "" {
			d.addAt(fmt.Sprintf("fetch.sourceDirs[%d]", i), "empty directory")
		}
	}
	for _, l := range []struct {
		name string
		list []string
	}{{"env", f.Secrets.Env}, {"deny", f.Secrets.Deny}} {
		for i, e := range l.list {
			if err := source.ValidEnvPattern(e); err != nil {
				d.addAt(fmt.Sprintf("fetch.secrets.%s[%d]", l.name, i), strings.TrimPrefix(err.Error(), "secret env "))
			}
		}
	}
	for i, dir := range f.Secrets.Dirs {
		if dir != "" && !filepath.IsAbs(dir) {
			dir = filepath.Join(d.dir, dir)
		}
		if err := source.ValidSecretDir(dir); err != nil {
			d.addAt(fmt.Sprintf("fetch.secrets.dirs[%d]", i), strings.TrimPrefix(err.Error(), "secret dir "))
		}
	}
}

// httpURL checks an absolute http(s) URL without credentials; the URL is
// not echoed when it carries credentials.
func (d *decoder) httpURL(field, raw string) bool {
	u, err := url.Parse(raw)
	if err == nil && u.User != nil {
		d.addAt(field, "credentials in the URL: send them in a header given as a reference (env:NAME), or keep them in the environment")
		return false
	}
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		d.addAt(field, fmt.Sprintf("%q: want an absolute http:// or https:// URL", raw))
		return false
	}
	return true
}

func (d *decoder) id(field, kind, id string) {
	if id == "" {
		d.addAt(field, "required")
		return
	}
	if err := source.ValidID(kind, id); err != nil {
		d.addAt(field, err.Error())
	}
}

// checkAISettings refuses a negative aiRetryWindow or aiMaxReasks of the
// API or source at p (owner names it in the message).
func (d *decoder) checkAISettings(p, owner string, window source.Duration, reasks *int) {
	if window < 0 {
		d.addAt(p+".aiRetryWindow", fmt.Sprintf("%s: must not be negative, got %s (leave it out for the default, %s)",
			owner, window.Std(), source.DefaultAIRetryWindow))
	}
	if reasks != nil && *reasks < 0 {
		d.addAt(p+".aiMaxReasks", fmt.Sprintf("%s: must not be negative, got %d (0 never asks the model again)", owner, *reasks))
	}
}

func (d *decoder) nonNegative(field string, v source.Duration) {
	if v < 0 {
		d.addAt(field, fmt.Sprintf("must not be negative, got %s", v.Std()))
	}
}

// refresh checks a refresh interval: 0 (on demand) or at least the floor.
func (d *decoder) refresh(field string, v source.Duration) {
	switch {
	case v < 0:
		d.nonNegative(field, v)
	case v > 0 && v.Std() < MinRefreshInterval:
		d.addAt(field, fmt.Sprintf("%s is below the minimum of %s (0 syncs on demand only)", v.Std(), MinRefreshInterval))
	}
}

// probeBase is a source that source.Source.Validate accepts; probe sets one
// field on it so the allowed values stay defined by the source package.
var probeBase = source.Source{ID: "probe", URL: "https://probe.invalid/"}

// probe reports the source package's verdict on one field's value.
func (d *decoder) probe(field, name string, set func(*source.Source)) {
	s := probeBase
	set(&s)
	err := s.Validate()
	if err == nil {
		return
	}
	msg := strings.TrimPrefix(err.Error(), `source "probe": `)
	msg = strings.TrimPrefix(msg, name+" ")
	d.addAt(field, msg)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
