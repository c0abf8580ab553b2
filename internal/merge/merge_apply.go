package merge

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/apilivesync/apilivesync/internal/spec"
)

// Choice says which value a Resolution puts at a conflict location.
type Choice string

// The choices a Resolution can make.
const (
	// ChoiceRemote takes the remote value (absent remote deletes the location).
	ChoiceRemote Choice = "remote"
	// ChoiceLocal keeps the local value.
	ChoiceLocal Choice = "local"
	// ChoiceBase restores the base value (absent base deletes the location).
	ChoiceBase Choice = "base"
	// ChoiceValue puts Resolution.Value, e.g. a hand-edited combination.
	ChoiceValue Choice = "value"
)

// Strategies understood by Resolve.
const (
	// StrategyPreferRemote resolves every conflict with ChoiceRemote.
	StrategyPreferRemote = "prefer-remote"
	// StrategyPreferLocal resolves every conflict with ChoiceLocal.
	StrategyPreferLocal = "prefer-local"
)

// Resolution decides one conflict, named by its pointer.
type Resolution struct {
	// Pointer is the Conflict.Pointer this resolution decides.
	Pointer string `json:"pointer"`
	// Choice is the value to put there.
	Choice Choice `json:"choice"`
	// Value is the JSON value for ChoiceValue; unused otherwise.
	Value json.RawMessage `json:"value,omitempty"`
	// Strategy names the strategy that made the choice, if any.
	Strategy string `json:"strategy,omitempty"`
	// Reason says why, for the version's record.
	Reason string `json:"reason,omitempty"`
}

// ResolutionError reports a resolution that cannot be applied.
type ResolutionError struct {
	// Pointer is the conflict or resolution pointer concerned.
	Pointer string
	// Problem says what is wrong.
	Problem string
}

// Error implements error.
func (e *ResolutionError) Error() string {
	return fmt.Sprintf("merge: resolution for %q: %s", e.Pointer, e.Problem)
}

// ValidateResolutions checks that every conflict has exactly one resolution,
// that every resolution names a conflict, and that every choice is valid.
// All problems are returned joined; each is a *ResolutionError.
func ValidateResolutions(conflicts []Conflict, resolutions []Resolution) error {
	known := make(map[string]bool, len(conflicts))
	for _, c := range conflicts {
		known[c.Pointer] = true
	}
	var errs []error
	seen := make(map[string]bool, len(resolutions))
	for _, r := range resolutions {
		switch {
		case !known[r.Pointer]:
			errs = append(errs, &ResolutionError{Pointer: r.Pointer, Problem: "no conflict at this pointer"})
			continue
		case seen[r.Pointer]:
			errs = append(errs, &ResolutionError{Pointer: r.Pointer, Problem: "more than one resolution"})
			continue
		}
		seen[r.Pointer] = true
		switch r.Choice {
		case ChoiceRemote, ChoiceLocal, ChoiceBase:
		case ChoiceValue:
			if len(r.Value) == 0 {
				errs = append(errs, &ResolutionError{Pointer: r.Pointer, Problem: `choice "value" needs a value`})
			} else if !json.Valid(r.Value) {
				errs = append(errs, &ResolutionError{Pointer: r.Pointer, Problem: "value is not valid JSON"})
			}
		default:
			errs = append(errs, &ResolutionError{Pointer: r.Pointer, Problem: fmt.Sprintf("unknown choice %q (want remote, local, base or value)", r.Choice)})
		}
	}
	for _, c := range conflicts {
		if !seen[c.Pointer] {
			errs = append(errs, &ResolutionError{Pointer: c.Pointer, Problem: "conflict has no resolution"})
		}
	}
	return errors.Join(errs...)
}

// Resolve decides every conflict mechanically with the named strategy
// (StrategyPreferRemote or StrategyPreferLocal).
func Resolve(conflicts []Conflict, strategy string) ([]Resolution, error) {
	var choice Choice
	switch strategy {
	case StrategyPreferRemote:
		choice = ChoiceRemote
	case StrategyPreferLocal:
		choice = ChoiceLocal
	default:
		return nil, fmt.Errorf("merge: unknown strategy %q (want %s or %s)", strategy, StrategyPreferRemote, StrategyPreferLocal)
	}
	out := make([]Resolution, 0, len(conflicts))
	for _, c := range conflicts {
		out = append(out, Resolution{Pointer: c.Pointer, Choice: choice, Strategy: strategy})
	}
	return out, nil
}

