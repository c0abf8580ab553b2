package notify

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode"
)

// ErrInvalidEvent is wrapped by Deliver when the event cannot be sent: no
// type, no ID, no time, or Data that is not JSON.
var ErrInvalidEvent = errors.New("invalid event")

// DeliveryError says why one webhook did not take an event. Deliver joins
// one per failed hook. It never holds the secret, and URL has its userinfo
// and query removed (they often carry tokens).
type DeliveryError struct {
	URL       string // the hook's URL, redacted: scheme://host/path
	Event     string // event type
	ID        string // the event's idempotency key
	Attempts  int    // requests made (0 when none could be built)
	Permanent bool   // a retry would fail the same way (4xx, bad URL, no secret, blocked address)
	Err       error  // the last attempt's error: a *StatusError, a *url.Error, a context error
}

// Error names the hook, the event and the cause.
func (e *DeliveryError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "deliver %s event %q to webhook %s: %v", e.Event, e.ID, e.URL, e.Err)
	switch {
	case e.Attempts > 1:
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	case e.Attempts == 1 && e.Permanent:
		b.WriteString(" (not retried)")
	}
	return b.String()
}

// Unwrap returns the last attempt's error.
func (e *DeliveryError) Unwrap() error { return e.Err }

// StatusError is a receiver's non-2xx answer.
type StatusError struct {
	StatusCode int
	Status     string // "503 Service Unavailable"
	Body       string // the start of the response body, printable characters only
}

// Error gives the status and the start of the body.
func (e *StatusError) Error() string {
	if e.Body == "" {
		return "HTTP " + e.Status
	}
	return fmt.Sprintf("HTTP %s: %s", e.Status, e.Body)
}

// Permanent reports whether err, as returned by Deliver, holds at least one
// DeliveryError and all of them are permanent: retrying the whole delivery
// (a Temporal activity retry) cannot help, so the caller may fail it as
// non-retryable.
func Permanent(err error) bool {
	var des []*DeliveryError
	collect(err, &des)
	if len(des) == 0 {
		return false
	}
	for _, de := range des {
		if !de.Permanent {
			return false
		}
	}
	return true
}

func collect(err error, out *[]*DeliveryError) {
	switch e := err.(type) {
	case nil:
	case *DeliveryError:
		*out = append(*out, e)
	case interface{ Unwrap() []error }:
		for _, inner := range e.Unwrap() {
			collect(inner, out)
		}
	case interface{ Unwrap() error }:
		collect(e.Unwrap(), out)
	}
}

// redactURL keeps scheme, host and path: userinfo and query often carry
// tokens and never reach errors or logs.
func redactURL(u *url.URL) string {
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	s := r.String()
	if u.RawQuery != "" {
		s += "?…"
	}
	return s
}

// scrubURLError replaces the full URL the HTTP client puts in its errors by
// the redacted one.
func scrubURLError(err error, redacted string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: redacted, Err: ue.Err}
	}
	return err
}

// retryableStatus: 408, 429 and 5xx may succeed later; every other non-2xx
// (including 3xx, since redirects are not followed) will not.
func retryableStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}

// printable keeps the start of a response body readable in an error.
func printable(b []byte, limit int) string {
	s := strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		if !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, string(b))
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > limit {
		s = string(r[:limit]) + "…"
	}
	return s
}
