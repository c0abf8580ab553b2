// Package fetch gets API specs from HTTP(S) URLs and files for sources we do
// not control: conditional requests, size and time limits (including gzip
// bombs and slow trickles), failure classification for retries, and an SSRF
// guard enforced at dial time.
package fetch

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/apilivesync/apilivesync/internal/redact"
	"github.com/apilivesync/apilivesync/internal/source"
)

// Defaults applied by New to zero Options fields.
const (
	DefaultMaxBytes     int64 = 20 << 20
	DefaultTimeout            = 30 * time.Second
	DefaultIdleTimeout        = 10 * time.Second
	DefaultMaxRedirects       = 5
)

// DefaultUserAgent is "api-live-sync/<module version>" ("dev" for local builds).
var DefaultUserAgent = "api-live-sync/" + moduleVersion()

func moduleVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

var utf8BOM = []byte("\xEF\xBB\xBF")

// Request is one fetch of one source. Exactly one of URL and File is set.
type Request struct {
	// SourceID names the source in errors and logs.
	SourceID string
	// URL is an http:// or https:// URL.
	URL string
	// File is a path (relative paths resolve against Options.BaseDir) or a
	// file:// URL.
	File string
	// Headers are already-resolved header values (see ResolveHeaders).
	// They are never logged, and are dropped on a redirect to another origin.
	Headers map[string]string
	// ETag from the last successful fetch; sent as If-None-Match.
	ETag string
	// LastModified from the last successful fetch; sent as
	// If-Modified-Since. For files it is the mtime+size validator this
	// package returned.
	LastModified string
	// Method is GET when empty; a POST sends Body as ContentType (see
	// fetch_post.go). Only URL sources take a method.
	Method      string
	Body        []byte
	ContentType string
}

// Response is a successful fetch.
type Response struct {
	// NotModified is true when the server answered 304 (or the file's
	// validator matched); Body is then nil.
	NotModified bool
	// Body is the spec, decompressed, with any UTF-8 BOM removed.
	Body []byte
	// ETag and LastModified are the validators to send next time. On a 304
	// without new validators they repeat the request's.
	ETag, LastModified string
	// ContentType is the server's Content-Type (guessed from the extension
	// for files).
	ContentType string
	// FinalURL is the URL after redirects, credentials redacted; file://
	// URL for files.
	FinalURL string
	// StatusCode is the final HTTP status (0 for files).
	StatusCode int
	// Redirects is the number of redirects followed.
	Redirects int
}

// Options configures a Fetcher. Zero values take the defaults.
type Options struct {
	// MaxBytes caps the body after decompression. Default 20 MiB.
	MaxBytes int64
	// Timeout caps the whole request, redirects and body included. Default 30s.
	Timeout time.Duration
	// IdleTimeout caps the time without receiving anything (slow trickle,
	// hung server). Default 10s.
	IdleTimeout time.Duration
	// MinBytesPerSecond, when positive, fails a body whose average rate
	// falls below it once the body has been arriving for IdleTimeout.
	MinBytesPerSecond int64
	// MaxRedirects caps redirects followed. 0 means the default (5); a
	// negative value follows none.
	MaxRedirects int
	// UserAgent is sent unless the request's headers set one. Default
	// DefaultUserAgent.
	UserAgent string
	// BaseDir resolves relative File paths. Empty means the working directory.
	BaseDir string
	// SourceRoots confine file sources: a File is read only when, once its
	// symbolic links and ".." are resolved, it lies inside one of these
	// directories, and never under /proc, /sys or /dev (see source.Roots).
	// Empty refuses every file source. The worker takes them from
	// -source-dir; -dev adds the working directory and the examples
	// (source.DevRoots).
	SourceRoots []string
	// Secrets is the operator's allow-list of secret references, applied by
	// Fetcher.ResolveHeaders (see source.SecretPolicy). The zero value
	// allows only source.DefaultSecretEnvPattern.
	Secrets source.SecretPolicy
	// LookupEnv reads environment variables for Fetcher.ResolveHeaders;
	// nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// Guard configures the SSRF guard.
	Guard GuardOptions
	// TLSClientConfig, when set, is used for HTTPS (e.g. private CA roots).
	TLSClientConfig *tls.Config
	// Logger receives debug logs of each fetch (header values redacted). Nil: no logs.
	Logger *zap.Logger
}

