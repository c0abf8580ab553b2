package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/apilivesync/apilivesync/internal/source"
	"github.com/apilivesync/apilivesync/workflows/syncjob"
)

// config holds the flags.
type config struct {
	n        int // 0: the scenario's default
	warmup   int
	sources  int
	inflight int
	paths    int
	spec     string // changed: generated or stripe
	// interleave alternates baseline and sync runs (one at a time) so that
	// CPU contention from other processes hits both alike.
	interleave bool

	loadSources int // load: sources in the engine
	rounds      int // load: rounds after the first sync
	concurrency int // load: the engine's maxConcurrent
	changePct   int // load: percent of sources changing per round

	refresh        time.Duration // syncall: the sources' refresh interval
	reports        int           // engine-history: syncFinished reports
	reportJobs     int           // engine-history: jobs they name
	signalInflight int           // engine-history: signals in flight
	signalRate     int           // engine-history: signals per second, 0 unpaced

	engineCANAfter int // load, engine-history: the engine's continueAsNewAfter (0: its default)
	oldStarter     string
}

func order(interleave bool) string {
	if interleave {
		return "interleaved: baseline, sync, baseline, sync, …"
	}
	return "in blocks: all baseline runs, then all syncs"
}

const opTimeout = 5 * time.Minute

// sync runs one SyncJob of src to the end and returns its result and the
// client-side wall time (start + result).
func (e *benchEnv) sync(ctx context.Context, src source.Source) (*syncjob.SyncJobResult, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	t0 := time.Now()
	res, err := syncjob.Start(ctx, e.client, syncjob.SyncJobInput{Source: src}, true)
	took := time.Since(t0)
	if err != nil {
		return res, took, fmt.Errorf("sync %s: %w", src.ID, err)
	}
	return res, took, nil
}

func (e *benchEnv) baseline(ctx context.Context, id string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	t0 := time.Now()
	err := e.runBaseline(ctx, id)
	return time.Since(t0), err
}

func expectNoChange(res *syncjob.SyncJobResult) error {
	if !res.NoChange || len(res.Steps) != 1 {
		return fmt.Errorf("sync %s: want the no-change fast path (one step), got noChange=%v steps=%d (%s)", res.ID, res.NoChange, len(res.Steps), res.Message)
	}
	return nil
}

