package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/apilivesync/apilivesync/internal/cli/offline"
	"github.com/apilivesync/apilivesync/internal/config"
	"github.com/apilivesync/apilivesync/internal/registry"
	"github.com/apilivesync/apilivesync/internal/source"
	"github.com/apilivesync/apilivesync/workflows/engine"
	"github.com/apilivesync/apilivesync/workflows/syncjob"
)

// ApplyChunk is how many sources one applyConfig update carries.
const ApplyChunk = 250

// ApplyConfig reconciles the engine to a loaded config file, in chunks of
// ApplyChunk sources that share one generation (the hash of what is
// applied): running it again after a crash skips what was applied and
// finishes the rest. progress, when set, is told after every chunk.
func ApplyConfig(ctx context.Context, c client.Client, cfg *config.Config, keep bool, progress func(done, total int)) (*engine.ApplyResult, error) {
	ec := EngineConfigFrom(cfg)
	sources := cfg.Resolved()
	if !keep {
		if err := source.CheckDependencies(sources, nil); err != nil {
			return nil, fmt.Errorf("nothing applied:\n%w", err)
		}
	}
	if len(sources) <= ApplyChunk {
		var res engine.ApplyResult
		err := engine.Update(ctx, c, engine.UpdateApplyConfig, engine.ApplyInput{Config: &ec, Sources: sources, Keep: keep}, &res)
		if progress != nil && err == nil {
			progress(len(sources), len(sources))
		}
		return &res, err
	}
	h := sha256.New()
	_ = json.NewEncoder(h).Encode(struct {
		S    []source.Source
		Keep bool
	}{sources, keep})
	gen := "apply/" + hex.EncodeToString(h.Sum(nil))[:16]
	total := &engine.ApplyResult{Added: []string{}, Updated: []string{}, Removed: []string{}, Unchanged: []string{}}
	for i := 0; i < len(sources); i += ApplyChunk {
		end := min(i+ApplyChunk, len(sources))
		in := engine.ApplyInput{Sources: sources[i:end], Keep: keep, Generation: gen, More: end < len(sources)}
		if i == 0 {
			in.Config = &ec
		}
		var res engine.ApplyResult
		if err := engine.Update(ctx, c, engine.UpdateApplyConfig, in, &res); err != nil {
			return total, fmt.Errorf("applied %d of %d sources (run the same apply again to finish): %w", i, len(sources), err)
		}
		total.Added = append(total.Added, res.Added...)
		total.Updated = append(total.Updated, res.Updated...)
		total.Unchanged = append(total.Unchanged, res.Unchanged...)
		total.Removed = append(total.Removed, res.Removed...)
		total.RemovedCount += res.RemovedCount
		total.Registered = res.Registered
		if progress != nil {
			progress(end, len(sources))
		}
	}
	return total, nil
}

// engineStatus prints the registry a page at a time, straight from the
// store (the engine keeps only O(1) state), with the engine's totals and
// the syncs it is running now.
func (s *Starter) engineStatus(ctx context.Context, c client.Client, g *globals, api string, all bool, limit int) error {
	var m engine.SyncEngineMetrics
	if err := engine.Query(ctx, c, engine.QueryMetrics, &m); err != nil {
		return err
	}
	var active []engine.JobInfo
	if err := engine.Query(ctx, c, engine.QueryGetSyncStatus, &active); err != nil {
		return err
	}
	now := map[string]engine.JobInfo{}
	for _, j := range active {
		now[j.ID] = j
	}
	st, err := s.openStore(ctx, g)
	if err != nil {
		return err
	}
	defer st.Close()
	reg := registry.New(st)
	var tw *tabwriter.Writer
	if !g.json {
		state := "running"
		if m.Paused {
			state = "PAUSED (engine pause): schedules paused, queued syncs held; resume with `starter engine resume`"
		}
		fmt.Fprintf(s.Stdout, "engine %s; %d sources registered, %d running, %d queued\n", state, m.RegisteredSources, m.ActiveJobs, m.QueueLength)
		tw = tabwriter.NewWriter(s.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SOURCE\tAPI\tPRIORITY\tEVERY\tSTATE\tLAST\tFAILURES\tLAST SYNC\tNEXT\tNOTE")
	}
	shown, token := 0, ""
	first := true
	if g.json {
		io.WriteString(s.Stdout, "[")
	}
	for {
		page, next, err := reg.Page(ctx, token, 1000)
		if err != nil {
			return err
		}
		for _, j := range page {
			if api != "" && j.Source.APIID() != api {
				continue
			}
			if !all && shown >= limit {
				next = ""
				break
			}
			if a, ok := now[j.ID]; ok && a.Running {
				j.Running = true
			}
			if !all && j.Scheduled {
				j.NextRun = nextScheduled(ctx, c, j.ID)
			}
			if m.Paused {
				j.Paused = true
				if j.PausedReason == "" {
					j.PausedReason = "the engine is paused"
				}
			}
			shown++
			if g.json {
				if !first {
					io.WriteString(s.Stdout, ",")
				}
				first = false
				b, err := json.Marshal(j)
				if err != nil {
					return err
				}
				s.Stdout.Write(b)
				continue
			}
			printJobRow(tw, j)
		}
		if next == "" {
			break
		}
		token = next
	}
	if g.json {
		_, err := io.WriteString(s.Stdout, "]\n")
		return err
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if !all && shown < m.RegisteredSources && api == "" {
		fmt.Fprintf(s.Stdout, "showing %d of %d sources: --all lists every one\n", shown, m.RegisteredSources)
	}
	return nil
}

func printJobRow(tw *tabwriter.Writer, j engine.JobInfo) {
	state := "idle"
	switch {
	case j.Running:
		state = "running"
	case j.Queued:
		state = "queued"
	case j.Held != "":
		state = "held"
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
	note := j.Held
	if note == "" {
		note = j.PausedReason
	}
	if note == "" {
		note = j.LastError
	}
	prio := j.Source.Priority
	if prio == "" {
		prio = syncjob.PriorityMedium
	}
	next := "-"
	if j.NextRun != nil {
		next = j.NextRun.Local().Format(time.DateTime)
	}
	fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", j.ID, j.Source.APIID(), prio, every, state, offline.OrDash(j.LastStatus), j.ConsecutiveFailures, last, next, note)
}
