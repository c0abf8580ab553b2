package spec

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pb33f/go-yaml"
)

// CanonicalJSON writes v, a decoded JSON tree (map[string]any, []any,
// string, json.Number, bool and nil, as encoding/json decodes with
// UseNumber), as canonical JSON: keys sorted, strings escaped as canon.str
// says, two-space indent and a trailing newline when indent is set, compact
// otherwise. Values of other types are written by encoding/json. It is the
// one canonical-JSON encoder: Parse writes a spec's canonical form with it, and package merge writes merged documents and conflict
// values with it.
func CanonicalJSON(v any, indent bool) []byte {
	c := canon{buf: make([]byte, 0, 1024), compact: !indent}
	c.value(v, 0)
	if indent {
		c.buf = append(c.buf, '\n')
	}
	return c.buf
}

// canon writes canonical JSON straight from a node tree (or from decoded JSON
// values): sorted keys, two-space indent (or none when compact), no HTML
// escaping. Writing directly avoids building a map tree and re-indenting it,
// which for a multi-megabyte spec was most of Parse's own cost.
type canon struct {
	buf     []byte
	compact bool
	keys    [][]string // reusable key slices, one per depth
}

func canonicalFromNode(n *yaml.Node, sizeHint int) ([]byte, error) {
	c := canon{buf: make([]byte, 0, sizeHint+sizeHint/2)}
	if err := c.node(n, 0); err != nil {
		return nil, err
	}
	c.buf = append(c.buf, '\n')
	return c.buf, nil
}

func canonicalFromValue(v any, sizeHint int) []byte {
	c := canon{buf: make([]byte, 0, sizeHint+sizeHint/2)}
	c.value(v, 0)
	c.buf = append(c.buf, '\n')
	return c.buf
}

// indent starts a new line at depth; compact output has none.
func (c *canon) indent(depth int) {
	if c.compact {
		return
	}
	c.buf = append(c.buf, '\n')
	for range depth {
		c.buf = append(c.buf, ' ', ' ')
	}
}

// colon separates a key from its value.
func (c *canon) colon() {
	if c.compact {
		c.buf = append(c.buf, ':')
		return
	}
	c.buf = append(c.buf, ':', ' ')
}

type member struct {
	key string
	val *yaml.Node
}

func (c *canon) node(n *yaml.Node, depth int) error {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			c.buf = append(c.buf, "null"...)
			return nil
		}
		return c.node(n.Content[0], depth)
	case yaml.AliasNode:
		if n.Alias == nil {
			return fmt.Errorf("line %d: unknown alias *%s", n.Line, n.Value)
		}
		return c.node(n.Alias, depth)
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			c.buf = append(c.buf, "[]"...)
			return nil
		}
		c.buf = append(c.buf, '[')
		for i, e := range n.Content {
			if i > 0 {
				c.buf = append(c.buf, ',')
			}
			c.indent(depth + 1)
			if err := c.node(e, depth+1); err != nil {
				return err
			}
		}
		c.indent(depth)
		c.buf = append(c.buf, ']')
		return nil
	case yaml.MappingNode:
		members := make([]member, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := deref(n.Content[i])
			if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
				// merge keys are rare: take the general path for this mapping
				v, err := nodeValue(n)
				if err != nil {
					return err
				}
				c.value(v, depth)
				return nil
			}
			if k.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: mapping key is not a scalar", k.Line)
			}
			members = append(members, member{k.Value, n.Content[i+1]})
		}
		if len(members) == 0 {
			c.buf = append(c.buf, "{}"...)
			return nil
		}
		slices.SortStableFunc(members, func(a, b member) int { return strings.Compare(a.key, b.key) })
		c.buf = append(c.buf, '{')
		first := true
		for i, m := range members {
			if i+1 < len(members) && members[i+1].key == m.key {
				continue // duplicate key: the last one wins, as in JSON
			}
			if !first {
				c.buf = append(c.buf, ',')
			}
			first = false
			c.indent(depth + 1)
			c.str(m.key)
			c.colon()
			if err := c.node(m.val, depth+1); err != nil {
				return err
			}
		}
		c.indent(depth)
		c.buf = append(c.buf, '}')
		return nil
	case yaml.ScalarNode:
		v, err := scalarValue(n)
		if err != nil {
			return err
		}
		c.value(v, depth)
		return nil
	}
	return fmt.Errorf("line %d: unsupported YAML node", n.Line)
}

func (c *canon) value(v any, depth int) {
	switch v := v.(type) {
	case nil:
		c.buf = append(c.buf, "null"...)
	case bool:
		c.buf = strconv.AppendBool(c.buf, v)
	case json.Number:
		if v == "" {
			c.buf = append(c.buf, '0')
			return
		}
		c.buf = append(c.buf, v...)
	case string:
		c.str(v)
	case []any:
		if len(v) == 0 {
			c.buf = append(c.buf, "[]"...)
			return
		}
		c.buf = append(c.buf, '[')
		for i, e := range v {
			if i > 0 {
				c.buf = append(c.buf, ',')
			}
			c.indent(depth + 1)
			c.value(e, depth+1)
		}
		c.indent(depth)
		c.buf = append(c.buf, ']')
	case map[string]any:
		if len(v) == 0 {
			c.buf = append(c.buf, "{}"...)
			return
		}
		for len(c.keys) <= depth {
			c.keys = append(c.keys, nil)
		}
		keys := c.keys[depth][:0]
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		c.keys[depth] = keys // nested maps use deeper slots only, so keys stays valid
		c.buf = append(c.buf, '{')
		for i, k := range keys {
			if i > 0 {
				c.buf = append(c.buf, ',')
			}
			c.indent(depth + 1)
			c.str(k)
			c.colon()
			c.value(v[k], depth+1)
		}
		c.indent(depth)
		c.buf = append(c.buf, '}')
	default:
		// Decoded trees hold none of these; encode it through encoding/json
		// so the output stays valid JSON.
		b, err := json.Marshal(v)
		if err != nil {
			b = []byte("null")
		}
		c.buf = append(c.buf, b...)
	}
}

const hexDigits = "0123456789abcdef"

// str writes a JSON string as encoding/json does with HTML escaping off.
func (c *canon) str(s string) {
	c.buf = append(c.buf, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != 0x7f && b != '"' && b != '\\' {
				i++
				continue
			}
			c.buf = append(c.buf, s[start:i]...)
			switch b {
			case '"', '\\':
				c.buf = append(c.buf, '\\', b)
			case '\n':
				c.buf = append(c.buf, '\\', 'n')
			case '\r':
				c.buf = append(c.buf, '\\', 'r')
			case '\t':
				c.buf = append(c.buf, '\\', 't')
			default:
				c.buf = append(c.buf, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			c.buf = append(c.buf, s[start:i]...)
			c.buf = append(c.buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' || (r >= 0x80 && r <= 0x9f) || r == 0xfeff || r == 0xfffe || r == 0xffff {
			// Escaped so the canonical form reads back as YAML too (the
			// YAML reader refuses these raw).
			c.buf = append(c.buf, s[start:i]...)
			c.buf = append(c.buf, '\\', 'u', hexDigits[r>>12&0xF], hexDigits[r>>8&0xF], hexDigits[r>>4&0xF], hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	c.buf = append(c.buf, s[start:]...)
	c.buf = append(c.buf, '"')
}
