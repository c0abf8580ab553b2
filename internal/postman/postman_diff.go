package postman

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/apilivesync/apilivesync/internal/diff"
)

// RuleSet names the rules Compare applies (diff.Report.RuleSet).
const RuleSet = "postman/v1"

// Objects a Postman change can concern (diff.Change.Object).
const (
	ObjectCollection = "collection"
	ObjectFolder     = "folder"
	ObjectRequest    = "request"
	ObjectQuery      = "query"
	ObjectPathVar    = "pathVariable"
	ObjectHeader     = "header"
	ObjectBody       = "body"
	ObjectAuth       = "auth"
	ObjectVariable   = "variable"
	ObjectExample    = "example"
	ObjectEvent      = "event"
)

// Rule is one entry of the catalogue.
type Rule struct {
	ID          string `json:"id"`
	Level       string `json:"level"`
	Explanation string `json:"explanation"`
}

// Rule IDs (diff.Change.Rule).
//
// Postman has no "required" flag, so an added query parameter or header that
// is enabled is taken as one the API now expects (warning), and a removed one
// as one clients still send and the API may now refuse or ignore (error).
// Disabled parameters are documentation (info).
const (
	RuleRequestRemoved     = "request.removed"
	RuleRequestAdded       = "request.added"
	RuleRequestRenamed     = "request.renamed"
	RuleMethodChanged      = "request.method-changed"
	RuleURLChanged         = "request.url-changed"
	RuleQueryAdded         = "query.added"
	RuleQueryRemoved       = "query.removed"
	RuleQueryChanged       = "query.value-changed"
	RuleDisabledParam      = "param.disabled-changed"
	RulePathVarChanged     = "path-variable.changed"
	RuleHeaderAdded        = "header.added"
	RuleHeaderRemoved      = "header.removed"
	RuleHeaderChanged      = "header.value-changed"
	RuleBodyModeChanged    = "body.mode-changed"
	RuleBodySchemaChanged  = "body.schema-changed"
	RuleBodyExampleChanged = "body.example-changed"
	RuleBodyFieldAdded     = "body.field-added"
	RuleBodyFieldRemoved   = "body.field-removed"
	RuleAuthChanged        = "auth.changed"
	RuleVariableAdded      = "variable.added"
	RuleVariableRemoved    = "variable.removed"
	RuleVariableChanged    = "variable.changed"
	RuleFolderAdded        = "folder.added"
	RuleFolderRemoved      = "folder.removed"
	RuleDescription        = "description.changed"
	RuleExample            = "example.changed"
	RuleEvent              = "event.changed"
)

