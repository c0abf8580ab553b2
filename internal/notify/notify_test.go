package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/apilivesync/apilivesync/internal/fetch"
	"github.com/apilivesync/apilivesync/internal/notify"
)

var testSecret = []byte("whsec_do-not-leak-7f3a9c")

// request is what a receiver saw in one delivery attempt.
type request struct {
	header    http.Header
	body      []byte
	verifyErr error
}

// receiver is a webhook endpoint as a real consumer would write one: it
// verifies the signature, answers the planned statuses in order (then 200),
// and dedupes accepted events by Idempotency-Key.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	secret []byte

	mu         sync.Mutex
	plan       []int
	retryAfter string
	requests   []request
	seen       map[string]bool
	events     []notify.Event // accepted, one per key
}

func newReceiver(t *testing.T, plan ...int) *receiver {
	r := &receiver{t: t, secret: testSecret, plan: plan, seen: map[string]bool{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	require.NoError(r.t, err)
	verr := notify.Verify(r.secret, req.Header.Get(notify.HeaderSignature), req.Header.Get(notify.HeaderTimestamp), body, time.Minute, time.Now())

	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, request{header: req.Header.Clone(), body: body, verifyErr: verr})
	status := http.StatusOK
	if len(r.plan) > 0 {
		status, r.plan = r.plan[0], r.plan[1:]
	}
	if status >= 300 && status < 400 {
		w.Header().Set("Location", "http://elsewhere.invalid/hook?token=abc")
	}
	if status == http.StatusTooManyRequests && r.retryAfter != "" {
		w.Header().Set("Retry-After", r.retryAfter)
	}
	if status/100 != 2 {
		http.Error(w, "planned failure "+strconv.Itoa(status), status)
		return
	}
	if verr != nil {
		http.Error(w, verr.Error(), http.StatusUnauthorized)
		return
	}
	key := req.Header.Get(notify.HeaderIdempotencyKey)
	if !r.seen[key] {
		r.seen[key] = true
		var ev notify.Event
		require.NoError(r.t, json.Unmarshal(body, &ev))
		r.events = append(r.events, ev)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) snapshot() ([]request, []notify.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.requests...), append([]notify.Event(nil), r.events...)
}

func testEvent(id string) notify.Event {
	return notify.Event{
		Type:   notify.EventSyncCompleted,
		ID:     id,
		Time:   time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		Source: "payments-url",
		API:    "payments",
		Data:   json.RawMessage(`{"version":7,"changes":3,"breaking":1}`),
	}
}

// noSleep records backoff waits instead of sleeping.
func noSleep(n *notify.Notifier) *[]time.Duration {
	var mu sync.Mutex
	waits := &[]time.Duration{}
	notify.SetSleep(n, func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		*waits = append(*waits, d)
		return ctx.Err()
	})
	return waits
}

func deliveryErrors(err error) []*notify.DeliveryError {
	var out []*notify.DeliveryError
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			var de *notify.DeliveryError
			if errors.As(e, &de) {
				out = append(out, de)
			}
		}
	}
	return out
}

