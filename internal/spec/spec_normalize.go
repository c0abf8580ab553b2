package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"github.com/pb33f/go-yaml"
)

// Default limits used when Options leave them zero.
const (
	DefaultMaxBytes   = 64 << 20
	DefaultMaxDepth   = 256
	DefaultMaxAliases = 10_000
)

// looksLikeJSON uses libopenapi's own test, so both agree on the syntax.
func looksLikeJSON(data []byte) bool {
	t := bytes.TrimSpace(data)
	return len(t) > 1 && t[0] == '{' && t[len(t)-1] == '}'
}

// decodeJSON decodes exactly one JSON value, keeping numbers as written.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("invalid character after top-level value at offset %d", dec.InputOffset())
	}
	return v, nil
}

var jsonNumberRe = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// nodeValue converts a YAML node tree into plain JSON values. Aliases are
// expanded (callers bound them first) and merge keys (<<) applied.
func nodeValue(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return nodeValue(n.Content[0])
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, fmt.Errorf("line %d: unknown alias *%s", n.Line, n.Value)
		}
		return nodeValue(n.Alias)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := nodeValue(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		if err := mergeMapping(out, n); err != nil {
			return nil, err
		}
		return out, nil
	case yaml.ScalarNode:
		return scalarValue(n)
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
}

// mergeMapping sets the entries of n into out, as mappingEntries reads
// them: a repeated key's last value, merge keys (<<) filling in the rest.
func mergeMapping(out map[string]any, n *yaml.Node) error {
	es, err := mappingEntries(n)
	if err != nil {
		return err
	}
	for _, e := range es {
		val, err := nodeValue(e.value)
		if err != nil {
			return err
		}
		out[e.key] = val
	}
	return nil
}

func scalarValue(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		return strings.EqualFold(n.Value, "true"), nil
	case "!!int":
		if jsonNumberRe.MatchString(n.Value) {
			return json.Number(n.Value), nil
		}
		i, ok := new(big.Int).SetString(strings.ReplaceAll(n.Value, "_", ""), 0)
		if !ok {
			return n.Value, nil
		}
		return json.Number(i.String()), nil
	case "!!float":
		if jsonNumberRe.MatchString(n.Value) {
			return json.Number(n.Value), nil
		}
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err != nil || f != f || f > 1e308 || f < -1e308 {
			return n.Value, nil // .inf and .nan have no JSON form: keep the text
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
	}
	return n.Value, nil
}
