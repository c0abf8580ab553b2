// Package notify delivers API Live Sync events to webhooks: signed with
// HMAC-SHA256, retried with backoff, and carrying an idempotency key so
// receivers can drop duplicates.
//
// # Wire format
//
// Each delivery is a POST with a JSON Event as its body and these headers:
//
//	Content-Type:          application/json
//	X-LiveSync-Event:      the event type (sync.completed, ...)
//	Idempotency-Key:       Event.ID
//	X-LiveSync-Timestamp:  Unix seconds when this attempt was signed
//	X-LiveSync-Signature:  sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//	X-LiveSync-Attempt:    1, 2, ... within one Deliver call
//
// # Idempotency
//
// The body is marshalled once per Deliver call, so every attempt sends the
// same bytes and the same Idempotency-Key. Event carries no field that
// Deliver fills in: when the caller gives the same Event (same ID and Time,
// for instance from workflow.Now in the workflow that schedules the notify
// activity), a Temporal activity retry, or a worker that crashed after
// delivering, sends byte-identical bodies too. Receivers dedupe on
// Idempotency-Key.
//
// The timestamp and signature, by contrast, are recomputed on every attempt:
// after a long backoff the request still carries a fresh timestamp, so
// receivers can keep a tight replay window (a few minutes' tolerance) without
// rejecting honest retries.
//
// # Retries
//
// 2xx is delivered. 5xx, 408, 429, timeouts and connection errors are
// retried up to MaxAttempts with exponential backoff (with jitter, capped at
// MaxBackoff); a Retry-After on 429 or 503 is honoured, capped at
// MaxBackoff. Every other status, 3xx included (redirects are not followed),
// is permanent, and so is the SSRF guard's refusal (*fetch.BlockedError). Retries stop early when ctx is done or its deadline would
// pass before the next attempt.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/apilivesync/apilivesync/internal/fetch"
)

// Headers on every delivery.
const (
	HeaderSignature      = "X-LiveSync-Signature"
	HeaderTimestamp      = "X-LiveSync-Timestamp"
	HeaderIdempotencyKey = "Idempotency-Key"
	HeaderEvent          = "X-LiveSync-Event"
	HeaderAttempt        = "X-LiveSync-Attempt"
)

// Event types, as users type them in a webhook's event filter.
const (
	EventSourceAdded   = "source.added"
	EventSourceRemoved = "source.removed"
	EventSyncStarted   = "sync.started"
	EventSyncCompleted = "sync.completed"
	EventSyncFailed    = "sync.failed"
	EventSyncNoChange  = "sync.nochange"
	EventSyncBlocked   = "sync.blocked"
)

// Defaults for zero Options fields.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultMaxAttempts = 5
	DefaultBackoff     = time.Second
	DefaultMaxBackoff  = 30 * time.Second
	DefaultUserAgent   = "api-live-sync-webhook/1"
)

// maxErrorBody is how much of a failed response's body goes into a
// StatusError; maxDrain is how much is read to let the connection be reused.
const (
	maxErrorBody = 200
	maxDrain     = 64 << 10
)

// Event is what a webhook receives, as JSON.
type Event struct {
	Type string `json:"type"`
	// ID is the idempotency key, sent as Idempotency-Key. The caller gives
	// it and keeps it stable across retries of the same event.
	ID string `json:"id"`
	// Time is when the event happened. The caller sets it (not Deliver), so
	// a retried delivery has the same body.
	Time   time.Time       `json:"time"`
	Source string          `json:"source,omitempty"`
	API    string          `json:"api,omitempty"`
	Data   json.RawMessage `json:"data,omitempty"`
}

// Webhook is one receiver.
type Webhook struct {
	URL string
	// Secret signs deliveries, already resolved by the caller from its
	// reference. A hook without one is not sent to: an unsigned delivery
	// would be indistinguishable from a forged one.
	Secret []byte
	// Events filters by event type: exact names, "*", or a prefix wildcard
	// such as "sync.*". Empty means all.
	Events []string
}

// Options tunes delivery. Zero fields take the Default values.
type Options struct {
	// Client sends the requests. Pass the SSRF-guarded client
	// (fetch.Fetcher.Client); nil uses a plain client. Redirects are never
	// followed whatever the client's CheckRedirect says.
	Client *http.Client
	// Timeout bounds one attempt.
	Timeout time.Duration
	// MaxAttempts bounds the requests per hook and Deliver call.
	MaxAttempts int
	// Backoff is the wait after the first failed attempt; it doubles after
	// each, up to MaxBackoff, with jitter.
	Backoff, MaxBackoff time.Duration
	// Logger gets a line per retry and per failed hook; nil is silent.
	Logger *zap.Logger
	// UserAgent is sent with every request.
	UserAgent string
}

