package cli

import (
	"context"
	"github.com/spf13/pflag"

	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/apilivesync/apilivesync/activities"
	"github.com/apilivesync/apilivesync/internal/cli/offline"
	"github.com/apilivesync/apilivesync/internal/diff"
	"github.com/apilivesync/apilivesync/internal/kind"
	"github.com/apilivesync/apilivesync/internal/source"
	"github.com/apilivesync/apilivesync/internal/spec"
	"github.com/apilivesync/apilivesync/internal/store"
)

// storeCommands read and write the version store directly (history, diff,
// pull, …); they need no Temporal server.
var storeCommands = []command{
	{"history", "API [--json]", "every version of an API", (*Starter).cmdHistory},
	{"show", "API@VERSION [--json] [--spec]", "one version: who made it, and what changed", (*Starter).cmdShow},
	{"rollback", "API@VERSION [--message M]", "make a new version equal to an old one (history is never rewritten)", (*Starter).cmdRollback},
	{"undo", "API", "undo the last sync, push, rollback or undo: its parent's document as a new version (again: the action before)", (*Starter).cmdUndo},
	{"pull", "API [-o FILE] [--format json|yaml]", "write the API's current canonical spec", (*Starter).cmdPull},
	{"push", "API FILE [--message M]", "store an edited spec as a local version (validated; the diff is shown)", (*Starter).cmdPush},
}

func (s *Starter) openStore(ctx context.Context, g *globals) (*store.Store, error) {
	explicit := g.store
	if explicit == "" {
		explicit = s.getenv(store.URLEnv)
	}
	u, err := store.URLFor(g.data, explicit)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(u, "file://") {
		dir := strings.TrimPrefix(u, "file://")
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("no store at %s: run the worker first (go run ./worker -dev), or pass --data/--store", dir)
		}
	}
	return store.Open(ctx, u)
}

// versionRef parses API@VERSION (VERSION: a number, "latest" or "head",
// or a negative offset like -1 for the one before the head).
func versionRef(ref string) (api string, n int, err error) {
	api, v, ok := strings.Cut(ref, "@")
	if !ok || api == "" || v == "" {
		return "", 0, fmt.Errorf("%q: want API@VERSION, e.g. payments@3 or payments@latest", ref)
	}
	if err := source.ValidID("api", api); err != nil {
		return "", 0, err
	}
	switch v {
	case "latest", "head", "current":
		return api, 0, nil
	}
	n, err = strconv.Atoi(v)
	if err != nil {
		return "", 0, fmt.Errorf("%q: version %q is not a number, latest, or a negative offset", ref, v)
	}
	return api, n, nil
}

// loadVersion resolves API@VERSION to a stored version.
func loadVersion(ctx context.Context, st *store.Store, ref string) (*store.Version, error) {
	api, n, err := versionRef(ref)
	if err != nil {
		return nil, err
	}
	head, err := st.Head(ctx, api)
	if err != nil {
		return nil, err
	}
	if head == nil {
		return nil, fmt.Errorf("api %q has no versions in the store", api)
	}
	switch {
	case n == 0:
		return head, nil
	case n < 0:
		n = head.Number + n
	}
	v, err := st.Version(ctx, api, n)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("api %q has no version %d (versions 1 to %d)", api, n, head.Number)
	}
	return v, err
}

// loadStored reads an API@VERSION argument for the offline commands. An
// OpenAPI document is parsed from the bytes it was stored from (the store
// is open then), so its lines agree with `show` and with the file people
// pushed.
func (s *Starter) loadStored(ctx context.Context, g *globals, ref string, strict bool) (offline.Arg, error) {
	st, err := s.openStore(ctx, g)
	if err != nil {
		return offline.Arg{}, err
	}
	defer st.Close()
	v, err := loadVersion(ctx, st, ref)
	if err != nil {
		return offline.Arg{}, err
	}
	data, err := st.GetBlob(ctx, v.Hash)
	if err != nil {
		return offline.Arg{}, err
	}
	a := offline.Arg{Name: fmt.Sprintf("%s@%d", v.API, v.Number), Data: data}
	if kind.StoredKind(data) == kind.OpenAPI {
		a.Kind = kind.OpenAPI
		if a.Doc, err = activities.StoredDocument(ctx, st, v.Hash, data, spec.Options{SkipCanonical: true, Strict: strict}); err != nil {
			return offline.Arg{}, err
		}
	}
	return a, nil
}

