package graphql

import (
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator"
)

// tree is a schema keyed by name all the way down: the form Merge merges
// (as JSON), Compare compares and print writes as canonical SDL. Positions
// are not part of the JSON; they come from the parsed SDL.
//
// Member names avoid the ones internal/merge treats specially ("parameters",
// "tags", "servers", "security", "required" are keyed arrays there): every
// collection here is an object keyed by name, and every array is atomic.
type tree struct {
	Schema     schemaNode                `json:"schema"`
	Directives map[string]*directiveNode `json:"directives,omitempty"`
	Types      map[string]*typeNode      `json:"types,omitempty"`
}

type schemaNode struct {
	Description  string   `json:"description,omitempty"`
	Query        string   `json:"query,omitempty"`
	Mutation     string   `json:"mutation,omitempty"`
	Subscription string   `json:"subscription,omitempty"`
	Applied      []string `json:"applied,omitempty"`
	pos          pos
}

type directiveNode struct {
	Description string              `json:"description,omitempty"`
	Args        map[string]*argNode `json:"args,omitempty"`
	Locations   []string            `json:"locations,omitempty"` // sorted
	Repeatable  bool                `json:"repeatable,omitempty"`
	pos         pos
}

type typeNode struct {
	Kind        string                `json:"kind"`
	Description string                `json:"description,omitempty"`
	Applied     []string              `json:"applied,omitempty"` // directives, printed, declared order
	Interfaces  map[string]bool       `json:"interfaces,omitempty"`
	Fields      map[string]*fieldNode `json:"fields,omitempty"` // object, interface, input object
	Values      map[string]*valueNode `json:"values,omitempty"` // enum
	Members     map[string]bool       `json:"members,omitempty"`
	pos         pos
}

type fieldNode struct {
	Description string              `json:"description,omitempty"`
	Type        string              `json:"type"`
	Default     *string             `json:"default,omitempty"` // input fields, printed GraphQL value
	Args        map[string]*argNode `json:"args,omitempty"`
	Applied     []string            `json:"applied,omitempty"`
	pos         pos
}

type argNode struct {
	Description string   `json:"description,omitempty"`
	Type        string   `json:"type"`
	Default     *string  `json:"default,omitempty"`
	Applied     []string `json:"applied,omitempty"`
	pos         pos
}

type valueNode struct {
	Description string   `json:"description,omitempty"`
	Applied     []string `json:"applied,omitempty"`
	pos         pos
}

type pos struct{ line, col int }

func posOf(p *ast.Position) pos {
	if p == nil {
		return pos{}
	}
	return pos{p.Line, p.Column}
}

// Kind names in the tree (ast.DefinitionKind values).
const (
	kindScalar    = string(ast.Scalar)
	kindEnum      = string(ast.Enum)
	kindInput     = string(ast.InputObject)
	kindInterface = string(ast.Interface)
	kindObject    = string(ast.Object)
	kindUnion     = string(ast.Union)
)

// kindOrder is the order of type kinds in the canonical SDL.
var kindOrder = map[string]int{kindScalar: 0, kindEnum: 1, kindInput: 2, kindInterface: 3, kindObject: 4, kindUnion: 5}

// preludeDirectives are the directives every schema has (@skip, …), read
// from gqlparser's prelude on first use, not at every program's start-up.
var preludeDirectives = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, d := range validator.PreludeDocument().Directives {
		m[d.Name] = true
	}
	return m
})

