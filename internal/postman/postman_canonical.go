package postman

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/apilivesync/apilivesync/internal/jsonptr"
)

// canonical is the canonical form and the merge tree. Member names avoid
// the ones internal/merge keys specially ("parameters", "tags", "servers",
// "security", "required"): collections are objects keyed by name, arrays
// (events, example bodies) are atomic values.
type canonical struct {
	Info     info                `json:"info"`
	Auth     map[string]any      `json:"auth,omitempty"`
	Event    []any               `json:"event,omitempty"`
	Variable map[string]*param   `json:"variable,omitempty"`
	Folders  map[string]*folder  `json:"folders,omitempty"`
	Requests map[string]*request `json:"requests,omitempty"`
}

type info struct {
	Name        string `json:"name"`
	PostmanID   string `json:"_postman_id,omitempty"`
	Schema      string `json:"schema"`
	Description string `json:"description,omitempty"`
	Version     any    `json:"version,omitempty"`
}

type folder struct {
	Description string            `json:"description,omitempty"`
	Auth        map[string]any    `json:"auth,omitempty"`
	Event       []any             `json:"event,omitempty"`
	Variable    map[string]*param `json:"variable,omitempty"`
}

type request struct {
	Method        string            `json:"method"`
	URL           string            `json:"url"`
	Query         map[string]*param `json:"query,omitempty"`
	PathVariables map[string]*param `json:"pathVariables,omitempty"`
	Header        map[string]*param `json:"header,omitempty"`
	Body          *body             `json:"body,omitempty"`
	Auth          map[string]any    `json:"auth,omitempty"`
	Description   string            `json:"description,omitempty"`
	Event         []any             `json:"event,omitempty"`
	Examples      map[string]any    `json:"examples,omitempty"`
}

type param struct {
	Value       string `json:"value,omitempty"`
	Type        string `json:"type,omitempty"` // form-data "text" or "file", variable types
	Disabled    bool   `json:"disabled,omitempty"`
	Description string `json:"description,omitempty"`
}

type body struct {
	Mode     string            `json:"mode"`
	Raw      string            `json:"raw,omitempty"`
	Fields   map[string]*param `json:"fields,omitempty"` // urlencoded, formdata
	File     any               `json:"file,omitempty"`
	GraphQL  any               `json:"graphql,omitempty"`
	Options  any               `json:"options,omitempty"`
	Disabled bool              `json:"disabled,omitempty"`
}

func (c *canonical) summary(version string) Summary {
	return Summary{Version: version, Name: c.Info.Name, Folders: len(c.Folders), Requests: len(c.Requests), Variables: len(c.Variable)}
}

type normalizer struct {
	opts  Options
	count int
}

func (n *normalizer) invalid(path, format string, a ...any) *Error {
	return &Error{Kind: KindInvalid, Path: path, Msg: fmt.Sprintf(format, a...)}
}

func (n *normalizer) collection(top map[string]any, version string) (*canonical, *Error) {
	if _, hasItem := top["item"]; !hasItem {
		if _, ok := top["requests"].(map[string]any); ok {
			return n.fromCanonical(top)
		}
	}
	inf := top["info"].(map[string]any)
	c := &canonical{Folders: map[string]*folder{}, Requests: map[string]*request{}}
	c.Info.Name = text(inf["name"])
	c.Info.PostmanID = text(inf["_postman_id"])
	c.Info.Schema = SchemaV210 // the canonical form is v2.1's shape whatever came in
	c.Info.Description = description(inf["description"])
	c.Info.Version = inf["version"]
	var err *Error
	if c.Auth, err = n.auth("/", top["auth"]); err != nil {
		return nil, err
	}
	c.Event = events(top["event"])
	if c.Variable, err = n.params("/", "variable", top["variable"]); err != nil {
		return nil, err
	}
	items, ok := top["item"].([]any)
	if !ok && top["item"] != nil {
		return nil, n.invalid("/", `"item" is not a list`)
	}
	if err := n.items(c, "", items, 0); err != nil {
		return nil, err
	}
	return c, nil
}

