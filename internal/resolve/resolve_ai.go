package resolve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sashabaranov/go-openai"
	"go.uber.org/zap"
)

// Defaults for the zero fields of AIConfig.
const (
	DefaultAIModel             = "gpt-4o-mini"
	DefaultAPIKeyEnv           = "OPENAI_API_KEY"
	DefaultAITimeout           = 60 * time.Second
	DefaultAIMaxRetries        = 3
	DefaultAIMaxReasks         = 3
	DefaultMaxConflictsPerCall = 20
	DefaultBackoff             = 500 * time.Millisecond
	DefaultMaxBackoff          = 10 * time.Second
	DefaultMaxRetryAfter       = 30 * time.Second
	DefaultMaxValueBytes       = 2048
	DefaultMaxPromptBytes      = 24 << 10
	DefaultCacheEntries        = 1024
)

// Response formats AIConfig.ResponseFormat accepts.
const (
	// ResponseFormatJSONSchema asks for strict structured output, and steps
	// down to ResponseFormatJSONObject when the server rejects it.
	ResponseFormatJSONSchema = "json_schema"
	// ResponseFormatJSONObject asks for any JSON object, for servers that
	// know no schemas.
	ResponseFormatJSONObject = "json_object"
)

// ErrNoAPIKey means the environment variable named by AIConfig.APIKeyEnv is
// unset or empty, so the AI strategy cannot call a model.
var ErrNoAPIKey = errors.New("no API key for AI conflict resolution")

// AIConfig configures an AIResolver. Zero fields take the Default* values.
// The API key is never part of it: it is read from the environment variable
// APIKeyEnv names, each time Resolve runs.
type AIConfig struct {
	// BaseURL of an OpenAI-compatible API, including its version path
	// (e.g. "http://127.0.0.1:8080/v1"); empty means OpenAI's.
	BaseURL string
	// Model to ask.
	Model string
	// APIKeyEnv names the environment variable holding the API key.
	APIKeyEnv string
	// Timeout bounds each HTTP attempt.
	Timeout time.Duration
	// MaxRetries is how many times Resolve retries a failed call in
	// process; negative means none. ResolveAttempt never retries: it
	// returns a *TransientError and leaves retrying to Temporal.
	MaxRetries int
	// MaxReasks is how many times a malformed answer, or one whose
	// decisions fail validation, is asked again with what was wrong before
	// its conflicts go to a person; negative means never.
	MaxReasks int
	// MaxConflictsPerCall bounds how many conflicts one call carries.
	MaxConflictsPerCall int
	// Temperature of the model's sampling; zero leaves the server's default.
	Temperature float32
	// Backoff is the wait before the first retry; it doubles per retry.
	Backoff time.Duration
	// MaxBackoff caps the doubling wait.
	MaxBackoff time.Duration
	// MaxRetryAfter is the longest Retry-After the resolver will honour; a
	// server asking for longer ends the retries.
	MaxRetryAfter time.Duration
	// MaxValueBytes bounds each base, local or remote value in the prompt;
	// longer ones are sent as a truncated text prefix.
	MaxValueBytes int
	// MaxPromptBytes bounds the conflicts' JSON in one call's prompt.
	MaxPromptBytes int
	// ResponseFormat is ResponseFormatJSONSchema (default) or ResponseFormatJSONObject.
	ResponseFormat string
	// CacheEntries bounds the default in-memory decision cache; negative disables it.
	CacheEntries int
}

// withDefaults returns cfg with zero fields set to their defaults.
func (cfg AIConfig) withDefaults() AIConfig {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defInt := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	if cfg.Model == "" {
		cfg.Model = DefaultAIModel
	}
	if cfg.APIKeyEnv == "" {
		cfg.APIKeyEnv = DefaultAPIKeyEnv
	}
	if cfg.ResponseFormat == "" {
		cfg.ResponseFormat = ResponseFormatJSONSchema
	}
	def(&cfg.Timeout, DefaultAITimeout)
	def(&cfg.Backoff, DefaultBackoff)
	def(&cfg.MaxBackoff, DefaultMaxBackoff)
	def(&cfg.MaxRetryAfter, DefaultMaxRetryAfter)
	defInt(&cfg.MaxRetries, DefaultAIMaxRetries)
	cfg.MaxRetries = max(cfg.MaxRetries, 0)
	defInt(&cfg.MaxReasks, DefaultAIMaxReasks)
	cfg.MaxReasks = max(cfg.MaxReasks, 0)
	defInt(&cfg.CacheEntries, DefaultCacheEntries)
	if cfg.MaxConflictsPerCall <= 0 {
		cfg.MaxConflictsPerCall = DefaultMaxConflictsPerCall
	}
	if cfg.MaxValueBytes <= 0 {
		cfg.MaxValueBytes = DefaultMaxValueBytes
	}
	if cfg.MaxPromptBytes <= 0 {
		cfg.MaxPromptBytes = DefaultMaxPromptBytes
	}
	return cfg
}