func TestDeliverStatuses(t *testing.T) {
	tests := []struct {
		name          string
		plan          []int
		maxAttempts   int
		wantDelivered bool
		wantAttempts  int
		wantPermanent bool
		wantStatus    int
	}{
		{name: "200 first time", plan: nil, wantDelivered: true, wantAttempts: 1},
		{name: "500 twice then success", plan: []int{500, 500}, wantDelivered: true, wantAttempts: 3},
		{name: "502 503 504 then success", plan: []int{502, 503, 504}, wantDelivered: true, wantAttempts: 4},
		{name: "408 is retried", plan: []int{408}, wantDelivered: true, wantAttempts: 2},
		{name: "429 is retried", plan: []int{429}, wantDelivered: true, wantAttempts: 2},
		{name: "400 is not retried", plan: []int{400}, wantAttempts: 1, wantPermanent: true, wantStatus: 400},
		{name: "410 is not retried", plan: []int{410}, wantAttempts: 1, wantPermanent: true, wantStatus: 410},
		{name: "redirect is not followed", plan: []int{302}, wantAttempts: 1, wantPermanent: true, wantStatus: 302},
		{name: "500 until attempts run out", plan: []int{500, 500, 500, 500}, maxAttempts: 3, wantAttempts: 3, wantStatus: 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newReceiver(t, tc.plan...)
			n := notify.New([]notify.Webhook{{URL: r.srv.URL + "/hook", Secret: testSecret}},
				notify.Options{Client: r.srv.Client(), MaxAttempts: tc.maxAttempts, Backoff: time.Millisecond})
			waits := noSleep(n)

			delivered, failed, err := n.Deliver(t.Context(), testEvent("sync/payments/7/notify"))

			requests, events := r.snapshot()
			require.Len(t, requests, tc.wantAttempts)
			require.Len(t, *waits, tc.wantAttempts-1)
			for i, req := range requests {
				require.NoError(t, req.verifyErr, "attempt %d signature", i+1)
				require.Equal(t, "sync/payments/7/notify", req.header.Get(notify.HeaderIdempotencyKey))
				require.Equal(t, notify.EventSyncCompleted, req.header.Get(notify.HeaderEvent))
				require.Equal(t, strconv.Itoa(i+1), req.header.Get(notify.HeaderAttempt))
				require.Equal(t, "application/json", req.header.Get("Content-Type"))
				require.Equal(t, notify.DefaultUserAgent, req.header.Get("User-Agent"))
				require.Equal(t, string(requests[0].body), string(req.body), "attempt %d body differs", i+1)
			}
			if tc.wantDelivered {
				require.NoError(t, err)
				require.Equal(t, [2]int{1, 0}, [2]int{delivered, failed})
				require.Len(t, events, 1)
				require.Equal(t, testEvent("sync/payments/7/notify").Data, events[0].Data)
				return
			}
			require.Equal(t, [2]int{0, 1}, [2]int{delivered, failed})
			require.Empty(t, events)
			des := deliveryErrors(err)
			require.Len(t, des, 1)
			de := des[0]
			require.Equal(t, tc.wantAttempts, de.Attempts)
			require.Equal(t, tc.wantPermanent, de.Permanent)
			require.Equal(t, tc.wantPermanent, notify.Permanent(err))
			require.Equal(t, r.srv.URL+"/hook", de.URL)
			var se *notify.StatusError
			require.ErrorAs(t, err, &se)
			require.Equal(t, tc.wantStatus, se.StatusCode)
			require.ErrorContains(t, err, "sync.completed")
			require.ErrorContains(t, err, r.srv.URL+"/hook")
			require.ErrorContains(t, err, strconv.Itoa(tc.wantStatus))
		})
	}
}

func TestReceiverDedupesRepeatedDeliver(t *testing.T) {
	// A Temporal activity retried after the first delivery went through
	// calls Deliver again with the same event; the receiver keeps one.
	r := newReceiver(t)
	n := notify.New([]notify.Webhook{{URL: r.srv.URL, Secret: testSecret}}, notify.Options{Client: r.srv.Client()})
	for range 2 {
		delivered, failed, err := n.Deliver(t.Context(), testEvent("sync/payments/8/notify"))
		require.NoError(t, err)
		require.Equal(t, [2]int{1, 0}, [2]int{delivered, failed})
	}
	_, _, err := n.Deliver(t.Context(), testEvent("sync/payments/9/notify"))
	require.NoError(t, err)

	requests, events := r.snapshot()
	require.Len(t, requests, 3)
	require.Equal(t, string(requests[0].body), string(requests[1].body), "same event, same body")
	require.Len(t, events, 2)
	require.Equal(t, "sync/payments/8/notify", events[0].ID)
	require.Equal(t, "sync/payments/9/notify", events[1].ID)
}

func TestEventFilter(t *testing.T) {
	filters := map[string][]string{
		"all":         nil,
		"star":        {"*"},
		"sync prefix": {"sync.*"},
		"exact":       {"sync.failed", "sync.completed"},
		"other exact": {"sync.failed"},
		"sources":     {"source.*"},
		"bare prefix": {"sync"},
	}
	tests := []struct {
		event string
		want  []string
	}{
		{event: notify.EventSyncCompleted, want: []string{"all", "star", "sync prefix", "exact"}},
		{event: notify.EventSyncFailed, want: []string{"all", "star", "sync prefix", "exact", "other exact"}},
		{event: notify.EventSourceAdded, want: []string{"all", "star", "sources"}},
		{event: "syncx.completed", want: []string{"all", "star"}},
	}
	for _, tc := range tests {
		t.Run(tc.event, func(t *testing.T) {
			receivers := map[string]*receiver{}
			var hooks []notify.Webhook
			for name, f := range filters {
				receivers[name] = newReceiver(t)
				hooks = append(hooks, notify.Webhook{URL: receivers[name].srv.URL, Secret: testSecret, Events: f})
			}
			n := notify.New(hooks, notify.Options{})
			ev := testEvent("e-" + tc.event)
			ev.Type = tc.event
			delivered, failed, err := n.Deliver(t.Context(), ev)
			require.NoError(t, err)
			require.Equal(t, [2]int{len(tc.want), 0}, [2]int{delivered, failed})
			var got []string
			for name, r := range receivers {
				if _, events := r.snapshot(); len(events) == 1 {
					got = append(got, name)
				}
			}
			require.ElementsMatch(t, tc.want, got)
		})
	}
}

