// Package redact removes credentials from text before it reaches a status,
// workflow history, a log line or the CLI.
//
// String replaces, with Mask:
//   - URL userinfo ("https://user:pass@host" → "https://REDACTED@host");
//   - every query value, in URLs and in bare "?a=b&c=d" fragments, keeping
//     the keys ("?api_key=REDACTED&sig=REDACTED"), and fragment values
//     ("#access_token=REDACTED");
//   - the credentials of Authorization schemes in text ("Bearer REDACTED",
//     "Basic REDACTED");
//   - values of credential-named fields written key=value or "key": "value"
//     (token, secret, password, api_key, client_secret, ...);
//   - every given secret value of at least MinSecretLen bytes, raw and
//     URL-escaped, wherever it appears.
//
// Redaction is for messages; it does not make a structured value safe to
// store. Error keeps errors.Is and errors.As working, but an error found
// that way prints its own, unredacted message.
package redact

import (
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Mask replaces what is removed.
const Mask = "REDACTED"

// MinSecretLen is the shortest secret value replaced: shorter ones would
// redact ordinary words.
const MinSecretLen = 4

// The patterns compile on first use, not at start-up: every program
// links this package, few redact anything (`starter diff` never does).
var patterns = sync.OnceValue(func() *redactPatterns {
	return &redactPatterns{
		// userinfo matches "scheme://userinfo@".
		userinfo: regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://)[^/?#@\s"'<>]+@`),
		// query matches a query or a fragment: "?..." or "#..." up to a
		// space, quote, bracket or the next "#".
		query: regexp.MustCompile(`[?#][^\s"'<>()\[\]{}#]*`),
		// auth matches an Authorization scheme and its credentials.
		auth: regexp.MustCompile(`(?i)\b(Bearer|Basic)(\s+)([A-Za-z0-9\-._~+/]+=*)`),
		// field matches a credential-named field and its value: token=abc,
		// "password": "abc", api-key: abc; not a path ending in one
		// (/etc/passwd: ...).
		field: regexp.MustCompile(`(?i)(^|[^/.\w-])((?:api[_-]?key|apikey|access[_-]?token|refresh[_-]?token|id[_-]?token|auth[_-]?token|client[_-]?secret|secret[_-]?key|private[_-]?key|token|secret|password|passwd|pwd|signature|sig|session[_-]?id|x-api-key|x-amz-signature|x-amz-credential|x-amz-security-token)["']?\s*[:=]\s*["']?)([^\s"'&,;}<>]+)`),
	}
})

type redactPatterns struct{ userinfo, query, auth, field *regexp.Regexp }

// notCredentials are words that follow "Basic" or "Bearer" in prose and
// challenges (WWW-Authenticate: Basic realm="x"), not tokens.
var notCredentials = []string{"realm", "auth", "authentication", "authorization", "token", "tokens", "credentials",
	"scheme", "error", "header", "is", "was", "required", "missing", "invalid", "expired", Mask}

// Redactor redacts text with a fixed set of secret values. Its zero value
// redacts URLs, tokens and fields but no particular value.
type Redactor struct {
	secrets []string // longest first, so a secret containing another goes whole
}

// New returns a Redactor for the given secret values; values shorter than
// MinSecretLen are ignored.
func New(secrets ...string) *Redactor {
	r := &Redactor{}
	seen := map[string]bool{}
	for _, s := range secrets {
		for _, v := range []string{s, url.QueryEscape(s), url.PathEscape(s)} {
			if len(v) >= MinSecretLen && !seen[v] {
				seen[v] = true
				r.secrets = append(r.secrets, v)
			}
		}
	}
	slices.SortFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
	return r
}

// String redacts s with no particular secret value.
func String(s string, secrets ...string) string { return New(secrets...).String(s) }

// String returns s with credentials replaced by Mask.
func (r *Redactor) String(s string) string {
	if r != nil {
		for _, v := range r.secrets {
			s = strings.ReplaceAll(s, v, Mask)
		}
	}
	re := patterns()
	s = re.userinfo.ReplaceAllString(s, "${1}"+Mask+"@")
	s = re.query.ReplaceAllStringFunc(s, redactQuery)
	s = re.auth.ReplaceAllStringFunc(s, func(m string) string {
		sub := re.auth.FindStringSubmatch(m)
		for _, w := range notCredentials {
			if strings.EqualFold(strings.TrimRight(sub[3], "="), w) {
				return m
			}
		}
		return sub[1] + sub[2] + Mask
	})
	s = re.field.ReplaceAllStringFunc(s, func(m string) string {
		sub := re.field.FindStringSubmatch(m)
		// Punctuation that ends a sentence or a clause is not the value's.
		v := strings.TrimRight(sub[3], ":.)")
		return sub[1] + sub[2] + Mask + sub[3][len(v):]
	})
	return s
}

// redactQuery keeps the keys of "?a=1&b=2" (or "#a=1") and masks the
// values; a fragment without "=" is kept (an anchor), a query item without
// one is masked (it may be a bare token).
func redactQuery(q string) string {
	// Punctuation that ends a sentence or a clause is not the query's.
	trimmed := strings.TrimRight(q, ":.,)")
	tail := q[len(trimmed):]
	return redactQueryItems(trimmed) + tail
}

func redactQueryItems(q string) string {
	if q == "" {
		return q
	}
	lead, body := q[:1], q[1:]
	if body == "" || (lead == "#" && !strings.Contains(body, "=")) {
		return q
	}
	var b strings.Builder
	b.WriteString(lead)
	for {
		j := strings.IndexAny(body, "&;")
		item := body
		if j >= 0 {
			item = body[:j]
		}
		if k, _, ok := strings.Cut(item, "="); ok {
			b.WriteString(k + "=" + Mask)
		} else if item != "" {
			b.WriteString(Mask)
		}
		if j < 0 {
			return b.String()
		}
		b.WriteByte(body[j])
		body = body[j+1:]
	}
}

// URL returns u as a string without userinfo and with query and fragment
// values masked.
func URL(u *url.URL) string {
	if u == nil {
		return ""
	}
	return String(u.String())
}

// Error wraps err so that its message is redacted, keeping errors.Is and
// errors.As working on the chain beneath. nil stays nil.
func Error(err error, secrets ...string) error { return New(secrets...).Error(err) }

// Error wraps err so that its message is redacted with r's secrets.
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	var re *RedactedError
	if errors.As(err, &re) && re == err {
		// Already redacted once; redact again with these secrets too.
		return &RedactedError{Msg: r.String(re.Msg), Err: re.Err}
	}
	return &RedactedError{Msg: r.String(err.Error()), Err: err}
}

// RedactedError is an error whose message was redacted. Unwrap returns the
// original, whose own message is not.
type RedactedError struct {
	Msg string
	Err error
}

func (e *RedactedError) Error() string { return e.Msg }

// Unwrap returns the original error.
func (e *RedactedError) Unwrap() error { return e.Err }
