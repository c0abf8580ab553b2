package diff

import (
	"strconv"

	"github.com/pb33f/go-yaml"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
	"github.com/pb33f/libopenapi/orderedmap"
)

// fromV3 maps an OpenAPI 3.x document onto the compared model.
func fromV3(d *v3.Document, root *yaml.Node) *api {
	a := &api{root: root, paths: map[string]*pathEntry{}, webhooks: map[string]*pathEntry{},
		schemes: map[string]*secScheme{}, ext: d.Extensions, serversAt: []string{"servers"}}
	a.security = secReqs(d.Security)
	a.servers = serversV3([]string{"servers"}, d.Servers)
	if d.Paths != nil {
		for raw, item := range d.Paths.PathItems.FromOldest() {
			addPath(a.paths, pathV3([]string{"paths", raw}, raw, item, a))
		}
	}
	for raw, item := range d.Webhooks.FromOldest() {
		addPath(a.webhooks, pathV3([]string{"webhooks", raw}, raw, item, a))
	}
	if d.Components != nil {
		a.schemas = map[string]*base.SchemaProxy{}
		for name, s := range d.Components.Schemas.FromOldest() {
			a.schemas["#/components/schemas/"+name] = s
		}
		for name, s := range d.Components.SecuritySchemes.FromOldest() {
			at := []string{"components", "securitySchemes", name}
			sc := &secScheme{at: at, typ: s.Type, scheme: s.Scheme, bearer: s.BearerFormat, in: s.In,
				name: s.Name, openIDConnectURL: s.OpenIdConnectUrl, flows: map[string]*secFlow{}}
			if s.Flows != nil {
				for fname, f := range map[string]*v3.OAuthFlow{"implicit": s.Flows.Implicit, "password": s.Flows.Password,
					"clientCredentials": s.Flows.ClientCredentials, "authorizationCode": s.Flows.AuthorizationCode, "device": s.Flows.Device} {
					if f == nil {
						continue
					}
					fl := &secFlow{at: append(append([]string(nil), at...), "flows", fname), authorizationURL: f.AuthorizationUrl,
						tokenURL: f.TokenUrl, refreshURL: f.RefreshUrl, scopes: map[string]bool{}}
					for scope := range f.Scopes.FromOldest() {
						fl.scopes[scope] = true
					}
					sc.flows[fname] = fl
				}
			}
			a.schemes[name] = sc
		}
	}
	return a
}

func secReqs(reqs []*base.SecurityRequirement) []secReq {
	out := make([]secReq, 0, len(reqs))
	for _, r := range reqs {
		sr := secReq{}
		for name, scopes := range r.Requirements.FromOldest() {
			sr[name] = scopes
		}
		out = append(out, sr)
	}
	return out
}

func serversV3(at []string, list []*v3.Server) []server {
	out := make([]server, 0, len(list))
	for i, s := range list {
		sv := server{at: push(at, strconv.Itoa(i)), url: s.URL, description: s.Description, variables: map[string]serverVar{}}
		for name, v := range s.Variables.FromOldest() {
			sv.variables[name] = serverVar{def: v.Default, enum: v.Enum}
		}
		out = append(out, sv)
	}
	return out
}