// Fetcher fetches sources. It is safe for concurrent use; build one per
// process and share it so connections are reused.
type Fetcher struct {
	opts      Options
	guard     *guard
	transport *http.Transport
	log       *zap.Logger
	now       func() time.Time
}

// New builds a Fetcher. Allow entries that cannot be parsed are ignored and
// logged; call GuardOptions.Validate when loading config to refuse them.
func New(opts Options) *Fetcher {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.MaxRedirects == 0 {
		opts.MaxRedirects = DefaultMaxRedirects
	} else if opts.MaxRedirects < 0 {
		opts.MaxRedirects = 0
	}
	if opts.UserAgent == "" {
		opts.UserAgent = DefaultUserAgent
	}
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	if err := opts.Guard.Validate(); err != nil {
		log.Warn("fetch guard: ignoring invalid allow entries", zap.Error(err))
	}
	g := newGuard(opts.Guard, &net.Dialer{Timeout: opts.Timeout, KeepAlive: 30 * time.Second})
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if opts.TLSClientConfig != nil {
		tlsConf = opts.TLSClientConfig.Clone()
	}
	tr := &http.Transport{
		Proxy:                  nil, // a proxy would make the guard check the proxy, not the target
		DialContext:            g.dialContext,
		TLSClientConfig:        tlsConf,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    10 * time.Second,
		MaxIdleConns:           64,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 1 << 20,
		DisableCompression:     true, // we decompress ourselves, counting decompressed bytes
	}
	return &Fetcher{opts: opts, guard: g, transport: tr, log: log, now: time.Now}
}

// Client returns an *http.Client behind the same SSRF guard, timeout and
// redirect rules, for other outbound calls such as webhooks. It does not
// limit response sizes; callers read bodies with their own limit.
func (f *Fetcher) Client() *http.Client {
	return &http.Client{
		Transport: f.transport,
		Timeout:   f.opts.Timeout,
		CheckRedirect: func(r *http.Request, via []*http.Request) error {
			return f.checkRedirect(r, via, nil, nil)
		},
	}
}

// Fetch gets req's source. A 304 (or an unchanged file) yields a Response
// with NotModified set. Every failure is an *Error.
func (f *Fetcher) Fetch(ctx context.Context, req Request) (*Response, error) {
	switch {
	case req.URL != "" && req.File != "":
		return nil, &Error{Source: req.SourceID, Kind: KindBadRequest, Err: errors.New("both a URL and a file are set; a source has one")}
	case req.File != "":
		return f.fetchFile(ctx, req)
	case req.URL != "":
		return f.fetchHTTP(ctx, req)
	default:
		return nil, &Error{Source: req.SourceID, Kind: KindBadRequest, Err: errors.New("neither a URL nor a file is set")}
	}
}

