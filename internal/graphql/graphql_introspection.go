package graphql

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// IntrospectionQuery is the standard introspection query (graphql-js
// getIntrospectionQuery with its default options: descriptions, deprecated
// fields and values included; no specifiedByURL or isRepeatable, which
// older servers refuse). The fetch step POSTs it as
// {"query": IntrospectionQuery, "operationName": "IntrospectionQuery"}.
const IntrospectionQuery = `query IntrospectionQuery {
  __schema {
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types {
      ...FullType
    }
    directives {
      name
      description
      locations
      args {
        ...InputValue
      }
    }
  }
}

fragment FullType on __Type {
  kind
  name
  description
  fields(includeDeprecated: true) {
    name
    description
    args {
      ...InputValue
    }
    type {
      ...TypeRef
    }
    isDeprecated
    deprecationReason
  }
  inputFields {
    ...InputValue
  }
  interfaces {
    ...TypeRef
  }
  enumValues(includeDeprecated: true) {
    name
    description
    isDeprecated
    deprecationReason
  }
  possibleTypes {
    ...TypeRef
  }
}

fragment InputValue on __InputValue {
  name
  description
  type { ...TypeRef }
  defaultValue
}

fragment TypeRef on __Type {
  kind
  name
  ofType {
    kind
    name
    ofType {
      kind
      name
      ofType {
        kind
        name
        ofType {
          kind
          name
          ofType {
            kind
            name
            ofType {
              kind
              name
              ofType {
                kind
                name
                ofType {
                  kind
                  name
                }
              }
            }
          }
        }
      }
    }
  }
}
`

// defaultDeprecationReason is what introspection answers for a bare @deprecated.
const defaultDeprecationReason = "No longer supported"

// FromIntrospection builds SDL from an introspection answer
// ({"data":{"__schema":...}} or {"__schema":...}). An answer carrying
// GraphQL errors, an HTML page and anything without __schema are refused
// with an *Error of KindIntrospection. The SDL is canonical.
func FromIntrospection(data []byte) (string, error) {
	return fromIntrospection("introspection", data, Options{}.withDefaults())
}

type introAnswer struct {
	Data   *introData   `json:"data"`
	Schema *introSchema `json:"__schema"`
	Errors []introError `json:"errors"`
}

type introData struct {
	Schema *introSchema `json:"__schema"`
}

type introError struct {
	Message string `json:"message"`
}

type introSchema struct {
	QueryType        *introName       `json:"queryType"`
	MutationType     *introName       `json:"mutationType"`
	SubscriptionType *introName       `json:"subscriptionType"`
	Description      *string          `json:"description"`
	Types            []introType      `json:"types"`
	Directives       []introDirective `json:"directives"`
}

type introName struct {
	Name string `json:"name"`
}

type introType struct {
	Kind          string       `json:"kind"`
	Name          string       `json:"name"`
	Description   *string      `json:"description"`
	Fields        []introField `json:"fields"`
	InputFields   []introInput `json:"inputFields"`
	Interfaces    []introRef   `json:"interfaces"`
	EnumValues    []introValue `json:"enumValues"`
	PossibleTypes []introRef   `json:"possibleTypes"`
}

type introField struct {
	Name              string       `json:"name"`
	Description       *string      `json:"description"`
	Args              []introInput `json:"args"`
	Type              *introRef    `json:"type"`
	IsDeprecated      bool         `json:"isDeprecated"`
	DeprecationReason *string      `json:"deprecationReason"`
}

type introInput struct {
	Name              string    `json:"name"`
	Description       *string   `json:"description"`
	Type              *introRef `json:"type"`
	DefaultValue      *string   `json:"defaultValue"`
	IsDeprecated      bool      `json:"isDeprecated"`
	DeprecationReason *string   `json:"deprecationReason"`
}

type introValue struct {
	Name              string  `json:"name"`
	Description       *string `json:"description"`
	IsDeprecated      bool    `json:"isDeprecated"`
	DeprecationReason *string `json:"deprecationReason"`
}

