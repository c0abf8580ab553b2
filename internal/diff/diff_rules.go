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

// LibOpenAPIVersion is the libopenapi release whose default verdicts fill the
// gaps of a rule set; it is part of every rule set's identity.
const LibOpenAPIVersion = "v0.42.4"

// VerdictLibOpenAPI, as a rule value, defers to libopenapi's own verdict.
const VerdictLibOpenAPI = "libopenapi"

// Ignore drops whole classes of change from a report.
type Ignore struct {
	Descriptions bool `json:"descriptions" yaml:"descriptions"`
	Examples     bool `json:"examples" yaml:"examples"`
	Extensions   bool `json:"extensions" yaml:"extensions"`
}

// Rules decide which changes are breaking. A rule is keyed
// `<object>.<kind>` (the object itself added, removed or replaced) or
// `<object>.<property>.<kind>` (one property of it; `*` matches any), and a
// kind may carry the value it applies to (`required.added=true`). Changes no
// rule covers keep libopenapi's verdict, and say so in Change.Rule.
//
// Rules are immutable once built and safe for concurrent use. libopenapi's
// own process-global breaking-rules config is never modified: verdicts are
// re-decided per change from this table.
type Rules struct {
	name   string
	table  map[string]bool
	ignore Ignore
	id     string
}

// rulesFile is the YAML form:
//
//	extends: default        # or none
//	ignore: {descriptions: true, examples: true, extensions: true}
//	rules:
//	  path: {removed: true, added: false}
//	  parameter:
//	    removed: true
//	    required: {added=true: true}
//	  schema:
//	    type: {modified: libopenapi}
type rulesFile struct {
	Extends string    `yaml:"extends"`
	Ignore  Ignore    `yaml:"ignore"`
	Rules   yaml.Node `yaml:"rules"`
}

// defaultTable holds our verdicts where we state one; everything else is
// libopenapi's. Entries marked "departs" differ from libopenapi's default.
var defaultTable = map[string]bool{
	"path.added":             false,
	"path.removed":           true,
	"operation.added":        false,
	"operation.removed":      true,
	"parameter.removed":      true,
	"response.added":         false,
	"response.removed":       true,
	"requestBody.added":      true, // departs: a new request body is one clients do not send
	"schema.added":           false,
	"schemaProperty.added":   false,
	"schemaProperty.removed": true,
	// departs: libopenapi counts `required: true` appearing on a parameter as
	// a harmless added property; clients that omit the parameter now fail.
	"parameter.required.added=true":       true,
	"parameter.required.modified=true":    true,
	"parameter.required.modified=false":   false,
	"requestBody.required.added=true":     true,
	"requestBody.required.modified=true":  true,
	"requestBody.required.modified=false": false,
	// departs: metadata never breaks a client
	"info.*.added":               false,
	"info.*.removed":             false,
	"info.*.modified":            false,
	"tag.added":                  false,
	"tag.removed":                false,
	"tag.*.added":                false,
	"tag.*.removed":              false,
	"tag.*.modified":             false,
	"operation.summary.modified": false,
	"operation.tags.added":       false,
	"operation.tags.removed":     false,
	"operation.tags.modified":    false,
	"operation.deprecated.added": false,
}

var defaultRules = newRules("default", defaultTable, Ignore{})

// DefaultRules returns the built-in rule set, identified as
// "default@libopenapi-<version>".
func DefaultRules() *Rules { return defaultRules }

func newRules(name string, table map[string]bool, ignore Ignore) *Rules {
	r := &Rules{name: name, table: table, ignore: ignore}
	canon, _ := json.Marshal(struct {
		Table      map[string]bool `json:"table"`
		Ignore     Ignore          `json:"ignore"`
		LibOpenAPI string          `json:"libopenapi"`
	}{table, ignore, LibOpenAPIVersion})
	sum := sha256.Sum256(canon)
	r.id = "sha256:" + hex.EncodeToString(sum[:])
	return r
}

// ID is the stable identity of the rule set: "default@libopenapi-v0.42.4" for
// the built-in set, otherwise "sha256:<hex>" of its canonical content. Two
// files with the same rules share an ID whatever their layout.
func (r *Rules) ID() string {
	if r.id == defaultRules.id {
		return "default@libopenapi-" + LibOpenAPIVersion
	}
	return r.id
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
			return nil, &RulesError{Name: name, Line: top.Line, Msg: "expected a mapping with extends, ignore and rules"}
		}
		for i := 0; i+1 < len(top.Content); i += 2 {
			switch k := top.Content[i]; k.Value {
			case "extends", "ignore", "rules":
			default:
				return nil, &RulesError{Name: name, Line: k.Line, Field: k.Value, Msg: "unknown field (want extends, ignore or rules)"}
			}
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&f); err != nil {
			line, _ := yamlErrLine(err.Error())
			return nil, &RulesError{Name: name, Line: line, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
		}
	}
	table := map[string]bool{}
	switch f.Extends {
	case "", "default":
		for k, v := range defaultTable {
			table[k] = v
		}
	case "none":
	default:
		return nil, &RulesError{Name: name, Field: "extends", Msg: fmt.Sprintf("%q is not default or none", f.Extends)}
	}
	if err := readRuleTree(name, &f.Rules, table); err != nil {
		return nil, err
	}
	return newRules(name, table, f.Ignore), nil
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

// decide returns the verdict for a change and the rule that gave it.
func (r *Rules) decide(object, property, kind, value string, libBreaking bool) (bool, string) {
	var keys []string
	if property == "" {
		keys = []string{object + "." + kind + "=" + value, object + "." + kind}
	} else {
		keys = []string{
			object + "." + property + "." + kind + "=" + value,
			object + "." + property + "." + kind,
		}
		if object == ObjectSchemaProperty { // a property is a schema too
			keys = append(keys, "schema."+property+"."+kind+"="+value, "schema."+property+"."+kind)
		}
		keys = append(keys, object+".*."+kind)
	}
	for _, k := range keys {
		if v, ok := r.table[k]; ok {
			return v, k
		}
	}
	return libBreaking, VerdictLibOpenAPI + ":" + keys[1]
}
