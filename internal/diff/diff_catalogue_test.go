package diff

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// schemaDoc is an OpenAPI 3.1 document whose only schema is read by the
// server (a request body) or by clients (a response body). An empty schema
// leaves the media type without one.
func schemaDoc(dir direction, schema, components string) string {
	media := "{}"
	if schema != "" {
		media = "\n" + strings.Repeat(" ", 12) + "schema: " + schema
		if dir == dirResponse {
			media = "\n" + strings.Repeat(" ", 14) + "schema: " + schema
		}
	}
	var b strings.Builder
	b.WriteString("openapi: 3.1.0\ninfo: {title: fixture, version: \"1\"}\npaths:\n  /things:\n")
	if dir == dirRequest {
		b.WriteString("    post:\n      requestBody:\n        required: true\n        content:\n          application/json: " + media + "\n")
		b.WriteString("      responses:\n        \"204\": {description: done}\n")
	} else {
		b.WriteString("    get:\n      responses:\n        \"200\":\n          description: ok\n          content:\n            application/json: " + media + "\n")
	}
	if components != "" {
		b.WriteString("components:\n  schemas:\n" + components)
	}
	return b.String()
}

const discriminated = "    A: {type: object, properties: {kind: {type: string}, a: {type: string}}}\n" +
	"    B: {type: object, properties: {kind: {type: string}, b: {type: string}}}\n"

// schemaCase is one schema change, judged once as request data and once as
// response data: the request run must report "request-<base>", the response
// run "response-<base>" (and each is the other's negative). reqBreaking
// and respBreaking are our labels for the labelled suite: does the change
// break clients (an error) in that direction.
type schemaCase struct {
	base                      string
	old, new                  string
	components                string
	reqBreaking, respBreaking bool
}

