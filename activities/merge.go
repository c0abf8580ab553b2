package activities

import (
	"bytes"
	"context"
	"encoding/json"

	"fmt"
	"strconv"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"

	"github.com/apilivesync/apilivesync/internal/jsonptr"
	"github.com/apilivesync/apilivesync/internal/kind"
	"github.com/apilivesync/apilivesync/internal/merge"
	"github.com/apilivesync/apilivesync/internal/source"
	"github.com/apilivesync/apilivesync/internal/spec"
)

// MergeSpecs merges the source's new document (remote) into the API's
// current version (local) against what the source gave last time (base).
// Local edits and other sources' parts survive; overlapping changes with
// different values are conflicts, stored with their values under
// ConflictsHash.
func (a *Activities) MergeSpecs(ctx context.Context, in MergeInput) (*MergeResult, error) {
	head, err := a.Store.Head(ctx, in.API)
	if err != nil {
		return nil, err
	}
	res := &MergeResult{MergedHash: in.RemoteHash}
	if head != nil {
		res.HeadVersion, res.HeadHash = head.Number, head.Hash
	}
	owns := merge.Ownership{PathPrefixes: in.Owns.PathPrefixes, Paths: in.Owns.Paths, Components: in.Owns.Components}
	// Fast path: nobody else touched the API since this source's last sync
	// (or the API is new) and the source owns all of it.
	if owns.IsZero() && (head == nil || head.Hash == in.BaseHash) {
		return res, nil
	}
	remote, err := a.Store.GetBlob(ctx, in.RemoteHash)
	if err != nil {
		return nil, notFoundOr(err)
	}
	if k := kind.StoredKind(remote); k != kind.OpenAPI {
		return a.mergeKind(ctx, in, k, head, remote, res)
	}
	var base, local []byte
	if in.BaseHash != "" {
		if base, err = a.Store.GetBlob(ctx, in.BaseHash); err != nil {
			return nil, notFoundOr(err)
		}
	}
	if head != nil {
		if local, err = a.Store.GetBlob(ctx, head.Hash); err != nil {
			return nil, notFoundOr(err)
		}
		if lk := kind.StoredKind(local); lk != kind.OpenAPI {
			return nil, mismatch(fmt.Sprintf("merge source %q into api %q", in.SourceID, in.API), lk, kind.OpenAPI)
		}
	} else if local, err = skeleton(remote); err != nil {
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("merge source %q into new api %q: %v", in.SourceID, in.API, err), ErrTypeSpec, nil)
	}
	mr, err := merge.ThreeWay(base, local, remote, merge.Options{Ownership: owns})
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("merge source %q into api %q: %v", in.SourceID, in.API, err), ErrTypeMerge, nil)
	}
	res.AutoMerged, res.Ignored = mr.AutoMerged, len(mr.Ignored)
	if len(mr.Conflicts) > 0 {
		h, err := a.Store.PutJSON(ctx, mr)
		if err != nil {
			return nil, err
		}
		res.ConflictsHash, res.ConflictCount = h, len(mr.Conflicts)
		for i, c := range mr.Conflicts {
			if i == MaxConflictsInHistory {
				break
			}
			res.Conflicts = append(res.Conflicts, Conflict{ID: c.ID, Pointer: c.Pointer, Kind: c.Kind})
		}
		a.logger(ctx).Info("merge found conflicts", zap.String("api", in.API), zap.String("source", in.SourceID), zap.Int("conflicts", len(mr.Conflicts)))
		return res, nil
	}
	h, err := a.storeValid(ctx, in.API, mr.Merged)
	if err != nil {
		return nil, err
	}
	res.MergedHash = h
	a.logger(ctx).Info("merged", zap.String("api", in.API), zap.String("source", in.SourceID), zap.Int("autoMerged", mr.AutoMerged), zap.Int("ignored", len(mr.Ignored)))
	return res, nil
}

// skeleton is the remote document without the parts sources own (paths,
// webhooks, components, Swagger 2 definitions…): the local side of a new
// API, so a source with an ownership contributes its parts to a document
// that has the rest (openapi, info, servers) from the same source.
func skeleton(remote []byte) ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(remote, &doc); err != nil {
		return nil, err
	}
	for _, k := range []string{"paths", "webhooks", "components", "definitions", "parameters", "responses", "securityDefinitions"} {
		if _, ok := doc[k]; ok {
			doc[k] = json.RawMessage("{}")
		}
	}
	return json.Marshal(doc)
}

