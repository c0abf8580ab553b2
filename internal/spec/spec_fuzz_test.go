package spec

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// fuzzOptions keep each input cheap: the fuzzer looks for panics, hangs and
// broken invariants, not for what large limits allow.
var fuzzOptions = Options{MaxBytes: 256 << 10, MaxDepth: 64, MaxAliases: 1000}

var errorKinds = map[string]bool{
	KindNotStructured: true, KindNotAPISpec: true, KindInvalid: true, KindBrokenRef: true,
	KindTooComplex: true, KindInvalidUTF8: true, KindRefNotAllowed: true,
}

// addFixtures seeds f with every spec fixture in testdata (good and hostile);
// the hand-written snippets live in testdata/fuzz/<target>/.
func addFixtures(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.*"))
	require.NoError(f, err)
	require.NotEmpty(f, files)
	for _, name := range files {
		data, err := os.ReadFile(name)
		require.NoError(f, err)
		f.Add(data)
	}
}

// FuzzParse feeds arbitrary bytes to Parse. It must never panic or hang; a
// refusal is a typed *Error naming the source with a known kind; an accepted
// document's canonical form is a fixed point of normalize, and parsing the
// same bytes again gives the same canonical form, which parses to
// itself (later steps load it from the store). Building the model (as the ParseSpec
// activity does) must not panic either.
func FuzzParse(f *testing.F) {
	addFixtures(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Parse("fuzz", data, fuzzOptions)
		if err != nil {
			require.Nil(t, doc)
			var se *Error
			require.True(t, errors.As(err, &se), "%T: %v", err, err)
			require.Equal(t, "fuzz", se.Source)
			require.True(t, errorKinds[se.Kind], "unknown kind %q: %v", se.Kind, err)
			require.GreaterOrEqual(t, se.Line, 0)
			require.GreaterOrEqual(t, se.Column, 0)
			return
		}
		require.True(t, json.Valid(doc.Canonical), "canonical form is JSON:\n%s", doc.Canonical)
		again, err := normalize(doc.Canonical)
		require.NoError(t, err, "canonical form:\n%s", doc.Canonical)
		require.Equal(t, string(doc.Canonical), string(again), "normalize(Canonical) == Canonical")

		doc2, err := Parse("fuzz", data, fuzzOptions)
		require.NoError(t, err)
		require.Equal(t, string(doc.Canonical), string(doc2.Canonical))
		require.Equal(t, doc.Summary, doc2.Summary)

		// The store keeps the canonical form and later steps parse it again
		// (activities.loadDoc): it must load, to the same document.
		stored, err := Parse("stored", doc.Canonical, Options{MaxBytes: 4 * fuzzOptions.MaxBytes, MaxDepth: fuzzOptions.MaxDepth, MaxAliases: fuzzOptions.MaxAliases})
		require.NoError(t, err, "canonical form:\n%s", doc.Canonical)
		require.Equal(t, string(doc.Canonical), string(stored.Canonical))
		// warnings point at lines of the source's own bytes, not of the canonical form
		require.Equal(t, withoutPositions(doc.Summary), withoutPositions(stored.Summary))

		if _, err := doc.Model(); err != nil {
			var se *Error
			require.True(t, errors.As(err, &se), "%T: %v", err, err)
			require.True(t, errorKinds[se.Kind], "unknown kind %q: %v", se.Kind, err)
		}
	})
}

// FuzzNormalize checks that normalize (the canonical form of any YAML or
// JSON, through the encoders Parse uses) is idempotent: whatever it
// accepts, it turns into JSON that normalizes to itself.
func FuzzNormalize(f *testing.F) {
	addFixtures(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 256<<10 {
			return
		}
		once, err := normalize(data)
		if err != nil {
			return
		}
		require.True(t, json.Valid(once), "normalized form is JSON:\n%s", once)
		twice, err := normalize(once)
		require.NoError(t, err, "normalized form:\n%s", once)
		require.Equal(t, string(once), string(twice))
	})
}

// withoutPositions drops the line and column of each warning.
func withoutPositions(s Summary) Summary {
	ws := make([]Warning, len(s.Warnings))
	for i, w := range s.Warnings {
		w.Line, w.Column = 0, 0
		ws[i] = w
	}
	s.Warnings = ws
	return s
}