var schemaCases = []schemaCase{
	{"type-narrowed", `{type: [string, integer]}`, `{type: string}`, "", true, false},
	{"type-widened", `{type: integer}`, `{type: number}`, "", false, true},
	{"type-changed", `{type: string}`, `{type: integer}`, "", true, true},
	{"became-nullable", `{type: string}`, `{type: [string, "null"]}`, "", false, true},
	{"became-not-nullable", `{type: [string, "null"]}`, `{type: string}`, "", true, false},
	{"format-added", `{type: string}`, `{type: string, format: uuid}`, "", true, false},
	{"format-removed", `{type: string, format: uuid}`, `{type: string}`, "", false, true},
	{"format-widened", `{type: integer, format: int32}`, `{type: integer, format: int64}`, "", true, true},
	{"format-narrowed", `{type: integer, format: int64}`, `{type: integer, format: int32}`, "", true, true},
	{"format-changed", `{type: string, format: date}`, `{type: string, format: email}`, "", true, true},
	{"enum-value-added", `{type: string, enum: [red, green]}`, `{type: string, enum: [red, green, blue]}`, "", false, false},
	{"enum-value-removed", `{type: string, enum: [red, green, blue]}`, `{type: string, enum: [red, green]}`, "", true, false},
	{"became-enum", `{type: string}`, `{type: string, enum: [red, green]}`, "", true, false},
	{"enum-dropped", `{type: string, enum: [red, green]}`, `{type: string}`, "", false, false},
	{"extensible-enum-value-added", `{type: string, x-extensible-enum: [red]}`, `{type: string, x-extensible-enum: [red, green]}`, "", false, false},
	{"extensible-enum-value-removed", `{type: string, x-extensible-enum: [red, green]}`, `{type: string, x-extensible-enum: [red]}`, "", true, false},
	{"const-added", `{type: string}`, `{type: string, const: red}`, "", true, false},
	{"const-removed", `{type: string, const: red}`, `{type: string}`, "", false, true},
	{"const-changed", `{type: string, const: red}`, `{type: string, const: blue}`, "", true, true},
	{"bound-narrowed", `{type: string, maxLength: 10}`, `{type: string, maxLength: 5}`, "", true, false},
	{"bound-widened", `{type: string, maxLength: 5}`, `{type: string, maxLength: 10}`, "", false, true},
	{"bound-widened", `{type: array, items: {type: string}, minItems: 2}`, `{type: array, items: {type: string}}`, "", false, true},
	{"bound-added", `{type: integer}`, `{type: integer, maximum: 99}`, "", true, false},
	{"multiple-of-changed", `{type: integer, multipleOf: 2}`, `{type: integer, multipleOf: 3}`, "", true, true},
	{"unique-items-added", `{type: array, items: {type: string}}`, `{type: array, items: {type: string}, uniqueItems: true}`, "", true, false},
	{"unique-items-removed", `{type: array, items: {type: string}, uniqueItems: true}`, `{type: array, items: {type: string}}`, "", false, true},
	{"pattern-added", `{type: string}`, `{type: string, pattern: "^[a-z]+$"}`, "", true, false},
	{"pattern-changed", `{type: string, pattern: "^[a-z]+$"}`, `{type: string, pattern: "^[a-z0-9]+$"}`, "", true, true},
	{"pattern-removed", `{type: string, pattern: "^[a-z]+$"}`, `{type: string}`, "", false, true},
	{"became-read-only", `{type: object, properties: {id: {type: string}}}`, `{type: object, properties: {id: {type: string, readOnly: true}}}`, "", true, false},
	{"no-longer-read-only", `{type: object, properties: {id: {type: string, readOnly: true}}}`, `{type: object, properties: {id: {type: string}}}`, "", false, false},
	{"became-write-only", `{type: object, properties: {pin: {type: string}}}`, `{type: object, properties: {pin: {type: string, writeOnly: true}}}`, "", false, false},
	{"no-longer-write-only", `{type: object, properties: {pin: {type: string, writeOnly: true}}}`, `{type: object, properties: {pin: {type: string}}}`, "", false, false},
	{"default-changed", `{type: string, default: red}`, `{type: string, default: blue}`, "", false, false},
	{"property-became-required", `{type: object, properties: {a: {type: string}, b: {type: string}}}`, `{type: object, required: [b], properties: {a: {type: string}, b: {type: string}}}`, "", true, false},
	{"property-became-optional", `{type: object, required: [b], properties: {a: {type: string}, b: {type: string}}}`, `{type: object, properties: {a: {type: string}, b: {type: string}}}`, "", false, true},
	{"additional-properties-narrowed", `{type: object, properties: {a: {type: string}}}`, `{type: object, properties: {a: {type: string}}, additionalProperties: false}`, "", true, false},
	{"additional-properties-widened", `{type: object, properties: {a: {type: string}}, additionalProperties: false}`, `{type: object, properties: {a: {type: string}}, additionalProperties: true}`, "", false, true},
	{"additional-properties-widened", `{type: object, additionalProperties: {type: string}}`, `{type: object}`, "", false, true},
	{"additional-properties-narrowed", `{type: object}`, `{type: object, additionalProperties: {type: string}}`, "", true, false},
	{"bound-widened", `{type: number, multipleOf: 0.5}`, `{type: number, multipleOf: 0.25}`, "", false, true},
	{"bound-added", `{type: number}`, `{type: number, multipleOf: 5}`, "", true, false},
	{"schema-added", ``, `{type: object}`, "", false, false},
	{"schema-removed", `{type: object}`, ``, "", false, false},
	{"items-added", `{type: array}`, `{type: array, items: {type: string}}`, "", true, false},
	{"items-removed", `{type: array, items: {type: string}}`, `{type: array}`, "", false, false},
	{"one-of-member-added", `{oneOf: [{type: string}]}`, `{oneOf: [{type: string}, {type: integer}]}`, "", false, true},
	{"one-of-member-removed", `{oneOf: [{type: string}, {type: integer}]}`, `{oneOf: [{type: string}]}`, "", true, false},
	{"any-of-member-added", `{anyOf: [{type: string}]}`, `{anyOf: [{type: string}, {type: integer}]}`, "", false, true},
	{"any-of-member-removed", `{anyOf: [{type: string}, {type: integer}]}`, `{anyOf: [{type: string}]}`, "", true, false},
	{"all-of-member-added", `{allOf: [{type: object, properties: {a: {type: string}}}]}`, `{allOf: [{type: object, properties: {a: {type: string}}}, {type: object, required: [b], properties: {b: {type: integer}}}]}`, "", true, false},
	{"all-of-member-removed", `{allOf: [{type: object, properties: {a: {type: string}}}, {type: object, properties: {b: {type: integer}}}]}`, `{allOf: [{type: object, properties: {a: {type: string}}}]}`, "", true, false},
	{"not-added", `{type: string}`, `{type: string, not: {const: none}}`, "", true, false},
	{"not-removed", `{type: string, not: {const: none}}`, `{type: string}`, "", false, false},
	{"discriminator-property-changed", `{oneOf: [{$ref: "#/components/schemas/A"}, {$ref: "#/components/schemas/B"}], discriminator: {propertyName: kind}}`, `{oneOf: [{$ref: "#/components/schemas/A"}, {$ref: "#/components/schemas/B"}], discriminator: {propertyName: type}}`, discriminated, true, true},
	{"discriminator-added", `{oneOf: [{$ref: "#/components/schemas/A"}, {$ref: "#/components/schemas/B"}]}`, `{oneOf: [{$ref: "#/components/schemas/A"}, {$ref: "#/components/schemas/B"}], discriminator: {propertyName: kind}}`, discriminated, false, false},
	{"discriminator-removed", `{oneOf: [{$ref: "#/components/schemas/A"}, {$ref: "#/components/schemas/B"}], discriminator: {propertyName: kind}}`, `{oneOf: [{$ref: "#/components/schemas/A"}, {$ref: "#/components/schemas/B"}]}`, discriminated, false, false},
	{"discriminator-mapping-added", `{oneOf: [{$ref: "#/components/schemas/A"}, {$ref: "#/components/schemas/B"}], discriminator: {propertyName: kind, mapping: {a: "#/components/schemas/A"}}}`, `{oneOf: [{$ref: "#/components/schemas/A"}, {$ref: "#/components/schemas/B"}], discriminator: {propertyName: kind, mapping: {a: "#/components/schemas/A", b: "#/components/schemas/B"}}}`, discriminated, false, false},
	{"discriminator-mapping-removed", `{oneOf: [{$ref: "#/components/schemas/A"}, {$ref: "#/components/schemas/B"}], discriminator: {propertyName: kind, mapping: {a: "#/components/schemas/A", b: "#/components/schemas/B"}}}`, `{oneOf: [{$ref: "#/components/schemas/A"}, {$ref: "#/components/schemas/B"}], discriminator: {propertyName: kind, mapping: {a: "#/components/schemas/A"}}}`, discriminated, false, false},
	{"discriminator-mapping-changed", `{oneOf: [{$ref: "#/components/schemas/A"}, {$ref: "#/components/schemas/B"}], discriminator: {propertyName: kind, mapping: {a: "#/components/schemas/A"}}}`, `{oneOf: [{$ref: "#/components/schemas/A"}, {$ref: "#/components/schemas/B"}], discriminator: {propertyName: kind, mapping: {a: "#/components/schemas/B"}}}`, discriminated, false, true},
	{"contains-added", `{type: array, items: {type: string}}`, `{type: array, items: {type: string}, contains: {const: admin}}`, "", true, false},
	{"contains-removed", `{type: array, items: {type: string}, contains: {const: admin}}`, `{type: array, items: {type: string}}`, "", false, true},
	{"dependent-required-added", `{type: object, properties: {card: {type: string}, cvc: {type: string}}}`, `{type: object, properties: {card: {type: string}, cvc: {type: string}}, dependentRequired: {card: [cvc]}}`, "", true, false},
	{"dependent-required-removed", `{type: object, properties: {card: {type: string}, cvc: {type: string}}, dependentRequired: {card: [cvc]}}`, `{type: object, properties: {card: {type: string}, cvc: {type: string}}}`, "", false, true},
	{"dependent-schema-added", `{type: object, properties: {card: {type: string}}}`, `{type: object, properties: {card: {type: string}}, dependentSchemas: {card: {required: [zip]}}}`, "", true, false},
	{"dependent-schema-removed", `{type: object, properties: {card: {type: string}}, dependentSchemas: {card: {required: [zip]}}}`, `{type: object, properties: {card: {type: string}}}`, "", false, true},
	{"conditional-added", `{type: object, properties: {country: {type: string}}}`, `{type: object, properties: {country: {type: string}}, if: {properties: {country: {const: US}}}, then: {required: [state]}}`, "", true, false},
	{"conditional-removed", `{type: object, properties: {country: {type: string}}, if: {properties: {country: {const: US}}}, then: {required: [state]}}`, `{type: object, properties: {country: {type: string}}}`, "", false, true},
	{"pattern-property-added", `{type: object}`, `{type: object, patternProperties: {"^x-": {type: string}}}`, "", true, false},
	{"pattern-property-removed", `{type: object, patternProperties: {"^x-": {type: string}}}`, `{type: object}`, "", false, true},
	{"property-names-added", `{type: object}`, `{type: object, propertyNames: {maxLength: 8}}`, "", true, false},
	{"property-names-removed", `{type: object, propertyNames: {maxLength: 8}}`, `{type: object}`, "", false, true},
	{"prefix-item-added", `{type: array}`, `{type: array, prefixItems: [{type: string}]}`, "", false, true},
	{"prefix-item-removed", `{type: array, prefixItems: [{type: string}]}`, `{type: array}`, "", true, false},
	{"xml-changed", `{type: object, properties: {id: {type: string}}}`, `{type: object, properties: {id: {type: string, xml: {attribute: true}}}}`, "", true, true},
	{"xml-changed", `{type: object, xml: {name: item}}`, `{type: object, xml: {name: thing}}`, "", true, true},
	{"content-encoding-changed", `{type: string, contentEncoding: base64}`, `{type: string, contentEncoding: base32}`, "", true, true},
	{"content-encoding-changed", `{type: string, contentMediaType: image/png}`, `{type: string, contentMediaType: image/jpeg}`, "", true, true},
	{"content-schema-added", `{type: string, contentMediaType: application/json}`, `{type: string, contentMediaType: application/json, contentSchema: {type: object}}`, "", true, false},
	{"content-schema-removed", `{type: string, contentMediaType: application/json, contentSchema: {type: object}}`, `{type: string, contentMediaType: application/json}`, "", false, true},
	{"unevaluated-narrowed", `{type: object, properties: {a: {type: string}}}`, `{type: object, properties: {a: {type: string}}, unevaluatedProperties: false}`, "", true, false},
	{"unevaluated-widened", `{type: object, properties: {a: {type: string}}, unevaluatedProperties: false}`, `{type: object, properties: {a: {type: string}}}`, "", false, true},
	// the same keywords deeper in the tree, and through $ref
	{"bound-narrowed", `{type: object, properties: {tags: {type: array, maxItems: 10, items: {type: string}}}}`, `{type: object, properties: {tags: {type: array, maxItems: 3, items: {type: string}}}}`, "", true, false},
	{"bound-narrowed", `{type: object, properties: {age: {type: integer, minimum: 0}}}`, `{type: object, properties: {age: {type: integer, minimum: 18}}}`, "", true, false},
	{"bound-added", `{type: object, properties: {name: {type: string}}}`, `{type: object, properties: {name: {type: string, maxLength: 40}}}`, "", true, false},
	// data its reader ignores: a readOnly property in a request, a writeOnly one in a response
	{"enum-value-removed", `{type: object, properties: {state: {type: string, readOnly: true, enum: [a, b]}}}`, `{type: object, properties: {state: {type: string, readOnly: true, enum: [a]}}}`, "", false, false},
	{"property-became-required", `{type: object, properties: {a: {type: string}, b: {type: string, default: x}}}`, `{type: object, required: [b], properties: {a: {type: string}, b: {type: string, default: x}}}`, "", false, false},
	{"type-changed", `{$ref: "#/components/schemas/A"}`, `{$ref: "#/components/schemas/A2"}`, discriminated + "    A2: {type: object, properties: {kind: {type: integer}, a: {type: string}}}\n", true, true},
	{"enum-value-removed", `{type: array, items: {type: string, enum: [x, y]}}`, `{type: array, items: {type: string, enum: [x]}}`, "", true, false},
	{"enum-value-added", `{type: object, properties: {status: {type: string, enum: [open, closed]}}}`, `{type: object, properties: {status: {type: string, enum: [open, closed, archived]}}}`, "", false, false},
	{"property-became-optional", `{type: object, required: [id], properties: {id: {type: string}, owner: {$ref: "#/components/schemas/A"}}}`, `{type: object, properties: {id: {type: string}, owner: {$ref: "#/components/schemas/A"}}}`, discriminated, false, true},
}

