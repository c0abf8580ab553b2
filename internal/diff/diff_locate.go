package diff

import (
	"github.com/apilivesync/apilivesync/internal/jsonptr"
	"strconv"

	"github.com/pb33f/go-yaml"
)

// position is the line and column of what a pointer names: the key of a
// mapping member, the node of a sequence item; for a place that is not in
// the text (a property merged in from allOf) its nearest ancestor that is.
//
// A locator indexes the big mappings it walks (paths, schemas: thousands
// of keys), so locating every change of a big diff stays linear.
type locator struct {
	index map[*yaml.Node]map[string]int
}

// indexMin is the size from which a mapping's keys are indexed.
const indexMin = 32

// member is the index in m.Content of key's key node, or -1.
func (l *locator) member(m *yaml.Node, key string) int {
	if len(m.Content)/2 < indexMin {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == key {
				return i
			}
		}
		return -1
	}
	idx, ok := l.index[m]
	if !ok {
		idx = make(map[string]int, len(m.Content)/2)
		for i := len(m.Content) - 2; i >= 0; i -= 2 {
			idx[m.Content[i].Value] = i // the first of repeated keys, as the scan finds
		}
		if l.index == nil {
			l.index = map[*yaml.Node]map[string]int{}
		}
		l.index[m] = idx
	}
	if i, ok := idx[key]; ok {
		return i
	}
	return -1
}

func (l *locator) position(root *yaml.Node, segs []string) (int, int) {
	n := docMap(root)
	line, col := 0, 0
	if n != nil {
		line, col = n.Line, n.Column
	}
	for _, s := range segs {
		if n == nil {
			return line, col
		}
		for n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		switch n.Kind {
		case yaml.MappingNode:
			var next *yaml.Node
			if i := l.member(n, s); i >= 0 {
				line, col = n.Content[i].Line, n.Content[i].Column
				next = n.Content[i+1]
			}
			n = next
		case yaml.SequenceNode:
			i, err := strconv.Atoi(s)
			if err != nil || i < 0 || i >= len(n.Content) {
				return line, col
			}
			n = n.Content[i]
			line, col = n.Line, n.Column
		default:
			return line, col
		}
	}
	return line, col
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// pointer renders segments as an RFC 6901 JSON pointer.
func pointer(segs []string) string { return jsonptr.Join(segs) }
