package diff

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// petsWith is a response whose schema is a discriminated oneOf whose
// members refer back to the base (Pet ↔ Dog), with the dog schema named
// dogName and its properties as given.
func petsWith(dogName, dogProps string) string {
	return `openapi: 3.0.3
info: {title: pets, version: "1"}
paths:
  /pets:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Pet"}
components:
  schemas:
    Pet:
      type: object
      required: [kind]
      properties:
        kind: {type: string}
      oneOf:
        - $ref: "#/components/schemas/Cat"
        - $ref: "#/components/schemas/` + dogName + `"
      discriminator:
        propertyName: kind
        mapping:
          dog: "#/components/schemas/` + dogName + `"
    Cat:
      allOf:
        - $ref: "#/components/schemas/Pet"
      type: object
      properties:
        purrs: {type: boolean}
    ` + dogName + `:
      allOf:
        - $ref: "#/components/schemas/Pet"
      type: object
      properties:
` + dogProps
}

// Renaming a component changes nothing on the wire, even when the schemas
// refer to each other through it; renaming and changing it is judged as
// the change.
func TestRenamedComponentIsNotAWireChange(t *testing.T) {
	props := "        barks: {type: boolean}\n"
	rep := compareText(t, petsWith("Dog", props), petsWith("MyDog", props))
	require.Zero(t, rep.Breaking, "%+v", rep.Changes)
	for _, c := range rep.Changes {
		require.True(t, strings.HasPrefix(c.Rule, "component-schema-"), "only the component list changes: %+v", c)
	}

	rep = compareText(t, petsWith("Dog", props), petsWith("MyDog", "        barks: {type: string}\n"))
	rules := map[string]bool{}
	for _, c := range rep.Changes {
		rules[c.Rule] = true
	}
	require.Positive(t, rep.Breaking, "%+v", rep.Changes)
	require.True(t, rules["response-discriminator-mapping-changed"] || rules["response-one-of-member-added"] || rules["response-type-changed"], "%+v", rep.Changes)
}
