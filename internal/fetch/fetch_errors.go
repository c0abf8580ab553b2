package fetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/apilivesync/apilivesync/internal/redact"
)

// Kinds of fetch failure. They are stable strings: activities use them as
// Temporal application-error types and users see them in status output.
const (
	// KindNotFound: the server answered 404 or 410. Permanent.
	KindNotFound = "not-found"
	// KindHTTPStatus: any other unexpected HTTP status. 5xx, 408 and 429
	// are temporary; other statuses are permanent.
	KindHTTPStatus = "http-status"
	// KindTooLarge: the body (after decompression) exceeds Options.MaxBytes. Permanent.
	KindTooLarge = "too-large"
	// KindTimeout: the whole request, or the wait for the next bytes, took
	// too long, or the body trickled below Options.MinBytesPerSecond. Temporary.
	KindTimeout = "timeout"
	// KindConnection: DNS failure, refused or reset connection, TLS
	// failure. Temporary, except certificate errors, which are permanent.
	KindConnection = "connection-failed"
	// KindBlocked: the SSRF guard refused the address or the scheme. Permanent.
	KindBlocked = "blocked-address"
	// KindTooManyRedirects: more than Options.MaxRedirects redirects, or a
	// redirect loop. Permanent.
	KindTooManyRedirects = "too-many-redirects"
	// KindFileNotFound: a file source does not exist. Permanent.
	KindFileNotFound = "file-not-found"
	// KindBadRequest: the source itself is wrong (bad URL, bad header
	// reference, not a regular file, unsupported encoding). Permanent.
	KindBadRequest = "bad-source"
	// KindIO: reading a file source failed for a reason other than its
	// absence. Temporary.
	KindIO = "io-error"
	// KindCanceled: the caller's context was canceled. Permanent (retrying
	// a canceled activity is the caller's decision, not ours).
	KindCanceled = "canceled"
	// KindRefusedPath: a file source outside Options.SourceRoots, or under
	// /proc, /sys or /dev. Nothing was read. Permanent.
	KindRefusedPath = "refused-path"
)

// Error is the error every Fetch and ResolveHeaders failure returns. Check it
// with errors.As; Kind is one of the Kind constants.
type Error struct {
	// Source is the source ID the fetch was for.
	Source string
	// Target says what was attempted: "GET https://host/path" (userinfo and
	// query values redacted), "read /path/to/file", or `header "Authorization"`.
	Target string
	// Kind classifies the failure (KindNotFound, KindTimeout, ...).
	Kind string
	// StatusCode is the HTTP status when the server answered, else 0.
	StatusCode int
	// Temporary reports whether retrying later may succeed.
	Temporary bool
	// RetryAfter is the server's Retry-After (429, 503), when it gave a
	// usable one; zero otherwise.
	RetryAfter time.Duration
	// Err is the underlying cause.
	Err error

	// secrets are the request's resolved header values, redacted from the
	// message with everything redact.String removes.
	secrets []string
}

// Error formats as `fetch source "payments": GET https://x/openapi.json: 503 Service Unavailable`,
// redacted: URL userinfo and query values, Bearer and Basic credentials,
// and the request's own header values never appear (see package redact),
// whatever a server echoed or a redirect pointed to.
func (e *Error) Error() string { return redact.String(e.message(), e.secrets...) }

func (e *Error) message() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fetch source %q", e.Source)
	if e.Target != "" {
		b.WriteString(": ")
		b.WriteString(e.Target)
	}
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString(e.Kind)
	}
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// IsTemporary reports whether err is (or wraps) a fetch *Error that may
// succeed when retried. Errors of other types are reported as not temporary.
func IsTemporary(err error) bool {
	var fe *Error
	return errors.As(err, &fe) && fe.Temporary
}

// BlockedError is the cause (Error.Err) of a KindBlocked failure: the guard
// refused to connect to Host because it resolves to Addr.
type BlockedError struct {
	// Host and Port are the dial target as the URL named them.
	Host, Port string
	// Addr is the resolved address that was refused; empty when the refusal
	// was about the scheme rather than an address.
	Addr string
	// Reason names the address class: "loopback", "private", "link-local", ...
	Reason string
	// Hint says how to allow it.
	Hint string
}

