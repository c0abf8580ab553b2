package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"

	"github.com/apilivesync/apilivesync/internal/source"
)

// Defaults source.Source documents for fields it leaves empty.
const (
	defaultOnHoldTimeout   = "reject"
	defaultOnManualTimeout = "fail"
)

// Plan is what reconciling an engine to a config changes. Every list is
// sorted by source ID.
type Plan struct {
	// Add holds sources the engine lacks.
	Add []source.Source
	// Update holds the desired form of sources that differ.
	Update []source.Source
	// Remove holds IDs of sources the config no longer declares.
	Remove []string
	// Unchanged holds IDs of sources that already match.
	Unchanged []string
}

// PlanChanges compares the engine's sources with the desired ones by ID.
// Two sources are the same when their normalized forms (every default
// filled in, header names canonical) marshal to the same JSON, so a source
// written with defaults left out matches one stored with them filled in.
// When an ID appears more than once in a list, the last one counts.
// Applying a plan and planning again yields an empty plan.
func PlanChanges(current, desired []source.Source) Plan {
	cur := byID(current)
	want := byID(desired)
	var p Plan
	for _, id := range sortedIDs(want) {
		c, ok := cur[id]
		switch {
		case !ok:
			p.Add = append(p.Add, want[id])
		case !bytes.Equal(fingerprint(c), fingerprint(want[id])):
			p.Update = append(p.Update, want[id])
		default:
			p.Unchanged = append(p.Unchanged, id)
		}
	}
	for _, id := range sortedIDs(cur) {
		if _, ok := want[id]; !ok {
			p.Remove = append(p.Remove, id)
		}
	}
	return p
}

// Empty reports whether the plan changes nothing.
func (p Plan) Empty() bool { return len(p.Add) == 0 && len(p.Update) == 0 && len(p.Remove) == 0 }

// String summarizes the plan: "add 1, update 2, remove 0, unchanged 3".
func (p Plan) String() string {
	return fmt.Sprintf("add %d, update %d, remove %d, unchanged %d", len(p.Add), len(p.Update), len(p.Remove), len(p.Unchanged))
}

func byID(srcs []source.Source) map[string]source.Source {
	m := make(map[string]source.Source, len(srcs))
	for _, s := range srcs {
		m[s.ID] = s
	}
	return m
}

func sortedIDs(m map[string]source.Source) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// fingerprint is the normalized source as JSON (normalize copies the
// slices it sorts).
func fingerprint(s source.Source) []byte {
	s = normalize(s)
	// An empty kind is detected from the content; engines registered
	// before detection stored "openapi" for it, which is what detection
	// finds for those sources, so the two compare equal.
	if s.Kind == "" {
		s.Kind = source.KindOpenAPI
	}
	if len(s.Headers) > 0 {
		h := make(map[string]string, len(s.Headers))
		for k, v := range s.Headers {
			h[http.CanonicalHeaderKey(k)] = v
		}
		s.Headers = h
	}
	// The order of owned paths and components means nothing.
	slices.Sort(s.Owns.PathPrefixes)
	slices.Sort(s.Owns.Paths)
	slices.Sort(s.Owns.Components)
	b, err := json.Marshal(s)
	if err != nil {
		// A Source always marshals; fall back to a value that never matches.
		return []byte(err.Error())
	}
	return b
}

// normalize fills every field the source package defaults, so equal
// meanings compare equal.
func normalize(s source.Source) source.Source {
	s = s.Normalize()
	s.API = s.APIID()
	s.Strategy = s.StrategyOrDefault()
	s.Gate = s.GateOrDefault()
	if s.Priority == "" {
		s.Priority = defaultPriority
	}
	enabled := s.IsEnabled()
	s.Enabled = &enabled
	if s.HoldTimeout == 0 {
		s.HoldTimeout = source.Duration(source.DefaultDecisionTimeout)
	}
	if s.ManualTimeout == 0 {
		s.ManualTimeout = source.Duration(source.DefaultDecisionTimeout)
	}
	if s.OnHoldTimeout == "" {
		s.OnHoldTimeout = defaultOnHoldTimeout
	}
	if s.OnManualTimeout == "" {
		s.OnManualTimeout = defaultOnManualTimeout
	}
	if len(s.Headers) == 0 {
		s.Headers = nil
	} else {
		s.Headers = maps.Clone(s.Headers)
	}
	s.Owns = source.Ownership{
		PathPrefixes: nonEmpty(s.Owns.PathPrefixes),
		Paths:        nonEmpty(s.Owns.Paths),
		Components:   nonEmpty(s.Owns.Components),
	}
	return s
}

func nonEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}
