package diff

import (
	"github.com/apilivesync/apilivesync/internal/jsonptr"
	"sort"
	"strconv"
	"strings"

	"github.com/pb33f/go-yaml"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	"github.com/pb33f/libopenapi/orderedmap"
)

// maxSchemaDepth bounds recursion through schemas that are not $refs on
// both sides (a cycle always goes through a $ref; this is a backstop).
const maxSchemaDepth = 64

// schema compares two schemas describing data flowing in dir. A schema
// reached through $refs is compared once per pair of references and
// direction, and its findings are located at the referenced component, so a
// component used in requests and responses is judged in both.
func (w *walker) schema(l loc, dir direction, op, np *base.SchemaProxy) {
	switch {
	case op == nil && np == nil:
		return
	case op == nil:
		w.added(rSchemaAdded.in(dir), dir, l, nil)
		return
	case np == nil:
		w.removed(rSchemaRemoved.in(dir), dir, l, nil)
		return
	}
	oref, nref := op.GetReference(), np.GetReference()
	if oref != "" && nref != "" && pureRef(op) && pureRef(np) {
		k := memoKey{oref, nref, dir, w.soft > 0, w.inParam > 0}
		if w.memo[k] {
			return
		}
		w.memo[k] = true
	}
	if w.depth >= maxSchemaDepth || w.unchangedSchema(op, np) {
		return
	}
	os, ns := withSiblings(op, w.oldSchemas), withSiblings(np, w.newSchemas)
	if os == nil || ns == nil {
		return // unresolvable: nothing to judge
	}
	if w.alternatives(l, dir, op, np, os, ns) {
		return
	}
	w.depth++
	if !w.switched(op, np) {
		// the same component on both sides (or renamed): report there, once
		l = proxyLoc(l, op, np)
	}
	w.schemaBody(l, dir, typeUnion(os), typeUnion(ns))
	w.depth--
}

// alternatives handles a schema that became (or stopped being) a oneOf or
// anyOf with the old (new) schema among its alternatives: the other
// alternatives were added (removed), and the kept one is compared.
func (w *walker) alternatives(l loc, dir direction, op, np *base.SchemaProxy, os, ns *base.Schema) bool {
	type side struct {
		key     string
		list    []*base.SchemaProxy
		add, rm dirRule
	}
	bare := func(s *base.Schema) bool {
		return len(s.Type) == 0 && orderedmap.Len(s.Properties) == 0 && s.Items == nil
	}
	pick := func(single *base.SchemaProxy, list []*base.SchemaProxy) int {
		for i, m := range list {
			if w.unchangedSchema(single, m) {
				return i
			}
		}
		for i, m := range list {
			if typeKey(single) != "" && typeKey(single) == typeKey(m) {
				return i
			}
		}
		return -1
	}
	for _, grown := range []bool{true, false} {
		// single is the schema without alternatives, ms the one with them
		single, ms, other := op, ns, os
		if !grown {
			single, ms, other = np, os, ns
		}
		for _, sd := range []side{{"oneOf", ms.OneOf, rOneOfAdded, rOneOfRemoved}, {"anyOf", ms.AnyOf, rAnyOfAdded, rAnyOfRemoved}} {
			if len(sd.list) == 0 || len(other.OneOf) > 0 || len(other.AnyOf) > 0 || !bare(ms) {
				continue
			}
			k := pick(single, sd.list)
			if k < 0 {
				continue
			}
			ml := l.at(sd.key)
			for i, m := range sd.list {
				if i == k {
					continue
				}
				if grown {
					w.added(sd.add.in(dir), dir, ml.at(strconv.Itoa(i)), memberName(m))
				} else {
					w.removed(sd.rm.in(dir), dir, ml.at(strconv.Itoa(i)), memberName(m))
				}
			}
			if grown {
				w.schema(loc{l.o, push(ml.n, strconv.Itoa(k))}, dir, op, sd.list[k])
			} else {
				w.schema(loc{push(ml.o, strconv.Itoa(k)), l.n}, dir, sd.list[k], np)
			}
			return true
		}
	}
	return false
}

// covers reports whether a type list names every JSON type.
func covers(types []string) bool {
	set := map[string]bool{}
	for _, t := range types {
		set[t] = true
	}
	for _, t := range allTypes {
		if !set[t] && !(t == "integer" && set["number"]) {
			return false
		}
	}
	return true
}

// allTypes are the JSON types; a union of all of them is no restriction.
var allTypes = []string{"array", "boolean", "integer", "number", "object", "string"}

// typeUnion reads an anyOf/oneOf of bare types ({type: string}, ...) that
// names every JSON type, or a type list that does, as no type at all.
func typeUnion(s *base.Schema) *base.Schema {
	alts := s.AnyOf
	if len(alts) == 0 {
		alts = s.OneOf
	}
	if len(alts) > 1 && len(s.Type) == 0 {
		var types []string
		for _, a := range alts {
			m := a.Schema()
			if m == nil || len(m.Type) != 1 || orderedmap.Len(m.Properties) > 0 || len(m.Enum) > 0 || m.Format != "" ||
				(m.Items != nil && !(m.Items.IsA() && m.Items.A != nil && emptySchema(m.Items.A))) {
				return s
			}
			types = append(types, m.Type[0])
		}
		if covers(types) {
			out := *s
			out.AnyOf, out.OneOf, out.Type = nil, nil, nil
			return &out
		}
		return s
	}
	if !covers(s.Type) {
		return s
	}
	out := *s
	out.Type = nil
	if nullable(s) {
		out.Type = []string{"null"}
	}
	return &out
}

