// Package diff reports what changed between two versions of an API spec and
// which changes break clients.
//
// libopenapi's what-changed does the comparison. This package gives each
// change an RFC 6901 pointer (recovered from libopenapi's line and column
// context), names the API object it concerns, and re-decides whether it is
// breaking from a Rules table, recording which rule decided.
package diff

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"github.com/apilivesync/apilivesync/internal/spec"
	"github.com/pb33f/go-yaml"
	whatchanged "github.com/pb33f/libopenapi/what-changed"
	"github.com/pb33f/libopenapi/what-changed/model"
)

// Change is one difference between two documents.
type Change struct {
	// Pointer is the RFC 6901 JSON pointer of what changed: in the new
	// document for added and modified, in the old one for removed.
	Pointer string `json:"pointer"`
	// Line and Column locate it in the same document (0 when unknown).
	Line   int `json:"line"`
	Column int `json:"column"`
	// Kind is added, removed or modified.
	Kind string `json:"kind"`
	// Object is the API object concerned (path, operation, parameter, ...).
	Object string `json:"object"`
	// Level is how much the change may hurt clients: LevelError (breaks
	// them), LevelWarning (may break some) or LevelInfo.
	Level string `json:"level"`
	// Breaking is Level == LevelError.
	Breaking bool `json:"breaking"`
	// Rule is the rule that decided Breaking, e.g. "response.removed", or
	// "libopenapi:<key>" where libopenapi's default verdict stands.
	Rule string `json:"rule"`
	Old  any    `json:"old"`
	New  any    `json:"new"`
}

// Report is the outcome of one Compare.
type Report struct {
	Changes   []Change `json:"changes"`
	Total     int      `json:"total"`
	Breaking  int      `json:"breaking"` // error-level changes
	Warnings  int      `json:"warnings"` // warning-level changes
	RuleSet   string   `json:"ruleSet"`
	OldFamily string   `json:"oldFamily"`
	NewFamily string   `json:"newFamily"`
}

// Levels of a change (Change.Level).
const (
	LevelError   = "error"   // breaks clients
	LevelWarning = "warning" // may break some clients
	LevelInfo    = "info"    // harmless
)

// FamilyMismatchError refuses to compare Swagger 2 with OpenAPI 3.
type FamilyMismatchError struct {
	Old, New             string
	OldFamily, NewFamily string
}

// Error says which documents and families, and what to do.
func (e *FamilyMismatchError) Error() string {
	return fmt.Sprintf("diff %q against %q: cannot diff %s against %s: convert one of them first",
		e.Old, e.New, e.OldFamily, e.NewFamily)
}

// Compare reports the changes from old to new. Documents keep their
// libopenapi model, so comparing a parsed Document again does not re-parse
// it. A nil rules means DefaultRules.
func Compare(old, new *spec.Document, rules *Rules) (*Report, error) {
	if rules == nil {
		rules = DefaultRules()
	}
	of, nf := old.Summary.Family, new.Summary.Family
	if (of == spec.FamilySwagger2) != (nf == spec.FamilySwagger2) {
		return nil, &FamilyMismatchError{Old: old.Source, New: new.Source, OldFamily: of, NewFamily: nf}
	}
	lo, err := old.Model()
	if err != nil {
		return nil, fmt.Errorf("diff %q against %q: %w", old.Source, new.Source, err)
	}
	ln, err := new.Model()
	if err != nil {
		return nil, fmt.Errorf("diff %q against %q: %w", old.Source, new.Source, err)
	}
	var dc *model.DocumentChanges
	if of == spec.FamilySwagger2 {
		mo, _ := lo.BuildV2Model() // built and cached by Model
		mn, _ := ln.BuildV2Model()
		dc = whatchanged.CompareSwaggerDocuments(mo.Model.GoLow(), mn.Model.GoLow())
	} else {
		mo, _ := lo.BuildV3Model()
		mn, _ := ln.BuildV3Model()
		dc = whatchanged.CompareOpenAPIDocuments(mo.Model.GoLow(), mn.Model.GoLow())
	}
	rep := &Report{Changes: []Change{}, RuleSet: rules.ID(), OldFamily: of, NewFamily: nf}
	if dc != nil {
		rep.Changes = convert(dc.GetAllChanges(), old.Root(), new.Root(), rules)
	}
	rep.Total = len(rep.Changes)
	for _, c := range rep.Changes {
		switch c.Level {
		case LevelError:
			rep.Breaking++
		case LevelWarning:
			rep.Warnings++
		}
	}
	return rep, nil
}

