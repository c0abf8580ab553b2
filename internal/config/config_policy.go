package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/apilivesync/apilivesync/internal/fetch"
	"github.com/apilivesync/apilivesync/internal/source"
)

// Policy is what the operator lets sources use: the SSRF guard's
// addresses, the directories file sources may be read from, and the secret
// references headers may make. The worker builds it from its flags
// (-allow, -allow-private, -source-dir, -secret-env, -secret-dir, -dev) and,
// through Config.Policy, from its own config file.
type Policy struct {
	Guard       fetch.GuardOptions
	SourceRoots []string
	Secrets     source.SecretPolicy
}

// Apply sets the policy on fetcher options: the guard, the source roots and
// the secret allow-list (Fetcher.ResolveHeaders).
func (p Policy) Apply(o fetch.Options) fetch.Options {
	o.Guard, o.SourceRoots, o.Secrets = p.Guard, p.SourceRoots, p.Secrets
	return o
}

// Merge returns a policy allowing what either allows.
func (p Policy) Merge(q Policy) Policy {
	return Policy{
		Guard: fetch.GuardOptions{
			AllowLoopback: p.Guard.AllowLoopback || q.Guard.AllowLoopback,
			AllowPrivate:  p.Guard.AllowPrivate || q.Guard.AllowPrivate,
			Allow:         mergeStrings(p.Guard.Allow, q.Guard.Allow),
		},
		SourceRoots: mergeStrings(p.SourceRoots, q.SourceRoots),
		Secrets:     p.Secrets.Merge(q.Secrets),
	}
}

func mergeStrings(a, b []string) []string {
	out := slices.Clone(a)
	for _, v := range b {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// Policy returns flags widened by what this config file allows (fetch.allow,
// fetch.allowPrivate, fetch.sourceDirs, fetch.secrets) and narrowed by the
// worker's own secrets it names (WorkerSecretEnv). Only the worker calls
// it, for the config it was started with: a file given to apply is checked
// against the worker's policy with ValidateWith and never widens it.
func (c *Config) Policy(flags Policy) Policy {
	p := flags.Merge(Policy{
		Guard:       fetch.GuardOptions{AllowPrivate: c.Fetch.AllowPrivate, Allow: c.Fetch.Allow},
		SourceRoots: c.Fetch.SourceDirs,
		Secrets:     c.Fetch.Secrets,
	})
	p.Secrets.Deny = mergeStrings(p.Secrets.Deny, c.WorkerSecretEnv())
	return p
}

// WorkerSecretEnv lists the environment variables this config names for the
// worker's own secrets: every webhook's secretEnv and ai.apiKeyEnv. No
// source may reference them (add them to SecretPolicy.Deny).
func (c *Config) WorkerSecretEnv() []string {
	var out []string
	for _, w := range c.Webhooks {
		if w.SecretEnv != "" && !slices.Contains(out, w.SecretEnv) {
			out = append(out, w.SecretEnv)
		}
	}
	if c.AI.APIKeyEnv != "" && !slices.Contains(out, c.AI.APIKeyEnv) {
		out = append(out, c.AI.APIKeyEnv)
	}
	return out
}

// ValidateWith refuses what fetch would refuse later under policy p: URL
// sources (and webhooks) at a literal private, loopback, link-local or
// metadata address or localhost outside the guard's allow-list, file
// sources outside p.SourceRoots, and header references outside p.Secrets
// (or naming the worker's own secrets this config names). Problems are
// Errors at file:line:col, like Load's. It reads no file, though it
// resolves file paths and their links. cfg is a config from Load;
// Load's own checks are not repeated.
func ValidateWith(cfg *Config, p Policy) error {
	d := cfg.where
	if d == nil {
		d = newDecoder("config", cfg.Dir)
	}
	// A fresh decoder sharing the positions, so cfg keeps its own result.
	v := &decoder{file: d.file, dir: d.dir, pos: d.pos, bad: map[string]bool{}}
	secrets := p.Secrets
	secrets.Deny = mergeStrings(secrets.Deny, cfg.WorkerSecretEnv())
	roots := source.Roots(p.SourceRoots)
	for i, s := range cfg.Sources {
		at := fmt.Sprintf("sources[%d]", i)
		switch {
		case s.URL != "":
			if err := p.Guard.CheckURL(s.URL); err != nil {
				v.addAt(at+".url", guardMessage(err))
			}
		case s.LocalFile() != "":
			if _, err := roots.Resolve(s.LocalFile()); err != nil {
				v.addAt(v.fileField(i), err.Error())
			}
		}
		for _, h := range sortedKeys(s.Headers) {
			if err := secrets.CheckRef(s.ID, h, s.Headers[h]); err != nil {
				msg := err.Error()
				var re *source.RefError
				if errors.As(err, &re) {
					msg = re.Detail()
				}
				v.addAt(at+".headers."+h, msg)
			}
		}
	}
	for i, w := range cfg.Webhooks {
		if err := p.Guard.CheckURL(w.URL); err != nil {
			v.addAt(fmt.Sprintf("webhooks[%d].url", i), guardMessage(err))
		}
	}
	return v.result()
}

// guardMessage is the guard's refusal without its "refusing to connect"
// wording, which reads oddly at apply time.
func guardMessage(err error) string {
	msg := err.Error()
	var be *fetch.BlockedError
	if errors.As(err, &be) {
		msg = fmt.Sprintf("%s is a %s address, which the fetch guard refuses", be.Host, be.Reason)
		if be.Host != be.Addr {
			msg = fmt.Sprintf("%s stands for %s, a %s address, which the fetch guard refuses", be.Host, be.Addr, be.Reason)
		}
		if be.Hint != "" {
			msg += "; " + be.Hint
		}
	}
	return strings.TrimSpace(msg)
}