// scenarioNoChange compares N sequential no-change syncs of one primed
// source with N sequential bare two-activity workflows.
func scenarioNoChange(ctx context.Context, e *benchEnv, cfg config) (*table, error) {
	n := cfg.n
	if n <= 0 {
		n = 50
	}
	body, err := petstore()
	if err != nil {
		return nil, err
	}
	src := source.Source{ID: "bench-nochange", URL: e.specs.set("/nochange/petstore.yaml", body)}
	res, _, err := e.sync(ctx, src)
	if err != nil {
		return nil, err
	}
	if res.NoChange || res.Version != 1 {
		return nil, fmt.Errorf("prime %s: want version 1 stored, got %+v", src.ID, res)
	}
	runBase := func(id string) (time.Duration, error) { return e.baseline(ctx, id) }
	runSync := func() (time.Duration, error) {
		res, d, err := e.sync(ctx, src)
		if err == nil {
			err = expectNoChange(res)
		}
		return d, err
	}
	for i := range cfg.warmup {
		if _, err := runBase(fmt.Sprintf("bench-base/nochange/warm-%d", i)); err != nil {
			return nil, err
		}
		if _, err := runSync(); err != nil {
			return nil, err
		}
	}
	before304 := e.specs.got304.Load()
	base := make([]time.Duration, 0, n)
	syncs := make([]time.Duration, 0, n)
	measure := func(i int, which string) error {
		if which == "base" {
			d, err := runBase(fmt.Sprintf("bench-base/nochange/%d", i))
			base = append(base, d)
			return err
		}
		d, err := runSync()
		syncs = append(syncs, d)
		return err
	}
	if cfg.interleave {
		for i := range n {
			if err := measure(i, "base"); err != nil {
				return nil, err
			}
			if err := measure(i, "sync"); err != nil {
				return nil, err
			}
		}
	} else {
		for _, which := range []string{"base", "sync"} {
			for i := range n {
				if err := measure(i, which); err != nil {
					return nil, err
				}
			}
		}
	}
	got304 := e.specs.got304.Load() - before304

	b, s := summarize(base), summarize(syncs)
	t := &table{
		title: fmt.Sprintf("nochange: %d sequential runs each (%s), after %d warm-up runs each", n, order(cfg.interleave), cfg.warmup),
		head:  []string{"workflow", "runs", "mean ms", "p50 ms", "p95 ms", "min ms", "max ms"},
	}
	t.add("baseline: BenchBaselineWorkflow, 2 no-op activities", fmt.Sprint(b.n), ms(b.mean), ms(b.p50), ms(b.p95), ms(b.min), ms(b.max))
	t.add("SyncJobWorkflow, source unchanged (304)", fmt.Sprint(s.n), ms(s.mean), ms(s.p50), ms(s.p95), ms(s.min), ms(s.max))
	t.add("**ratio sync / baseline** (goal ≤ 1.0×)", "", ratio(s.mean, b.mean), ratio(s.p50, b.p50), ratio(s.p95, b.p95), "", "")
	t.notes = append(t.notes,
		"end to end per run: ExecuteWorkflow + Get from the client, same embedded server, same worker and task queue (`api-live-sync`; the engine polls its own, `api-live-sync-engine`)",
		fmt.Sprintf("the source (httptest on loopback, petstore.yaml with an ETag) answered %d of %d measured syncs with 304 Not Modified", got304, n),
		"each sync is started the product's way (app.StartSync: search attributes, USE_EXISTING conflict policy, priority key)")
	return t, nil
}

func ratio(a, b time.Duration) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", float64(a)/float64(b))
}