func TestOneHookFailsOthersDeliver(t *testing.T) {
	ok1, bad, ok2 := newReceiver(t), newReceiver(t, 403), newReceiver(t)
	n := notify.New([]notify.Webhook{
		{URL: ok1.srv.URL + "/a", Secret: testSecret},
		{URL: bad.srv.URL + "/b", Secret: testSecret},
		{URL: ok2.srv.URL + "/c", Secret: testSecret},
	}, notify.Options{})
	delivered, failed, err := n.Deliver(t.Context(), testEvent("k"))
	require.Equal(t, [2]int{2, 1}, [2]int{delivered, failed})
	des := deliveryErrors(err)
	require.Len(t, des, 1)
	require.Equal(t, bad.srv.URL+"/b", des[0].URL)
	require.NotContains(t, err.Error(), ok1.srv.URL)
	require.True(t, notify.Permanent(err))
}

func TestAttemptTimeout(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		select { // hang until the client gives up
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })

	n := notify.New([]notify.Webhook{{URL: srv.URL, Secret: testSecret}},
		notify.Options{Timeout: 20 * time.Millisecond, MaxAttempts: 2, Backoff: time.Millisecond})
	noSleep(n)
	delivered, failed, err := n.Deliver(t.Context(), testEvent("slow"))
	require.Equal(t, [2]int{0, 1}, [2]int{delivered, failed})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	des := deliveryErrors(err)
	require.Len(t, des, 1)
	require.Equal(t, 2, des[0].Attempts)
	require.False(t, des[0].Permanent, "a timeout may succeed on a later activity attempt")
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, 2, hits)
}

func TestConnectionErrorRetried(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	n := notify.New([]notify.Webhook{{URL: url, Secret: testSecret}}, notify.Options{MaxAttempts: 3})
	waits := noSleep(n)
	_, failed, err := n.Deliver(t.Context(), testEvent("refused"))
	require.Equal(t, 1, failed)
	require.Len(t, *waits, 2)
	require.ErrorContains(t, err, "after 3 attempts")
	require.False(t, notify.Permanent(err))
}

func TestBackoffAndRetryAfter(t *testing.T) {
	tests := []struct {
		name       string
		plan       []int
		retryAfter string
		backoff    time.Duration
		maxBackoff time.Duration
		check      func(t *testing.T, waits []time.Duration)
	}{
		{
			name: "exponential with jitter, capped", plan: []int{500, 500, 500, 500}, backoff: 100 * time.Millisecond, maxBackoff: 300 * time.Millisecond,
			check: func(t *testing.T, waits []time.Duration) {
				require.Len(t, waits, 4)
				caps := []time.Duration{100, 200, 300, 300}
				for i, w := range waits {
					c := caps[i] * time.Millisecond
					require.GreaterOrEqual(t, w, c/2, "wait %d", i)
					require.LessOrEqual(t, w, c, "wait %d", i)
				}
			},
		},
		{
			name: "Retry-After seconds honoured", plan: []int{429}, retryAfter: "2", backoff: time.Millisecond, maxBackoff: time.Minute,
			check: func(t *testing.T, waits []time.Duration) { require.Equal(t, []time.Duration{2 * time.Second}, waits) },
		},
		{
			name: "Retry-After capped at MaxBackoff", plan: []int{429}, retryAfter: "3600", backoff: time.Millisecond, maxBackoff: 10 * time.Second,
			check: func(t *testing.T, waits []time.Duration) { require.Equal(t, []time.Duration{10 * time.Second}, waits) },
		},
		{
			name: "invalid Retry-After falls back to backoff", plan: []int{429}, retryAfter: "soon", backoff: 40 * time.Millisecond, maxBackoff: time.Minute,
			check: func(t *testing.T, waits []time.Duration) {
				require.Len(t, waits, 1)
				require.GreaterOrEqual(t, waits[0], 20*time.Millisecond)
				require.LessOrEqual(t, waits[0], 40*time.Millisecond)
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newReceiver(t, tc.plan...)
			r.retryAfter = tc.retryAfter
			n := notify.New([]notify.Webhook{{URL: r.srv.URL, Secret: testSecret}},
				notify.Options{Backoff: tc.backoff, MaxBackoff: tc.maxBackoff})
			waits := noSleep(n)
			_, _, err := n.Deliver(t.Context(), testEvent("b"))
			require.NoError(t, err)
			tc.check(t, *waits)
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-5", 0},
		{"7", 7 * time.Second},
		{"99999999", 24 * time.Hour},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"later", 0},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			require.Equal(t, tc.want, notify.ParseRetryAfter(tc.in, now))
		})
	}
}