// storeValid checks that a merged document is a valid spec and stores its
// normalized form.
func (a *Activities) storeValid(ctx context.Context, api string, doc []byte) (string, error) {
	parsed, err := spec.Parse("api "+strconv.Quote(api)+" (merged)", doc, a.storedSpecOptions())
	if err == nil {
		_, err = parsed.Model()
	}
	if err != nil {
		return "", temporal.NewNonRetryableApplicationError(fmt.Sprintf("the merged document is not a valid spec, nothing was stored: %v", err), ErrTypeMerge, nil)
	}
	h, err := a.Store.PutBlob(ctx, parsed.Canonical)
	if err != nil {
		return "", err
	}
	a.Docs.Put(parsed, h)
	return h, nil
}

func (a *Activities) loadMerge(ctx context.Context, hash string) (*storedMerge, error) {
	var mr storedMerge
	if err := a.Store.GetJSON(ctx, hash, &mr); err != nil {
		return nil, notFoundOr(err)
	}
	return &mr, nil
}

// ResolveConflicts decides a merge's conflicts by strategy: prefer-remote,
// prefer-local, source-priority or ai. What the AI cannot decide validly is
// returned as Open, for a person.
func (a *Activities) ResolveConflicts(ctx context.Context, in ResolveInput) (*ResolveResult, error) {
	mr, err := a.loadMerge(ctx, in.ConflictsHash)
	if err != nil {
		return nil, err
	}
	var rs []Resolution
	res := &ResolveResult{Attempts: activityAttempt(ctx)}
	switch in.Strategy {
	case source.StrategyPreferRemote, source.StrategyPreferLocal:
		mrs, err := merge.Resolve(mr.Conflicts, in.Strategy)
		if err != nil {
			return nil, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeResolution, nil)
		}
		for _, r := range mrs {
			rs = append(rs, Resolution{Pointer: r.Pointer, Choice: string(r.Choice), Strategy: in.Strategy})
		}
	case source.StrategySourcePriority:
		if rs, err = a.bySourcePriority(ctx, in, mr); err != nil {
			return nil, err
		}
	case source.StrategyAI:
		return a.resolveByAI(ctx, in, mr)
	default:
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("strategy %q cannot resolve conflicts automatically", in.Strategy), ErrTypeResolution, nil)
	}
	h, err := a.applyTo(ctx, in.API, mr, rs)
	if err != nil {
		return nil, err
	}
	res.MergedHash, res.Resolutions = h, rs
	return res, nil
}

func openConflicts(mr *storedMerge, cs []merge.Conflict) []Conflict {
	out := make([]Conflict, 0, len(cs))
	for i, c := range cs {
		if i == MaxConflictsInHistory {
			break
		}
		out = append(out, Conflict{ID: c.ID, Pointer: c.Pointer, Kind: c.Kind, Location: mr.Locations[c.Pointer]})
	}
	return out
}

