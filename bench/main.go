// Command bench measures API Live Sync end to end on one embedded Temporal
// server (SQLite in a temp dir) with the real worker and activities, beside
// a bare two-activity workflow on the same server in the same run:
//
//	go run ./bench -scenario all|nochange|changed|round [-n N] [-sources S] [-inflight K] [-spec generated|stripe] [-out FILE]
//	go run ./bench -scenario load [-load-sources 1000] [-rounds 3] [-concurrency 50] [-change-pct 10]
//	go run ./bench -scenario process [-n 20] [-old-starter PATH]
//	go run ./bench -scenario registry -sources N -reports M [-json]
//	go run ./bench -scenario syncall -sources N [-concurrency 50] [-refresh 1h]
//	go run ./bench -scenario engine-history [-reports 10000] [-report-jobs 100] [-signal-inflight 50] [-signal-rate 0]
//
// The load and engine-history scenarios drive the SyncEngine workflow; "all"
// runs the first three only. It prints a markdown table per scenario; -out appends them to FILE.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"go.temporal.io/server/common/dynamicconfig"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	scenario := flag.String("scenario", "all", "all (= nochange,changed,round), nochange, changed, round, load or engine-history (comma-separated list allowed)")
	n := flag.Int("n", 0, "sequential runs per measurement (default: nochange 50, changed 10)")
	warmup := flag.Int("warmup", 5, "warm-up runs before each sequential measurement (changed: at most 2)")
	sources := flag.Int("sources", 500, "round: number of sources (and of baseline workflows)")
	inflight := flag.Int("inflight", 100, "round: workflows in flight at once")
	paths := flag.Int("paths", 8000, "changed: generated paths in the spec (8000 ≈ 1 MB)")
	interleave := flag.Bool("interleave", true, "nochange: alternate baseline and sync runs instead of running them in two blocks")
	specKind := flag.String("spec", "generated", "changed: generated (petstore + -paths generated paths) or stripe (two real 2.7 MB Stripe specs from internal/diff/testdata/real)")
	tmp := flag.String("tmp", "", "parent of the temporary data dir (SQLite file and store); default the system temp dir. /dev/shm (tmpfs) takes fsync out of the picture")
	out := flag.String("out", "", "append the tables to this file")
	loadSources := flag.Int("load-sources", 1000, "load: sources registered in the engine")
	rounds := flag.Int("rounds", 3, "load: rounds of startSync for all sources after the first sync")
	concurrency := flag.Int("concurrency", 50, "load: the engine's maxConcurrent")
	changePct := flag.Int("change-pct", 10, "load: percent of sources whose spec changes between rounds (a divisor of 100)")
	reports := flag.Int("reports", 10000, "engine-history: syncFinished reports sent to the engine")
	reportJobs := flag.Int("report-jobs", 100, "engine-history: registered jobs the reports name, in turn")
	signalInflight := flag.Int("signal-inflight", 50, "engine-history: signals in flight at once")
	signalRate := flag.Int("signal-rate", 0, "engine-history: signals per second (0: as fast as -signal-inflight allows)")
	serverCache := flag.Int("server-cache", 0, "the embedded server's history cache size in executions (history.hostLevelCacheMaxSize; 0: the dev server's default, 8096), to tell its memory from the worker's")
	memprofile := flag.String("memprofile", "", "write a heap profile (after a GC) to this file when the scenarios end")
	oldStarter := flag.String("old-starter", "", "process: another starter binary to time beside this one")
	refresh := flag.Duration("refresh", 0, "syncall: the sources' refreshInterval (0: no schedules)")
	jsonOut := flag.Bool("json", false, "registry: print the result as one JSON object on the last line")
	canAfter := flag.Int("engine-can-after", 0, "load, engine-history: the engine's continueAsNewAfter (0: the engine's default 500); when set, the server's continue-as-new suggestion is raised too")
	flag.Parse()
	if *sources <= 0 || *inflight <= 0 || *paths <= 0 || *n < 0 || *warmup < 0 {
		return fmt.Errorf("-sources, -inflight and -paths must be positive, -n and -warmup not negative")
	}
	if *loadSources <= 0 || *rounds < 0 || *concurrency <= 0 || *concurrency > 1000 || *changePct <= 0 || *changePct > 100 || 100%*changePct != 0 ||
		*reports <= 0 || *reportJobs <= 0 || *signalInflight <= 0 {
		return fmt.Errorf("-load-sources, -reports, -report-jobs and -signal-inflight must be positive, -rounds not negative, -concurrency 1 to 1000, -change-pct a divisor of 100")
	}
	var which []string
	for _, s := range strings.Split(*scenario, ",") {
		switch s = strings.TrimSpace(s); s {
		case "all":
			which = append(which, "nochange", "changed", "round")
		case "nochange", "changed", "round", "load", "engine-history", "process", "registry", "syncall":
			which = append(which, s)
		default:
			return fmt.Errorf("%w %q: want all, nochange, changed, round, load, engine-history, process or registry", errUnknownScenario, s)
		}
	}
	cfg := config{n: *n, warmup: *warmup, sources: *sources, inflight: *inflight, paths: *paths, interleave: *interleave, spec: *specKind,
		loadSources: *loadSources, rounds: *rounds, concurrency: *concurrency, changePct: *changePct,
		reports: *reports, reportJobs: *reportJobs, signalInflight: *signalInflight, signalRate: *signalRate, engineCANAfter: *canAfter,
		oldStarter: *oldStarter, refresh: *refresh}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var dyn map[string]any
	if *canAfter > 0 {
		dyn = map[string]any{
			dynamicconfig.HistoryCountSuggestContinueAsNew.Key().String(): suggestCANEvents,
			dynamicconfig.HistorySizeSuggestContinueAsNew.Key().String():  suggestCANBytes,
		}
	}
	if *serverCache > 0 {
		if dyn == nil {
			dyn = map[string]any{}
		}
		dyn["history.hostLevelCacheMaxSize"] = *serverCache
	}
	e, err := startEnv(ctx, *tmp, dyn)
	if err != nil {
		return err
	}
	defer e.close()

	var all strings.Builder
	header := fmt.Sprintf("## go run ./bench %s\n\n%s, %s %s/%s, %d CPUs (runtime.NumCPU), GOMAXPROCS %d; embedded Temporal server (SQLite file) started in %s; load average at start %s; %s; data dir %s\n\n",
		strings.Join(os.Args[1:], " "), time.Now().Format(time.RFC3339), runtime.Version(), runtime.GOOS, runtime.GOARCH,
		runtime.NumCPU(), runtime.GOMAXPROCS(0), e.started.Round(time.Millisecond), loadavg(), revision(), e.dir)
	fmt.Print(header)
	all.WriteString(header)
	for _, s := range which {
		fn := map[string]func(context.Context, *benchEnv, config) (*table, error){
			"nochange": scenarioNoChange, "changed": scenarioChanged, "round": scenarioRound,
			"load": scenarioLoad, "engine-history": scenarioEngineHistory, "process": scenarioProcess,
			"registry": scenarioRegistry, "syncall": scenarioSyncAll,
		}[s]
		t0, la := time.Now(), loadavg()
		t, err := fn(ctx, e, cfg)
		if err != nil {
			if t != nil { // a partial table that shows what went wrong
				fmt.Print(t.String())
				all.WriteString(t.String())
				if werr := appendOut(*out, all.String()); werr != nil {
					return werr
				}
			}
			return fmt.Errorf("scenario %s: %w", s, err)
		}
		t.notes = append(t.notes, fmt.Sprintf("scenario took %s; load average before %s, after %s", time.Since(t0).Round(time.Second), la, loadavg()))
		fmt.Print(t.String())
		all.WriteString(t.String())
		if *jsonOut && t.json != "" {
			lastJSON = t.json
		}
	}
	defer func() {
		if lastJSON != "" {
			fmt.Println(lastJSON)
		}
	}()
	if *memprofile != "" {
		if err := writeHeapProfile(*memprofile); err != nil {
			return err
		}
	}
	return appendOut(*out, all.String())
}

// writeHeapProfile writes the live heap, after a collection, to file.
func writeHeapProfile(file string) error {
	f, err := os.Create(file)
	if err != nil {
		return fmt.Errorf("-memprofile %s: %w", file, err)
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("-memprofile %s: %w", file, err)
	}
	return f.Close()
}

// appendOut appends text to the file named by -out, if any.
func appendOut(out, text string) error {
	if out == "" {
		return nil
	}
	f, err := os.OpenFile(out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("open -out %s: %w", out, err)
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return fmt.Errorf("write -out %s: %w", out, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write -out %s: %w", out, err)
	}
	return nil
}

// revision names the checkout measured: its commit and whether tracked
// files had uncommitted changes.
func revision() string {
	rev, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "commit unknown"
	}
	out := "commit " + strings.TrimSpace(string(rev))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		out += fmt.Sprintf(" with uncommitted changes in %d tracked files", strings.Count(string(st), "\n"))
	}
	return out
}

// lastJSON is the last scenario's JSON result (-json), printed as the last line.
var lastJSON string
