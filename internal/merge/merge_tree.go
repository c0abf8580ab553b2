package merge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/apilivesync/apilivesync/internal/jsonptr"
)

var (
	errEmpty     = errors.New("document is empty")
	errNotObject = errors.New("document is not a JSON object")
)

// decodeDoc reads a JSON (or, if it does not start with '{' or '[', YAML)
// document into a tree of map[string]any,
// []any, string, json.Number, bool and nil. ok is false for empty input.
func decodeDoc(data []byte) (v any, ok bool, err error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, false, nil
	}
	if trimmed[0] == '{' || trimmed[0] == '[' {
		v, err := decodeJSON(trimmed)
		if err != nil {
			return nil, false, err
		}
		return v, true, nil
	}
	v, err = decodeYAML(trimmed)
	if err != nil {
		return nil, false, err
	}
	return v, true, nil
}

func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("parse JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("parse JSON: unexpected data after the document")
	}
	return v, nil
}

func decodeYAML(data []byte) (any, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil, fmt.Errorf("parse YAML: %w", err)
	}
	// Aliases may repeat a subtree many times (a "billion laughs" document);
	// cap the values produced at a few per input byte.
	budget := 4*len(data) + 1024
	return yamlValue(&n, 0, &budget)
}

// yamlValue converts a YAML node into the same tree shape decodeJSON yields.
func yamlValue(n *yaml.Node, depth int, budget *int) (any, error) {
	if depth > 10000 {
		return nil, fmt.Errorf("parse YAML: nesting too deep at line %d", n.Line)
	}
	if *budget--; *budget < 0 {
		return nil, fmt.Errorf("parse YAML: too many values (aliases expand too far) at line %d", n.Line)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return yamlValue(n.Content[0], depth+1, budget)
	case yaml.AliasNode:
		return yamlValue(n.Alias, depth+1, budget)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := yamlValue(n.Content[i+1], depth+1, budget)
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		a := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := yamlValue(c, depth+1, budget)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		return a, nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil, nil
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err != nil {
				return nil, fmt.Errorf("parse YAML: line %d: %w", n.Line, err)
			}
			return b, nil
		case "!!int", "!!float":
			var f float64
			if err := n.Decode(&f); err != nil {
				return nil, fmt.Errorf("parse YAML: line %d: %w", n.Line, err)
			}
			if _, err := strconv.ParseFloat(n.Value, 64); err == nil && json.Valid([]byte(n.Value)) {
				return json.Number(n.Value), nil
			}
			if math.IsInf(f, 0) || math.IsNaN(f) {
				return n.Value, nil
			}
			if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
				return json.Number(strconv.FormatInt(int64(f), 10)), nil
			}
			return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
		default:
			return n.Value, nil
		}
	}
	return nil, fmt.Errorf("parse YAML: unsupported node kind %d at line %d", n.Kind, n.Line)
}

// equal reports deep equality of two decoded trees.
func equal(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !equal(xv, yv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case string:
		y, ok := b.(string)
		return ok && x == y
	case json.Number:
		y, ok := b.(json.Number)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case nil:
		return b == nil
	}
	return false
}

// sameValue compares two optional values.
func sameValue(a, b any, aok, bok bool) bool {
	if aok != bok {
		return false
	}
	return !aok || equal(a, b)
}

// parsePointer splits an RFC 6901 JSON pointer into reference tokens.
func parsePointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if p[0] != '/' {
		return nil, fmt.Errorf("JSON pointer %q does not start with '/'", p)
	}
	parts := strings.Split(p[1:], "/")
	for i, t := range parts {
		if strings.Contains(t, "~") {
			for j := 0; j < len(t); j++ {
				if t[j] == '~' && (j+1 >= len(t) || (t[j+1] != '0' && t[j+1] != '1')) {
					return nil, fmt.Errorf("JSON pointer %q has a bad escape in %q", p, t)
				}
			}
			parts[i] = jsonptr.Unescape(t)
		}
	}
	return parts, nil
}
