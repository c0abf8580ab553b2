package diff

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Directions a rule applies to (RuleInfo.Direction, Change.Direction).
// Request data is read by the server (parameters, request headers and
// bodies); response data is read by clients (response bodies and headers).
const (
	DirectionRequest  = "request"
	DirectionResponse = "response"
	DirectionAny      = "any" // API structure, security, servers, metadata
)

// RuleInfo describes one rule of the catalogue.
type RuleInfo struct {
	ID        string `json:"id"`
	Level     string `json:"level"`
	Direction string `json:"direction"`
	Summary   string `json:"summary"`
}

// rule is a catalogue entry; pair rules come as a request and a response
// twin sharing the base name.
type rule struct {
	RuleInfo
	base string // the ID without its direction prefix
}

var (
	catalogue []*rule
	ruleByID  = map[string]*rule{}
)

func def(id, level, summary string) *rule {
	return register(&rule{RuleInfo: RuleInfo{ID: id, Level: level, Direction: DirectionAny, Summary: summary}, base: id})
}

func register(r *rule) *rule {
	if ruleByID[r.ID] != nil {
		panic("diff: rule " + r.ID + " defined twice")
	}
	catalogue = append(catalogue, r)
	ruleByID[r.ID] = r
	return r
}

// dirRule is a rule judged by the direction of the data it concerns.
type dirRule struct{ req, resp *rule }

func (d dirRule) in(dir direction) *rule {
	if dir == dirResponse {
		return d.resp
	}
	return d.req
}

// pair defines "request-<base>" and "response-<base>".
func pair(base, reqLevel, reqSummary, respLevel, respSummary string) dirRule {
	return dirRule{
		req:  register(&rule{RuleInfo: RuleInfo{ID: "request-" + base, Level: reqLevel, Direction: DirectionRequest, Summary: reqSummary}, base: base}),
		resp: register(&rule{RuleInfo: RuleInfo{ID: "response-" + base, Level: respLevel, Direction: DirectionResponse, Summary: respSummary}, base: base}),
	}
}

func req(id, level, summary string) *rule {
	return register(&rule{RuleInfo: RuleInfo{ID: id, Level: level, Direction: DirectionRequest, Summary: summary}, base: strings.TrimPrefix(id, "request-")})
}

func resp(id, level, summary string) *rule {
	return register(&rule{RuleInfo: RuleInfo{ID: id, Level: level, Direction: DirectionResponse, Summary: summary}, base: strings.TrimPrefix(id, "response-")})
}

const (
	E = LevelError
	W = LevelWarning
	I = LevelInfo
)

