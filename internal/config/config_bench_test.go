package config

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func BenchmarkParseExample(b *testing.B) {
	data, err := os.ReadFile("testdata/example.yaml")
	require.NoError(b, err)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := parseBytes("testdata/example.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse1000Sources parses a file declaring 1000 sources over 100 APIs
// (the ownership check is quadratic within an API).
func BenchmarkParse1000Sources(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("version: 1\nsources:\n")
	for i := range 1000 {
		fmt.Fprintf(&sb, "  - id: s%d\n    url: https://specs%d.example.com/openapi.json\n    api: api%d\n    rank: %d\n    owns: {pathPrefixes: [/p%d]}\n",
			i, i, i%100, i, i)
	}
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := parseBytes("big.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}