func (f *Fetcher) fetchHTTP(ctx context.Context, req Request) (*Response, error) {
	start := f.now()
	secrets := headerValues(req.Headers)
	u, err := url.Parse(req.URL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) { // url.Error repeats the whole URL
			err = ue.Err
		}
		return nil, &Error{Source: req.SourceID, Target: req.method(), Kind: KindBadRequest, Err: fmt.Errorf("invalid URL: %w", err), secrets: secrets}
	}
	target := req.method() + " " + redact.URL(u)
	secrets = append(secrets, urlSecrets(u)...)
	bad := func(format string, args ...any) (*Response, error) {
		return nil, &Error{Source: req.SourceID, Target: target, Kind: KindBadRequest, Err: fmt.Errorf(format, args...), secrets: secrets}
	}
	switch {
	case u.Scheme == "file":
		return bad("file:// URLs are file sources, not URL sources")
	case u.Scheme != "http" && u.Scheme != "https":
		return bad("unsupported scheme %q: only http and https are fetched", u.Scheme)
	case u.Host == "":
		return bad("URL has no host")
	case u.User != nil:
		return bad("URL carries credentials; pass them in a header referencing env: or file: instead")
	}

	reqCtx, cancelAll := context.WithTimeoutCause(ctx, f.opts.Timeout, ErrTimeout)
	defer cancelAll()
	reqCtx, cancel := context.WithCancelCause(reqCtx)
	defer cancel(nil)
	idle := time.AfterFunc(f.opts.IdleTimeout, func() { cancel(ErrIdleTimeout) })
	defer idle.Stop()
	touch := func() { idle.Reset(f.opts.IdleTimeout) }

	hreq, err := req.newHTTPRequest(reqCtx, u)
	if err != nil {
		return bad("%w", err)
	}
	hreq.Header.Set("User-Agent", f.opts.UserAgent)
	hreq.Header.Set("Accept", "application/json, application/yaml;q=0.9, text/yaml;q=0.9, */*;q=0.5")
	if req.ContentType != "" {
		hreq.Header.Set("Content-Type", req.ContentType)
	}
	for k, v := range req.Headers {
		if strings.EqualFold(k, "Host") {
			hreq.Host = v
			continue
		}
		hreq.Header.Set(k, v)
	}
	hreq.Header.Set("Accept-Encoding", "gzip")
	conditional := req.ETag != "" || req.LastModified != ""
	if req.ETag != "" {
		hreq.Header.Set("If-None-Match", req.ETag)
	}
	if req.LastModified != "" {
		hreq.Header.Set("If-Modified-Since", req.LastModified)
	}

	redirects := 0
	client := &http.Client{
		Transport: f.transport,
		CheckRedirect: func(r *http.Request, via []*http.Request) error {
			touch()
			// A redirect's query (a signed URL) is a secret too, wherever
			// a server echoes it.
			secrets = append(secrets, urlSecrets(r.URL)...)
			if err := f.checkRedirect(r, via, req.Headers, u); err != nil {
				return err
			}
			redirects = len(via)
			return nil
		},
	}
	resp, err := client.Do(hreq)
	if err != nil {
		e := f.classifyTransport(req.SourceID, target, err, reqCtx, ctx)
		e.secrets = secrets
		f.logResult(req, target, start, 0, 0, redirects, e)
		return nil, e
	}
	defer resp.Body.Close()
	touch()
	finalURL := redact.URL(resp.Request.URL)
	if redirects > 0 {
		target += " (redirected to " + finalURL + ")"
	}

	out := &Response{
		ETag:         resp.Header.Get("ETag"),
		LastModified: resp.Header.Get("Last-Modified"),
		ContentType:  resp.Header.Get("Content-Type"),
		FinalURL:     finalURL,
		StatusCode:   resp.StatusCode,
		Redirects:    redirects,
	}
	switch {
	case resp.StatusCode == http.StatusNotModified && conditional:
		drain(resp.Body)
		out.NotModified = true
		if out.ETag == "" {
			out.ETag = req.ETag
		}
		if out.LastModified == "" {
			out.LastModified = req.LastModified
		}
		f.logResult(req, target, start, resp.StatusCode, 0, redirects, nil)
		return out, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		excerpt := readExcerpt(resp.Body)
		e := statusError(req.SourceID, target, resp, f.now())
		if excerpt != "" {
			e.Err = fmt.Errorf("%w: the server said %q", e.Err, excerpt)
		}
		e.secrets = secrets
		f.logResult(req, target, start, resp.StatusCode, 0, redirects, e)
		return nil, e
	}

	if resp.ContentLength > f.opts.MaxBytes {
		e := &Error{Source: req.SourceID, Target: target, Kind: KindTooLarge, StatusCode: resp.StatusCode, secrets: secrets,
			Err: fmt.Errorf("%w: Content-Length %d is over the %d-byte limit", ErrTooLarge, resp.ContentLength, f.opts.MaxBytes)}
		f.logResult(req, target, start, resp.StatusCode, 0, redirects, e)
		return nil, e
	}
	enc := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding")))
	if enc != "" && enc != "identity" && enc != "gzip" && enc != "x-gzip" {
		e := &Error{Source: req.SourceID, Target: target, Kind: KindBadRequest, StatusCode: resp.StatusCode, secrets: secrets,
			Err: fmt.Errorf("unsupported Content-Encoding %q (only gzip was asked for)", enc)}
		f.logResult(req, target, start, resp.StatusCode, 0, redirects, e)
		return nil, e
	}
	meter := &meteredReader{r: resp.Body, touch: touch, minRate: f.opts.MinBytesPerSecond, grace: f.opts.IdleTimeout, start: f.now(), now: f.now}
	body, err := f.readBody(meter, enc != "" && enc != "identity", resp.ContentLength)
	if err != nil {
		e := f.classifyBody(req.SourceID, target, err, reqCtx, ctx)
		e.StatusCode, e.secrets = resp.StatusCode, secrets
		f.logResult(req, target, start, resp.StatusCode, meter.n, redirects, e)
		return nil, e
	}
	out.Body = body
	f.logResult(req, target, start, resp.StatusCode, meter.n, redirects, nil)
	return out, nil
}