func pathV3(at []string, raw string, item *v3.PathItem, a *api) *pathEntry {
	e := &pathEntry{raw: raw, at: at, ops: map[string]*operation{}, ext: item.Extensions,
		summary: item.Summary, description: item.Description}
	tmpl := pathParams(raw)
	for method, op := range item.GetOperations().FromOldest() {
		oat := push(at, method)
		o := &operation{at: oat, deprecated: op.Deprecated != nil && *op.Deprecated, operationID: op.OperationId,
			summary: op.Summary, description: op.Description, tags: op.Tags, ext: op.Extensions,
			responses: map[string]*response{}}
		// path-level parameters, overridden by the operation's own
		seen := map[string]bool{}
		for i, p := range op.Parameters {
			o.params = append(o.params, paramV3(push(push(oat, "parameters"), strconv.Itoa(i)), p, tmpl))
			seen[p.In+":"+p.Name] = true
		}
		for i, p := range item.Parameters {
			if !seen[p.In+":"+p.Name] {
				o.params = append(o.params, paramV3(push(push(at, "parameters"), strconv.Itoa(i)), p, tmpl))
			}
		}
		if rb := op.RequestBody; rb != nil {
			bat := refAt(rb.Reference, push(oat, "requestBody"))
			o.body = &body{at: bat, required: rb.Required != nil && *rb.Required, description: rb.Description,
				content: contentV3(push(bat, "content"), rb.Content), ext: rb.Extensions}
		}
		if op.Responses != nil {
			rat := push(oat, "responses")
			for code, r := range op.Responses.Codes.FromOldest() {
				o.responses[code] = responseV3(refAt(r.Reference, push(rat, code)), r)
			}
			if op.Responses.Default != nil {
				o.responses["default"] = responseV3(refAt(op.Responses.Default.Reference, push(rat, "default")), op.Responses.Default)
			}
		}
		if low := op.GoLow(); low != nil && low.Security.KeyNode != nil {
			o.security, o.securityAt = secReqs(op.Security), push(oat, "security")
		} else {
			o.security, o.securityAt = a.security, []string{"security"}
		}
		if len(op.Servers) > 0 {
			o.servers = serversV3(push(oat, "servers"), op.Servers)
		} else if len(item.Servers) > 0 {
			o.servers = serversV3(push(at, "servers"), item.Servers)
		}
		e.ops[method] = o
	}
	return e
}

// refAt is where a referenced object is described: its component for a
// local $ref, else where it is used.
func refAt(ref string, used []string) []string {
	if s := refSegs(ref); s != nil {
		return s
	}
	return used
}

func paramV3(at []string, p *v3.Parameter, tmpl []string) *param {
	at = refAt(p.Reference, at)
	out := &param{name: p.Name, in: p.In, at: at, required: p.Required != nil && *p.Required,
		style: p.Style, allowEmpty: p.AllowEmptyValue, allowReserve: p.AllowReserved, deprecated: p.Deprecated, description: p.Description,
		schema: p.Schema, schemaAt: push(at, "schema"), ext: p.Extensions, example: p.Example, pathPosition: -1}
	if p.In == "path" {
		out.required = true
		for i, name := range tmpl {
			if name == p.Name {
				out.pathPosition = i
			}
		}
	}
	if out.style == "" {
		out.style = "simple"
		if p.In == "query" || p.In == "cookie" {
			out.style = "form"
		}
	}
	out.explode = out.style == "form"
	if p.Explode != nil {
		out.explode = *p.Explode
	}
	if p.Content != nil {
		out.content = contentV3(push(at, "content"), p.Content)
	}
	return out
}

func contentV3(at []string, c *orderedmap.Map[string, *v3.MediaType]) map[string]*media {
	out := map[string]*media{}
	for mt, m := range c.FromOldest() {
		mat := push(at, mt)
		md := &media{at: mat, schema: m.Schema, schemaAt: push(mat, "schema"), ext: m.Extensions}
		if m.Example != nil || orderedmap.Len(m.Examples) > 0 {
			md.examples = map[string]*yaml.Node{}
			if m.Example != nil {
				md.examples["example"] = m.Example
			}
			for k, ex := range m.Examples.FromOldest() {
				md.examples["examples/"+k] = ex.Value
			}
		}
		out[mt] = md
	}
	return out
}

func responseV3(at []string, r *v3.Response) *response {
	out := &response{at: at, description: r.Description, headers: map[string]*header{},
		content: contentV3(push(at, "content"), r.Content), ext: r.Extensions}
	for name, h := range r.Headers.FromOldest() {
		hat := refAt(h.Reference, push(push(at, "headers"), name))
		out.headers[name] = &header{at: hat, required: h.Required, deprecated: h.Deprecated, description: h.Description,
			schema: h.Schema, schemaAt: push(hat, "schema"), content: contentV3(push(hat, "content"), h.Content)}
	}
	return out
}
