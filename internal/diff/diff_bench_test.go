package diff

import (
	"path/filepath"
	"testing"

	"github.com/apilivesync/apilivesync/internal/spec"
	"github.com/pb33f/libopenapi"
	whatchanged "github.com/pb33f/libopenapi/what-changed"
)

// The Stripe pair: two 2.7 MB versions of one real API.
var benchPair = [2]string{"stripe-2021-06-07.yaml", "stripe-2021-06-16.yaml"}

// BenchmarkCompare is our whole path from bytes: Parse both (checks,
// canonical JSON, counts), build both models, compare, locate and judge.
func BenchmarkCompare(b *testing.B) {
	oldData := readFile(b, filepath.Join("testdata", "real", benchPair[0]))
	newData := readFile(b, filepath.Join("testdata", "real", benchPair[1]))
	b.ReportAllocs()
	b.SetBytes(int64(len(oldData) + len(newData)))
	for b.Loop() {
		o, err := spec.Parse("old", oldData, spec.Options{})
		if err != nil {
			b.Fatal(err)
		}
		n, err := spec.Parse("new", newData, spec.Options{})
		if err != nil {
			b.Fatal(err)
		}
		rep, err := Compare(o, n, nil)
		if err != nil || rep.Total == 0 {
			b.Fatal(err, rep)
		}
	}
}

// BenchmarkCompareDiffOnly is what `starter diff FILE FILE` does: parse and
// check both (no canonical form, which only storing needs) and compare.
func BenchmarkCompareDiffOnly(b *testing.B) {
	oldData := readFile(b, filepath.Join("testdata", "real", benchPair[0]))
	newData := readFile(b, filepath.Join("testdata", "real", benchPair[1]))
	b.ReportAllocs()
	b.SetBytes(int64(len(oldData) + len(newData)))
	for b.Loop() {
		o, err := spec.Parse("old", oldData, spec.Options{SkipCanonical: true})
		if err != nil {
			b.Fatal(err)
		}
		n, err := spec.Parse("new", newData, spec.Options{SkipCanonical: true})
		if err != nil {
			b.Fatal(err)
		}
		rep, err := Compare(o, n, nil)
		if err != nil || rep.Total == 0 {
			b.Fatal(err, rep)
		}
	}
}

// BenchmarkRawLibopenapi is the floor: libopenapi alone on the same pair.
func BenchmarkRawLibopenapi(b *testing.B) {
	oldData := readFile(b, filepath.Join("testdata", "real", benchPair[0]))
	newData := readFile(b, filepath.Join("testdata", "real", benchPair[1]))
	b.ReportAllocs()
	b.SetBytes(int64(len(oldData) + len(newData)))
	for b.Loop() {
		o, err := libopenapi.NewDocument(oldData)
		if err != nil {
			b.Fatal(err)
		}
		n, err := libopenapi.NewDocument(newData)
		if err != nil {
			b.Fatal(err)
		}
		// Stripe's schemas are recursive: libopenapi reports the cycles as
		// errors but still builds the model, as spec.Document.Model does.
		mo, _ := o.BuildV3Model()
		mn, _ := n.BuildV3Model()
		if mo == nil || mn == nil {
			b.Fatal("no model")
		}
		dc := whatchanged.CompareOpenAPIDocuments(mo.Model.GoLow(), mn.Model.GoLow())
		if dc.TotalChanges() == 0 {
			b.Fatal("no changes")
		}
	}
}

// BenchmarkCompareParsed compares documents already parsed: the model is
// built once and kept, so repeat comparisons cost only the comparison.
func BenchmarkCompareParsed(b *testing.B) {
	o := parseFixture(b, "old", readFile(b, filepath.Join("testdata", "real", benchPair[0])))
	n := parseFixture(b, "new", readFile(b, filepath.Join("testdata", "real", benchPair[1])))
	if _, err := Compare(o, n, nil); err != nil { // builds both models once
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compare(o, n, nil); err != nil {
			b.Fatal(err)
		}
	}
}
