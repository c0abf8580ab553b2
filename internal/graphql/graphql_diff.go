package graphql

import (
	"slices"
	"sort"
	"strings"

	"github.com/apilivesync/apilivesync/internal/diff"
)

// RuleSet names the rules Compare applies (diff.Report.RuleSet).
const RuleSet = "graphql/v1"

// Objects a GraphQL change can concern (diff.Change.Object).
const (
	ObjectSchema      = "schema"
	ObjectType        = "type"
	ObjectField       = "field"
	ObjectInputField  = "inputField"
	ObjectArgument    = "argument"
	ObjectEnumValue   = "enumValue"
	ObjectUnionMember = "unionMember"
	ObjectInterface   = "interface"
	ObjectDirective   = "directive"
)

// Rule is one entry of the catalogue: a stable ID, the level of the
// changes it decides and why.
type Rule struct {
	ID          string `json:"id"`
	Level       string `json:"level"`
	Explanation string `json:"explanation"`
}

// Rule IDs (diff.Change.Rule).
const (
	RuleTypeRemoved             = "type.removed"
	RuleTypeAdded               = "type.added"
	RuleTypeKindChanged         = "type.kind-changed"
	RuleSchemaRootChanged       = "schema.root-changed"
	RuleFieldRemoved            = "field.removed"
	RuleFieldDeprecatedRemoved  = "field.deprecated-removed"
	RuleFieldAdded              = "field.added"
	RuleFieldTypeNarrowed       = "field.type-narrowed"
	RuleFieldTypeChanged        = "field.type-changed"
	RuleInputFieldRemoved       = "input-field.removed"
	RuleInputFieldAddedRequired = "input-field.added-required"
	RuleInputFieldAddedOptional = "input-field.added-optional"
	RuleInputFieldTypeWidened   = "input-field.type-widened"
	RuleInputFieldTypeChanged   = "input-field.type-changed"
	RuleInputFieldDefault       = "input-field.default-changed"
	RuleArgRemoved              = "argument.removed"
	RuleArgAddedRequired        = "argument.added-required"
	RuleArgAddedOptional        = "argument.added-optional"
	RuleArgTypeWidened          = "argument.type-widened"
	RuleArgTypeChanged          = "argument.type-changed"
	RuleArgDefault              = "argument.default-changed"
	RuleEnumValueRemoved        = "enum-value.removed"
	RuleEnumValueDeprecatedGone = "enum-value.deprecated-removed"
	RuleEnumValueAdded          = "enum-value.added"
	RuleUnionMemberRemoved      = "union-member.removed"
	RuleUnionMemberAdded        = "union-member.added"
	RuleInterfaceRemoved        = "interface.removed"
	RuleInterfaceAdded          = "interface.added"
	RuleDirectiveRemoved        = "directive.removed"
	RuleDirectiveAdded          = "directive.added"
	RuleDirectiveLocationGone   = "directive.location-removed"
	RuleDirectiveLocationAdded  = "directive.location-added"
	RuleDirectiveRepeatableGone = "directive.repeatable-removed"
	RuleDirectiveRepeatable     = "directive.repeatable-added"
	RuleAppliedAdded            = "applied-directive.added"
	RuleAppliedRemoved          = "applied-directive.removed"
	RuleDeprecatedAdded         = "deprecated.added"
	RuleDeprecatedRemoved       = "deprecated.removed"
	RuleDeprecationReason       = "deprecated.reason-changed"
	RuleDescription             = "description.changed"
)

