package diff

import (
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/pb33f/go-yaml"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	"github.com/pb33f/libopenapi/orderedmap"
)

// api is what the walker compares: Swagger 2 and OpenAPI 3 documents both
// map onto it (diff_api_v2.go, diff_api_v3.go), so both get the same rules.
// Every part keeps its pointer segments in its own document.
type api struct {
	root      *yaml.Node
	paths     map[string]*pathEntry // by template with parameter names erased
	webhooks  map[string]*pathEntry
	security  []secReq // document-wide requirement
	schemes   map[string]*secScheme
	servers   []server
	serversAt []string
	ext       *orderedmap.Map[string, *yaml.Node]
	schemas   map[string]*base.SchemaProxy // named schemas by local $ref
}

type pathEntry struct {
	raw string
	at  []string
	ops map[string]*operation
	ext *orderedmap.Map[string, *yaml.Node]
	// summary and description of the path item
	summary, description string
}

type operation struct {
	at                   []string
	deprecated           bool
	operationID          string
	summary, description string
	tags                 []string
	params               []*param
	body                 *body
	responses            map[string]*response
	security             []secReq // effective: the operation's, else the document's
	securityAt           []string
	servers              []server
	ext                  *orderedmap.Map[string, *yaml.Node]
}

type param struct {
	name, in     string
	at           []string
	required     bool
	style        string // effective
	explode      bool   // effective
	allowEmpty   bool
	allowReserve bool
	deprecated   bool
	description  string
	schema       *base.SchemaProxy
	schemaAt     []string
	content      map[string]*media
	ext          *orderedmap.Map[string, *yaml.Node]
	example      *yaml.Node
	pathPosition int // index among the path template's parameters, or -1
}

type body struct {
	at          []string
	required    bool
	description string
	content     map[string]*media
	ext         *orderedmap.Map[string, *yaml.Node]
}

type media struct {
	at       []string // the media type entry (where it is added or removed)
	schema   *base.SchemaProxy
	schemaAt []string
	examples map[string]*yaml.Node
	ext      *orderedmap.Map[string, *yaml.Node]
}

type response struct {
	at          []string
	description string
	headers     map[string]*header
	content     map[string]*media
	ext         *orderedmap.Map[string, *yaml.Node]
}

type header struct {
	at          []string
	required    bool
	deprecated  bool
	description string
	schema      *base.SchemaProxy
	schemaAt    []string
	content     map[string]*media
}

// secReq is one alternative of a security requirement: scheme → scopes.
type secReq map[string][]string

type secScheme struct {
	at                            []string
	typ, scheme, bearer, in, name string
	openIDConnectURL              string
	flows                         map[string]*secFlow
}

type secFlow struct {
	at                                     []string
	authorizationURL, tokenURL, refreshURL string
	scopes                                 map[string]bool
}

type server struct {
	at          []string
	url         string
	description string
	variables   map[string]serverVar
}

type serverVar struct {
	def  string
	enum []string
}

var templateParam = regexp.MustCompile(`\{[^}/]*\}`)

// normPath erases parameter names: /users/{id} and /users/{userId} are one path.
func normPath(p string) string {
	if !strings.Contains(p, "{") {
		return p
	}
	return templateParam.ReplaceAllString(p, "{}")
}

// pathParams lists a template's parameter names in order.
func pathParams(p string) []string {
	ms := templateParam.FindAllString(p, -1)
	for i, m := range ms {
		ms[i] = m[1 : len(m)-1]
	}
	return ms
}

// keyed fills a map of path entries, keeping the raw spelling when two
// templates differ only in parameter names.
func addPath(m map[string]*pathEntry, e *pathEntry) {
	k := normPath(e.raw)
	if _, dup := m[k]; dup {
		k = e.raw
	}
	m[k] = e
}

