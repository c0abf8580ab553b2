package offline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/apilivesync/apilivesync/internal/diff"
	"github.com/apilivesync/apilivesync/internal/fetch"
	"github.com/apilivesync/apilivesync/internal/graphql"
	"github.com/apilivesync/apilivesync/internal/kind"
	"github.com/apilivesync/apilivesync/internal/postman"
	"github.com/apilivesync/apilivesync/internal/spec"
)

// Arg is one document a command reads: an OpenAPI document parsed, or the
// canonical form of a GraphQL schema or Postman collection.
type Arg struct {
	Name, Kind string
	Doc        *spec.Document
	Data       []byte
}

// Diff is `starter diff OLD NEW`.
func Diff(e *Env, fs *pflag.FlagSet) RunFunc {
	format := fs.String("format", "text", "text, markdown or json")
	failOnBreaking := fs.Bool("fail-on-breaking", false, "exit 1 when a breaking change is found (for CI)")
	failOn := fs.String("fail-on", "", "exit 1 when a change of this level or worse is found: error (same as --fail-on-breaking) or warning")
	rulesFile := fs.String("rules", "", "rules YAML file: which changes break, what to ignore")
	strict := fs.Bool("strict", false, "refuse a document with dangling $refs (default: a warning)")
	return func(ctx context.Context, args []string) error {
		pos, err := Positional(fs, args, 2, "OLD and NEW (files, URLs or API@VERSION)")
		if err != nil {
			return err
		}
		switch *failOn {
		case "", diff.LevelError, diff.LevelWarning:
		default:
			return &ExitError{Code: 2, Err: fmt.Errorf("diff: --fail-on %q: want error or warning", *failOn)}
		}
		if *e.JSON {
			*format = "json"
		}
		rules := diff.DefaultRules()
		if *rulesFile != "" {
			if rules, err = diff.LoadRules(*rulesFile); err != nil {
				return err
			}
		}
		var sides [2]Arg
		for i, arg := range pos {
			if sides[i], err = Load(ctx, e, arg, *strict); err != nil {
				return err
			}
		}
		if sides[0].Kind != sides[1].Kind {
			return &ExitError{Code: 2, Err: fmt.Errorf("cannot diff %s (%s) with %s (%s): both must be of one kind",
				sides[0].Name, sides[0].Kind, sides[1].Name, sides[1].Kind)}
		}
		var rep *diff.Report
		if sides[0].Kind == kind.OpenAPI {
			rep, err = diff.Compare(sides[0].Doc, sides[1].Doc, rules)
		} else if *rulesFile != "" {
			return &ExitError{Code: 2, Err: fmt.Errorf("--rules applies to OpenAPI; %s documents have their own rules", sides[0].Kind)}
		} else {
			rep, err = kind.Diff(sides[0].Kind, sides[0].Data, sides[1].Data)
		}
		if err != nil {
			return err
		}
		if err := rep.Write(e.Stdout, *format); err != nil {
			return err
		}
		if (*failOnBreaking || *failOn != "") && rep.Breaking > 0 {
			return &ExitError{Code: 1, Err: fmt.Errorf("%d breaking change(s) between %s and %s", rep.Breaking, pos[0], pos[1])}
		}
		if *failOn == diff.LevelWarning && rep.Warnings > 0 {
			return &ExitError{Code: 1, Err: fmt.Errorf("%d warning(s) between %s and %s", rep.Warnings, pos[0], pos[1])}
		}
		return nil
	}
}

// Load reads and checks a document argument of any kind (detected from its
// content, as a source's is): a URL, a file, or API@VERSION through
// Env.Stored.
func Load(ctx context.Context, e *Env, arg string, strict bool) (Arg, error) {
	var data []byte
	isFile := false
	switch {
	case strings.HasPrefix(arg, "http://") || strings.HasPrefix(arg, "https://"):
		// The starter runs on the user's behalf: local and private URLs are fine.
		f := fetch.New(fetch.Options{Guard: fetch.GuardOptions{AllowLoopback: true, AllowPrivate: true}})
		resp, err := f.Fetch(ctx, fetch.Request{SourceID: arg, URL: arg})
		if err != nil {
			return Arg{}, err
		}
		data = resp.Body
	case !strings.Contains(arg, "@") || exists(arg):
		var err error
		if data, err = os.ReadFile(arg); err != nil {
			return Arg{}, fmt.Errorf("read %s: %w", arg, err)
		}
		isFile = true
	case e.Stored == nil:
		return Arg{}, ErrNeedsStore
	default:
		a, err := e.Stored(ctx, arg, strict)
		if err != nil || a.Doc != nil {
			return a, err
		}
		arg, data = a.Name, a.Data
	}
	k, err := kind.SourceKind(data)
	if err != nil {
		return Arg{}, fmt.Errorf("%s: %w", arg, err)
	}
	if k != kind.OpenAPI {
		p, err := kind.Parse(k, arg, data)
		if err != nil {
			return Arg{}, err
		}
		return Arg{Name: arg, Kind: k, Data: p.Canonical}, nil
	}
	opts := spec.Options{SkipCanonical: true, Strict: strict}
	if isFile {
		// A local file may use relative $refs to other local files, up and
		// down (the starter reads the user's own files on their behalf; a
		// worker's sources stay under their own directory). A fetched or
		// stored document never reads the local disk.
		opts.AllowFileRefs, opts.BaseDir, opts.RefRoot = true, filepath.Dir(arg), fsRoot(arg)
	}
	doc, err := spec.Parse(arg, data, opts)
	if err == nil {
		_, err = doc.Model()
	}
	if err != nil {
		return Arg{}, err
	}
	return Arg{Name: arg, Kind: k, Doc: doc}, nil
}

