package cli

import (
	"context"
	"errors"
	"fmt"
	"github.com/spf13/pflag"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/apilivesync/apilivesync/internal/config"
	"github.com/apilivesync/apilivesync/internal/source"
	"github.com/apilivesync/apilivesync/workflows/engine"
	"github.com/apilivesync/apilivesync/workflows/syncjob"
)

// engineCommands talk to the SyncEngine workflow.
var engineCommands = []command{
	{"apply", "-f FILE [--keep]", "reconcile the engine to a config file: add, update and remove sources and schedules", (*Starter).cmdApply},
	{"metrics", "[--json]", "the engine's SyncEngineMetrics", (*Starter).cmdMetrics},
	{"sync-all", "[--api API]", "sync every registered source (or every source of an API) now, with bounded concurrency", (*Starter).cmdSyncAll},
}

// engineGroup is `starter engine …`: inspect, configure and steer the engine.
var engineGroup = commandGroup{
	name: "engine", help: "inspect, configure and steer the engine (status when no command is named)", def: "status",
	subs: []command{
		{"status", "[--json]", "every source: schedule, state, failures, last sync", (*Starter).cmdEngineStatus},
		{"config", "[--json]", "the engine's configuration (getConfig), one KEY VALUE a line", (*Starter).cmdEngineConfig},
		{"set", "KEY=VALUE… [--json]", "change engine settings (updateConfig): " + strings.Join(configKeys(), ", "), (*Starter).cmdEngineSet},
		{"add", "--source URL|FILE [--id ID] [--api API] [--refresh 1h] [--priority P] [--header H] [--kind K] [--max-retries N]", "register a source with the engine (addSyncJob)", (*Starter).cmdEngineAdd},
		{"pause", "[ID…] [--api API]", "pause sources' schedules and jobs; with no ID and no --api, the whole engine", selectCmd(engine.UpdatePauseSync, "pause")},
		{"resume", "[ID…] [--api API]", "resume what pause paused", selectCmd(engine.UpdateResumeSync, "resume")},
		{"stop", "[ID…] [--api API]", "stop sources' running and queued syncs (stopSync); with no ID and no --api, every one", selectCmd(engine.UpdateStopSync, "stop")},
		{"remove", "ID…", "unregister sources and delete their schedules", (*Starter).cmdEngineRemove},
	},
}

// EngineConfigFrom is the engine part of a config file.
func EngineConfigFrom(cfg *config.Config) engine.EngineConfig {
	return engine.EngineConfig{
		MaxConcurrent: cfg.Engine.MaxConcurrent, FailureThreshold: cfg.Engine.FailureThreshold, Jitter: cfg.Engine.Jitter,
		BatchWindow: cfg.Engine.BatchWindow,
	}
}

func (s *Starter) cmdApply(fs *pflag.FlagSet, g *globals) runFunc {
	file := fs.String("f", "", "the config file")
	keep := fs.Bool("keep", false, "keep registered sources the file does not declare")
	return func(ctx context.Context, args []string) error {
		pos := args
		if *file == "" && len(pos) == 1 {
			*file = pos[0]
		}
		if *file == "" {
			return &ExitError{Code: 2, Err: errors.New("apply: give the config file with -f FILE")}
		}
		cfg, err := config.Load(*file)
		if err != nil {
			return fmt.Errorf("nothing applied:\n%w", err)
		}
		c, err := s.dial(ctx, g)
		if err != nil {
			return err
		}
		defer c.Close()
		var progress func(done, total int)
		if n := len(cfg.Sources); n > ApplyChunk && !g.json {
			progress = func(done, total int) { fmt.Fprintf(s.Stderr, "applied %d/%d sources\n", done, total) }
		}
		res, err := ApplyConfig(ctx, c, cfg, *keep, progress)
		if err != nil {
			return err
		}
		if g.json {
			return s.printJSON(res)
		}
		removed := max(res.RemovedCount, len(res.Removed))
		fmt.Fprintf(s.Stdout, "applied %s: %d added, %d updated, %d removed, %d unchanged; %d registered\n", *file, len(res.Added), len(res.Updated), removed, len(res.Unchanged), res.Registered)
		for _, l := range []struct {
			what string
			ids  []string
			n    int
		}{{"added", res.Added, len(res.Added)}, {"updated", res.Updated, len(res.Updated)}, {"removed", res.Removed, removed}} {
			if l.n == 0 {
				continue
			}
			ids, more := l.ids, ""
			if len(ids) > 20 {
				ids, more = ids[:20], fmt.Sprintf(" and %d more (--json lists them)", l.n-20)
			}
			fmt.Fprintf(s.Stdout, "  %s: %s%s\n", l.what, strings.Join(ids, ", "), more)
		}
		return nil
	}
}

func (s *Starter) cmdMetrics(fs *pflag.FlagSet, g *globals) runFunc {
	return func(ctx context.Context, args []string) error {
		c, err := s.dial(ctx, g)
		if err != nil {
			return err
		}
		defer c.Close()
		var m engine.SyncEngineMetrics
		if err := engine.Query(ctx, c, engine.QueryMetrics, &m); err != nil {
			return err
		}
		if !m.StartedAt.IsZero() {
			// A query sees the workflow's clock, which stands still while
			// the engine is idle: the uptime is measured here.
			m.Uptime = time.Since(m.StartedAt).Milliseconds()
		}
		if g.json {
			return s.printJSON(m)
		}
		tw := tabwriter.NewWriter(s.Stdout, 2, 4, 2, ' ', 0)
		last := "-"
		if m.LastSyncTime != nil {
			last = m.LastSyncTime.Local().Format(time.DateTime)
		}
		fmt.Fprintf(tw, "totalSyncs\t%d\nsuccessfulSyncs\t%d\nfailedSyncs\t%d\naverageSyncTime\t%.0fms\nactiveJobs\t%d\nqueueLength\t%d\nlastSyncTime\t%s\nuptime\t%s\nregisteredSources\t%d\n",
			m.TotalSyncs, m.SuccessfulSyncs, m.FailedSyncs, m.AverageSyncTime, m.ActiveJobs, m.QueueLength, last,
			(time.Duration(m.Uptime) * time.Millisecond).Round(time.Second), m.RegisteredSources)
		return tw.Flush()
	}
}