// scenarioChanged syncs a ~1 MB spec that alternates between two versions,
// so every sync goes through parse, diff, merge, store and notify.
func scenarioChanged(ctx context.Context, e *benchEnv, cfg config) (*table, error) {
	n := cfg.n
	if n <= 0 {
		n = 10
	}
	vers, desc, err := changedSpecs(cfg)
	if err != nil {
		return nil, err
	}
	const path = "/changed/openapi.yaml"
	src := source.Source{ID: "bench-changed-" + cfg.spec, URL: e.specs.set(path, vers[0])}
	res, _, err := e.sync(ctx, src)
	if err != nil {
		return nil, err
	}
	if res.Version != 1 {
		return nil, fmt.Errorf("prime %s: want version 1, got %+v", src.ID, res)
	}
	version := 1
	warm := min(cfg.warmup, 2)
	var walls, wfDur []time.Duration
	stepSum := map[string]time.Duration{}
	var stepOrder []string
	var last *syncjob.SyncJobResult
	for i := range warm + n {
		v := (i + 1) % 2
		e.specs.set(path, vers[v])
		res, d, err := e.sync(ctx, src)
		if err != nil {
			return nil, err
		}
		version++
		if res.NoChange || res.Version != version || res.Changes == 0 {
			return nil, fmt.Errorf("sync %d of %s: want version %d with changes, got noChange=%v version=%d changes=%d (%s)",
				i, src.ID, version, res.NoChange, res.Version, res.Changes, res.Message)
		}
		if i < warm {
			continue
		}
		last = res
		walls = append(walls, d)
		wfDur = append(wfDur, time.Duration(res.DurationMs)*time.Millisecond)
		for _, st := range res.Steps {
			if _, ok := stepSum[st.Name]; !ok {
				stepOrder = append(stepOrder, st.Name)
			}
			stepSum[st.Name] += time.Duration(st.DurationMs) * time.Millisecond
		}
	}
	histBytes, events, err := e.historySize(ctx, syncjob.SyncWorkflowID(src.ID))
	if err != nil {
		return nil, err
	}

	w, wd := summarize(walls), summarize(wfDur)
	t := &table{
		title: fmt.Sprintf("changed: %d sequential syncs of a %s spec alternating between two versions, after %d warm-up syncs", n, kb(len(vers[0])), warm),
		head:  []string{"measure", "mean", "p50", "p95", "min", "max"},
	}
	t.add("sync, client wall time (ms)", ms(w.mean), ms(w.p50), ms(w.p95), ms(w.min), ms(w.max))
	t.add("sync, workflow's own duration (ms)", ms(wd.mean), ms(wd.p50), ms(wd.p95), ms(wd.min), ms(wd.max))
	for _, name := range stepOrder {
		t.add(fmt.Sprintf("step %s, mean of %d (ms)", name, n), ms(stepSum[name]/time.Duration(n)), "", "", "", "")
	}
	verdict := "met"
	if histBytes >= 32<<10 {
		verdict = "**NOT met**"
	}
	t.add(fmt.Sprintf("history of one sync: %d events (bytes, goal < 32768: %s)", events, verdict), fmt.Sprint(histBytes), "", "", "", "")
	t.notes = append(t.notes,
		fmt.Sprintf("versions: %s and %s of YAML: %s", kb(len(vers[0])), kb(len(vers[1])), desc),
		fmt.Sprintf("last sync: version %d, %d changes (%d breaking), %d paths, %d operations", last.Version, last.Changes, last.BreakingChanges, last.Paths, last.Operations),
		"step durations are the workflow's (workflow.Now around each activity, so they include scheduling and the activity task round trip)",
		"history size: sum of proto.Size of every event of the last sync's run (client.GetWorkflowHistory)")
	return t, nil
}

func kb(n int) string { return fmt.Sprintf("%.0f KB", float64(n)/1000) }

func (e *benchEnv) historySize(ctx context.Context, workflowID string) (int, int, error) {
	it := e.client.GetWorkflowHistory(ctx, workflowID, "", false, 0)
	total, events := 0, 0
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return 0, 0, fmt.Errorf("history of %s: %w", workflowID, err)
		}
		total += proto.Size(ev)
		events++
	}
	return total, events, nil
}

// parallel runs f(0..n-1) with at most inflight calls at once, and returns
// the wall time and each call's latency. It stops at the first error.
func parallel(ctx context.Context, n, inflight int, f func(ctx context.Context, i int) (time.Duration, error)) (time.Duration, []time.Duration, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lat := make([]time.Duration, n)
	sem := make(chan struct{}, inflight)
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	t0 := time.Now()
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			d, err := f(ctx, i)
			if err != nil {
				once.Do(func() { firstErr = err; cancel() })
				return
			}
			lat[i] = d
		}()
	}
	wg.Wait()
	wall := time.Since(t0)
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	return wall, lat, firstErr
}

type roundResult struct {
	wall    time.Duration
	lat     stats
	peakRSS int64 // sampled VmRSS maximum
	hwm     int64 // VmHWM after a reset before the round; 0 when unavailable
}

func measureRound(ctx context.Context, n, inflight int, f func(ctx context.Context, i int) (time.Duration, error)) (roundResult, error) {
	reset := resetPeakRSS()
	sampler := sampleRSS(20 * time.Millisecond)
	wall, lat, err := parallel(ctx, n, inflight, f)
	r := roundResult{wall: wall, lat: summarize(lat), peakRSS: sampler.finish()}
	if reset {
		r.hwm, _ = procStatus("VmHWM")
	}
	return r, err
}

