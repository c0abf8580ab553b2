package resolve

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sashabaranov/go-openai"
	"go.uber.org/zap"

	"github.com/apilivesync/apilivesync/internal/fetch"
)

// callError is why a call to the model failed for good; its message
// becomes the fallback reason of the call's conflicts.
type callError struct {
	// Attempts is how many HTTP attempts were made.
	Attempts int
	// StatusCode is the last HTTP status, 0 when none came back.
	StatusCode int
	// Err is the last failure, with the API key redacted.
	Err error
	// Transient is true when a later attempt may pass (see retryable).
	Transient bool
	// RetryAfter is how long the last response asked to wait, 0 when it did not say.
	RetryAfter time.Duration
}

// Error implements error.
func (e *callError) Error() string {
	return fmt.Sprintf("AI call failed after %d attempt(s): %v", e.Attempts, e.Err)
}

// reason is the fallback reason of a failed call: what failed and, when a
// person can fix it, what to do.
func (e *callError) reason() string {
	switch e.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Sprintf("the model's API refused the key (%d): %v; fix the key, then ask the model again with starter resolve API --ai", e.StatusCode, e.Err)
	case http.StatusBadRequest, http.StatusNotFound, http.StatusUnprocessableEntity:
		return fmt.Sprintf("the model's API rejected the request (%d), which asking again will not change: %v", e.StatusCode, e.Err)
	}
	return e.Error()
}

// Unwrap returns the last failure.
func (e *callError) Unwrap() error { return e.Err }

// retryHint carries what the last HTTP response said about retrying.
type retryHint struct {
	retryAfter time.Duration
}

// retryHintKey is the context key of a *retryHint.
type retryHintKey struct{}

// retryHintDoer is the go-openai HTTP client: it records the Retry-After of
// each response in the request's *retryHint, which the client's errors do
// not carry.
type retryHintDoer struct {
	client *http.Client
}

// Do implements openai.HTTPDoer.
func (d retryHintDoer) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.client.Do(req)
	if err == nil {
		if h, ok := req.Context().Value(retryHintKey{}).(*retryHint); ok {
			h.retryAfter = parseRetryAfter(resp.Header, time.Now())
		}
	}
	return resp, err
}

// parseRetryAfter reads OpenAI's retry-after-ms, else Retry-After (see
// fetch.ParseRetryAfter); 0 when absent or unreadable.
func parseRetryAfter(h http.Header, now time.Time) time.Duration {
	if ms, err := strconv.ParseFloat(strings.TrimSpace(h.Get("Retry-After-Ms")), 64); err == nil && ms > 0 {
		return time.Duration(ms * float64(time.Millisecond))
	}
	d, _ := fetch.ParseRetryAfter(h.Get("Retry-After"), now)
	return d
}

// call sends req, retrying failures that may pass up to retries times, and
// returns the first choice's content. ids are the call's conflict IDs, for
// the answer schema.
func (r *AIResolver) call(ctx context.Context, client *openai.Client, key string, req openai.ChatCompletionRequest, ids []string, retries int) (string, error) {
	useSchema := r.cfg.ResponseFormat == ResponseFormatJSONSchema && !r.schemaRejected.Load()
	attempts := 0
	for retry := 0; ; retry++ {
		setFormat(&req, useSchema, ids)
		attempts++
		hint := &retryHint{}
		actx, cancel := context.WithTimeout(context.WithValue(ctx, retryHintKey{}, hint), r.cfg.Timeout)
		resp, err := client.CreateChatCompletion(actx, req)
		cancel()
		if err == nil {
			return answerContent(resp)
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		status := statusCode(err)
		canRetry := retryable(status, err)
		err = redact(err, key)
		if useSchema && status == http.StatusBadRequest && mentionsResponseFormat(err) {
			// A server without structured outputs: ask again for a plain JSON object.
			r.schemaRejected.Store(true)
			useSchema = false
			retry--
			r.logger.Info("server rejected json_schema output; using json_object", zap.Error(err))
			continue
		}
		if !canRetry || retry >= retries {
			return "", &callError{Attempts: attempts, StatusCode: status, Err: err, Transient: canRetry, RetryAfter: hint.retryAfter}
		}
		wait := r.backoff(retry)
		if hint.retryAfter > 0 {
			if hint.retryAfter > r.cfg.MaxRetryAfter {
				return "", &callError{Attempts: attempts, StatusCode: status,
					Err: fmt.Errorf("%w; server asked to wait %s, longer than the %s bound", err, hint.retryAfter, r.cfg.MaxRetryAfter)}
			}
			wait = hint.retryAfter
		}
		r.logger.Info("AI call failed; retrying", zap.Int("attempt", attempts), zap.Int("status", status),
			zap.Duration("wait", wait), zap.Error(err))
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return "", ctx.Err()
		case <-timer.C:
		}
	}
}

