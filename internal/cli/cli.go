package cli

import (
	"context"
	"errors"
	"fmt"
	"github.com/apilivesync/apilivesync/activities"
	"github.com/apilivesync/apilivesync/internal/cli/offline"
	"github.com/apilivesync/apilivesync/internal/dial"
	"github.com/apilivesync/apilivesync/internal/store"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/apilivesync/apilivesync/internal/source"
	"github.com/apilivesync/apilivesync/workflows/syncjob"
)

// ExitError carries a process exit code (e.g. 1 for a breaking change found).
type ExitError = offline.ExitError

// Starter runs the starter program's commands.
type Starter struct {
	Stdout, Stderr io.Writer
	// Dial connects to Temporal; DialClient when nil.
	Dial func(ctx context.Context, address, namespace string) (client.Client, error)
	// Getenv reads the environment; os.Getenv when nil.
	Getenv func(string) string
}

type command struct {
	name, args, help string
	build            func(s *Starter, fs *pflag.FlagSet, g *globals) runFunc
}

// commandGroup is a command made of subcommands, each with its own flags
// and help: `engine status`, `engine add --source …`.
type commandGroup struct {
	name, help string
	// def is the subcommand that runs when none is named.
	def  string
	subs []command
}

// runFunc runs a command with its positional arguments, its flags parsed.
type runFunc = offline.RunFunc

var (
	commands []command
	groups   []commandGroup
)

func init() {
	commands = []command{
		{"sync", "--source URL|FILE [--id ID] [--api API] [--wait] [--json]", "start, or attach to, the SyncJob of a source", (*Starter).cmdSync},
		{"status", "[ID] [--json]", "show a job's status, or every job's", (*Starter).cmdStatus},
		{"pause", "ID", "hold a job before its next step", signalCmd(syncjob.SignalPause, "paused")},
		{"resume", "ID", "let a paused job go on", signalCmd(syncjob.SignalResume, "resumed")},
		{"stop", "ID", "stop a job cleanly before its next step", signalCmd(syncjob.SignalStop, "asked to stop")},
	}
	commands = append(commands, storeCommands...)
	commands = append(commands, peopleCommands...)
	commands = append(commands, engineCommands...)
	commands = append(commands, rulesCommands...)
	for _, c := range offline.Commands {
		commands = append(commands, command{c.Name, c.Args, c.Help, offlineCommand(c.Build)})
	}
	groups = []commandGroup{engineGroup}
}

// globals are the flags every command takes.
type globals struct {
	address, namespace, data, store string
	json                            bool
}

func (s *Starter) getenv(k string) string {
	if s.Getenv != nil {
		return s.Getenv(k)
	}
	return os.Getenv(k)
}

// Command is the starter's command tree, on cobra: every command with its
// flags, help (`starter COMMAND --help`) and shell completion
// (`starter completion bash`).
func (s *Starter) Command() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "starter",
		Short: "Start and inspect API Live Sync jobs, and read the version store",
		Long: "starter starts and inspects API Live Sync's sync jobs and engine on a Temporal server,\n" +
			"and reads the version store (history, diffs, rollbacks) directly.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(s.Stdout)
	root.SetErr(s.Stderr)
	pf := root.PersistentFlags()
	pf.StringVar(&g.address, "address", "", "Temporal frontend host:port (default $TEMPORAL_ADDRESS or 127.0.0.1:7233)")
	pf.StringVar(&g.namespace, "namespace", "", "Temporal namespace (default $TEMPORAL_NAMESPACE or default)")
	pf.StringVar(&g.data, "data", store.DefaultDataDir, "data directory of worker -dev (for the store)")
	pf.StringVar(&g.store, "store", "", "store URL (default $"+store.URLEnv+" or file://<data>/store)")
	pf.BoolVar(&g.json, "json", false, "print JSON")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &ExitError{Code: 2, Err: err} })
	for _, c := range commands {
		cmd := &cobra.Command{
			Use:   c.name + " " + c.args,
			Short: c.help,
		}
		run := c.build(s, cmd.Flags(), g)
		cmd.RunE = func(cmd *cobra.Command, args []string) error { return run(cmd.Context(), args) }
		root.AddCommand(cmd)
	}
	for _, grp := range groups {
		root.AddCommand(s.groupCommand(grp, g))
	}
	return root
}