func (w *walker) api(o, n *api) {
	w.oldSchemas, w.newSchemas = o.schemas, n.schemas
	w.pathSet(o.paths, n.paths, dirRequest)
	w.pathSet(o.webhooks, n.webhooks, dirResponse) // webhooks: the provider sends the requests
	w.schemes(o.schemes, n.schemes)
	w.servers(loc{o.serversAt, n.serversAt}, o.servers, n.servers)
	w.rawMap(at("info"), mapValue(docMap(o.root), "info"), mapValue(docMap(n.root), "info"))
	w.tags(docMap(o.root), docMap(n.root))
	w.rawMap(at("externalDocs"), mapValue(docMap(o.root), "externalDocs"), mapValue(docMap(n.root), "externalDocs"))
	w.extensions(dirAny, at(), o.ext, n.ext)
	w.namedSchemas(o.schemas, n.schemas)
}

// namedSchemas reports named schemas added or removed, used or not (their
// uses are judged where they are used).
// They match by name, so definitions/Pet is components/schemas/Pet when a
// document moves from Swagger 2 to OpenAPI 3.
func (w *walker) namedSchemas(o, n map[string]*base.SchemaProxy) {
	on, nn := schemaNames(o), schemaNames(n)
	for _, ref := range sortedKeysOf(n) {
		if segs := refSegs(ref); !on[segs[len(segs)-1]] {
			w.added(rComponentAdded, dirAny, loc{segs, segs}, segs[len(segs)-1])
		}
	}
	for _, ref := range sortedKeysOf(o) {
		if segs := refSegs(ref); !nn[segs[len(segs)-1]] {
			w.removed(rComponentRemoved, dirAny, loc{segs, segs}, segs[len(segs)-1])
		}
	}
}

func schemaNames(m map[string]*base.SchemaProxy) map[string]bool {
	out := make(map[string]bool, len(m))
	for ref := range m {
		segs := refSegs(ref)
		out[segs[len(segs)-1]] = true
	}
	return out
}

func docMap(root *yaml.Node) *yaml.Node {
	if root != nil && root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		return root.Content[0]
	}
	return root
}

// rawMap reports metadata differences key by key.
func (w *walker) rawMap(l loc, o, n *yaml.Node) {
	if o == nil && n == nil {
		return
	}
	if o == nil || n == nil || o.Kind != yaml.MappingNode || n.Kind != yaml.MappingNode {
		w.node(rMetadataChanged, dirAny, loc{l.o[:len(l.o)-1], l.n[:len(l.n)-1]}, l.n[len(l.n)-1], o, n)
		return
	}
	for i := 0; i+1 < len(o.Content); i += 2 {
		k := o.Content[i].Value
		w.node(metaRule(k), dirAny, l, k, o.Content[i+1], mapValue(n, k))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		if mapValue(o, k) == nil {
			w.node(metaRule(k), dirAny, l, k, nil, n.Content[i+1])
		}
	}
}

func metaRule(key string) *rule {
	switch {
	case key == "description" || key == "summary" || key == "title":
		return rDescriptionChanged
	case strings.HasPrefix(key, "x-"):
		return rExtensionChanged
	}
	return rMetadataChanged
}

func (w *walker) tags(o, n *yaml.Node) {
	index := func(m *yaml.Node) map[string]int {
		out := map[string]int{}
		if t := mapValue(m, "tags"); t != nil && t.Kind == yaml.SequenceNode {
			for i, c := range t.Content {
				if name := mapValue(c, "name"); name != nil {
					out[name.Value] = i
				}
			}
		}
		return out
	}
	oi, ni := index(o), index(n)
	ot, nt := mapValue(o, "tags"), mapValue(n, "tags")
	for name, i := range oi {
		l := loc{[]string{"tags", strconv.Itoa(i)}, nil}
		if j, ok := ni[name]; ok {
			l.n = []string{"tags", strconv.Itoa(j)}
			w.rawMap(l, ot.Content[i], nt.Content[j])
		} else {
			w.removed(rMetadataChanged, dirAny, l, name)
		}
	}
	for name, j := range ni {
		if _, ok := oi[name]; !ok {
			w.added(rMetadataChanged, dirAny, at("tags", strconv.Itoa(j)), name)
		}
	}
}

func sortedKeysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (w *walker) pathSet(o, n map[string]*pathEntry, dir direction) {
	webhooks := dir == dirResponse
	for _, k := range sortedKeysOf(o) {
		op := o[k]
		np, ok := n[k]
		if !ok {
			r := pathRemoval(op)
			if webhooks {
				r = rWebhookRemoved
			}
			w.softly(allUnstable(op), func() { w.removed(r, dirAny, loc{op.at, op.at}, op.raw) })
			continue
		}
		w.path(loc{op.at, np.at}, op, np, dir)
	}
	added := rPathAdded
	if webhooks {
		added = rWebhookAdded
	}
	for _, k := range sortedKeysOf(n) {
		if _, ok := o[k]; !ok {
			w.added(added, dirAny, loc{n[k].at, n[k].at}, n[k].raw)
		}
	}
}

// pathRemoval judges a removed path by its operations: removed without
// deprecation unless all were deprecated, and before its time while any
// is promised until a later x-sunset date.
func pathRemoval(p *pathEntry) *rule {
	if len(p.ops) == 0 {
		return rPathRemoved
	}
	r := rPathRemovedDeprecated
	for _, op := range p.ops {
		switch retirementOf(op.deprecated, op.ext) {
		case notDeprecated:
			return rPathRemoved
		case promised:
			r = rPathRemovedBeforeSunset
		}
	}
	return r
}

// allUnstable says every operation of a path is draft or alpha.
func allUnstable(p *pathEntry) bool {
	for _, op := range p.ops {
		if !unstable(op.ext) {
			return false
		}
	}
	return len(p.ops) > 0
}

func sunset(ext *orderedmap.Map[string, *yaml.Node]) string {
	if v, ok := get(ext, "x-sunset"); ok && v != nil {
		return v.Value
	}
	return ""
}

func (w *walker) path(l loc, o, n *pathEntry, dir direction) {
	if o.raw != n.raw {
		w.modified(rPathParamRenamed, dirAny, l, o.raw, n.raw)
	}
	w.text(rDescriptionChanged, dirAny, l, "summary", o.summary, n.summary)
	w.text(rDescriptionChanged, dirAny, l, "description", o.description, n.description)
	w.extensions(dirAny, l, o.ext, n.ext)
	for _, m := range sortedKeysOf(o.ops) {
		oo := o.ops[m]
		no, ok := n.ops[m]
		if !ok {
			r := removal(oo.deprecated, oo.ext, rOperationRemoved, rOperationRemovedDeprec, rOperationRemovedEarly)
			w.softly(unstable(oo.ext), func() { w.removed(r, dirAny, loc{oo.at, oo.at}, m) })
			continue
		}
		// a draft or alpha operation promises no compatibility; going
		// down to one withdraws a promise, which is judged on its own
		w.stabilityChange(loc{oo.at, no.at}, oo, no)
		w.softly(unstable(no.ext), func() { w.operation(loc{oo.at, no.at}, oo, no, dir) })
	}
	for _, m := range sortedKeysOf(n.ops) {
		if _, ok := o.ops[m]; !ok {
			w.added(rOperationAdded, dirAny, loc{n.ops[m].at, n.ops[m].at}, m)
		}
	}
}

