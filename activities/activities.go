package activities

import (
	"context"
	"errors"
	"fmt"
	"github.com/apilivesync/apilivesync/internal/redact"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"

	"github.com/apilivesync/apilivesync/internal/diff"
	"github.com/apilivesync/apilivesync/internal/fetch"
	"github.com/apilivesync/apilivesync/internal/graphql"
	"github.com/apilivesync/apilivesync/internal/kind"
	"github.com/apilivesync/apilivesync/internal/resolve"
	"github.com/apilivesync/apilivesync/internal/source"
	"github.com/apilivesync/apilivesync/internal/spec"
	"github.com/apilivesync/apilivesync/internal/store"
)

// Activities holds the dependencies of every activity.
type Activities struct {
	Store   *store.Store
	Fetcher *fetch.Fetcher
	Logger  *zap.Logger
	// SpecOptions bound what a document may contain (size, depth, aliases, refs).
	SpecOptions spec.Options
	// Rules judge breaking changes; nil uses diff.DefaultRules().
	Rules *diff.Rules
	// Notifier delivers events; nil delivers nothing.
	Notifier Notifier
	// Docs caches parsed documents between steps; nil parses every time.
	Docs *DocCache
	// AI resolves conflicts under the ai strategy; nil leaves them to people.
	AI *resolve.AIResolver

	rulesMu    sync.Mutex
	rulesCache map[string]*diff.Rules
}

// Notifier delivers sync events (webhooks).
type Notifier interface {
	Notify(ctx context.Context, ev NotifyInput) (NotifyResult, error)
}

func (a *Activities) logger(ctx context.Context) *zap.Logger {
	l := a.Logger
	if l == nil {
		l = zap.NewNop()
	}
	if activity.IsActivity(ctx) {
		info := activity.GetInfo(ctx)
		l = l.With(zap.String("workflowID", info.WorkflowExecution.ID), zap.String("runID", info.WorkflowExecution.RunID),
			zap.String("activity", info.ActivityType.Name), zap.Int32("attempt", info.Attempt))
	}
	return l
}

// rulesFor loads (once) the rules file a source or API names; "" is the
// worker's rules.
func (a *Activities) rulesFor(path string) (*diff.Rules, error) {
	if path == "" {
		if a.Rules != nil {
			return a.Rules, nil
		}
		return diff.DefaultRules(), nil
	}
	a.rulesMu.Lock()
	defer a.rulesMu.Unlock()
	if r, ok := a.rulesCache[path]; ok {
		return r, nil
	}
	r, err := diff.LoadRules(path)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("breaking-change rules: %v", err), ErrTypeSource, nil)
	}
	if a.rulesCache == nil {
		a.rulesCache = map[string]*diff.Rules{}
	}
	a.rulesCache[path] = r
	return r, nil
}