// setFormat sets req's response format: a strict schema or a JSON object.
func setFormat(req *openai.ChatCompletionRequest, schema bool, ids []string) {
	if !schema {
		req.ResponseFormat = &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeJSONObject}
		return
	}
	req.ResponseFormat = &openai.ChatCompletionResponseFormat{
		Type: openai.ChatCompletionResponseFormatTypeJSONSchema,
		JSONSchema: &openai.ChatCompletionResponseFormatJSONSchema{
			Name:   "conflict_decisions",
			Schema: answerSchema(ids),
			Strict: true,
		},
	}
}

// answerContent returns the content of resp's first choice, or an error
// when there is none or it was cut off.
func answerContent(resp openai.ChatCompletionResponse) (string, error) {
	if len(resp.Choices) == 0 {
		return "", fmt.Errorf("%w: the response has no choices", errMalformedAnswer)
	}
	ch := resp.Choices[0]
	switch {
	case ch.FinishReason == openai.FinishReasonLength:
		return "", fmt.Errorf("%w: the answer was cut off at the token limit", errMalformedAnswer)
	case ch.Message.Refusal != "":
		return "", fmt.Errorf("model refused: %s", truncateRunes(oneLine(ch.Message.Refusal), 200))
	}
	return ch.Message.Content, nil
}

// backoff is the wait before retry number retry (0-based): Backoff doubled
// per retry, capped at MaxBackoff, with the upper half jittered.
func (r *AIResolver) backoff(retry int) time.Duration {
	d := r.cfg.Backoff
	for i := 0; i < retry && d < r.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, r.cfg.MaxBackoff)
	half := d / 2
	return half + rand.N(half+1)
}

// statusCode is the HTTP status in a go-openai error, or 0.
func statusCode(err error) int {
	var apiErr *openai.APIError
	if errors.As(err, &apiErr) {
		return apiErr.HTTPStatusCode
	}
	var reqErr *openai.RequestError
	if errors.As(err, &reqErr) {
		return reqErr.HTTPStatusCode
	}
	return 0
}

// retryable reports whether a failure may pass on a later attempt: rate
// limits, server errors, timeouts and network errors.
func retryable(status int, err error) bool {
	switch {
	case status == http.StatusTooManyRequests, status == http.StatusRequestTimeout, status >= 500:
		return true
	case status != 0:
		return false
	}
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr)
}

// mentionsResponseFormat reports whether a 400 is about the response format.
func mentionsResponseFormat(err error) bool {
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "response_format") || strings.Contains(msg, "json_schema")
}

// redactedError is an error whose text had the API key removed.
type redactedError struct {
	msg string
	err error
}

// Error implements error.
func (e *redactedError) Error() string { return e.msg }

// Unwrap returns the original error.
func (e *redactedError) Unwrap() error { return e.err }

// redact hides the API key should a server echo it in an error (dropping the
// error chain, which would still hold it), and bounds the message's length.
func redact(err error, key string) error {
	msg := err.Error()
	if strings.Contains(msg, key) {
		return &redactedError{msg: truncateRunes(oneLine(strings.ReplaceAll(msg, key, "[redacted]")), 300)}
	}
	if clean := truncateRunes(oneLine(msg), 300); clean != msg {
		return &redactedError{msg: clean, err: err}
	}
	return err
}
