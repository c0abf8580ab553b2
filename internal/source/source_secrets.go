package source

import (
	"errors"
	"fmt"
	"os"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Why the policy: a header value is a reference, and whoever may start a
// sync or apply a config writes it. Without a policy,
// "Authorization: env:HOOK_SECRET" on a URL of the requester's choice would
// send the worker's webhook key there. The rules are in the package comment.

// DefaultSecretEnvPattern is the environment variable pattern every policy
// allows: variables named for source credentials.
const DefaultSecretEnvPattern = "LIVESYNC_SOURCE_*"

// WorkerSecretEnv lists the environment variables (and patterns) that hold
// the worker's own secrets; no source may reference them.
var WorkerSecretEnv = []string{
	"LIVESYNC_CODEC_*",   // payload codec key and the codec server's auth token
	"LIVESYNC_STORE",     // the store URL may carry credentials
	"LIVESYNC_WEBHOOK_*", // the documented names of webhook signing keys
	"OPENAI_API_KEY",     // the AI resolver's default key
	"ANTHROPIC_API_KEY",
	"TEMPORAL_*", // Temporal Cloud keys and mTLS material
	"AWS_*",      // cloud credentials (also the S3 store's)
	"GOOGLE_*",
	"GCP_*",
	"AZURE_*",
}

// SecretPolicy says which secret references sources may use. The zero value
// allows only DefaultSecretEnvPattern.
type SecretPolicy struct {
	// Env lists environment variable names or path.Match patterns.
	Env []string `json:"env,omitempty" yaml:"env,omitempty"`
	// Dirs lists directories whose files may be referenced with file:.
	Dirs []string `json:"dirs,omitempty" yaml:"dirs,omitempty"`
	// Deny lists more names or patterns that are never referable, beside
	// WorkerSecretEnv: the worker's webhook secretEnv and AI apiKeyEnv.
	Deny []string `json:"deny,omitempty" yaml:"deny,omitempty"`
}

// SecretPolicyFromFlags builds a policy from the comma-separated values of
// -secret-env and -secret-dir, denying deny as well, and validates it.
func SecretPolicyFromFlags(env, dirs string, deny ...string) (SecretPolicy, error) {
	p := SecretPolicy{Env: SplitList(env), Dirs: SplitList(dirs), Deny: deny}
	return p, p.Validate()
}

// SplitList splits a comma-separated flag value, trimming spaces and
// dropping empty items.
func SplitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// Merge returns a policy allowing what either allows and denying what either denies.
func (p SecretPolicy) Merge(q SecretPolicy) SecretPolicy {
	return SecretPolicy{
		Env:  mergeLists(p.Env, q.Env),
		Dirs: mergeLists(p.Dirs, q.Dirs),
		Deny: mergeLists(p.Deny, q.Deny),
	}
}

func mergeLists(a, b []string) []string {
	out := slices.Clone(a)
	for _, v := range b {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

var envPatternRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_*?]+$`) })

// Validate refuses patterns that cannot match a variable name and secret
// directories that are not absolute or lie in /proc, /sys or /dev.
func (p SecretPolicy) Validate() error {
	var errs []error
	for _, list := range [][]string{p.Env, p.Deny} {
		for _, e := range list {
			if err := ValidEnvPattern(e); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, d := range p.Dirs {
		if err := ValidSecretDir(d); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ValidEnvPattern checks one environment variable name or pattern.
func ValidEnvPattern(e string) error {
	if !envPatternRE().MatchString(e) {
		return fmt.Errorf("secret env %q: want a variable name or a pattern of letters, digits, _, * and ?", e)
	}
	if _, err := path.Match(e, ""); err != nil {
		return fmt.Errorf("secret env %q: %w", e, err)
	}
	return nil
}

// ValidSecretDir checks one secret directory: absolute, and not in /proc,
// /sys or /dev.
func ValidSecretDir(d string) error {
	if !strings.HasPrefix(d, "/") && !(len(d) > 2 && d[1] == ':') {
		return fmt.Errorf("secret dir %q: want an absolute path", d)
	}
	clean := d
	if r, err := resolvePath(d); err == nil {
		clean = r
	}
	for _, sys := range systemDirs {
		if within(sys, clean) || within(clean, sys) {
			return fmt.Errorf("secret dir %q: it would expose %s", d, sys)
		}
	}
	return nil
}

// allowedEnv is Env with the default pattern, for matching and messages.
func (p SecretPolicy) allowedEnv() []string {
	if slices.Contains(p.Env, DefaultSecretEnvPattern) {
		return p.Env
	}
	return append(slices.Clone(p.Env), DefaultSecretEnvPattern)
}

// String names the allow-lists: "allowed env: A, LIVESYNC_SOURCE_*;
// allowed secret dirs: (none)".
func (p SecretPolicy) String() string {
	return "allowed env: " + listOrNone(p.allowedEnv()) + "; allowed secret dirs: " + listOrNone(p.Dirs)
}

// secretHint is how an operator allows more.
const secretHint = "start the worker with -secret-env/-secret-dir (or fetch.secrets in its config)"

func matchAny(patterns []string, name string) string {
	for _, pat := range patterns {
		if ok, _ := path.Match(pat, name); ok {
			return pat
		}
	}
	return ""
}

// CheckEnv reports why a source may not read environment variable name, or nil.
func (p SecretPolicy) CheckEnv(name string) error {
	if pat := matchAny(WorkerSecretEnv, name); pat != "" {
		return fmt.Errorf("%s is one of the worker's own secrets (%s), never referable by a source", name, pat)
	}
	if pat := matchAny(p.Deny, name); pat != "" {
		return fmt.Errorf("%s is one of the worker's own secrets, never referable by a source", name)
	}
	if matchAny(p.allowedEnv(), name) == "" {
		return fmt.Errorf("%s is not in the allow-list", name)
	}
	return nil
}

// CheckFile returns where a file: reference leads when that is inside one
// of Dirs, else a *PathError.
func (p SecretPolicy) CheckFile(file string) (string, error) {
	resolved, _, err := confine(file, p.Dirs, "secret file", "secret dirs", secretHint)
	return resolved, err
}

// OpenFile opens a file: reference's file when CheckFile allows it,
// through an os.Root so nothing outside Dirs is opened.
func (p SecretPolicy) OpenFile(file string) (*os.File, error) {
	f, _, err := openConfined(file, p.Dirs, "secret file", "secret dirs", secretHint)
	return f, err
}

// Ref is what a header reference names.
type Ref struct {
	// Env lists the environment variables read: the NAME of env:NAME, or
	// each ${NAME}.
	Env []string
	// File is the path of a file: reference.
	File string
}

var refVarRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`) })

