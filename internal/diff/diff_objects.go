package diff

// Objects a change can concern (Change.Object).
const (
	ObjectPath           = "path"
	ObjectOperation      = "operation"
	ObjectParameter      = "parameter"
	ObjectRequestBody    = "requestBody"
	ObjectResponse       = "response"
	ObjectSchemaProperty = "schemaProperty"
	ObjectSchema         = "schema"
	ObjectSecurity       = "security"
	ObjectServer         = "server"
	ObjectTag            = "tag"
	ObjectInfo           = "info"
	ObjectOther          = "other"
)

// Kinds of change (Change.Kind).
const (
	KindAdded    = "added"
	KindRemoved  = "removed"
	KindModified = "modified"
)

var knownObjects = map[string]bool{
	ObjectPath: true, ObjectOperation: true, ObjectParameter: true, ObjectRequestBody: true,
	ObjectResponse: true, ObjectSchemaProperty: true, ObjectSchema: true, ObjectSecurity: true,
	ObjectServer: true, ObjectTag: true, ObjectInfo: true, ObjectOther: true,
}

var operationKeys = map[string]bool{
	"get": true, "put": true, "post": true, "delete": true, "options": true,
	"head": true, "patch": true, "trace": true, "query": true,
}

// schema keywords whose value is one subschema, or a list or map of them.
var (
	subschema     = map[string]bool{"items": true, "not": true, "additionalProperties": true, "contains": true, "if": true, "then": true, "else": true, "propertyNames": true, "unevaluatedItems": true, "unevaluatedProperties": true, "additionalItems": true, "contentSchema": true}
	subschemaList = map[string]bool{"allOf": true, "anyOf": true, "oneOf": true, "prefixItems": true}
	subschemaMap  = map[string]bool{"patternProperties": true, "dependentSchemas": true, "$defs": true, "definitions": true}
)

// classify names the innermost API object a pointer is in, and how many of
// its segments address that object. A change whose pointer is exactly the
// object's (root == len(segs)) adds, removes or replaces the object itself.
func classify(segs []string) (object string, root int) {
	n := len(segs)
	if n == 0 {
		return ObjectOther, 0
	}
	upto := func(i int) int { return min(i, n) }
	switch segs[0] {
	case "info":
		return ObjectInfo, 1
	case "servers", "host", "basePath", "schemes":
		if segs[0] == "servers" {
			return ObjectServer, upto(2)
		}
		return ObjectServer, 1
	case "tags":
		return ObjectTag, upto(2)
	case "security":
		return ObjectSecurity, upto(2)
	case "securityDefinitions":
		return ObjectSecurity, upto(2)
	case "definitions":
		if n == 1 {
			return ObjectOther, 1
		}
		return inSchema(segs, 2)
	case "parameters":
		if n == 1 {
			return ObjectOther, 1
		}
		return inParameter(segs, 2)
	case "responses":
		if n == 1 {
			return ObjectOther, 1
		}
		return inResponse(segs, 2)
	case "paths", "webhooks":
		if n == 1 {
			return ObjectOther, 1
		}
		return inPathItem(segs, 2)
	case "components":
		if n < 3 {
			return ObjectOther, n
		}
		switch segs[1] {
		case "schemas":
			return inSchema(segs, 3)
		case "parameters", "headers":
			return inParameter(segs, 3)
		case "responses":
			return inResponse(segs, 3)
		case "requestBodies":
			return inRequestBody(segs, 3)
		case "securitySchemes":
			return ObjectSecurity, 3
		case "pathItems":
			return inPathItem(segs, 3)
		}
		return ObjectOther, 3
	}
	return ObjectOther, 1
}

func inPathItem(segs []string, r int) (string, int) {
	if r >= len(segs) {
		return ObjectPath, r
	}
	switch s := segs[r]; {
	case operationKeys[s]:
		return inOperation(segs, r+1)
	case s == "parameters" && r+1 < len(segs):
		return inParameter(segs, r+2)
	case s == "servers":
		return ObjectServer, min(r+2, len(segs))
	}
	return ObjectPath, r
}

func inOperation(segs []string, r int) (string, int) {
	if r >= len(segs) {
		return ObjectOperation, r
	}
	switch segs[r] {
	case "parameters":
		if r+1 < len(segs) {
			return inParameter(segs, r+2)
		}
	case "requestBody":
		return inRequestBody(segs, r+1)
	case "responses":
		if r+1 < len(segs) {
			return inResponse(segs, r+2)
		}
	case "security":
		return ObjectSecurity, min(r+2, len(segs))
	case "servers":
		return ObjectServer, min(r+2, len(segs))
	}
	return ObjectOperation, r
}

// inContent descends media types: content/{type}/schema.
func inContent(segs []string, r int, object string, root int) (string, int) {
	if r+2 < len(segs) && segs[r] == "content" && segs[r+2] == "schema" {
		return inSchema(segs, r+3)
	}
	return object, root
}

func inParameter(segs []string, r int) (string, int) {
	if r < len(segs) {
		if segs[r] == "schema" {
			return inSchema(segs, r+1)
		}
		return inContent(segs, r, ObjectParameter, r)
	}
	return ObjectParameter, r
}

func inRequestBody(segs []string, r int) (string, int) {
	if r < len(segs) {
		return inContent(segs, r, ObjectRequestBody, r)
	}
	return ObjectRequestBody, r
}

func inResponse(segs []string, r int) (string, int) {
	if r < len(segs) {
		switch segs[r] {
		case "schema": // swagger 2
			return inSchema(segs, r+1)
		case "headers": // a header is part of its response, but has a schema
			if r+3 < len(segs) && segs[r+2] == "schema" {
				return inSchema(segs, r+3)
			}
			return ObjectResponse, r
		}
		return inContent(segs, r, ObjectResponse, r)
	}
	return ObjectResponse, r
}

func inSchema(segs []string, r int) (string, int) {
	object := ObjectSchema
	if r >= 2 && segs[r-2] == "properties" {
		object = ObjectSchemaProperty
	}
	for r < len(segs) {
		s := segs[r]
		switch {
		case s == "properties" && r+1 < len(segs):
			object, r = ObjectSchemaProperty, r+2
		case subschema[s]:
			object, r = ObjectSchema, r+1
		case (subschemaList[s] || subschemaMap[s]) && r+1 < len(segs):
			object, r = ObjectSchema, r+2
		default:
			return object, r
		}
	}
	return object, r
}
