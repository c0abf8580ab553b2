package spec

import (
	"fmt"

	"github.com/pb33f/go-yaml"
)

// normalize rewrites any YAML or JSON, spec or not, as canonical JSON with
// the encoders Parse uses for Document.Canonical: keys sorted, two-space
// indent, a trailing newline, numbers kept as written (YAML-only number
// forms such as 0x1F become their JSON decimal). Equivalent documents,
// whatever their key order, whitespace or syntax, normalize to the same
// bytes.
func normalize(data []byte) ([]byte, error) {
	if looksLikeJSON(data) {
		if v, err := decodeJSON(data); err == nil {
			return canonicalFromValue(v, len(data)), nil
		}
	}
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil, fmt.Errorf("normalize: %w", err)
	}
	lim := scanLimits{maxDepth: DefaultMaxDepth, maxAliases: DefaultMaxAliases}
	if tc := lim.check(&n); tc != nil {
		return nil, fmt.Errorf("normalize: line %d: %s", tc.node.Line, tc.msg)
	}
	out, err := canonicalFromNode(&n, len(data))
	if err != nil {
		return nil, fmt.Errorf("normalize: %w", err)
	}
	return out, nil
}
