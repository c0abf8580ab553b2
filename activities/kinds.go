package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"

	"github.com/apilivesync/apilivesync/internal/fetch"
	"github.com/apilivesync/apilivesync/internal/graphql"
	"github.com/apilivesync/apilivesync/internal/kind"
	"github.com/apilivesync/apilivesync/internal/merge"
	"github.com/apilivesync/apilivesync/internal/spec"
	"github.com/apilivesync/apilivesync/internal/store"
)

// GraphQL schemas and Postman collections go through the same activities as
// OpenAPI: only parsing, the canonical form, the diff rules and the merge
// tree differ, and internal/kind provides them. OpenAPI keeps its own path
// (internal/spec, internal/diff, internal/merge and the document cache).
//
// The kind of a stored document is told from its canonical bytes, here and
// nowhere else (StoredKind): canonical SDL is not JSON, and a canonical
// Postman collection keeps its collection info; everything else in the
// store is OpenAPI. Versions, source states and workflow inputs carry no
// kind, so nothing can disagree with the document.

// parseKind is ParseSpec for GraphQL and Postman: check, store the
// canonical form, count.
func (a *Activities) parseKind(ctx context.Context, k, name string, in ParseInput, raw []byte) (*ParseResult, error) {
	p, err := kind.Parse(k, name, raw)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeSpec, nil)
	}
	h, err := a.Store.PutBlob(ctx, p.Canonical)
	if err != nil {
		return nil, err
	}
	counts := kind.CountsOf(p)
	a.logger(ctx).Info("spec parsed", zap.String("source", in.SourceID), zap.String("kind", k),
		zap.Int("paths", counts.Paths), zap.Int("operations", counts.Operations), zap.Int("schemas", counts.Schemas))
	return &ParseResult{Hash: h, Counts: counts}, nil
}

// storedDoc is a stored document ready to diff: parsed (OpenAPI, through
// the cache) or its canonical bytes (other kinds).
type storedDoc struct {
	kind string
	doc  *spec.Document
	data []byte
}

func (a *Activities) loadStored(ctx context.Context, hash string) (*storedDoc, error) {
	if doc, ok := a.Docs.Get(hash); ok {
		return &storedDoc{kind: kind.OpenAPI, doc: doc}, nil
	}
	data, err := a.Store.GetBlob(ctx, hash)
	if err != nil {
		return nil, notFoundOr(err)
	}
	if k := kind.StoredKind(data); k != kind.OpenAPI {
		return &storedDoc{kind: k, data: data}, nil
	}
	doc, err := a.parseStored(ctx, hash, data)
	if err != nil {
		return nil, err
	}
	return &storedDoc{kind: kind.OpenAPI, doc: doc}, nil
}

// mismatch refuses to diff or merge documents of two kinds.
func mismatch(what string, oldKind, newKind string) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s: %v (the source changed kind: sync it into a new API)",
		what, &kind.MismatchError{Old: oldKind, New: newKind}), ErrTypeSpec, nil)
}

// storedMerge is what MergeSpecs stores under ConflictsHash: internal/merge's
// result and, for GraphQL and Postman, the kind of its tree and where each
// conflict is in words. Readers that only want the merge.Result (`starter
// conflicts`) decode it as one.
type storedMerge struct {
	merge.Result
	DocKind   string            `json:"docKind,omitempty"`
	Locations map[string]string `json:"locations,omitempty"`
}

// location is where people read a conflict.
func (m *storedMerge) location(pointer string) string {
	if l, ok := m.Locations[pointer]; ok {
		return l
	}
	return humanPointer(pointer)
}