// groupCommand builds a command group: a parent that runs its default
// subcommand when none is named, and refuses an unknown one.
func (s *Starter) groupCommand(grp commandGroup, g *globals) *cobra.Command {
	parent := &cobra.Command{Use: grp.name, Short: grp.help}
	var def runFunc
	names := make([]string, 0, len(grp.subs))
	for _, c := range grp.subs {
		cmd := &cobra.Command{Use: c.name + " " + c.args, Short: c.help}
		run := c.build(s, cmd.Flags(), g)
		cmd.RunE = func(cmd *cobra.Command, args []string) error { return run(cmd.Context(), args) }
		parent.AddCommand(cmd)
		names = append(names, c.name)
		if c.name == grp.def {
			def = run
		}
	}
	parent.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 && def != nil {
			return def(cmd.Context(), args)
		}
		if len(args) == 0 {
			return &ExitError{Code: 2, Err: fmt.Errorf("%s: name a command: %s", grp.name, strings.Join(names, ", "))}
		}
		return &ExitError{Code: 2, Err: fmt.Errorf("%s %q: want %s", grp.name, args[0], strings.Join(names, ", "))}
	}
	return parent
}

// Run runs one command line (without the program name).
func (s *Starter) Run(ctx context.Context, args []string) error {
	root := s.Command()
	if len(args) == 0 {
		_ = root.Usage()
		return &ExitError{Code: 2}
	}
	root.SetArgs(offline.LongFlags(root, args))
	err := root.ExecuteContext(ctx)
	if err != nil && strings.HasPrefix(err.Error(), "unknown command") {
		return &ExitError{Code: 2, Err: err}
	}
	return err
}

// offlineCommand runs an offline command with the store behind it, for
// API@VERSION arguments.
func offlineCommand(build func(*offline.Env, *pflag.FlagSet) offline.RunFunc) func(*Starter, *pflag.FlagSet, *globals) runFunc {
	return func(s *Starter, fs *pflag.FlagSet, g *globals) runFunc {
		return build(&offline.Env{Stdout: s.Stdout, JSON: &g.json, Stored: func(ctx context.Context, ref string, strict bool) (offline.Arg, error) {
			return s.loadStored(ctx, g, ref, strict)
		}}, fs)
	}
}

func (s *Starter) dial(ctx context.Context, g *globals) (client.Client, error) {
	d := s.Dial
	if d == nil {
		d = dial.Client
	}
	return d(ctx, g.address, g.namespace)
}

func (s *Starter) printJSON(v any) error { return offline.PrintJSON(s.Stdout, v) }

// sourceFlags are the flags that describe one source and its job, shared
// by `sync` and `engine add`.
type sourceFlags struct {
	src           source.Source
	loc, headers  string
	maxRetries    int
	aiRetryWindow time.Duration
	aiMaxReasks   int
	fs            *pflag.FlagSet
}

func (f *sourceFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.loc, "source", "", "the spec's URL (http/https) or file path")
	fs.StringVar(&f.src.ID, "id", "", "source ID (default: derived from the URL or file name)")
	fs.StringVar(&f.src.API, "api", "", "API this source feeds (default: the source ID)")
	fs.StringVar(&f.src.Priority, "priority", "", "high, medium or low")
	fs.StringVar(&f.src.Strategy, "strategy", "", "conflict strategy: prefer-remote, prefer-local, source-priority, manual or ai")
	fs.StringVar(&f.src.Gate, "gate", "", "breaking-change gate: auto, hold or block")
	fs.StringVar(&f.src.Kind, "kind", "", "openapi, graphql or postman (default: detected from the content)")
	fs.BoolVar(&f.src.Introspect, "introspect", false, "POST the GraphQL introspection query to the --source URL")
	fs.StringVar(&f.headers, "header", "", "request headers as Name=env:VAR, comma separated (references, never values)")
	fs.BoolVar(&f.src.Strict, "strict", false, "refuse a spec with dangling $refs (default: a warning, and the rest syncs)")
	fs.IntVar(&f.maxRetries, "max-retries", syncjob.DefaultMaxRetries, "retries of a failed step")
	fs.DurationVar(&f.aiRetryWindow, "ai-retry-window", 0, "strategy ai: how long a model that is down is retried before a person is asked (default 1h)")
	fs.IntVar(&f.aiMaxReasks, "ai-max-reasks", 0, "strategy ai: how often an invalid answer is asked again before a person is asked (0: never; default: the worker's, 3)")
	f.fs = fs
}

