// Package merge performs a structural three-way merge of API specs
// (OpenAPI 3.0/3.1, Swagger 2.0) for API Live Sync.
//
// The merge works on the document's JSON structure, not on its text:
// objects merge key by key, arrays that are really keyed sets (parameters,
// tags, servers, security requirements, required lists) merge by key, and
// every other array is an atomic value. A change made on one side only is
// taken; the same change made on both sides is taken once; everything else
// at one location is a Conflict. An unresolved conflict location holds the
// LOCAL value in Result.Merged, so nothing local is lost until somebody
// decides otherwise with Apply.
package merge

import (
	"encoding/json"
	"fmt"

	"github.com/apilivesync/apilivesync/internal/spec"
)

// Conflict kinds reported in Conflict.Kind.
const (
	// KindBothModified: base had a value and both sides changed it differently.
	KindBothModified = "both-modified"
	// KindModifyDelete: base had a value, one side deleted it and the other modified it.
	KindModifyDelete = "modify-delete"
	// KindBothAdded: base had no value and both sides added different values.
	KindBothAdded = "both-added"
)

// Conflict is one location where local and remote changed the same thing
// differently.
//
// A nil Base, Local or Remote means the value is absent at that location on
// that side; a JSON null is the literal `null`. Values are canonical compact
// JSON (sorted keys), so equal values have equal bytes.
type Conflict struct {
	// Pointer is the RFC 6901 JSON pointer of the location in Result.Merged.
	// For an array element that local deleted (so it is absent from Merged)
	// the index is len(array)+k, i.e. past the end of the merged array.
	Pointer string `json:"pointer"`
	// Kind is one of KindBothModified, KindModifyDelete, KindBothAdded.
	Kind string `json:"kind"`
	// Base is the value in the base document, nil if absent.
	Base json.RawMessage `json:"base,omitempty"`
	// Local is the value in the local document, nil if absent. Merged holds it.
	Local json.RawMessage `json:"local,omitempty"`
	// Remote is the value in the remote document, nil if absent.
	Remote json.RawMessage `json:"remote,omitempty"`
	// ID is a stable hash of the pointer, kind and the three values, so the
	// same conflict seen again has the same ID.
	ID string `json:"id"`
}

// Ownership says which parts of an API a source owns. A source only
// contributes what it owns; an empty Ownership owns everything.
//
// When any field is set, only the listed path items and components are
// owned; every other top-level member (info, servers, tags, ...) belongs to
// the API and is left as local has it.
type Ownership struct {
	// PathPrefixes owns every path whose key starts with one of these
	// (e.g. "/pets" owns "/pets" and "/pets/{id}").
	PathPrefixes []string `json:"pathPrefixes,omitempty"`
	// Paths owns these exact path keys.
	Paths []string `json:"paths,omitempty"`
	// Components owns components named "type/name" (e.g. "schemas/Pet").
	// A trailing "*" matches any suffix ("schemas/Pet*", "schemas/*").
	// Swagger 2.0 definitions, parameters, responses and securityDefinitions
	// are matched as schemas/, parameters/, responses/ and securitySchemes/.
	// OpenAPI 3.1 webhooks are matched as "webhooks/name".
	Components []string `json:"components,omitempty"`
}

// IsZero reports whether the ownership is empty, i.e. the source owns everything.
func (o Ownership) IsZero() bool {
	return len(o.PathPrefixes) == 0 && len(o.Paths) == 0 && len(o.Components) == 0
}

// Options tunes ThreeWay.
type Options struct {
	// Ownership limits what the remote source contributes.
	Ownership Ownership `json:"ownership,omitzero"`
}

// Result is the outcome of ThreeWay.
type Result struct {
	// Merged is the merged document as canonical JSON: sorted keys, 2-space
	// indent, trailing newline, no HTML escaping. Conflict locations hold
	// the local value.
	Merged json.RawMessage `json:"merged"`
	// Conflicts lists the unresolved conflicts in document order.
	Conflicts []Conflict `json:"conflicts,omitempty"`
	// AutoMerged counts remote changes applied to local without conflict.
	AutoMerged int `json:"autoMerged"`
	// Ignored lists JSON pointers of remote members outside the source's
	// Ownership that differ from local and were therefore not applied.
	Ignored []string `json:"ignored,omitempty"`
}

// InputError reports a document that could not be read.
type InputError struct {
	// Input is "base", "local" or "remote".
	Input string
	// Err is the parse error.
	Err error
}

// Error implements error.
func (e *InputError) Error() string {
	return fmt.Sprintf("merge: read %s document: %v", e.Input, e.Err)
}

// Unwrap returns the parse error.
func (e *InputError) Unwrap() error { return e.Err }

// ThreeWay merges local and remote against their common ancestor base.
// base may be nil or empty (first sync of a source into an existing API):
// then everything both sides have is treated as added by both.
// Inputs are JSON; YAML is accepted too.
func ThreeWay(base, local, remote []byte, opts Options) (*Result, error) {
	b, bok, err := decodeDoc(base)
	if err != nil {
		return nil, &InputError{Input: "base", Err: err}
	}
	l, lok, err := decodeDoc(local)
	if err != nil {
		return nil, &InputError{Input: "local", Err: err}
	}
	if !lok {
		return nil, &InputError{Input: "local", Err: errEmpty}
	}
	r, rok, err := decodeDoc(remote)
	if err != nil {
		return nil, &InputError{Input: "remote", Err: err}
	}
	if !rok {
		return nil, &InputError{Input: "remote", Err: errEmpty}
	}

	res := &Result{}
	if !opts.Ownership.IsZero() {
		lm, lIsObj := l.(map[string]any)
		rm, rIsObj := r.(map[string]any)
		if !lIsObj || !rIsObj {
			return nil, fmt.Errorf("merge: ownership needs object documents on both sides: %w", errNotObject)
		}
		bm, _ := b.(map[string]any)
		var nb map[string]any
		nb, r, res.Ignored = restrict(bm, lm, rm, newOwner(opts.Ownership))
		b, bok = nb, true
	}

	m := &merger{}
	out, ok := m.merge(b, l, r, bok, true, true, false)
	if !ok {
		// Unreachable: local is present, and a missing result needs local missing.
		return nil, fmt.Errorf("merge: merged document is empty")
	}
	res.Merged = spec.CanonicalJSON(out, true)
	res.Conflicts = m.conflicts
	res.AutoMerged = m.autoMerged
	return res, nil
}
