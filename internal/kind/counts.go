package kind

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/apilivesync/apilivesync/internal/spec"
)

// Counts summarize a document: its family, versions and sizes. For GraphQL
// and Postman (Kind set) the OpenAPI-named counts are reused: see CountsOf.
type Counts struct {
	// Kind is graphql or postman; empty for OpenAPI (Family says which).
	Kind       string `json:"kind,omitempty"`
	Family     string `json:"family,omitempty"`
	Version    string `json:"version,omitempty"`
	Title      string `json:"title,omitempty"`
	APIVersion string `json:"apiVersion,omitempty"`
	Paths      int    `json:"paths"`
	Operations int    `json:"operations"`
	Schemas    int    `json:"schemas"`
	// Warnings are what the document got away with (dangling references),
	// one short line each, at most spec.MaxWarnings and a count of the rest.
	Warnings []string `json:"warnings,omitempty"`
}

// StoredKind tells the kind of a canonical document from the store (or one
// written by `starter pull`): graphql, postman or openapi.
func StoredKind(canonical []byte) string {
	t := bytes.TrimSpace(canonical)
	if len(t) > 0 && t[0] != '{' {
		return GraphQL // canonical OpenAPI and Postman are JSON objects
	}
	if k, err := Detect(t); err == nil && k == Postman {
		return Postman
	}
	return OpenAPI
}

// SourceKind is the kind a fetched document is parsed as when its source
// sets none: what Detect finds, except that a document that looks like
// OpenAPI, or like nothing known, takes the OpenAPI path as it always did
// (so its errors keep saying what is wrong with it as a spec). A document
// that looks like both GraphQL and Postman is refused.
func SourceKind(raw []byte) (string, error) {
	k, err := Detect(raw)
	if err == nil {
		return k, nil
	}
	var de *DetectError
	if errors.As(err, &de) && len(de.Candidates) > 1 && !slices.Contains(de.Candidates, OpenAPI) {
		return "", err
	}
	return OpenAPI, nil
}

// CountsOf puts a GraphQL or Postman summary into Counts, reusing the
// OpenAPI-named counts for what plays their part:
//
//   - GraphQL: Paths = fields (of objects, interfaces and input objects:
//     every Type.field coordinate), Operations = query and mutation root
//     fields, Schemas = types (built-ins excluded).
//   - Postman: Paths = folders, Operations = requests, Schemas = 0; Title
//     is the collection's name, Version its schema version (2.0.0, 2.1.0).
//
// Family and Kind are the kind.
func CountsOf(p *Parsed) Counts {
	s := p.Summary
	c := Counts{Kind: p.Kind, Family: p.Kind, Version: s.Version, Title: s.Name, Warnings: p.Warnings}
	switch p.Kind {
	case GraphQL:
		c.Paths, c.Operations, c.Schemas = s.Fields, s.Queries+s.Mutation, s.Types
	case Postman:
		c.Paths, c.Operations = s.Folders, s.Requests
	}
	if len(c.Warnings) > spec.MaxWarnings {
		more := len(c.Warnings) - spec.MaxWarnings
		c.Warnings = append(c.Warnings[:spec.MaxWarnings:spec.MaxWarnings], fmt.Sprintf("… and %d more warnings", more))
	}
	return c
}

// warningTexts are a document's warnings, one short line each.
// SpecCounts is what a version records of an OpenAPI document it stores.
func SpecCounts(sum spec.Summary) Counts {
	return Counts{Family: sum.Family, Version: sum.Version, Title: sum.Title, APIVersion: sum.APIVersion,
		Paths: sum.Paths, Operations: sum.Operations, Schemas: sum.Schemas, Warnings: warningTexts(sum)}
}

func warningTexts(sum spec.Summary) []string {
	var out []string
	for _, w := range sum.Warnings {
		out = append(out, fmt.Sprintf("line %d: %s", w.Line, w.Message))
	}
	if sum.MoreWarnings > 0 {
		out = append(out, fmt.Sprintf("… and %d more warnings", sum.MoreWarnings))
	}
	return out
}