// input builds the job's input from the flags (the location may also be
// the one positional argument) and checks it.
func (f *sourceFlags) input(cmd string, args []string) (syncjob.SyncJobInput, error) {
	src, loc := f.src, f.loc
	if loc == "" && len(args) == 1 {
		loc = args[0]
	}
	if loc == "" {
		return syncjob.SyncJobInput{}, &ExitError{Code: 2, Err: fmt.Errorf("%s: --source URL or FILE is required", cmd)}
	}
	if len(args) > 1 || (len(args) == 1 && args[0] != loc) {
		return syncjob.SyncJobInput{}, &ExitError{Code: 2, Err: fmt.Errorf("%s: unexpected arguments %q: give one source with --source", cmd, args)}
	}
	if strings.HasPrefix(loc, "http://") || strings.HasPrefix(loc, "https://") {
		src.URL = loc
	} else {
		abs, err := filepath.Abs(loc)
		if err != nil {
			return syncjob.SyncJobInput{}, err
		}
		if _, err := os.Stat(abs); err != nil {
			return syncjob.SyncJobInput{}, fmt.Errorf("%s: source file %s: %w", cmd, loc, err)
		}
		src.File = abs
	}
	if src.ID == "" {
		// From the absolute path, so one file gets one ID however it is written.
		src.ID = DeriveID(src.Location())
	}
	if f.headers != "" {
		src.Headers = map[string]string{}
		for _, kv := range strings.Split(f.headers, ",") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return syncjob.SyncJobInput{}, &ExitError{Code: 2, Err: fmt.Errorf("%s: --header %q: want Name=env:VAR", cmd, kv)}
			}
			src.Headers[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	src.AIRetryWindow = source.Duration(f.aiRetryWindow)
	if f.fs != nil && f.fs.Changed("ai-max-reasks") {
		n := f.aiMaxReasks
		src.AIMaxReasks = &n
	}
	if err := src.Validate(); err != nil {
		return syncjob.SyncJobInput{}, &ExitError{Code: 2, Err: err}
	}
	maxRetries := f.maxRetries
	return syncjob.SyncJobInput{Source: src, MaxRetries: &maxRetries}, nil
}

func (s *Starter) cmdSync(fs *pflag.FlagSet, g *globals) runFunc {
	var sf sourceFlags
	var wait, force bool
	sf.register(fs)
	fs.BoolVar(&wait, "wait", false, "wait for the sync, showing each step, and print a summary")
	fs.BoolVar(&force, "force", false, "fetch without conditional headers and re-parse unchanged bytes")
	return func(ctx context.Context, args []string) error {
		in, err := sf.input("sync", args)
		if err != nil {
			return err
		}
		in.Force = force
		src := in.Source
		c, err := s.dial(ctx, g)
		if err != nil {
			return err
		}
		defer c.Close()
		run, err := syncjob.StartRun(ctx, c, in)
		if err != nil {
			return err
		}
		if !wait {
			if g.json {
				st, _ := syncjob.GetStatus(ctx, c, run.GetID(), run.GetRunID())
				out := map[string]any{"id": src.ID, "workflowId": run.GetID(), "runId": run.GetRunID(), "status": syncjob.StatusRunning,
					"noChange": false, "versionHash": "", "changes": 0, "breakingChanges": 0, "error": ""}
				if st != nil {
					out["status"] = st.Status
				}
				return s.printJSON(out)
			}
			fmt.Fprintf(s.Stdout, "sync of %q started: workflow %s run %s\nfollow it with: starter status %s\n", src.ID, run.GetID(), run.GetRunID(), src.ID)
			return nil
		}
		var res *syncjob.SyncJobResult
		if g.json {
			res, err = syncjob.Result(ctx, run)
		} else {
			res, err = s.follow(ctx, c, run)
		}
		if res == nil {
			return err
		}
		if g.json {
			if perr := s.printJSON(res); perr != nil {
				return perr
			}
		} else {
			s.printSummary(res)
		}
		if err != nil {
			return &ExitError{Code: 1}
		}
		return nil
	}
}

// follow shows each step as it happens until the run ends.
func (s *Starter) follow(ctx context.Context, c client.Client, run client.WorkflowRun) (*syncjob.SyncJobResult, error) {
	done := make(chan struct{})
	var res *syncjob.SyncJobResult
	var err error
	go func() {
		res, err = syncjob.Result(ctx, run)
		close(done)
	}()
	shown := 0
	show := func(steps []syncjob.StepInfo, final bool) {
		for ; shown < len(steps); shown++ {
			st := steps[shown]
			if !final && (st.Status == syncjob.StatusRunning || st.Status == syncjob.StatusPending) {
				return
			}
			mark := "✓"
			switch st.Status {
			case syncjob.StatusFailed:
				mark = "✗"
			case syncjob.StatusStopped:
				mark = "■"
			}
			line := fmt.Sprintf("  %s %-7s %6dms", mark, st.Name, st.DurationMs)
			if st.Attempts > 1 {
				line += fmt.Sprintf("  (%d attempts)", st.Attempts)
			}
			if st.Error != "" {
				line += "  " + st.Error
			}
			fmt.Fprintln(s.Stdout, line)
		}
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	lastNote := ""
	for {
		select {
		case <-done:
			if res != nil {
				show(res.Steps, true)
			}
			return res, err
		case <-tick.C:
			st, qerr := syncjob.GetStatus(ctx, c, run.GetID(), run.GetRunID())
			if qerr != nil || st == nil {
				continue
			}
			show(st.Steps, false)
			note := ""
			switch {
			case st.Status == syncjob.StatusPaused:
				note = "  … paused before " + st.Step + " (starter resume " + st.ID + ")"
			case st.NextAttempt != nil:
				note = fmt.Sprintf("  … %s failed, retry %d/%d at %s: %s", st.Step, st.RetryCount, st.MaxRetries, st.NextAttempt.Local().Format("15:04:05"), st.LastError)
			}
			if note != "" && note != lastNote {
				fmt.Fprintln(s.Stdout, note)
			}
			lastNote = note
		}
	}
}

func (s *Starter) printSummary(r *syncjob.SyncJobResult) {
	fmt.Fprintf(s.Stdout, "\nsync %s: %s\n", r.ID, r.Status)
	tw := tabwriter.NewWriter(s.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  source\t%s\n  api\t%s\n", r.SourceID, r.API)
	if r.Error != "" {
		fmt.Fprintf(tw, "  error\t%s\n", r.Error)
	}
	if r.Message != "" {
		fmt.Fprintf(tw, "  note\t%s\n", r.Message)
	}
	if r.SpecVersion != "" {
		fmt.Fprintf(tw, "  spec\t%s: %d paths, %d operations, %d schemas\n", r.SpecVersion, r.Paths, r.Operations, r.Schemas)
	}
	if r.VersionHash != "" {
		fmt.Fprintf(tw, "  version\t%d (%s)\n", r.Version, r.VersionHash)
	}
	fmt.Fprintf(tw, "  changes\t%d (%d breaking)\n", r.Changes, r.BreakingChanges)
	fmt.Fprintf(tw, "  took\t%dms\n", r.DurationMs)
	_ = tw.Flush()
	for _, c := range r.TopChanges {
		fmt.Fprintf(s.Stdout, "    • %s\n", c)
	}
	if more := r.Changes - len(r.TopChanges); more > 0 && len(r.TopChanges) > 0 {
		fmt.Fprintf(s.Stdout, "    … and %d more (starter history %s)\n", more, r.API)
	}
}

func (s *Starter) cmdStatus(fs *pflag.FlagSet, g *globals) runFunc {
	return func(ctx context.Context, args []string) error {
		pos := args
		c, err := s.dial(ctx, g)
		if err != nil {
			return err
		}
		defer c.Close()
		if len(pos) == 1 {
			st, err := syncjob.GetStatus(ctx, c, syncjob.SyncWorkflowID(pos[0]), "")
			if err != nil {
				var nf *serviceerror.NotFound
				if errors.As(err, &nf) {
					return fmt.Errorf("no sync job %q (workflow %s): %w", pos[0], syncjob.SyncWorkflowID(pos[0]), err)
				}
				return fmt.Errorf("status of job %q: %w", pos[0], err)
			}
			if st.NextAttempt == nil && st.Status != syncjob.StatusRunning && st.Status != syncjob.StatusPending {
				// Idle: the next attempt is the source's next scheduled sync.
				st.NextAttempt = nextScheduled(ctx, c, st.SourceID)
			}
			if g.json {
				return s.printJSON(st)
			}
			s.printStatus(st)
			return nil
		}
		jobs, err := listJobs(ctx, c)
		if err != nil {
			return err
		}
		if g.json {
			return s.printJSON(jobs)
		}
		tw := tabwriter.NewWriter(s.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "JOB\tSTATUS\tOUTCOME\tSTARTED\tCLOSED\tWORKFLOW")
		for _, j := range jobs {
			closed := ""
			if j.ClosedAt != nil {
				closed = j.ClosedAt.Local().Format("2006-01-02 15:04:05")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", j.ID, j.Status, offline.OrDash(j.Outcome), j.StartedAt.Local().Format("2006-01-02 15:04:05"), closed, j.WorkflowID)
		}
		return tw.Flush()
	}
}

func (s *Starter) printStatus(st *syncjob.Status) {
	tw := tabwriter.NewWriter(s.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "job\t%s\nsource\t%s (%s)\napi\t%s\nstatus\t%s\nstep\t%s\n", st.ID, st.SourceID, st.Location, st.API, st.Status, st.Step)
	fmt.Fprintf(tw, "retries\t%d of %d\n", st.RetryCount, st.MaxRetries)
	if st.LastAttempt != nil {
		fmt.Fprintf(tw, "last attempt\t%s\n", st.LastAttempt.Local().Format(time.DateTime))
	}
	if st.NextAttempt != nil {
		fmt.Fprintf(tw, "next attempt\t%s\n", st.NextAttempt.Local().Format(time.DateTime))
	}
	if st.LastError != "" {
		fmt.Fprintf(tw, "last error\t%s\n", st.LastError)
	}
	fmt.Fprintf(tw, "changes\t%d (%d breaking)\n", st.ChangesDetected, st.BreakingChanges)
	if st.VersionHash != "" {
		fmt.Fprintf(tw, "version\t%d (%s)\n", st.Version, st.VersionHash)
	}
	if st.Message != "" {
		fmt.Fprintf(tw, "note\t%s\n", st.Message)
	}
	if w := st.Waiting; w != nil {
		fmt.Fprintf(tw, "waiting for\t%s: %s\n", w.Kind, w.Reason)
		fmt.Fprintf(tw, "deadline\t%s (then %s)\n", w.Deadline.Local().Format(time.DateTime), w.OnTimeout)
		for _, c := range w.Conflicts {
			fmt.Fprintf(tw, "  conflict\t%s (%s)\n", c.Pointer, c.Kind)
		}
		for _, c := range w.TopChanges {
			fmt.Fprintf(tw, "  change\t%s\n", c)
		}
	}
	if st.Blocked {
		fmt.Fprintf(tw, "blocked\tyes: the last version stays current\n")
	}
	_ = tw.Flush()
	for _, step := range st.Steps {
		fmt.Fprintf(s.Stdout, "  %-7s %-9s %6dms attempts=%d %s\n", step.Name, step.Status, step.DurationMs, step.Attempts, step.Error)
	}
}

// JobSummary is one row of `starter status`.
type JobSummary struct {
	ID         string     `json:"id"`
	WorkflowID string     `json:"workflowId"`
	RunID      string     `json:"runId"`
	Status     string     `json:"status"`
	StartedAt  time.Time  `json:"startedAt"`
	ClosedAt   *time.Time `json:"closedAt,omitempty"`
	// Outcome is the run's LiveSyncOutcome (stored, no-change, stopped, …)
	// when the namespace has the attribute.
	Outcome string `json:"outcome,omitempty"`
}

// listJobs lists the newest run of every SyncJob from visibility.
func listJobs(ctx context.Context, c client.Client) ([]JobSummary, error) {
	seen := map[string]bool{}
	var out []JobSummary
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query:         fmt.Sprintf("WorkflowType = '%s'", syncjob.SyncJobWorkflowName),
			NextPageToken: token,
		})
		if err != nil {
			return nil, fmt.Errorf("list sync jobs: %w", err)
		}
		for _, e := range resp.Executions {
			wid := e.GetExecution().GetWorkflowId()
			if seen[wid] {
				continue
			}
			seen[wid] = true
			j := JobSummary{ID: strings.TrimPrefix(wid, syncjob.SyncWorkflowIDPrefix), WorkflowID: wid, RunID: e.GetExecution().GetRunId(),
				Status: visibilityStatus(e.GetStatus().String()), StartedAt: e.GetStartTime().AsTime()}
			if e.GetCloseTime() != nil && e.GetCloseTime().IsValid() && !e.GetCloseTime().AsTime().IsZero() {
				t := e.GetCloseTime().AsTime()
				j.ClosedAt = &t
			}
			if p := e.GetSearchAttributes().GetIndexedFields()[syncjob.SearchAttrOutcome.GetName()]; p != nil {
				_ = converter.GetDefaultDataConverter().FromPayload(p, &j.Outcome)
			}
			if j.Outcome == syncjob.OutcomeStopped {
				j.Status = syncjob.StatusStopped // a stopped job completes its workflow: say what it did
			}
			out = append(out, j)
		}
		token = resp.NextPageToken
		if len(token) == 0 {
			break
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func visibilityStatus(s string) string {
	switch s {
	case "Running":
		return syncjob.StatusRunning
	case "Completed":
		return syncjob.StatusCompleted
	case "Failed", "TimedOut":
		return syncjob.StatusFailed
	case "Canceled", "Terminated":
		return syncjob.StatusStopped
	}
	return strings.ToLower(s)
}

func signalCmd(signal, verb string) func(*Starter, *pflag.FlagSet, *globals) runFunc {
	return func(s *Starter, _ *pflag.FlagSet, g *globals) runFunc {
		return func(ctx context.Context, args []string) error {
			pos := args
			if len(pos) != 1 {
				return &ExitError{Code: 2, Err: fmt.Errorf("%s: give the job ID", signal)}
			}
			c, err := s.dial(ctx, g)
			if err != nil {
				return err
			}
			defer c.Close()
			wid := syncjob.SyncWorkflowID(pos[0])
			if err := c.SignalWorkflow(ctx, wid, "", signal, nil); err != nil {
				var nf *serviceerror.NotFound
				if errors.As(err, &nf) {
					return fmt.Errorf("%s: no running sync job %q (workflow %s)", signal, pos[0], wid)
				}
				return fmt.Errorf("%s job %q: %w", signal, pos[0], err)
			}
			if g.json {
				return s.printJSON(map[string]any{"id": pos[0], "workflowId": wid, "signal": signal})
			}
			fmt.Fprintf(s.Stdout, "job %s %s\n", pos[0], verb)
			return nil
		}
	}
}

// DeriveID makes a source ID from a URL or file path: the file's name
// without its extension, "https://x/y/petstore.yaml" → "petstore". A name
// that says nothing ("openapi", "swagger") is prefixed with where it lives:
// the host for a URL ("http://localhost:8080/openapi.json" →
// "localhost-8080-openapi"), the directory for a file ("./api/openapi.yaml"
// → "api-openapi"). The result is always a valid ID.
func DeriveID(loc string) string {
	rest, isURL := loc, false
	if i := strings.Index(rest, "://"); i >= 0 {
		rest, isURL = rest[i+3:], true
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 && isURL {
		rest = rest[:i]
	}
	rest = strings.TrimRight(rest, `/\`)
	dir, base := "", rest
	if i := strings.LastIndexAny(rest, `/\`); i >= 0 {
		dir, base = rest[:i], rest[i+1:]
	}
	name := idPart(strings.TrimSuffix(base, filepath.Ext(base)))
	where := ""
	if isURL {
		host, _, _ := strings.Cut(rest, "/")
		where = idPart(strings.NewReplacer(":", "-", ".", "-").Replace(host))
		if dir == "" {
			name = where // "https://host" names the host
		}
	} else if i := strings.LastIndexAny(dir, `/\`); i >= 0 {
		where = idPart(dir[i+1:])
	} else {
		where = idPart(dir)
	}
	id := name
	switch {
	case name == "":
		id = where
	case (name == "openapi" || name == "swagger") && where != "" && where != name:
		id = where + "-" + name
	}
	if id == "" {
		id = "source"
	}
	if len(id) > 128 {
		id = strings.TrimRight(id[:128], "-._")
	}
	return id
}

// idPart keeps the letters, digits, '.', '_' and '-' of s, others become
// '-', and trims what an ID may not start or end with.
func idPart(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteRune('-')
		}
	}
	return strings.Trim(b.String(), "-._")
}

// nextScheduled is when the source's schedule next starts a sync (nil: no
// schedule, or paused).
func nextScheduled(ctx context.Context, c client.Client, sourceID string) *time.Time {
	if sourceID == "" {
		return nil
	}
	d, err := c.ScheduleClient().GetHandle(ctx, activities.ScheduleID(sourceID)).Describe(ctx)
	if err != nil || d.Schedule.State == nil || d.Schedule.State.Paused || len(d.Info.NextActionTimes) == 0 {
		return nil
	}
	t := d.Info.NextActionTimes[0]
	return &t
}
