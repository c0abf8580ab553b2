package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/apilivesync/apilivesync/activities"
	"github.com/apilivesync/apilivesync/internal/cli/offline"
	"github.com/apilivesync/apilivesync/internal/diff"
	"github.com/apilivesync/apilivesync/internal/kind"
	"github.com/apilivesync/apilivesync/internal/spec"
	"github.com/apilivesync/apilivesync/internal/store"
)

// rulesCommands list the breaking-change rules and re-judge history with them.
var rulesCommands = []command{
	{"rejudge", "API [--rules FILE] [--json]", "re-judge every stored version's changes under the current (or given) rules; versions stay as they are", (*Starter).cmdRejudge},
}

// Rejudged is one version's verdict under the old and the new rules.
type Rejudged struct {
	Version     int    `json:"version"`
	Parent      int    `json:"parent"`
	OldRuleSet  string `json:"oldRuleSet,omitempty"`
	OldBreaking int    `json:"oldBreaking"`
	Changes     int    `json:"changes"`
	Breaking    int    `json:"breaking"`
	Warnings    int    `json:"warnings"`
	ReportHash  string `json:"reportHash"`
	// Changed is true when the verdict (breaking or not) differs.
	Changed bool `json:"changed"`
}

// RejudgeResult is what `starter rejudge --json` prints; it is also kept in
// the store (rejudge/<api>/<rule set>.json) beside the versions' own reports.
type RejudgeResult struct {
	API      string     `json:"api"`
	RuleSet  string     `json:"ruleSet"`
	Versions []Rejudged `json:"versions"`
	Changed  int        `json:"changed"`
}

func (s *Starter) cmdRejudge(fs *pflag.FlagSet, g *globals) runFunc {
	rulesFile := fs.String("rules", "", "rules YAML file to judge with (default: the built-in rules)")
	return func(ctx context.Context, args []string) error {
		pos, err := offline.Positional(fs, args, 1, "the API")
		if err != nil {
			return err
		}
		rules, err := offline.LoadRules(*rulesFile)
		if err != nil {
			return err
		}
		st, err := s.openStore(ctx, g)
		if err != nil {
			return err
		}
		defer st.Close()
		res, err := Rejudge(ctx, st, pos[0], rules)
		if err != nil {
			return err
		}
		if g.json {
			return s.printJSON(res)
		}
		fmt.Fprintf(s.Stdout, "%s: %d versions re-judged under %s; %d changed verdict\n", res.API, len(res.Versions), res.RuleSet, res.Changed)
		tw := tabwriter.NewWriter(s.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "VERSION\tWAS\tNOW\tCHANGES\tWARNINGS\t")
		for _, v := range res.Versions {
			mark := ""
			if v.Changed {
				mark = "verdict changed"
			}
			fmt.Fprintf(tw, "%d\t%d breaking (%s)\t%d breaking\t%d\t%d\t%s\n", v.Version, v.OldBreaking, offline.OrDash(v.OldRuleSet), v.Breaking, v.Changes, v.Warnings, mark)
		}
		return tw.Flush()
	}
}

// Rejudge compares each version of api with its parent under rules, stores
// the new reports (content-addressed, beside the old ones) and an index of
// them, and says which verdicts changed. The versions are not touched.
func Rejudge(ctx context.Context, st *store.Store, api string, rules *diff.Rules) (*RejudgeResult, error) {
	versions, err := st.Versions(ctx, api)
	if err != nil {
		return nil, err
	}
	if len(versions) == 0 {
		return nil, fmt.Errorf("rejudge: no API %q in the store", api)
	}
	byNumber := map[int]store.Version{}
	for _, v := range versions {
		byNumber[v.Number] = v
	}
	res := &RejudgeResult{API: api, RuleSet: rules.ID(), Versions: []Rejudged{}}
	for _, v := range versions {
		parent, ok := byNumber[v.Parent]
		if v.Parent == 0 || !ok {
			continue // the first version has nothing to be judged against
		}
		rep, err := judge(ctx, st, parent.Hash, v.Hash, rules)
		if err != nil {
			return nil, fmt.Errorf("rejudge %s@%d: %w", api, v.Number, err)
		}
		h, err := st.PutJSON(ctx, rep)
		if err != nil {
			return nil, err
		}
		r := Rejudged{Version: v.Number, Parent: v.Parent, OldRuleSet: v.RuleSet, OldBreaking: v.Breaking,
			Changes: rep.Total, Breaking: rep.Breaking, Warnings: rep.Warnings, ReportHash: h,
			Changed: (v.Breaking > 0) != (rep.Breaking > 0)}
		if r.Changed {
			res.Changed++
		}
		res.Versions = append(res.Versions, r)
	}
	key := "rejudge/" + api + "/" + strings.NewReplacer("/", "_", ":", "_").Replace(rules.ID()) + ".json"
	if err := st.PutKey(ctx, key, res); err != nil {
		return nil, err
	}
	return res, nil
}

// judge diffs two stored documents of any kind under rules (OpenAPI; nil:
// the default rules) or the kind's own rules (GraphQL, Postman): rejudge,
// and the report of a version people commit (push, rollback, undo).
func judge(ctx context.Context, st *store.Store, oldHash, newHash string, rules *diff.Rules) (*diff.Report, error) {
	var data [2][]byte
	for i, h := range []string{oldHash, newHash} {
		b, err := st.GetBlob(ctx, h)
		if err != nil {
			return nil, err
		}
		data[i] = b
	}
	if kind.StoredKind(data[0]) != kind.OpenAPI || kind.StoredKind(data[1]) != kind.OpenAPI {
		return kind.Diff("", data[0], data[1]) // both of one kind, or an error saying not
	}
	var docs [2]*spec.Document
	for i := range data {
		d, err := activities.StoredDocument(ctx, st, []string{oldHash, newHash}[i], data[i], spec.Options{SkipCanonical: true})
		if err != nil {
			return nil, err
		}
		docs[i] = d
	}
	return diff.Compare(docs[0], docs[1], rules)
}
