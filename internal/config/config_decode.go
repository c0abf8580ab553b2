package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/apilivesync/apilivesync/internal/source"
)

// maxNodes bounds the nodes visited, so aliases cannot expand a small file
// into a huge one ("billion laughs").
const maxNodes = 1_000_000

type place struct{ line, col int }

// decoder walks a YAML node tree into a Config, recording where each field
// was written and every problem found on the way.
type decoder struct {
	file   string
	dir    string
	errs   Errors
	pos    map[string]place // field path → position of its key (or list item)
	bad    map[string]bool  // fields already reported as unreadable or misspelt
	found  int              // problems found, including those not reported again
	active map[*yaml.Node]bool
	budget int
	tooBig bool
}

func newDecoder(file, dir string) *decoder {
	return &decoder{file: file, dir: dir, pos: map[string]place{}, bad: map[string]bool{}, active: map[*yaml.Node]bool{}, budget: maxNodes}
}

func (d *decoder) result() error {
	if len(d.errs) == 0 {
		return nil
	}
	sortErrors(d.errs)
	return d.errs
}

// add records a problem at a node.
func (d *decoder) add(n *yaml.Node, field, msg string) {
	d.found++
	d.errs = append(d.errs, Error{File: d.file, Line: n.Line, Column: n.Column, Field: field, Msg: msg})
}

// fail records that the value at a node cannot be read into the field;
// later checks of the field and what it contains stay quiet.
func (d *decoder) fail(n *yaml.Node, field, msg string) {
	d.bad[field] = true
	d.add(n, field, msg)
}

// addAt records a problem at a field, or at the nearest enclosing field
// written in the file when the field itself is missing. Problems inside a
// field that could not be read are not reported again.
func (d *decoder) addAt(field, msg string) {
	d.found++
	for f := field; f != ""; f = parent(f) {
		if d.bad[f] {
			return
		}
	}
	p := d.at(field)
	d.errs = append(d.errs, Error{File: d.file, Line: p.line, Column: p.col, Field: field, Msg: msg})
}

func (d *decoder) at(field string) place {
	for f := field; f != ""; f = parent(f) {
		if p, ok := d.pos[f]; ok {
			return p
		}
	}
	return place{}
}

// parent is the enclosing field: sources[2].url → sources[2] → sources → "".
func parent(f string) string {
	if strings.HasSuffix(f, "]") {
		if i := strings.LastIndexByte(f, '['); i >= 0 {
			return f[:i]
		}
	}
	if i := strings.LastIndexByte(f, '.'); i >= 0 {
		return f[:i]
	}
	return ""
}

// has reports whether the field was written in the file.
func (d *decoder) has(field string) bool {
	_, ok := d.pos[field]
	return ok
}

// parse decodes, applies defaults, validates and resolves paths.
func (d *decoder) parse(data []byte) *Config {
	cfg := &Config{Dir: d.dir, where: d}
	root, ok := d.document(data)
	if !ok {
		return cfg
	}
	if root != nil {
		d.decode(root, reflect.ValueOf(cfg).Elem(), "")
	}
	d.defaults(cfg)
	d.validate(cfg)
	d.resolvePaths(cfg)
	return cfg
}

var yamlLineRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^yaml: line (\d+): (.*)$`) })

// syntaxError records a YAML parse error, with its line when yaml gives one.
func (d *decoder) syntaxError(err error) {
	msg := err.Error()
	e := Error{File: d.file, Msg: strings.TrimPrefix(msg, "yaml: ")}
	if m := yamlLineRE().FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = m[2]
	}
	d.errs = append(d.errs, e)
}

// document parses the single YAML document of the file; root is nil for an
// empty file, ok is false after a syntax error.
func (d *decoder) document(data []byte) (root *yaml.Node, ok bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := decodeNode(dec, &doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, true
		}
		d.syntaxError(err)
		return nil, false
	}
	var extra yaml.Node
	switch err := decodeNode(dec, &extra); {
	case err == nil:
		n := &extra
		if len(extra.Content) > 0 {
			n = extra.Content[0]
		}
		d.add(n, "", "a config file holds one YAML document: remove the second one (after ---)")
	case !errors.Is(err, io.EOF):
		d.syntaxError(err)
		return nil, false
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return nil, true
	}
	return doc.Content[0], true
}

// decodeNode parses one document, turning a panic inside the YAML parser
// into an error so no input can crash a caller.
func decodeNode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: cannot parse the file: %v", r)
		}
	}()
	return dec.Decode(n)
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// describe names a node's value for "got …" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	v := n.Value
	if len([]rune(v)) > 40 {
		v = string([]rune(v)[:40]) + "…"
	}
	return strconv.Quote(v)
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

var durationType = reflect.TypeFor[source.Duration]()

// decode stores node n into v, the field at path.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if !d.spend(n, path) {
		return
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil || d.active[n] {
			d.fail(n, path, "alias refers to a value that contains it")
			return
		}
		d.active[n] = true
		d.decode(n.Alias, v, path)
		delete(d.active, n)
		return
	}
	t := v.Type()
	if t == durationType {
		if !d.wantScalar(n, path, "a duration like 30s, 5m or 1h") {
			return
		}
		var dur source.Duration
		if !isNull(n) {
			if err := n.Decode(&dur); err != nil {
				d.fail(n, path, strings.TrimPrefix(err.Error(), "yaml: "))
				return
			}
		}
		v.SetInt(int64(dur))
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.Pointer:
		if isNull(n) {
			v.SetZero()
			return
		}
		p := reflect.New(t.Elem())
		d.decode(n, p.Elem(), path)
		v.Set(p)
	case reflect.String:
		if d.wantScalar(n, path, "a string") && !isNull(n) {
			v.SetString(n.Value)
		}
	case reflect.Bool:
		if !d.wantScalar(n, path, "true or false") || isNull(n) {
			return
		}
		var b bool
		if err := n.Decode(&b); err != nil {
			d.fail(n, path, "want true or false, got "+describe(n))
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		if !d.wantScalar(n, path, "a whole number") || isNull(n) {
			return
		}
		var i int64
		if n.ShortTag() != "!!int" {
			d.fail(n, path, "want a whole number, got "+describe(n))
			return
		}
		if err := n.Decode(&i); err != nil {
			d.fail(n, path, "want a whole number, got "+describe(n))
			return
		}
		v.SetInt(i)
	default:
		d.fail(n, path, fmt.Sprintf("config: field of type %s is not supported", t))
	}
}

// spend counts a visited node; false once the budget is gone.
func (d *decoder) spend(n *yaml.Node, path string) bool {
	if d.budget > 0 {
		d.budget--
		return true
	}
	if !d.tooBig {
		d.tooBig = true
		d.fail(n, path, fmt.Sprintf("the document is too large once its aliases are expanded (more than %d values)", maxNodes))
	}
	return false
}

func (d *decoder) wantScalar(n *yaml.Node, path, what string) bool {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "want "+what+", got "+describe(n))
		return false
	}
	return true
}

// structInfo lists the YAML names of a struct's fields.
type structInfo struct {
	index map[string]int
	names []string // sorted
}

var structInfos sync.Map // reflect.Type → *structInfo

func infoOf(t reflect.Type) *structInfo {
	if si, ok := structInfos.Load(t); ok {
		return si.(*structInfo)
	}
	si := &structInfo{index: map[string]int{}}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" || name == "" {
			continue
		}
		si.index[name] = i
		si.names = append(si.names, name)
	}
	slices.Sort(si.names)
	structInfos.Store(t, si)
	return si
}

// secretHints says, for types where people are tempted to paste a secret,
// where the secret goes instead.
var secretHints = map[reflect.Type]string{
	reflect.TypeFor[AI]():            "set apiKeyEnv to the name of the environment variable that holds the key",
	reflect.TypeFor[Webhook]():       "set secretEnv to the name of the environment variable that holds the HMAC key",
	reflect.TypeFor[source.Source](): "send it in headers as a reference (env:NAME, ${NAME} or file:/path)",
	reflect.TypeFor[Config]():        "name the environment variables that hold secrets (ai.apiKeyEnv, webhooks[].secretEnv, env: header references)",
}

var secretWords = []string{"key", "token", "secret", "password", "passwd", "credential", "bearer", "auth"}

func looksLikeSecretName(name string) bool {
	n := strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

type pair struct{ key, value *yaml.Node }

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping, got "+describe(n))
		return
	}
	t := v.Type()
	si := infoOf(t)
	seen := map[string]*yaml.Node{}
	var meant []string
	for _, p := range d.pairs(n, path) {
		k := p.key
		if k.Kind != yaml.ScalarNode {
			d.add(k, path, "want a field name, got "+describe(k))
			continue
		}
		name := k.Value
		field := join(path, name)
		if first, dup := seen[name]; dup {
			d.add(k, field, fmt.Sprintf("duplicate field (first at line %d)", first.Line))
			continue
		}
		seen[name] = k
		i, ok := si.index[name]
		if !ok && strings.HasPrefix(name, "x-") {
			continue // an extension: room for anchors and notes
		}
		if !ok {
			if s := d.unknownField(k, t, si, field); s != "" {
				meant = append(meant, s)
			}
			continue
		}
		d.pos[field] = place{k.Line, k.Column}
		d.decode(p.value, v.Field(i), field)
	}
	// A field probably misspelt is not reported missing as well.
	for _, name := range meant {
		if seen[name] == nil {
			d.bad[join(path, name)] = true
		}
	}
}

// unknownField reports a field the type does not have and returns the
// field probably meant, if any.
func (d *decoder) unknownField(k *yaml.Node, t reflect.Type, si *structInfo, field string) string {
	name := k.Value
	s := suggest(name, si.names)
	if hint, ok := secretHints[t]; ok && s == "" && looksLikeSecretName(name) {
		d.add(k, field, "never put a secret in the config file: "+hint)
		return ""
	}
	msg := fmt.Sprintf("unknown field %q", name)
	if s != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", s)
	} else {
		msg += "; want one of " + strings.Join(si.names, ", ")
	}
	d.add(k, field, msg)
	return s
}

// pairs lists a mapping's key/value pairs, expanding merge keys (<<: *x):
// written keys win over merged ones, and earlier merged mappings over later.
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	var out []pair
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		out = append(out, pair{k, v})
	}
	if len(merges) == 0 {
		return out
	}
	have := map[string]bool{}
	for _, p := range out {
		if p.key.Kind == yaml.ScalarNode {
			have[p.key.Value] = true
		}
	}
	for _, m := range merges {
		d.merge(m, path, have, &out, true)
	}
	return out
}

func (d *decoder) merge(m *yaml.Node, path string, have map[string]bool, out *[]pair, listOK bool) {
	if !d.spend(m, path) {
		return
	}
	switch m.Kind {
	case yaml.AliasNode:
		if m.Alias == nil || d.active[m] {
			d.fail(m, path, "alias refers to a value that contains it")
			return
		}
		d.active[m] = true
		d.merge(m.Alias, path, have, out, listOK)
		delete(d.active, m)
	case yaml.MappingNode:
		for _, p := range d.pairs(m, path) {
			if p.key.Kind != yaml.ScalarNode || !have[p.key.Value] {
				if p.key.Kind == yaml.ScalarNode {
					have[p.key.Value] = true
				}
				*out = append(*out, p)
			}
		}
	case yaml.SequenceNode:
		if listOK {
			for _, item := range m.Content {
				d.merge(item, path, have, out, false)
			}
			return
		}
		fallthrough
	default:
		d.fail(m, path, "<< wants a mapping or a list of mappings, got "+describe(m))
	}
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		v.SetZero()
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "want a list, got "+describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		field := fmt.Sprintf("%s[%d]", path, i)
		d.pos[field] = place{item.Line, item.Column}
		d.decode(item, s.Index(i), field)
	}
	v.Set(s)
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		v.SetZero()
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping, got "+describe(n))
		return
	}
	t := v.Type()
	if t.Key().Kind() != reflect.String {
		d.fail(n, path, fmt.Sprintf("config: map of type %s is not supported", t))
		return
	}
	m := reflect.MakeMapWithSize(t, len(n.Content)/2)
	seen := map[string]*yaml.Node{}
	for _, p := range d.pairs(n, path) {
		k := p.key
		if k.Kind != yaml.ScalarNode || isNull(k) {
			d.add(k, path, "want a name, got "+describe(k))
			continue
		}
		field := join(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			d.add(k, field, fmt.Sprintf("duplicate name (first at line %d)", first.Line))
			continue
		}
		seen[k.Value] = k
		d.pos[field] = place{k.Line, k.Column}
		e := reflect.New(t.Elem()).Elem()
		d.decode(p.value, e, field)
		m.SetMapIndex(reflect.ValueOf(k.Value).Convert(t.Key()), e)
	}
	v.Set(m)
}