// FetchSpec gets a source's spec with a conditional request and stores the
// bytes. An unchanged spec (304, or the same bytes as last time) is reported
// without storing anything.
func (a *Activities) FetchSpec(ctx context.Context, in FetchInput) (*FetchResult, error) {
	src := in.Source
	state, err := a.Store.SourceState(ctx, src.ID)
	if err != nil {
		return nil, err
	}
	headers, err := a.Fetcher.ResolveHeaders(src.ID, src.Headers)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeSource, nil)
	}
	req := fetch.Request{SourceID: src.ID, URL: src.URL, File: src.LocalFile(), Headers: headers}
	if !in.Force && state.BaseHash != "" {
		req.ETag, req.LastModified = state.ETag, state.LastModified
	}
	if src.Introspect {
		if req, err = introspectionRequest(req); err != nil {
			return nil, err
		}
	}
	resp, err := a.Fetcher.Fetch(ctx, req)
	if err != nil {
		// Nothing a source's server says, and no secret it was sent, leaves
		// the activity: not in status, history, logs or the CLI.
		err = redact.Error(err, headerValues(headers)...)
		if fetch.IsTemporary(err) {
			return nil, err
		}
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeFetch, nil)
	}
	if src.Introspect && !resp.NotModified {
		// What is stored, hashed and parsed is the schema, as SDL.
		sdl, err := graphql.FromIntrospection(resp.Body)
		if err != nil {
			msg := redact.String(fmt.Sprintf("introspect source %q at %s: %v", src.ID, src.URL, err), headerValues(headers)...)
			return nil, temporal.NewNonRetryableApplicationError(msg, ErrTypeSpec, nil)
		}
		resp.Body = []byte(sdl)
	}
	res := &FetchResult{
		NotModified: resp.NotModified, StatusCode: resp.StatusCode, ETag: resp.ETag,
		LastModified: resp.LastModified, Redirects: resp.Redirects, BaseHash: state.BaseHash,
		Bytes: int64(len(resp.Body)),
	}
	if resp.NotModified && src.LocalFile() != "" {
		// A file has no server to answer 304: its size and modification
		// time are those of the last fetch, so its content is unchanged.
		res.NotModified, res.Unchanged = false, true
		a.logger(ctx).Info("source file unchanged: same size and modification time as the last fetch", zap.String("source", src.ID))
		return res, a.reportHead(ctx, src, res)
	}
	if resp.NotModified {
		a.logger(ctx).Info("source not modified", zap.String("source", src.ID))
		return res, a.reportHead(ctx, src, res)
	}
	res.RawHash = store.Hash(resp.Body)
	if !in.Force && res.RawHash == state.RawHash && state.BaseHash != "" {
		res.Unchanged = true
		if err := a.reportHead(ctx, src, res); err != nil {
			return nil, err
		}
		a.logger(ctx).Info("source unchanged", zap.String("source", src.ID), zap.String("hash", res.RawHash))
		return res, nil
	}
	if err := a.refuseNonSpec(src, resp.Body); err != nil {
		return nil, err
	}
	if _, err := a.Store.PutBlob(ctx, resp.Body); err != nil {
		return nil, err
	}
	a.logger(ctx).Info("source fetched", zap.String("source", src.ID), zap.Int64("bytes", res.Bytes), zap.String("hash", res.RawHash))
	return res, nil
}

func (a *Activities) reportHead(ctx context.Context, src source.Source, res *FetchResult) error {
	head, err := a.Store.Head(ctx, src.APIID())
	if err != nil || head == nil {
		return err
	}
	res.HeadVersion, res.HeadHash = head.Number, head.Hash
	return nil
}

// ParseSpec validates a fetched document, normalizes it and stores the
// normalized form.
func (a *Activities) ParseSpec(ctx context.Context, in ParseInput) (*ParseResult, error) {
	raw, err := a.Store.GetBlob(ctx, in.RawHash)
	if err != nil {
		return nil, notFoundOr(err)
	}
	name := in.SourceID
	if in.Location != "" {
		name = fmt.Sprintf("%s (%s)", in.SourceID, in.Location)
	}
	k := in.Kind
	if k == "" {
		if k, err = kind.SourceKind(raw); err != nil {
			return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("source %q: %v", name, err), ErrTypeSpec, nil)
		}
	}
	if k != kind.OpenAPI {
		return a.parseKind(ctx, k, name, in, raw)
	}
	doc, err := spec.ParseContext(ctx, name, raw, a.specOptions(in))
	if err == nil {
		// Build the model now: a spec whose model does not build is invalid.
		_, err = doc.Model()
	}
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeSpec, nil)
	}
	h, err := a.Store.PutBlob(ctx, doc.Canonical)
	if err != nil {
		return nil, err
	}
	// Diff reads the new document by its canonical hash; its line numbers
	// then point into the source's own bytes (lines.go), on this worker
	// from the cache and on any other from the note.
	if err := RecordLineSource(ctx, a.Store, h, in.RawHash); err != nil {
		return nil, err
	}
	a.Docs.Put(doc, h, in.RawHash)
	sum := doc.Summary
	counts := kind.SpecCounts(sum)
	a.logger(ctx).Info("spec parsed", zap.String("source", in.SourceID), zap.String("spec", sum.Family+" "+sum.Version),
		zap.Int("paths", sum.Paths), zap.Int("operations", sum.Operations), zap.Int("schemas", sum.Schemas))
	return &ParseResult{Hash: h, Counts: counts}, nil
}