func (w *walker) operation(l loc, o, n *operation, dir direction) {
	switch {
	case !o.deprecated && n.deprecated:
		w.modified(rOperationDeprecated, dirAny, l.at("deprecated"), false, true)
	case o.deprecated && !n.deprecated:
		w.modified(rOperationUndeprecated, dirAny, l.at("deprecated"), true, false)
	}
	w.sunsetChange(l, dirAny, sunset(o.ext), sunset(n.ext), n.deprecated)
	if o.operationID != "" && n.operationID != "" {
		w.text(rOperationIDChanged, dirAny, l, "operationId", o.operationID, n.operationID)
	} else {
		w.text(rMetadataChanged, dirAny, l, "operationId", o.operationID, n.operationID)
	}
	w.text(rDescriptionChanged, dirAny, l, "summary", o.summary, n.summary)
	w.text(rDescriptionChanged, dirAny, l, "description", o.description, n.description)
	if !slices.Equal(sortedStrings(o.tags), sortedStrings(n.tags)) {
		w.modified(rMetadataChanged, dirAny, l.at("tags"), strings.Join(o.tags, ","), strings.Join(n.tags, ","))
	}
	w.extensions(dirAny, l, o.ext, n.ext, "x-sunset", "x-stability-level")
	w.params(o.params, n.params, dir)
	w.body(o, n, dir)
	w.responses(l.at("responses"), o.responses, n.responses, dir.flip())
	w.security(loc{o.securityAt, n.securityAt}, o.security, n.security)
	if len(o.servers) > 0 || len(n.servers) > 0 {
		w.servers(l.at("servers"), o.servers, n.servers)
	}
}

