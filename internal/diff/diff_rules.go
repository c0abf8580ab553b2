package diff

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// LibOpenAPIVersion is the libopenapi release whose model the rules walk;
// it is part of every custom rule set's identity.
const LibOpenAPIVersion = "v0.42.4"

// VerdictLibOpenAPI, as a value in the legacy `rules:` table, leaves the
// verdict to the catalogue (it once meant libopenapi's own verdict).
const VerdictLibOpenAPI = "libopenapi"

// Ignore drops whole classes of change from a report.
type Ignore struct {
	Descriptions bool `json:"descriptions" yaml:"descriptions"`
	Examples     bool `json:"examples" yaml:"examples"`
	Extensions   bool `json:"extensions" yaml:"extensions"`
}

// Rules decide the level of each change. Every change is judged by a rule
// of the catalogue (Catalogue) at its default level, unless the rules file
// sets it:
//
//	extends: default        # or none: every rule starts at info
//	ignore: {descriptions: true, examples: true, extensions: true}
//	levels:
//	  response-enum-value-added: error
//	  request-parameter-removed: off
//	rules:                  # the older form, keyed by object and kind
//	  path: {removed: true} # true: error, false: info
//	  parameter:
//	    required: {added=true: true}
//
// `levels` wins over `rules`. Rules are immutable once built and safe for
// concurrent use.
type Rules struct {
	name   string
	none   bool
	levels map[string]string
	table  map[string]bool
	ignore Ignore
	id     string
}

// rulesFile is the YAML form.
type rulesFile struct {
	Extends string            `yaml:"extends"`
	Ignore  Ignore            `yaml:"ignore"`
	Levels  map[string]string `yaml:"levels"`
	Rules   yaml.Node         `yaml:"rules"`
}

var defaultRules = newRules("default", false, nil, nil, Ignore{})

// DefaultRules returns the built-in rule set, identified as
// "default@catalogue-<hash of the catalogue's rules and levels>".
func DefaultRules() *Rules { return defaultRules }

func newRules(name string, none bool, levels map[string]string, table map[string]bool, ignore Ignore) *Rules {
	r := &Rules{name: name, none: none, levels: levels, table: table, ignore: ignore}
	canon, _ := json.Marshal(struct {
		None       bool              `json:"none,omitempty"`
		Levels     map[string]string `json:"levels,omitempty"`
		Table      map[string]bool   `json:"table,omitempty"`
		Ignore     Ignore            `json:"ignore"`
		Catalogue  string            `json:"catalogue"`
		LibOpenAPI string            `json:"libopenapi"`
	}{none, levels, table, ignore, catalogueHash(), LibOpenAPIVersion})
	sum := sha256.Sum256(canon)
	r.id = "sha256:" + hex.EncodeToString(sum[:])
	return r
}

// ID is the stable identity of the rule set: "default@catalogue-<hash>" for
// the built-in set, otherwise "sha256:<hex>" of its canonical content. Two
// files with the same rules share an ID whatever their layout; any change
// of a level changes it.
func (r *Rules) ID() string {
	if r.id == defaultRules.id {
		return "default@catalogue-" + catalogueHash()
	}
	return r.id
}

// Level is the level a rule reports at under these rules (LevelOff when
// turned off), or "" for an unknown rule.
func (r *Rules) Level(ruleID string) string {
	ru := ruleByID[ruleID]
	if ru == nil {
		return ""
	}
	if l, ok := r.levels[ruleID]; ok {
		return l
	}
	if r.none {
		return LevelInfo
	}
	return ru.Level
}

// Name is where the rules came from (a file name or "default").
func (r *Rules) Name() string { return r.name }

// Ignored reports which classes of change the rules drop.
func (r *Rules) Ignored() Ignore { return r.ignore }

// LoadRules reads a rules file. Errors name the file, line and field.
func LoadRules(path string) (*Rules, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("rules %q: %w", path, err)
	}
	return ParseRules(path, data)
}

// RulesError is a problem in a rules file.
type RulesError struct {
	Name  string
	Line  int
	Field string
	Msg   string
}

// Error renders `rules "strict.yaml": line 4: rules.parameter.removd: ...`.
func (e *RulesError) Error() string {
	s := fmt.Sprintf("rules %q: ", e.Name)
	if e.Line > 0 {
		s += fmt.Sprintf("line %d: ", e.Line)
	}
	if e.Field != "" {
		s += e.Field + ": "
	}
	return s + e.Msg
}