func TestContextEndsRetries(t *testing.T) {
	t.Run("cancelled while waiting", func(t *testing.T) {
		r := newReceiver(t, 500, 500, 500)
		n := notify.New([]notify.Webhook{{URL: r.srv.URL, Secret: testSecret}}, notify.Options{})
		ctx, cancel := context.WithCancel(t.Context())
		notify.SetSleep(n, func(context.Context, time.Duration) error { cancel(); return context.Canceled })
		_, failed, err := n.Deliver(ctx, testEvent("c"))
		require.Equal(t, 1, failed)
		require.ErrorIs(t, err, context.Canceled)
		require.False(t, notify.Permanent(err))
		requests, _ := r.snapshot()
		require.Len(t, requests, 1)
	})
	t.Run("deadline before next attempt", func(t *testing.T) {
		r := newReceiver(t, 500, 500)
		n := notify.New([]notify.Webhook{{URL: r.srv.URL, Secret: testSecret}},
			notify.Options{Backoff: 2 * time.Hour, MaxBackoff: 4 * time.Hour})
		waits := noSleep(n)
		ctx, cancel := context.WithTimeout(t.Context(), time.Hour)
		defer cancel()
		_, failed, err := n.Deliver(ctx, testEvent("d"))
		require.Equal(t, 1, failed)
		require.ErrorContains(t, err, "would pass the context deadline")
		require.Empty(t, *waits)
		requests, _ := r.snapshot()
		require.Len(t, requests, 1)
	})
}

func TestInvalidEvents(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*notify.Event)
	}{
		{name: "no type", mutate: func(e *notify.Event) { e.Type = "" }},
		{name: "no id", mutate: func(e *notify.Event) { e.ID = "" }},
		{name: "no time", mutate: func(e *notify.Event) { e.Time = time.Time{} }},
		{name: "data not JSON", mutate: func(e *notify.Event) { e.Data = json.RawMessage(`{"version":`) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newReceiver(t)
			n := notify.New([]notify.Webhook{{URL: r.srv.URL, Secret: testSecret}}, notify.Options{})
			ev := testEvent("x")
			tc.mutate(&ev)
			delivered, failed, err := n.Deliver(t.Context(), ev)
			require.ErrorIs(t, err, notify.ErrInvalidEvent)
			require.Equal(t, [2]int{0, 0}, [2]int{delivered, failed})
			requests, _ := r.snapshot()
			require.Empty(t, requests)
		})
	}
}

func TestInvalidHooks(t *testing.T) {
	tests := []struct {
		name    string
		hook    notify.Webhook
		wantURL string
		wantErr string
	}{
		{name: "no secret", hook: notify.Webhook{URL: "https://hooks.example.com/x"}, wantURL: "https://hooks.example.com/x", wantErr: "no signing secret"},
		{name: "ftp scheme", hook: notify.Webhook{URL: "ftp://hooks.example.com/x", Secret: testSecret}, wantURL: "ftp://hooks.example.com/x", wantErr: `scheme "ftp"`},
		{name: "no host", hook: notify.Webhook{URL: "https:///x", Secret: testSecret}, wantURL: "https:///x", wantErr: "no host"},
		{name: "unparsable", hook: notify.Webhook{URL: "https://user:pw@[::1/x", Secret: testSecret}, wantURL: "(unparsable URL)", wantErr: "invalid URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := notify.New([]notify.Webhook{tc.hook}, notify.Options{})
			_, failed, err := n.Deliver(t.Context(), testEvent("h"))
			require.Equal(t, 1, failed)
			require.True(t, notify.Permanent(err))
			des := deliveryErrors(err)
			require.Len(t, des, 1)
			require.Equal(t, tc.wantURL, des[0].URL)
			require.Equal(t, 0, des[0].Attempts)
			require.ErrorContains(t, err, tc.wantErr)
			require.NotContains(t, err.Error(), "pw")
		})
	}
}