func sortedStrings(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func paramKey(p *param) string {
	if p.pathPosition >= 0 {
		return "path#" + strconv.Itoa(p.pathPosition)
	}
	return p.in + ":" + strings.ToLower(p.name)
}

func (w *walker) params(o, n []*param, dir direction) {
	nk := make(map[string]*param, len(n))
	for _, p := range n {
		nk[paramKey(p)] = p
	}
	ok := make(map[string]*param, len(o))
	for _, p := range o {
		ok[paramKey(p)] = p
	}
	var gone []*param
	for _, op := range o {
		np, found := nk[paramKey(op)]
		if !found {
			gone = append(gone, op)
			continue
		}
		w.param(op, np, dir)
	}
	var fresh []*param
	for _, np := range n {
		if _, found := ok[paramKey(np)]; !found {
			fresh = append(fresh, np)
		}
	}
	// a parameter that moves keeps its name
	moved := map[*param]bool{}
	for _, op := range gone {
		for _, np := range fresh {
			if !moved[np] && strings.EqualFold(op.name, np.name) && op.in != np.in {
				moved[op], moved[np] = true, true
				w.modified(rParamLocationChanged, dir, loc{op.at, np.at}.at("in"), op.in, np.in)
				break
			}
		}
	}
	for _, op := range gone {
		if !moved[op] {
			r := removal(op.deprecated, op.ext, rParamRemoved, rParamRemovedDeprec, rParamRemovedEarly)
			w.softly(reservedHeader(op), func() { w.removed(r, dir, loc{op.at, op.at}, op.in+":"+op.name) })
		}
	}
	for _, np := range fresh {
		if moved[np] {
			continue
		}
		r := rParamAddedOptional
		if np.required {
			r = rParamAddedRequired
		}
		w.softly(reservedHeader(np), func() { w.added(r, dir, loc{np.at, np.at}, np.in+":"+np.name) })
	}
}

// reservedHeader reports header parameters OpenAPI says are ignored
// (Accept, Content-Type and Authorization are described elsewhere).
func reservedHeader(p *param) bool {
	if p.in != "header" {
		return false
	}
	switch strings.ToLower(p.name) {
	case "accept", "content-type", "authorization":
		return true
	}
	return false
}

// primitive reports a parameter whose schema is a single scalar type, for
// which explode makes no difference.
func primitive(p *param) bool {
	if p.schema == nil {
		return false
	}
	s := p.schema.Schema()
	if s == nil || len(s.Type) == 0 {
		return false
	}
	for _, t := range s.Type {
		if t == "array" || t == "object" {
			return false
		}
	}
	return true
}

// queryStyle says a style writes a single value as name=value.
func queryStyle(style string) bool {
	return style == "form" || style == "spaceDelimited" || style == "pipeDelimited"
}

func (w *walker) param(o, n *param, dir direction) {
	w.softly(reservedHeader(o) && reservedHeader(n), func() { w.paramBody(o, n, dir) })
}

func (w *walker) paramBody(o, n *param, dir direction) {
	l := loc{o.at, n.at}
	switch {
	case !o.required && n.required:
		w.modified(rParamBecameRequired, dir, l.at("required"), false, true)
	case o.required && !n.required:
		w.modified(rParamBecameOptional, dir, l.at("required"), true, false)
	}
	if o.style != n.style {
		// a single value reads name=value in each of the query styles
		w.softly(primitive(o) && primitive(n) && queryStyle(o.style) && queryStyle(n.style), func() {
			w.modified(rParamStyleChanged, dir, l.at("style"), o.style, n.style)
		})
	}
	if o.explode != n.explode {
		w.softly(primitive(o) && primitive(n), func() {
			w.modified(rParamExplodeChanged, dir, l.at("explode"), o.explode, n.explode)
		})
	}
	switch {
	case o.allowEmpty && !n.allowEmpty:
		w.modified(rParamEmptyDisallowed, dir, l.at("allowEmptyValue"), true, false)
	case !o.allowEmpty && n.allowEmpty:
		w.modified(rParamEmptyAllowed, dir, l.at("allowEmptyValue"), false, true)
	}
	switch {
	case o.allowReserve && !n.allowReserve:
		w.modified(rParamReservedOff, dir, l.at("allowReserved"), true, false)
	case !o.allowReserve && n.allowReserve:
		w.modified(rParamReservedOn, dir, l.at("allowReserved"), false, true)
	}
	if o.deprecated != n.deprecated {
		w.modified(rParamDeprecated, dir, l.at("deprecated"), o.deprecated, n.deprecated)
	}
	w.sunsetChange(l, dir, sunset(o.ext), sunset(n.ext), n.deprecated)
	w.text(rDescriptionChanged, dir, l, "description", o.description, n.description)
	w.node(rExampleChanged, dir, l, "example", o.example, n.example)
	w.extensions(dir, l, o.ext, n.ext, "x-sunset")
	w.inParam++
	w.schema(loc{o.schemaAt, n.schemaAt}, dir, o.schema, n.schema)
	w.inParam--
	w.content(l.at("content"), o.content, n.content, dir)
}

func (w *walker) body(o, n *operation, dir direction) {
	ob, nb := o.body, n.body
	switch {
	case ob == nil && nb == nil:
		return
	case ob == nil:
		r := rRequestBodyAddedOptional
		if nb.required {
			r = rRequestBodyAddedRequired
		}
		w.added(r, dir, loc{nb.at, nb.at}, nil)
		return
	case nb == nil:
		w.removed(rRequestBodyRemoved, dir, loc{ob.at, ob.at}, nil)
		return
	}
	l := loc{ob.at, nb.at}
	switch {
	case !ob.required && nb.required:
		w.modified(rRequestBodyBecameRequired, dir, l.at("required"), false, true)
	case ob.required && !nb.required:
		w.modified(rRequestBodyBecameOptional, dir, l.at("required"), true, false)
	}
	w.text(rDescriptionChanged, dir, l, "description", ob.description, nb.description)
	w.extensions(dir, l, ob.ext, nb.ext)
	w.content(l.at("content"), ob.content, nb.content, dir)
}

func (w *walker) content(l loc, o, n map[string]*media, dir direction) {
	for _, mt := range sortedKeysOf(o) {
		om := o[mt]
		nm, ok := n[mt]
		if !ok {
			w.removed(rMediaTypeRemoved.in(dir), dir, loc{om.at, om.at}, mt)
			continue
		}
		ml := loc{om.at, nm.at}
		w.schema(loc{om.schemaAt, nm.schemaAt}, dir, om.schema, nm.schema)
		for k, ov := range om.examples {
			el, key := exampleAt(ml, k)
			w.node(rExampleChanged, dir, el, key, ov, nm.examples[k])
		}
		for k, nv := range nm.examples {
			if _, had := om.examples[k]; !had {
				el, key := exampleAt(ml, k)
				w.node(rExampleChanged, dir, el, key, nil, nv)
			}
		}
		w.extensions(dir, ml, om.ext, nm.ext)
	}
	for _, mt := range sortedKeysOf(n) {
		if _, ok := o[mt]; !ok {
			w.added(rMediaTypeAdded.in(dir), dir, loc{n[mt].at, n[mt].at}, mt)
		}
	}
}

// exampleAt splits "examples/<name>" into its parent and key.
func exampleAt(l loc, k string) (loc, string) {
	if name, ok := strings.CutPrefix(k, "examples/"); ok {
		return l.at("examples"), name
	}
	return l, k
}

func successStatus(code string) bool {
	return len(code) == 3 && code[0] >= '1' && code[0] <= '3'
}

func (w *walker) responses(l loc, o, n map[string]*response, dir direction) {
	for _, code := range sortedKeysOf(o) {
		or := o[code]
		nr, ok := n[code]
		if !ok {
			r := rStatusOtherRemoved
			if successStatus(code) || strings.EqualFold(code, "2XX") {
				r = rStatusSuccessRemoved
			}
			w.removed(r, dir, loc{or.at, or.at}, code)
			continue
		}
		rl := loc{or.at, nr.at}
		w.text(rDescriptionChanged, dir, rl, "description", or.description, nr.description)
		w.extensions(dir, rl, or.ext, nr.ext)
		w.headers(rl.at("headers"), or.headers, nr.headers, dir)
		w.content(rl.at("content"), or.content, nr.content, dir)
	}
	for _, code := range sortedKeysOf(n) {
		if _, ok := o[code]; !ok {
			w.added(rStatusAdded, dir, loc{n[code].at, n[code].at}, code)
		}
	}
}

func (w *walker) headers(l loc, o, n map[string]*header, dir direction) {
	lower := func(m map[string]*header) map[string]*header {
		out := make(map[string]*header, len(m))
		for k, v := range m {
			out[strings.ToLower(k)] = v
		}
		return out
	}
	o, n = lower(o), lower(n)
	for _, name := range sortedKeysOf(o) {
		oh := o[name]
		nh, ok := n[name]
		if !ok {
			r := rHeaderOptionalRemoved
			if oh.required {
				r = rHeaderRequiredRemoved
			}
			w.removed(r, dir, loc{oh.at, oh.at}, name)
			continue
		}
		hl := loc{oh.at, nh.at}
		switch {
		case oh.required && !nh.required:
			w.modified(rHeaderBecameOptional, dir, hl.at("required"), true, false)
		case !oh.required && nh.required:
			w.modified(rHeaderBecameRequired, dir, hl.at("required"), false, true)
		}
		w.text(rDescriptionChanged, dir, hl, "description", oh.description, nh.description)
		w.schema(loc{oh.schemaAt, nh.schemaAt}, dir, oh.schema, nh.schema)
		w.content(hl.at("content"), oh.content, nh.content, dir)
	}
	for _, name := range sortedKeysOf(n) {
		if _, ok := o[name]; !ok {
			w.added(rHeaderAdded, dir, loc{n[name].at, n[name].at}, name)
		}
	}
}

// open reports whether a requirement lets anonymous clients in.
func open(reqs []secReq) bool {
	if len(reqs) == 0 {
		return true
	}
	for _, r := range reqs {
		if len(r) == 0 {
			return true
		}
	}
	return false
}

func (r secReq) key() string {
	names := sortedKeysOf(r)
	return strings.Join(names, "+")
}

func (w *walker) security(l loc, o, n []secReq) {
	oo, no := open(o), open(n)
	switch {
	case oo && !no:
		w.added(rSecurityAdded, dirAny, l, secText(n))
		return
	case !oo && no:
		w.removed(rSecurityRemoved, dirAny, l, secText(o))
		return
	case oo && no:
		return
	}
	// Alternatives present on both sides as they are drop out first, so
	// two alternatives naming one scheme with other scopes
	// ({oauth: [a]} | {oauth: [b]}) are not paired with each other.
	o, n = unmatched(o, n), unmatched(n, o)
	// The rest pair up by their schemes, in order: scope changes.
	nk := map[string][]secReq{}
	for _, r := range n {
		nk[r.key()] = append(nk[r.key()], r)
	}
	paired := map[string]int{}
	relaxed := map[string]bool{}
	for _, r := range o {
		k := r.key()
		if paired[k] >= len(nk[k]) {
			// {A and B} → {A}: what clients send for the old requirement
			// still meets a new one.
			if sub := weakerReq(n, r); sub != nil {
				relaxed[sub.key()] = true
				w.modified(rSecurityAltRelaxed, dirAny, l, k, sub.key())
				continue
			}
			w.removed(rSecurityAltRemoved, dirAny, l, k)
			continue
		}
		nr := nk[k][paired[k]]
		paired[k]++
		for name, scopes := range r {
			have := stringSet(scopes)
			want := stringSet(nr[name])
			for _, s := range sortedStrings(nr[name]) {
				if !have[s] {
					w.added(rSecurityScopeAdded, dirAny, l, name+":"+s)
				}
			}
			for _, s := range sortedStrings(scopes) {
				if !want[s] {
					w.removed(rSecurityScopeRemoved, dirAny, l, name+":"+s)
				}
			}
		}
	}
	seen := map[string]int{}
	for _, r := range n {
		k := r.key()
		if seen[k]++; seen[k] > paired[k] && !relaxed[k] {
			w.added(rSecurityAltAdded, dirAny, l, k)
		}
	}
}

// unmatched is the alternatives of reqs that others lacks, scopes and all
// (each of others matches once).
func unmatched(reqs, others []secReq) []secReq {
	left := map[string]int{}
	for _, r := range others {
		left[r.fullKey()]++
	}
	var out []secReq
	for _, r := range reqs {
		if k := r.fullKey(); left[k] > 0 {
			left[k]--
			continue
		}
		out = append(out, r)
	}
	return out
}

// fullKey names a requirement's schemes with their scopes.
func (r secReq) fullKey() string {
	parts := make([]string, 0, len(r))
	for _, name := range sortedKeysOf(r) {
		parts = append(parts, name+"["+strings.Join(sortedStrings(r[name]), ",")+"]")
	}
	return strings.Join(parts, "+")
}

// weakerReq is a requirement among reqs that old satisfies: each of its
// schemes is one of old's, with no scope old did not have. nil if none.
func weakerReq(reqs []secReq, old secReq) secReq {
	for _, r := range reqs {
		if len(r) == 0 || len(r) >= len(old) {
			continue
		}
		ok := true
		for name, scopes := range r {
			have, in := old[name]
			if !in {
				ok = false
				break
			}
			hs := stringSet(have)
			for _, s := range scopes {
				if !hs[s] {
					ok = false
				}
			}
		}
		if ok {
			return r
		}
	}
	return nil
}

func secText(reqs []secReq) string {
	parts := make([]string, 0, len(reqs))
	for _, r := range reqs {
		parts = append(parts, r.key())
	}
	return strings.Join(parts, " | ")
}

func (w *walker) schemes(o, n map[string]*secScheme) {
	for _, name := range sortedKeysOf(o) {
		os := o[name]
		ns, ok := n[name]
		if !ok {
			w.removed(rSchemeRemoved, dirAny, loc{os.at, os.at}, name)
			continue
		}
		l := loc{os.at, ns.at}
		if os.typ != ns.typ {
			w.modified(rSchemeTypeChanged, dirAny, l.at("type"), os.typ, ns.typ)
			continue
		}
		if !strings.EqualFold(os.scheme, ns.scheme) {
			w.modified(rSchemeTypeChanged, dirAny, l.at("scheme"), os.scheme, ns.scheme)
		}
		w.text(rSchemeBearerChanged, dirAny, l, "bearerFormat", os.bearer, ns.bearer)
		w.text(rSchemeAPIKeyChanged, dirAny, l, "in", os.in, ns.in)
		w.text(rSchemeAPIKeyChanged, dirAny, l, "name", os.name, ns.name)
		w.text(rSchemeOIDCChanged, dirAny, l, "openIdConnectUrl", os.openIDConnectURL, ns.openIDConnectURL)
		for _, f := range sortedKeysOf(os.flows) {
			of := os.flows[f]
			nf, ok := ns.flows[f]
			if !ok {
				w.removed(rSchemeFlowRemoved, dirAny, loc{of.at, of.at}, f)
				continue
			}
			fl := loc{of.at, nf.at}
			w.text(rSchemeFlowURLChanged, dirAny, fl, "authorizationUrl", of.authorizationURL, nf.authorizationURL)
			w.text(rSchemeFlowURLChanged, dirAny, fl, "tokenUrl", of.tokenURL, nf.tokenURL)
			w.text(rSchemeFlowURLChanged, dirAny, fl, "refreshUrl", of.refreshURL, nf.refreshURL)
			for _, s := range sortedKeysOf(of.scopes) {
				if !nf.scopes[s] {
					w.removed(rSchemeFlowScopeRemoved, dirAny, fl.at("scopes").at(s), s)
				}
			}
			for _, s := range sortedKeysOf(nf.scopes) {
				if !of.scopes[s] {
					w.added(rSchemeFlowScopeAdded, dirAny, fl.at("scopes").at(s), s)
				}
			}
		}
		for _, f := range sortedKeysOf(ns.flows) {
			if _, ok := os.flows[f]; !ok {
				w.added(rSchemeFlowAdded, dirAny, loc{ns.flows[f].at, ns.flows[f].at}, f)
			}
		}
	}
	for _, name := range sortedKeysOf(n) {
		if _, ok := o[name]; !ok {
			w.added(rSchemeAdded, dirAny, loc{n[name].at, n[name].at}, name)
		}
	}
}

func (w *walker) servers(l loc, o, n []server) {
	nu := map[string]server{}
	for _, s := range n {
		nu[strings.TrimRight(s.url, "/")] = s
	}
	ou := map[string]server{}
	for _, s := range o {
		ou[strings.TrimRight(s.url, "/")] = s
	}
	for _, os := range o {
		ns, ok := nu[strings.TrimRight(os.url, "/")]
		if !ok {
			w.removed(rServerRemoved, dirAny, loc{os.at, os.at}, os.url)
			continue
		}
		sl := loc{os.at, ns.at}
		w.text(rDescriptionChanged, dirAny, sl, "description", os.description, ns.description)
		for _, name := range sortedKeysOf(os.variables) {
			ov := os.variables[name]
			nv, ok := ns.variables[name]
			vl := sl.at("variables").at(name)
			if !ok {
				w.removed(rServerVariableChanged, dirAny, vl, name)
				continue
			}
			if ov.def != nv.def {
				w.modified(rServerVariableChanged, dirAny, vl.at("default"), ov.def, nv.def)
			}
			have := stringSet(nv.enum)
			for _, e := range ov.enum {
				if len(nv.enum) > 0 && !have[e] {
					w.removed(rServerVariableChanged, dirAny, vl.at("enum"), e)
				}
			}
		}
	}
	for _, ns := range n {
		if _, ok := ou[strings.TrimRight(ns.url, "/")]; !ok {
			w.added(rServerAdded, dirAny, loc{ns.at, ns.at}, ns.url)
		}
	}
}