// DiffSpecs compares two stored documents and stores the change report.
func (a *Activities) DiffSpecs(ctx context.Context, in DiffInput) (*DiffResult, error) {
	rep, err := a.compare(ctx, in.OldHash, in.NewHash, in.RulesFile)
	if err != nil {
		return nil, err
	}
	res, err := a.storeReport(ctx, rep)
	if err != nil {
		return nil, err
	}
	a.logger(ctx).Info("spec diffed", zap.String("api", in.API), zap.String("source", in.SourceID),
		zap.Int("changes", res.Total), zap.Int("breaking", res.Breaking))
	return res, nil
}

func (a *Activities) compare(ctx context.Context, oldHash, newHash, rulesFile string) (*diff.Report, error) {
	rules, err := a.rulesFor(rulesFile)
	if err != nil {
		return nil, err
	}
	oldDoc, err := a.loadStored(ctx, oldHash)
	if err != nil {
		return nil, err
	}
	newDoc, err := a.loadStored(ctx, newHash)
	if err != nil {
		return nil, err
	}
	if oldDoc.kind != newDoc.kind {
		return nil, mismatch("diff", oldDoc.kind, newDoc.kind)
	}
	var rep *diff.Report
	if oldDoc.kind == kind.OpenAPI {
		rep, err = diff.Compare(oldDoc.doc, newDoc.doc, rules)
	} else {
		// GraphQL and Postman have their own rule sets (rules files are OpenAPI's).
		rep, err = kind.Diff(oldDoc.kind, oldDoc.data, newDoc.data)
	}
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeSpec, nil)
	}
	return rep, nil
}

func (a *Activities) storeReport(ctx context.Context, rep *diff.Report) (*DiffResult, error) {
	return saveReport(ctx, a.Store, rep)
}

// saveReport stores a change report and sums it up for history.
func saveReport(ctx context.Context, st *store.Store, rep *diff.Report) (*DiffResult, error) {
	h, err := st.PutJSON(ctx, rep)
	if err != nil {
		return nil, err
	}
	res := &DiffResult{Total: rep.Total, Breaking: rep.Breaking, ReportHash: h, RuleSet: rep.RuleSet}
	for _, c := range rep.Changes {
		if len(res.Top) == MaxTopChanges {
			break
		}
		res.Top = append(res.Top, changeSummary(c))
	}
	return res, nil
}

// parseStored parses a stored OpenAPI document (from its source's bytes
// when the store has them: lines.go) and caches it.
func (a *Activities) parseStored(ctx context.Context, hash string, data []byte) (*spec.Document, error) {
	doc, err := StoredDocument(ctx, a.Store, hash, data, a.storedSpecOptions())
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("stored document %s: %v", hash, err), ErrTypeSpec, nil)
	}
	a.Docs.Put(doc, hash)
	return doc, nil
}

