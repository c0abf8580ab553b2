package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/spf13/pflag"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/apilivesync/apilivesync/activities"
	"github.com/apilivesync/apilivesync/internal/source"
	"github.com/apilivesync/apilivesync/workflows/syncjob"
)

// peopleCommands answer a SyncJob that waits for a person: approve or
// reject a held breaking change, list and decide open merge conflicts.
var peopleCommands = []command{
	{"approve", "JOB [--by NAME] [--comment C] [--json]", "let a held breaking change through", approvalCmd(syncjob.UpdateApprove)},
	{"reject", "JOB [--by NAME] [--comment C] [--json]", "refuse a held breaking change: the last version stays current", approvalCmd(syncjob.UpdateReject)},
	{"conflicts", "API|JOB [--json]", "list the open merge conflicts of the API's waiting syncs (or one job's), with their base, local and remote values", (*Starter).cmdConflicts},
	{"resolve", "API|JOB (--pointer P --choice remote|local|base|value [--value JSON] | --all remote|local | -f FILE | --ai) [--by NAME] [--json]",
		"decide open merge conflicts of a waiting sync, or hand them back to the model (--ai)", (*Starter).cmdResolve},
}

// OpenConflict is one row of `starter conflicts`: an open merge conflict of
// a waiting SyncJob, with its values. An absent value (the location does
// not exist on that side) is left out; a JSON null is null.
type OpenConflict struct {
	Job     string `json:"job"`
	API     string `json:"api"`
	ID      string `json:"id"`
	Pointer string `json:"pointer"`
	// Location is where people read it, when the pointer is not (a GraphQL
	// schema coordinate, a Postman request path).
	Location string          `json:"location,omitempty"`
	Kind     string          `json:"kind"`
	Base     json.RawMessage `json:"base,omitempty"`
	Local    json.RawMessage `json:"local,omitempty"`
	Remote   json.RawMessage `json:"remote,omitempty"`
	// Deadline is when the job stops waiting; OnTimeout says what it does then.
	Deadline  time.Time `json:"deadline"`
	OnTimeout string    `json:"onTimeout"`
}

// sendUpdate sends a SyncJob update, waits for its outcome and decodes it
// into out. Errors name the job and carry the workflow's own words (its
// validator's or handler's message).
func sendUpdate(ctx context.Context, c client.Client, job, name string, arg, out any) error {
	wid := syncjob.SyncWorkflowID(job)
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: wid, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, out)
	}
	if err == nil {
		return nil
	}
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return &ExitError{Code: 1, Err: fmt.Errorf("%s: no running sync job %q (workflow %s): %s", name, job, wid, nf.Message)}
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return &ExitError{Code: 1, Err: fmt.Errorf("%s job %q: %s", name, job, appErr.Message())}
	}
	return fmt.Errorf("%s job %q: %w", name, job, err)
}

func approvalCmd(update string) func(*Starter, *pflag.FlagSet, *globals) runFunc {
	return func(s *Starter, fs *pflag.FlagSet, g *globals) runFunc {
		var in syncjob.ApprovalInput
		fs.StringVar(&in.By, "by", "", "who decides (default $USER)")
		fs.StringVar(&in.Comment, "comment", "", "why, for the job's log")
		return func(ctx context.Context, args []string) error {
			pos := args
			if len(pos) != 1 {
				return &ExitError{Code: 2, Err: fmt.Errorf("%s: give the job ID", update)}
			}
			if in.By == "" {
				in.By = s.getenv("USER")
			}
			c, err := s.dial(ctx, g)
			if err != nil {
				return err
			}
			defer c.Close()
			var res syncjob.ApprovalResult
			if err := sendUpdate(ctx, c, pos[0], update, in, &res); err != nil {
				return err
			}
			if g.json {
				return s.printJSON(map[string]any{"id": pos[0], "workflowId": syncjob.SyncWorkflowID(pos[0]), "decision": res.Decision})
			}
			fmt.Fprintf(s.Stdout, "job %s: breaking change %s; follow it with: starter status %s\n", pos[0], res.Decision, pos[0])
			return nil
		}
	}
}