// API structure.
var (
	rPathAdded                 = def("path-added", I, "A new path: nothing existing changes.")
	rPathRemoved               = def("path-removed", E, "A path was removed without being deprecated first: its callers now get 404.")
	rPathRemovedDeprecated     = def("path-removed-after-deprecation", W, "A path whose operations were all deprecated was removed: callers that ignored the deprecation fail.")
	rPathRemovedBeforeSunset   = def("path-removed-before-sunset", E, "A deprecated path was removed before the x-sunset date of one of its operations: clients were promised it until then.")
	rWebhookAdded              = def("webhook-added", I, "A new webhook (OpenAPI 3.1): subscribers may receive a new kind of call.")
	rWebhookRemoved            = def("webhook-removed", E, "A webhook was removed: subscribers no longer receive the calls their integration waits for.")
	rPathParamRenamed          = def("path-parameter-renamed", I, "A path template parameter was renamed (/users/{id} → /users/{userId}): the URL clients build is the same.")
	rOperationAdded            = def("operation-added", I, "A new operation: nothing existing changes.")
	rOperationRemoved          = def("operation-removed", E, "An operation was removed without being deprecated first: its callers now fail.")
	rOperationRemovedDeprec    = def("operation-removed-after-deprecation", W, "A deprecated operation was removed: callers that ignored the deprecation fail.")
	rOperationRemovedEarly     = def("operation-removed-before-sunset", E, "A deprecated operation was removed before its x-sunset date (or its date does not parse): clients were promised it until then.")
	rOperationDeprecated       = def("operation-deprecated", I, "An operation is now deprecated: it still works.")
	rOperationUndeprecated     = def("operation-undeprecated", I, "An operation is no longer deprecated.")
	rOperationIDChanged        = def("operation-id-changed", W, "The operationId changed: generated clients rename the method.")
	rSunsetAdded               = def("sunset-added", I, "An x-sunset date was set: the operation or parameter will go away.")
	rSunsetEarlier             = def("sunset-brought-forward", W, "An x-sunset date moved earlier: clients have less time to migrate.")
	rSunsetChanged             = def("sunset-changed", I, "An x-sunset date moved later, or was removed from what is no longer deprecated.")
	rSunsetRemoved             = def("sunset-removed", E, "Something still deprecated lost its x-sunset date: clients can no longer tell until when it is promised.")
	rSunsetInvalid             = def("sunset-invalid", E, "An x-sunset value is not a date (YYYY-MM-DD or RFC 3339): nobody can tell until when it is promised.")
	rStabilityDecreased        = def("stability-decreased", E, "An operation's x-stability-level went down (stable → beta → alpha → draft) or was dropped: the compatibility promise clients built on is gone.")
	rStabilityIncreased        = def("stability-increased", I, "An operation's x-stability-level went up or was set. Changes to draft and alpha operations are info: they promise no compatibility.")
	rStabilityInvalid          = def("stability-invalid", E, "An operation's x-stability-level is not draft, alpha, beta or stable: nobody can tell what it promises.")
	rRequestBodyAddedRequired  = req("request-body-added-required", E, "An operation now requires a request body that clients do not send.")
	rRequestBodyAddedOptional  = req("request-body-added-optional", I, "An operation accepts an optional request body.")
	rRequestBodyRemoved        = req("request-body-removed", E, "The request body was removed: the server no longer reads what clients send.")
	rRequestBodyBecameRequired = req("request-body-became-required", E, "The request body became required: clients that omit it are refused.")
	rRequestBodyBecameOptional = req("request-body-became-optional", I, "The request body became optional.")
	rMediaTypeAdded            = pair("media-type-added", I, "The request accepts one more media type.", I, "A response may come in one more media type (clients negotiate with Accept).")
	rMediaTypeRemoved          = pair("media-type-removed", E, "The request no longer accepts a media type clients may send.", E, "A response no longer comes in a media type clients may ask for.")
	rStatusSuccessRemoved      = resp("response-success-status-removed", E, "A success (1xx-3xx) response was removed: clients expecting it break.")
	rStatusOtherRemoved        = resp("response-non-success-status-removed", W, "An error or default response was removed: clients handling it lose that case.")
	rStatusAdded               = resp("response-status-added", I, "A new response status: well-behaved clients handle unknown statuses by class.")
	rHeaderRequiredRemoved     = resp("response-required-header-removed", E, "A response header that was always sent was removed.")
	rHeaderOptionalRemoved     = resp("response-optional-header-removed", E, "A response header was removed: clients that read it when present lose it.")
	rHeaderAdded               = resp("response-header-added", I, "A new response header.")
	rHeaderBecameOptional      = resp("response-header-became-optional", E, "A response header that was always sent may now be missing.")
	rHeaderBecameRequired      = resp("response-header-became-required", I, "A response header is now always sent.")
)