var catalogue = []Rule{
	{RuleTypeRemoved, diff.LevelError, "clients that select, spread on or declare variables of the type fail"},
	{RuleTypeAdded, diff.LevelInfo, "a new type breaks no existing operation"},
	{RuleTypeKindChanged, diff.LevelError, "the type became another kind (object, interface, input ...): operations written for the old kind fail"},
	{RuleSchemaRootChanged, diff.LevelError, "a root operation type was renamed, added or removed: operations of that kind go elsewhere or fail"},
	{RuleFieldRemoved, diff.LevelError, "clients that select the field fail validation"},
	{RuleFieldDeprecatedRemoved, diff.LevelError, "a deprecated field was removed: clients that still select it fail (they were warned)"},
	{RuleFieldAdded, diff.LevelInfo, "a new output field breaks no existing selection"},
	{RuleFieldTypeNarrowed, diff.LevelInfo, "an output field became stricter (nullable to non-null): clients still accept every value"},
	{RuleFieldTypeChanged, diff.LevelError, "an output field changed its type or became nullable: clients may get values or nulls they do not handle"},
	{RuleInputFieldRemoved, diff.LevelError, "clients that send the input field fail validation"},
	{RuleInputFieldAddedRequired, diff.LevelError, "a required (non-null, no default) input field was added: existing inputs lack it"},
	{RuleInputFieldAddedOptional, diff.LevelInfo, "an optional input field breaks no existing input"},
	{RuleInputFieldTypeWidened, diff.LevelInfo, "an input field became looser (non-null to nullable): every old input is still valid"},
	{RuleInputFieldTypeChanged, diff.LevelError, "an input field changed its type or became non-null: old inputs may be refused"},
	{RuleInputFieldDefault, diff.LevelWarning, "clients that omit the input field now get another value"},
	{RuleArgRemoved, diff.LevelError, "operations that pass the argument fail validation"},
	{RuleArgAddedRequired, diff.LevelError, "a required (non-null, no default) argument was added: existing operations lack it"},
	{RuleArgAddedOptional, diff.LevelInfo, "an optional argument breaks no existing operation"},
	{RuleArgTypeWidened, diff.LevelInfo, "an argument became looser (non-null to nullable): every old value is still valid"},
	{RuleArgTypeChanged, diff.LevelError, "an argument changed its type or became non-null: old values or variables may be refused"},
	{RuleArgDefault, diff.LevelWarning, "operations that omit the argument now get another value"},
	{RuleEnumValueRemoved, diff.LevelError, "clients that send or expect the value fail"},
	{RuleEnumValueDeprecatedGone, diff.LevelError, "a deprecated enum value was removed: clients that still send it fail (they were warned)"},
	{RuleEnumValueAdded, diff.LevelWarning, "clients that switch over the enum meet a value they do not know"},
	{RuleUnionMemberRemoved, diff.LevelError, "fragments on the removed member no longer apply, and clients may rely on its results"},
	{RuleUnionMemberAdded, diff.LevelWarning, "clients that switch over __typename meet a type they do not know"},
	{RuleInterfaceRemoved, diff.LevelError, "the type no longer implements the interface: fragments on the interface stop matching it"},
	{RuleInterfaceAdded, diff.LevelInfo, "the type implements one more interface"},
	{RuleDirectiveRemoved, diff.LevelError, "operations or schemas that use the directive fail validation"},
	{RuleDirectiveAdded, diff.LevelInfo, "a new directive breaks nothing"},
	{RuleDirectiveLocationGone, diff.LevelError, "uses of the directive at the removed location fail validation"},
	{RuleDirectiveLocationAdded, diff.LevelInfo, "the directive may be used in one more place"},
	{RuleDirectiveRepeatableGone, diff.LevelError, "operations that repeat the directive fail validation"},
	{RuleDirectiveRepeatable, diff.LevelInfo, "the directive may now be repeated"},
	{RuleAppliedAdded, diff.LevelInfo, "a directive was applied to a schema element; what it means is up to the server"},
	{RuleAppliedRemoved, diff.LevelInfo, "a directive was removed from a schema element; what it means is up to the server"},
	{RuleDeprecatedAdded, diff.LevelWarning, "the element is deprecated: clients should move off it before it is removed"},
	{RuleDeprecatedRemoved, diff.LevelInfo, "the element is no longer deprecated"},
	{RuleDeprecationReason, diff.LevelInfo, "the deprecation reason changed"},
	{RuleDescription, diff.LevelInfo, "documentation only"},
}

var levels = func() map[string]string {
	m := make(map[string]string, len(catalogue))
	for _, r := range catalogue {
		m[r.ID] = r.Level
	}
	return m
}()

// Catalogue lists every rule Compare applies, in a stable order.
func Catalogue() []Rule { return slices.Clone(catalogue) }