var catalogue = []Rule{
	{RuleRequestRemoved, diff.LevelError, "clients of the endpoint lose it"},
	{RuleRequestAdded, diff.LevelInfo, "a new request breaks no client"},
	{RuleRequestRenamed, diff.LevelWarning, "same method and URL under a new name: runs, monitors and scripts that name the request miss it"},
	{RuleMethodChanged, diff.LevelError, "clients send the old method"},
	{RuleURLChanged, diff.LevelError, "clients call the old URL"},
	{RuleQueryAdded, diff.LevelWarning, "the API may now expect the query parameter, which clients do not send"},
	{RuleQueryRemoved, diff.LevelError, "clients still send the query parameter, which the API may refuse or ignore"},
	{RuleQueryChanged, diff.LevelWarning, "a fixed query value changed: clients send the old one"},
	{RuleDisabledParam, diff.LevelInfo, "a disabled parameter or header is documentation"},
	{RulePathVarChanged, diff.LevelInfo, "a path variable's example value or description changed"},
	{RuleHeaderAdded, diff.LevelWarning, "the API may now expect the header, which clients do not send"},
	{RuleHeaderRemoved, diff.LevelError, "clients still send the header, and the API may depend on its absence or refuse it"},
	{RuleHeaderChanged, diff.LevelWarning, "a fixed header value changed (content type, version, ...): clients send the old one"},
	{RuleBodyModeChanged, diff.LevelError, "the request body changed its kind (raw, form-data, urlencoded, ...): clients send the old kind"},
	{RuleBodySchemaChanged, diff.LevelError, "the JSON body changed its shape (members or their types): clients send the old shape"},
	{RuleBodyExampleChanged, diff.LevelInfo, "the body's values changed, not its shape"},
	{RuleBodyFieldAdded, diff.LevelWarning, "the API may now expect the form field, which clients do not send"},
	{RuleBodyFieldRemoved, diff.LevelError, "clients still send the form field"},
	{RuleAuthChanged, diff.LevelError, "clients authenticate the old way"},
	{RuleVariableAdded, diff.LevelInfo, "a new variable breaks nothing"},
	{RuleVariableRemoved, diff.LevelWarning, "requests that use the variable resolve it no more"},
	{RuleVariableChanged, diff.LevelWarning, "every request that uses the variable changes with it (a base URL, a version)"},
	{RuleFolderAdded, diff.LevelInfo, "a new folder breaks nothing"},
	{RuleFolderRemoved, diff.LevelInfo, "the folder itself holds no endpoint; its requests are reported one by one"},
	{RuleDescription, diff.LevelInfo, "documentation only"},
	{RuleExample, diff.LevelInfo, "example responses are documentation"},
	{RuleEvent, diff.LevelInfo, "test and pre-request scripts run in Postman, not in clients"},
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

// Compare reports the changes from old to new. A change's Pointer is the
// request or folder path ("/Users/Get user"), "/" for the collection, with
// "#field" appended for a part of it ("#method", "#url", "#query/page",
// "#header/X-Api-Key", "#body", "#body/field", "#auth", "#variable/baseUrl",
// "#examples/OK", "#event", "#description"). Line and Column are 0: Postman
// collections are compared in canonical form.
func Compare(old, new *Document) *diff.Report {
	c := &comparer{}
	o, n := old.c, new.c
	c.auth("/", o.Auth, n.Auth)
	c.text("/", ObjectCollection, "#description", o.Info.Description, n.Info.Description)
	c.vars("/", o.Variable, n.Variable)
	if !reflect.DeepEqual(o.Event, n.Event) {
		c.add("/#event", diff.KindModified, ObjectEvent, RuleEvent, summarize(o.Event), summarize(n.Event))
	}
	for _, p := range diff.SortedUnion(o.Folders, n.Folders) {
		of, nf := o.Folders[p], n.Folders[p]
		switch {
		case nf == nil:
			c.add(p, diff.KindRemoved, ObjectFolder, RuleFolderRemoved, p, nil)
		case of == nil:
			c.add(p, diff.KindAdded, ObjectFolder, RuleFolderAdded, nil, p)
		default:
			c.auth(p, of.Auth, nf.Auth)
			c.text(p, ObjectFolder, "#description", of.Description, nf.Description)
			c.vars(p, of.Variable, nf.Variable)
			if !reflect.DeepEqual(of.Event, nf.Event) {
				c.add(p+"#event", diff.KindModified, ObjectEvent, RuleEvent, summarize(of.Event), summarize(nf.Event))
			}
		}
	}
	// renames: a removed and an added request with the same method and URL
	removed, added := map[string][]string{}, map[string][]string{}
	for _, p := range diff.SortedUnion(o.Requests, n.Requests) {
		or, nr := o.Requests[p], n.Requests[p]
		switch {
		case nr == nil:
			removed[or.Method+" "+or.URL] = append(removed[or.Method+" "+or.URL], p)
		case or == nil:
			added[nr.Method+" "+nr.URL] = append(added[nr.Method+" "+nr.URL], p)
		default:
			c.request(p, or, nr)
		}
	}
	for _, key := range sortedKeys(removed) {
		for i, p := range removed[key] {
			if i < len(added[key]) {
				np := added[key][i]
				c.add(np, diff.KindModified, ObjectRequest, RuleRequestRenamed, p, np)
				c.request(np, o.Requests[p], n.Requests[np])
				continue
			}
			c.add(p, diff.KindRemoved, ObjectRequest, RuleRequestRemoved, key, nil)
		}
	}
	for _, key := range sortedKeys(added) {
		for i, p := range added[key] {
			if i >= len(removed[key]) {
				c.add(p, diff.KindAdded, ObjectRequest, RuleRequestAdded, nil, key)
			}
		}
	}
	sort.SliceStable(c.out, func(i, j int) bool {
		if c.out[i].Pointer != c.out[j].Pointer {
			return c.out[i].Pointer < c.out[j].Pointer
		}
		return c.out[i].Rule < c.out[j].Rule
	})
	rep := &diff.Report{Changes: c.out, Total: len(c.out), RuleSet: RuleSet, OldFamily: "postman", NewFamily: "postman"}
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

func (c *comparer) add(ptr, kind, object, rule string, old, new any) {
	lvl := levels[rule]
	c.out = append(c.out, diff.Change{Pointer: ptr, Kind: kind, Object: object, Level: lvl, Breaking: lvl == diff.LevelError, Rule: rule, Old: old, New: new})
}

func (c *comparer) request(p string, o, n *request) {
	if o.Method != n.Method {
		c.add(p+"#method", diff.KindModified, ObjectRequest, RuleMethodChanged, o.Method, n.Method)
	}
	if o.URL != n.URL {
		c.add(p+"#url", diff.KindModified, ObjectRequest, RuleURLChanged, o.URL, n.URL)
	}
	c.params(p+"#query/", ObjectQuery, o.Query, n.Query, RuleQueryAdded, RuleQueryRemoved, RuleQueryChanged)
	c.params(p+"#header/", ObjectHeader, o.Header, n.Header, RuleHeaderAdded, RuleHeaderRemoved, RuleHeaderChanged)
	for _, k := range diff.SortedUnion(o.PathVariables, n.PathVariables) {
		if !reflect.DeepEqual(o.PathVariables[k], n.PathVariables[k]) {
			c.add(p+"#pathVariables/"+k, diff.ChangeKind(o.PathVariables[k] != nil, n.PathVariables[k] != nil), ObjectPathVar, RulePathVarChanged, paramValue(o.PathVariables[k]), paramValue(n.PathVariables[k]))
		}
	}
	c.body(p, o.Body, n.Body)
	c.auth(p, o.Auth, n.Auth)
	c.text(p, ObjectRequest, "#description", o.Description, n.Description)
	if !reflect.DeepEqual(o.Event, n.Event) {
		c.add(p+"#event", diff.KindModified, ObjectEvent, RuleEvent, summarize(o.Event), summarize(n.Event))
	}
	for _, k := range diff.SortedUnion(o.Examples, n.Examples) {
		if !reflect.DeepEqual(o.Examples[k], n.Examples[k]) {
			c.add(p+"#examples/"+k, diff.ChangeKind(o.Examples[k] != nil, n.Examples[k] != nil), ObjectExample, RuleExample, nilIf(o.Examples[k] == nil, k), nilIf(n.Examples[k] == nil, k))
		}
	}
}

// params compares query parameters or headers (keys case-insensitive for headers is
// left to the API: Postman keeps the case it was given).
func (c *comparer) params(prefix, object string, o, n map[string]*param, added, removed, changed string) {
	for _, k := range diff.SortedUnion(o, n) {
		op, np := o[k], n[k]
		switch {
		case np == nil && op.Disabled, op == nil && np.Disabled:
			c.add(prefix+k, diff.ChangeKind(op != nil, np != nil), object, RuleDisabledParam, paramValue(op), paramValue(np))
		case np == nil:
			c.add(prefix+k, diff.KindRemoved, object, removed, op.Value, nil)
		case op == nil:
			c.add(prefix+k, diff.KindAdded, object, added, nil, np.Value)
		case op.Disabled != np.Disabled:
			rule := added // enabled now
			if np.Disabled {
				rule = removed // no longer sent
			}
			c.add(prefix+k, diff.KindModified, object, rule, paramValue(op), paramValue(np))
		case op.Value != np.Value || op.Type != np.Type:
			rule := changed
			if op.Disabled {
				rule = RuleDisabledParam
			}
			c.add(prefix+k, diff.KindModified, object, rule, op.Value, np.Value)
		case op.Description != np.Description:
			c.add(prefix+k, diff.KindModified, object, RuleDescription, diff.NilIfEmpty(op.Description), diff.NilIfEmpty(np.Description))
		}
	}
}

func (c *comparer) body(p string, o, n *body) {
	if reflect.DeepEqual(o, n) {
		return
	}
	om, nm := "", ""
	if o != nil && !o.Disabled {
		om = o.Mode
	}
	if n != nil && !n.Disabled {
		nm = n.Mode
	}
	if om != nm {
		c.add(p+"#body", diff.ChangeKind(om != "", nm != ""), ObjectBody, RuleBodyModeChanged, diff.NilIfEmpty(om), diff.NilIfEmpty(nm))
		return
	}
	if om == "" {
		return // disabled on both sides
	}
	switch om {
	case "raw":
		if o.Raw == n.Raw {
			break
		}
		os, oj := jsonShape(o.Raw)
		ns, nj := jsonShape(n.Raw)
		switch {
		case oj && nj && os == ns:
			c.add(p+"#body", diff.KindModified, ObjectBody, RuleBodyExampleChanged, short(o.Raw), short(n.Raw))
		case oj && nj:
			c.add(p+"#body", diff.KindModified, ObjectBody, RuleBodySchemaChanged, os, ns)
		default:
			c.add(p+"#body", diff.KindModified, ObjectBody, RuleBodySchemaChanged, short(o.Raw), short(n.Raw))
		}
	case "urlencoded", "formdata":
		c.params(p+"#body/", ObjectBody, o.Fields, n.Fields, RuleBodyFieldAdded, RuleBodyFieldRemoved, RuleBodyExampleChanged)
	default: // file, graphql
		if !reflect.DeepEqual(o.File, n.File) || !reflect.DeepEqual(o.GraphQL, n.GraphQL) {
			c.add(p+"#body", diff.KindModified, ObjectBody, RuleBodySchemaChanged, nil, nil)
		}
	}
	if !reflect.DeepEqual(o.Options, n.Options) {
		c.add(p+"#body/options", diff.KindModified, ObjectBody, RuleBodyModeChanged, summarize(o.Options), summarize(n.Options))
	}
}

func (c *comparer) auth(p string, o, n map[string]any) {
	if !reflect.DeepEqual(o, n) {
		c.add(p+"#auth", diff.ChangeKind(o != nil, n != nil), ObjectAuth, RuleAuthChanged, authText(o), authText(n))
	}
}

func (c *comparer) vars(p string, o, n map[string]*param) {
	for _, k := range diff.SortedUnion(o, n) {
		ov, nv := o[k], n[k]
		switch {
		case nv == nil:
			c.add(p+"#variable/"+k, diff.KindRemoved, ObjectVariable, RuleVariableRemoved, ov.Value, nil)
		case ov == nil:
			c.add(p+"#variable/"+k, diff.KindAdded, ObjectVariable, RuleVariableAdded, nil, nv.Value)
		case *ov != *nv:
			c.add(p+"#variable/"+k, diff.KindModified, ObjectVariable, RuleVariableChanged, ov.Value, nv.Value)
		}
	}
}

func (c *comparer) text(p, object, suffix, o, n string) {
	if o != n {
		c.add(p+suffix, diff.ChangeKind(o != "", n != ""), object, RuleDescription, diff.NilIfEmpty(short(o)), diff.NilIfEmpty(short(n)))
	}
}

// jsonShape describes a JSON body by its member paths and value types,
// ignoring values, so that changing an example value is not a schema change.
// {{variables}} outside strings are read as strings.
func jsonShape(raw string) (string, bool) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", false
	}
	s = quoteTemplates(s)
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return "", false
	}
	var paths []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			paths = append(paths, prefix+":object")
			for k, e := range x {
				walk(prefix+"/"+k, e)
			}
		case []any:
			paths = append(paths, prefix+":array")
			for _, e := range x {
				walk(prefix+"/[]", e)
			}
		case string:
			paths = append(paths, prefix+":string")
		case float64:
			paths = append(paths, prefix+":number")
		case bool:
			paths = append(paths, prefix+":boolean")
		case nil:
			paths = append(paths, prefix+":null")
		}
	}
	walk("", v)
	slices.Sort(paths)
	return strings.Join(slices.Compact(paths), " "), true
}