// AIResolver decides conflicts by asking an OpenAI-compatible chat model.
// It is safe for concurrent use.
type AIResolver struct {
	cfg        AIConfig
	lookupEnv  func(string) (string, bool)
	logger     *zap.Logger
	httpClient *http.Client
	cache      Cache
	// schemaRejected is set once the server refused json_schema output, so
	// later calls ask for json_object straight away.
	schemaRejected atomic.Bool
}

// NewAIResolver returns a resolver for cfg. lookupEnv reads the API key's
// environment variable (os.LookupEnv in production); a nil logger logs nothing.
func NewAIResolver(cfg AIConfig, lookupEnv func(string) (string, bool), logger *zap.Logger) *AIResolver {
	cfg = cfg.withDefaults()
	if logger == nil {
		logger = zap.NewNop()
	}
	if lookupEnv == nil {
		lookupEnv = func(string) (string, bool) { return "", false }
	}
	r := &AIResolver{
		cfg:        cfg,
		lookupEnv:  lookupEnv,
		logger:     logger.With(zap.String("component", "resolve.ai"), zap.String("model", cfg.Model)),
		httpClient: &http.Client{Transport: http.DefaultTransport},
	}
	if cfg.CacheEntries > 0 {
		r.cache = NewLRUCache(cfg.CacheEntries)
	}
	return r
}

// WithCache makes r use c (nil disables caching) and returns r. Call it
// before the first Resolve.
func (r *AIResolver) WithCache(c Cache) *AIResolver {
	r.cache = c
	return r
}

// Ready reports whether the API key is set, wrapping ErrNoAPIKey if not.
func (r *AIResolver) Ready() error {
	_, err := r.apiKey()
	return err
}

// apiKey reads the key from the environment.
func (r *AIResolver) apiKey() (string, error) {
	key, ok := r.lookupEnv(r.cfg.APIKeyEnv)
	if !ok || strings.TrimSpace(key) == "" {
		return "", fmt.Errorf("%w: environment variable %s is not set", ErrNoAPIKey, r.cfg.APIKeyEnv)
	}
	return strings.TrimSpace(key), nil
}

// AIOutcome is what Resolve decided and what it leaves to a person.
type AIOutcome struct {
	// Decisions the model made and that passed validation, in input order.
	Decisions []Decision `json:"decisions"`
	// Fallback holds the conflicts left to manual resolution, in input order.
	Fallback []Conflict `json:"fallback,omitempty"`
	// FallbackReason says, in one line, why conflicts fell back.
	FallbackReason string `json:"fallbackReason,omitempty"`
	// FallbackReasons gives the reason for each fallen-back conflict ID.
	FallbackReasons map[string]string `json:"fallbackReasons,omitempty"`
	// Model is the model asked.
	Model string `json:"model"`
	// Cached counts the decisions taken from the cache without a call.
	Cached int `json:"cached"`
}

// Resolve asks the model to decide conflicts of the named API. Whatever it
// cannot decide safely (no API key, a call that fails after retries, an
// answer that is malformed, leaves a conflict out or fails validation) goes
// to Fallback with a reason; it never invents a change. The error is non-nil
// only for invalid conflicts (missing or duplicate IDs, invalid JSON values)
// or when ctx ends.
func (r *AIResolver) Resolve(ctx context.Context, api string, conflicts []Conflict) (*AIOutcome, error) {
	return r.resolve(ctx, api, conflicts, askOptions{retries: r.cfg.MaxRetries, reasks: r.cfg.MaxReasks})
}