// Compare reports the changes from old to new. Pointers are schema
// coordinates (Type, Type.field, Type.field(arg:), Enum.VALUE, @directive,
// @directive(arg:), schema); Line and Column are in new, or in old for
// removals. Changes are sorted by pointer.
func Compare(old, new *Document) *diff.Report {
	c := &comparer{}
	c.compare(old.tree, new.tree)
	sort.SliceStable(c.out, func(i, j int) bool {
		a, b := c.out[i], c.out[j]
		if a.Pointer != b.Pointer {
			return a.Pointer < b.Pointer
		}
		return a.Rule < b.Rule
	})
	rep := &diff.Report{Changes: c.out, Total: len(c.out), RuleSet: RuleSet, OldFamily: "graphql", NewFamily: "graphql"}
	if rep.Changes == nil {
		rep.Changes = []diff.Change{}
	}
	for _, ch := range rep.Changes {
		switch ch.Level {
		case diff.LevelError:
			rep.Breaking++
		case diff.LevelWarning:
			rep.Warnings++
		}
	}
	return rep
}

type comparer struct{ out []diff.Change }

func (c *comparer) add(ptr, kind, object, rule string, p pos, old, new any) {
	lvl := levels[rule]
	c.out = append(c.out, diff.Change{
		Pointer: ptr, Line: p.line, Column: p.col, Kind: kind, Object: object,
		Level: lvl, Breaking: lvl == diff.LevelError, Rule: rule, Old: old, New: new,
	})
}

func (c *comparer) compare(o, n *tree) {
	for _, r := range [][3]string{{"query", o.Schema.Query, n.Schema.Query}, {"mutation", o.Schema.Mutation, n.Schema.Mutation}, {"subscription", o.Schema.Subscription, n.Schema.Subscription}} {
		if r[1] != r[2] {
			p := n.Schema.pos // the new root type's, or the old one's when it is gone
			if t := n.Types[r[2]]; t != nil {
				p = t.pos
			} else if t := o.Types[r[1]]; t != nil {
				p = t.pos
			}
			c.add("schema."+r[0], diff.ChangeKind(r[1] != "", r[2] != ""), ObjectSchema, RuleSchemaRootChanged, p, diff.NilIfEmpty(r[1]), diff.NilIfEmpty(r[2]))
		}
	}
	c.description("schema", ObjectSchema, o.Schema.Description, n.Schema.Description, n.Schema.pos)
	c.applied("schema", ObjectSchema, o.Schema.Applied, n.Schema.Applied, o.Schema.pos, n.Schema.pos)

	for _, name := range diff.SortedUnion(o.Directives, n.Directives) {
		od, nd := o.Directives[name], n.Directives[name]
		ptr := "@" + name
		switch {
		case nd == nil:
			c.add(ptr, diff.KindRemoved, ObjectDirective, RuleDirectiveRemoved, od.pos, ptr, nil)
		case od == nil:
			c.add(ptr, diff.KindAdded, ObjectDirective, RuleDirectiveAdded, nd.pos, nil, ptr)
		default:
			c.description(ptr, ObjectDirective, od.Description, nd.Description, nd.pos)
			c.args(ptr, od.Args, nd.Args)
			for _, l := range od.Locations {
				if !slices.Contains(nd.Locations, l) {
					c.add(ptr, diff.KindRemoved, ObjectDirective, RuleDirectiveLocationGone, nd.pos, l, nil)
				}
			}
			for _, l := range nd.Locations {
				if !slices.Contains(od.Locations, l) {
					c.add(ptr, diff.KindAdded, ObjectDirective, RuleDirectiveLocationAdded, nd.pos, nil, l)
				}
			}
			if od.Repeatable && !nd.Repeatable {
				c.add(ptr, diff.KindModified, ObjectDirective, RuleDirectiveRepeatableGone, nd.pos, "repeatable", nil)
			} else if !od.Repeatable && nd.Repeatable {
				c.add(ptr, diff.KindModified, ObjectDirective, RuleDirectiveRepeatable, nd.pos, nil, "repeatable")
			}
		}
	}

	for _, name := range diff.SortedUnion(o.Types, n.Types) {
		ot, nt := o.Types[name], n.Types[name]
		switch {
		case nt == nil:
			c.add(name, diff.KindRemoved, ObjectType, RuleTypeRemoved, ot.pos, ot.Kind, nil)
		case ot == nil:
			c.add(name, diff.KindAdded, ObjectType, RuleTypeAdded, nt.pos, nil, nt.Kind)
		case ot.Kind != nt.Kind:
			c.add(name, diff.KindModified, ObjectType, RuleTypeKindChanged, nt.pos, ot.Kind, nt.Kind)
		default:
			c.typ(name, ot, nt)
		}
	}
}