func (s *Starter) cmdSyncAll(fs *pflag.FlagSet, g *globals) runFunc {
	api := fs.String("api", "", "only the sources of this API")
	return func(ctx context.Context, args []string) error {
		c, err := s.dial(ctx, g)
		if err != nil {
			return err
		}
		defer c.Close()
		var res engine.SelectResult
		if err := engine.Update(ctx, c, engine.UpdateStartSync, engine.SelectInput{API: *api}, &res); err != nil {
			return err
		}
		if g.json {
			return s.printJSON(res)
		}
		n := max(res.Count, len(res.IDs))
		ids := res.IDs
		more := ""
		if len(ids) > 10 {
			ids, more = ids[:10], fmt.Sprintf(" and %d more", n-10)
		}
		fmt.Fprintf(s.Stdout, "queued %d sync(s): %s%s\n", n, strings.Join(ids, ", "), more)
		skipped := make([]string, 0, len(res.Skipped))
		for id := range res.Skipped {
			skipped = append(skipped, id)
		}
		sort.Strings(skipped)
		for _, id := range skipped {
			fmt.Fprintf(s.Stdout, "  skipped %s: %s\n", id, res.Skipped[id])
		}
		fmt.Fprintln(s.Stdout, "follow them with: starter engine status")
		return nil
	}
}

func (s *Starter) cmdEngineStatus(fs *pflag.FlagSet, g *globals) runFunc {
	api := fs.String("api", "", "only the sources of this API")
	all := fs.Bool("all", false, "list every source (the registry is read a page at a time)")
	limit := fs.Int("limit", 100, "how many sources to list without --all")
	return func(ctx context.Context, args []string) error {
		if len(args) > 0 {
			return &ExitError{Code: 2, Err: fmt.Errorf("engine status: unexpected arguments %q", args)}
		}
		c, err := s.dial(ctx, g)
		if err != nil {
			return err
		}
		defer c.Close()
		return s.engineStatus(ctx, c, g, *api, *all, *limit)
	}
}

func selectCmd(update, verb string) func(*Starter, *pflag.FlagSet, *globals) runFunc {
	return func(s *Starter, fs *pflag.FlagSet, g *globals) runFunc {
		api := fs.String("api", "", "select the sources of this API")
		return func(ctx context.Context, args []string) error {
			return s.engineSelect(ctx, g, update, verb, engine.SelectInput{IDs: args, API: *api})
		}
	}
}

func (s *Starter) cmdEngineRemove(fs *pflag.FlagSet, g *globals) runFunc {
	return func(ctx context.Context, args []string) error {
		if len(args) == 0 {
			return &ExitError{Code: 2, Err: errors.New("engine remove: name the sources")}
		}
		return s.engineSelect(ctx, g, engine.UpdateRemoveSyncJob, "remove", engine.RemoveInput{IDs: args})
	}
}

// engineSelect sends an update whose result is a SelectResult and says
// which sources it reached.
func (s *Starter) engineSelect(ctx context.Context, g *globals, update, verb string, in any) error {
	c, err := s.dial(ctx, g)
	if err != nil {
		return err
	}
	defer c.Close()
	var res engine.SelectResult
	if err := engine.Update(ctx, c, update, in, &res); err != nil {
		return err
	}
	if g.json {
		return s.printJSON(res)
	}
	fmt.Fprintf(s.Stdout, "%s: %s\n", verb, strings.Join(res.IDs, ", "))
	return nil
}

func (s *Starter) cmdEngineAdd(fs *pflag.FlagSet, g *globals) runFunc {
	var sf sourceFlags
	sf.register(fs)
	refresh := fs.Duration("refresh", 0, "sync on this schedule, e.g. 30m or 1h (default: only on demand)")
	return func(ctx context.Context, args []string) error {
		in, err := sf.input("engine add", args)
		if err != nil {
			return err
		}
		if *refresh < 0 {
			return &ExitError{Code: 2, Err: fmt.Errorf("engine add: --refresh %s: want a positive duration, or 0 for on demand", *refresh)}
		}
		in.Source.RefreshInterval = source.Duration(*refresh)
		c, err := s.dial(ctx, g)
		if err != nil {
			return err
		}
		defer c.Close()
		var job engine.JobInfo
		if err := engine.Update(ctx, c, engine.UpdateAddSyncJob, in, &job); err != nil {
			return err
		}
		if g.json {
			return s.printJSON(job)
		}
		every := "no schedule (sync it with: starter sync-all --api " + job.Source.APIID() + ")"
		if job.Scheduled {
			every = "every " + job.Source.RefreshInterval.Std().String()
		}
		fmt.Fprintf(s.Stdout, "added source %s (api %s, %s priority): %s\nfollow it with: starter engine status\n",
			job.ID, job.Source.APIID(), orDefault(job.Source.Priority, syncjob.PriorityMedium), every)
		return nil
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