func (w *walker) schemaBody(l loc, dir direction, o, n *base.Schema) {
	if o.BooleanSchema != nil || n.BooleanSchema != nil {
		ob, nb := boolSchema(o), boolSchema(n)
		switch {
		case ob && !nb:
			w.modified(rTypeNarrowed.in(dir), dir, l, true, false)
		case !ob && nb:
			w.modified(rTypeWidened.in(dir), dir, l, false, true)
		}
		return
	}
	if len(o.AllOf) > 0 || len(n.AllOf) > 0 {
		// allOf parts are judged by what they add up to: an object split
		// into parts, a part added or removed, is its properties added,
		// removed or changed
		w.allOfParts(l.at("allOf"), dir, o.AllOf, n.AllOf)
		o, n = flatten(o, 0), flatten(n, 0)
	}
	w.types(l, dir, o, n)
	w.nullable(l, dir, o, n)
	w.format(l, dir, o.Format, n.Format)
	w.enum(l, dir, "enum", o.Enum, n.Enum, rBecameEnum, rEnumDropped, rEnumValueAdded, rEnumValueRemoved)
	oe, _ := get(o.Extensions, "x-extensible-enum")
	ne, _ := get(n.Extensions, "x-extensible-enum")
	if oe != nil || ne != nil {
		w.enum(l, dir, "x-extensible-enum", seqContent(oe), seqContent(ne), rBecameEnum, rEnumDropped, rExtEnumValueAdded, rExtEnumValueRemoved)
	}
	w.constValue(l, dir, o.Const, n.Const)
	w.bounds(l, dir, o, n)
	w.pattern(l, dir, o.Pattern, n.Pattern)
	w.flag(l, dir, "readOnly", o.ReadOnly, n.ReadOnly, rBecameReadOnly, rNoLongerReadOnly)
	w.flag(l, dir, "writeOnly", o.WriteOnly, n.WriteOnly, rBecameWriteOnly, rNoLongerWriteOnly)
	w.flag(l, dir, "uniqueItems", o.UniqueItems, n.UniqueItems, rUniqueItemsAdded, rUniqueItemsRemoved)
	w.flag(l, dir, "deprecated", o.Deprecated, n.Deprecated, dirRule{rSchemaDeprecated, rSchemaDeprecated}, dirRule{rSchemaDeprecated, rSchemaDeprecated})
	defaultRule := rDefaultChanged.in(dir)
	if w.inParam > 0 && dir == dirRequest {
		defaultRule = rParamDefaultChanged
	}
	w.node(defaultRule, dir, l, "default", o.Default, n.Default)
	w.encoded(l, dir, o, n)
	w.properties(l, dir, o, n)
	w.additional(l, dir, "additionalProperties", o.AdditionalProperties, n.AdditionalProperties)
	w.additional(l, dir, "unevaluatedProperties", o.UnevaluatedProperties, n.UnevaluatedProperties)
	w.items(l, dir, o, n)
	w.members(l, dir, "oneOf", o.OneOf, n.OneOf, rOneOfAdded, rOneOfRemoved)
	w.members(l, dir, "anyOf", o.AnyOf, n.AnyOf, rAnyOfAdded, rAnyOfRemoved)
	w.optional(l, dir, "not", o.Not, n.Not, rNotAdded, rNotRemoved, false)
	w.discriminator(l.at("discriminator"), dir, o.Discriminator, n.Discriminator)
	w.optional(l, dir, "contains", o.Contains, n.Contains, rContainsAdded, rContainsRemoved, true)
	w.dependentRequired(l.at("dependentRequired"), dir, o.DependentRequired, n.DependentRequired)
	w.schemaMap(l.at("dependentSchemas"), dir, o.DependentSchemas, n.DependentSchemas, rDependentSchAdded, rDependentSchRemoved)
	w.schemaMap(l.at("patternProperties"), dir, o.PatternProperties, n.PatternProperties, rPatternPropAdded, rPatternPropRemoved)
	w.optional(l, dir, "if", o.If, n.If, rConditionalAdded, rConditionalRemoved, true)
	w.optional(l, dir, "then", o.Then, n.Then, rConditionalAdded, rConditionalRemoved, true)
	w.optional(l, dir, "else", o.Else, n.Else, rConditionalAdded, rConditionalRemoved, true)
	w.optional(l, dir, "propertyNames", o.PropertyNames, n.PropertyNames, rPropertyNamesAdded, rPropertyNamesRemoved, true)
	w.optional(l, dir, "unevaluatedItems", o.UnevaluatedItems, n.UnevaluatedItems, rUnevaluatedNarrowed, rUnevaluatedWidened, true)
	w.prefixItems(l.at("prefixItems"), dir, o.PrefixItems, n.PrefixItems)

	w.xml(l.at("xml"), dir, o.XML, n.XML)
	w.text(rDescriptionChanged, dir, l, "title", o.Title, n.Title)
	w.text(rDescriptionChanged, dir, l, "description", o.Description, n.Description)
	w.node(rExampleChanged, dir, l, "example", o.Example, n.Example)
	w.nodeList(rExampleChanged, dir, l, "examples", o.Examples, n.Examples)
	w.extensions(dir, l, o.Extensions, n.Extensions, "x-extensible-enum")
}