// Parameters (always read by the server).
var (
	rParamAddedRequired   = req("request-parameter-added-required", E, "A new required parameter: clients that do not send it are refused.")
	rParamAddedOptional   = req("request-parameter-added-optional", I, "A new optional parameter.")
	rParamRemoved         = req("request-parameter-removed", E, "A parameter was removed: the server no longer reads, or refuses, what clients still send.")
	rParamRemovedDeprec   = req("request-parameter-removed-after-deprecation", W, "A deprecated parameter was removed (its x-sunset date, if any, has passed): clients that ignored the deprecation may be refused.")
	rParamRemovedEarly    = req("request-parameter-removed-before-sunset", E, "A deprecated parameter was removed before its x-sunset date (or its date does not parse): clients were promised it until then.")
	rParamBecameRequired  = req("request-parameter-became-required", E, "A parameter became required: clients that omit it are refused.")
	rParamBecameOptional  = req("request-parameter-became-optional", I, "A parameter became optional.")
	rParamLocationChanged = req("request-parameter-location-changed", E, "A parameter moved (e.g. query → header): clients send it in the old place.")
	rParamStyleChanged    = req("request-parameter-style-changed", E, "A parameter's serialization style changed: clients encode it the old way.")
	rParamExplodeChanged  = req("request-parameter-explode-changed", E, "A parameter's explode flag changed: clients encode arrays and objects the old way.")
	rParamEmptyDisallowed = req("request-parameter-empty-value-disallowed", E, "A parameter no longer allows an empty value.")
	rParamEmptyAllowed    = req("request-parameter-empty-value-allowed", I, "A parameter now allows an empty value.")
	rParamReservedOff     = req("request-parameter-reserved-disallowed", E, "A query parameter no longer allows reserved characters unencoded: clients send them as they did.")
	rParamReservedOn      = req("request-parameter-reserved-allowed", I, "A query parameter now allows reserved characters unencoded.")
	rParamDeprecated      = req("request-parameter-deprecated", I, "A parameter is now deprecated (or no longer).")
	rParamDefaultChanged  = req("request-parameter-default-changed", E, "A parameter's default changed: clients that omit it get different behaviour.")
)