// mergeKind is MergeSpecs for GraphQL and Postman, past the fast path: a
// three-way merge by definition and field, or by request.
func (a *Activities) mergeKind(ctx context.Context, in MergeInput, k string, head *store.Version, remote []byte, res *MergeResult) (*MergeResult, error) {
	what := fmt.Sprintf("merge source %q into api %q", in.SourceID, in.API)
	if !in.Owns.IsZero() {
		return nil, temporal.NewNonRetryableApplicationError(what+": owns names OpenAPI paths and components; a "+k+" source feeds its whole API", ErrTypeSource, nil)
	}
	if head == nil {
		return res, nil
	}
	var base []byte
	var err error
	if in.BaseHash != "" {
		if base, err = a.Store.GetBlob(ctx, in.BaseHash); err != nil {
			return nil, notFoundOr(err)
		}
	}
	local, err := a.Store.GetBlob(ctx, head.Hash)
	if err != nil {
		return nil, notFoundOr(err)
	}
	if lk := kind.StoredKind(local); lk != k {
		return nil, mismatch(what, lk, k)
	}
	mr, err := kind.Merge(k, base, local, remote)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s: %v", what, err), ErrTypeMerge, nil)
	}
	res.AutoMerged, res.Ignored = mr.Result.AutoMerged, len(mr.Result.Ignored)
	if len(mr.Result.Conflicts) > 0 {
		sm := &storedMerge{Result: *mr.Result, DocKind: k, Locations: mr.Locations}
		h, err := a.Store.PutJSON(ctx, sm)
		if err != nil {
			return nil, err
		}
		res.ConflictsHash, res.ConflictCount, res.Conflicts = h, len(sm.Conflicts), openConflicts(sm, sm.Conflicts)
		a.logger(ctx).Info("merge found conflicts", zap.String("api", in.API), zap.String("source", in.SourceID), zap.String("kind", k), zap.Int("conflicts", len(sm.Conflicts)))
		return res, nil
	}
	if mr.Invalid != nil {
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s: the merged schema is not valid, nothing was stored: %v", what, mr.Invalid), ErrTypeMerge, nil)
	}
	if res.MergedHash, err = a.storeValidKind(ctx, in.API, k, mr.Merged); err != nil {
		return nil, err
	}
	a.logger(ctx).Info("merged", zap.String("api", in.API), zap.String("source", in.SourceID), zap.String("kind", k), zap.Int("autoMerged", mr.Result.AutoMerged))
	return res, nil
}

// storeValidKind checks a merged GraphQL or Postman document and stores its
// canonical form.
func (a *Activities) storeValidKind(ctx context.Context, api, k string, doc []byte) (string, error) {
	p, err := kind.Parse(k, "api "+strconv.Quote(api)+" (merged)", doc)
	if err != nil {
		return "", temporal.NewNonRetryableApplicationError(fmt.Sprintf("the merged document is not a valid %s document, nothing was stored: %v", k, err), ErrTypeMerge, nil)
	}
	return a.Store.PutBlob(ctx, p.Canonical)
}

// mergeTree decodes a stored document as the tree its merge conflicts'
// pointers point into.
func mergeTree(data []byte) (any, error) {
	if kind.StoredKind(data) == kind.GraphQL {
		d, err := graphql.Parse("stored", data)
		if err != nil {
			return nil, err
		}
		if data, err = d.Tree(); err != nil {
			return nil, err
		}
	}
	var doc any
	err := json.Unmarshal(data, &doc)
	return doc, err
}

// introspectionRequest turns a source's fetch into the standard GraphQL
// introspection POST, with the source's headers. POST answers carry no
// validators: every sync asks again, and unchanged SDL is caught by its hash.
func introspectionRequest(req fetch.Request) (fetch.Request, error) {
	req, err := fetch.PostJSON(req, map[string]string{"query": graphql.IntrospectionQuery, "operationName": "IntrospectionQuery"})
	if err != nil {
		return req, err
	}
	h := make(map[string]string, len(req.Headers)+1)
	h["Accept"] = "application/graphql-response+json, application/json;q=0.9"
	for k, v := range req.Headers {
		if strings.EqualFold(k, "Accept") {
			delete(h, "Accept") // the source's own wins
		}
		h[k] = v
	}
	req.Headers = h
	return req, nil
}

// StoredConflict is one conflict of a stored merge with its three values,
// as people review it.
type StoredConflict struct {
	Conflict
	Base   json.RawMessage `json:"base,omitempty"`
	Local  json.RawMessage `json:"local,omitempty"`
	Remote json.RawMessage `json:"remote,omitempty"`
}

// LoadConflicts reads every conflict of the merge stored under hash (what a
// waiting job's status names as ConflictsHash), with readable locations.
func LoadConflicts(ctx context.Context, st *store.Store, hash string) ([]StoredConflict, error) {
	var mr storedMerge
	if err := st.GetJSON(ctx, hash, &mr); err != nil {
		return nil, err
	}
	out := make([]StoredConflict, 0, len(mr.Conflicts))
	for _, c := range mr.Conflicts {
		out = append(out, StoredConflict{
			Conflict: Conflict{ID: c.ID, Pointer: c.Pointer, Kind: c.Kind, Location: mr.location(c.Pointer)},
			Base:     c.Base, Local: c.Local, Remote: c.Remote,
		})
	}
	return out, nil
}
