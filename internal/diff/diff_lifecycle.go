package diff

import (
	"time"

	"github.com/pb33f/go-yaml"
	"github.com/pb33f/libopenapi/orderedmap"
)

// An API's lifecycle as documents state it: `deprecated`, the x-sunset
// date until which something deprecated is promised, and an operation's
// x-stability-level (draft, alpha, beta, stable).

// today is the day removals are judged against: a deprecated operation
// removed before its x-sunset date breaks a promise.
func today() time.Time { return time.Now().UTC() }

// sunsetDate parses an x-sunset value: a date (2006-01-02) or an RFC 3339
// time.
func sunsetDate(v string) (time.Time, bool) {
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, true
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// retirement is how a removal of something is judged by its lifecycle.
type retirement int

const (
	notDeprecated retirement = iota
	retired                  // deprecated, and its x-sunset date (if any) has passed
	promised                 // deprecated, but promised until a later (or unreadable) date
)

// retirementOf judges the removal of something deprecated (or carrying an
// x-sunset date, which says it is going away).
func retirementOf(deprecated bool, ext *orderedmap.Map[string, *yaml.Node]) retirement {
	s := sunset(ext)
	if !deprecated && s == "" {
		return notDeprecated
	}
	if s == "" {
		return retired
	}
	d, ok := sunsetDate(s)
	if !ok {
		return promised
	}
	if t := today(); d.After(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)) {
		return promised
	}
	return retired
}

// removal is the rule for removing something by its lifecycle: plain when
// it was not deprecated, retired after its date, early before it.
func removal(deprecated bool, ext *orderedmap.Map[string, *yaml.Node], plain, retiredRule, early *rule) *rule {
	switch retirementOf(deprecated, ext) {
	case retired:
		return retiredRule
	case promised:
		return early
	}
	return plain
}

// sunsetChange judges a change of x-sunset on an operation or parameter
// that is deprecated in the new document or not.
func (w *walker) sunsetChange(l loc, dir direction, os, ns string, deprecated bool) {
	at := l.at("x-sunset")
	switch {
	case os == ns:
	case ns != "" && !validSunset(ns):
		w.modified(rSunsetInvalid, dir, at, os, ns)
	case os == "":
		w.added(rSunsetAdded, dir, at, ns)
	case ns == "" && deprecated:
		w.removed(rSunsetRemoved, dir, at, os)
	case ns != "" && earlier(ns, os):
		w.modified(rSunsetEarlier, dir, at, os, ns)
	default:
		w.modified(rSunsetChanged, dir, at, os, ns)
	}
}

func validSunset(v string) bool {
	_, ok := sunsetDate(v)
	return ok
}

// earlier says whether date a comes before date b; unreadable dates
// compare as text (ISO dates sort as text).
func earlier(a, b string) bool {
	da, oka := sunsetDate(a)
	db, okb := sunsetDate(b)
	if oka && okb {
		return da.Before(db)
	}
	return a < b
}

// Stability levels of x-stability-level, lowest first.
var stabilityRank = map[string]int{"draft": 1, "alpha": 2, "beta": 3, "stable": 4}

// stability reads an operation's x-stability-level: "" when unset, and
// whether the value is one of the four levels.
func stability(ext *orderedmap.Map[string, *yaml.Node]) (string, bool) {
	v, ok := get(ext, "x-stability-level")
	if !ok || v == nil {
		return "", true
	}
	if v.Kind != yaml.ScalarNode {
		return "<" + kindName(v) + ">", false
	}
	_, valid := stabilityRank[v.Value]
	return v.Value, valid
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "object"
	case yaml.SequenceNode:
		return "list"
	}
	return "value"
}

// unstable says an operation promises no compatibility: draft or alpha.
// Its changes are judged info at most.
func unstable(ext *orderedmap.Map[string, *yaml.Node]) bool {
	s, ok := stability(ext)
	return ok && stabilityRank[s] > 0 && stabilityRank[s] <= stabilityRank["alpha"]
}

// stabilityChange judges an operation's x-stability-level: going down (or
// being dropped) withdraws a promise; an unknown level promises nothing
// anyone can read.
func (w *walker) stabilityChange(l loc, o, n *operation) {
	os, ook := stability(o.ext)
	ns, nok := stability(n.ext)
	at := l.at("x-stability-level")
	switch {
	case os == ns:
	case !nok:
		w.modified(rStabilityInvalid, dirAny, at, os, ns)
	case !ook && ns != "stable":
		// nobody could read the old promise: it may have been stable
		w.modified(rStabilityDecreased, dirAny, at, os, ns)
	case ns == "":
		w.removed(rStabilityDecreased, dirAny, at, os)
	case stabilityRank[ns] < stabilityRank[os]:
		w.modified(rStabilityDecreased, dirAny, at, os, ns)
	default:
		w.modified(rStabilityIncreased, dirAny, at, os, ns)
	}
}