// singleCase edits a base fixture (testdata/rules/shop.yaml or
// shop-v2.yaml): pre makes the old document, edits the new one from it;
// reverse swaps them. The change must report fires, none of not, and break
// clients exactly when breaking (our label).
type singleCase struct {
	name     string
	file     string
	pre      []string
	edits    []string
	reverse  bool
	fires    string
	not      []string
	breaking bool
}

const (
	moreOp       = "    delete:\n      responses:\n        \"204\": {description: gone}\n  /legacy:\n"
	newPath      = "  /more:\n    get:\n      responses:\n        \"200\": {description: ok}\n  /legacy:\n"
	legacyOp     = "      operationId: legacy\n      deprecated: true\n      responses:\n        \"200\": {description: ok}\n"
	legacySunset = "      operationId: legacy\n      deprecated: true\n      x-sunset: \"2999-01-01\"\n      responses:\n        \"200\": {description: ok}\n"
	itemRespEnd  = "              schema: {$ref: \"#/components/schemas/Item\"}\n  /legacy:\n"
	newItemBody  = "            schema: {$ref: \"#/components/schemas/NewItem\"}\n"
	limitParam   = "        - name: limit\n          in: query\n"
	rateLimit    = "            X-Rate-Limit:\n              required: true\n              schema: {type: integer}\n"
	itemProps    = "        id: {type: string}\n        name: {type: string}\n        note: {type: string}\n"
	newItemReq   = "      required: [name]\n      properties:\n        name: {type: string}\n        note: {type: string}\n"
	authCode     = "        authorizationCode:\n          authorizationUrl: https://id.example.com/authorize\n          tokenUrl: https://id.example.com/token\n          scopes:\n            reports:read: Read reports\n"
)

