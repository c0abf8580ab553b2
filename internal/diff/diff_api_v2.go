package diff

import (
	"fmt"
	"strconv"

	"github.com/pb33f/go-yaml"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	v2 "github.com/pb33f/libopenapi/datamodel/high/v2"
)

// fromV2 maps a Swagger 2.0 document onto the compared model: body
// parameters become request bodies (one media type per `consumes`),
// response schemas one per `produces`, and the typed fields of other
// parameters and headers a schema.
func fromV2(d *v2.Swagger, root *yaml.Node) *api {
	a := &api{root: root, paths: map[string]*pathEntry{}, webhooks: map[string]*pathEntry{},
		schemes: map[string]*secScheme{}, ext: d.Extensions, serversAt: []string{"host"}}
	a.security = secReqs(d.Security)
	schemes := d.Schemes
	if len(schemes) == 0 {
		schemes = []string{""}
	}
	if d.Host != "" || d.BasePath != "" {
		for _, s := range schemes {
			u := "//" + d.Host + d.BasePath
			if s != "" {
				u = s + ":" + u
			}
			at := []string{"host"}
			if d.Host == "" {
				at = []string{"basePath"}
			}
			a.servers = append(a.servers, server{at: at, url: u})
		}
	}
	if d.Paths != nil {
		for raw, item := range d.Paths.PathItems.FromOldest() {
			addPath(a.paths, pathV2([]string{"paths", raw}, raw, item, d, a))
		}
	}
	if d.Definitions != nil {
		a.schemas = map[string]*base.SchemaProxy{}
		for name, s := range d.Definitions.Definitions.FromOldest() {
			a.schemas["#/definitions/"+name] = s
		}
	}
	if d.SecurityDefinitions != nil {
		for name, s := range d.SecurityDefinitions.Definitions.FromOldest() {
			at := []string{"securityDefinitions", name}
			sc := &secScheme{at: at, typ: s.Type, in: s.In, name: s.Name, flows: map[string]*secFlow{}}
			if s.Type == "oauth2" {
				fl := &secFlow{at: at, authorizationURL: s.AuthorizationUrl, tokenURL: s.TokenUrl, scopes: map[string]bool{}}
				if s.Scopes != nil {
					for scope := range s.Scopes.Values.FromOldest() {
						fl.scopes[scope] = true
					}
				}
				sc.flows[s.Flow] = fl
			}
			a.schemes[name] = sc
		}
	}
	return a
}

func pathV2(at []string, raw string, item *v2.PathItem, d *v2.Swagger, a *api) *pathEntry {
	e := &pathEntry{raw: raw, at: at, ops: map[string]*operation{}, ext: item.Extensions}
	tmpl := pathParams(raw)
	for method, op := range item.GetOperations().FromOldest() {
		oat := push(at, method)
		o := &operation{at: oat, deprecated: op.Deprecated, operationID: op.OperationId, summary: op.Summary,
			description: op.Description, tags: op.Tags, ext: op.Extensions, responses: map[string]*response{}}
		consumes, consumesAt := op.Consumes, push(oat, "consumes")
		if len(consumes) == 0 {
			consumes, consumesAt = d.Consumes, []string{"consumes"}
		}
		if len(consumes) == 0 {
			consumes = []string{"application/json"}
		}
		produces, producesAt := op.Produces, push(oat, "produces")
		if len(produces) == 0 {
			produces, producesAt = d.Produces, []string{"produces"}
		}
		if len(produces) == 0 {
			produces = []string{"application/json"}
		}
		seen := map[string]bool{}
		add := func(pat []string, p *v2.Parameter) {
			if p.In == "body" {
				b := &body{at: pat, required: p.Required != nil && *p.Required, description: p.Description,
					content: map[string]*media{}, ext: p.Extensions}
				for i, mt := range consumes {
					b.content[mt] = &media{at: push(consumesAt, strconv.Itoa(i)), schema: p.Schema, schemaAt: push(pat, "schema")}
				}
				o.body = b
				return
			}
			o.params = append(o.params, paramV2(pat, p, tmpl))
		}
		for i, p := range op.Parameters {
			add(push(push(oat, "parameters"), strconv.Itoa(i)), p)
			seen[p.In+":"+p.Name] = true
		}
		for i, p := range item.Parameters {
			if !seen[p.In+":"+p.Name] {
				add(push(push(at, "parameters"), strconv.Itoa(i)), p)
			}
		}
		if op.Responses != nil {
			rat := push(oat, "responses")
			for code, r := range op.Responses.Codes.FromOldest() {
				o.responses[code] = responseV2(push(rat, code), r, produces, producesAt)
			}
			if op.Responses.Default != nil {
				o.responses["default"] = responseV2(push(rat, "default"), op.Responses.Default, produces, producesAt)
			}
		}
		if low := op.GoLow(); low != nil && low.Security.KeyNode != nil {
			o.security, o.securityAt = secReqs(op.Security), push(oat, "security")
		} else {
			o.security, o.securityAt = a.security, []string{"security"}
		}
		e.ops[method] = o
	}
	return e
}

