package diff

import (
	"slices"
)

// ChangeKind names a change by whether the thing existed before and after.
func ChangeKind(had, has bool) string {
	switch {
	case !had:
		return KindAdded
	case !has:
		return KindRemoved
	}
	return KindModified
}

// SortedUnion is every key of a and b, once each, sorted.
func SortedUnion[V any](a, b map[string]V) []string {
	seen := make(map[string]bool, len(a)+len(b))
	out := make([]string, 0, len(a)+len(b))
	for _, m := range []map[string]V{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	slices.Sort(out)
	return out
}

// NilIfEmpty is nil for "" (an absent value in a Change), s otherwise.
func NilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