var singleCases = []singleCase{
	{name: "path added", edits: []string{"  /legacy:\n", newPath}, fires: "path-added", not: []string{"path-removed"}},
	{name: "path removed", edits: []string{"  /legacy:\n", newPath}, reverse: true, fires: "path-removed", not: []string{"path-added", "path-removed-after-deprecation"}, breaking: true},
	{name: "deprecated path removed", edits: []string{"  /legacy:\n    get:\n" + legacyOp, ""}, fires: "path-removed-after-deprecation", not: []string{"path-removed", "path-removed-before-sunset"}},
	{name: "deprecated path removed before its sunset", pre: []string{legacyOp, legacySunset}, edits: []string{"  /legacy:\n    get:\n" + legacySunset, ""},
		fires: "path-removed-before-sunset", not: []string{"path-removed", "path-removed-after-deprecation"}, breaking: true},
	{name: "deprecated operation removed before its sunset", edits: []string{legacyOp, legacyOp + "    post:\n      deprecated: true\n      x-sunset: \"2999-01-01\"\n      responses:\n        \"204\": {description: ok}\n"}, reverse: true,
		fires: "operation-removed-before-sunset", not: []string{"operation-removed", "operation-removed-after-deprecation"}, breaking: true},
	{name: "deprecated operation removed after its sunset", edits: []string{legacyOp, legacyOp + "    post:\n      deprecated: true\n      x-sunset: \"2020-01-01\"\n      responses:\n        \"204\": {description: ok}\n"}, reverse: true,
		fires: "operation-removed-after-deprecation", not: []string{"operation-removed", "operation-removed-before-sunset"}},
	{name: "sunset dropped while deprecated", pre: []string{legacyOp, legacySunset}, edits: []string{"      x-sunset: \"2999-01-01\"\n", ""}, fires: "sunset-removed", not: []string{"sunset-changed", "extension-changed"}, breaking: true},
	{name: "sunset dropped with the deprecation", pre: []string{"      operationId: getItem\n", "      operationId: getItem\n      x-sunset: \"2027-06-01\"\n"}, edits: []string{"      x-sunset: \"2027-06-01\"\n", ""},
		fires: "sunset-changed", not: []string{"sunset-removed"}},
	{name: "sunset not a date", pre: []string{"      operationId: getItem\n", "      operationId: getItem\n      x-sunset: \"2027-06-01\"\n"}, edits: []string{"\"2027-06-01\"", "next spring"},
		fires: "sunset-invalid", not: []string{"sunset-changed", "sunset-brought-forward"}, breaking: true},
	{name: "stability lowered", pre: []string{"      operationId: getItem\n", "      operationId: getItem\n      x-stability-level: stable\n"}, edits: []string{"x-stability-level: stable", "x-stability-level: beta"},
		fires: "stability-decreased", not: []string{"stability-increased", "extension-changed"}, breaking: true},
	{name: "stability raised", pre: []string{"      operationId: getItem\n", "      operationId: getItem\n      x-stability-level: stable\n"}, edits: []string{"x-stability-level: stable", "x-stability-level: beta"}, reverse: true,
		fires: "stability-increased", not: []string{"stability-decreased"}},
	{name: "stability unknown", pre: []string{"      operationId: getItem\n", "      operationId: getItem\n      x-stability-level: stable\n"}, edits: []string{"x-stability-level: stable", "x-stability-level: production"},
		fires: "stability-invalid", not: []string{"stability-decreased", "stability-increased"}, breaking: true},
	{name: "alpha operation changes freely", pre: []string{"      operationId: getItem\n", "      operationId: getItem\n      x-stability-level: alpha\n"},
		edits: []string{"          in: path\n          required: true\n          schema: {type: string}\n", "          in: path\n          required: true\n          schema: {type: integer}\n"},
		fires: "request-type-changed", not: []string{"stability-decreased", "stability-invalid"}},
	{name: "path parameter renamed", edits: []string{"  /items/{id}:\n", "  /items/{itemId}:\n", "        - name: id\n          in: path\n", "        - name: itemId\n          in: path\n"},
		fires: "path-parameter-renamed", not: []string{"path-removed", "path-added", "request-parameter-added-required", "request-parameter-removed"}},
	{name: "path parameter retyped", edits: []string{"          in: path\n          required: true\n          schema: {type: string}\n", "          in: path\n          required: true\n          schema: {type: integer}\n"},
		fires: "request-type-changed", not: []string{"path-parameter-renamed"}, breaking: true},
	{name: "webhook added", file: "hooks.yaml", edits: []string{"webhooks:\n", "webhooks:\n  orderShipped:\n    post:\n      responses:\n        \"200\": {description: ok}\n"},
		fires: "webhook-added", not: []string{"webhook-removed", "path-added"}},
	{name: "webhook removed", file: "hooks.yaml", edits: []string{"webhooks:\n", "webhooks:\n  orderShipped:\n    post:\n      responses:\n        \"200\": {description: ok}\n"}, reverse: true,
		fires: "webhook-removed", not: []string{"webhook-added", "path-removed"}, breaking: true},
	{name: "operation added", edits: []string{"  /legacy:\n", moreOp}, fires: "operation-added", not: []string{"operation-removed"}},
	{name: "operation removed", edits: []string{"  /legacy:\n", moreOp}, reverse: true, fires: "operation-removed", not: []string{"operation-added", "operation-removed-after-deprecation"}, breaking: true},
	{name: "deprecated operation removed", edits: []string{legacyOp, legacyOp + "    post:\n      deprecated: true\n      responses:\n        \"204\": {description: ok}\n"}, reverse: true,
		fires: "operation-removed-after-deprecation", not: []string{"operation-removed", "path-removed"}},
	{name: "operation deprecated", edits: []string{"      operationId: getItem\n", "      operationId: getItem\n      deprecated: true\n"}, fires: "operation-deprecated", not: []string{"operation-undeprecated", "operation-removed"}},
	{name: "operation undeprecated", edits: []string{"      operationId: getItem\n", "      operationId: getItem\n      deprecated: true\n"}, reverse: true, fires: "operation-undeprecated", not: []string{"operation-deprecated"}},
	{name: "operationId changed", edits: []string{"operationId: getItem", "operationId: fetchItem"}, fires: "operation-id-changed", not: []string{"metadata-changed", "description-changed"}},
	{name: "sunset set", edits: []string{"      operationId: getItem\n", "      operationId: getItem\n      x-sunset: \"2027-01-01\"\n"}, fires: "sunset-added", not: []string{"sunset-brought-forward", "extension-changed"}},
	{name: "sunset earlier", pre: []string{"      operationId: getItem\n", "      operationId: getItem\n      x-sunset: \"2027-06-01\"\n"}, edits: []string{"2027-06-01", "2027-01-01"},
		fires: "sunset-brought-forward", not: []string{"sunset-changed", "sunset-added", "sunset-invalid"}},
	{name: "sunset later", pre: []string{"      operationId: getItem\n", "      operationId: getItem\n      x-sunset: \"2027-06-01\"\n"}, edits: []string{"2027-06-01", "2028-01-01"},
		fires: "sunset-changed", not: []string{"sunset-brought-forward"}},
	{name: "required body added", edits: []string{"      operationId: getItem\n", "      operationId: getItem\n      requestBody:\n        required: true\n        content:\n          application/json:\n            schema: {type: object}\n"},
		fires: "request-body-added-required", not: []string{"request-body-added-optional"}, breaking: true},
	{name: "optional body added", edits: []string{"      operationId: getItem\n", "      operationId: getItem\n      requestBody:\n        content:\n          application/json:\n            schema: {type: object}\n"},
		fires: "request-body-added-optional", not: []string{"request-body-added-required", "request-body-removed"}},
	{name: "body removed", edits: []string{"      operationId: getItem\n", "      operationId: getItem\n      requestBody:\n        content:\n          application/json:\n            schema: {type: object}\n"}, reverse: true,
		fires: "request-body-removed", not: []string{"request-body-added-optional"}, breaking: true},
	{name: "body becomes required", edits: []string{"      requestBody:\n", "      requestBody:\n        required: true\n"}, fires: "request-body-became-required", not: []string{"request-body-became-optional"}, breaking: true},
	{name: "body becomes optional", edits: []string{"      requestBody:\n", "      requestBody:\n        required: true\n"}, reverse: true, fires: "request-body-became-optional", not: []string{"request-body-became-required"}},
	{name: "request media type added", edits: []string{newItemBody, newItemBody + "          application/xml:\n" + newItemBody}, fires: "request-media-type-added", not: []string{"request-media-type-removed", "response-media-type-added"}},
	{name: "request media type removed", edits: []string{newItemBody, newItemBody + "          application/xml:\n" + newItemBody}, reverse: true, fires: "request-media-type-removed", not: []string{"request-media-type-added", "response-media-type-removed"}, breaking: true},
	{name: "response media type added", edits: []string{itemRespEnd, "              schema: {$ref: \"#/components/schemas/Item\"}\n            application/xml:\n" + itemRespEnd}, fires: "response-media-type-added", not: []string{"response-media-type-removed", "request-media-type-added"}},
	{name: "response media type removed", edits: []string{itemRespEnd, "              schema: {$ref: \"#/components/schemas/Item\"}\n            application/xml:\n" + itemRespEnd}, reverse: true, fires: "response-media-type-removed", not: []string{"response-media-type-added", "request-media-type-removed"}, breaking: true},
	{name: "success status removed", edits: []string{"        \"404\":\n          description: None\n", "        \"404\":\n          description: None\n        \"206\":\n          description: Partial\n"}, reverse: true,
		fires: "response-success-status-removed", not: []string{"response-non-success-status-removed", "response-status-added"}, breaking: true},
	{name: "error status removed", edits: []string{"        \"404\":\n          description: None\n", ""}, fires: "response-non-success-status-removed", not: []string{"response-success-status-removed"}},
	{name: "status added", edits: []string{"        \"404\":\n          description: None\n", "        \"404\":\n          description: None\n        \"206\":\n          description: Partial\n"}, fires: "response-status-added", not: []string{"response-success-status-removed"}},
	{name: "required header removed", edits: []string{rateLimit, ""}, fires: "response-required-header-removed", not: []string{"response-optional-header-removed", "response-header-added"}, breaking: true},
	{name: "optional header removed", edits: []string{"            X-Cursor:\n              schema: {type: string}\n", ""}, fires: "response-optional-header-removed", not: []string{"response-required-header-removed"}, breaking: true},
	{name: "header added", edits: []string{"            X-Cursor:\n", "            X-Total:\n              schema: {type: integer}\n            X-Cursor:\n"}, fires: "response-header-added", not: []string{"response-optional-header-removed"}},
	{name: "header becomes optional", edits: []string{"              required: true\n              schema: {type: integer}\n", "              schema: {type: integer}\n"}, fires: "response-header-became-optional", not: []string{"response-header-became-required"}, breaking: true},
	{name: "header becomes required", edits: []string{"              required: true\n              schema: {type: integer}\n", "              schema: {type: integer}\n"}, reverse: true, fires: "response-header-became-required", not: []string{"response-header-became-optional"}},
	{name: "required parameter added", edits: []string{"        - name: limit\n", "        - name: q\n          in: query\n          required: true\n          schema: {type: string}\n        - name: limit\n"}, fires: "request-parameter-added-required", not: []string{"request-parameter-added-optional"}, breaking: true},
	{name: "optional parameter added", edits: []string{"        - name: limit\n", "        - name: q\n          in: query\n          schema: {type: string}\n        - name: limit\n"}, fires: "request-parameter-added-optional", not: []string{"request-parameter-added-required", "request-parameter-removed"}},
	{name: "deprecated parameter removed", pre: []string{limitParam, limitParam + "          deprecated: true\n"}, edits: []string{limitParam + "          deprecated: true\n          schema: {type: integer}\n", ""},
		fires: "request-parameter-removed-after-deprecation", not: []string{"request-parameter-removed", "request-parameter-removed-before-sunset"}},
	{name: "deprecated parameter removed before its sunset", pre: []string{limitParam, limitParam + "          deprecated: true\n          x-sunset: \"2999-01-01\"\n"},
		edits: []string{limitParam + "          deprecated: true\n          x-sunset: \"2999-01-01\"\n          schema: {type: integer}\n", ""},
		fires: "request-parameter-removed-before-sunset", not: []string{"request-parameter-removed", "request-parameter-removed-after-deprecation"}, breaking: true},
	{name: "query number becomes a string", edits: []string{limitParam + "          schema: {type: integer}\n", limitParam + "          schema: {type: string}\n"},
		fires: "request-type-widened", not: []string{"request-type-changed"}},
	{name: "parameter removed", edits: []string{"        - name: limit\n", "        - name: q\n          in: query\n          schema: {type: string}\n        - name: limit\n"}, reverse: true, fires: "request-parameter-removed", not: []string{"request-parameter-added-optional", "request-parameter-location-changed"}, breaking: true},
	{name: "reserved header parameter added", edits: []string{"        - name: limit\n", "        - name: Accept\n          in: header\n          required: true\n          schema: {type: string}\n        - name: limit\n"}, fires: "request-parameter-added-required"},
	{name: "explode changed on a scalar", edits: []string{"          in: path\n          required: true\n          schema: {type: string}\n", "          in: path\n          required: true\n          explode: true\n          schema: {type: string}\n"}, fires: "request-parameter-explode-changed"},
	{name: "parameter becomes required", edits: []string{limitParam, limitParam + "          required: true\n"}, fires: "request-parameter-became-required", not: []string{"request-parameter-became-optional", "request-parameter-deprecated"}, breaking: true},
	{name: "parameter becomes optional", edits: []string{limitParam, limitParam + "          required: true\n"}, reverse: true, fires: "request-parameter-became-optional", not: []string{"request-parameter-became-required"}},
	{name: "parameter moves to a header", edits: []string{limitParam, "        - name: limit\n          in: header\n"}, fires: "request-parameter-location-changed", not: []string{"request-parameter-removed", "request-parameter-added-optional"}, breaking: true},
	{name: "parameter style changed", pre: []string{limitParam + "          schema: {type: integer}", limitParam + "          schema: {type: array, items: {type: integer}}"},
		edits: []string{limitParam, limitParam + "          style: pipeDelimited\n          explode: true\n"}, fires: "request-parameter-style-changed", not: []string{"request-parameter-explode-changed"}, breaking: true},
	{name: "style changed on a scalar", edits: []string{limitParam, limitParam + "          style: pipeDelimited\n          explode: true\n"}, fires: "request-parameter-style-changed", not: []string{"request-parameter-explode-changed"}},
	{name: "parameter explode changed", pre: []string{limitParam + "          schema: {type: integer}", limitParam + "          schema: {type: array, items: {type: integer}}"}, edits: []string{limitParam, limitParam + "          explode: false\n"},
		fires: "request-parameter-explode-changed", not: []string{"request-parameter-style-changed"}, breaking: true},
	{name: "empty value disallowed", pre: []string{limitParam, limitParam + "          allowEmptyValue: true\n"}, edits: []string{"          allowEmptyValue: true\n", ""},
		fires: "request-parameter-empty-value-disallowed", not: []string{"request-parameter-empty-value-allowed"}, breaking: true},
	{name: "empty value allowed", edits: []string{limitParam, limitParam + "          allowEmptyValue: true\n"}, fires: "request-parameter-empty-value-allowed", not: []string{"request-parameter-empty-value-disallowed"}},
	{name: "parameter default changed", pre: []string{limitParam + "          schema: {type: integer}", limitParam + "          schema: {type: integer, default: 20}"}, edits: []string{"default: 20", "default: 50"},
		fires: "request-parameter-default-changed", not: []string{"request-default-changed"}, breaking: true},
	{name: "body property default changed", pre: []string{"        note: {type: string}\n", "        note: {type: string, default: none}\n"}, edits: []string{"default: none", "default: empty"},
		fires: "request-default-changed", not: []string{"request-parameter-default-changed"}},
	{name: "reserved characters allowed", edits: []string{limitParam, limitParam + "          allowReserved: true\n"}, fires: "request-parameter-reserved-allowed", not: []string{"request-parameter-reserved-disallowed"}},
	{name: "reserved characters disallowed", edits: []string{limitParam, limitParam + "          allowReserved: true\n"}, reverse: true, fires: "request-parameter-reserved-disallowed", not: []string{"request-parameter-reserved-allowed"}, breaking: true},
	{name: "parameter deprecated", edits: []string{limitParam, limitParam + "          deprecated: true\n"}, fires: "request-parameter-deprecated", not: []string{"request-parameter-removed"}},
	{name: "required request property no longer read-only", pre: []string{newItemReq, "      required: [name]\n      properties:\n        name: {type: string, readOnly: true}\n        note: {type: string}\n"},
		edits: []string{"name: {type: string, readOnly: true}", "name: {type: string}"}, fires: "request-property-became-required", not: []string{"request-property-added-required"}, breaking: true},
	{name: "required request property added", edits: []string{newItemReq, "      required: [name, size]\n      properties:\n        name: {type: string}\n        note: {type: string}\n        size: {type: integer}\n"},
		fires: "request-property-added-required", not: []string{"request-property-added-optional"}, breaking: true},
	{name: "optional request property added", edits: []string{newItemReq, newItemReq + "        size: {type: integer}\n"}, fires: "request-property-added-optional", not: []string{"request-property-added-required", "request-property-removed"}},
	{name: "response property added", edits: []string{itemProps, itemProps + "        sku: {type: string}\n"}, fires: "response-property-added", not: []string{"response-optional-property-removed", "request-property-added-optional"}},
	{name: "request property removed", edits: []string{newItemReq, "      required: [name]\n      properties:\n        name: {type: string}\n"}, fires: "request-property-removed", not: []string{"request-property-added-optional"}, breaking: true},
	{name: "required response property removed", edits: []string{"      required: [id, name]\n      properties:\n        id: {type: string}\n        name: {type: string}\n", "      required: [id]\n      properties:\n        id: {type: string}\n"},
		fires: "response-required-property-removed", not: []string{"response-optional-property-removed", "response-property-became-optional"}, breaking: true},
	{name: "optional response property removed", edits: []string{itemProps, "        id: {type: string}\n        name: {type: string}\n"}, fires: "response-optional-property-removed", not: []string{"response-required-property-removed", "response-property-added"}},
	{name: "security added", pre: []string{"      operationId: legacy\n", "      operationId: legacy\n      security: []\n"}, edits: []string{"      security: []\n", ""}, fires: "security-added", not: []string{"security-removed"}, breaking: true},
	{name: "security removed", edits: []string{"      operationId: legacy\n", "      operationId: legacy\n      security: []\n"}, fires: "security-removed", not: []string{"security-added"}, breaking: true},
	{name: "security alternative added", edits: []string{"security:\n  - apiKey: []\n", "security:\n  - apiKey: []\n  - bearer: []\n"}, fires: "security-alternative-added", not: []string{"security-alternative-removed", "security-added"}},
	{name: "security alternative removed", edits: []string{"security:\n  - apiKey: []\n", "security:\n  - apiKey: []\n  - bearer: []\n"}, reverse: true, fires: "security-alternative-removed", not: []string{"security-alternative-added", "security-removed"}, breaking: true},
	{name: "security alternative relaxed", edits: []string{"security:\n  - apiKey: []\n", "security:\n  - apiKey: []\n    bearer: []\n"}, reverse: true, fires: "security-alternative-relaxed", not: []string{"security-alternative-removed", "security-alternative-added"}},
	{name: "security alternative tightened", edits: []string{"security:\n  - apiKey: []\n", "security:\n  - apiKey: []\n    bearer: []\n"}, fires: "security-alternative-removed", not: []string{"security-alternative-relaxed"}, breaking: true},
	{name: "security scheme swapped", edits: []string{"security:\n  - apiKey: []\n", "security:\n  - bearer: []\n"}, fires: "security-alternative-removed", breaking: true},
	{name: "one scheme in two alternatives with other scopes", edits: []string{"        - oauth: [reports:read]\n", "        - oauth: [reports:read]\n        - oauth: [reports:write]\n"},
		fires: "security-alternative-added", not: []string{"security-scope-added", "security-scope-removed"}},
	{name: "scope required", edits: []string{"        - oauth: [reports:read]", "        - oauth: [reports:read, reports:write]"}, fires: "security-scope-added", not: []string{"security-scope-removed"}, breaking: true},
	{name: "scope no longer required", edits: []string{"        - oauth: [reports:read]", "        - oauth: [reports:read, reports:write]"}, reverse: true, fires: "security-scope-removed", not: []string{"security-scope-added"}},
	{name: "scheme added", edits: []string{"  securitySchemes:\n", "  securitySchemes:\n    basic: {type: http, scheme: basic}\n"}, fires: "security-scheme-added", not: []string{"security-scheme-removed"}},
	{name: "scheme removed", edits: []string{"  securitySchemes:\n", "  securitySchemes:\n    basic: {type: http, scheme: basic}\n"}, reverse: true, fires: "security-scheme-removed", not: []string{"security-scheme-added"}},
	{name: "scheme type changed", edits: []string{"apiKey: {type: apiKey, in: header, name: X-API-Key}", "apiKey: {type: http, scheme: basic}"}, fires: "security-scheme-type-changed", not: []string{"security-scheme-api-key-changed", "security-scheme-bearer-format-changed", "security-scheme-openid-connect-url-changed"}, breaking: true},
	{name: "api key renamed", edits: []string{"name: X-API-Key", "name: X-Api-Token"}, fires: "security-scheme-api-key-changed", not: []string{"security-scheme-type-changed"}, breaking: true},
	{name: "bearer format changed", edits: []string{"bearerFormat: JWT", "bearerFormat: opaque"}, fires: "security-scheme-bearer-format-changed", not: []string{"security-scheme-type-changed"}},
	{name: "openid url changed", edits: []string{"openid-configuration", "openid-config"}, fires: "security-scheme-openid-connect-url-changed", not: []string{"security-scheme-type-changed"}, breaking: true},
	{name: "flow added", edits: []string{"        clientCredentials:\n", authCode + "        clientCredentials:\n"}, fires: "security-flow-added", not: []string{"security-flow-removed"}},
	{name: "flow removed", edits: []string{"        clientCredentials:\n", authCode + "        clientCredentials:\n"}, reverse: true, fires: "security-flow-removed", not: []string{"security-flow-added", "security-flow-url-changed"}, breaking: true},
	{name: "token url changed", edits: []string{"tokenUrl: https://id.example.com/token", "tokenUrl: https://id.example.com/oauth/token"}, fires: "security-flow-url-changed", not: []string{"security-flow-removed"}, breaking: true},
	{name: "flow scope added", edits: []string{"            reports:read: Read reports\n", "            reports:read: Read reports\n            reports:write: Write reports\n"}, fires: "security-flow-scope-added", not: []string{"security-flow-scope-removed"}},
	{name: "flow scope removed", edits: []string{"            reports:read: Read reports\n", "            reports:read: Read reports\n            reports:write: Write reports\n"}, reverse: true, fires: "security-flow-scope-removed", not: []string{"security-flow-scope-added"}},
	{name: "server added", edits: []string{"servers:\n", "servers:\n  - url: https://backup.example.com\n"}, fires: "server-added", not: []string{"server-removed"}},
	{name: "server removed", edits: []string{"servers:\n", "servers:\n  - url: https://backup.example.com\n"}, reverse: true, fires: "server-removed", not: []string{"server-added", "server-variable-changed"}},
	{name: "server variable narrowed", edits: []string{"{default: eu, enum: [eu, us]}", "{default: eu, enum: [eu]}"}, fires: "server-variable-changed", not: []string{"server-removed"}},
	{name: "summary edited", edits: []string{"summary: List items", "summary: List all items"}, fires: "description-changed", not: []string{"operation-id-changed", "example-changed"}},
	{name: "example edited", edits: []string{"example: [{id: a1, name: Lamp}]", "example: [{id: a2, name: Desk}]"}, fires: "example-changed", not: []string{"description-changed", "extension-changed"}},
	{name: "extension edited", edits: []string{"x-cache: short", "x-cache: long"}, fires: "extension-changed", not: []string{"example-changed", "metadata-changed"}},
	{name: "reference left dangling", edits: []string{itemRespEnd, "              schema: {$ref: \"#/components/schemas/Gone\"}\n  /legacy:\n"}, fires: "ref-dangling", not: []string{"extension-changed", "ref-repaired"}, breaking: true},
	{name: "dangling reference repaired", edits: []string{itemRespEnd, "              schema: {$ref: \"#/components/schemas/Gone\"}\n  /legacy:\n"}, reverse: true, fires: "ref-repaired", not: []string{"extension-changed", "ref-dangling"}},
	{name: "version bumped", edits: []string{"info: {title: Shop, version: \"1.0\"}", "info: {title: Shop, version: \"1.1\"}"}, fires: "metadata-changed", not: []string{"extension-changed", "schema-deprecated"}},
	{name: "component schema added", edits: []string{"  schemas:\n", "  schemas:\n    Spare: {type: string}\n"}, fires: "component-schema-added", not: []string{"component-schema-removed"}},
	{name: "component schema removed", edits: []string{"  schemas:\n", "  schemas:\n    Spare: {type: string}\n"}, reverse: true, fires: "component-schema-removed", not: []string{"component-schema-added"}},
	{name: "property deprecated", edits: []string{"        note: {type: string}\n", "        note: {type: string, deprecated: true}\n"}, fires: "schema-deprecated", not: []string{"request-property-removed"}},

	// Swagger 2.0 through the same model
	{name: "v2 required body property added", file: "shop-v2.yaml", edits: []string{"    required: [name]\n", "    required: [name, size]\n", "      name: {type: string}\n", "      name: {type: string}\n      size: {type: integer}\n"},
		fires: "request-property-added-required", breaking: true},
	{name: "v2 response enum value added", file: "shop-v2.yaml", edits: []string{"      name: {type: string}\n      kind: {type: string, enum: [lamp, chair]}\nEOF", "      name: {type: string}\n      kind: {type: string, enum: [lamp, chair, desk]}\nEOF"},
		fires: "response-enum-value-added", not: []string{"request-enum-value-added"}},
	{name: "v2 request enum value removed", file: "shop-v2.yaml", edits: []string{"kind: {type: string, enum: [lamp, chair]}", "kind: {type: string, enum: [lamp]}"}, fires: "request-enum-value-removed", breaking: true},
	{name: "v2 query maximum lowered", file: "shop-v2.yaml", edits: []string{"maximum: 100", "maximum: 50"}, fires: "request-bound-narrowed", breaking: true},
	{name: "v2 query maximum raised", file: "shop-v2.yaml", edits: []string{"maximum: 100", "maximum: 500"}, fires: "request-bound-widened"},
	{name: "v2 required form field added", file: "shop-v2.yaml", edits: []string{"        - name: caption\n", "        - name: alt\n          in: formData\n          required: true\n          type: string\n        - name: caption\n"}, fires: "request-parameter-added-required", breaking: true},
	{name: "v2 optional form field added", file: "shop-v2.yaml", edits: []string{"        - name: caption\n", "        - name: alt\n          in: formData\n          type: string\n        - name: caption\n"}, fires: "request-parameter-added-optional"},
	{name: "v2 path parameter retyped", file: "shop-v2.yaml", edits: []string{"          required: true\n          type: string\n", "          required: true\n          type: integer\n"}, fires: "request-type-changed", breaking: true},
	{name: "v2 response header removed", file: "shop-v2.yaml", edits: []string{"          headers:\n            X-Cursor: {type: string}\n", ""}, fires: "response-optional-header-removed", breaking: true},
	{name: "v2 produces narrowed", file: "shop-v2.yaml", edits: []string{"produces: [application/json]", "produces: [application/xml]"}, fires: "response-media-type-removed", breaking: true},
	{name: "v2 path removed", file: "shop-v2.yaml", edits: []string{"  /items/{id}/photo:\n", "  /items/{id}/picture:\n"}, fires: "path-removed", breaking: true},
	{name: "v2 body becomes optional", file: "shop-v2.yaml", edits: []string{"          in: body\n          required: true\n", "          in: body\n"}, fires: "request-body-became-optional"},
	{name: "v2 response property type changed", file: "shop-v2.yaml", edits: []string{"      id: {type: string}\n", "      id: {type: integer}\n"}, fires: "response-type-changed", breaking: true},
}

