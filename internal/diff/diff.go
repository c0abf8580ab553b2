// Package diff reports what changed between two versions of an API spec and
// which changes break clients.
//
// It walks both documents through libopenapi's high-level model (Swagger 2
// and OpenAPI 3 alike), and judges every difference by a rule of its own
// catalogue (Catalogue, docs/RULES.md) that knows which way the data flows:
// what the server reads (parameters, request bodies) breaks clients when it
// narrows; what clients read (responses) when it widens. Each change has an
// RFC 6901 pointer, a line, a level (error, warning, info) and its rule; a
// rules file may change levels, and its identity is on every Report.
package diff

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/apilivesync/apilivesync/internal/spec"
	"github.com/pb33f/go-yaml"
	"github.com/pb33f/libopenapi"
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
	// Rule is the catalogue rule that judged the change
	// ("request-property-became-required"; see Catalogue).
	Rule string `json:"rule"`
	// Direction is who reads the data: "request" (the server),
	// "response" (clients), "request,response" for a schema used in both,
	// empty for API structure, security, servers and metadata.
	Direction string `json:"direction,omitempty"`
	// Message explains the rule in one line.
	Message string `json:"message"`
	Old     any    `json:"old"`
	New     any    `json:"new"`
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
	// LevelOff, in a rules file, drops a rule's findings.
	LevelOff = "off"
)

// Compare reports the changes from old to new. Documents keep their
// libopenapi model, so comparing a parsed Document again does not re-parse
// it. A nil rules means DefaultRules.
func Compare(old, new *spec.Document, rules *Rules) (*Report, error) {
	if rules == nil {
		rules = DefaultRules()
	}
	of, nf := old.Summary.Family, new.Summary.Family
	lo, err := old.Model()
	if err != nil {
		return nil, fmt.Errorf("diff %q against %q: %w", old.Source, new.Source, err)
	}
	ln, err := new.Model()
	if err != nil {
		return nil, fmt.Errorf("diff %q against %q: %w", old.Source, new.Source, err)
	}
	ao, err := apiOf(old, lo)
	if err != nil {
		return nil, fmt.Errorf("diff %q against %q: %w", old.Source, new.Source, err)
	}
	an, err := apiOf(new, ln)
	if err != nil {
		return nil, fmt.Errorf("diff %q against %q: %w", old.Source, new.Source, err)
	}
	w := newWalker(old.Root(), new.Root())
	if err := w.walk(ao, an); err != nil {
		return nil, fmt.Errorf("diff %q against %q: %w", old.Source, new.Source, err)
	}
	rep := &Report{Changes: w.changes(rules, old.Root(), new.Root()), RuleSet: rules.ID(), OldFamily: of, NewFamily: nf}
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

// walk compares the models; a model libopenapi left inconsistent is
// reported as an error rather than taking the process down.
func (w *walker) walk(o, n *api) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("comparing the models failed: %v (please report this pair)", r)
		}
	}()
	w.api(o, n)
	return nil
}

func levelRank(l string) int {
	switch l {
	case LevelError:
		return 3
	case LevelWarning:
		return 2
	case LevelInfo:
		return 1
	}
	return 0
}

// changes judges the findings under rules and merges those at one place:
// a schema used in requests and responses is reported once, at the
// stricter level, naming both directions.
func (w *walker) changes(rules *Rules, oldRoot, newRoot *yaml.Node) []Change {
	out := make([]Change, 0, len(w.findings))
	at := make(map[string]int, len(w.findings))
	var loc locator
	dirs := make([]direction, 0, len(w.findings))
	for _, f := range w.findings {
		if (rules.ignore.Descriptions && f.rule == rDescriptionChanged) ||
			(rules.ignore.Examples && f.rule == rExampleChanged) ||
			(rules.ignore.Extensions && f.rule == rExtensionChanged) {
			continue
		}
		object, root := classify(f.segs)
		property := ""
		if root < len(f.segs) {
			property = f.segs[root]
		}
		value := f.new
		if f.kind == KindRemoved {
			value = f.old
		}
		level := rules.level(f.rule, object, property, f.kind, value)
		if level == LevelOff {
			continue
		}
		if f.soft && level != LevelInfo {
			level = LevelInfo
		}
		ch := Change{Pointer: pointer(f.segs), Kind: f.kind, Object: object, Level: level,
			Breaking: level == LevelError, Rule: f.rule.ID, Message: f.rule.Summary, Old: f.old, New: f.new}
		key := ch.Pointer + "\x00" + ch.Kind + "\x00" + fmt.Sprint(ch.Old) + "\x00" + fmt.Sprint(ch.New)
		if i, ok := at[key]; ok {
			dirs[i] |= f.dir
			if levelRank(level) > levelRank(out[i].Level) {
				out[i].Level, out[i].Breaking, out[i].Rule, out[i].Message = ch.Level, ch.Breaking, ch.Rule, ch.Message
			}
			continue
		}
		root2 := newRoot
		if f.kind == KindRemoved {
			root2 = oldRoot
		}
		ch.Line, ch.Column = loc.position(root2, f.segs)
		at[key] = len(out)
		out = append(out, ch)
		dirs = append(dirs, f.dir)
	}
	for i := range out {
		switch dirs[i] {
		case dirRequest:
			out[i].Direction = DirectionRequest
		case dirResponse:
			out[i].Direction = DirectionResponse
		case dirRequest | dirResponse:
			out[i].Direction = DirectionRequest + "," + DirectionResponse
		}
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

// apiOf maps a document's model onto what the walker compares: Swagger 2
// and OpenAPI 3 alike, so a document that moved from one to the other
// diffs too.
func apiOf(d *spec.Document, m libopenapi.Document) (*api, error) {
	if d.Summary.Family == spec.FamilySwagger2 {
		mv, _ := m.BuildV2Model() // built and cached by Model
		if mv == nil {
			return nil, errors.New("no Swagger 2 model")
		}
		return fromV2(&mv.Model, d.Root()), nil
	}
	mv, _ := m.BuildV3Model()
	if mv == nil {
		return nil, errors.New("no OpenAPI 3 model")
	}
	return fromV3(&mv.Model, d.Root()), nil
}