// ParseRules parses rules YAML; name labels errors.
func ParseRules(name string, data []byte) (*Rules, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line, _ := yamlErrLine(err.Error())
		return nil, &RulesError{Name: name, Line: line, Msg: err.Error()}
	}
	var f rulesFile
	if len(doc.Content) > 0 {
		top := doc.Content[0]
		if top.Kind != yaml.MappingNode {
			return nil, &RulesError{Name: name, Line: top.Line, Msg: "expected a mapping with extends, ignore, levels and rules"}
		}
		for i := 0; i+1 < len(top.Content); i += 2 {
			switch k := top.Content[i]; k.Value {
			case "extends", "ignore", "levels", "rules":
			default:
				return nil, &RulesError{Name: name, Line: k.Line, Field: k.Value, Msg: "unknown field (want extends, ignore, levels or rules)"}
			}
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&f); err != nil {
			line, _ := yamlErrLine(err.Error())
			return nil, &RulesError{Name: name, Line: line, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
		}
	}
	none := false
	switch f.Extends {
	case "", "default":
	case "none":
		none = true
	default:
		return nil, &RulesError{Name: name, Field: "extends", Msg: fmt.Sprintf("%q is not default or none", f.Extends)}
	}
	table := map[string]bool{}
	if err := readRuleTree(name, &f.Rules, table); err != nil {
		return nil, err
	}
	if len(table) == 0 {
		table = nil
	}
	for id, lvl := range f.Levels {
		if ruleByID[id] == nil {
			return nil, &RulesError{Name: name, Line: levelLine(&doc, id), Field: "levels." + id, Msg: "unknown rule (see `starter rules` or docs/RULES.md)"}
		}
		switch lvl {
		case LevelError, LevelWarning, LevelInfo, LevelOff:
		default:
			return nil, &RulesError{Name: name, Line: levelLine(&doc, id), Field: "levels." + id, Msg: fmt.Sprintf("%q is not error, warning, info or off", lvl)}
		}
	}
	levels := f.Levels
	if len(levels) == 0 {
		levels = nil
	}
	return newRules(name, none, levels, table, f.Ignore), nil
}

// levelLine finds the line of levels.<id> in a parsed rules file.
func levelLine(doc *yaml.Node, id string) int {
	if len(doc.Content) == 0 {
		return 0
	}
	top := doc.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value == "levels" {
			m := top.Content[i+1]
			for j := 0; j+1 < len(m.Content); j += 2 {
				if m.Content[j].Value == id {
					return m.Content[j].Line
				}
			}
		}
	}
	return 0
}

func readRuleTree(name string, n *yaml.Node, table map[string]bool) error {
	if n.Kind == 0 {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return &RulesError{Name: name, Line: n.Line, Field: "rules", Msg: "expected a mapping of objects"}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		field := "rules." + k.Value
		if !knownObjects[k.Value] {
			return &RulesError{Name: name, Line: k.Line, Field: field, Msg: "unknown object (want one of " + strings.Join(sortedKeys(knownObjects), ", ") + ")"}
		}
		if v.Kind != yaml.MappingNode {
			return &RulesError{Name: name, Line: v.Line, Field: field, Msg: "expected a mapping of kinds (added, removed, modified) or properties"}
		}
		for j := 0; j+1 < len(v.Content); j += 2 {
			pk, pv := v.Content[j], v.Content[j+1]
			if isKindKey(pk.Value) {
				if err := setRule(name, table, k.Value+"."+pk.Value, field+"."+pk.Value, pv); err != nil {
					return err
				}
				continue
			}
			pfield := field + "." + pk.Value
			if pv.Kind != yaml.MappingNode {
				return &RulesError{Name: name, Line: pk.Line, Field: pfield, Msg: "not a kind (added, removed, modified, optionally =value); a property needs a mapping of kinds"}
			}
			for m := 0; m+1 < len(pv.Content); m += 2 {
				kk, kv := pv.Content[m], pv.Content[m+1]
				if !isKindKey(kk.Value) {
					return &RulesError{Name: name, Line: kk.Line, Field: pfield + "." + kk.Value, Msg: "unknown kind (want added, removed or modified, optionally =value)"}
				}
				if err := setRule(name, table, k.Value+"."+pk.Value+"."+kk.Value, pfield+"."+kk.Value, kv); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func isKindKey(s string) bool {
	kind, _, _ := strings.Cut(s, "=")
	return kind == KindAdded || kind == KindRemoved || kind == KindModified
}

func setRule(name string, table map[string]bool, key, field string, v *yaml.Node) error {
	if v.Kind == yaml.ScalarNode {
		switch v.Value {
		case "true":
			table[key] = true
			return nil
		case "false":
			table[key] = false
			return nil
		case VerdictLibOpenAPI:
			delete(table, key)
			return nil
		}
	}
	return &RulesError{Name: name, Line: v.Line, Field: field, Msg: fmt.Sprintf("%q is not true, false or %s", v.Value, VerdictLibOpenAPI)}
}

func yamlErrLine(msg string) (int, bool) {
	var line int
	if i := strings.Index(msg, "line "); i >= 0 {
		if _, err := fmt.Sscanf(msg[i:], "line %d", &line); err == nil {
			return line, true
		}
	}
	return 0, false
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// level judges one finding: the rules file's level for its rule, else a
// matching entry of the older object table, else the rule's default.
func (r *Rules) level(ru *rule, object, property, kind string, value any) string {
	if l, ok := r.levels[ru.ID]; ok {
		return l
	}
	if len(r.table) > 0 {
		v := ""
		if value != nil {
			v = fmt.Sprint(value)
		}
		var keys []string
		if property == "" {
			keys = []string{object + "." + kind + "=" + v, object + "." + kind}
		} else {
			keys = []string{object + "." + property + "." + kind + "=" + v, object + "." + property + "." + kind}
			if object == ObjectSchemaProperty { // a property is a schema too
				keys = append(keys, "schema."+property+"."+kind+"="+v, "schema."+property+"."+kind)
			}
			keys = append(keys, object+".*."+kind)
		}
		for _, k := range keys {
			if b, ok := r.table[k]; ok {
				if b {
					return LevelError
				}
				return LevelInfo
			}
		}
	}
	if r.none {
		return LevelInfo
	}
	return ru.Level
}