// StoreVersion stores the merged document as the API's next version (unless
// it equals the current one) and then records the source's new state. A
// retried call stores nothing twice.
func (a *Activities) StoreVersion(ctx context.Context, in StoreInput) (*StoreResult, error) {
	head, err := a.Store.Head(ctx, in.API)
	if err != nil {
		return nil, err
	}
	res := &StoreResult{Hash: in.DocHash}
	switch {
	case head != nil && head.Number == in.ParentVer && head.Hash == in.DocHash:
		// Nothing new for the API.
		res.Version = head.Number
	case head != nil && head.Number == in.ParentVer+1 && head.Hash == in.DocHash && head.IdempotencyKey == in.Key:
		// Our own earlier attempt stored it.
		res.Version, res.Created, res.Changes, res.Breaking = head.Number, true, head.Changes, head.Breaking
	case (head == nil && in.ParentVer != 0) || (head != nil && head.Number != in.ParentVer):
		cur := 0
		if head != nil {
			cur = head.Number
		}
		return nil, temporal.NewNonRetryableApplicationError((&store.HeadMovedError{API: in.API, Expected: in.ParentVer, Head: cur}).Error(), ErrTypeHeadMoved, nil)
	default:
		v := store.Version{
			API: in.API, Parent: in.ParentVer, Hash: in.DocHash, SourceID: in.Source.ID, SourceBase: in.BaseHash,
			Origin: orDefault(in.Origin, store.OriginSync), CreatedAt: time.Now().UTC(), Counts: in.Counts,
			Decisions: storeDecisions(in.Decisions), IdempotencyKey: in.Key,
		}
		// The version's report is what changed in the API: head → merged.
		// It is the source's diff when that compared the same two documents.
		if head != nil && head.Hash == in.DiffOldHash && in.DocHash == in.BaseHash {
			v.Changes, v.Breaking, v.ReportHash, v.RuleSet = in.Diff.Total, in.Diff.Breaking, in.Diff.ReportHash, in.Diff.RuleSet
			res.Top = in.Diff.Top
		}
		stored, top, err := CommitVersion(ctx, a.Store, head, v, func(ctx context.Context, oldHash, newHash string) (*diff.Report, error) {
			return a.compare(ctx, oldHash, newHash, in.Source.Rules)
		})
		var moved *store.HeadMovedError
		if errors.As(err, &moved) {
			return nil, temporal.NewNonRetryableApplicationError(moved.Error(), ErrTypeHeadMoved, nil)
		}
		if err != nil {
			return nil, err
		}
		if top != nil {
			res.Top = top
		}
		res.Version, res.Created, res.Changes, res.Breaking, res.ReportHash = stored.Number, true, stored.Changes, stored.Breaking, stored.ReportHash
		a.logger(ctx).Info("version stored", zap.String("api", in.API), zap.Int("version", stored.Number),
			zap.String("hash", stored.Hash), zap.Int("changes", stored.Changes), zap.Int("breaking", stored.Breaking))
	}
	if err := a.Store.PutSourceState(ctx, store.SourceState{
		SourceID: in.Source.ID, API: in.API, ETag: in.ETag, LastModified: in.LastMod, RawHash: in.RawHash,
		BaseHash: in.BaseHash, LastVersion: res.Version, Rank: in.Source.Rank, UpdatedAt: time.Now().UTC(),
	}); err != nil {
		return nil, err
	}
	return res, nil
}

// RecordSourceState remembers a source's fetch state when its document did
// not change.
func (a *Activities) RecordSourceState(ctx context.Context, in RecordInput) error {
	st, err := a.Store.SourceState(ctx, in.Source.ID)
	if err != nil {
		return err
	}
	st.API, st.ETag, st.LastModified, st.RawHash, st.BaseHash = in.Source.APIID(), in.ETag, in.LastMod, in.RawHash, in.BaseHash
	st.UpdatedAt = time.Now().UTC()
	return a.Store.PutSourceState(ctx, *st)
}

// Notify delivers a sync event to the configured receivers.
func (a *Activities) Notify(ctx context.Context, in NotifyInput) (*NotifyResult, error) {
	a.logger(ctx).Info("sync event", zap.String("event", in.Event), zap.String("api", in.API), zap.String("source", in.SourceID),
		zap.Int("version", in.Version), zap.Int("changes", in.Changes), zap.Int("breaking", in.Breaking))
	if a.Notifier == nil {
		return &NotifyResult{}, nil
	}
	res, err := a.Notifier.Notify(ctx, in)
	return &res, err
}