// bySourcePriority decides each conflict by rank: the local value belongs
// to whichever other source of the API last gave it; the lower rank wins
// (a tie goes to the newer, remote value). A local value no source gave is a
// person's edit and is kept.
func (a *Activities) bySourcePriority(ctx context.Context, in ResolveInput, mr *storedMerge) ([]Resolution, error) {
	states, err := a.Store.SourceStates(ctx, in.API)
	if err != nil {
		return nil, err
	}
	type other struct {
		id   string
		rank int
		doc  any
	}
	var others []other
	for _, st := range states {
		if st.SourceID == in.SourceID || st.BaseHash == "" {
			continue
		}
		data, err := a.Store.GetBlob(ctx, st.BaseHash)
		if err != nil {
			return nil, notFoundOr(err)
		}
		doc, err := mergeTree(data)
		if err != nil {
			return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("stored document %s of source %q: %v", st.BaseHash, st.SourceID, err), ErrTypeSpec, nil)
		}
		others = append(others, other{id: st.SourceID, rank: st.Rank, doc: doc})
	}
	var rs []Resolution
	for _, c := range mr.Conflicts {
		r := Resolution{ID: c.ID, Pointer: c.Pointer, Strategy: source.StrategySourcePriority}
		owner := -1
		for i, o := range others {
			if v, ok := lookupPointer(o.doc, c.Pointer); ok && sameJSON(v, c.Local) {
				owner = i
				break
			}
		}
		switch {
		case owner < 0:
			r.Choice, r.Reason = "local", "the local value is a local edit, which no source overrides"
		case in.Rank <= others[owner].rank:
			r.Choice, r.Reason = "remote", fmt.Sprintf("source %q (rank %d) outranks %q (rank %d)", in.SourceID, in.Rank, others[owner].id, others[owner].rank)
		default:
			r.Choice, r.Reason = "local", fmt.Sprintf("source %q (rank %d) outranks %q (rank %d)", others[owner].id, others[owner].rank, in.SourceID, in.Rank)
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// ApplyResolutions applies resolutions (a person's, or a strategy's and a
// person's together) to a merge's conflicts, validates the result as a spec
// and stores it.
func (a *Activities) ApplyResolutions(ctx context.Context, in ApplyInput) (*ApplyResult, error) {
	mr, err := a.loadMerge(ctx, in.ConflictsHash)
	if err != nil {
		return nil, err
	}
	rs := in.Resolutions
	var decided []Resolution
	if in.Rest != "" {
		given := map[string]bool{}
		for _, r := range rs {
			given[r.Pointer] = true
		}
		for _, c := range mr.Conflicts {
			if !given[c.Pointer] {
				rs = append(rs, Resolution{ID: c.ID, Pointer: c.Pointer, Choice: in.Rest, Strategy: in.RestStrategy, Reason: in.RestReason})
			}
		}
		decided = rs
		if len(decided) > MaxConflictsInHistory {
			decided = decided[:MaxConflictsInHistory]
		}
	}
	h, err := a.applyTo(ctx, in.API, mr, rs)
	if err != nil {
		return nil, err
	}
	return &ApplyResult{MergedHash: h, Decided: decided}, nil
}

func (a *Activities) applyTo(ctx context.Context, api string, mr *storedMerge, rs []Resolution) (string, error) {
	mrs := make([]merge.Resolution, 0, len(rs))
	for _, r := range rs {
		mrs = append(mrs, merge.Resolution{Pointer: r.Pointer, Choice: merge.Choice(r.Choice), Value: r.Value, Strategy: r.Strategy, Reason: r.Reason})
	}
	if err := merge.ValidateResolutions(mr.Conflicts, mrs); err != nil {
		return "", temporal.NewNonRetryableApplicationError(fmt.Sprintf("api %q: %v", api, err), ErrTypeResolution, nil)
	}
	doc, err := merge.Apply(&mr.Result, mrs)
	if err != nil {
		return "", temporal.NewNonRetryableApplicationError(fmt.Sprintf("api %q: %v", api, err), ErrTypeResolution, nil)
	}
	if mr.DocKind != "" && mr.DocKind != kind.OpenAPI {
		if doc, err = kind.Document(mr.DocKind, doc); err != nil {
			return "", temporal.NewNonRetryableApplicationError(fmt.Sprintf("api %q: the resolved %s document: %v", api, mr.DocKind, err), ErrTypeMerge, nil)
		}
		return a.storeValidKind(ctx, api, mr.DocKind, doc)
	}
	return a.storeValid(ctx, api, doc)
}

// lookupPointer finds the value at an RFC 6901 pointer.
func lookupPointer(doc any, ptr string) (any, bool) {
	if ptr == "" {
		return doc, true
	}
	cur := doc
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = jsonptr.Unescape(tok)
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[tok]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(v) {
				return nil, false
			}
			cur = v[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

func sameJSON(v any, raw json.RawMessage) bool {
	if raw == nil {
		return false
	}
	b, err := json.Marshal(v)
	if err != nil {
		return false
	}
	var x, y any
	if json.Unmarshal(b, &x) != nil || json.Unmarshal(raw, &y) != nil {
		return false
	}
	bx, _ := json.Marshal(x)
	by, _ := json.Marshal(y)
	return bytes.Equal(bx, by)
}
