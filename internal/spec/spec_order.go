package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/pb33f/go-yaml"
)

// documentKeys and objectKeys are the orders people write OpenAPI and
// Swagger documents and their objects in (the specification's own tables).
// A mapping's keys listed here come first, in this order; the rest keep the
// canonical (sorted) order after them.
var documentKeys = rankOf("openapi", "swagger", "info", "jsonSchemaDialect", "host", "basePath", "schemes",
	"consumes", "produces", "servers", "tags", "paths", "webhooks", "components", "definitions", "parameters",
	"responses", "securityDefinitions", "security", "externalDocs")

var objectKeys = rankOf("$ref", "name", "in", "title", "summary", "description", "termsOfService", "contact",
	"license", "version", "url", "email", "identifier", "variables", "tags", "operationId",
	"get", "put", "post", "delete", "options", "head", "patch", "trace", "servers", "parameters", "requestBody",
	"consumes", "produces", "schemes", "responses", "callbacks", "deprecated", "security",
	"allowEmptyValue", "style", "explode", "allowReserved",
	"type", "format", "enum", "const", "default", "nullable", "readOnly", "writeOnly", "minimum", "exclusiveMinimum",
	"maximum", "exclusiveMaximum", "multipleOf", "minLength", "maxLength", "pattern", "minItems", "maxItems",
	"uniqueItems", "items", "minProperties", "maxProperties", "required", "properties", "additionalProperties",
	"allOf", "oneOf", "anyOf", "not", "discriminator", "xml", "schema", "content", "headers", "links",
	"example", "examples", "encoding", "externalDocs", "schemas", "requestBodies", "securitySchemes", "pathItems")

func rankOf(keys ...string) map[string]int {
	m := make(map[string]int, len(keys))
	for i, k := range keys {
		m[k] = i
	}
	return m
}

// Conventional writes a stored (canonical JSON) OpenAPI document with its
// keys in the order people write them (openapi, info, servers, paths, …;
// get before post; type before properties), as YAML or as indented JSON.
// Names people chose (paths, schema names, properties) stay sorted.
func Conventional(canonical []byte, asYAML bool) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(canonical, &doc); err != nil {
		return nil, fmt.Errorf("reorder: %w", err)
	}
	if len(doc.Content) == 1 {
		order(doc.Content[0], documentKeys, false)
	}
	if asYAML {
		clearStyle(&doc)
		return yaml.Marshal(&doc)
	}
	var b bytes.Buffer
	if err := writeJSON(&b, &doc, 0); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// order sorts each mapping's keys by rank; named is true for
// mappings whose keys are names people chose (properties, paths, schemas),
// which keep their sorted order.
func order(n *yaml.Node, rank map[string]int, named bool) {
	if n.Kind == yaml.SequenceNode {
		for _, c := range n.Content {
			order(c, objectKeys, false)
		}
		return
	}
	if n.Kind != yaml.MappingNode {
		return
	}
	type pair struct{ k, v *yaml.Node }
	pairs := make([]pair, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		pairs = append(pairs, pair{n.Content[i], n.Content[i+1]})
	}
	if !named {
		slices.SortStableFunc(pairs, func(a, b pair) int {
			ra, oka := rank[a.k.Value]
			rb, okb := rank[b.k.Value]
			switch {
			case oka && okb:
				return ra - rb
			case oka:
				return -1
			case okb:
				return 1
			}
			return 0
		})
	}
	n.Content = n.Content[:0]
	for _, p := range pairs {
		n.Content = append(n.Content, p.k, p.v)
		order(p.v, objectKeys, !named && namesKeys(p.k.Value))
	}
}

// namesKeys says whether the value under key maps names people chose.
func namesKeys(key string) bool {
	switch key {
	case "paths", "webhooks", "properties", "patternProperties", "schemas", "definitions", "responses",
		"parameters", "securitySchemes", "securityDefinitions", "examples", "headers", "links", "callbacks",
		"requestBodies", "pathItems", "variables", "encoding", "content", "scopes", "mapping", "$defs":
		return true
	}
	return false
}

func clearStyle(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		clearStyle(c)
	}
}

// writeJSON writes a node decoded from JSON back as indented JSON, in the
// node's key order.
func writeJSON(b *bytes.Buffer, n *yaml.Node, depth int) error {
	indent := func(d int) {
		b.WriteByte('\n')
		for range d {
			b.WriteString("  ")
		}
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			b.WriteString("null")
			return nil
		}
		return writeJSON(b, n.Content[0], depth)
	case yaml.MappingNode:
		if len(n.Content) == 0 {
			b.WriteString("{}")
			return nil
		}
		b.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			indent(depth + 1)
			k, _ := json.Marshal(n.Content[i].Value)
			b.Write(k)
			b.WriteString(": ")
			if err := writeJSON(b, n.Content[i+1], depth+1); err != nil {
				return err
			}
		}
		indent(depth)
		b.WriteByte('}')
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			b.WriteString("[]")
			return nil
		}
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			indent(depth + 1)
			if err := writeJSON(b, c, depth+1); err != nil {
				return err
			}
		}
		indent(depth)
		b.WriteByte(']')
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!int", "!!float", "!!bool", "!!null":
			b.WriteString(n.Value)
		default:
			s, _ := json.Marshal(n.Value)
			b.Write(s)
		}
	default:
		return fmt.Errorf("reorder: unexpected YAML node kind %d", n.Kind)
	}
	return nil
}