// ParseRef reads a header reference: "env:NAME", "file:/path", or a value
// with ${NAME} in it ("Bearer ${TOKEN}"). ok is false for a value that
// references nothing.
func ParseRef(v string) (ref Ref, ok bool) {
	v = strings.TrimSpace(v)
	switch {
	case strings.HasPrefix(v, "env:"):
		return Ref{Env: []string{strings.TrimSpace(strings.TrimPrefix(v, "env:"))}}, true
	case strings.HasPrefix(v, "file:"):
		return Ref{File: strings.TrimSpace(strings.TrimPrefix(v, "file:"))}, true
	}
	for _, m := range refVarRE().FindAllStringSubmatch(v, -1) {
		ref.Env = append(ref.Env, m[1])
	}
	return ref, len(ref.Env) > 0
}

// RefError is a header reference the policy refuses.
type RefError struct {
	// Source and Header say where the reference is written; Ref is the
	// reference itself (a name or path, never a value).
	Source, Header, Ref string
	// Reason says why it is refused; Policy is SecretPolicy.String.
	Reason, Policy string
}

func (e *RefError) Error() string {
	return fmt.Sprintf("source %q: header %s: %s", e.Source, e.Header, e.Detail())
}

// Detail is the message without the source and header, for callers that
// name them already.
func (e *RefError) Detail() string {
	return fmt.Sprintf("%s is not allowed: %s; %s; %s", e.Ref, e.Reason, e.Policy, secretHint)
}

// CheckRef checks one header reference of a source against the policy. A
// value that is not a reference passes here (Validate refuses it).
func (p SecretPolicy) CheckRef(sourceID, header, value string) error {
	ref, ok := ParseRef(value)
	if !ok {
		return nil
	}
	fail := func(what, reason string) error {
		return &RefError{Source: sourceID, Header: header, Ref: what, Reason: reason, Policy: p.String()}
	}
	if ref.File != "" || strings.HasPrefix(strings.TrimSpace(value), "file:") {
		if _, err := p.CheckFile(ref.File); err != nil {
			var pe *PathError
			reason := err.Error()
			if errors.As(err, &pe) {
				reason = pe.Reason
				if pe.Resolved != "" && pe.Resolved != pe.Path {
					reason = "it resolves to " + pe.Resolved + ", " + reason
				}
			}
			return fail("file:"+ref.File, reason)
		}
		return nil
	}
	for _, name := range ref.Env {
		if err := p.CheckEnv(name); err != nil {
			what := "${" + name + "}"
			if strings.HasPrefix(strings.TrimSpace(value), "env:") {
				what = "env:" + name
			}
			return fail(what, err.Error())
		}
	}
	return nil
}

// ValidateRefs checks every header reference of the source against the
// policy and returns one *RefError per refused header (joined), in header
// order. file: references are resolved on the local file system (nothing
// is read), so call it from the starter, config apply or an activity, not
// from workflow code.
func (s Source) ValidateRefs(p SecretPolicy) error {
	names := make([]string, 0, len(s.Headers))
	for h := range s.Headers {
		names = append(names, h)
	}
	sort.Strings(names)
	var errs []error
	for _, h := range names {
		if err := p.CheckRef(s.ID, h, s.Headers[h]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
