package diff

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// Real successive versions of public APIs (see testdata/LICENSES.md). The
// expected reports are golden files; refresh them with UPDATE_GOLDEN=1 and
// review the diff.
func TestRealSpecPairs(t *testing.T) {
	tests := []struct {
		name, old, new  string
		total, breaking int
	}{
		// Swagger 2: the petstore grows from the minimal to the expanded API.
		// Breaking: POST /pets now requires a body, its 201 is gone, the pet
		// id path parameter turns from string to integer (and gains format
		// int64), and GET /pets/{id} returns one Pet where it returned an
		// array. Pet split into allOf [NewPet, {id}] is the same object: only
		// the two parts are reported, as info (and NewPet and Error as new
		// named schemas). GET /pets/{id}'s switch from Pets to Pet is
		// reported at its response, which switched, not in either schema.
		{"oai-v2-petstore", "oai-v2-petstore.yaml", "oai-v2-petstore-expanded.yaml", 41, 5},
		// OpenAPI 3.0 (JSON): the same evolution (GET /pets/{id} already
		// returned one Pet there); POST /pets takes a NewPet, which has no
		// id; GET /pets drops its maxItems: 100, so clients may get longer
		// lists than they were promised, and its x-next paging header.
		// NewPet and Error are new named schemas (info).
		{"oai-v3-petstore", "oai-v3-petstore.json", "oai-v3-petstore-expanded.json", 38, 6},
		// Stripe, 2021-06-07 → 2021-06-16 (2.7 MB each): three response
		// fields become required (clients now always get them: harmless,
		// though libopenapi calls it breaking), a response field is added,
		// plus wording and title edits.
		{"stripe-2021-06", "stripe-2021-06-07.yaml", "stripe-2021-06-16.yaml", 19, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join("testdata", "real")
			oldDoc := parseFixture(t, tt.old, readFile(t, filepath.Join(dir, tt.old)))
			newDoc := parseFixture(t, tt.new, readFile(t, filepath.Join(dir, tt.new)))
			rep, err := Compare(oldDoc, newDoc, DefaultRules())
			require.NoError(t, err)
			var got bytes.Buffer
			require.NoError(t, rep.Write(&got, FormatJSON))

			golden := filepath.Join("testdata", "golden", tt.name+".json")
			if os.Getenv("UPDATE_GOLDEN") == "1" {
				require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
				require.NoError(t, os.WriteFile(golden, got.Bytes(), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run with UPDATE_GOLDEN=1 to create %s", golden)
			require.JSONEq(t, string(want), got.String())
			if tt.total > 0 {
				require.Equal(t, tt.total, rep.Total)
				require.Equal(t, tt.breaking, rep.Breaking)
			}
			for _, c := range rep.Changes {
				require.NotEmpty(t, c.Pointer, "every change is located: %+v", c)
				require.NotEqual(t, ObjectOther, c.Object, "every change is classified: %+v", c)
			}
		})
	}
}