// Schemas, judged by direction.
var (
	rTypeNarrowed         = pair("type-narrowed", E, "The request accepts fewer types: values clients send may be refused.", I, "The response carries fewer types: clients handle a subset of what they expect.")
	rTypeWidened          = pair("type-widened", I, "The request accepts more types.", E, "The response may carry a type clients do not expect.")
	rTypeChanged          = pair("type-changed", E, "The request expects a different type.", E, "The response carries a different type.")
	rBecameNullable       = pair("became-nullable", I, "The request accepts null.", E, "The response may carry null where clients expect a value.")
	rBecameNotNullable    = pair("became-not-nullable", E, "The request no longer accepts null.", I, "The response no longer carries null.")
	rFormatAdded          = pair("format-added", E, "The request value gains a format: values clients send may be refused.", I, "The response value gains a format.")
	rFormatRemoved        = pair("format-removed", I, "The request value no longer has a format.", E, "The response value no longer promises a format.")
	rFormatWidened        = pair("format-widened", E, "The request format widened (int32 → int64, float → double): clients and servers generated from the spec use different types.", E, "The response format widened: values may overflow clients' types.")
	rFormatNarrowed       = pair("format-narrowed", E, "The request format narrowed (int64 → int32, double → float): values clients send may be refused.", E, "The response format narrowed: clients generated from the spec use different types.")
	rFormatChanged        = pair("format-changed", E, "The request value has a different format.", E, "The response value has a different format.")
	rEnumValueAdded       = pair("enum-value-added", I, "The request accepts one more enum value.", W, "The response may carry an enum value clients do not switch over.")
	rEnumValueRemoved     = pair("enum-value-removed", E, "The request no longer accepts an enum value clients may send.", I, "The response no longer carries an enum value.")
	rBecameEnum           = pair("became-enum", E, "The request value is now restricted to an enum.", I, "The response value is now restricted to an enum.")
	rEnumDropped          = pair("enum-dropped", I, "The request value is no longer restricted to an enum.", W, "The response value is no longer restricted to an enum: clients may see values they do not know.")
	rExtEnumValueAdded    = pair("extensible-enum-value-added", I, "x-extensible-enum gains a value.", I, "x-extensible-enum gains a value: clients must already accept unknown values.")
	rExtEnumValueRemoved  = pair("extensible-enum-value-removed", E, "x-extensible-enum loses a value clients may send.", I, "x-extensible-enum loses a value.")
	rConstAdded           = pair("const-added", E, "The request value is now a constant.", I, "The response value is now a constant.")
	rConstRemoved         = pair("const-removed", I, "The request value is no longer a constant.", E, "The response value is no longer a constant.")
	rConstChanged         = pair("const-changed", E, "The request expects a different constant.", E, "The response carries a different constant.")
	rBoundNarrowed        = pair("bound-narrowed", E, "A length, size or range limit of the request tightened: values clients send may be refused.", I, "A length, size or range limit of the response tightened.")
	rBoundAdded           = pair("bound-added", E, "A length, size or range limit was set on request data that had none: some values clients send may be refused.", I, "A length, size or range limit was set on response data.")
	rBoundWidened         = pair("bound-widened", I, "A length, size or range limit of the request loosened (or was removed).", E, "A length, size or range limit of the response loosened (or was removed): clients may get values they cannot hold.")
	rMultipleOfChanged    = pair("multiple-of-changed", E, "The request value must be a different multiple.", E, "The response value is a different multiple: clients may get values they do not expect.")
	rUniqueItemsAdded     = pair("unique-items-added", E, "The request array must now hold unique items.", I, "The response array now holds unique items.")
	rUniqueItemsRemoved   = pair("unique-items-removed", I, "The request array may hold duplicates.", E, "The response array may now hold duplicates.")
	rPatternAdded         = pair("pattern-added", E, "The request value must now match a pattern.", I, "The response value now matches a pattern.")
	rPatternChanged       = pair("pattern-changed", E, "The request value must match a different pattern.", E, "The response value matches a different pattern: clients validating it may refuse it.")
	rPatternRemoved       = pair("pattern-removed", I, "The request value no longer has a pattern.", E, "The response value no longer promises a pattern: clients may get values they do not expect.")
	rBecameReadOnly       = pair("became-read-only", E, "A request property became readOnly: the server ignores or refuses what clients send in it.", I, "A response property became readOnly.")
	rNoLongerReadOnly     = pair("no-longer-read-only", I, "A request property is no longer readOnly.", I, "A response property is no longer readOnly.")
	rBecameWriteOnly      = pair("became-write-only", I, "A request property became writeOnly.", W, "A response property became writeOnly: it no longer appears in responses.")
	rNoLongerWriteOnly    = pair("no-longer-write-only", I, "A request property is no longer writeOnly.", I, "A response property is no longer writeOnly.")
	rDefaultChanged       = pair("default-changed", W, "The request default changed: clients that omit the value get different behaviour.", I, "The response default changed.")
	rPropertyAddedReq     = req("request-property-added-required", E, "A new required property: clients that do not send it are refused.")
	rPropertyAddedOpt     = req("request-property-added-optional", I, "A new optional property in the request.")
	rPropertyAddedResp    = resp("response-property-added", I, "A new property in the response: clients ignore what they do not know.")
	rPropertyRemovedReq   = req("request-property-removed", E, "A request property was removed: the server no longer reads, or refuses, what clients send in it.")
	rPropertyRemovedReqd  = resp("response-required-property-removed", E, "A property that was always in the response was removed.")
	rPropertyRemovedOpt   = resp("response-optional-property-removed", W, "An optional response property was removed.")
	rBecameRequired       = pair("property-became-required", E, "A request property became required: clients that omit it are refused.", I, "A response property is now always present.")
	rBecameOptional       = pair("property-became-optional", I, "A request property became optional.", E, "A response property that was always present may now be missing.")
	rAdditionalNarrowed   = pair("additional-properties-narrowed", E, "The request object no longer accepts (some) additional properties.", I, "The response object no longer carries additional properties.")
	rAdditionalWidened    = pair("additional-properties-widened", I, "The request object accepts additional properties.", E, "The response object may carry properties clients do not know.")
	rSchemaAdded          = pair("schema-added", W, "The request body or value gained a schema where any value was accepted.", I, "The response gained a schema.")
	rSchemaRemoved        = pair("schema-removed", I, "The request body or value lost its schema: anything is accepted.", W, "The response lost its schema: anything may come back.")
	rItemsAdded           = pair("items-added", E, "The request array's items are now constrained.", I, "The response array's items are now described.")
	rItemsRemoved         = pair("items-removed", I, "The request array's items are no longer constrained.", W, "The response array's items are no longer described.")
	rOneOfAdded           = pair("one-of-member-added", I, "The request accepts one more oneOf alternative.", E, "The response may carry a oneOf alternative clients do not handle.")
	rOneOfRemoved         = pair("one-of-member-removed", E, "The request no longer accepts a oneOf alternative clients may send.", I, "The response no longer carries a oneOf alternative.")
	rAnyOfAdded           = pair("any-of-member-added", I, "The request accepts one more anyOf alternative.", E, "The response may carry an anyOf alternative clients do not handle.")
	rAnyOfRemoved         = pair("any-of-member-removed", E, "The request no longer accepts an anyOf alternative clients may send.", I, "The response no longer carries an anyOf alternative.")
	rAllOfAdded           = pair("all-of-member-added", I, "An allOf part was added to request data; what it adds is judged property by property.", I, "An allOf part was added to response data; what it adds is judged property by property.")
	rAllOfRemoved         = pair("all-of-member-removed", I, "An allOf part was removed from request data; what it took away is judged property by property.", I, "An allOf part was removed from response data; what it took away is judged property by property.")
	rNotAdded             = pair("not-added", E, "The request value must now not match a schema.", I, "The response value now excludes a schema.")
	rNotRemoved           = pair("not-removed", I, "The request value no longer excludes a schema.", W, "The response value no longer excludes a schema.")
	rDiscriminatorChanged = pair("discriminator-property-changed", E, "The request discriminator property changed: clients send the old one, and the server dispatches on the new one.", E, "The response discriminator property changed: clients dispatch on the old one.")
	rDiscriminatorAdded   = pair("discriminator-added", W, "The request gained a discriminator: the server may require it.", W, "The response gained a discriminator: the data is the same, but clients generated from the document deserialize it into different types.")
	rDiscriminatorRemoved = pair("discriminator-removed", I, "The request lost its discriminator.", W, "The response lost its discriminator: the data is the same, but clients that dispatch on the discriminator must find the type another way.")
	rMappingAdded         = pair("discriminator-mapping-added", I, "The request discriminator maps one more value.", W, "The response discriminator maps a value clients do not handle.")
	rMappingRemoved       = pair("discriminator-mapping-removed", W, "The request discriminator no longer maps a value clients may send.", I, "The response discriminator no longer maps a value.")
	rMappingChanged       = pair("discriminator-mapping-changed", W, "A request discriminator value now maps to a different schema.", E, "A response discriminator value now maps to a different schema.")
	rContainsAdded        = pair("contains-added", E, "The request array must now contain a matching item.", I, "The response array now contains a matching item.")
	rContainsRemoved      = pair("contains-removed", I, "The request array no longer must contain a matching item.", E, "The response array may no longer contain a matching item.")
	rDependentReqAdded    = pair("dependent-required-added", E, "A request property now requires others (dependentRequired).", I, "A response property now comes with others (dependentRequired).")
	rDependentReqRemoved  = pair("dependent-required-removed", I, "A request dependentRequired constraint was removed.", E, "A response property no longer comes with the ones it did (dependentRequired).")
	rDependentSchAdded    = pair("dependent-schema-added", E, "A request property now brings a schema into force (dependentSchemas).", I, "A response dependentSchemas entry was added.")
	rDependentSchRemoved  = pair("dependent-schema-removed", I, "A request dependentSchemas entry was removed.", E, "A response dependentSchemas entry was removed.")
	rConditionalAdded     = pair("conditional-added", E, "The request gained an if/then/else constraint.", I, "The response gained an if/then/else constraint.")
	rConditionalRemoved   = pair("conditional-removed", I, "The request lost an if/then/else constraint.", E, "The response lost an if/then/else constraint clients may rely on.")
	rPatternPropAdded     = pair("pattern-property-added", E, "Request properties matching a pattern are now constrained (patternProperties).", I, "A response patternProperties entry was added.")
	rPatternPropRemoved   = pair("pattern-property-removed", I, "A request patternProperties entry was removed.", E, "A response patternProperties entry was removed: matching properties may hold anything.")
	rPropertyNamesAdded   = pair("property-names-added", E, "Request property names are now constrained (propertyNames).", I, "Response property names are now constrained.")
	rPropertyNamesRemoved = pair("property-names-removed", I, "Request property names are no longer constrained.", E, "Response property names are no longer constrained.")
	rPrefixItemAdded      = pair("prefix-item-added", I, "A request tuple (prefixItems) describes one more position.", E, "A response tuple (prefixItems) has a position clients do not expect.")
	rPrefixItemRemoved    = pair("prefix-item-removed", E, "A request tuple (prefixItems) lost a position clients may send.", I, "A response tuple (prefixItems) lost a position.")
	rXMLChanged           = pair("xml-changed", E, "The XML form of request data changed (name, namespace, prefix, attribute or wrapping): clients send the old form.", E, "The XML form of response data changed: clients parse the old form.")
	rContentChanged       = pair("content-encoding-changed", E, "A request string's contentMediaType or contentEncoding changed: clients encode it the old way.", E, "A response string's contentMediaType or contentEncoding changed: clients decode it the old way.")
	rContentSchemaAdded   = pair("content-schema-added", E, "A request string's decoded content is now constrained (contentSchema).", I, "A response string's decoded content is now described (contentSchema).")
	rContentSchemaRemoved = pair("content-schema-removed", I, "A request string's decoded content is no longer constrained.", E, "A response string's decoded content is no longer described: it may hold anything.")
	rUnevaluatedNarrowed  = pair("unevaluated-narrowed", E, "The request now restricts unevaluated items or properties.", I, "The response now restricts unevaluated items or properties.")
	rUnevaluatedWidened   = pair("unevaluated-widened", I, "The request no longer restricts unevaluated items or properties.", E, "The response may carry unevaluated items or properties clients do not know.")
	rSchemaDeprecated     = def("schema-deprecated", I, "A schema or property is now deprecated (or no longer).")
)