// side says which document a change is located in.
func side(c *model.Change) (useNew bool, p pos, ok bool) {
	ctx := c.Context
	if ctx == nil {
		return false, pos{}, false
	}
	if c.ChangeType != model.ObjectRemoved && c.ChangeType != model.PropertyRemoved && ctx.NewLine != nil {
		return true, pos{*ctx.NewLine, *ctx.NewColumn}, true
	}
	if ctx.OriginalLine != nil {
		return false, pos{*ctx.OriginalLine, *ctx.OriginalColumn}, true
	}
	if ctx.NewLine != nil {
		return true, pos{*ctx.NewLine, *ctx.NewColumn}, true
	}
	return false, pos{}, false
}

func kindOf(t int) string {
	switch t {
	case model.PropertyAdded, model.ObjectAdded:
		return KindAdded
	case model.PropertyRemoved, model.ObjectRemoved:
		return KindRemoved
	}
	return KindModified
}

func convert(lib []*model.Change, oldRoot, newRoot *yaml.Node, rules *Rules) []Change {
	oldLoc, newLoc := newLocator(oldRoot), newLocator(newRoot)
	for _, c := range lib {
		if c.Context != nil && c.Context.DocumentLocation != "" {
			continue // in another file: no pointer into this document
		}
		if useNew, p, ok := side(c); ok {
			if useNew {
				newLoc.request(p)
			} else {
				oldLoc.request(p)
			}
		}
	}
	oldLoc.index()
	newLoc.index()

	ign := rules.ignore
	out := make([]Change, 0, len(lib))
	seen := make(map[string]bool, len(lib))
	for _, c := range lib {
		kind := kindOf(c.ChangeType)
		value := c.New
		if kind == KindRemoved {
			value = c.Original
		}
		ch := Change{Kind: kind}
		var segs []string
		var node *yaml.Node
		if useNew, p, ok := side(c); ok && (c.Context.DocumentLocation == "") {
			loc := oldLoc
			if useNew {
				loc = newLoc
			}
			if s, n, found := loc.locate(p, c.Property, value); found {
				segs, node = s, n
				ch.Pointer = pointer(segs)
				ch.Line, ch.Column = p.line, p.col
			}
		}
		if segs == nil && c.Property != "" {
			// no position to go by: the property name is all libopenapi gives
			segs = []string{c.Property}
			ch.Pointer = ""
		}
		if (ign.Descriptions && isDescription(segs, c.Property)) ||
			(ign.Examples && isExample(segs, c.Property)) ||
			(ign.Extensions && isExtension(segs, c.Property)) {
			continue
		}
		object, root := classify(segs)
		if ch.Pointer == "" {
			object, root = ObjectOther, len(segs)
		}
		property := ""
		if root < len(segs) {
			property = segs[root]
		}
		ch.Object = object
		ch.Breaking, ch.Rule = rules.decide(object, property, kind, value, c.Breaking)
		ch.Level = LevelInfo
		if ch.Breaking {
			ch.Level = LevelError
		}
		switch kind {
		case KindRemoved:
			ch.Old, ch.New = typedValue(c.Original, node), typedValue(c.New, nil)
		case KindAdded:
			ch.Old, ch.New = typedValue(c.Original, nil), typedValue(c.New, node)
		default:
			ch.Old, ch.New = typedValue(c.Original, nodeAt(oldRoot, segs)), typedValue(c.New, node)
		}
		key := ch.Pointer + "\x00" + kind + "\x00" + c.Property + "\x00" + c.Original + "\x00" + c.New
		if seen[key] {
			continue // a component reached through several $refs is reported once
		}
		seen[key] = true
		out = append(out, ch)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Pointer != b.Pointer {
			return a.Pointer < b.Pointer
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return fmt.Sprint(a.Old, a.New) < fmt.Sprint(b.Old, b.New)
	})
	return out
}

// typedValue turns libopenapi's string into the JSON scalar the node holds
// (number, boolean, null), when the node is that scalar.
func typedValue(s string, node *yaml.Node) any {
	if s == "" {
		return nil
	}
	if node != nil && node.Kind == yaml.ScalarNode && node.Value == s {
		switch node.ShortTag() {
		case "!!int", "!!float":
			if jsonNumber(s) {
				return json.Number(s)
			}
		case "!!bool":
			return s == "true"
		}
	}
	return s
}

func jsonNumber(s string) bool {
	var n json.Number
	return json.Unmarshal([]byte(s), &n) == nil
}

// nodeAt follows segments from a document root (nil when absent).
func nodeAt(root *yaml.Node, segs []string) *yaml.Node {
	n := root
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, s := range segs {
		if n == nil {
			return nil
		}
		switch n.Kind {
		case yaml.MappingNode:
			n = mapValue(n, s)
		case yaml.SequenceNode:
			i, err := strconv.Atoi(s)
			if err != nil || i < 0 || i >= len(n.Content) {
				return nil
			}
			n = n.Content[i]
		default:
			return nil
		}
	}
	return n
}