// flatten merges allOf members into one schema: their properties and
// required names, and whatever keywords the schema itself leaves unset.
func flatten(s *base.Schema, depth int) *base.Schema {
	if len(s.AllOf) == 0 || depth > 8 {
		return s
	}
	out := *s
	out.AllOf = nil
	props := orderedmap.New[string, *base.SchemaProxy]()
	for k, v := range s.Properties.FromOldest() {
		props.Set(k, v)
	}
	out.Required = append([]string(nil), s.Required...)
	for _, mp := range s.AllOf {
		m := mp.Schema()
		if m == nil {
			continue
		}
		m = flatten(m, depth+1)
		for k, v := range m.Properties.FromOldest() {
			if _, ok := props.Get(k); !ok {
				props.Set(k, v)
			}
		}
		out.Required = append(out.Required, m.Required...)
		if len(out.Type) == 0 {
			out.Type = m.Type
		}
		if out.Format == "" {
			out.Format = m.Format
		}
		if len(out.Enum) == 0 {
			out.Enum = m.Enum
		}
		if out.Items == nil {
			out.Items = m.Items
		}
		if out.AdditionalProperties == nil {
			out.AdditionalProperties = m.AdditionalProperties
		}
		if out.Discriminator == nil {
			out.Discriminator = m.Discriminator
		}
		if out.Nullable == nil {
			out.Nullable = m.Nullable
		}
		out.OneOf = append(out.OneOf, m.OneOf...)
		out.AnyOf = append(out.AnyOf, m.AnyOf...)
	}
	out.Properties = props
	return &out
}

// withSiblings is the schema a proxy stands for; for a $ref with sibling
// keywords, the referenced schema with the siblings laid over it (libopenapi
// builds the siblings alone).
func withSiblings(p *base.SchemaProxy, named map[string]*base.SchemaProxy) *base.Schema {
	s := p.Schema()
	if s == nil || pureRef(p) || p.GetReference() == "" {
		return s
	}
	target := named[p.GetReference()]
	if target == nil {
		return s
	}
	t := target.Schema()
	if t == nil {
		return s
	}
	out := *t
	if s.Description != "" {
		out.Description = s.Description
	}
	if s.Title != "" {
		out.Title = s.Title
	}
	for _, f := range []struct{ dst, src **bool }{{&out.Deprecated, &s.Deprecated}, {&out.ReadOnly, &s.ReadOnly},
		{&out.WriteOnly, &s.WriteOnly}, {&out.Nullable, &s.Nullable}} {
		if *f.src != nil {
			*f.dst = *f.src
		}
	}
	for _, f := range []struct{ dst, src **yaml.Node }{{&out.Default, &s.Default}, {&out.Example, &s.Example}, {&out.Const, &s.Const}} {
		if *f.src != nil {
			*f.dst = *f.src
		}
	}
	if len(s.Enum) > 0 {
		out.Enum = s.Enum
	}
	if len(s.Examples) > 0 {
		out.Examples = s.Examples
	}
	if s.Format != "" {
		out.Format = s.Format
	}
	for _, f := range []struct{ dst, src **int64 }{{&out.MaxLength, &s.MaxLength}, {&out.MinLength, &s.MinLength},
		{&out.MaxItems, &s.MaxItems}, {&out.MinItems, &s.MinItems}, {&out.MaxProperties, &s.MaxProperties}, {&out.MinProperties, &s.MinProperties}} {
		if *f.src != nil {
			*f.dst = *f.src
		}
	}
	for _, f := range []struct{ dst, src **float64 }{{&out.Maximum, &s.Maximum}, {&out.Minimum, &s.Minimum}, {&out.MultipleOf, &s.MultipleOf}} {
		if *f.src != nil {
			*f.dst = *f.src
		}
	}
	if s.ExclusiveMaximum != nil {
		out.ExclusiveMaximum = s.ExclusiveMaximum
	}
	if s.ExclusiveMinimum != nil {
		out.ExclusiveMinimum = s.ExclusiveMinimum
	}
	if s.UniqueItems != nil {
		out.UniqueItems = s.UniqueItems
	}
	if s.Pattern != "" {
		out.Pattern = s.Pattern
	}
	if orderedmap.Len(s.Extensions) > 0 {
		out.Extensions = s.Extensions
	}
	return &out
}

// allOfParts reports parts added to or removed from an allOf (paired by
// $ref, title or content, then in order); flatten judges what they hold.
func (w *walker) allOfParts(l loc, dir direction, o, n []*base.SchemaProxy) {
	key := func(p *base.SchemaProxy) string {
		if r := p.GetReference(); r != "" {
			return "ref:" + r
		}
		if s := p.Schema(); s != nil && s.Title != "" {
			return "title:" + s.Title
		}
		return ""
	}
	matched, used := make([]bool, len(o)), make([]bool, len(n))
	for _, same := range []func(a, b *base.SchemaProxy) bool{
		func(a, b *base.SchemaProxy) bool { return key(a) != "" && key(a) == key(b) },
		w.unchangedSchema,
		func(a, b *base.SchemaProxy) bool { return key(a) == "" && key(b) == "" },
	} {
		for i, op := range o {
			for j, np := range n {
				if !matched[i] && !used[j] && same(op, np) {
					matched[i], used[j] = true, true
				}
			}
		}
	}
	for i, op := range o {
		if !matched[i] {
			w.removed(rAllOfRemoved.in(dir), dir, l.at(strconv.Itoa(i)), memberName(op))
		}
	}
	for j, np := range n {
		if !used[j] {
			w.added(rAllOfAdded.in(dir), dir, l.at(strconv.Itoa(j)), memberName(np))
		}
	}
}