// Security, servers, metadata.
var (
	rSecurityAdded          = def("security-added", E, "An operation that needed no credentials now requires them.")
	rSecurityRemoved        = def("security-removed", E, "An operation no longer takes credentials: clients built to authenticate may be refused or treated differently.")
	rSecurityAltAdded       = def("security-alternative-added", I, "An operation accepts one more way to authenticate.")
	rSecurityAltRemoved     = def("security-alternative-removed", E, "An operation no longer accepts a way to authenticate that clients may use.")
	rSecurityAltRelaxed     = def("security-alternative-relaxed", I, "A way to authenticate needs fewer schemes or scopes than before: clients that met it still do.")
	rSecurityScopeAdded     = def("security-scope-added", E, "An operation requires one more OAuth scope: existing tokens may lack it.")
	rSecurityScopeRemoved   = def("security-scope-removed", I, "An operation requires one scope fewer.")
	rSchemeAdded            = def("security-scheme-added", I, "A new security scheme.")
	rSchemeRemoved          = def("security-scheme-removed", W, "A security scheme was removed.")
	rSchemeTypeChanged      = def("security-scheme-type-changed", E, "A security scheme's type or HTTP scheme changed: clients authenticate the old way.")
	rSchemeAPIKeyChanged    = def("security-scheme-api-key-changed", E, "An API key moved or was renamed: clients send it the old way.")
	rSchemeBearerChanged    = def("security-scheme-bearer-format-changed", W, "The bearer token format changed.")
	rSchemeOIDCChanged      = def("security-scheme-openid-connect-url-changed", E, "The OpenID Connect discovery URL changed: clients configured with the old one cannot discover how to sign in.")
	rSchemeFlowAdded        = def("security-flow-added", I, "A new OAuth flow.")
	rSchemeFlowRemoved      = def("security-flow-removed", E, "An OAuth flow was removed: clients using it cannot get tokens.")
	rSchemeFlowURLChanged   = def("security-flow-url-changed", E, "An OAuth flow's authorization, token or refresh URL changed: clients configured with the old one cannot get tokens.")
	rSchemeFlowScopeAdded   = def("security-flow-scope-added", I, "An OAuth flow offers a new scope.")
	rSchemeFlowScopeRemoved = def("security-flow-scope-removed", W, "An OAuth flow no longer offers a scope.")
	rServerAdded            = def("server-added", I, "A new server.")
	rServerRemoved          = def("server-removed", W, "A server (or host, base path, scheme) was removed: clients configured for it fail.")
	rServerVariableChanged  = def("server-variable-changed", W, "A server variable's default or allowed values changed.")
	rDescriptionChanged     = def("description-changed", I, "A description, summary or title changed.")
	rExampleChanged         = def("example-changed", I, "An example changed.")
	rExtensionChanged       = def("extension-changed", I, "A specification extension (x-…) changed.")
	rRefDangling            = def("ref-dangling", W, "A $ref now points to nothing in the document: clients cannot know what this part holds.")
	rRefRepaired            = def("ref-repaired", I, "A dangling $ref points to something again.")
	rMetadataChanged        = def("metadata-changed", I, "Metadata (info, tags, external docs, xml, links) changed.")
	rComponentAdded         = def("component-schema-added", I, "A named schema (components/schemas, definitions) was added.")
	rComponentRemoved       = def("component-schema-removed", I, "A named schema was removed; operations that used it report their own changes.")
)