// fromSchema converts a validated schema, dropping builtins.
func fromSchema(s *ast.Schema) *tree {
	t := &tree{Directives: map[string]*directiveNode{}, Types: map[string]*typeNode{}}
	if s.Query != nil {
		t.Schema.Query = s.Query.Name
	}
	if s.Mutation != nil {
		t.Schema.Mutation = s.Mutation.Name
	}
	if s.Subscription != nil {
		t.Schema.Subscription = s.Subscription.Name
	}
	t.Schema.Description = s.Description
	t.Schema.Applied = applied(s.SchemaDirectives)
	for name, d := range s.Directives {
		if preludeDirectives()[name] {
			continue // builtin, or a redefinition of one: not part of the API
		}
		dn := &directiveNode{Description: d.Description, Args: args(d.Arguments), Repeatable: d.IsRepeatable, pos: posOf(d.Position)}
		for _, l := range d.Locations {
			dn.Locations = append(dn.Locations, string(l))
		}
		slices.Sort(dn.Locations)
		dn.Locations = slices.Compact(dn.Locations)
		t.Directives[name] = dn
	}
	for name, d := range s.Types {
		if d.BuiltIn || strings.HasPrefix(name, "__") {
			continue
		}
		tn := &typeNode{Kind: string(d.Kind), Description: d.Description, Applied: applied(d.Directives), pos: posOf(d.Position)}
		switch d.Kind {
		case ast.Object, ast.Interface, ast.InputObject:
			tn.Interfaces = set(d.Interfaces)
			tn.Fields = map[string]*fieldNode{}
			for _, f := range d.Fields {
				if strings.HasPrefix(f.Name, "__") {
					continue // __schema and __type, added to the query type by the validator
				}
				tn.Fields[f.Name] = &fieldNode{
					Description: f.Description, Type: f.Type.String(), Default: valuePtr(f.DefaultValue),
					Args: args(f.Arguments), Applied: applied(f.Directives), pos: posOf(f.Position),
				}
			}
		case ast.Enum:
			tn.Values = map[string]*valueNode{}
			for _, v := range d.EnumValues {
				tn.Values[v.Name] = &valueNode{Description: v.Description, Applied: applied(v.Directives), pos: posOf(v.Position)}
			}
		case ast.Union:
			tn.Members = set(d.Types)
		}
		t.Types[name] = tn
	}
	return t
}

