package spec

import (
	"path/filepath"
	"testing"
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