type introDirective struct {
	Name         string       `json:"name"`
	Description  *string      `json:"description"`
	Locations    []string     `json:"locations"`
	Args         []introInput `json:"args"`
	IsRepeatable bool         `json:"isRepeatable"`
}

type introRef struct {
	Kind   string    `json:"kind"`
	Name   *string   `json:"name"`
	OfType *introRef `json:"ofType"`
}

var builtinScalars = map[string]bool{"String": true, "Int": true, "Float": true, "Boolean": true, "ID": true}

func fromIntrospection(source string, data []byte, opts Options) (string, error) {
	fail := func(line, col int, format string, a ...any) (string, error) {
		return "", &Error{Source: source, Kind: KindIntrospection, Line: line, Column: col, Msg: fmt.Sprintf(format, a...)}
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '<' {
		return fail(0, 0, "the answer is HTML, not JSON (a login page, a proxy error or the wrong URL?)")
	}
	if line, col, ok := jsonTooDeep(data, opts.MaxDepth); !ok {
		return "", &Error{Source: source, Kind: KindTooComplex, Line: line, Column: col, Msg: fmt.Sprintf("JSON nested more than %d levels deep", opts.MaxDepth)}
	}
	var ans introAnswer
	if err := json.Unmarshal(data, &ans); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := lineColumnAt(data, int(se.Offset))
			return fail(line, col, "not JSON: %v", err)
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			line, col := lineColumnAt(data, int(te.Offset))
			return fail(line, col, "unexpected %s at %s", te.Value, te.Field)
		}
		return fail(0, 0, "not JSON: %v", err)
	}
	if len(ans.Errors) > 0 {
		msgs := make([]string, 0, 3)
		for i, e := range ans.Errors {
			if i == 3 {
				msgs = append(msgs, fmt.Sprintf("and %d more", len(ans.Errors)-3))
				break
			}
			msgs = append(msgs, strconv.Quote(e.Message))
		}
		return fail(0, 0, "the server answered with GraphQL errors: %s (is introspection disabled, or are credentials missing?)", strings.Join(msgs, ", "))
	}
	s := ans.Schema
	if ans.Data != nil && ans.Data.Schema != nil {
		s = ans.Data.Schema
	}
	if s == nil {
		return fail(0, 0, `no "data.__schema" or "__schema" member`)
	}
	if len(s.Types) > opts.MaxDefinitions {
		return "", &Error{Source: source, Kind: KindTooComplex, Msg: fmt.Sprintf("%d types, more than the %d allowed", len(s.Types), opts.MaxDefinitions)}
	}
	t, err := introTree(s)
	if err != nil {
		return fail(0, 0, "%v", err)
	}
	return string(t.print()), nil
}