func notFoundOr(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeNotFound, nil)
	}
	return err
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func storeDecisions(ds []Decision) []store.Decision {
	if ds == nil {
		return nil
	}
	out := make([]store.Decision, len(ds))
	for i, d := range ds {
		out[i] = store.Decision(d)
	}
	return out
}

// specOptions are the worker's parse options for one source: relative
// references resolve against the source's own location (files under its
// directory; URLs on its origin, through the SSRF guard), and strict
// sources refuse dangling references.
func (a *Activities) specOptions(in ParseInput) spec.Options {
	o := a.SpecOptions
	o.Strict = o.Strict || in.Strict
	switch {
	case strings.HasPrefix(in.URL, "http://") || strings.HasPrefix(in.URL, "https://"):
		o.BaseURL = in.URL
		headers := in.Headers
		o.Resolve = func(ctx context.Context, u string) ([]byte, error) {
			h, err := a.Fetcher.ResolveHeaders(in.SourceID, headers)
			if err != nil {
				return nil, err
			}
			resp, err := a.Fetcher.Fetch(ctx, fetch.Request{SourceID: in.SourceID, URL: u, Headers: h})
			if err != nil {
				return nil, redact.Error(err, headerValues(h)...)
			}
			return resp.Body, nil
		}
	case in.File != "":
		o.AllowFileRefs, o.BaseDir = true, filepath.Dir(in.File)
	}
	return o
}

func headerValues(h map[string]string) []string {
	out := make([]string, 0, len(h))
	for _, v := range h {
		out = append(out, v)
	}
	return out
}

// storedSpecOptions parse documents the worker made itself (canonical and
// merged forms): their sources passed the fetch limit once, and the
// canonical form may be larger than the bytes served (pretty-printed), so
// the byte limit is not applied again; every other limit stays.
func (a *Activities) storedSpecOptions() spec.Options {
	o := a.SpecOptions
	o.MaxBytes = 1 << 40
	return o
}

// CommitVersion stores v as the version after head (nil: the first), with
// its change report head → v.Hash, computed by judge unless v already
// carries one, and returns it with the report's top changes. It is the one
// way a version is committed: by a sync (StoreVersion) and by people
// (starter push, rollback, undo). A head that moved meanwhile is a
// *store.HeadMovedError: re-merge, or try again on the new head.
func CommitVersion(ctx context.Context, st *store.Store, head *store.Version, v store.Version,
	judge func(ctx context.Context, oldHash, newHash string) (*diff.Report, error)) (*store.Version, []string, error) {
	v.Parent = 0
	if head != nil {
		v.Parent = head.Number
	}
	if v.CreatedAt.IsZero() {
		v.CreatedAt = time.Now().UTC()
	}
	var top []string
	if head != nil && head.Hash != "" && v.ReportHash == "" && judge != nil {
		rep, err := judge(ctx, head.Hash, v.Hash)
		if err != nil {
			return nil, nil, err
		}
		if rep != nil { // nil: the caller stores the version without a report
			d, err := saveReport(ctx, st, rep)
			if err != nil {
				return nil, nil, err
			}
			v.Changes, v.Breaking, v.ReportHash, v.RuleSet, top = d.Total, d.Breaking, d.ReportHash, d.RuleSet, d.Top
		}
	}
	stored, err := st.Commit(ctx, v)
	return stored, top, err
}

// refuseNonSpec keeps what is not an API description out of the store: a
// body no kind recognizes is refused before it is stored, in the parser's
// own words (line, column, what is wrong), so a source pointed at a file or
// page it should not read leaves nothing behind.
func (a *Activities) refuseNonSpec(src source.Source, body []byte) error {
	if _, err := kind.Detect(body); err == nil {
		return nil
	}
	name := fmt.Sprintf("%s (%s)", src.ID, src.Location())
	_, err := spec.Parse(name, body, a.SpecOptions)
	if err == nil {
		return nil // a document detection missed that the parser takes (UTF-16, say)
	}
	return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeSpec, nil)
}
