package spec

import (
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/pb33f/libopenapi"
	"github.com/pb33f/libopenapi/datamodel"
)

// BenchmarkParse parses a real 2.7 MB spec (Stripe, from the diff testdata).
func BenchmarkParse(b *testing.B) {
	data := readFixture(b, filepath.Join("..", "..", "diff", "testdata", "real", "stripe-2021-06-16.yaml"))
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse("stripe", data, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseRawLibopenapi is the baseline: libopenapi's own parse of the
// same bytes with the same configuration, no checks, no canonical form.
func BenchmarkParseRawLibopenapi(b *testing.B) {
	data := readFixture(b, filepath.Join("..", "..", "diff", "testdata", "real", "stripe-2021-06-16.yaml"))
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		cfg := datamodel.NewDocumentConfiguration()
		cfg.Logger = slog.New(slog.DiscardHandler)
		cfg.AllowExcessiveAliases = true
		cfg.ExcludeExtensionRefs = true
		if _, err := libopenapi.NewDocumentWithConfiguration(data, cfg); err != nil {
			b.Fatal(err)
		}
	}
}