// Notifier delivers events to a fixed set of webhooks. It is safe for
// concurrent use.
type Notifier struct {
	hooks  []Webhook
	opts   Options
	client *http.Client
	log    *zap.Logger
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error
}

// New returns a Notifier for hooks. The hooks are copied.
func New(hooks []Webhook, opts Options) *Notifier {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.Backoff <= 0 {
		opts.Backoff = DefaultBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.MaxBackoff < opts.Backoff {
		opts.MaxBackoff = opts.Backoff
	}
	if opts.UserAgent == "" {
		opts.UserAgent = DefaultUserAgent
	}
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	client := &http.Client{}
	if opts.Client != nil {
		c := *opts.Client // share the transport (and its guard), change only redirects
		client = &c
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Notifier{
		hooks:  append([]Webhook(nil), hooks...),
		opts:   opts,
		client: client,
		log:    log.Named("notify"),
		now:    time.Now,
		sleep:  sleepCtx,
	}
}

// MaxDuration is the longest one Deliver call can take with these options
// (every attempt timing out, every backoff at its cap): a floor for the
// StartToClose timeout of the activity that calls Deliver.
func (n *Notifier) MaxDuration() time.Duration {
	if n == nil {
		return 0
	}
	total := time.Duration(n.opts.MaxAttempts) * n.opts.Timeout
	for a := 1; a < n.opts.MaxAttempts; a++ {
		total += n.backoffCap(a)
	}
	return total
}

// Deliver sends ev to every hook whose filter matches, concurrently, each
// with its own retries. delivered and failed count hooks. err joins one
// *DeliveryError per failed hook (see Permanent), or wraps ErrInvalidEvent
// when ev cannot be sent at all. A nil Notifier, or no matching hook,
// delivers nothing and returns no error.
func (n *Notifier) Deliver(ctx context.Context, ev Event) (delivered, failed int, err error) {
	if n == nil {
		return 0, 0, nil
	}
	if err := validate(ev); err != nil {
		return 0, 0, err
	}
	var targets []Webhook
	for _, h := range n.hooks {
		if matches(h.Events, ev.Type) {
			targets = append(targets, h)
		}
	}
	if len(targets) == 0 {
		return 0, 0, nil
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return 0, 0, fmt.Errorf("notify %s event %q: %w: %w", ev.Type, ev.ID, ErrInvalidEvent, err)
	}

	errs := make([]error, len(targets))
	if len(targets) == 1 {
		errs[0] = n.deliverHook(ctx, targets[0], ev, body)
	} else {
		var wg sync.WaitGroup
		for i, h := range targets {
			wg.Go(func() { errs[i] = n.deliverHook(ctx, h, ev, body) })
		}
		wg.Wait()
	}
	for _, e := range errs {
		if e == nil {
			delivered++
		} else {
			failed++
		}
	}
	return delivered, failed, errors.Join(errs...)
}

func validate(ev Event) error {
	var problem string
	switch {
	case ev.Type == "":
		problem = "no type"
	case ev.ID == "":
		problem = "no ID (the idempotency key must come from the caller)"
	case ev.Time.IsZero():
		problem = "no time (set it with the event, so retries send the same body)"
	case len(ev.Data) > 0 && !json.Valid(ev.Data):
		problem = "data is not valid JSON"
	default:
		return nil
	}
	return fmt.Errorf("notify %s event %q: %w: %s", ev.Type, ev.ID, ErrInvalidEvent, problem)
}

// matches reports whether a hook filtering on filter takes events of type typ.
func matches(filter []string, typ string) bool {
	if len(filter) == 0 {
		return true
	}
	for _, f := range filter {
		switch {
		case f == "*" || f == typ:
			return true
		case strings.HasSuffix(f, ".*") && strings.HasPrefix(typ, f[:len(f)-1]):
			return true
		}
	}
	return false
}

// deliverHook sends body to one hook, retrying; it returns nil or a *DeliveryError.
func (n *Notifier) deliverHook(ctx context.Context, h Webhook, ev Event, body []byte) error {
	de := &DeliveryError{Event: ev.Type, ID: ev.ID}
	u, err := url.Parse(h.URL)
	if err != nil {
		de.URL, de.Permanent = "(unparsable URL)", true
		var ue *url.Error
		if errors.As(err, &ue) { // url.Error repeats the whole URL; keep only the reason
			err = ue.Err
		}
		de.Err = fmt.Errorf("invalid URL: %w", err)
		return n.failed(de)
	}
	de.URL = redactURL(u)
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		de.Permanent, de.Err = true, fmt.Errorf("invalid URL: scheme %q, want http or https", u.Scheme)
		return n.failed(de)
	case u.Host == "":
		de.Permanent, de.Err = true, errors.New("invalid URL: no host")
		return n.failed(de)
	case len(h.Secret) == 0:
		de.Permanent, de.Err = true, errors.New("no signing secret configured for this hook")
		return n.failed(de)
	}

	log := n.log.With(zap.String("url", de.URL), zap.String("event", ev.Type), zap.String("id", ev.ID))
	for attempt := 1; ; attempt++ {
		de.Attempts = attempt
		res := n.attempt(ctx, h, de.URL, ev.Type, ev.ID, body, attempt)
		if res.err == nil {
			log.Debug("webhook delivered", zap.Int("attempt", attempt), zap.Int("status", res.status))
			return nil
		}
		de.Err, de.Permanent = res.err, res.permanent
		if res.permanent || attempt >= n.opts.MaxAttempts || ctx.Err() != nil {
			return n.failed(de)
		}
		wait := n.backoff(attempt, res.retryAfter)
		if dl, ok := ctx.Deadline(); ok && n.now().Add(wait).After(dl) {
			de.Err = fmt.Errorf("%w; next attempt in %s would pass the context deadline", res.err, wait)
			return n.failed(de)
		}
		log.Warn("webhook attempt failed, retrying", zap.Int("attempt", attempt), zap.Duration("wait", wait), zap.Error(res.err))
		if err := n.sleep(ctx, wait); err != nil {
			de.Err = fmt.Errorf("%w; gave up waiting to retry: %w", res.err, err)
			return n.failed(de)
		}
	}
}

func (n *Notifier) failed(de *DeliveryError) error {
	n.log.Warn("webhook delivery failed", zap.String("url", de.URL), zap.String("event", de.Event), zap.String("id", de.ID),
		zap.Int("attempts", de.Attempts), zap.Bool("permanent", de.Permanent), zap.Error(de.Err))
	return de
}

type attemptResult struct {
	status     int
	err        error
	permanent  bool
	retryAfter time.Duration // from a Retry-After header, 0 if none
}

// attempt makes one signed request.
func (n *Notifier) attempt(ctx context.Context, h Webhook, redacted, typ, id string, body []byte, attempt int) attemptResult {
	actx, cancel := context.WithTimeout(ctx, n.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return attemptResult{err: scrubURLError(err, redacted), permanent: true}
	}
	ts := strconv.FormatInt(n.now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", n.opts.UserAgent)
	req.Header.Set(HeaderEvent, typ)
	req.Header.Set(HeaderIdempotencyKey, id)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(h.Secret, ts, body))
	req.Header.Set(HeaderAttempt, strconv.Itoa(attempt))

	resp, err := n.client.Do(req)
	if err != nil {
		// The SSRF guard's refusal will not change on a retry. A timeout
		// or connection error may (deliverHook stops if the caller's ctx
		// is the one that ended).
		var blocked *fetch.BlockedError
		return attemptResult{err: scrubURLError(err, redacted), permanent: errors.As(err, &blocked)}
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
		return attemptResult{status: resp.StatusCode}
	}
	head, _ := io.ReadAll(io.LimitReader(resp.Body, maxDrain))
	se := &StatusError{StatusCode: resp.StatusCode, Status: resp.Status, Body: printable(head, maxErrorBody)}
	if se.Status == "" {
		se.Status = strconv.Itoa(resp.StatusCode)
	}
	res := attemptResult{status: resp.StatusCode, err: se, permanent: !retryableStatus(resp.StatusCode)}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		se.Body = "redirect to " + redirectTarget(resp) + " not followed"
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		res.retryAfter = retryWait(resp.Header.Get("Retry-After"), n.now())
	}
	return res
}

func redirectTarget(resp *http.Response) string {
	loc, err := resp.Location()
	if err != nil {
		return "(no Location)"
	}
	return redactURL(loc)
}

// backoffCap is the longest wait after failed attempt number attempt.
func (n *Notifier) backoffCap(attempt int) time.Duration {
	d := n.opts.Backoff
	for i := 1; i < attempt && d < n.opts.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, n.opts.MaxBackoff)
}

// backoff is the wait after failed attempt number attempt: a Retry-After
// (capped at MaxBackoff) if the receiver sent one, otherwise the
// exponential cap with "equal jitter" (between half and all of it), so hooks
// that failed together do not retry in lockstep.
func (n *Notifier) backoff(attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, n.opts.MaxBackoff)
	}
	d := n.backoffCap(attempt)
	half := d / 2
	return half + rand.N(d-half+1)
}

// retryWait is the wait a Retry-After header value asks for, at most a day;
// 0 if it asks for none or cannot be read.
func retryWait(v string, now time.Time) time.Duration {
	d, _ := fetch.ParseRetryAfter(v, now)
	return min(d, 24*time.Hour)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