func authText(a map[string]any) any {
	if a == nil {
		return nil
	}
	t, _ := a["type"].(string)
	if p, ok := a[t].(map[string]any); ok && len(p) > 0 {
		return t + " (" + strings.Join(sortedKeys(p), ", ") + ")" // names only: values may be secrets
	}
	return t
}

func paramValue(p *param) any {
	if p == nil {
		return nil
	}
	if p.Disabled {
		return p.Value + " (disabled)"
	}
	return p.Value
}

func summarize(v any) any {
	if v == nil {
		return nil
	}
	b, _ := json.Marshal(v)
	return short(string(b))
}

func short(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

func nilIf(cond bool, v any) any {
	if cond {
		return nil
	}
	return v
}

// quoteTemplates puts quotes around {{variables}} that stand where a JSON
// value goes ({"id": {{userId}}}), leaving those inside strings alone.
func quoteTemplates(s string) string {
	var b strings.Builder
	inStr := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case inStr && ch == '\\' && i+1 < len(s):
			b.WriteByte(ch)
			i++
			ch = s[i]
		case ch == '"':
			inStr = !inStr
		case !inStr && strings.HasPrefix(s[i:], "{{"):
			if end := strings.Index(s[i:], "}}"); end > 0 {
				b.WriteString(`"` + s[i:i+end+2] + `"`)
				i += end + 1
				continue
			}
		}
		b.WriteByte(ch)
	}
	return b.String()
}
