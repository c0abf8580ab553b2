package postman

import (
	"fmt"
	"strings"

	"github.com/apilivesync/apilivesync/internal/jsonptr"
	"github.com/apilivesync/apilivesync/internal/merge"
)

// MergeResult is the outcome of Merge.
type MergeResult struct {
	// Result is internal/merge's result over the canonical forms: its
	// Merged is canonical JSON (local values at conflicts) that Parse
	// accepts, and merge.Apply(Result, resolutions) returns canonical JSON too.
	Result *merge.Result
	// Merged is the canonical JSON of Result.Merged.
	Merged []byte
	// Locations maps each conflict pointer to the request or folder path
	// and field it concerns ("/Users/Get user#method").
	Locations map[string]string
}

// Merge merges local and remote collections (as exported, or canonical)
// against base three ways, by request. base may be empty.
func Merge(base, local, remote []byte) (*MergeResult, error) {
	canon := make([][]byte, 3)
	for i, in := range []struct {
		name string
		data []byte
	}{{"base", base}, {"local", local}, {"remote", remote}} {
		if i == 0 && len(strings.TrimSpace(string(in.data))) == 0 {
			continue
		}
		d, err := Parse(in.name, in.data)
		if err != nil {
			return nil, fmt.Errorf("merge postman: %w", err)
		}
		canon[i] = d.Canonical
	}
	res, err := merge.ThreeWay(canon[0], canon[1], canon[2], merge.Options{})
	if err != nil {
		return nil, fmt.Errorf("merge postman: %w", err)
	}
	merged, err := Parse("merged", res.Merged)
	if err != nil {
		return nil, err
	}
	out := &MergeResult{Result: res, Merged: merged.Canonical, Locations: make(map[string]string, len(res.Conflicts))}
	for _, c := range res.Conflicts {
		out.Locations[c.Pointer] = Location(c.Pointer)
	}
	return out, nil
}

// Location turns a pointer into the canonical form into a request or
// folder path and field: /requests/~1Users~1Get user/method is
// "/Users/Get user#method", /variable/baseUrl is "/#variable/baseUrl".
func Location(pointer string) string {
	toks := jsonptr.Tokens(pointer)
	if len(toks) >= 2 && (toks[0] == "requests" || toks[0] == "folders") {
		loc := toks[1]
		if len(toks) > 2 {
			loc += "#" + strings.Join(toks[2:], "/")
		}
		return loc
	}
	if len(toks) == 0 || toks[0] == "" {
		return "/"
	}
	return "/#" + strings.Join(toks, "/")
}