// AttemptOptions tune one ResolveAttempt.
type AttemptOptions struct {
	// MaxReasks is how many times a malformed or invalid answer is asked
	// again (0: AIConfig.MaxReasks; negative: never).
	MaxReasks int
	// Check, when set, judges the decisions of every conflict together
	// (the sync job applies them and validates the document). A non-empty
	// problem is sent back to the model, which is asked again while
	// re-asks remain, and then left to a person; an error ends the attempt.
	Check func([]Decision) (problem string, err error)
}

// ResolveAttempt is one attempt of a durable AI step: it asks the model
// once per call, without retrying in process. A failure that may pass (5xx,
// 429, 408, a timeout, a refused connection) is returned as a
// *TransientError, carrying the server's Retry-After, for Temporal to retry
// with backoff; decisions already accepted are cached, so a later attempt
// does not ask for them again. Malformed or invalid answers are asked again
// (o.MaxReasks) with what was wrong. Everything else (no key, 401, 403,
// 400, a refusal, answers still invalid) falls back to a person as in
// Resolve.
func (r *AIResolver) ResolveAttempt(ctx context.Context, api string, conflicts []Conflict, o AttemptOptions) (*AIOutcome, error) {
	reasks := o.MaxReasks
	switch {
	case reasks == 0:
		reasks = r.cfg.MaxReasks
	case reasks < 0:
		reasks = 0
	}
	return r.resolve(ctx, api, conflicts, askOptions{reasks: reasks, durable: true, check: o.Check})
}

// askOptions say how one resolution asks the model.
type askOptions struct {
	// retries is how many times a failed call is retried in process.
	retries int
	// reasks is how many times a malformed or invalid answer is asked again.
	reasks int
	// durable returns transient call failures as *TransientError instead
	// of falling back to a person.
	durable bool
	// check judges a complete set of decisions (AttemptOptions.Check).
	check func([]Decision) (string, error)
	// feedback, when set, says why the last complete set was rejected:
	// every conflict is asked again with it, past the cache.
	feedback string
}

// TransientError is a call to the model that failed in a way that may pass
// on a later attempt: a 5xx, 429 or 408 answer, a timeout, a network error.
type TransientError struct {
	// API is the API whose conflicts were asked about.
	API string
	// StatusCode is the HTTP status, 0 when none came back.
	StatusCode int
	// RetryAfter is how long the server asked to wait (Retry-After or
	// retry-after-ms), 0 when it did not say.
	RetryAfter time.Duration
	// Err is the failure, with the API key redacted.
	Err error
}