// checkRedirect applies the scheme rule, the redirect limit and loop
// detection to a redirect, and drops the request's own headers when the
// redirect leaves the original origin (so an API key is not handed to
// another host). The guard itself runs when the redirect is dialed.
func (f *Fetcher) checkRedirect(r *http.Request, via []*http.Request, userHeaders map[string]string, orig *url.URL) error {
	if r.URL.Scheme != "http" && r.URL.Scheme != "https" {
		return &redirectError{kind: KindBlocked, err: fmt.Errorf("redirect to %s refused: only http and https are followed", redact.URL(r.URL))}
	}
	next := r.URL.String()
	for _, v := range via {
		if v.URL.String() == next {
			return &redirectError{kind: KindTooManyRedirects, err: fmt.Errorf("redirect loop: %s was already visited after %d redirects", redact.URL(r.URL), len(via))}
		}
	}
	if len(via) > f.opts.MaxRedirects {
		return &redirectError{kind: KindTooManyRedirects, err: fmt.Errorf("stopped after %d redirects (limit %d), next was %s", len(via)-1, f.opts.MaxRedirects, redact.URL(r.URL))}
	}
	if orig != nil && (r.URL.Scheme != orig.Scheme || !strings.EqualFold(r.URL.Host, orig.Host)) {
		for k := range userHeaders {
			r.Header.Del(k)
		}
		r.Header.Del("Authorization")
		r.Header.Del("Cookie")
	}
	return nil
}

// readBody reads at most MaxBytes (decompressed and raw), gunzipping when the
// server said gzip or the body starts with the gzip magic (a .json.gz served
// as is), and strips a UTF-8 BOM.
// sizeHint (Content-Length or file size; <= 0 if unknown) presizes the
// buffer when the body is not compressed.
func (f *Fetcher) readBody(r io.Reader, gzipped bool, sizeHint int64) ([]byte, error) {
	raw := &io.LimitedReader{R: r, N: f.opts.MaxBytes + 1}
	br := newPeekReader(raw)
	var src io.Reader = br
	if gzipped || br.hasGzipMagic() {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errBadGzip, err)
		}
		defer zr.Close()
		src = zr
		sizeHint = 0
	}
	body, err := readAll(io.LimitReader(src, f.opts.MaxBytes+1), min(sizeHint, f.opts.MaxBytes))
	if int64(len(body)) > f.opts.MaxBytes || raw.N <= 0 {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, f.opts.MaxBytes)
	}
	if err != nil {
		if gzipped && (errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum)) {
			return nil, fmt.Errorf("%w: %w", errBadGzip, err)
		}
		return nil, err
	}
	return bytes.TrimPrefix(body, utf8BOM), nil
}

var errBadGzip = errors.New("invalid gzip body")