// rewriteCases say the same thing in other words: no change may be
// reported as breaking (and most must report nothing at all).
var rewriteCases = []struct {
	name       string
	old, new   string
	components string
	silent     bool // nothing at all may be reported
}{
	{"oneOf members reordered", `{oneOf: [{type: string}, {type: integer}]}`, `{oneOf: [{type: integer}, {type: string}]}`, "", true},
	{"enum values reordered", `{type: string, enum: [a, b, c]}`, `{type: string, enum: [c, a, b]}`, "", true},
	{"required names reordered", `{type: object, required: [a, b], properties: {a: {type: string}, b: {type: string}}}`, `{type: object, required: [b, a], properties: {b: {type: string}, a: {type: string}}}`, "", true},
	{"nullable written as a null type", `{type: string, nullable: true}`, `{type: [string, "null"]}`, "", true},
	{"zero lower limits spelt out", `{type: array, items: {type: string}}`, `{type: array, items: {type: string, minLength: 0}, minItems: 0, uniqueItems: false}`, "", true},
	{"additionalProperties true spelt out", `{type: object, properties: {a: {type: string}}}`, `{type: object, properties: {a: {type: string}}, additionalProperties: true}`, "", true},
	{"xml defaults spelt out", `{type: array, items: {type: string}}`, `{type: array, items: {type: string}, xml: {wrapped: false, attribute: false}}`, "", true},
	{"flags false spelt out", `{type: object, properties: {a: {type: string}}}`, `{type: object, properties: {a: {type: string, readOnly: false, writeOnly: false, deprecated: false}}}`, "", true},
	{"free-form object written as {}", `{type: object, additionalProperties: true}`, `{type: object, additionalProperties: {}}`, "", true},
	{"implied type stated", `{properties: {a: {type: string}}}`, `{type: object, properties: {a: {type: string}}}`, "", true},
	{"inline schema moved to a component", `{type: object, properties: {a: {type: string}}}`, `{$ref: "#/components/schemas/Thing"}`, "    Thing: {type: object, properties: {a: {type: string}}}\n", true},
	{"component renamed", `{$ref: "#/components/schemas/Thing"}`, `{$ref: "#/components/schemas/Item"}`, "    Thing: {type: object, properties: {a: {type: string}}}\n    Item: {type: object, properties: {a: {type: string}}}\n", true},
	{"object split into allOf parts", `{type: object, required: [a, b], properties: {a: {type: string}, b: {type: integer}}}`, `{allOf: [{type: object, required: [a], properties: {a: {type: string}}}, {type: object, required: [b], properties: {b: {type: integer}}}]}`, "", false},
	{"allOf parts reordered", `{allOf: [{$ref: "#/components/schemas/Thing"}, {type: object, properties: {b: {type: integer}}}]}`, `{allOf: [{type: object, properties: {b: {type: integer}}}, {$ref: "#/components/schemas/Thing"}]}`, "    Thing: {type: object, properties: {a: {type: string}}}\n", true},
	{"description beside a $ref", `{type: object, properties: {t: {$ref: "#/components/schemas/Thing"}}}`, `{type: object, properties: {t: {$ref: "#/components/schemas/Thing", description: the thing}}}`, "    Thing: {type: object, required: [a], properties: {a: {type: string}}}\n", false},
	{"description and example edited", `{type: string, description: A name., example: Rex}`, `{type: string, description: The name., example: Max}`, "", false},
	{"anyOf of every type is any type", `{description: anything}`, `{description: anything, anyOf: [{type: string}, {type: number}, {type: boolean}, {type: array, items: {}}, {type: object}]}`, "", true},
	{"schema became a oneOf of itself and more", `{type: object, properties: {a: {type: string}}}`, `{oneOf: [{type: object, properties: {a: {type: string}}}, {type: object, properties: {b: {type: number}}}]}`, "", false},
}

