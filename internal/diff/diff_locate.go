package diff

import (
	"strings"

	"github.com/pb33f/go-yaml"
)

// libopenapi changes carry the line and column of the nodes they compare, not
// a path. locator turns positions back into RFC 6901 pointers: one walk of a
// document's node tree records, for each wanted position, every node that
// starts there (a block mapping starts where its first key does, so a
// position can name a container and its first member).

type pos struct{ line, col int }

type candidate struct {
	segs  []string
	node  *yaml.Node // the value node the pointer names
	isKey bool       // the position was the member's key
}

type locator struct {
	root *yaml.Node
	want map[pos][]candidate
}

func newLocator(root *yaml.Node) *locator {
	return &locator{root: root, want: map[pos][]candidate{}}
}

func (l *locator) request(p pos) { l.want[p] = nil }

// index walks the tree once; aliases are not followed (their positions are
// those of the anchor).
func (l *locator) index() {
	if l.root == nil || len(l.want) == 0 {
		return
	}
	var segs []string
	var walk func(n *yaml.Node)
	visit := func(n *yaml.Node, isKey bool, value *yaml.Node) {
		p := pos{n.Line, n.Column}
		if c, ok := l.want[p]; ok {
			l.want[p] = append(c, candidate{segs: append([]string(nil), segs...), node: value, isKey: isKey})
		}
	}
	walk = func(n *yaml.Node) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c)
			}
			return
		}
		visit(n, false, n)
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				segs = append(segs, k.Value)
				visit(k, true, v)
				walk(v)
				segs = segs[:len(segs)-1]
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				segs = append(segs, itoa(i))
				walk(c)
				segs = segs[:len(segs)-1]
			}
		}
	}
	walk(l.root)
}

// locate picks the pointer a change at p means, using the change's property
// and its old or new value to choose among nodes starting at p.
func (l *locator) locate(p pos, property, value string) ([]string, *yaml.Node, bool) {
	cands := l.want[p]
	if len(cands) == 0 {
		return nil, nil, false
	}
	pick := -1
	for i, c := range cands { // the member the change names
		if n := len(c.segs); n > 0 && c.segs[n-1] == property {
			pick = i
			break
		}
	}
	if pick < 0 && value != "" {
		for i, c := range cands { // a map entry added or removed, named by its key
			if n := len(c.segs); n > 0 && c.segs[n-1] == value {
				pick = i
				break
			}
		}
	}
	if pick < 0 && property != "" { // the object whose property changed, deepest first
		for i, c := range cands {
			if mapValue(c.node, property) != nil && (pick < 0 || len(c.segs) > len(cands[pick].segs)) {
				pick = i
			}
		}
	}
	if pick < 0 { // otherwise the outermost node: the container, not its first key
		pick = 0
		for i, c := range cands {
			if len(c.segs) < len(cands[pick].segs) {
				pick = i
			}
		}
	}
	c := cands[pick]
	segs, node := c.segs, c.node
	if n := len(segs); n > 0 && segs[n-1] == property && value != "" {
		if child := mapValue(node, value); child != nil {
			// the collection is named, the entry added or removed is the value
			return append(append([]string(nil), segs...), value), child, true
		}
	}
	if n := len(segs); property != "" && (n == 0 || segs[n-1] != property) {
		if child := mapValue(node, property); child != nil {
			// the context is the parent object, the change one of its properties
			segs = append(append([]string(nil), segs...), property)
			node = child
		} else {
			// the context is inside the member of a collection the change names
			for i := n - 2; i >= 0; i-- {
				if segs[i] == property {
					segs = segs[:i+2]
					node = nil
					break
				}
			}
		}
	}
	return segs, node, true
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
func pointer(segs []string) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteByte('/')
		if strings.ContainsAny(s, "~/") {
			s = strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
		}
		b.WriteString(s)
	}
	return b.String()
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	var b [20]byte
	n := len(b)
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	return string(b[n:])
}