// fromCanonical reads this package's own canonical form back.
func (n *normalizer) fromCanonical(top map[string]any) (*canonical, *Error) {
	b, err := json.Marshal(top)
	if err != nil {
		return nil, n.invalid("", "%v", err)
	}
	var c canonical
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // as Parse decodes collections, so values compare alike
	if err := dec.Decode(&c); err != nil {
		return nil, n.invalid("", "canonical form: %v", err)
	}
	if len(c.Folders)+len(c.Requests) > n.opts.MaxItems {
		return nil, &Error{Kind: KindTooComplex, Msg: fmt.Sprintf("%d items, more than the %d allowed", len(c.Folders)+len(c.Requests), n.opts.MaxItems)}
	}
	for p, r := range c.Requests {
		if r == nil {
			return nil, n.invalid(p, "request is null")
		}
	}
	for p, f := range c.Folders {
		if f == nil {
			c.Folders[p] = &folder{}
		}
	}
	return &c, nil
}

// Segment escapes one item name for a path: "~" as "~0", "/" as "~1".
func Segment(name string) string {
	return jsonptr.Escape(name)
}

func (n *normalizer) items(c *canonical, parent string, items []any, depth int) *Error {
	if depth > n.opts.MaxDepth {
		return &Error{Kind: KindTooComplex, Path: parent, Msg: fmt.Sprintf("folders nested more than %d levels deep", n.opts.MaxDepth)}
	}
	used := map[string]int{}
	for i, it := range items {
		n.count++
		if n.count > n.opts.MaxItems {
			return &Error{Kind: KindTooComplex, Path: parent, Msg: fmt.Sprintf("more than %d folders and requests", n.opts.MaxItems)}
		}
		m, ok := it.(map[string]any)
		if !ok {
			return n.invalid(parent, "item %d is not an object", i)
		}
		name := text(m["name"])
		seg := Segment(name)
		used[seg]++
		if k := used[seg]; k > 1 {
			seg = fmt.Sprintf("%s [%d]", seg, k)
		}
		path := parent + "/" + seg
		if sub, isFolder := m["item"]; isFolder {
			list, ok := sub.([]any)
			if !ok && sub != nil {
				return n.invalid(path, `"item" is not a list`)
			}
			f := &folder{Description: description(m["description"]), Event: events(m["event"])}
			var err *Error
			if f.Auth, err = n.auth(path, m["auth"]); err != nil {
				return err
			}
			if f.Variable, err = n.params(path, "variable", m["variable"]); err != nil {
				return err
			}
			c.Folders[path] = f
			if err := n.items(c, path, list, depth+1); err != nil {
				return err
			}
			continue
		}
		r, err := n.request(path, m)
		if err != nil {
			return err
		}
		c.Requests[path] = r
	}
	return nil
}

func (n *normalizer) request(path string, item map[string]any) (*request, *Error) {
	r := &request{Method: "GET", Description: description(item["description"]), Event: events(item["event"])}
	var req map[string]any
	switch v := item["request"].(type) {
	case string:
		req = map[string]any{"url": v}
	case map[string]any:
		req = v
	case nil:
		return nil, n.invalid(path, `an item with neither "request" nor "item"`)
	default:
		return nil, n.invalid(path, `"request" is neither an object nor a URL`)
	}
	if m := text(req["method"]); m != "" {
		r.Method = strings.ToUpper(m)
	}
	if r.Description == "" {
		r.Description = description(req["description"])
	}
	var err *Error
	if err = n.url(path, r, req["url"]); err != nil {
		return nil, err
	}
	if r.Header, err = n.headers(path, req["header"]); err != nil {
		return nil, err
	}
	if r.Auth, err = n.auth(path, req["auth"]); err != nil {
		return nil, err
	}
	if r.Body, err = n.body(path, req["body"]); err != nil {
		return nil, err
	}
	if list, ok := item["response"].([]any); ok && len(list) > 0 {
		r.Examples = map[string]any{}
		used := map[string]int{}
		for _, e := range list {
			em, ok := e.(map[string]any)
			if !ok {
				return nil, n.invalid(path, "an example response is not an object")
			}
			name := text(em["name"])
			used[name]++
			if k := used[name]; k > 1 {
				name = fmt.Sprintf("%s [%d]", name, k)
			}
			r.Examples[name] = withoutIDs(em)
		}
	}
	return r, nil
}

func (n *normalizer) url(path string, r *request, u any) *Error {
	var raw string
	var query any
	switch v := u.(type) {
	case nil:
	case string:
		raw = v
	case map[string]any:
		raw = text(v["raw"])
		if raw == "" {
			raw = rawFromParts(v)
		}
		query = v["query"]
		vars, err := n.params(path, "url.variable", v["variable"])
		if err != nil {
			return err
		}
		r.PathVariables = vars
	default:
		return n.invalid(path, `"url" is neither a string nor an object`)
	}
	base, qs, hasQuery := strings.Cut(raw, "?")
	r.URL = base
	if query != nil {
		q, err := n.params(path, "url.query", query)
		if err != nil {
			return err
		}
		r.Query = q
	} else if hasQuery {
		var list []any
		for _, kv := range strings.Split(qs, "&") {
			if kv == "" {
				continue
			}
			k, v, _ := strings.Cut(kv, "=")
			list = append(list, map[string]any{"key": k, "value": v})
		}
		r.Query, _ = n.params(path, "url.query", list)
	}
	return nil
}