func set(names []string) map[string]bool {
	if len(names) == 0 {
		return nil
	}
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

func args(list ast.ArgumentDefinitionList) map[string]*argNode {
	if len(list) == 0 {
		return nil
	}
	m := make(map[string]*argNode, len(list))
	for _, a := range list {
		m[a.Name] = &argNode{Description: a.Description, Type: a.Type.String(), Default: valuePtr(a.DefaultValue), Applied: applied(a.Directives), pos: posOf(a.Position)}
	}
	return m
}

func applied(list ast.DirectiveList) []string {
	if len(list) == 0 {
		return nil
	}
	out := make([]string, 0, len(list))
	for _, d := range list {
		var b strings.Builder
		b.WriteString("@" + d.Name)
		if len(d.Arguments) > 0 {
			b.WriteByte('(')
			for i, a := range d.Arguments {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(a.Name + ": " + value(a.Value))
			}
			b.WriteByte(')')
		}
		if d.Name == "deprecated" && b.String() == `@deprecated(reason: "`+defaultDeprecationReason+`")` {
			b.Reset()
			b.WriteString("@deprecated") // the same as the bare form
		}
		out = append(out, b.String())
	}
	return out
}

func valuePtr(v *ast.Value) *string {
	if v == nil {
		return nil
	}
	s := value(v)
	return &s
}

// value prints a GraphQL value literal in one canonical form.
func value(v *ast.Value) string {
	if v == nil {
		return "null"
	}
	switch v.Kind {
	case ast.Variable:
		return "$" + v.Raw
	case ast.StringValue, ast.BlockValue:
		return strconv.Quote(v.Raw)
	case ast.ListValue:
		parts := make([]string, len(v.Children))
		for i, c := range v.Children {
			parts[i] = value(c.Value)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case ast.ObjectValue:
		parts := make([]string, len(v.Children))
		for i, c := range v.Children {
			parts[i] = c.Name + ": " + value(c.Value)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return v.Raw
}

func (t *tree) summary() Summary {
	var s Summary
	s.Types = len(t.Types)
	s.Directives = len(t.Directives)
	for _, tn := range t.Types {
		switch tn.Kind {
		case kindObject:
			s.Objects++
		case kindInterface:
			s.Interfaces++
		case kindUnion:
			s.Unions++
		case kindEnum:
			s.Enums++
		case kindInput:
			s.InputObjects++
		case kindScalar:
			s.Scalars++
		}
		s.Fields += len(tn.Fields)
	}
	count := func(name string) int {
		if tn := t.Types[name]; tn != nil && name != "" {
			return len(tn.Fields)
		}
		return 0
	}
	s.Queries, s.Mutations, s.Subscriptions = count(t.Schema.Query), count(t.Schema.Mutation), count(t.Schema.Subscription)
	return s
}

// typeNames returns the type names in canonical order: kind, then name.
func (t *tree) typeNames() []string {
	names := sortedKeys(t.Types)
	slices.SortStableFunc(names, func(a, b string) int {
		return kindOrder[t.Types[a].Kind] - kindOrder[t.Types[b].Kind]
	})
	return names
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// defaultRoots reports whether the schema definition can be left implicit.
func (s *schemaNode) implicit(t *tree) bool {
	if s.Description != "" || len(s.Applied) > 0 {
		return false
	}
	for _, r := range [][2]string{{s.Query, "Query"}, {s.Mutation, "Mutation"}, {s.Subscription, "Subscription"}} {
		if r[0] != "" && r[0] != r[1] {
			return false
		}
		if r[0] == "" && t.Types[r[1]] != nil {
			return false // a type named like a root that is not one
		}
	}
	return true
}

// print writes the canonical SDL.
func (t *tree) print() []byte {
	p := &printer{}
	if !t.Schema.implicit(t) {
		p.description(t.Schema.Description, "")
		p.s("schema")
		p.applied(t.Schema.Applied)
		p.s(" {\n")
		for _, r := range [][2]string{{"query", t.Schema.Query}, {"mutation", t.Schema.Mutation}, {"subscription", t.Schema.Subscription}} {
			if r[1] != "" {
				p.s("  " + r[0] + ": " + r[1] + "\n")
			}
		}
		p.s("}\n\n")
	}
	for _, name := range sortedKeys(t.Directives) {
		d := t.Directives[name]
		p.description(d.Description, "")
		p.s("directive @" + name)
		p.args(d.Args, "")
		if d.Repeatable {
			p.s(" repeatable")
		}
		p.s(" on " + strings.Join(d.Locations, " | ") + "\n\n")
	}
	for _, name := range t.typeNames() {
		tn := t.Types[name]
		p.description(tn.Description, "")
		switch tn.Kind {
		case kindScalar:
			p.s("scalar " + name)
			p.applied(tn.Applied)
		case kindEnum:
			p.s("enum " + name)
			p.applied(tn.Applied)
			p.s(" {\n")
			for _, v := range sortedKeys(tn.Values) {
				vn := tn.Values[v]
				p.description(vn.Description, "  ")
				p.s("  " + v)
				p.applied(vn.Applied)
				p.s("\n")
			}
			p.s("}")
		case kindUnion:
			p.s("union " + name)
			p.applied(tn.Applied)
			if len(tn.Members) > 0 {
				p.s(" = " + strings.Join(sortedKeys(tn.Members), " | "))
			}
		default:
			kw := map[string]string{kindObject: "type", kindInterface: "interface", kindInput: "input"}[tn.Kind]
			p.s(kw + " " + name)
			if len(tn.Interfaces) > 0 {
				p.s(" implements " + strings.Join(sortedKeys(tn.Interfaces), " & "))
			}
			p.applied(tn.Applied)
			if len(tn.Fields) > 0 {
				p.s(" {\n")
				for _, f := range sortedKeys(tn.Fields) {
					fn := tn.Fields[f]
					p.description(fn.Description, "  ")
					p.s("  " + f)
					p.args(fn.Args, "  ")
					p.s(": " + fn.Type)
					if fn.Default != nil {
						p.s(" = " + *fn.Default)
					}
					p.applied(fn.Applied)
					p.s("\n")
				}
				p.s("}")
			}
		}
		p.s("\n\n")
	}
	out := []byte(p.b.String())
	if len(out) > 0 {
		out = out[:len(out)-1] // one trailing newline
	}
	return out
}

type printer struct{ b strings.Builder }

func (p *printer) s(s string) { p.b.WriteString(s) }

func (p *printer) applied(list []string) {
	for _, a := range list {
		p.s(" " + a)
	}
}

// description writes a block string; `"""` inside is escaped as the spec says.
func (p *printer) description(d, indent string) {
	if d == "" {
		return
	}
	d = strings.ReplaceAll(d, `"""`, `\"""`)
	p.s(indent + `"""` + "\n")
	for _, line := range strings.Split(d, "\n") {
		if line == "" {
			p.s("\n")
			continue
		}
		p.s(indent + line + "\n")
	}
	p.s(indent + `"""` + "\n")
}

// args writes an argument list, one argument per line when any has a
// description, on one line otherwise.
func (p *printer) args(m map[string]*argNode, indent string) {
	if len(m) == 0 {
		return
	}
	names := sortedKeys(m)
	multi := false
	for _, n := range names {
		if m[n].Description != "" {
			multi = true
		}
	}
	p.s("(")
	for i, n := range names {
		a := m[n]
		if multi {
			p.s("\n")
			p.description(a.Description, indent+"  ")
			p.s(indent + "  ")
		} else if i > 0 {
			p.s(", ")
		}
		p.s(n + ": " + a.Type)
		if a.Default != nil {
			p.s(" = " + *a.Default)
		}
		p.applied(a.Applied)
	}
	if multi {
		p.s("\n" + indent)
	}
	p.s(")")
}
