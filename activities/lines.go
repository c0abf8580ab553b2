package activities

import (
	"context"
	"strings"

	"github.com/apilivesync/apilivesync/internal/spec"
	"github.com/apilivesync/apilivesync/internal/store"
)

// Reports give line numbers, and people read them against their own file:
// the body a source served, the file they pushed. The store keeps documents
// in canonical form (sorted keys, pretty-printed), whose lines are nobody's.
// So when a document is stored from someone's bytes, the store also keeps
// those bytes and a note "document → the bytes it was parsed from", and a
// stored document is read back from them: every report on it (the sync's
// diff, `starter show`, `diff API@N API@M`, push, rejudge) then points at
// the same lines of the same file. A merged document has no such bytes and
// keeps the canonical form's lines.

type lineSource struct {
	Raw string `json:"raw"`
}

func lineSourceKey(docHash string) string {
	return "lines/" + strings.TrimPrefix(docHash, "sha256:")
}

// RecordLineSource notes that the stored document docHash was parsed from
// the stored bytes rawHash. Nothing is noted when they are the same bytes.
func RecordLineSource(ctx context.Context, st *store.Store, docHash, rawHash string) error {
	if docHash == rawHash || rawHash == "" {
		return nil
	}
	return st.PutKey(ctx, lineSourceKey(docHash), lineSource{Raw: rawHash})
}

// StoredDocument parses the stored OpenAPI document hash (its canonical
// bytes, when the caller has read them already, in canonical) from the
// bytes it was parsed from, when the store has them and they still parse
// to exactly this document, and from its canonical form otherwise.
func StoredDocument(ctx context.Context, st *store.Store, hash string, canonical []byte, opts spec.Options) (*spec.Document, error) {
	if doc := fromLineSource(ctx, st, hash, opts); doc != nil {
		return doc, nil
	}
	if canonical == nil {
		var err error
		if canonical, err = st.GetBlob(ctx, hash); err != nil {
			return nil, err
		}
	}
	return spec.Parse(hash, canonical, opts)
}

// fromLineSource is the document parsed from its source's bytes, or nil
// (no note, the bytes are gone, or they no longer parse to this document:
// multi-file specs whose references were resolved at the source, or a
// parser that changed since).
func fromLineSource(ctx context.Context, st *store.Store, hash string, opts spec.Options) *spec.Document {
	var ls lineSource
	if err := st.GetKey(ctx, lineSourceKey(hash), &ls); err != nil {
		return nil
	}
	raw, err := st.GetBlob(ctx, ls.Raw)
	if err != nil {
		return nil
	}
	opts.SkipCanonical = false
	doc, err := spec.Parse(hash, raw, opts)
	if err != nil || store.Hash(doc.Canonical) != hash {
		return nil
	}
	return doc
}