// Error implements error.
func (e *TransientError) Error() string {
	what := "the model could not be reached"
	if e.StatusCode != 0 {
		what = fmt.Sprintf("the model answered %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	}
	if e.RetryAfter > 0 {
		what += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return fmt.Sprintf("AI conflict resolution for api %q: %s: %v", e.API, what, e.Err)
}

// Unwrap returns the failure.
func (e *TransientError) Unwrap() error { return e.Err }

// resolve decides conflicts, asking again (o.reasks times) when o.check
// rejects the model's complete set of decisions.
func (r *AIResolver) resolve(ctx context.Context, api string, conflicts []Conflict, o askOptions) (*AIOutcome, error) {
	if err := checkConflicts(conflicts); err != nil {
		return nil, fmt.Errorf("AI conflict resolution for api %q: %w", api, err)
	}
	for ask := 0; ; ask++ {
		out, err := r.resolveOnce(ctx, api, conflicts, o)
		if err != nil || o.check == nil || len(out.Fallback) > 0 || len(out.Decisions) == 0 {
			return out, err
		}
		problem, err := o.check(out.Decisions)
		if err != nil || problem == "" {
			return out, err
		}
		problem = "your decisions together do not make a valid document: " + problem
		r.logger.Warn("AI decisions rejected together", zap.String("api", api), zap.Int("ask", ask+1), zap.String("problem", problem))
		if ask >= o.reasks {
			reasons := make(map[string]string, len(conflicts))
			for _, c := range conflicts {
				reasons[c.ID] = problem
			}
			return r.outcome(api, conflicts, nil, reasons, 0), nil
		}
		o.feedback = problem
	}
}

// resolveOnce asks the model about the conflicts not in the cache (all of
// them with o.feedback) and gathers the outcome.
func (r *AIResolver) resolveOnce(ctx context.Context, api string, conflicts []Conflict, o askOptions) (*AIOutcome, error) {
	decided := make(map[string]Decision, len(conflicts))
	reasons := map[string]string{}
	cached := 0
	var pending []promptConflict
	for _, c := range conflicts {
		if r.cache != nil && o.feedback == "" {
			if d, ok := r.cache.Get(r.cacheKey(c.ID)); ok && d.Pointer == c.Pointer {
				decided[c.ID] = d
				cached++
				continue
			}
		}
		pending = append(pending, toPrompt(c, r.cfg.MaxValueBytes))
	}
	if len(pending) > 0 {
		if err := r.resolvePending(ctx, api, pending, decided, reasons, o); err != nil {
			return nil, err
		}
	}
	return r.outcome(api, conflicts, decided, reasons, cached), nil
}

// outcome is the AIOutcome of conflicts given the decisions made and why
// the others were not.
func (r *AIResolver) outcome(api string, conflicts []Conflict, decided map[string]Decision, reasons map[string]string, cached int) *AIOutcome {
	out := &AIOutcome{Model: r.cfg.Model, Decisions: []Decision{}, Cached: cached}
	var why []string
	for _, c := range conflicts {
		if d, ok := decided[c.ID]; ok {
			out.Decisions = append(out.Decisions, d)
			continue
		}
		reason, ok := reasons[c.ID]
		if !ok {
			reason = "model gave no decision for this conflict"
		}
		if out.FallbackReasons == nil {
			out.FallbackReasons = map[string]string{}
		}
		out.Fallback = append(out.Fallback, c)
		out.FallbackReasons[c.ID] = reason
		if !slices.Contains(why, reason) {
			why = append(why, reason)
		}
	}
	if len(out.Fallback) > 0 {
		out.FallbackReason = truncateRunes(fmt.Sprintf("%d of %d conflicts left to manual resolution: %s",
			len(out.Fallback), len(conflicts), strings.Join(why, "; ")), 600)
		r.logger.Info("AI conflict resolution fell back to manual",
			zap.String("api", api), zap.Int("fallback", len(out.Fallback)), zap.Int("decided", len(out.Decisions)),
			zap.String("reason", out.FallbackReason))
	}
	return out
}

// resolvePending calls the model for pending conflicts, filling decided with
// accepted decisions and reasons with why others fell back. It returns an
// error when ctx ends, or a *TransientError for a durable attempt.
func (r *AIResolver) resolvePending(ctx context.Context, api string, pending []promptConflict, decided map[string]Decision, reasons map[string]string, o askOptions) error {
	key, err := r.apiKey()
	if err != nil {
		for _, p := range pending {
			reasons[p.ID] = err.Error()
		}
		return nil
	}
	oc := openai.DefaultConfig(key)
	if r.cfg.BaseURL != "" {
		oc.BaseURL = r.cfg.BaseURL
	}
	oc.HTTPClient = retryHintDoer{client: r.httpClient}
	client := openai.NewClientWithConfig(oc)

	for _, chunk := range chunkConflicts(pending, r.cfg.MaxConflictsPerCall, r.cfg.MaxPromptBytes) {
		decisions, rejected, err := r.resolveChunk(ctx, client, key, api, chunk, o)
		if ctx.Err() != nil {
			return fmt.Errorf("AI conflict resolution for api %q: %w", api, ctx.Err())
		}
		var ce *callError
		if err != nil && o.durable && errors.As(err, &ce) && ce.Transient {
			return &TransientError{API: api, StatusCode: ce.StatusCode, RetryAfter: ce.RetryAfter, Err: ce.Err}
		}
		if err != nil {
			why := err.Error()
			if errors.As(err, &ce) {
				why = ce.reason()
			}
			for _, p := range chunk {
				reasons[p.ID] = why
			}
			continue
		}
		for _, d := range decisions {
			decided[d.ID] = d
			if r.cache != nil {
				r.cache.Put(r.cacheKey(d.ID), d)
			}
		}
		for id, why := range rejected {
			reasons[id] = why
			r.logger.Warn("rejected AI decision", zap.String("api", api), zap.String("conflict", id), zap.String("problem", why))
		}
	}
	return nil
}

// resolveChunk asks the model about the conflicts in chunk, and asks again
// (up to o.reasks times) about those whose answer was malformed or failed
// validation, telling it what was wrong. It returns the accepted decisions
// and why the rest were rejected; the error is a failed call or ctx's end.
func (r *AIResolver) resolveChunk(ctx context.Context, client *openai.Client, key, api string, chunk []promptConflict, o askOptions) ([]Decision, map[string]string, error) {
	msgs, err := buildMessages(api, chunk)
	if err != nil {
		return nil, nil, err
	}
	if o.feedback != "" {
		// The same conflicts, and why the last decisions were refused.
		if msgs[1], err = buildReask(api, chunk, o.feedback); err != nil {
			return nil, nil, err
		}
	}
	req := openai.ChatCompletionRequest{Model: r.cfg.Model, Temperature: r.cfg.Temperature}
	for _, m := range msgs {
		req.Messages = append(req.Messages, openai.ChatCompletionMessage{Role: m.role, Content: m.content})
	}
	var decisions []Decision
	open := chunk
	for ask := 0; ; ask++ {
		content, err := r.call(ctx, client, key, req, sortedIDs(open), o.retries)
		var rejected map[string]string
		if err == nil {
			var ds []Decision
			ds, rejected, err = parseAnswer(content, open)
			decisions = append(decisions, ds...)
		}
		if err != nil && !errors.Is(err, errMalformedAnswer) {
			return nil, nil, err
		}
		if err == nil && len(rejected) == 0 {
			return decisions, nil, nil
		}
		problem := ""
		if err != nil {
			r.logger.Warn("malformed AI answer", zap.String("api", api), zap.Int("conflicts", len(open)), zap.Int("ask", ask+1), zap.Error(err))
			problem = err.Error()
		} else {
			problem = describeRejected(open, rejected)
			open = slices.DeleteFunc(slices.Clone(open), func(p promptConflict) bool { _, bad := rejected[p.ID]; return !bad })
		}
		if ask >= o.reasks {
			if err != nil {
				rejected = make(map[string]string, len(open))
				for _, p := range open {
					rejected[p.ID] = err.Error()
				}
			}
			return decisions, rejected, nil
		}
		r.logger.Info("asking the model again", zap.String("api", api), zap.Int("conflicts", len(open)), zap.Int("ask", ask+2), zap.String("problem", problem))
		reask, rerr := buildReask(api, open, problem)
		if rerr != nil {
			return nil, nil, rerr
		}
		if content != "" {
			req.Messages = append(req.Messages, openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant, Content: content})
		}
		req.Messages = append(req.Messages, openai.ChatCompletionMessage{Role: reask.role, Content: reask.content})
	}
}

// sortedIDs returns the IDs of ps, sorted.
func sortedIDs(ps []promptConflict) []string {
	ids := make([]string, 0, len(ps))
	for _, p := range ps {
		ids = append(ids, p.ID)
	}
	slices.Sort(ids)
	return ids
}

// cacheKey is the cache key of a conflict ID under r's model.
func (r *AIResolver) cacheKey(id string) string {
	return r.cfg.Model + "\x00" + id
}

// checkConflicts rejects conflicts that no strategy could answer safely.
func checkConflicts(conflicts []Conflict) error {
	seen := make(map[string]bool, len(conflicts))
	var errs []error
	for _, c := range conflicts {
		switch {
		case c.ID == "":
			errs = append(errs, &DecisionError{Pointer: c.Pointer, Problem: "conflict has no id"})
		case seen[c.ID]:
			errs = append(errs, &DecisionError{Pointer: c.Pointer, ID: c.ID, Problem: "two conflicts share this id"})
		}
		seen[c.ID] = true
		for i, v := range []json.RawMessage{c.Base, c.Local, c.Remote} {
			if len(v) > 0 && !json.Valid(v) {
				side := []string{ChoiceBase, ChoiceLocal, ChoiceRemote}[i]
				errs = append(errs, &DecisionError{Pointer: c.Pointer, ID: c.ID, Problem: side + " value is not valid JSON"})
			}
		}
	}
	return errors.Join(errs...)
}