func TestSecretsNeverInErrorsOrLogs(t *testing.T) {
	const password, token = "hunter2-basic-pw", "qs-token-5511"
	failing := newReceiver(t, 500, 500, 500, 500, 500, 500)
	refused := httptest.NewServer(http.NotFoundHandler())
	refusedURL := refused.URL
	refused.Close()
	withCreds := func(base string) string {
		return strings.Replace(base, "http://", "http://alice:"+password+"@", 1) + "/hook?token=" + token
	}

	core, logs := observer.New(zapcore.DebugLevel)
	n := notify.New([]notify.Webhook{
		{URL: withCreds(failing.srv.URL), Secret: testSecret},
		{URL: withCreds(refusedURL), Secret: testSecret},
		{URL: "https://alice:" + password + "@[::1/hook?token=" + token, Secret: testSecret},
	}, notify.Options{Logger: zap.New(core), MaxAttempts: 2, Backoff: time.Millisecond})
	noSleep(n)

	_, failed, err := n.Deliver(t.Context(), testEvent("leak-check"))
	require.Equal(t, 3, failed)
	require.Len(t, deliveryErrors(err), 3)

	// Everything a person could read: the error and every log line, encoded.
	texts := []string{err.Error()}
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	for _, entry := range logs.All() {
		buf, encErr := enc.EncodeEntry(entry.Entry, entry.Context)
		require.NoError(t, encErr)
		texts = append(texts, buf.String())
	}
	require.Greater(t, len(texts), 4, "expected retry and failure log lines")
	for _, s := range texts {
		require.NotContains(t, s, string(testSecret))
		require.NotContains(t, s, password)
		require.NotContains(t, s, token)
	}
	// The receivers are still named, without credentials.
	require.Contains(t, err.Error(), failing.srv.URL+"/hook?…")
	require.Contains(t, err.Error(), refusedURL+"/hook?…")
}

func TestNilNotifierAndNoHooks(t *testing.T) {
	var n *notify.Notifier
	delivered, failed, err := n.Deliver(t.Context(), testEvent("nil"))
	require.NoError(t, err)
	require.Equal(t, [2]int{0, 0}, [2]int{delivered, failed})

	delivered, failed, err = notify.New(nil, notify.Options{}).Deliver(t.Context(), testEvent("none"))
	require.NoError(t, err)
	require.Equal(t, [2]int{0, 0}, [2]int{delivered, failed})
}

func TestMaxDuration(t *testing.T) {
	n := notify.New(nil, notify.Options{Timeout: 10 * time.Second, MaxAttempts: 4, Backoff: time.Second, MaxBackoff: 3 * time.Second})
	// 4 attempts of 10s, waits capped at 1s, 2s, 3s.
	require.Equal(t, 46*time.Second, n.MaxDuration())
	def := notify.New(nil, notify.Options{})
	// Defaults: 5×10s + 1+2+4+8s.
	require.Equal(t, 65*time.Second, def.MaxDuration())
}

func TestGuardedClient(t *testing.T) {
	tests := []struct {
		name          string
		guard         fetch.GuardOptions
		plan          []int
		wantDelivered int
		wantRequests  int
		wantErr       string
	}{
		{name: "loopback refused, not retried", wantRequests: 0, wantErr: "loopback"},
		{name: "loopback allowed", guard: fetch.GuardOptions{AllowLoopback: true}, wantDelivered: 1, wantRequests: 1},
		{name: "guard client's redirects are still not followed", guard: fetch.GuardOptions{AllowLoopback: true}, plan: []int{307}, wantRequests: 1, wantErr: "redirect to http://elsewhere.invalid/hook?… not followed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newReceiver(t, tc.plan...)
			client := fetch.New(fetch.Options{Guard: tc.guard}).Client()
			n := notify.New([]notify.Webhook{{URL: r.srv.URL, Secret: testSecret}}, notify.Options{Client: client})
			waits := noSleep(n)
			delivered, _, err := n.Deliver(t.Context(), testEvent("guarded"))
			require.Equal(t, tc.wantDelivered, delivered)
			requests, _ := r.snapshot()
			require.Len(t, requests, tc.wantRequests)
			require.Empty(t, *waits)
			if tc.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.wantErr)
			require.True(t, notify.Permanent(err))
		})
	}
}