func rawFromParts(u map[string]any) string {
	var b strings.Builder
	if p := text(u["protocol"]); p != "" {
		b.WriteString(p + "://")
	}
	b.WriteString(joined(u["host"], "."))
	if port := text(u["port"]); port != "" {
		b.WriteString(":" + port)
	}
	if p := joined(u["path"], "/"); p != "" {
		b.WriteString("/" + p)
	}
	return b.String()
}

func joined(v any, sep string) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, p := range x {
			parts[i] = text(p)
		}
		return strings.Join(parts, sep)
	}
	return ""
}

// params reads a list of {key, value, disabled, description, type}.
func (n *normalizer) params(path, what string, v any) (map[string]*param, *Error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, n.invalid(path, "%q is not a list", what)
	}
	if len(list) == 0 {
		return nil, nil
	}
	out := make(map[string]*param, len(list))
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, n.invalid(path, "an element of %q is not an object", what)
		}
		key := text(m["key"])
		if key == "" {
			key = text(m["id"]) // variables may be keyed by id
		}
		name := key
		for k := 2; out[name] != nil; k++ {
			name = fmt.Sprintf("%s [%d]", key, k)
		}
		p := &param{Value: text(m["value"]), Disabled: m["disabled"] == true, Description: description(m["description"])}
		if t := text(m["type"]); t != "" && t != "text" && t != "string" {
			p.Type = t
		}
		if p.Type == "file" {
			p.Value = joined(m["src"], ",")
		}
		out[name] = p
	}
	return out, nil
}

func (n *normalizer) headers(path string, v any) (map[string]*param, *Error) {
	if s, ok := v.(string); ok { // "Key: value\n..." is allowed by v2
		var list []any
		for _, line := range strings.Split(s, "\n") {
			if k, val, ok := strings.Cut(line, ":"); ok {
				list = append(list, map[string]any{"key": strings.TrimSpace(k), "value": strings.TrimSpace(val)})
			}
		}
		v = list
	}
	return n.params(path, "header", v)
}

func (n *normalizer) body(path string, v any) (*body, *Error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, n.invalid(path, `"body" is not an object`)
	}
	b := &body{Mode: text(m["mode"]), Raw: text(m["raw"]), File: m["file"], GraphQL: m["graphql"], Options: m["options"], Disabled: m["disabled"] == true}
	if b.Mode == "" && b.Raw == "" && m["urlencoded"] == nil && m["formdata"] == nil {
		return nil, nil // an empty body object, as Postman writes for GET
	}
	switch b.Mode {
	case "urlencoded", "formdata":
		var err *Error
		if b.Fields, err = n.params(path, "body."+b.Mode, m[b.Mode]); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// auth normalizes v2.0's {"type": t, t: {k: v}} and v2.1's
// {"type": t, t: [{"key": k, "value": v}]} to the first.
func (n *normalizer) auth(path string, v any) (map[string]any, *Error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, n.invalid(path, `"auth" is not an object`)
	}
	t := text(m["type"])
	if t == "" {
		return nil, n.invalid(path, `"auth" has no "type"`)
	}
	out := map[string]any{"type": t}
	switch p := m[t].(type) {
	case map[string]any:
		out[t] = p
	case []any:
		kv := make(map[string]any, len(p))
		for _, e := range p {
			if em, ok := e.(map[string]any); ok {
				kv[text(em["key"])] = em["value"]
			}
		}
		out[t] = kv
	}
	return out, nil
}

// events drops the ids Postman gives events and scripts.
func events(v any) []any {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return nil
	}
	out := make([]any, 0, len(list))
	for _, e := range list {
		out = append(out, withoutIDs(e))
	}
	return out
}

// withoutIDs copies a value without "id" and "_postman_id" members at any depth.
func withoutIDs(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if k == "id" || k == "_postman_id" {
				continue
			}
			out[k] = withoutIDs(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = withoutIDs(e)
		}
		return out
	}
	return v
}

// description reads a string or {"content": ..., "type": ...}.
func description(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		return text(x["content"])
	}
	return ""
}

// text renders a scalar as the text Postman shows.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