func (c *comparer) typ(name string, ot, nt *typeNode) {
	c.description(name, ObjectType, ot.Description, nt.Description, nt.pos)
	c.applied(name, ObjectType, ot.Applied, nt.Applied, ot.pos, nt.pos)
	for _, i := range diff.SortedUnion(ot.Interfaces, nt.Interfaces) {
		switch {
		case !nt.Interfaces[i]:
			c.add(name, diff.KindRemoved, ObjectInterface, RuleInterfaceRemoved, ot.pos, i, nil)
		case !ot.Interfaces[i]:
			c.add(name, diff.KindAdded, ObjectInterface, RuleInterfaceAdded, nt.pos, nil, i)
		}
	}
	for _, m := range diff.SortedUnion(ot.Members, nt.Members) {
		switch {
		case !nt.Members[m]:
			c.add(name, diff.KindRemoved, ObjectUnionMember, RuleUnionMemberRemoved, ot.pos, m, nil)
		case !ot.Members[m]:
			c.add(name, diff.KindAdded, ObjectUnionMember, RuleUnionMemberAdded, nt.pos, nil, m)
		}
	}
	for _, v := range diff.SortedUnion(ot.Values, nt.Values) {
		ov, nv := ot.Values[v], nt.Values[v]
		ptr := name + "." + v
		switch {
		case nv == nil && isDeprecated(ov.Applied):
			c.add(ptr, diff.KindRemoved, ObjectEnumValue, RuleEnumValueDeprecatedGone, ov.pos, v, nil)
		case nv == nil:
			c.add(ptr, diff.KindRemoved, ObjectEnumValue, RuleEnumValueRemoved, ov.pos, v, nil)
		case ov == nil:
			c.add(ptr, diff.KindAdded, ObjectEnumValue, RuleEnumValueAdded, nv.pos, nil, v)
		default:
			c.description(ptr, ObjectEnumValue, ov.Description, nv.Description, nv.pos)
			c.applied(ptr, ObjectEnumValue, ov.Applied, nv.Applied, ov.pos, nv.pos)
		}
	}
	input := nt.Kind == kindInput
	for _, f := range diff.SortedUnion(ot.Fields, nt.Fields) {
		of, nf := ot.Fields[f], nt.Fields[f]
		ptr := name + "." + f
		if input {
			c.inputValue(ptr, ObjectInputField, inputRules, toArg(of), toArg(nf))
			continue
		}
		switch {
		case nf == nil && isDeprecated(of.Applied):
			c.add(ptr, diff.KindRemoved, ObjectField, RuleFieldDeprecatedRemoved, of.pos, of.Type, nil)
		case nf == nil:
			c.add(ptr, diff.KindRemoved, ObjectField, RuleFieldRemoved, of.pos, of.Type, nil)
		case of == nil:
			c.add(ptr, diff.KindAdded, ObjectField, RuleFieldAdded, nf.pos, nil, nf.Type)
		default:
			if of.Type != nf.Type {
				rule := RuleFieldTypeChanged
				if narrower(parseType(nf.Type), parseType(of.Type)) {
					rule = RuleFieldTypeNarrowed
				}
				c.add(ptr, diff.KindModified, ObjectField, rule, nf.pos, of.Type, nf.Type)
			}
			c.description(ptr, ObjectField, of.Description, nf.Description, nf.pos)
			c.applied(ptr, ObjectField, of.Applied, nf.Applied, of.pos, nf.pos)
			c.args(ptr, of.Args, nf.Args)
		}
	}
}

// toArg views an input field as an input value (nil stays nil).
func toArg(f *fieldNode) *argNode {
	if f == nil {
		return nil
	}
	return &argNode{Description: f.Description, Type: f.Type, Default: f.Default, Applied: f.Applied, pos: f.pos}
}

// inputRuleSet names the rules of one kind of input value.
type inputRuleSet struct{ removed, addedRequired, addedOptional, widened, changed, defaultChanged string }

var (
	inputRules = inputRuleSet{RuleInputFieldRemoved, RuleInputFieldAddedRequired, RuleInputFieldAddedOptional, RuleInputFieldTypeWidened, RuleInputFieldTypeChanged, RuleInputFieldDefault}
	argRules   = inputRuleSet{RuleArgRemoved, RuleArgAddedRequired, RuleArgAddedOptional, RuleArgTypeWidened, RuleArgTypeChanged, RuleArgDefault}
)