func TestRewritesAreNotBreaking(t *testing.T) {
	for _, c := range rewriteCases {
		for _, dir := range []direction{dirRequest, dirResponse} {
			if c.name == "schema became a oneOf of itself and more" && dir == dirResponse {
				continue // an alternative more is an error in responses
			}
			t.Run(c.name+"/"+dirName(dir), func(t *testing.T) {
				rep := compareText(t, schemaDoc(dir, c.old, c.components), schemaDoc(dir, c.new, c.components))
				require.Zero(t, rep.Breaking, "%+v", rep.Changes)
				if c.silent {
					require.Empty(t, rep.Changes)
				}
			})
		}
	}
}

// fixturePair builds the old and new documents of a single case.
func (c singleCase) docs(t *testing.T) (string, string) {
	t.Helper()
	file := c.file
	if file == "" {
		file = "shop.yaml"
	}
	base := string(readFile(t, filepath.Join("testdata", "rules", file))) + "EOF"
	old := edit(t, base, c.pre...)
	new := edit(t, old, c.edits...)
	old, new = strings.TrimSuffix(old, "EOF"), strings.TrimSuffix(new, "EOF")
	if c.reverse {
		old, new = new, old
	}
	return old, new
}

type labelled struct {
	name     string
	breaking bool
	report   *Report
}