// waitingJobs returns the status of every running SyncJob of api that
// waits for conflict decisions.
func waitingJobs(ctx context.Context, c client.Client, api string) ([]*syncjob.Status, error) {
	var out []*syncjob.Status
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query:         fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = 'Running'", syncjob.SyncJobWorkflowName),
			NextPageToken: token,
		})
		if err != nil {
			return nil, fmt.Errorf("list running sync jobs: %w", err)
		}
		for _, e := range resp.Executions {
			st, err := syncjob.GetStatus(ctx, c, e.GetExecution().GetWorkflowId(), e.GetExecution().GetRunId())
			if err != nil {
				// It ended between the listing and the query: it waits for nobody.
				continue
			}
			if st.API == api && st.Waiting != nil && st.Waiting.Kind == syncjob.WaitConflicts {
				out = append(out, st)
			}
		}
		token = resp.NextPageToken
		if len(token) == 0 {
			return out, nil
		}
	}
}

func (s *Starter) cmdConflicts(fs *pflag.FlagSet, g *globals) runFunc {
	return func(ctx context.Context, args []string) error {
		pos := args
		if len(pos) != 1 {
			return &ExitError{Code: 2, Err: errors.New("conflicts: give the API or the job")}
		}
		api := pos[0]
		if err := source.ValidID("api or job", api); err != nil {
			return &ExitError{Code: 2, Err: err}
		}
		c, err := s.dial(ctx, g)
		if err != nil {
			return err
		}
		defer c.Close()
		jobs, err := waitingFor(ctx, c, api)
		if err != nil {
			return err
		}
		if len(jobs) == 1 {
			api = jobs[0].API
		}
		if len(jobs) > 1 && !g.json {
			fmt.Fprintf(s.Stdout, "api %s has %d syncs waiting for conflict decisions: %s\n\n", api, len(jobs), jobList(jobs))
		}
		rows := []OpenConflict{}
		if len(jobs) > 0 {
			st, err := s.openStore(ctx, g)
			if err != nil {
				return err
			}
			defer st.Close()
			for _, j := range jobs {
				w := j.Waiting
				stored, err := activities.LoadConflicts(ctx, st, w.ConflictsHash)
				if err != nil {
					return fmt.Errorf("conflicts of job %q (api %q): read %s from the store: %w", j.ID, j.API, w.ConflictsHash, err)
				}
				open := map[string]bool{}
				for _, oc := range w.Conflicts {
					open[oc.Pointer] = true
				}
				// The status carries at most MaxConflictsInHistory conflicts; past
				// that, every conflict of the merge is shown.
				all := len(w.Conflicts) >= activities.MaxConflictsInHistory
				for _, mc := range stored {
					if !all && !open[mc.Pointer] {
						continue // decided by the strategy already
					}
					rows = append(rows, OpenConflict{Job: j.ID, API: j.API, ID: mc.ID, Pointer: mc.Pointer, Location: mc.Location, Kind: mc.Kind,
						Base: mc.Base, Local: mc.Local, Remote: mc.Remote, Deadline: w.Deadline, OnTimeout: w.OnTimeout})
				}
			}
		}
		if g.json {
			return s.printJSON(rows)
		}
		if len(rows) == 0 {
			fmt.Fprintf(s.Stdout, "api %s has no open conflicts\n", api)
			return nil
		}
		tw := tabwriter.NewWriter(s.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "JOB\tPOINTER\tKIND\tBASE\tLOCAL\tREMOTE")
		for _, r := range rows {
			where := r.Pointer
			if r.Location != "" && r.Location != r.Pointer {
				where += " (" + r.Location + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Job, where, r.Kind, showValue(r.Base), showValue(r.Local), showValue(r.Remote))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, j := range jobs {
			fmt.Fprintf(s.Stdout, "\njob %s waits until %s (then: %s). Decide with:\n  starter resolve %s --pointer POINTER --choice remote|local|base|value [--value JSON]\n  starter resolve %s --all remote|local\n  starter resolve %s --ai   (ask the model again)\n",
				j.ID, j.Waiting.Deadline.Local().Format(time.DateTime), j.Waiting.OnTimeout, j.ID, j.ID, j.ID)
		}
		return nil
	}
}

// waitingFor returns the waiting status of the job named arg when it waits
// for conflict decisions, else that of every sync of the API named arg
// that does.
func waitingFor(ctx context.Context, c client.Client, arg string) ([]*syncjob.Status, error) {
	st, err := syncjob.GetStatus(ctx, c, syncjob.SyncWorkflowID(arg), "")
	if err == nil && st.Waiting != nil && st.Waiting.Kind == syncjob.WaitConflicts {
		return []*syncjob.Status{st}, nil
	}
	return waitingJobs(ctx, c, arg)
}

// waitingJob is the job that arg names (a job, or an API with exactly one
// sync waiting for conflict decisions). Several waiting syncs of an API
// are listed, for the user to pick one.
func waitingJob(ctx context.Context, c client.Client, arg string) (string, error) {
	jobs, err := waitingFor(ctx, c, arg)
	if err != nil {
		return "", err
	}
	switch len(jobs) {
	case 1:
		return jobs[0].ID, nil
	case 0:
		// Not waiting: a job's own update says why (or that there is none).
		return arg, nil
	}
	return "", &ExitError{Code: 1, Err: fmt.Errorf("resolve: api %s has %d syncs waiting for conflict decisions: %s; give the job: starter resolve JOB …",
		arg, len(jobs), jobList(jobs))}
}

// jobList names waiting jobs, with their source and since when they wait.
func jobList(jobs []*syncjob.Status) string {
	parts := make([]string, 0, len(jobs))
	for _, j := range jobs {
		parts = append(parts, fmt.Sprintf("%s (source %s, %d conflict(s), since %s)", j.ID, j.SourceID,
			max(j.Waiting.ConflictCount, len(j.Waiting.Conflicts)), j.Waiting.Since.Local().Format(time.DateTime)))
	}
	return strings.Join(parts, ", ")
}

// maxShownValue bounds a value in the conflicts table.
const maxShownValue = 40

// showValue is a conflict value on one line, truncated; "(absent)" when the
// location does not exist on that side.
func showValue(v json.RawMessage) string {
	if v == nil {
		return "(absent)"
	}
	s := strings.Join(strings.Fields(string(v)), " ")
	if r := []rune(s); len(r) > maxShownValue {
		s = string(r[:maxShownValue-1]) + "…"
	}
	return s
}

func (s *Starter) cmdResolve(fs *pflag.FlagSet, g *globals) runFunc {
	var pointer, choice, value, all, file, by string
	var toAI bool
	fs.StringVar(&pointer, "pointer", "", "the conflict's JSON pointer (as `starter conflicts` lists it)")
	fs.StringVar(&choice, "choice", "", "remote, local, base or value")
	fs.StringVar(&value, "value", "", "the JSON value to put there, with --choice value")
	fs.StringVar(&all, "all", "", "decide every open conflict: remote or local")
	fs.StringVar(&file, "f", "", "a JSON file with a list of {\"pointer\", \"choice\", \"value\"}")
	fs.BoolVar(&toAI, "ai", false, "hand the open conflicts back to the model (the job asks it again, durably; choices already given stand)")
	fs.StringVar(&by, "by", "", "who decides (default $USER)")
	return func(ctx context.Context, args []string) error {
		pos := args
		if len(pos) != 1 {
			return &ExitError{Code: 2, Err: errors.New("resolve: give the API or the job")}
		}
		if err := source.ValidID("api or job", pos[0]); err != nil {
			return &ExitError{Code: 2, Err: err}
		}
		modes := 0
		for _, set := range []bool{pointer != "" || choice != "", all != "", file != "", toAI} {
			if set {
				modes++
			}
		}
		if modes != 1 {
			return &ExitError{Code: 2, Err: errors.New("resolve: give one of --pointer P --choice C, --all remote|local, -f FILE, or --ai")}
		}
		if value != "" && pointer == "" {
			return &ExitError{Code: 2, Err: errors.New("resolve: --value goes with --pointer and --choice value")}
		}
		if by == "" {
			by = s.getenv("USER")
		}
		var rs []activities.Resolution
		var err error
		switch {
		case file != "":
			if rs, err = readResolutions(file); err != nil {
				return &ExitError{Code: 2, Err: err}
			}
		case pointer != "" || choice != "":
			if pointer == "" || choice == "" {
				return &ExitError{Code: 2, Err: errors.New("resolve: --pointer and --choice go together")}
			}
			r := activities.Resolution{Pointer: pointer, Choice: choice}
			switch {
			case value != "" && choice != "value":
				return &ExitError{Code: 2, Err: fmt.Errorf("resolve: --value goes with --choice value, not %q", choice)}
			case value != "":
				if !json.Valid([]byte(value)) {
					return &ExitError{Code: 2, Err: fmt.Errorf("resolve: --value %q is not valid JSON (a string needs quotes: '\"text\"')", value)}
				}
				r.Value = json.RawMessage(value)
			}
			rs = []activities.Resolution{r}
		}
		if all != "" && all != "remote" && all != "local" {
			return &ExitError{Code: 2, Err: fmt.Errorf("resolve: --all %q: want remote or local", all)}
		}
		c, err := s.dial(ctx, g)
		if err != nil {
			return err
		}
		defer c.Close()
		job, err := waitingJob(ctx, c, pos[0])
		if err != nil {
			return err
		}
		if all != "" {
			if rs, err = s.resolveAll(ctx, c, g, job, all); err != nil {
				return err
			}
		}
		var res syncjob.ResolveResult
		if err := sendUpdate(ctx, c, job, syncjob.UpdateResolve, syncjob.ResolveInput{Resolutions: rs, By: by, AI: toAI}, &res); err != nil {
			return err
		}
		if g.json {
			return s.printJSON(res)
		}
		if res.HandedToAI {
			fmt.Fprintf(s.Stdout, "job %s: %d open conflict(s) handed back to the model; follow it with: starter status %s\n", job, res.Remaining, job)
			return nil
		}
		if res.Applied {
			fmt.Fprintf(s.Stdout, "job %s: %d decision(s) taken; every conflict is decided and applied (%s); the job stores the version next\n",
				job, len(rs), res.MergedHash)
			return nil
		}
		fmt.Fprintf(s.Stdout, "job %s: %d decision(s) taken; %d conflict(s) remain (starter conflicts API)\n", job, len(rs), res.Remaining)
		return nil
	}
}

// resolveAll makes a resolution with choice for every open conflict of job.
func (s *Starter) resolveAll(ctx context.Context, c client.Client, g *globals, job, choice string) ([]activities.Resolution, error) {
	st, err := syncjob.GetStatus(ctx, c, syncjob.SyncWorkflowID(job), "")
	if err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return nil, &ExitError{Code: 1, Err: fmt.Errorf("resolve: no sync job %q (workflow %s)", job, syncjob.SyncWorkflowID(job))}
		}
		return nil, fmt.Errorf("resolve: status of job %q: %w", job, err)
	}
	w := st.Waiting
	if w == nil || w.Kind != syncjob.WaitConflicts {
		return nil, &ExitError{Code: 1, Err: fmt.Errorf("resolve job %q: this job has no open conflicts (status %s)", job, st.Status)}
	}
	pointers := make([]string, 0, len(w.Conflicts))
	for _, oc := range w.Conflicts {
		pointers = append(pointers, oc.Pointer)
	}
	if len(w.Conflicts) >= activities.MaxConflictsInHistory {
		// The status lists only the first ones: take every conflict from the store.
		store, err := s.openStore(ctx, g)
		if err != nil {
			return nil, err
		}
		defer store.Close()
		stored, err := activities.LoadConflicts(ctx, store, w.ConflictsHash)
		if err != nil {
			return nil, fmt.Errorf("resolve job %q: read its conflicts %s from the store: %w", job, w.ConflictsHash, err)
		}
		pointers = pointers[:0]
		for _, mc := range stored {
			pointers = append(pointers, mc.Pointer)
		}
	}
	rs := make([]activities.Resolution, 0, len(pointers))
	for _, p := range pointers {
		rs = append(rs, activities.Resolution{Pointer: p, Choice: choice})
	}
	return rs, nil
}

// readResolutions reads a JSON list of resolutions ({pointer, choice,
// value, reason}); unknown fields are refused, to catch typos.
func readResolutions(file string) ([]activities.Resolution, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("resolve: %w", err)
	}
	var items []struct {
		Pointer string          `json:"pointer"`
		Choice  string          `json:"choice"`
		Value   json.RawMessage `json:"value,omitempty"`
		Reason  string          `json:"reason,omitempty"`
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&items); err != nil {
		return nil, fmt.Errorf("resolve: %s: want a JSON list of {\"pointer\", \"choice\", \"value\"}: %w", file, err)
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("resolve: %s holds no resolutions", file)
	}
	rs := make([]activities.Resolution, 0, len(items))
	for _, it := range items {
		rs = append(rs, activities.Resolution{Pointer: it.Pointer, Choice: it.Choice, Value: it.Value, Reason: it.Reason})
	}
	return rs, nil
}