func (s *Starter) cmdHistory(fs *pflag.FlagSet, g *globals) runFunc {
	return func(ctx context.Context, args []string) error {
		pos, err := offline.Positional(fs, args, 1, "the API")
		if err != nil {
			return err
		}
		st, err := s.openStore(ctx, g)
		if err != nil {
			return err
		}
		defer st.Close()
		vs, err := st.Versions(ctx, pos[0])
		if err != nil {
			return err
		}
		if len(vs) == 0 {
			return fmt.Errorf("api %q has no versions in the store", pos[0])
		}
		if g.json {
			return s.printJSON(vs)
		}
		tw := tabwriter.NewWriter(s.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "VERSION\tTIME\tORIGIN\tSOURCE\tCHANGES\tBREAKING\tHASH\tNOTE")
		for i := len(vs) - 1; i >= 0; i-- {
			v := vs[i]
			note := v.Message
			if v.RestoredFrom > 0 {
				note = strings.TrimSpace(fmt.Sprintf("restores %d %s", v.RestoredFrom, note))
			}
			if len(v.Decisions) > 0 {
				note = strings.TrimSpace(fmt.Sprintf("%d conflict(s) decided %s", len(v.Decisions), note))
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", v.Number, v.CreatedAt.Local().Format("2006-01-02 15:04:05"), v.Origin,
				v.SourceID, v.Changes, v.Breaking, shortHash(v.Hash), note)
		}
		return tw.Flush()
	}
}