func (c *comparer) args(owner string, o, n map[string]*argNode) {
	for _, a := range diff.SortedUnion(o, n) {
		c.inputValue(owner+"("+a+":)", ObjectArgument, argRules, o[a], n[a])
	}
}

// inputValue compares an argument or input field: input direction, so
// nullable is the safe way to change.
func (c *comparer) inputValue(ptr, object string, r inputRuleSet, o, n *argNode) {
	switch {
	case n == nil:
		c.add(ptr, diff.KindRemoved, object, r.removed, o.pos, o.Type, nil)
	case o == nil:
		rule := r.addedOptional
		if strings.HasSuffix(n.Type, "!") && n.Default == nil {
			rule = r.addedRequired
		}
		c.add(ptr, diff.KindAdded, object, rule, n.pos, nil, n.Type)
	default:
		if o.Type != n.Type {
			rule := r.changed
			if narrower(parseType(o.Type), parseType(n.Type)) {
				rule = r.widened
			}
			c.add(ptr, diff.KindModified, object, rule, n.pos, o.Type, n.Type)
		}
		if !sameDefault(o.Default, n.Default) {
			c.add(ptr, diff.ChangeKind(o.Default != nil, n.Default != nil), object, r.defaultChanged, n.pos, deref(o.Default), deref(n.Default))
		}
		c.description(ptr, object, o.Description, n.Description, n.pos)
		c.applied(ptr, object, o.Applied, n.Applied, o.pos, n.pos)
	}
}

func (c *comparer) description(ptr, object, o, n string, p pos) {
	if o != n {
		c.add(ptr, diff.ChangeKind(o != "", n != ""), object, RuleDescription, p, diff.NilIfEmpty(o), diff.NilIfEmpty(n))
	}
}

// applied compares the directives applied to one element: @deprecated by
// its own rules, the others as a multiset of their printed form.
func (c *comparer) applied(ptr, object string, o, n []string, op, np pos) {
	od, oDep := deprecation(o)
	nd, nDep := deprecation(n)
	switch {
	case !oDep && nDep:
		c.add(ptr, diff.KindAdded, object, RuleDeprecatedAdded, np, nil, nd)
	case oDep && !nDep:
		c.add(ptr, diff.KindRemoved, object, RuleDeprecatedRemoved, np, od, nil)
	case oDep && nDep && od != nd:
		c.add(ptr, diff.KindModified, object, RuleDeprecationReason, np, od, nd)
	}
	count := map[string]int{}
	for _, a := range o {
		if !strings.HasPrefix(a, "@deprecated") {
			count[a]++
		}
	}
	for _, a := range n {
		if !strings.HasPrefix(a, "@deprecated") {
			count[a]--
		}
	}
	for _, a := range sortedKeys(count) {
		for ; count[a] > 0; count[a]-- {
			c.add(ptr, diff.KindRemoved, object, RuleAppliedRemoved, op, a, nil)
		}
		for ; count[a] < 0; count[a]++ {
			c.add(ptr, diff.KindAdded, object, RuleAppliedAdded, np, nil, a)
		}
	}
}

func deprecation(applied []string) (string, bool) {
	for _, a := range applied {
		if a == "@deprecated" || strings.HasPrefix(a, "@deprecated(") {
			return a, true
		}
	}
	return "", false
}

func isDeprecated(applied []string) bool {
	_, ok := deprecation(applied)
	return ok
}

// typeRefT is a parsed type reference such as [Int!]!.
type typeRefT struct {
	name    string
	elem    *typeRefT
	nonNull bool
}

func parseType(s string) *typeRefT {
	t := &typeRefT{}
	if strings.HasSuffix(s, "!") {
		t.nonNull = true
		s = s[:len(s)-1]
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		t.elem = parseType(s[1 : len(s)-1])
	} else {
		t.name = s
	}
	return t
}

// narrower reports whether a is b or a stricter form of it (non-null where b
// is nullable, at any list level): every value of a is a value of b.
func narrower(a, b *typeRefT) bool {
	if b.nonNull && !a.nonNull {
		return false
	}
	if (a.elem == nil) != (b.elem == nil) {
		return false
	}
	if a.elem != nil {
		return narrower(a.elem, b.elem)
	}
	return a.name == b.name
}

func deref(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

func sameDefault(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