// ValidateResult is `starter validate --json`.
type ValidateResult struct {
	Source string      `json:"source"`
	Kind   string      `json:"kind"`
	Counts kind.Counts `json:"counts"`
}

// Validate is `starter validate FILE|URL|API@VERSION`.
func Validate(e *Env, fs *pflag.FlagSet) RunFunc {
	strict := fs.Bool("strict", false, "refuse a document with dangling $refs (default: a warning)")
	return func(ctx context.Context, args []string) error {
		pos, err := Positional(fs, args, 1, "the FILE, URL or API@VERSION to check")
		if err != nil {
			return err
		}
		arg, err := Load(ctx, e, pos[0], *strict)
		if errors.Is(err, ErrNeedsStore) {
			return err
		}
		if err != nil {
			return &ExitError{Code: 1, Err: err}
		}
		res := ValidateResult{Source: arg.Name, Kind: arg.Kind}
		if arg.Kind == kind.OpenAPI {
			res.Counts = kind.SpecCounts(arg.Doc.Summary)
		} else {
			p, err := kind.Parse(arg.Kind, arg.Name, arg.Data)
			if err != nil {
				return &ExitError{Code: 1, Err: err}
			}
			res.Counts = kind.CountsOf(p)
		}
		if *e.JSON {
			return PrintJSON(e.Stdout, res)
		}
		c := res.Counts
		fmt.Fprintf(e.Stdout, "%s: valid %s %s %q %s: %d paths, %d operations, %d schemas\n",
			res.Source, c.Family, c.Version, c.Title, c.APIVersion, c.Paths, c.Operations, c.Schemas)
		for _, w := range c.Warnings {
			fmt.Fprintf(e.Stdout, "warning: %s\n", w)
		}
		return nil
	}
}

// Rules is `starter rules`.
func Rules(e *Env, fs *pflag.FlagSet) RunFunc {
	rulesFile := fs.String("rules", "", "rules YAML file: show the levels it sets (OpenAPI)")
	kindName := fs.String("kind", kind.OpenAPI, "openapi, graphql or postman")
	format := fs.String("format", "text", "text or markdown (docs/RULES.md is this output for openapi)")
	return func(ctx context.Context, args []string) error {
		if _, err := Positional(fs, args, 0, "no arguments"); err != nil {
			return err
		}
		var cat []diff.RuleInfo
		ruleSet := ""
		switch *kindName {
		case kind.OpenAPI:
			rules, err := LoadRules(*rulesFile)
			if err != nil {
				return err
			}
			if *format == "markdown" && !*e.JSON && *rulesFile == "" {
				_, err := fmt.Fprint(e.Stdout, diff.RulesMarkdown())
				return err
			}
			cat, ruleSet = diff.Catalogue(), rules.ID()
			for i := range cat {
				cat[i].Level = rules.Level(cat[i].ID)
			}
		case kind.GraphQL, kind.Postman:
			if *rulesFile != "" {
				return &ExitError{Code: 2, Err: fmt.Errorf("rules: --rules applies to OpenAPI; %s has its own rules", *kindName)}
			}
			cat, ruleSet = kindCatalogue(*kindName)
		default:
			return &ExitError{Code: 2, Err: fmt.Errorf("rules: --kind %q: want openapi, graphql or postman", *kindName)}
		}
		if *e.JSON {
			return PrintJSON(e.Stdout, map[string]any{"kind": *kindName, "ruleSet": ruleSet, "rules": cat})
		}
		fmt.Fprintf(e.Stdout, "%d %s rules (rule set %s)\n", len(cat), *kindName, ruleSet)
		tw := tabwriter.NewWriter(e.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tLEVEL\tDIRECTION\tMEANING")
		for _, r := range cat {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, r.Level, OrDash(r.Direction), r.Summary)
		}
		return tw.Flush()
	}
}

// kindCatalogue lists a GraphQL or Postman rule set in the OpenAPI
// catalogue's shape.
func kindCatalogue(k string) ([]diff.RuleInfo, string) {
	var out []diff.RuleInfo
	if k == kind.GraphQL {
		for _, r := range graphql.Catalogue() {
			out = append(out, diff.RuleInfo{ID: r.ID, Level: r.Level, Summary: r.Explanation})
		}
		return out, graphql.RuleSet
	}
	for _, r := range postman.Catalogue() {
		out = append(out, diff.RuleInfo{ID: r.ID, Level: r.Level, Summary: r.Explanation})
	}
	return out, postman.RuleSet
}

// LoadRules reads a rules file; the default rules when file is empty.
func LoadRules(file string) (*diff.Rules, error) {
	if file == "" {
		return diff.DefaultRules(), nil
	}
	r, err := diff.LoadRules(file)
	if err != nil {
		return nil, &ExitError{Code: 2, Err: err}
	}
	return r, nil
}

// OrDash is s, or "-" when empty (table cells).
func OrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// fsRoot is the root of the file system path is on ("/", or its volume's).
func fsRoot(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return filepath.VolumeName(path) + string(filepath.Separator)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
