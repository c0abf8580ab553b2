package jsonptr_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/apilivesync/apilivesync/internal/jsonptr"
)

func TestEscapeUnescape(t *testing.T) {
	tests := []struct{ raw, escaped string }{
		{"", ""},
		{"pets", "pets"},
		{"/pets/{id}", "~1pets~1{id}"},
		{"a~b", "a~0b"},
		{"~1", "~01"},
		{"~/", "~0~1"},
		{"/~", "~1~0"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			require.Equal(t, tt.escaped, jsonptr.Escape(tt.raw))
			require.Equal(t, tt.raw, jsonptr.Unescape(tt.escaped))
		})
	}
}

func TestJoinTokens(t *testing.T) {
	tests := []struct {
		name    string
		pointer string
		tokens  []string
	}{
		{"root", "", nil},
		{"empty key", "/", []string{""}},
		{"operation", "/paths/~1pets~1{id}/get", []string{"paths", "/pets/{id}", "get"}},
		{"RFC 6901 examples", "/a~1b/m~0n/ /c%d", []string{"a/b", "m~n", " ", "c%d"}},
		{"trailing empty", "/a/", []string{"a", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.pointer, jsonptr.Join(tt.tokens))
			require.Equal(t, tt.tokens, jsonptr.Tokens(tt.pointer))
		})
	}
	require.Equal(t, []string{"paths", "get"}, jsonptr.Tokens("paths/get"), "leading slash optional")
}

func TestNoAllocationWithoutEscapes(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		_ = jsonptr.Escape("components")
		_ = jsonptr.Unescape("schemas")
	})
	require.Zero(t, allocs)
}