// Apply puts the chosen values at the conflict locations of res.Merged and
// returns the resolved document as canonical JSON. Nothing outside the
// conflict locations changes. Every conflict needs exactly one resolution
// (see ValidateResolutions).
func Apply(res *Result, resolutions []Resolution) ([]byte, error) {
	if res == nil {
		return nil, errors.New("merge: apply: nil result")
	}
	if err := ValidateResolutions(res.Conflicts, resolutions); err != nil {
		return nil, err
	}
	doc, ok, err := decodeDoc(res.Merged)
	if err != nil || !ok {
		return nil, fmt.Errorf("merge: apply: read merged document: %w", errors.Join(err, errEmptyIf(!ok)))
	}
	byPointer := make(map[string]Resolution, len(resolutions))
	for _, r := range resolutions {
		byPointer[r.Pointer] = r
	}

	type edit struct {
		tokens []string
		val    any
		ok     bool
		append bool // the location is past the end of its array
		ptr    string
	}
	edits := make([]edit, 0, len(res.Conflicts))
	for _, c := range res.Conflicts {
		r := byPointer[c.Pointer]
		raw := chosen(c, r)
		var v any
		ok := raw != nil
		if ok {
			if v, err = decodeJSON(raw); err != nil {
				return nil, &ResolutionError{Pointer: c.Pointer, Problem: fmt.Sprintf("read %s value: %v", r.Choice, err)}
			}
		}
		tokens, err := parsePointer(c.Pointer)
		if err != nil {
			return nil, &ResolutionError{Pointer: c.Pointer, Problem: err.Error()}
		}
		cur, curOK, isAppend, err := lookup(doc, tokens)
		if err != nil {
			return nil, &ResolutionError{Pointer: c.Pointer, Problem: err.Error()}
		}
		// The merged document must still hold local's value there.
		var local any
		if c.Local != nil {
			if local, err = decodeJSON(c.Local); err != nil {
				return nil, &ResolutionError{Pointer: c.Pointer, Problem: fmt.Sprintf("read local value: %v", err)}
			}
		}
		if !sameValue(cur, local, curOK, c.Local != nil) {
			return nil, &ResolutionError{Pointer: c.Pointer, Problem: "merged document does not hold the local value here (was it edited?)"}
		}
		edits = append(edits, edit{tokens: tokens, val: v, ok: ok, append: isAppend, ptr: c.Pointer})
	}

	// Appends go first, in index order, so they land at the ends of their
	// arrays; then the other edits from the last location to the first, so
	// deleting an array element never shifts a location still to be edited.
	slices.SortStableFunc(edits, func(a, b edit) int {
		if a.append != b.append {
			if a.append {
				return -1
			}
			return 1
		}
		if a.append {
			return comparePointers(a.tokens, b.tokens)
		}
		return -comparePointers(a.tokens, b.tokens)
	})
	for _, e := range edits {
		if e.append && !e.ok {
			continue
		}
		if doc, err = set(doc, e.tokens, e.val, e.ok); err != nil {
			return nil, &ResolutionError{Pointer: e.ptr, Problem: err.Error()}
		}
	}
	return spec.CanonicalJSON(doc, true), nil
}

func errEmptyIf(b bool) error {
	if b {
		return errEmpty
	}
	return nil
}

// chosen returns the raw value a resolution picks; nil means absent.
func chosen(c Conflict, r Resolution) json.RawMessage {
	switch r.Choice {
	case ChoiceRemote:
		return c.Remote
	case ChoiceLocal:
		return c.Local
	case ChoiceBase:
		return c.Base
	default:
		return r.Value
	}
}

// comparePointers orders token lists, numeric tokens by number.
func comparePointers(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] == b[i] {
			continue
		}
		ai, aerr := strconv.Atoi(a[i])
		bi, berr := strconv.Atoi(b[i])
		if aerr == nil && berr == nil {
			return ai - bi
		}
		if a[i] < b[i] {
			return -1
		}
		return 1
	}
	return len(a) - len(b)
}

// lookup finds the value at tokens. ok is false if the location is absent;
// isAppend is set when it is an index at or past the end of an array.
func lookup(doc any, tokens []string) (v any, ok, isAppend bool, err error) {
	cur := doc
	for i, t := range tokens {
		last := i == len(tokens)-1
		switch c := cur.(type) {
		case map[string]any:
			v, has := c[t]
			if !has {
				if last {
					return nil, false, false, nil
				}
				return nil, false, false, fmt.Errorf("no member %q in the merged document", t)
			}
			cur = v
		case []any:
			idx, err := strconv.Atoi(t)
			if err != nil || idx < 0 {
				return nil, false, false, fmt.Errorf("bad array index %q", t)
			}
			if idx >= len(c) {
				if last {
					return nil, false, true, nil
				}
				return nil, false, false, fmt.Errorf("array index %d out of range", idx)
			}
			cur = c[idx]
		default:
			return nil, false, false, fmt.Errorf("cannot descend into a scalar at %q", t)
		}
	}
	return cur, true, false, nil
}

// set puts v at tokens (or deletes the location when ok is false) and
// returns the possibly new root. Indices at or past the end of an array append.
func set(doc any, tokens []string, v any, ok bool) (any, error) {
	if len(tokens) == 0 {
		if !ok {
			return nil, errors.New("cannot delete the whole document")
		}
		return v, nil
	}
	t := tokens[0]
	switch c := doc.(type) {
	case map[string]any:
		if len(tokens) == 1 {
			if ok {
				c[t] = v
			} else {
				delete(c, t)
			}
			return c, nil
		}
		child, has := c[t]
		if !has {
			return nil, fmt.Errorf("no member %q in the merged document", t)
		}
		nc, err := set(child, tokens[1:], v, ok)
		if err != nil {
			return nil, err
		}
		c[t] = nc
		return c, nil
	case []any:
		idx, err := strconv.Atoi(t)
		if err != nil || idx < 0 {
			return nil, fmt.Errorf("bad array index %q", t)
		}
		if len(tokens) == 1 {
			switch {
			case idx >= len(c):
				if ok {
					c = append(c, v)
				}
			case ok:
				c[idx] = v
			default:
				c = slices.Delete(c, idx, idx+1)
			}
			return c, nil
		}
		if idx >= len(c) {
			return nil, fmt.Errorf("array index %d out of range", idx)
		}
		nc, err := set(c[idx], tokens[1:], v, ok)
		if err != nil {
			return nil, err
		}
		c[idx] = nc
		return c, nil
	}
	return nil, fmt.Errorf("cannot descend into a scalar at %q", t)
}