// Catalogue lists every rule with its default level, sorted by ID.
func Catalogue() []RuleInfo {
	out := make([]RuleInfo, len(catalogue))
	for i, r := range catalogue {
		out[i] = r.RuleInfo
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// catalogueHash identifies the built-in catalogue (IDs and levels).
var catalogueHash = sync.OnceValue(func() string {
	var b strings.Builder
	for _, r := range Catalogue() {
		b.WriteString(r.ID + "=" + r.Level + "\n")
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])[:12]
})

// RulesMarkdown renders the catalogue as docs/RULES.md.
func RulesMarkdown() string {
	var b strings.Builder
	b.WriteString("# Breaking-change rules\n\n")
	b.WriteString("Generated from `internal/diff` (`Catalogue()`); do not edit by hand. Refresh with\n`UPDATE_GOLDEN=1 go test ./internal/diff/ -run TestRulesDoc`.\n\n")
	b.WriteString("Each change `starter diff` reports carries one rule ID and a level:\n\n")
	b.WriteString("- `error`: breaks clients (counted in `breaking`, fails `--fail-on-breaking`);\n")
	b.WriteString("- `warning`: may break some clients (counted in `warnings`, fails `--fail-on warning`);\n")
	b.WriteString("- `info`: harmless.\n\n")
	b.WriteString("Direction says who reads the data: `request` (parameters, request headers and bodies: read by the server,\n")
	b.WriteString("so narrowing breaks) or `response` (response bodies and headers: read by clients, so widening breaks).\n")
	b.WriteString("A schema reached from both is judged in both; the stricter verdict is reported, with both directions.\n")
	b.WriteString("In webhooks the roles swap: the provider sends the request.\n\n")
	b.WriteString("A rules file changes a level or turns a rule off:\n\n```yaml\nlevels:\n  response-enum-value-added: error\n  request-parameter-removed: off\n```\n\n")
	fmt.Fprintf(&b, "The built-in rule set is `default@catalogue-%s`; any change of level gives the set a new identity, recorded on every report.\n\n", catalogueHash())
	for _, group := range []struct{ title, dir string }{
		{"API structure, security, servers and metadata", DirectionAny},
		{"Request (read by the server)", DirectionRequest},
		{"Response (read by clients)", DirectionResponse},
	} {
		fmt.Fprintf(&b, "## %s\n\n| Rule | Level | Summary |\n|---|---|---|\n", group.title)
		for _, r := range Catalogue() {
			if r.Direction == group.dir {
				fmt.Fprintf(&b, "| `%s` | %s | %s |\n", r.ID, r.Level, strings.ReplaceAll(r.Summary, "|", `\|`))
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}