// readAll is io.ReadAll with a presized buffer when the size is known.
func readAll(r io.Reader, sizeHint int64) ([]byte, error) {
	if sizeHint <= 0 {
		return io.ReadAll(r)
	}
	buf := bytes.NewBuffer(make([]byte, 0, sizeHint+bytes.MinRead+1))
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

// classifyBody classifies an error from reading the body.
func (f *Fetcher) classifyBody(source, target string, err error, reqCtx, parent context.Context) *Error {
	if errors.Is(err, errBadGzip) {
		return &Error{Source: source, Target: target, Kind: KindBadRequest, Err: err}
	}
	e := f.classifyTransport(source, target, err, reqCtx, parent)
	if e.Kind == KindConnection {
		e.Err = fmt.Errorf("reading the body: %w", e.Err)
	}
	return e
}

func (f *Fetcher) logResult(req Request, target string, start time.Time, status int, n int64, redirects int, err error) {
	if ce := f.log.Check(zap.DebugLevel, "fetch"); ce != nil {
		fields := []zap.Field{
			zap.String("source", req.SourceID),
			zap.String("target", target),
			zap.Int("status", status),
			zap.Int64("bytes", n),
			zap.Int("redirects", redirects),
			zap.Duration("elapsed", f.now().Sub(start)),
			zap.Any("headers", RedactHeaders(req.Headers)),
		}
		if err != nil {
			fields = append(fields, zap.Error(err))
		}
		ce.Write(fields...)
	}
}

// drain reads a little of an unwanted body so the connection can be reused.
func drain(r io.Reader) { _, _ = io.Copy(io.Discard, io.LimitReader(r, 4<<10)) }

// maxExcerpt is how much of an error response's body an *Error quotes.
const maxExcerpt = 200

// readExcerpt drains an error response's body like drain and returns its
// beginning as one printable line (redacted with the rest of the message
// when the *Error is formatted), so "401: token expired" reaches the user.
func readExcerpt(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, 4<<10))
	s := strings.ToValidUTF8(string(b), "")
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxExcerpt {
		cut := maxExcerpt
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// minQuerySecret is the shortest query value treated as a secret wherever
// it appears: signatures and tokens are long, "json" or "v2" are not.
const minQuerySecret = 8

// urlSecrets are the values of u's query and userinfo password long
// enough to be credentials.
func urlSecrets(u *url.URL) []string {
	var out []string
	for _, vs := range u.Query() {
		for _, v := range vs {
			if len(v) >= minQuerySecret {
				out = append(out, v)
			}
		}
	}
	if p, ok := u.User.Password(); ok {
		out = append(out, p)
	}
	return out
}

// headerValues are the resolved header values of a request: the secrets
// its errors must never show.
func headerValues(h map[string]string) []string {
	out := make([]string, 0, len(h))
	for _, v := range h {
		out = append(out, v)
		// "Bearer tok": the token alone may be echoed too.
		if _, tok, ok := strings.Cut(v, " "); ok {
			out = append(out, strings.TrimSpace(tok))
		}
	}
	return out
}

// meteredReader counts raw bytes, resets the idle timer whenever bytes
// arrive, and enforces the minimum average rate after a grace period.
type meteredReader struct {
	r       io.Reader
	touch   func()
	minRate int64
	grace   time.Duration
	start   time.Time
	now     func() time.Time
	n       int64
}

func (m *meteredReader) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	if n > 0 {
		m.touch()
		m.n += int64(n)
		if m.minRate > 0 {
			if el := m.now().Sub(m.start); el > m.grace && float64(m.n) < float64(m.minRate)*el.Seconds() {
				return n, fmt.Errorf("%w: %d bytes in %s", ErrTooSlow, m.n, el.Round(time.Millisecond))
			}
		}
	}
	return n, err
}

// peekReader lets readBody look at the first two bytes for the gzip magic.
type peekReader struct {
	r    io.Reader
	buf  []byte
	err  error
	once sync.Once
}

func newPeekReader(r io.Reader) *peekReader { return &peekReader{r: r} }

func (p *peekReader) fill() {
	p.once.Do(func() {
		b := make([]byte, 2)
		n, err := io.ReadFull(p.r, b)
		p.buf = b[:n]
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			p.err = err
		}
	})
}

func (p *peekReader) hasGzipMagic() bool {
	p.fill()
	return len(p.buf) == 2 && p.buf[0] == 0x1f && p.buf[1] == 0x8b
}

func (p *peekReader) Read(b []byte) (int, error) {
	p.fill()
	if len(p.buf) > 0 {
		n := copy(b, p.buf)
		p.buf = p.buf[n:]
		return n, nil
	}
	if p.err != nil {
		return 0, p.err
	}
	return p.r.Read(b)
}

// Policy is what this fetcher lets sources reach: its guard, the roots
// file sources may read, and the secrets header references may name.
func (f *Fetcher) Policy() (GuardOptions, []string, source.SecretPolicy) {
	return f.opts.Guard, f.opts.SourceRoots, f.opts.Secrets
}
