package fetch

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/apilivesync/apilivesync/internal/source"
)

// maxSecretFileBytes bounds a "file:" header reference.
const maxSecretFileBytes = 64 << 10

// Redacted replaces every header value in logs.
const Redacted = "[redacted]"

var (
	envRef      = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`) })
	envName     = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`) })
	headerToken = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile("^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$") })
)

// ResolveHeaders resolves a source's header references with
// ResolveHeadersWith under Options.Secrets (the operator's allow-list),
// reading variables with Options.LookupEnv.
func (f *Fetcher) ResolveHeaders(sourceID string, refs map[string]string) (map[string]string, error) {
	return ResolveHeadersWith(sourceID, refs, f.opts.LookupEnv, f.opts.Secrets)
}

// refusedRef is a *source.RefError inside a fetch *Error, which already
// names the source and the header.
type refusedRef struct{ *source.RefError }

func (e refusedRef) Error() string { return e.Detail() }
func (e refusedRef) Unwrap() error { return e.RefError }

// ResolveHeadersWith turns header references from the config into the
// values to send. A reference is never a secret itself:
//
//   - "env:NAME" is the value of environment variable NAME;
//   - "${NAME}" inside a string is replaced by NAME's value, so
//     "Bearer ${PAYMENTS_TOKEN}" works;
//   - "file:/run/secrets/x" is the content of that file, surrounding
//     whitespace trimmed.
//
// A value with none of these forms is refused: literal values would put
// secrets in config and workflow history. Each reference is checked against
// policy first: one the operator did not allow is refused (KindBadRequest,
// wrapping a *source.RefError that names the allow-list) before anything is
// read, and file: references are opened only inside the policy's
// directories. lookup reads environment variables; nil means os.LookupEnv.
// Errors name the source, the header and the variable or file, never a
// value.
func ResolveHeadersWith(sourceID string, refs map[string]string, lookup func(string) (string, bool), policy source.SecretPolicy) (map[string]string, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	out := make(map[string]string, len(refs))
	names := make([]string, 0, len(refs))
	for name := range refs {
		names = append(names, name)
	}
	sort.Strings(names)
	var errs []error
	for _, name := range names {
		fail := func(format string, args ...any) {
			errs = append(errs, &Error{Source: sourceID, Target: fmt.Sprintf("header %q", name), Kind: KindBadRequest, Err: fmt.Errorf(format, args...)})
		}
		if !headerToken().MatchString(name) {
			fail("not a valid header name")
			continue
		}
		ref := strings.TrimSpace(refs[name])
		if err := policy.CheckRef(sourceID, name, ref); err != nil {
			var re *source.RefError
			if errors.As(err, &re) {
				err = refusedRef{re}
			}
			fail("%w", err)
			continue
		}
		var value string
		switch {
		case strings.HasPrefix(ref, "env:"):
			v := strings.TrimSpace(strings.TrimPrefix(ref, "env:"))
			if !envName().MatchString(v) {
				fail("reference %q: %q is not an environment variable name", "env:", v)
				continue
			}
			val, ok := lookup(v)
			if !ok || val == "" {
				fail("environment variable %s is not set", v)
				continue
			}
			value = val
		case strings.HasPrefix(ref, "file:"):
			path := strings.TrimSpace(strings.TrimPrefix(ref, "file:"))
			val, err := readSecretFile(path, policy)
			if err != nil {
				fail("%w", err)
				continue
			}
			value = val
		case envRef().MatchString(ref):
			var missing []string
			value = envRef().ReplaceAllStringFunc(ref, func(m string) string {
				v := envRef().FindStringSubmatch(m)[1]
				val, ok := lookup(v)
				if !ok || val == "" {
					missing = append(missing, v)
				}
				return val
			})
			if len(missing) > 0 {
				fail("environment variable %s is not set", strings.Join(missing, ", "))
				continue
			}
		default:
			fail("value is not a reference; write env:NAME, ${NAME} or file:/path so no secret is stored in the config")
			continue
		}
		if strings.ContainsAny(value, "\r\n\x00") {
			fail("resolved value contains a line break or NUL")
			continue
		}
		out[name] = value
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func readSecretFile(path string, policy source.SecretPolicy) (string, error) {
	if path == "" {
		return "", errors.New(`"file:" reference without a path`)
	}
	f, err := policy.OpenFile(path)
	if err != nil {
		// The *PathError names the path and the cause, nothing of the content.
		return "", fmt.Errorf("secret file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFileBytes+1))
	if err != nil {
		return "", fmt.Errorf("secret file %s: %w", path, err)
	}
	if len(b) > maxSecretFileBytes {
		return "", fmt.Errorf("secret file %s is larger than %d bytes", path, maxSecretFileBytes)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("secret file %s is empty", path)
	}
	return v, nil
}

// RedactHeaders returns a copy of h with every value replaced by Redacted,
// for logs. Header names are kept; no value is ever logged.
func RedactHeaders(h map[string]string) map[string]string {
	if h == nil {
		return nil
	}
	out := make(map[string]string, len(h))
	for k := range h {
		out[k] = Redacted
	}
	return out
}