func paramV2(at []string, p *v2.Parameter, tmpl []string) *param {
	out := &param{name: p.Name, in: p.In, at: at, required: p.Required != nil && *p.Required,
		allowEmpty: p.AllowEmptyValue != nil && *p.AllowEmptyValue, description: p.Description,
		schemaAt: at, ext: p.Extensions, pathPosition: -1}
	if p.In == "path" {
		out.required = true
		for i, name := range tmpl {
			if name == p.Name {
				out.pathPosition = i
			}
		}
	}
	out.style, out.explode = collectionStyle(p.CollectionFormat, p.In)
	s := &base.Schema{Format: p.Format, Pattern: p.Pattern, Enum: p.Enum, Default: p.Default,
		Maximum: intF(p.Maximum), Minimum: intF(p.Minimum), MaxLength: intI(p.MaxLength), MinLength: intI(p.MinLength),
		MaxItems: intI(p.MaxItems), MinItems: intI(p.MinItems), UniqueItems: p.UniqueItems, MultipleOf: intF(p.MultipleOf)}
	if p.Type != "" {
		s.Type = []string{p.Type}
	}
	if p.ExclusiveMaximum != nil {
		s.ExclusiveMaximum = &base.DynamicValue[bool, float64]{A: *p.ExclusiveMaximum}
	}
	if p.ExclusiveMinimum != nil {
		s.ExclusiveMinimum = &base.DynamicValue[bool, float64]{A: *p.ExclusiveMinimum}
	}
	if p.Items != nil {
		s.Items = &base.DynamicValue[*base.SchemaProxy, bool]{A: base.CreateSchemaProxy(itemsSchema(p.Items))}
	}
	out.schema = base.CreateSchemaProxy(s)
	return out
}

func intF(i *int) *float64 {
	if i == nil {
		return nil
	}
	f := float64(*i)
	return &f
}

func intI(i *int) *int64 {
	if i == nil {
		return nil
	}
	v := int64(*i)
	return &v
}

// nz is a limit Swagger 2 items and headers hold as a plain int (0: unset).
func nzF(i int) *float64 {
	if i == 0 {
		return nil
	}
	f := float64(i)
	return &f
}

func nzI(i int) *int64 {
	if i == 0 {
		return nil
	}
	v := int64(i)
	return &v
}

func itemsSchema(it *v2.Items) *base.Schema {
	s := &base.Schema{Format: it.Format, Pattern: it.Pattern, Enum: it.Enum, Default: it.Default,
		Maximum: nzF(it.Maximum), Minimum: nzF(it.Minimum), MaxLength: nzI(it.MaxLength), MinLength: nzI(it.MinLength),
		MaxItems: nzI(it.MaxItems), MinItems: nzI(it.MinItems), MultipleOf: nzF(it.MultipleOf)}
	if it.Type != "" {
		s.Type = []string{it.Type}
	}
	if it.UniqueItems {
		t := true
		s.UniqueItems = &t
	}
	if it.Items != nil {
		s.Items = &base.DynamicValue[*base.SchemaProxy, bool]{A: base.CreateSchemaProxy(itemsSchema(it.Items))}
	}
	return s
}

func responseV2(at []string, r *v2.Response, produces []string, producesAt []string) *response {
	out := &response{at: at, description: r.Description, headers: map[string]*header{}, content: map[string]*media{}, ext: r.Extensions}
	if r.Schema != nil {
		for i, mt := range produces {
			out.content[mt] = &media{at: push(producesAt, strconv.Itoa(i)), schema: r.Schema, schemaAt: push(at, "schema")}
		}
	}
	for name, h := range r.Headers.FromOldest() {
		hat := push(push(at, "headers"), name)
		s := &base.Schema{Format: h.Format, Pattern: h.Pattern,
			Maximum: nzF(h.Maximum), Minimum: nzF(h.Minimum), MaxLength: nzI(h.MaxLength), MinLength: nzI(h.MinLength),
			MaxItems: nzI(h.MaxItems), MinItems: nzI(h.MinItems), MultipleOf: nzF(h.MultipleOf)}
		if h.Type != "" {
			s.Type = []string{h.Type}
		}
		for _, e := range h.Enum {
			s.Enum = append(s.Enum, &yaml.Node{Kind: yaml.ScalarNode, Value: fmt.Sprint(e)})
		}
		if h.Items != nil {
			s.Items = &base.DynamicValue[*base.SchemaProxy, bool]{A: base.CreateSchemaProxy(itemsSchema(h.Items))}
		}
		out.headers[name] = &header{at: hat, description: h.Description, schema: base.CreateSchemaProxy(s), schemaAt: hat}
	}
	return out
}

// collectionStyle is the OpenAPI 3 style and explode a Swagger 2
// collectionFormat stands for (csv by default), so a parameter keeps its
// meaning when a document moves from one to the other. tsv has no
// OpenAPI 3 twin and stays as it is.
func collectionStyle(format, in string) (style string, explode bool) {
	switch format {
	case "", "csv":
		if in == "path" || in == "header" {
			return "simple", false
		}
		return "form", false
	case "ssv":
		return "spaceDelimited", false
	case "pipes":
		return "pipeDelimited", false
	case "multi":
		return "form", true
	}
	return format, false
}
