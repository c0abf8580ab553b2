package graphql

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/apilivesync/apilivesync/internal/jsonptr"
	"github.com/apilivesync/apilivesync/internal/merge"
)

// MergeResult is the outcome of Merge.
type MergeResult struct {
	// Result is internal/merge's result over the schema trees (see the
	// package comment): Result.Merged is tree JSON and conflict pointers
	// point into it. Decide conflicts with merge.Apply(Result, resolutions)
	// and turn the tree it returns into SDL with FromTree.
	Result *merge.Result
	// Merged is the canonical SDL of Result.Merged (local values at conflicts).
	Merged []byte
	// Coordinates maps each conflict pointer to the schema coordinate it
	// concerns (Type.field(arg:)), for people to read.
	Coordinates map[string]string
	// Invalid is set when Merged is not a valid schema (a local field uses a
	// type remote removed, ...). The merge itself succeeded; what to do is
	// the caller's decision (hold it for a person, typically).
	Invalid error
}

// Merge merges local and remote SDL (or introspection answers) against
// base three ways, by definition and field. base may be empty (first sync
// of a source into an existing API).
func Merge(base, local, remote []byte) (*MergeResult, error) {
	trees := make([][]byte, 3)
	for i, in := range []struct {
		name string
		data []byte
	}{{"base", base}, {"local", local}, {"remote", remote}} {
		if i == 0 && len(strings.TrimSpace(string(in.data))) == 0 {
			continue
		}
		d, err := Parse(in.name, in.data)
		if err != nil {
			return nil, fmt.Errorf("merge graphql: %w", err)
		}
		if trees[i], err = d.Tree(); err != nil {
			return nil, err
		}
	}
	res, err := merge.ThreeWay(trees[0], trees[1], trees[2], merge.Options{})
	if err != nil {
		return nil, fmt.Errorf("merge graphql: %w", err)
	}
	sdl, err := FromTree(res.Merged)
	if err != nil {
		return nil, err
	}
	out := &MergeResult{Result: res, Merged: sdl, Coordinates: make(map[string]string, len(res.Conflicts))}
	for _, c := range res.Conflicts {
		out.Coordinates[c.Pointer] = Coordinate(c.Pointer)
	}
	if _, err := Parse("merged", sdl); err != nil {
		out.Invalid = err
	}
	return out, nil
}

// Tree returns the document's merge tree as JSON.
func (d *Document) Tree() ([]byte, error) {
	b, err := json.Marshal(d.tree)
	if err != nil {
		return nil, fmt.Errorf("graphql schema %q: encode tree: %w", d.Source, err)
	}
	return b, nil
}

// FromTree prints a merge tree (Result.Merged, or what merge.Apply
// returns) as canonical SDL. It does not validate: Parse the SDL for that.
func FromTree(treeJSON []byte) ([]byte, error) {
	var t tree
	if err := json.Unmarshal(treeJSON, &t); err != nil {
		return nil, fmt.Errorf("graphql: read merge tree: %w", err)
	}
	for name, tn := range t.Types {
		if tn == nil {
			return nil, fmt.Errorf("graphql: merge tree: type %q is null", name)
		}
		if _, ok := kindOrder[tn.Kind]; !ok {
			return nil, fmt.Errorf("graphql: merge tree: type %q has unknown kind %q", name, tn.Kind)
		}
		for f, fn := range tn.Fields {
			if fn == nil || fn.Type == "" {
				return nil, fmt.Errorf("graphql: merge tree: field %s.%s has no type", name, f)
			}
		}
	}
	for name, d := range t.Directives {
		if d == nil {
			return nil, fmt.Errorf("graphql: merge tree: directive @%s is null", name)
		}
	}
	return t.print(), nil
}

// Coordinate turns a pointer into a merge tree into the schema coordinate
// it concerns: /types/User/fields/orders/args/first/type is
// "User.orders(first:)", /types/Status/values/ACTIVE is "Status.ACTIVE",
// /directives/auth is "@auth", /schema/query is "schema". A pointer it does
// not know is returned unchanged.
func Coordinate(pointer string) string {
	toks := jsonptr.Tokens(pointer)
	at := func(i int) string {
		if i < len(toks) {
			return toks[i]
		}
		return ""
	}
	switch at(0) {
	case "schema":
		return "schema"
	case "directives":
		if at(1) == "" {
			return pointer
		}
		c := "@" + at(1)
		if at(2) == "args" && at(3) != "" {
			c += "(" + at(3) + ":)"
		}
		return c
	case "types":
		if at(1) == "" {
			return pointer
		}
		c := at(1)
		switch at(2) {
		case "fields":
			if at(3) != "" {
				c += "." + at(3)
				if at(4) == "args" && at(5) != "" {
					c += "(" + at(5) + ":)"
				}
			}
		case "values":
			if at(3) != "" {
				c += "." + at(3)
			}
		}
		return c
	}
	return pointer
}