func (e *BlockedError) Error() string {
	var b strings.Builder
	if e.Host == e.Addr {
		fmt.Fprintf(&b, "refusing to connect to %s, a %s address", e.Addr, e.Reason)
	} else {
		fmt.Fprintf(&b, "refusing to connect to host %q: it resolves to %s, a %s address", e.Host, e.Addr, e.Reason)
	}
	if e.Hint != "" {
		b.WriteString("; ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// Sentinel causes, reachable with errors.Is through an *Error.
var (
	// ErrIdleTimeout: no bytes arrived for Options.IdleTimeout.
	ErrIdleTimeout = errors.New("no data received within the idle timeout")
	// ErrTimeout: the whole request exceeded Options.Timeout.
	ErrTimeout = errors.New("request exceeded the overall timeout")
	// ErrTooSlow: the body arrived slower than Options.MinBytesPerSecond.
	ErrTooSlow = errors.New("body arrived slower than the minimum rate")
	// ErrTooLarge: the body exceeds Options.MaxBytes.
	ErrTooLarge = errors.New("body exceeds the size limit")
)

// redirectError is returned by CheckRedirect so that classification can tell
// a refused redirect from a transport failure.
type redirectError struct {
	kind string
	err  error
}

func (e *redirectError) Error() string { return e.err.Error() }
func (e *redirectError) Unwrap() error { return e.err }

// statusError builds the *Error for an unexpected HTTP status.
func statusError(source, target string, resp *http.Response, now time.Time) *Error {
	code := resp.StatusCode
	e := &Error{Source: source, Target: target, StatusCode: code, Kind: KindHTTPStatus}
	msg := resp.Status
	if msg == "" {
		msg = strconv.Itoa(code) + " " + http.StatusText(code)
	}
	switch {
	case code == http.StatusNotFound || code == http.StatusGone:
		e.Kind = KindNotFound
		msg += " (check the source URL)"
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		msg += " (the server refused the credentials: check the source's auth headers and the secrets they reference)"
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		e.Temporary = true
		if d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), now); ok && d <= maxRetryAfter {
			d = d.Round(time.Second)
			e.RetryAfter = d
			msg += fmt.Sprintf(" (retry after %s)", d)
		}
	case code == http.StatusRequestTimeout || code >= 500:
		e.Temporary = true
	case code == http.StatusNotModified:
		msg += " (answered a request that was not conditional)"
	}
	e.Err = errors.New(msg)
	return e
}

// maxRetryAfter is the longest Retry-After an Error reports; a server asking
// for more is taken to be misconfigured and its header ignored.
const maxRetryAfter = 7 * 24 * time.Hour

// ParseRetryAfter reads a Retry-After header value (RFC 9110, section
// 10.2.3): delay-seconds, or an HTTP-date taken relative to now. Fractional
// seconds ("0.5"), which some APIs send, are accepted; a date already past
// is a wait of zero. ok is false when v is empty, negative or neither form.
// How long a wait to honour is the caller's policy. It is the one
// Retry-After reader: fetch errors, webhook delivery and the AI resolver
// use it.
func ParseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if strings.Trim(v, "0123456789.") == "" {
		secs, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, false
		}
		if secs >= float64(math.MaxInt64/time.Second) {
			return math.MaxInt64, true
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// classifyTransport turns an error from http.Client.Do or from reading the
// body into an *Error. reqCtx is the per-request context (whose cause tells
// our own timeouts apart), parent the caller's.
func (f *Fetcher) classifyTransport(source, target string, err error, reqCtx, parent context.Context) *Error {
	e := &Error{Source: source, Target: target, Kind: KindConnection, Temporary: true}
	// Drop *url.Error: it repeats the method and URL already in Target.
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		err = ue.Err
	}
	e.Err = err

	var be *BlockedError
	if errors.As(err, &be) {
		e.Kind, e.Temporary, e.Err = KindBlocked, false, be
		return e
	}
	var re *redirectError
	if errors.As(err, &re) {
		e.Kind, e.Temporary, e.Err = re.kind, false, re.err
		return e
	}
	if errors.Is(err, ErrTooSlow) {
		e.Kind = KindTimeout
		e.Err = fmt.Errorf("%w (minimum %d bytes/s)", ErrTooSlow, f.opts.MinBytesPerSecond)
		return e
	}
	if errors.Is(err, ErrTooLarge) {
		e.Kind, e.Temporary = KindTooLarge, false
		return e
	}
	if reqCtx.Err() != nil {
		cause := context.Cause(reqCtx)
		switch {
		case errors.Is(cause, ErrIdleTimeout):
			e.Kind = KindTimeout
			e.Err = fmt.Errorf("%w: nothing for %s", ErrIdleTimeout, f.opts.IdleTimeout)
		case errors.Is(cause, ErrTimeout):
			e.Kind = KindTimeout
			e.Err = fmt.Errorf("%w: took longer than %s", ErrTimeout, f.opts.Timeout)
		case parent.Err() != nil && errors.Is(parent.Err(), context.Canceled):
			e.Kind, e.Temporary = KindCanceled, false
			e.Err = fmt.Errorf("canceled: %w", context.Cause(parent))
		default:
			e.Kind = KindTimeout
			e.Err = fmt.Errorf("caller's deadline passed: %w", cause)
		}
		return e
	}
	var (
		unknownCA   x509.UnknownAuthorityError
		hostnameErr x509.HostnameError
		invalidCert x509.CertificateInvalidError
		verifyErr   *tls.CertificateVerificationError
	)
	if errors.As(err, &unknownCA) || errors.As(err, &hostnameErr) || errors.As(err, &invalidCert) || errors.As(err, &verifyErr) {
		e.Temporary = false
		e.Err = fmt.Errorf("TLS certificate rejected: %w", err)
		return e
	}
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		e.Kind = KindTimeout
	}
	return e
}