func compareText(t *testing.T, old, new string) *Report {
	t.Helper()
	rep, err := Compare(parseFixture(t, "old", []byte(old)), parseFixture(t, "new", []byte(new)), nil)
	require.NoError(t, err)
	return rep
}

func rulesIn(r *Report) map[string]Change {
	m := map[string]Change{}
	for _, c := range r.Changes {
		m[c.Rule] = c
	}
	return m
}

// TestCatalogueFixtures runs every hand-written pair: each catalogue rule
// must fire on at least one pair (positive) and be checked absent on
// another (negative). The same pairs, with our breaking labels, are the
// labelled suite whose recall and specificity the test reports.
func TestCatalogueFixtures(t *testing.T) {
	positive, negative := map[string]bool{}, map[string]bool{}
	var suite []labelled
	for _, c := range schemaCases {
		for _, dir := range []direction{dirRequest, dirResponse} {
			want, other, label := "request-"+c.base, "response-"+c.base, c.reqBreaking
			if dir == dirResponse {
				want, other, label = other, want, c.respBreaking
			}
			t.Run(want+"/"+c.old, func(t *testing.T) {
				rep := compareText(t, schemaDoc(dir, c.old, c.components), schemaDoc(dir, c.new, c.components))
				got := rulesIn(rep)
				require.Contains(t, got, want, "changes: %+v", rep.Changes)
				require.NotContains(t, got, other)
				ch := got[want]
				// the rule's level, or info for data its reader ignores
				require.Contains(t, []string{ruleByID[want].Level, LevelInfo}, ch.Level)
				require.Equal(t, label, rep.Breaking > 0, "label: %+v", rep.Changes)
				require.Equal(t, ch.Level == LevelError, ch.Breaking)
				require.Equal(t, dirName(dir), ch.Direction)
				require.NotEmpty(t, ch.Pointer)
				require.Positive(t, ch.Line)
				positive[want], negative[other] = true, true
				suite = append(suite, labelled{want + " " + c.old, label, rep})
			})
		}
	}
	for _, c := range singleCases {
		t.Run(c.name, func(t *testing.T) {
			old, new := c.docs(t)
			rep := compareText(t, old, new)
			got := rulesIn(rep)
			require.Contains(t, got, c.fires, "changes: %+v", rep.Changes)
			require.Contains(t, []string{ruleByID[c.fires].Level, LevelInfo}, got[c.fires].Level)
			require.Equal(t, c.breaking, rep.Breaking > 0, "label: %+v", rep.Changes)
			for _, n := range c.not {
				require.NotContains(t, got, n)
				negative[n] = true
			}
			positive[c.fires] = true
			suite = append(suite, labelled{c.name, c.breaking, rep})
		})
	}
	for _, c := range rewriteCases {
		for _, dir := range []direction{dirRequest, dirResponse} {
			if c.name == "schema became a oneOf of itself and more" && dir == dirResponse {
				continue
			}
			rep := compareText(t, schemaDoc(dir, c.old, c.components), schemaDoc(dir, c.new, c.components))
			suite = append(suite, labelled{c.name + " (" + dirName(dir) + ")", false, rep})
		}
	}
	var unfired, unchecked []string
	for _, r := range Catalogue() {
		if !positive[r.ID] {
			unfired = append(unfired, r.ID)
		}
		if !negative[r.ID] {
			unchecked = append(unchecked, r.ID)
		}
	}
	require.Empty(t, unfired, "rules no fixture fires")
	require.Empty(t, unchecked, "rules no fixture checks stay quiet")

	recall, specificity, misses := score(suite)
	t.Logf("labelled suite: %d pairs, breaking recall %.3f, specificity %.3f", len(suite), recall, specificity)
	for _, m := range misses {
		t.Log("  disagrees:", m)
	}
	require.GreaterOrEqual(t, len(suite), 80)
	require.GreaterOrEqual(t, recall, 0.95)
	require.GreaterOrEqual(t, specificity, 0.90)
}