// scenarioRound runs one round of S unchanged sources with inflight syncs
// at a time, beside S bare two-activity workflows with the same limit.
func scenarioRound(ctx context.Context, e *benchEnv, cfg config) (*table, error) {
	s, inflight := cfg.sources, cfg.inflight
	body, err := petstore()
	if err != nil {
		return nil, err
	}
	srcs := make([]source.Source, s)
	for i := range srcs {
		id := fmt.Sprintf("bench-round-%d", i)
		srcs[i] = source.Source{ID: id, URL: e.specs.set("/round/"+id+".yaml", body)}
	}
	primeWall, _, err := parallel(ctx, s, inflight, func(ctx context.Context, i int) (time.Duration, error) {
		res, d, err := e.sync(ctx, srcs[i])
		if err == nil && (res.NoChange || res.Version != 1) {
			err = fmt.Errorf("prime %s: want version 1, got noChange=%v version=%d", srcs[i].ID, res.NoChange, res.Version)
		}
		return d, err
	})
	if err != nil {
		return nil, err
	}
	// Warm the baseline path too (workflow type and activity registrations, connections).
	if _, _, err := parallel(ctx, inflight, inflight, func(ctx context.Context, i int) (time.Duration, error) {
		return e.baseline(ctx, fmt.Sprintf("bench-base/round/warm-%d", i))
	}); err != nil {
		return nil, err
	}

	base, err := measureRound(ctx, s, inflight, func(ctx context.Context, i int) (time.Duration, error) {
		return e.baseline(ctx, fmt.Sprintf("bench-base/round/%d", i))
	})
	if err != nil {
		return nil, err
	}
	before304 := e.specs.got304.Load()
	syncs, err := measureRound(ctx, s, inflight, func(ctx context.Context, i int) (time.Duration, error) {
		res, d, err := e.sync(ctx, srcs[i])
		if err == nil {
			err = expectNoChange(res)
		}
		return d, err
	})
	if err != nil {
		return nil, err
	}
	got304 := e.specs.got304.Load() - before304

	rate := func(r roundResult) float64 { return float64(s) / r.wall.Seconds() }
	t := &table{
		title: fmt.Sprintf("round: %d workflows, %d in flight", s, inflight),
		head:  []string{"round", "wall s", "workflows/s", "latency p50 ms", "latency p95 ms", "peak RSS (sampled VmRSS)", "peak RSS (VmHWM)"},
	}
	hwm := func(r roundResult) string {
		if r.hwm == 0 {
			return "n/a"
		}
		return mib(r.hwm)
	}
	t.add("baseline: BenchBaselineWorkflow, 2 no-op activities", secs(base.wall), fmt.Sprintf("%.1f", rate(base)), ms(base.lat.p50), ms(base.lat.p95), mib(base.peakRSS), hwm(base))
	t.add("SyncJobWorkflow, all sources unchanged (304)", secs(syncs.wall), fmt.Sprintf("%.1f", rate(syncs)), ms(syncs.lat.p50), ms(syncs.lat.p95), mib(syncs.peakRSS), hwm(syncs))
	t.add("**ratio sync / baseline throughput** (goal ≥ 1.0×)", "", fmt.Sprintf("%.2f×", rate(syncs)/rate(base)), "", "", "", "")
	t.notes = append(t.notes,
		fmt.Sprintf("all %d sources primed first (one changed sync each, %d in flight: %s s); the baseline round ran first, then the sync round", s, inflight, secs(primeWall)),
		fmt.Sprintf("%d of %d syncs in the round were answered 304 Not Modified by their source", got304, s),
		"RSS is the whole bench process: the embedded Temporal server (SQLite), the worker, the client and the httptest source server; VmHWM is reset (clear_refs 5) before each round",
		"workers: default worker.Options (as app.RunWorker), on task queues `api-live-sync` (both workflow types) and `api-live-sync-engine` (the engine)")
	return t, nil
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()) }

// loadavg is the first three fields of /proc/loadavg, or "".
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

var errUnknownScenario = errors.New("unknown scenario")