func introTree(s *introSchema) (*tree, error) {
	t := &tree{Directives: map[string]*directiveNode{}, Types: map[string]*typeNode{}}
	if s.QueryType != nil {
		t.Schema.Query = s.QueryType.Name
	}
	if s.MutationType != nil {
		t.Schema.Mutation = s.MutationType.Name
	}
	if s.SubscriptionType != nil {
		t.Schema.Subscription = s.SubscriptionType.Name
	}
	if s.Description != nil {
		t.Schema.Description = *s.Description
	}
	for _, d := range s.Directives {
		if preludeDirectives()[d.Name] {
			continue
		}
		as, err := introArgs(d.Args)
		if err != nil {
			return nil, fmt.Errorf("directive @%s: %w", d.Name, err)
		}
		locs := slices.Clone(d.Locations)
		slices.Sort(locs)
		t.Directives[d.Name] = &directiveNode{Description: str(d.Description), Args: as, Locations: slices.Compact(locs), Repeatable: d.IsRepeatable}
	}
	for _, it := range s.Types {
		if it.Name == "" {
			return nil, fmt.Errorf("a type without a name")
		}
		if strings.HasPrefix(it.Name, "__") || (it.Kind == kindScalar && builtinScalars[it.Name]) {
			continue
		}
		tn := &typeNode{Kind: it.Kind, Description: str(it.Description)}
		switch it.Kind {
		case kindScalar:
		case kindObject, kindInterface:
			tn.Fields = map[string]*fieldNode{}
			for _, f := range it.Fields {
				ty, err := typeRef(f.Type, 0)
				if err != nil {
					return nil, fmt.Errorf("%s.%s: %w", it.Name, f.Name, err)
				}
				as, err := introArgs(f.Args)
				if err != nil {
					return nil, fmt.Errorf("%s.%s: %w", it.Name, f.Name, err)
				}
				tn.Fields[f.Name] = &fieldNode{Description: str(f.Description), Type: ty, Args: as, Applied: deprecated(f.IsDeprecated, f.DeprecationReason)}
			}
			names := make([]string, 0, len(it.Interfaces))
			for _, r := range it.Interfaces {
				if r.Name != nil {
					names = append(names, *r.Name)
				}
			}
			tn.Interfaces = set(names)
		case kindInput:
			tn.Fields = map[string]*fieldNode{}
			for _, f := range it.InputFields {
				a, err := introArg(f)
				if err != nil {
					return nil, fmt.Errorf("%s.%s: %w", it.Name, f.Name, err)
				}
				tn.Fields[f.Name] = &fieldNode{Description: a.Description, Type: a.Type, Default: a.Default, Applied: a.Applied}
			}
		case kindEnum:
			tn.Values = map[string]*valueNode{}
			for _, v := range it.EnumValues {
				tn.Values[v.Name] = &valueNode{Description: str(v.Description), Applied: deprecated(v.IsDeprecated, v.DeprecationReason)}
			}
		case kindUnion:
			names := make([]string, 0, len(it.PossibleTypes))
			for _, r := range it.PossibleTypes {
				if r.Name != nil {
					names = append(names, *r.Name)
				}
			}
			tn.Members = set(names)
		default:
			return nil, fmt.Errorf("type %s has unknown kind %q", it.Name, it.Kind)
		}
		t.Types[it.Name] = tn
	}
	return t, nil
}

func introArgs(list []introInput) (map[string]*argNode, error) {
	if len(list) == 0 {
		return nil, nil
	}
	m := make(map[string]*argNode, len(list))
	for _, in := range list {
		a, err := introArg(in)
		if err != nil {
			return nil, fmt.Errorf("argument %s: %w", in.Name, err)
		}
		m[in.Name] = a
	}
	return m, nil
}

func introArg(in introInput) (*argNode, error) {
	ty, err := typeRef(in.Type, 0)
	if err != nil {
		return nil, err
	}
	a := &argNode{Description: str(in.Description), Type: ty, Applied: deprecated(in.IsDeprecated, in.DeprecationReason)}
	if in.DefaultValue != nil {
		d := *in.DefaultValue
		a.Default = &d
	}
	return a, nil
}

func typeRef(r *introRef, depth int) (string, error) {
	if r == nil {
		return "", fmt.Errorf("a type reference is missing")
	}
	if depth > 16 {
		return "", fmt.Errorf("type reference nested more than 16 levels")
	}
	switch r.Kind {
	case "NON_NULL":
		s, err := typeRef(r.OfType, depth+1)
		return s + "!", err
	case "LIST":
		s, err := typeRef(r.OfType, depth+1)
		return "[" + s + "]", err
	}
	if r.Name == nil || *r.Name == "" {
		return "", fmt.Errorf("a %s type reference has no name", r.Kind)
	}
	return *r.Name, nil
}

func deprecated(is bool, reason *string) []string {
	if !is {
		return nil
	}
	if reason == nil || *reason == defaultDeprecationReason {
		return []string{"@deprecated"}
	}
	return []string{"@deprecated(reason: " + strconv.Quote(*reason) + ")"}
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// jsonTooDeep reports where JSON nests deeper than max (strings skipped).
func jsonTooDeep(data []byte, max int) (line, col int, ok bool) {
	depth := 0
	inStr := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inStr {
			switch c {
			case '\\':
				i++
			case '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '[', '{':
			depth++
			if depth > max {
				l, c := lineColumnAt(data, i)
				return l, c, false
			}
		case ']', '}':
			depth--
		}
	}
	return 0, 0, true
}