// xml compares the XML object; false and empty are its defaults.
func (w *walker) xml(l loc, dir direction, o, n *base.XML) {
	var zero base.XML
	if o == nil {
		o = &zero
	}
	if n == nil {
		n = &zero
	}
	for _, f := range []struct{ key, o, n string }{{"name", o.Name, n.Name}, {"namespace", o.Namespace, n.Namespace}, {"prefix", o.Prefix, n.Prefix}} {
		w.text(rXMLChanged.in(dir), dir, l, f.key, f.o, f.n)
	}
	if o.Attribute != n.Attribute {
		w.modified(rXMLChanged.in(dir), dir, l.at("attribute"), o.Attribute, n.Attribute)
	}
	if o.Wrapped != n.Wrapped {
		w.modified(rXMLChanged.in(dir), dir, l.at("wrapped"), o.Wrapped, n.Wrapped)
	}
}

func boolSchema(s *base.Schema) bool { return s.BooleanSchema == nil || *s.BooleanSchema }

func seqContent(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

func (w *walker) nodeList(r *rule, dir direction, l loc, key string, o, n []*yaml.Node) {
	if len(o) == 0 && len(n) == 0 {
		return
	}
	same := len(o) == len(n)
	for i := 0; same && i < len(o); i++ {
		same = nodesEqual(o[i], n[i])
	}
	if !same {
		w.modified(r, dir, l.at(key), len(o), len(n))
	}
}

// typeSet is the declared types, without "null" (judged as nullability).
func typeSet(s *base.Schema) map[string]bool {
	m := map[string]bool{}
	for _, t := range s.Type {
		if t != "null" {
			m[t] = true
		}
	}
	return m
}

func (w *walker) types(l loc, dir direction, o, n *base.Schema) {
	ot, nt := typeSet(o), typeSet(n)
	var added, removed []string
	for t := range nt {
		if !ot[t] {
			added = append(added, t)
		}
	}
	for t := range ot {
		if !nt[t] && !(t == "integer" && nt["number"]) { // number holds every integer
			removed = append(removed, t)
		}
	}
	if len(added) == 0 && len(removed) == 0 {
		return
	}
	ov, nv := strings.Join(sortedTypes(o.Type), ","), strings.Join(sortedTypes(n.Type), ",")
	tl := l.at("type")
	switch {
	case len(ot) == 0:
		// untyped before: a type that only states what the keywords imply
		// (properties → object, items → array) changes nothing
		if len(nt) == 1 && ((nt["object"] && orderedmap.Len(o.Properties) > 0) || (nt["array"] && o.Items != nil)) {
			return
		}
		w.added(rTypeNarrowed.in(dir), dir, tl, nv)
	case len(nt) == 0:
		w.removed(rTypeWidened.in(dir), dir, tl, ov)
	case len(removed) == 0:
		w.modified(rTypeWidened.in(dir), dir, tl, ov, nv)
	case len(added) == 0 || (len(added) == 1 && added[0] == "integer" && ot["number"] && len(removed) == 1):
		w.modified(rTypeNarrowed.in(dir), dir, tl, ov, nv)
	case w.inParam > 0 && dir == dirRequest && textOf(ot, nt):
		// a parameter travels as text: ?n=5 is as good a string as a number
		w.modified(rTypeWidened.in(dir), dir, tl, ov, nv)
	default:
		w.modified(rTypeChanged.in(dir), dir, tl, ov, nv)
	}
}

// textOf says the new types are just string and the old ones scalars
// that a parameter writes as text (numbers, integers, booleans).
func textOf(ot, nt map[string]bool) bool {
	if len(nt) != 1 || !nt["string"] {
		return false
	}
	for t := range ot {
		if t != "number" && t != "integer" && t != "boolean" {
			return false
		}
	}
	return true
}

func sortedTypes(t []string) []string {
	out := append([]string(nil), t...)
	sort.Strings(out)
	return out
}

func nullable(s *base.Schema) bool {
	if s.Nullable != nil && *s.Nullable {
		return true
	}
	for _, t := range s.Type {
		if t == "null" {
			return true
		}
	}
	return false
}

func (w *walker) nullable(l loc, dir direction, o, n *base.Schema) {
	on, nn := nullable(o), nullable(n)
	key := "nullable"
	if o.Nullable == nil && n.Nullable == nil {
		key = "type"
	}
	switch {
	case !on && nn:
		w.modified(rBecameNullable.in(dir), dir, l.at(key), false, true)
	case on && !nn:
		w.modified(rBecameNotNullable.in(dir), dir, l.at(key), true, false)
	}
}

var formatWidening = map[[2]string]bool{
	{"int32", "int64"}: true, {"float", "double"}: true, {"int32", "number"}: true,
	{"int64", "number"}: true, {"date", "date-time"}: false,
}

func (w *walker) format(l loc, dir direction, o, n string) {
	fl := l.at("format")
	switch {
	case o == n:
	case o == "":
		w.added(rFormatAdded.in(dir), dir, fl, n)
	case n == "":
		w.removed(rFormatRemoved.in(dir), dir, fl, o)
	case formatWidening[[2]string{o, n}]:
		w.modified(rFormatWidened.in(dir), dir, fl, o, n)
	case formatWidening[[2]string{n, o}]:
		w.modified(rFormatNarrowed.in(dir), dir, fl, o, n)
	default:
		w.modified(rFormatChanged.in(dir), dir, fl, o, n)
	}
}

func (w *walker) enum(l loc, dir direction, key string, o, n []*yaml.Node, became, dropped, added, removed dirRule) {
	if len(o) == 0 && len(n) == 0 {
		return
	}
	el := l.at(key)
	switch {
	case len(o) == 0:
		w.added(became.in(dir), dir, el, len(n))
		return
	case len(n) == 0:
		w.removed(dropped.in(dir), dir, el, len(o))
		return
	}
	ov := make(map[string]bool, len(o))
	for _, v := range o {
		ov[nodeText(v)] = true
	}
	nv := make(map[string]bool, len(n))
	for i, v := range n {
		t := nodeText(v)
		nv[t] = true
		if !ov[t] {
			w.added(added.in(dir), dir, el.at(strconv.Itoa(i)), nodeValue(v))
		}
	}
	for i, v := range o {
		if !nv[nodeText(v)] {
			w.removed(removed.in(dir), dir, el.at(strconv.Itoa(i)), nodeValue(v))
		}
	}
}

func (w *walker) constValue(l loc, dir direction, o, n *yaml.Node) {
	cl := l.at("const")
	switch {
	case o == nil && n == nil:
	case o == nil:
		w.added(rConstAdded.in(dir), dir, cl, nodeValue(n))
	case n == nil:
		w.removed(rConstRemoved.in(dir), dir, cl, nodeValue(o))
	case !nodesEqual(o, n):
		w.modified(rConstChanged.in(dir), dir, cl, nodeValue(o), nodeValue(n))
	}
}

// bound compares one limit; upper limits (max*) narrow when they fall or
// appear, lower limits (min*) when they rise or appear.
func (w *walker) bound(l loc, dir direction, key string, upper bool, o, n *float64) {
	bl := l.at(key)
	switch {
	case o == nil && n == nil:
	case o == nil:
		w.added(rBoundAdded.in(dir), dir, bl, *n)
	case n == nil:
		w.removed(rBoundWidened.in(dir), dir, bl, *o)
	case *o == *n:
	case (*n < *o) == upper:
		w.modified(rBoundNarrowed.in(dir), dir, bl, *o, *n)
	default:
		w.modified(rBoundWidened.in(dir), dir, bl, *o, *n)
	}
}

func f64(i *int64) *float64 {
	if i == nil {
		return nil
	}
	f := float64(*i)
	return &f
}

func (w *walker) bounds(l loc, dir direction, o, n *base.Schema) {
	// a lower limit of 0 on a length or a count is no limit
	w.bound(l, dir, "maxLength", true, f64(o.MaxLength), f64(n.MaxLength))
	w.bound(l, dir, "minLength", false, f64(nz(o.MinLength)), f64(nz(n.MinLength)))
	w.numeric(l, dir, true, o, n)
	w.numeric(l, dir, false, o, n)
	w.bound(l, dir, "maxItems", true, f64(o.MaxItems), f64(n.MaxItems))
	w.bound(l, dir, "minItems", false, f64(nz(o.MinItems)), f64(nz(n.MinItems)))
	w.bound(l, dir, "maxProperties", true, f64(o.MaxProperties), f64(n.MaxProperties))
	w.bound(l, dir, "minProperties", false, f64(nz(o.MinProperties)), f64(nz(n.MinProperties)))
	w.bound(l, dir, "maxContains", true, f64(o.MaxContains), f64(n.MaxContains))
	w.bound(l, dir, "minContains", false, f64(o.MinContains), f64(n.MinContains))
	ml := l.at("multipleOf")
	switch om, nm := o.MultipleOf, n.MultipleOf; {
	case om == nil && nm == nil:
	case om == nil:
		w.added(rBoundAdded.in(dir), dir, ml, *nm)
	case nm == nil:
		w.removed(rBoundWidened.in(dir), dir, ml, *om)
	case *om != *nm:
		r := rMultipleOfChanged.in(dir)
		if q := *om / *nm; q == float64(int64(q)) { // the old multiple is still one
			r = rBoundWidened.in(dir)
		}
		w.modified(r, dir, ml, *om, *nm)
	}
}

func nz(i *int64) *int64 {
	if i != nil && *i == 0 {
		return nil
	}
	return i
}

// limit is a numeric bound: its value, whether the value itself is
// excluded, and the keyword that states it.
type limit struct {
	v    float64
	excl bool
	key  string
}

// numericLimit reads maximum (upper) or minimum with its exclusive form:
// exclusiveMaximum is a flag on maximum in OpenAPI 3.0, a bound of its own
// in 3.1; the tighter of the two holds.
func numericLimit(s *base.Schema, upper bool) *limit {
	inc, ex, key, exKey := s.Maximum, s.ExclusiveMaximum, "maximum", "exclusiveMaximum"
	if !upper {
		inc, ex, key, exKey = s.Minimum, s.ExclusiveMinimum, "minimum", "exclusiveMinimum"
	}
	var out *limit
	if inc != nil {
		out = &limit{v: *inc, key: key, excl: ex != nil && ex.IsA() && ex.A}
	}
	if ex != nil && ex.IsB() {
		e := &limit{v: ex.B, excl: true, key: exKey}
		if out == nil || (upper && e.v <= out.v) || (!upper && e.v >= out.v) {
			out = e
		}
	}
	return out
}

// tighter reports whether limit a admits fewer values than b.
func (a *limit) tighter(b *limit, upper bool) bool {
	if a.v != b.v {
		return (a.v < b.v) == upper
	}
	return a.excl && !b.excl
}

func (w *walker) numeric(l loc, dir direction, upper bool, o, n *base.Schema) {
	ol, nl := numericLimit(o, upper), numericLimit(n, upper)
	switch {
	case ol == nil && nl == nil:
	case ol == nil:
		w.added(rBoundAdded.in(dir), dir, l.at(nl.key), nl.v)
	case nl == nil:
		w.removed(rBoundWidened.in(dir), dir, l.at(ol.key), ol.v)
	case nl.tighter(ol, upper):
		w.modified(rBoundNarrowed.in(dir), dir, l.at(nl.key), ol.v, nl.v)
	case ol.tighter(nl, upper):
		w.modified(rBoundWidened.in(dir), dir, l.at(nl.key), ol.v, nl.v)
	}
}

func (w *walker) pattern(l loc, dir direction, o, n string) {
	pl := l.at("pattern")
	switch {
	case o == n:
	case o == "":
		w.added(rPatternAdded.in(dir), dir, pl, n)
	case n == "":
		w.removed(rPatternRemoved.in(dir), dir, pl, o)
	default:
		w.modified(rPatternChanged.in(dir), dir, pl, o, n)
	}
}

// flag compares a boolean keyword that is off when absent.
func (w *walker) flag(l loc, dir direction, key string, o, n *bool, on, off dirRule) {
	ov, nv := o != nil && *o, n != nil && *n
	switch {
	case !ov && nv:
		w.modified(on.in(dir), dir, l.at(key), false, true)
	case ov && !nv:
		w.modified(off.in(dir), dir, l.at(key), true, false)
	}
}

func flagSet(b *bool) bool { return b != nil && *b }

func (w *walker) properties(l loc, dir direction, o, n *base.Schema) {
	oreq, nreq := stringSet(o.Required), stringSet(n.Required)
	pl := l.at("properties")
	for name, op := range o.Properties.FromOldest() {
		np, ok := get(n.Properties, name)
		if !ok {
			r := rPropertyRemovedReq
			if dir == dirResponse {
				r = rPropertyRemovedOpt
				if oreq[name] && !propFlag(op, true) {
					r = rPropertyRemovedReqd
				}
			}
			w.softly(ignored(dir, op), func() { w.removed(r, dir, pl.at(name), nil) })
			continue
		}
		w.softly(ignored(dir, op) && ignored(dir, np), func() { w.schema(pl.at(name), dir, op, np) })
	}
	for name, np := range n.Properties.FromOldest() {
		if _, ok := get(o.Properties, name); ok {
			continue
		}
		r := rPropertyAddedResp
		if dir != dirResponse {
			r = rPropertyAddedOpt
			if nreq[name] && !propFlag(np, false) {
				r = rPropertyAddedReq
			}
		}
		// a new required property with a default: clients that omit it get the default
		w.softly(r == rPropertyAddedReq && hasDefault(np), func() { w.added(r, dir, pl.at(name), nil) })
	}
	rl := l.at("required")
	for i, name := range n.Required {
		if oreq[name] {
			// required all along, but read-only: clients never sent it, and now must
			op, _ := get(o.Properties, name)
			np, _ := get(n.Properties, name)
			if dir == dirRequest && propFlag(op, false) && np != nil && !propFlag(np, false) && !hasDefault(np) {
				w.added(rBecameRequired.in(dir), dir, rl.at(strconv.Itoa(i)), name)
			}
			continue
		}
		if _, isNew := get(n.Properties, name); isNew {
			if _, wasThere := get(o.Properties, name); !wasThere {
				continue // judged as a new property
			}
		}
		np, _ := get(n.Properties, name)
		soft := dir == dirRequest && (propFlag(np, false) || hasDefault(np)) // readOnly, or defaulted
		w.softly(soft, func() { w.added(rBecameRequired.in(dir), dir, rl.at(strconv.Itoa(i)), name) })
	}
	for i, name := range o.Required {
		if nreq[name] {
			continue
		}
		if _, stays := get(n.Properties, name); !stays {
			if _, was := get(o.Properties, name); was {
				continue // judged as a removed property
			}
		}
		op, _ := get(o.Properties, name)
		soft := dir == dirResponse && propFlag(op, true) // writeOnly: never in responses
		w.softly(soft, func() { w.removed(rBecameOptional.in(dir), dir, rl.at(strconv.Itoa(i)), name) })
	}
}

// ignored reports whether the reader of dir ignores a property: a
// readOnly one in requests, a writeOnly one in responses.
func ignored(dir direction, p *base.SchemaProxy) bool {
	switch dir {
	case dirRequest:
		return propFlag(p, false)
	case dirResponse:
		return propFlag(p, true)
	}
	return false
}

// softly runs f with its findings capped at info when soft.
func (w *walker) softly(soft bool, f func()) {
	if soft {
		w.soft++
		defer func() { w.soft-- }()
	}
	f()
}

func hasDefault(p *base.SchemaProxy) bool {
	if p == nil {
		return false
	}
	s := p.Schema()
	return s != nil && s.Default != nil
}

// encoded compares the keywords of encoded string content.
func (w *walker) encoded(l loc, dir direction, o, n *base.Schema) {
	if o.ContentMediaType != n.ContentMediaType {
		w.modified(rContentChanged.in(dir), dir, l.at("contentMediaType"), o.ContentMediaType, n.ContentMediaType)
	}
	if o.ContentEncoding != n.ContentEncoding {
		w.modified(rContentChanged.in(dir), dir, l.at("contentEncoding"), o.ContentEncoding, n.ContentEncoding)
	}
	w.optional(l, dir, "contentSchema", o.ContentSchema, n.ContentSchema, rContentSchemaAdded, rContentSchemaRemoved, true)
}

// propFlag reports a property's writeOnly (write true) or readOnly flag.
func propFlag(p *base.SchemaProxy, write bool) bool {
	if p == nil {
		return false
	}
	s := p.Schema()
	if s == nil {
		return false
	}
	if write {
		return flagSet(s.WriteOnly)
	}
	return flagSet(s.ReadOnly)
}

func stringSet(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, s := range list {
		m[s] = true
	}
	return m
}

// additional compares additionalProperties or unevaluatedProperties:
// absent or true allows anything, false nothing, a schema what it says.
func (w *walker) additional(l loc, dir direction, key string, o, n *base.DynamicValue[*base.SchemaProxy, bool]) {
	state := func(d *base.DynamicValue[*base.SchemaProxy, bool]) (open bool, s *base.SchemaProxy) {
		if d == nil {
			return true, nil
		}
		if d.IsA() {
			if d.A == nil {
				return true, nil
			}
			if sc := d.A.Schema(); sc != nil && sc.BooleanSchema != nil {
				return *sc.BooleanSchema, nil
			}
			if emptySchema(d.A) { // {} allows anything, as true does
				return true, nil
			}
			return false, d.A
		}
		return d.B, nil
	}
	oo, os := state(o)
	no, ns := state(n)
	al := l.at(key)
	narrowed, widened := rAdditionalNarrowed, rAdditionalWidened
	if key == "unevaluatedProperties" {
		narrowed, widened = rUnevaluatedNarrowed, rUnevaluatedWidened
	}
	switch {
	case os != nil && ns != nil:
		w.schema(al, dir, os, ns)
	case oo && !no: // anything → a schema or nothing
		w.modified(narrowed.in(dir), dir, al, "allowed", describeAdditional(no, ns))
	case !oo && no:
		w.modified(widened.in(dir), dir, al, describeAdditional(oo, os), "allowed")
	case os != nil && ns == nil: // a schema → nothing
		w.modified(narrowed.in(dir), dir, al, "schema", "none")
	case os == nil && ns != nil: // nothing → a schema
		w.modified(widened.in(dir), dir, al, "none", "schema")
	}
}

// emptySchema reports a schema written as {}.
func emptySchema(p *base.SchemaProxy) bool {
	lp := p.GoLow()
	if lp == nil || p.GetReference() != "" {
		return false
	}
	n := lp.GetValueNode()
	return n != nil && n.Kind == yaml.MappingNode && len(n.Content) == 0
}

func describeAdditional(open bool, s *base.SchemaProxy) string {
	switch {
	case open:
		return "allowed"
	case s != nil:
		return "schema"
	}
	return "none"
}

func (w *walker) items(l loc, dir direction, o, n *base.Schema) {
	oi, ni := itemsProxy(o.Items), itemsProxy(n.Items)
	il := l.at("items")
	switch {
	case oi == nil && ni == nil:
	case oi == nil:
		w.added(rItemsAdded.in(dir), dir, il, nil)
	case ni == nil:
		w.removed(rItemsRemoved.in(dir), dir, il, nil)
	default:
		w.schema(il, dir, oi, ni)
	}
}

func itemsProxy(d *base.DynamicValue[*base.SchemaProxy, bool]) *base.SchemaProxy {
	if d == nil || !d.IsA() {
		return nil
	}
	return d.A
}

// optional compares a keyword holding one subschema; when recurse is false
// a changed subschema is not judged (its meaning is inverted, as in not).
func (w *walker) optional(l loc, dir direction, key string, o, n *base.SchemaProxy, added, removed dirRule, recurse bool) {
	kl := l.at(key)
	switch {
	case o == nil && n == nil:
	case o == nil:
		w.added(added.in(dir), dir, kl, nil)
	case n == nil:
		w.removed(removed.in(dir), dir, kl, nil)
	case recurse:
		w.schema(kl, dir, o, n)
	}
}

// members compares oneOf/anyOf/allOf lists, pairing members by $ref, then
// by title, then by position among the rest.
func (w *walker) members(l loc, dir direction, key string, o, n []*base.SchemaProxy, added, removed dirRule) {
	if len(o) == 0 && len(n) == 0 {
		return
	}
	ml := l.at(key)
	id := func(p *base.SchemaProxy) string {
		if r := p.GetReference(); r != "" {
			return "ref:" + r
		}
		if s := p.Schema(); s != nil && s.Title != "" {
			return "title:" + s.Title
		}
		return ""
	}
	oids := make([]string, len(o))
	used := make([]bool, len(n))
	for i, p := range o {
		oids[i] = id(p)
	}
	nids := make([]string, len(n))
	for j, p := range n {
		nids[j] = id(p)
	}
	match := make([]int, len(o))
	for i := range o {
		match[i] = -1
		if oids[i] == "" {
			continue
		}
		for j := range n {
			if !used[j] && nids[j] == oids[i] {
				match[i], used[j] = j, true
				break
			}
		}
	}
	// a member whose $ref was renamed pairs with the new one if what they
	// name is identical: component names are not on the wire
	for i := range o {
		if match[i] >= 0 || o[i].GetReference() == "" {
			continue
		}
		for j := range n {
			if !used[j] && n[j].GetReference() != "" && w.sameTarget(o[i].GetReference(), n[j].GetReference()) {
				match[i], used[j] = j, true
				break
			}
		}
	}
	// anonymous members pair with an identical one, then one of the same
	// type, then in order
	pairs := []func(i, j int) bool{
		func(i, j int) bool { return w.unchangedSchema(o[i], n[j]) },
		func(i, j int) bool { return typeKey(o[i]) != "" && typeKey(o[i]) == typeKey(n[j]) },
		func(i, j int) bool { return true },
	}
	for _, same := range pairs {
		for i := range o {
			if match[i] >= 0 || oids[i] != "" {
				continue
			}
			for j := range n {
				if !used[j] && nids[j] == "" && same(i, j) {
					match[i], used[j] = j, true
					break
				}
			}
		}
	}
	for i, p := range o {
		if match[i] < 0 {
			w.removed(removed.in(dir), dir, ml.at(strconv.Itoa(i)), memberName(p))
			continue
		}
		w.schema(loc{push(ml.o, strconv.Itoa(i)), push(ml.n, strconv.Itoa(match[i]))}, dir, p, n[match[i]])
	}
	for j, p := range n {
		if !used[j] {
			w.added(added.in(dir), dir, ml.at(strconv.Itoa(j)), memberName(p))
		}
	}
}

// typeKey is a member's declared types, "" when it has none.
func typeKey(p *base.SchemaProxy) string {
	s := p.Schema()
	if s == nil {
		return ""
	}
	return strings.Join(sortedTypes(s.Type), ",")
}

func memberName(p *base.SchemaProxy) any {
	if r := p.GetReference(); r != "" {
		return r
	}
	return nil
}

func (w *walker) discriminator(l loc, dir direction, o, n *base.Discriminator) {
	switch {
	case o == nil && n == nil:
		return
	case o == nil:
		w.added(rDiscriminatorAdded.in(dir), dir, l, n.PropertyName)
		return
	case n == nil:
		w.removed(rDiscriminatorRemoved.in(dir), dir, l, o.PropertyName)
		return
	}
	if o.PropertyName != n.PropertyName {
		w.modified(rDiscriminatorChanged.in(dir), dir, l.at("propertyName"), o.PropertyName, n.PropertyName)
	}
	ml := l.at("mapping")
	for k, ov := range o.Mapping.FromOldest() {
		nv, ok := get(n.Mapping, k)
		switch {
		case !ok:
			w.removed(rMappingRemoved.in(dir), dir, ml.at(k), ov)
		case nv != ov && !w.sameTarget(mappingRef(ov), mappingRef(nv)):
			w.modified(rMappingChanged.in(dir), dir, ml.at(k), ov, nv)
		}
	}
	for k, nv := range n.Mapping.FromOldest() {
		if _, ok := get(o.Mapping, k); !ok {
			w.added(rMappingAdded.in(dir), dir, ml.at(k), nv)
		}
	}
}

func (w *walker) dependentRequired(l loc, dir direction, o, n *orderedmap.Map[string, []string]) {
	for k, ov := range o.FromOldest() {
		nv, _ := get(n, k)
		ns := stringSet(nv)
		for _, name := range ov {
			if !ns[name] {
				w.removed(rDependentReqRemoved.in(dir), dir, l.at(k), name)
			}
		}
	}
	for k, nv := range n.FromOldest() {
		ov, _ := get(o, k)
		os := stringSet(ov)
		for _, name := range nv {
			if !os[name] {
				w.added(rDependentReqAdded.in(dir), dir, l.at(k), name)
			}
		}
	}
}

func (w *walker) schemaMap(l loc, dir direction, o, n *orderedmap.Map[string, *base.SchemaProxy], added, removed dirRule) {
	for k, op := range o.FromOldest() {
		if np, ok := get(n, k); ok {
			w.schema(l.at(k), dir, op, np)
		} else {
			w.removed(removed.in(dir), dir, l.at(k), k)
		}
	}
	for k := range n.FromOldest() {
		if _, ok := get(o, k); !ok {
			w.added(added.in(dir), dir, l.at(k), k)
		}
	}
}

func (w *walker) prefixItems(l loc, dir direction, o, n []*base.SchemaProxy) {
	for i := range max(len(o), len(n)) {
		il := l.at(strconv.Itoa(i))
		switch {
		case i >= len(n):
			w.removed(rPrefixItemRemoved.in(dir), dir, il, nil)
		case i >= len(o):
			w.added(rPrefixItemAdded.in(dir), dir, il, nil)
		default:
			w.schema(il, dir, o[i], n[i])
		}
	}
}

// mappingRef is a discriminator mapping value as a local $ref: a bare name
// names a component schema.
func mappingRef(v string) string {
	if strings.Contains(v, "/") || strings.Contains(v, "#") {
		return v
	}
	return "#/components/schemas/" + v
}

// switched says a $ref now names another component that both documents
// have (a response that returned Status now returns Error): what differs
// between the two belongs to the place that switched, not to either
// component, which did not change.
func (w *walker) switched(op, np *base.SchemaProxy) bool {
	oref, nref := op.GetReference(), np.GetReference()
	if oref == "" || nref == "" || !pureRef(op) || !pureRef(np) {
		return false
	}
	on, nn := refSegs(oref), refSegs(nref)
	if len(on) == 0 || len(nn) == 0 || on[len(on)-1] == nn[len(nn)-1] {
		return false
	}
	_, oldStays := w.newSchemas[sameName(oref, w.newSchemas)]
	_, newWas := w.oldSchemas[sameName(nref, w.oldSchemas)]
	return oldStays || newWas
}

// sameName is the ref among schemas that names the same component as ref
// (definitions/X and components/schemas/X alike), or "".
func sameName(ref string, schemas map[string]*base.SchemaProxy) string {
	if _, ok := schemas[ref]; ok {
		return ref
	}
	segs := refSegs(ref)
	if len(segs) == 0 {
		return ""
	}
	for _, prefix := range []string{"#/components/schemas/", "#/definitions/"} {
		if r := prefix + jsonptr.Escape(segs[len(segs)-1]); schemas[r] != nil {
			return r
		}
	}
	return ""
}
