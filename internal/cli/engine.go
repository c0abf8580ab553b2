package cli

import (
	"context"
	"errors"
	"fmt"
	"github.com/spf13/pflag"
	"strings"
	"text/tabwriter"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/apilivesync/apilivesync/internal/config"
	"github.com/apilivesync/apilivesync/workflows/engine"
	"github.com/apilivesync/apilivesync/workflows/syncjob"
)

// engineCommands talk to the SyncEngine workflow.
var engineCommands = []command{
	{"apply", "-f FILE [--keep]", "reconcile the engine to a config file: add, update and remove sources and schedules", (*Starter).cmdApply},
	{"metrics", "[--json]", "the engine's SyncEngineMetrics", (*Starter).cmdMetrics},
	{"sync-all", "[--api API]", "sync every registered source (or every source of an API) now, with bounded concurrency", (*Starter).cmdSyncAll},
	{"engine", "status|pause|resume|remove [ID…] [--api API] [--json]", "inspect or steer the engine (pause with no ID pauses everything)", (*Starter).cmdEngine},
}

// ApplyConfig reconciles the engine to a loaded config file.
func ApplyConfig(ctx context.Context, c client.Client, cfg *config.Config, keep bool) (*engine.ApplyResult, error) {
	ec := EngineConfigFrom(cfg)
	var res engine.ApplyResult
	err := engine.Update(ctx, c, engine.UpdateApplyConfig, engine.ApplyInput{Config: &ec, Sources: cfg.Resolved(), Keep: keep}, &res)
	return &res, err
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
		res, err := ApplyConfig(ctx, c, cfg, *keep)
		if err != nil {
			return err
		}
		if g.json {
			return s.printJSON(res)
		}
		fmt.Fprintf(s.Stdout, "applied %s: %d added, %d updated, %d removed, %d unchanged\n", *file, len(res.Added), len(res.Updated), len(res.Removed), len(res.Unchanged))
		for _, l := range []struct {
			what string
			ids  []string
		}{{"added", res.Added}, {"updated", res.Updated}, {"removed", res.Removed}} {
			if len(l.ids) > 0 {
				fmt.Fprintf(s.Stdout, "  %s: %s\n", l.what, strings.Join(l.ids, ", "))
			}
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
		fmt.Fprintf(s.Stdout, "queued %d sync(s): %s\nfollow them with: starter engine status\n", len(res.IDs), strings.Join(res.IDs, ", "))
		return nil
	}
}

func (s *Starter) cmdEngine(fs *pflag.FlagSet, g *globals) runFunc {
	api := fs.String("api", "", "select the sources of this API")
	return func(ctx context.Context, args []string) error {
		pos := args
		if len(pos) == 0 {
			pos = []string{"status"}
		}
		c, err := s.dial(ctx, g)
		if err != nil {
			return err
		}
		defer c.Close()
		sel := engine.SelectInput{IDs: pos[1:], API: *api}
		var res engine.SelectResult
		switch pos[0] {
		case "status":
			var jobs []engine.JobInfo
			if err := engine.Query(ctx, c, engine.QueryGetSyncStatus, &jobs); err != nil {
				return err
			}
			if g.json {
				return s.printJSON(jobs)
			}
			tw := tabwriter.NewWriter(s.Stdout, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SOURCE\tAPI\tPRIORITY\tEVERY\tSTATE\tLAST\tFAILURES\tLAST SYNC\tNOTE")
			for _, j := range jobs {
				state := "idle"
				switch {
				case j.Running:
					state = "running"
				case j.Queued:
					state = "queued"
				case j.Paused || j.PausedReason != "":
					state = "paused"
				case !j.Enabled:
					state = "disabled"
				}
				every := "-"
				if j.Scheduled {
					every = j.Source.RefreshInterval.Std().String()
				}
				last := "-"
				if j.LastSyncTime != nil {
					last = j.LastSyncTime.Local().Format(time.DateTime)
				}
				note := j.PausedReason
				if note == "" {
					note = j.LastError
				}
				prio := j.Source.Priority
				if prio == "" {
					prio = syncjob.PriorityMedium
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", j.ID, j.Source.APIID(), prio, every, state, orDash(j.LastStatus), j.ConsecutiveFailures, last, note)
			}
			return tw.Flush()
		case "pause":
			err = engine.Update(ctx, c, engine.UpdatePauseSync, sel, &res)
		case "resume":
			err = engine.Update(ctx, c, engine.UpdateResumeSync, sel, &res)
		case "remove":
			if len(sel.IDs) == 0 {
				return &ExitError{Code: 2, Err: errors.New("engine remove: name the sources")}
			}
			err = engine.Update(ctx, c, engine.UpdateRemoveSyncJob, engine.RemoveInput{IDs: sel.IDs}, &res)
		default:
			return &ExitError{Code: 2, Err: fmt.Errorf("engine %q: want status, pause, resume or remove", pos[0])}
		}
		if err != nil {
			return err
		}
		if g.json {
			return s.printJSON(res)
		}
		fmt.Fprintf(s.Stdout, "%s: %s\n", pos[0], strings.Join(res.IDs, ", "))
		return nil
	}
}