func dirName(d direction) string {
	if d == dirResponse {
		return DirectionResponse
	}
	return DirectionRequest
}

// score is breaking recall (breaking pairs reported with an error) and
// specificity (compatible pairs reported without one).
func score(suite []labelled) (recall, specificity float64, misses []string) {
	var tp, fn, tn, fp int
	for _, s := range suite {
		flagged := s.report.Breaking > 0
		switch {
		case s.breaking && flagged:
			tp++
		case s.breaking:
			fn++
			misses = append(misses, "missed "+s.name)
		case flagged:
			fp++
			misses = append(misses, "flagged "+s.name)
		default:
			tn++
		}
	}
	return float64(tp) / float64(max(tp+fn, 1)), float64(tn) / float64(max(tn+fp, 1)), misses
}

// A component used in requests and responses is judged in both directions:
// the stricter verdict is reported once, naming both.
func TestSharedSchemaStricterDirectionWins(t *testing.T) {
	base := string(readFile(t, filepath.Join("testdata", "rules", "base.yaml")))
	tests := []struct {
		name, rule, level string
		edits             []string
	}{
		{"property becomes required", "request-property-became-required", LevelError,
			[]string{"      description: A pet.\n", "      description: A pet.\n      required: [name]\n"}},
		{"property becomes nullable", "response-became-nullable", LevelError,
			[]string{"        name:\n          type: string\n", "        name:\n          type: string\n          nullable: true\n"}},
		{"enum value added", "response-enum-value-added", LevelWarning,
			[]string{"        tag:\n          type: string\n", "        tag:\n          type: string\n          enum: [a, b]\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := compareText(t, base, edit(t, base, tt.edits...))
			require.Len(t, rep.Changes, 1, "%+v", rep.Changes)
			c := rep.Changes[0]
			if tt.rule == "response-enum-value-added" { // became an enum: an error in requests
				require.Equal(t, "request-became-enum", c.Rule)
				require.Equal(t, LevelError, c.Level)
			} else {
				require.Equal(t, tt.rule, c.Rule)
				require.Equal(t, tt.level, c.Level)
			}
			require.Equal(t, "request,response", c.Direction)
		})
	}
	// and an added enum value, between two enums: a warning (responses), not
	// nothing (requests)
	withEnum := edit(t, base, "        tag:\n          type: string\n", "        tag:\n          type: string\n          enum: [a, b]\n")
	rep := compareText(t, withEnum, edit(t, withEnum, "enum: [a, b]", "enum: [a, b, c]"))
	require.Len(t, rep.Changes, 1)
	require.Equal(t, "response-enum-value-added", rep.Changes[0].Rule)
	require.Equal(t, "request,response", rep.Changes[0].Direction)
	require.Equal(t, 1, rep.Warnings)
	require.Zero(t, rep.Breaking)
}

// Property: a document compared with itself has no changes.
func TestCompareWithItselfIsEmpty(t *testing.T) {
	var docs []string
	for _, c := range schemaCases {
		for _, dir := range []direction{dirRequest, dirResponse} {
			docs = append(docs, schemaDoc(dir, c.old, c.components), schemaDoc(dir, c.new, c.components))
		}
	}
	for _, c := range singleCases {
		old, new := c.docs(t)
		docs = append(docs, old, new)
	}
	for _, f := range []string{"base.yaml", "shop.yaml", "shop-v2.yaml"} {
		docs = append(docs, string(readFile(t, filepath.Join("testdata", "rules", f))))
	}
	reals, err := filepath.Glob(filepath.Join("testdata", "real", "*"))
	require.NoError(t, err)
	for _, f := range reals {
		docs = append(docs, string(readFile(t, f)))
	}
	for i, d := range docs {
		doc := parseFixture(t, fmt.Sprint("doc", i), []byte(d))
		rep, err := Compare(doc, doc, nil)
		require.NoError(t, err)
		require.Empty(t, rep.Changes, "doc %d:\n%s", i, d)
		// and a second parse of the same text
		rep, err = Compare(doc, parseFixture(t, "again", []byte(d)), nil)
		require.NoError(t, err)
		require.Empty(t, rep.Changes, "doc %d:\n%s", i, d)
	}
}

var ruleIDForm = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

func TestCatalogueIsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Catalogue() {
		require.Regexp(t, ruleIDForm, r.ID)
		require.False(t, seen[r.ID], r.ID)
		seen[r.ID] = true
		require.Contains(t, []string{LevelError, LevelWarning, LevelInfo}, r.Level, r.ID)
		require.NotEmpty(t, r.Summary, r.ID)
		require.False(t, strings.Contains(r.Summary, "\n"), r.ID)
		switch {
		case strings.HasPrefix(r.ID, "request-"):
			require.Equal(t, DirectionRequest, r.Direction, r.ID)
		case strings.HasPrefix(r.ID, "response-"):
			require.Equal(t, DirectionResponse, r.Direction, r.ID)
		default:
			require.Equal(t, DirectionAny, r.Direction, r.ID)
		}
	}
}

// docs/RULES.md is generated from the catalogue; refresh it with
// UPDATE_GOLDEN=1.
func TestRulesDoc(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "RULES.md")
	got := RulesMarkdown()
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with UPDATE_GOLDEN=1 to create %s", path)
	require.Equal(t, string(want), got, "docs/RULES.md is stale: run UPDATE_GOLDEN=1 go test ./internal/diff/ -run TestRulesDoc")
}