func shortHash(h string) string {
	h = strings.TrimPrefix(h, "sha256:")
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func (s *Starter) cmdShow(fs *pflag.FlagSet, g *globals) runFunc {
	printSpec := fs.Bool("spec", false, "print the version's spec document instead")
	return func(ctx context.Context, args []string) error {
		pos, err := offline.Positional(fs, args, 1, "API@VERSION")
		if err != nil {
			return err
		}
		st, err := s.openStore(ctx, g)
		if err != nil {
			return err
		}
		defer st.Close()
		v, err := loadVersion(ctx, st, pos[0])
		if err != nil {
			return err
		}
		if *printSpec {
			data, err := st.GetBlob(ctx, v.Hash)
			if err != nil {
				return err
			}
			_, err = s.Stdout.Write(data)
			return err
		}
		var rep *diff.Report
		if v.ReportHash != "" {
			rep = &diff.Report{}
			if err := st.GetJSON(ctx, v.ReportHash, rep); err != nil {
				return err
			}
		}
		if g.json {
			return s.printJSON(struct {
				*store.Version
				Report *diff.Report `json:"report,omitempty"`
			}{v, rep})
		}
		tw := tabwriter.NewWriter(s.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "api\t%s\nversion\t%d (parent %d)\nhash\t%s\ntime\t%s\norigin\t%s\n", v.API, v.Number, v.Parent, v.Hash,
			v.CreatedAt.Local().Format(time.RFC3339), v.Origin)
		if v.SourceID != "" {
			fmt.Fprintf(tw, "source\t%s\n", v.SourceID)
		}
		if v.Undoes > 0 {
			fmt.Fprintf(tw, "undoes\tversion %d\n", v.Undoes)
		}
		if v.RestoredFrom > 0 {
			fmt.Fprintf(tw, "restores\tversion %d\n", v.RestoredFrom)
		}
		if v.Message != "" {
			fmt.Fprintf(tw, "message\t%s\n", v.Message)
		}
		c := v.Counts
		fmt.Fprintf(tw, "spec\t%s %s %q %s: %d paths, %d operations, %d schemas\n", c.Family, c.Version, c.Title, c.APIVersion, c.Paths, c.Operations, c.Schemas)
		for _, w := range c.Warnings {
			fmt.Fprintf(tw, "warning\t%s\n", w)
		}
		fmt.Fprintf(tw, "changes\t%d (%d breaking) under rules %s\n", v.Changes, v.Breaking, offline.OrDash(v.RuleSet))
		_ = tw.Flush()
		for _, d := range v.Decisions {
			fmt.Fprintf(s.Stdout, "  conflict %s: %s (%s) %s\n", d.Pointer, d.Choice, d.Strategy, d.Reason)
		}
		if rep != nil && len(rep.Changes) > 0 {
			fmt.Fprintln(s.Stdout)
			return rep.Write(s.Stdout, "text")
		}
		return nil
	}
}

// commitCopy stores the document hash as the API's next version, on the
// current head.
func commitCopy(ctx context.Context, st *store.Store, api string, hash string, v store.Version) (*store.Version, error) {
	return commitOnHead(ctx, st, api, func(*store.Version) (store.Version, string, error) { return v, hash, nil })
}

// commitOnHead stores the version plan makes on the API's current head
// (plan returns the record and its document's hash). When a sync stores a
// version meanwhile, it plans again on the new head.
func commitOnHead(ctx context.Context, st *store.Store, api string, plan func(head *store.Version) (store.Version, string, error)) (*store.Version, error) {
	for range 5 {
		head, err := st.Head(ctx, api)
		if err != nil {
			return nil, err
		}
		v, hash, err := plan(head)
		if err != nil {
			return nil, err
		}
		v.API, v.Hash = api, hash
		if head != nil && head.Hash == hash {
			return nil, fmt.Errorf("api %q: version %d already has this document; nothing to do", api, head.Number)
		}
		out, _, err := activities.CommitVersion(ctx, st, head, v, func(ctx context.Context, oldHash, newHash string) (*diff.Report, error) {
			rep, err := judge(ctx, st, oldHash, newHash, nil)
			if err != nil {
				return nil, nil // a person's version is kept even when it cannot be compared
			}
			return rep, nil
		})
		var moved *store.HeadMovedError
		if errors.As(err, &moved) {
			continue // a sync stored a version meanwhile: go again on the new head
		}
		return out, err
	}
	return nil, fmt.Errorf("api %q: the head kept moving; try again", api)
}

func (s *Starter) cmdRollback(fs *pflag.FlagSet, g *globals) runFunc {
	msg := fs.String("message", "", "why")
	return func(ctx context.Context, args []string) error {
		pos, err := offline.Positional(fs, args, 1, "API@VERSION")
		if err != nil {
			return err
		}
		st, err := s.openStore(ctx, g)
		if err != nil {
			return err
		}
		defer st.Close()
		old, err := loadVersion(ctx, st, pos[0])
		if err != nil {
			return err
		}
		v, err := commitCopy(ctx, st, old.API, old.Hash, store.Version{Origin: store.OriginRollback, RestoredFrom: old.Number, Counts: old.Counts, Message: *msg})
		if err != nil {
			return err
		}
		return s.reportCommit(g, v, fmt.Sprintf("rolled back to version %d", old.Number))
	}
}

func (s *Starter) reportCommit(g *globals, v *store.Version, what string) error {
	if g.json {
		return s.printJSON(v)
	}
	fmt.Fprintf(s.Stdout, "api %s: %s as version %d (%d changes, %d breaking)\n", v.API, what, v.Number, v.Changes, v.Breaking)
	return nil
}

func (s *Starter) cmdUndo(fs *pflag.FlagSet, g *globals) runFunc {
	return func(ctx context.Context, args []string) error {
		pos, err := offline.Positional(fs, args, 1, "the API")
		if err != nil {
			return err
		}
		api := pos[0]
		if err := source.ValidID("api", api); err != nil {
			return err
		}
		st, err := s.openStore(ctx, g)
		if err != nil {
			return err
		}
		defer st.Close()
		var undone, prev *store.Version
		v, err := commitOnHead(ctx, st, api, func(head *store.Version) (store.Version, string, error) {
			var err error
			if undone, err = UndoTarget(ctx, st, api, head); err != nil {
				return store.Version{}, "", err
			}
			if prev, err = st.Version(ctx, api, undone.Parent); err != nil {
				return store.Version{}, "", err
			}
			what := undone.Origin
			if undone.SourceID != "" {
				what += " from " + undone.SourceID
			}
			return store.Version{Origin: store.OriginUndo, RestoredFrom: prev.Number, Undoes: undone.Number, Counts: prev.Counts,
				Message: fmt.Sprintf("undo %s (version %d)", what, undone.Number)}, prev.Hash, nil
		})
		if err != nil {
			return err
		}
		return s.reportCommit(g, v, fmt.Sprintf("undid the %s that made version %d (back to version %d)", undone.Origin, undone.Number, prev.Number))
	}
}

// UndoTarget is the version an undo on head reverts: the last
// version-producing action (a sync, push, rollback or undo). Successive
// undos walk back: when head is itself an undo, the target is the action
// before the one it reverted. A version with no parent cannot be undone.
func UndoTarget(ctx context.Context, st *store.Store, api string, head *store.Version) (*store.Version, error) {
	if head == nil {
		return nil, fmt.Errorf("api %q has no versions in the store", api)
	}
	cur := head
	for cur.Origin == store.OriginUndo && cur.Undoes > 0 && cur.Parent > 0 {
		reverted, err := st.Version(ctx, api, cur.Undoes)
		if err != nil {
			return nil, err
		}
		if reverted.Parent == 0 {
			return nil, fmt.Errorf("api %q: nothing left to undo: version %d undid version %d, the first", api, cur.Number, reverted.Number)
		}
		if cur, err = st.Version(ctx, api, reverted.Parent); err != nil {
			return nil, err
		}
	}
	if cur.Parent == 0 {
		return nil, fmt.Errorf("api %q: version %d (%s) is the first version; there is nothing before it to go back to", api, cur.Number, cur.Origin)
	}
	return cur, nil
}

func (s *Starter) cmdPull(fs *pflag.FlagSet, g *globals) runFunc {
	out := fs.String("o", "", "write to this file instead of stdout")
	format := fs.String("format", "", "json or yaml (default: by the -o file's extension, else json)")
	return func(ctx context.Context, args []string) error {
		pos, err := offline.Positional(fs, args, 1, "the API (or API@VERSION)")
		if err != nil {
			return err
		}
		ref := pos[0]
		if !strings.Contains(ref, "@") {
			ref += "@latest"
		}
		st, err := s.openStore(ctx, g)
		if err != nil {
			return err
		}
		defer st.Close()
		v, err := loadVersion(ctx, st, ref)
		if err != nil {
			return err
		}
		data, err := st.GetBlob(ctx, v.Hash)
		if err != nil {
			return err
		}
		if *format == "" && (strings.HasSuffix(*out, ".yaml") || strings.HasSuffix(*out, ".yml")) {
			*format = "yaml"
		}
		if k, _ := kind.Detect(data); k == kind.OpenAPI {
			// Keys in the order people write them (openapi, info, paths, …),
			// not the stored form's alphabetical order.
			if data, err = spec.Conventional(data, *format == "yaml"); err != nil {
				return err
			}
		} else if *format == "yaml" {
			if data, err = jsonToYAML(data); err != nil {
				return err
			}
		}
		if *out == "" {
			_, err = s.Stdout.Write(data)
			return err
		}
		if err := os.WriteFile(*out, data, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(s.Stderr, "wrote %s version %d to %s\n", v.API, v.Number, *out)
		return nil
	}
}

// jsonToYAML converts canonical JSON to YAML, keeping the key order.
func jsonToYAML(data []byte) ([]byte, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil, err
	}
	var clear func(*yaml.Node)
	clear = func(n *yaml.Node) {
		n.Style = 0
		for _, c := range n.Content {
			clear(c)
		}
	}
	clear(&n)
	return yaml.Marshal(&n)
}

func (s *Starter) cmdPush(fs *pflag.FlagSet, g *globals) runFunc {
	msg := fs.String("message", "", "what the edit does")
	return func(ctx context.Context, args []string) error {
		pos, err := offline.Positional(fs, args, 2, "the API and the FILE")
		if err != nil {
			return err
		}
		api, file := pos[0], pos[1]
		if err := source.ValidID("api", api); err != nil {
			return err
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("push: %w", err)
		}
		canonical, counts, err := parsePush(file, data)
		if err != nil {
			return fmt.Errorf("push: nothing stored: %w", err)
		}
		st, err := s.openStore(ctx, g)
		if err != nil {
			return err
		}
		defer st.Close()
		if head, err := st.Head(ctx, api); err != nil {
			return err
		} else if head != nil {
			cur, err := st.GetBlob(ctx, head.Hash)
			if err != nil {
				return err
			}
			if hk, k := kind.StoredKind(cur), kind.StoredKind(canonical); hk != k {
				return fmt.Errorf("push: nothing stored: %s is a %s document and api %q is %s", file, k, api, hk)
			}
		}
		h, err := st.PutBlob(ctx, canonical)
		if err != nil {
			return err
		}
		if kind.StoredKind(canonical) == kind.OpenAPI {
			// Reports on this version (below, `show`, later diffs) give
			// lines of this file, not of the canonical form.
			raw, err := st.PutBlob(ctx, data)
			if err != nil {
				return err
			}
			if err := activities.RecordLineSource(ctx, st, h, raw); err != nil {
				return err
			}
		}
		v, err := commitCopy(ctx, st, api, h, store.Version{Origin: store.OriginPush, Message: *msg, Counts: counts})
		if err != nil {
			return err
		}
		if g.json {
			return s.printJSON(v)
		}
		for _, w := range counts.Warnings {
			fmt.Fprintf(s.Stderr, "warning: %s: %s\n", file, w)
		}
		if v.ReportHash != "" {
			var rep diff.Report
			if err := st.GetJSON(ctx, v.ReportHash, &rep); err == nil {
				_ = rep.Write(s.Stdout, "text")
			}
		}
		return s.reportCommit(g, v, "stored your edit")
	}
}

// parsePush checks a pushed file of any kind and returns its canonical form.
func parsePush(file string, data []byte) ([]byte, store.Counts, error) {
	k, err := kind.SourceKind(data)
	if err != nil {
		return nil, store.Counts{}, fmt.Errorf("%s: %w", file, err)
	}
	if k != kind.OpenAPI {
		p, err := kind.Parse(k, file, data)
		if err != nil {
			return nil, store.Counts{}, err
		}
		return p.Canonical, store.Counts(kind.CountsOf(p)), nil
	}
	doc, err := spec.Parse(file, data, spec.Options{})
	if err == nil {
		_, err = doc.Model()
	}
	if err != nil {
		return nil, store.Counts{}, err
	}
	// Warnings (dangling references) are kept on the version, as a sync's are.
	return doc.Canonical, store.Counts(kind.SpecCounts(doc.Summary)), nil
}
