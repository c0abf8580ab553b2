package main

import (
	"context"
	"errors"
	"fmt"
	"go.temporal.io/sdk/converter"
	"runtime"
	"sort"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/proto"

	"github.com/apilivesync/apilivesync/internal/source"
	"github.com/apilivesync/apilivesync/workflows/engine"
	"github.com/apilivesync/apilivesync/workflows/syncjob"
)

// The two engine scenarios drive the SyncEngine workflow (livesync-engine)
// the product's way: one applyConfig update, startSync updates, the metrics
// and getSyncStatus queries.

// freshEngine terminates a running engine (left by an earlier scenario of
// the same run) so the scenario's metrics and runs start from zero, and
// returns the time before which engine runs belong to someone else.
func (e *benchEnv) freshEngine(ctx context.Context) (time.Time, error) {
	err := e.client.TerminateWorkflow(ctx, engine.EngineWorkflowID, "", "bench: fresh engine for the next scenario")
	var nf *serviceerror.NotFound
	if err != nil && !errors.As(err, &nf) {
		return time.Time{}, fmt.Errorf("terminate %s: %w", engine.EngineWorkflowID, err)
	}
	// Visibility records StartTime with the server's clock: step back a
	// little so the new engine's first run is never filtered out, but not
	// as far as a run this call just terminated.
	t0 := time.Now()
	time.Sleep(1100 * time.Millisecond)
	return t0, nil
}

// engineMetrics runs the metrics query, retrying briefly: a query can miss
// while the engine hands over to its next run.
func (e *benchEnv) engineMetrics(ctx context.Context) (engine.SyncEngineMetrics, error) {
	var m engine.SyncEngineMetrics
	var err error
	for attempt := range 20 {
		var v interface{ Get(any) error }
		if v, err = e.client.QueryWorkflow(ctx, engine.EngineWorkflowID, "", engine.QueryMetrics); err == nil {
			if err = v.Get(&m); err == nil {
				return m, nil
			}
		}
		if ctx.Err() != nil {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
	}
	return m, fmt.Errorf("query %s %s: %w", engine.EngineWorkflowID, engine.QueryMetrics, err)
}

func (e *benchEnv) engineJobs(ctx context.Context) ([]engine.JobInfo, error) {
	v, err := e.client.QueryWorkflow(ctx, engine.EngineWorkflowID, "", engine.QueryGetSyncStatus)
	if err != nil {
		return nil, fmt.Errorf("query %s %s: %w", engine.EngineWorkflowID, engine.QueryGetSyncStatus, err)
	}
	var jobs []engine.JobInfo
	if err := v.Get(&jobs); err != nil {
		return nil, fmt.Errorf("query %s %s: %w", engine.EngineWorkflowID, engine.QueryGetSyncStatus, err)
	}
	return jobs, nil
}

// errEngineStuck: the engine stopped making progress.
var errEngineStuck = errors.New("engine made no progress")

// waitSyncs polls the metrics query every 250ms until TotalSyncs reaches
// want with no active job and an empty queue. It fails when TotalSyncs,
// ActiveJobs and QueueLength stay the same for stall, naming what it saw.
func (e *benchEnv) waitSyncs(ctx context.Context, want int64, stall time.Duration) (engine.SyncEngineMetrics, error) {
	var last engine.SyncEngineMetrics
	lastChange := time.Now()
	for {
		m, err := e.engineMetrics(ctx)
		if err != nil {
			return m, err
		}
		if m.TotalSyncs >= want && m.ActiveJobs == 0 && m.QueueLength == 0 {
			return m, nil
		}
		if m.TotalSyncs != last.TotalSyncs || m.ActiveJobs != last.ActiveJobs || m.QueueLength != last.QueueLength {
			last, lastChange = m, time.Now()
		} else if time.Since(lastChange) > stall {
			detail := ""
			if jobs, err := e.engineJobs(ctx); err == nil {
				var running, queued []string
				for _, j := range jobs {
					if j.Running {
						running = append(running, j.ID+" (last workflow "+j.LastWorkflowID+", last status "+j.LastStatus+")")
					}
					if j.Queued {
						queued = append(queued, j.ID)
					}
				}
				detail = fmt.Sprintf("; running per getSyncStatus (%d): %s; queued (%d): %s", len(running), firstFew(running, 10), len(queued), firstFew(queued, 10))
				detail += e.describeSyncs(ctx, jobs, 3)
			}
			return m, fmt.Errorf("%w for %s: totalSyncs %d of %d, activeJobs %d, queueLength %d%s",
				errEngineStuck, stall, m.TotalSyncs, want, m.ActiveJobs, m.QueueLength, detail)
		}
		select {
		case <-ctx.Done():
			return m, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// describeSyncs says, for up to n jobs the engine believes running, what
// Temporal knows of their SyncJob workflow: the latest run's status and times.
func (e *benchEnv) describeSyncs(ctx context.Context, jobs []engine.JobInfo, n int) string {
	var out []string
	for _, j := range jobs {
		if !j.Running || len(out) == n {
			continue
		}
		d, err := e.client.DescribeWorkflowExecution(ctx, syncjob.SyncWorkflowID(j.ID), "")
		if err != nil {
			out = append(out, fmt.Sprintf("%s: describe: %v", syncjob.SyncWorkflowID(j.ID), err))
			continue
		}
		info := d.WorkflowExecutionInfo
		out = append(out, fmt.Sprintf("%s latest run %s: %s, started %s, closed %s", syncjob.SyncWorkflowID(j.ID), info.Execution.RunId,
			info.Status, info.StartTime.AsTime().Format(time.RFC3339Nano), info.CloseTime.AsTime().Format(time.RFC3339Nano)))
	}
	if len(out) == 0 {
		return ""
	}
	return fmt.Sprintf("; at %s Temporal has: %s", time.Now().UTC().Format(time.RFC3339Nano), strings.Join(out, "; "))
}

func firstFew(s []string, n int) string {
	if len(s) <= n {
		return strings.Join(s, ", ")
	}
	return strings.Join(s[:n], ", ") + fmt.Sprintf(", … (%d more)", len(s)-n)
}

// loadSpec is source i's document in round r: the example petstore with a
// path of its own (so no two sources store the same document) and, from
// round 1 on, one path per round in which the source changed.
func loadSpec(base []byte, i int, changedIn []int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "paths:\n  /source-%d/ping:\n    get:\n      operationId: ping%d\n      responses:\n        '200':\n          description: source %d is alive\n", i, i, i)
	for _, r := range changedIn {
		fmt.Fprintf(&b, "  /round-%d/items:\n    get:\n      operationId: round%dItems\n      responses:\n        '200':\n          description: added in round %d\n", r, r, r)
	}
	return []byte(strings.Replace(string(base), "paths:\n", b.String(), 1))
}

// loadRound is one measured round of the load scenario.
type loadRound struct {
	name             string
	wall             time.Duration
	syncs, failed    int64
	noChange         int64
	changedExpected  int
	meanSyncMs       float64
	peakRSS, rssEnd  int64
	heapEnd          uint64
	engineRunsSoFar  int
	versionsVerified int
}

// scenarioLoad registers S sources with one applyConfig and runs R rounds
// of startSync for all of them, about a tenth changing between rounds.
func scenarioLoad(ctx context.Context, e *benchEnv, cfg config) (*table, error) {
	s, rounds, conc := cfg.loadSources, cfg.rounds, cfg.concurrency
	base, err := petstore()
	if err != nil {
		return nil, err
	}
	t0, err := e.freshEngine(ctx)
	if err != nil {
		return nil, err
	}
	srcs := make([]source.Source, s)
	paths := make([]string, s)
	changedIn := make([][]int, s)
	version := make([]int, s) // the version each source's API should be at
	for i := range srcs {
		id := fmt.Sprintf("bench-load-%04d", i)
		paths[i] = "/load/" + id + ".yaml"
		srcs[i] = source.Source{ID: id, URL: e.specs.set(paths[i], loadSpec(base, i, nil))}
	}
	applyStart := time.Now()
	var applied engine.ApplyResult
	if err := engine.Update(ctx, e.client, engine.UpdateApplyConfig,
		engine.ApplyInput{Config: &engine.EngineConfig{MaxConcurrent: conc, ContinueAsNewAfter: cfg.engineCANAfter}, Sources: srcs}, &applied); err != nil {
		return nil, err
	}
	applyTook := time.Since(applyStart)
	if len(applied.Added) != s {
		return nil, fmt.Errorf("applyConfig of %d sources: %d added, %d updated, %d unchanged", s, len(applied.Added), len(applied.Updated), len(applied.Unchanged))
	}
	m0, err := e.engineMetrics(ctx)
	if err != nil {
		return nil, err
	}
	if m0.RegisteredSources != s {
		return nil, fmt.Errorf("after applyConfig the engine reports %d registered sources, want %d", m0.RegisteredSources, s)
	}

	// Source i belongs to group i % groups; round r ≥ 1 changes group (r-1) % groups.
	groups := 100 / cfg.changePct
	var results []loadRound
	var roundErr error
	var failedRow []string
	prev := m0
	for r := 0; r <= rounds; r++ {
		changed := 0
		for i := range srcs {
			switch {
			case r == 0:
				version[i], changed = 1, changed+1
			case i%groups == (r-1)%groups:
				changedIn[i] = append(changedIn[i], r)
				e.specs.set(paths[i], loadSpec(base, i, changedIn[i]))
				version[i]++
				changed++
			}
		}
		runtime.GC() // start every round from a collected heap, so rounds compare
		sampler := sampleRSS(250 * time.Millisecond)
		start := time.Now()
		var sel engine.SelectResult
		if err := engine.Update(ctx, e.client, engine.UpdateStartSync, engine.SelectInput{}, &sel); err != nil {
			sampler.finish()
			return nil, err
		}
		if len(sel.IDs) != s {
			sampler.finish()
			return nil, fmt.Errorf("round %d: startSync reached %d sources, want %d", r, len(sel.IDs), s)
		}
		m, err := e.waitSyncs(ctx, prev.TotalSyncs+int64(s), 90*time.Second)
		wall := time.Since(start)
		peak := sampler.finish()
		if err != nil {
			roundErr = fmt.Errorf("round %d: %w", r, err)
			failedRow = []string{fmt.Sprintf("round %d: **stuck**", r), secs(wall), "", fmt.Sprintf("%d of %d", m.TotalSyncs-prev.TotalSyncs, s),
				"", fmt.Sprint(m.FailedSyncs - prev.FailedSyncs), "", mib(peak), "", "", ""}
			break
		}
		rssEnd, _ := procStatus("VmRSS")
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		lr := loadRound{
			name: fmt.Sprintf("round %d", r), wall: wall,
			syncs: m.TotalSyncs - prev.TotalSyncs, failed: m.FailedSyncs - prev.FailedSyncs, noChange: m.NoChangeSyncs - prev.NoChangeSyncs,
			changedExpected: changed, peakRSS: peak, rssEnd: rssEnd, heapEnd: ms.HeapAlloc,
		}
		if r == 0 {
			lr.name = "round 0 (first sync: every source new)"
		}
		if lr.syncs > 0 {
			lr.meanSyncMs = (m.AverageSyncTime*float64(m.TotalSyncs) - prev.AverageSyncTime*float64(prev.TotalSyncs)) / float64(lr.syncs)
		}
		// Every job must have finished this round with the version its
		// document asks for: a stored change where the source changed, the
		// same version where it did not.
		jobs, err := e.engineJobs(ctx)
		if err != nil {
			return nil, err
		}
		var wrong []string
		idx := map[string]int{}
		for i, src := range srcs {
			idx[src.ID] = i
		}
		for _, j := range jobs {
			i, ok := idx[j.ID]
			if !ok {
				continue
			}
			if j.LastStatus != syncjob.StatusCompleted || j.LastVersion != version[i] || j.Running {
				wrong = append(wrong, fmt.Sprintf("%s: status %q version %d (want %d) running=%v error %q", j.ID, j.LastStatus, j.LastVersion, version[i], j.Running, j.LastError))
				continue
			}
			lr.versionsVerified++
		}
		if lr.failed != 0 || lr.syncs != int64(s) || len(wrong) > 0 || (r > 0 && lr.noChange != int64(s-changed)) {
			failedRow = []string{fmt.Sprintf("round %d: **wrong results**", r), secs(wall), "", fmt.Sprint(lr.syncs), "", fmt.Sprint(lr.failed), "", mib(peak), mib(rssEnd), "", ""}
			roundErr = fmt.Errorf("round %d: %d syncs (want %d), %d failed, %d no-change (want %d); jobs not as expected (%d): %s",
				r, lr.syncs, s, lr.failed, lr.noChange, s-changed, len(wrong), firstFew(wrong, 10))
			break
		}
		runs, err := e.engineRuns(ctx, t0, false)
		if err == nil {
			lr.engineRunsSoFar = len(runs)
		}
		results = append(results, lr)
		prev = m
		fmt.Printf("load: %s: %s s, %d syncs, %d changed, %d failed, peak RSS %s, RSS after %s\n", lr.name, secs(wall), lr.syncs, changed, lr.failed, mib(peak), mib(rssEnd))
	}
	hist, err := e.engineHistory(ctx, t0)
	if err != nil {
		return nil, err
	}

	t := &table{
		title: fmt.Sprintf("load: %d sources in the engine, maxConcurrent %d, %d rounds of startSync for all after the first sync", s, conc, rounds),
		head:  []string{"round", "wall s", "syncs/s", "syncs", "changed (stored a new version)", "failed", "mean sync ms (engine)", "peak RSS (VmRSS every 250ms)", "RSS after round", "live Go heap after round (after a GC)", "engine runs so far"},
	}
	for _, lr := range results {
		t.add(lr.name, secs(lr.wall), fmt.Sprintf("%.1f", float64(lr.syncs)/lr.wall.Seconds()), fmt.Sprint(lr.syncs),
			fmt.Sprint(int64(lr.syncs)-lr.noChange), fmt.Sprint(lr.failed), fmt.Sprintf("%.0f", lr.meanSyncMs),
			mib(lr.peakRSS), mib(lr.rssEnd), mib(int64(lr.heapEnd)), fmt.Sprint(lr.engineRunsSoFar))
	}
	if failedRow != nil {
		t.add(failedRow...)
	}
	t.notes = append(t.notes,
		fmt.Sprintf("one applyConfig update registered %d sources (refreshInterval 0: no schedules) in %s s; the engine reported %d registered sources", s, secs(applyTook), m0.RegisteredSources),
		fmt.Sprintf("each round: one startSync update (all sources), then the metrics query every 250 ms until totalSyncs grew by %d with activeJobs 0 and queueLength 0; wall = startSync sent → that moment", s),
		fmt.Sprintf("sources: the example petstore (%s) plus a path of their own, served by the httptest server with ETags; in round r ≥ 1 the %d%% of sources whose index ≡ r-1 (mod 100/pct) gain a path (a real parse, diff, merge and store), the rest answer 304", kb(len(base)), cfg.changePct),
		"checked after every round: failedSyncs did not grow, noChangeSyncs grew by exactly the unchanged sources, and getSyncStatus shows every job completed at the version its document should have",
		"RSS is the whole bench process (embedded Temporal server with SQLite, the worker, the client, the source server); RSS after round is read before, the live heap (runtime.MemStats.HeapAlloc) after a runtime.GC(); RSS stays well above the live heap because the Go runtime keeps up to GOGC=100 of garbage and returns freed pages lazily",
		canNote(cfg), hist.summary(), "per engine run, oldest first, bytes/events/child starts/unconfirmed child starts/open Notify: "+hist.perRun())
	if roundErr != nil {
		t.notes = append(t.notes, "**failed**: "+roundErr.Error())
		if jobs, err := e.engineJobs(ctx); err == nil {
			traced := 0
			for _, j := range jobs {
				if j.Running && traced < 2 {
					t.notes = append(t.notes, fmt.Sprintf("engine events naming %s (last 6, oldest first): %s", j.ID, e.traceJob(ctx, hist.runs, j.ID, 6)))
					traced++
				}
			}
		}
	}
	return t, roundErr
}

// traceJob lists the last n events of the engine's runs that name job id:
// child starts, and syncStarted / syncFinished signals (with their status).
func (e *benchEnv) traceJob(ctx context.Context, runs []engineRun, id string, n int) string {
	var out []string
	needle := `"jobId":"` + id + `"`
	for ri, r := range runs {
		it := e.client.GetWorkflowHistory(ctx, engine.EngineWorkflowID, r.runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				return fmt.Sprintf("history of run %s: %v", r.runID, err)
			}
			at := fmt.Sprintf("run %d event %d at %s", ri, ev.EventId, ev.EventTime.AsTime().Format("15:04:05.000"))
			switch ev.EventType {
			case enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
				if ev.GetStartChildWorkflowExecutionInitiatedEventAttributes().GetWorkflowId() == syncjob.SyncWorkflowID(id) {
					out = append(out, at+": child start initiated")
				}
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
				a := ev.GetWorkflowExecutionSignaledEventAttributes()
				for _, p := range a.GetInput().GetPayloads() {
					if d := string(p.GetData()); strings.Contains(d, needle) {
						status := ""
						if i := strings.Index(d, `"status":"`); i >= 0 {
							status = strings.SplitN(d[i+10:], `"`, 2)[0]
						}
						out = append(out, fmt.Sprintf("%s: signal %s (%s)", at, a.GetSignalName(), status))
					}
				}
			}
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return strings.Join(out, "; ")
}

// canNote says how the engine's continue-as-new was configured.
func canNote(cfg config) string {
	if cfg.engineCANAfter <= 0 {
		return "engine continueAsNewAfter: the default (500 handled events), server's continue-as-new suggestion at its defaults (4096 events, 4 MiB)"
	}
	return fmt.Sprintf("**engine continueAsNewAfter %d and the server's continue-as-new suggestion raised to %d events / %d MiB** (-engine-can-after): the engine runs without continue-as-new during the scenario, to measure load apart from the continue-as-new bug", cfg.engineCANAfter, suggestCANEvents, suggestCANBytes>>20)
}

// With -engine-can-after the server suggests continue-as-new only this late
// (its hard limits are 51200 events and 50 MiB).
const (
	suggestCANEvents = 45000
	suggestCANBytes  = 45 << 20
)

// engineRun is one run (execution) of the engine workflow.
type engineRun struct {
	runID       string
	start       time.Time
	status      enumspb.WorkflowExecutionStatus
	bytes       int
	events      int
	signals     int // syncFinished signals
	firstEvent  int // bytes of the first event (carries the continued state)
	nextRunID   string
	notifyOpen  int // Notify activities scheduled but not completed when the run closed
	childStarts int // StartChildWorkflowExecutionInitiated events
	wftFailed   int // WorkflowTaskFailed events (UnhandledCommand: signals arrived while the run tried to close)
	// lostStarts: child starts initiated in a run that closed before the
	// server recorded them started or failed (with parent close policy
	// ABANDON the server then never starts the child).
	lostStarts []string
	// startTotal is totalSyncs in the state the run started with (-1: none).
	startTotal int64
}

// engineRuns lists the runs of livesync-engine started at or after t0,
// oldest first. With complete, it retries until the listing forms one
// chain (visibility is eventually consistent) ending in a running run.
func (e *benchEnv) engineRuns(ctx context.Context, t0 time.Time, complete bool) ([]engineRun, error) {
	query := fmt.Sprintf("WorkflowId = '%s' AND StartTime >= '%s'", engine.EngineWorkflowID, t0.UTC().Format(time.RFC3339Nano))
	var runs []engineRun
	for attempt := 0; ; attempt++ {
		runs = runs[:0]
		var token []byte
		for {
			resp, err := e.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
				Namespace: e.server.Namespace(), Query: query, NextPageToken: token, PageSize: 1000,
			})
			if err != nil {
				return nil, fmt.Errorf("list executions of %s: %w", engine.EngineWorkflowID, err)
			}
			for _, ex := range resp.Executions {
				runs = append(runs, engineRun{runID: ex.Execution.RunId, start: ex.StartTime.AsTime(), status: ex.Status})
			}
			if token = resp.NextPageToken; len(token) == 0 {
				break
			}
		}
		sort.Slice(runs, func(a, b int) bool { return runs[a].start.Before(runs[b].start) })
		if !complete {
			return runs, nil
		}
		ok := len(runs) > 0 && runs[len(runs)-1].status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
		for _, r := range runs[:max(len(runs)-1, 0)] {
			ok = ok && r.status == enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW
		}
		if ok || attempt >= 60 {
			return runs, nil
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// engineHistory measures every run of the engine since t0.
type engineHistoryStats struct {
	runs               []engineRun
	largest, current   engineRun
	totalSignals       int
	chainOK            bool
	maxFirst           int
	notifyOpen, starts int
	chainProblem       string
	wftCauses          map[string]int // WorkflowTaskFailed causes over all runs
	lostStarts         []string       // see engineRun.lostStarts, over all closed runs
	types              map[string]int // events by type over all runs
	miscounted         []string       // runs whose count differs from their reports
}

func (e *benchEnv) engineHistory(ctx context.Context, t0 time.Time) (*engineHistoryStats, error) {
	runs, err := e.engineRuns(ctx, t0, true)
	if err != nil {
		return nil, err
	}
	st := &engineHistoryStats{chainOK: true, wftCauses: map[string]int{}, types: map[string]int{}}
	for i := range runs {
		r := &runs[i]
		it := e.client.GetWorkflowHistory(ctx, engine.EngineWorkflowID, r.runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		scheduled := map[int64]bool{}
		initiated := map[int64]string{} // child starts not yet confirmed: event ID → workflow ID
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				return nil, fmt.Errorf("history of %s run %s: %w", engine.EngineWorkflowID, r.runID, err)
			}
			size := proto.Size(ev)
			st.types[ev.EventType.String()]++
			if ev.EventType == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED {
				r.startTotal = -1
				var in engine.EngineInput
				if err := converter.GetDefaultDataConverter().FromPayloads(ev.GetWorkflowExecutionStartedEventAttributes().GetInput(), &in); err == nil && in.State != nil {
					r.startTotal = in.State.Metrics.TotalSyncs
				}
			}
			if r.events == 0 {
				r.firstEvent = size
			}
			r.bytes += size
			r.events++
			switch ev.EventType {
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
				if ev.GetWorkflowExecutionSignaledEventAttributes().GetSignalName() == syncjob.SignalSyncFinished {
					r.signals++
				}
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
				if ev.GetWorkflowExecutionUpdateAcceptedEventAttributes().GetAcceptedRequest().GetInput().GetName() == engine.UpdateReportSync {
					r.signals++
				}
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
				r.nextRunID = ev.GetWorkflowExecutionContinuedAsNewEventAttributes().GetNewExecutionRunId()
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
				if ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName() == "Notify" {
					scheduled[ev.EventId] = true
				}
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
				delete(scheduled, ev.GetActivityTaskCompletedEventAttributes().GetScheduledEventId())
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED:
				delete(scheduled, ev.GetActivityTaskFailedEventAttributes().GetScheduledEventId())
			case enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
				r.childStarts++
				initiated[ev.EventId] = ev.GetStartChildWorkflowExecutionInitiatedEventAttributes().GetWorkflowId()
			case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
				delete(initiated, ev.GetChildWorkflowExecutionStartedEventAttributes().GetInitiatedEventId())
			case enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED:
				delete(initiated, ev.GetStartChildWorkflowExecutionFailedEventAttributes().GetInitiatedEventId())
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED:
				r.wftFailed++
				st.wftCauses[ev.GetWorkflowTaskFailedEventAttributes().GetCause().String()]++
			}
		}
		if r.status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			r.notifyOpen = len(scheduled)
			for _, id := range initiated {
				r.lostStarts = append(r.lostStarts, id)
			}
			sort.Strings(r.lostStarts)
			st.lostStarts = append(st.lostStarts, r.lostStarts...)
		}
		st.totalSignals += r.signals
		st.notifyOpen += r.notifyOpen
		st.starts += r.childStarts
		st.maxFirst = max(st.maxFirst, r.firstEvent)
		if r.status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			st.current = *r
		} else if r.bytes > st.largest.bytes {
			st.largest = *r
		}
		if i > 0 && runs[i-1].nextRunID != r.runID {
			st.chainOK = false
			st.chainProblem = fmt.Sprintf("run %d (%s) continued as %q, but the next listed run is %s", i-1, runs[i-1].runID, runs[i-1].nextRunID, r.runID)
		}
	}
	if st.current.bytes > st.largest.bytes {
		st.largest = st.current
	}
	st.runs = runs
	// Each run must count exactly the reports in its history.
	for i := 0; i+1 < len(runs); i++ {
		if runs[i].startTotal >= 0 && runs[i+1].startTotal >= 0 && runs[i+1].startTotal-runs[i].startTotal != int64(runs[i].signals) {
			st.miscounted = append(st.miscounted, fmt.Sprintf("run %d (%s): %d reports in history, counted %d (failed tasks %d)", i, runs[i].runID, runs[i].signals, runs[i+1].startTotal-runs[i].startTotal, runs[i].wftFailed))
		}
	}
	return st, nil
}

func (h *engineHistoryStats) perRun() string {
	var out []string
	for _, r := range h.runs {
		out = append(out, fmt.Sprintf("%d/%d/%d/%d/%d", r.bytes, r.events, r.childStarts, len(r.lostStarts), r.notifyOpen))
	}
	return strings.Join(out, ", ")
}

func (h *engineHistoryStats) summary() string {
	chain := "each run's ContinuedAsNew event names the next listed run"
	if !h.chainOK {
		chain = "**chain broken**: " + h.chainProblem
	}
	causes := "none"
	if len(h.wftCauses) > 0 {
		var cs []string
		for c, n := range h.wftCauses {
			cs = append(cs, fmt.Sprintf("%d × %s", n, c))
		}
		sort.Strings(cs)
		causes = strings.Join(cs, ", ")
	}
	if len(h.miscounted) > 0 {
		causes += "; MISCOUNTED: " + strings.Join(h.miscounted, "; ")
	}
	return fmt.Sprintf("engine history (ListWorkflow WorkflowId='%s' since the scenario began, then GetWorkflowHistory per run, sum of proto.Size of events): %d runs (%d continue-as-new); largest run %d bytes / %d events; current run %d bytes / %d events; largest first event (the state carried across continue-as-new) %d bytes; %s; %d child SyncJob starts, of which %d were still unconfirmed when their run continued as new (%s); %d Notify activities (source.added) still open when their run continued as new; failed workflow tasks: %s",
		engine.EngineWorkflowID, len(h.runs), len(h.runs)-1, h.largest.bytes, h.largest.events, h.current.bytes, h.current.events, h.maxFirst, chain, h.starts, len(h.lostStarts), firstFew(h.lostStarts, 5), h.notifyOpen, causes)
}

// scenarioEngineHistory sends N syncFinished reports straight to the engine
// and shows its history stays bounded by continue-as-new while the metrics
// carry over.
func scenarioEngineHistory(ctx context.Context, e *benchEnv, cfg config) (*table, error) {
	n, k := cfg.reports, cfg.reportJobs
	t0, err := e.freshEngine(ctx)
	if err != nil {
		return nil, err
	}
	srcs := make([]source.Source, k)
	for i := range srcs {
		id := fmt.Sprintf("bench-hist-%03d", i)
		srcs[i] = source.Source{ID: id, URL: e.specs.srv.URL + "/hist/" + id + ".yaml"}
	}
	var applied engine.ApplyResult
	in := engine.ApplyInput{Sources: srcs}
	if cfg.engineCANAfter > 0 {
		in.Config = &engine.EngineConfig{ContinueAsNewAfter: cfg.engineCANAfter}
	}
	if err := engine.Update(ctx, e.client, engine.UpdateApplyConfig, in, &applied); err != nil {
		return nil, err
	}
	if len(applied.Added) != k {
		return nil, fmt.Errorf("applyConfig of %d sources: %d added", k, len(applied.Added))
	}
	var ecfg engine.EngineConfig
	if v, err := e.client.QueryWorkflow(ctx, engine.EngineWorkflowID, "", engine.QueryGetConfig); err != nil || v.Get(&ecfg) != nil {
		return nil, fmt.Errorf("query %s %s: %v", engine.EngineWorkflowID, engine.QueryGetConfig, err)
	}

	sampler := sampleRSS(250 * time.Millisecond)
	sendStart := time.Now()
	wall, _, err := parallel(ctx, n, cfg.signalInflight, func(ctx context.Context, i int) (time.Duration, error) {
		if cfg.signalRate > 0 {
			time.Sleep(time.Until(sendStart.Add(time.Duration(i) * time.Second / time.Duration(cfg.signalRate))))
		}
		id := srcs[i%k].ID
		r := syncjob.SyncReport{JobID: id, WorkflowID: syncjob.SyncWorkflowID(id), Status: syncjob.StatusCompleted, NoChange: true, DurationMs: int64(40 + i%20)}
		t := time.Now()
		if err := e.client.SignalWorkflow(ctx, engine.EngineWorkflowID, "", syncjob.SignalSyncFinished, r); err != nil {
			return 0, fmt.Errorf("signal %s report %d: %w", syncjob.SignalSyncFinished, i, err)
		}
		return time.Since(t), nil
	})
	if err != nil {
		sampler.finish()
		return nil, err
	}
	m, err := e.waitSyncs(ctx, int64(n), 2*time.Minute)
	settled := time.Since(t0)
	peak := sampler.finish()
	if err != nil {
		return nil, err
	}
	// Let a straggling handover finish, then read the final numbers.
	time.Sleep(time.Second)
	if m, err = e.engineMetrics(ctx); err != nil {
		return nil, err
	}
	h, err := e.engineHistory(ctx, t0)
	if err != nil {
		return nil, err
	}

	verdict := func(ok bool) string {
		if ok {
			return "yes"
		}
		return "**NO**"
	}
	t := &table{
		title: fmt.Sprintf("engine-history: %d syncFinished reports for %d registered jobs, continueAsNewAfter %d", n, k, ecfg.ContinueAsNewAfter),
		head:  []string{"measure", "value"},
	}
	t.add("reports sent (client.SignalWorkflow, syncFinished)", fmt.Sprint(n))
	t.add("send wall s / reports per s", fmt.Sprintf("%s / %.0f", secs(wall), float64(n)/wall.Seconds()))
	t.add("metrics totalSyncs at the end (want "+fmt.Sprint(n)+")", fmt.Sprintf("%d (%s)", m.TotalSyncs, verdict(m.TotalSyncs == int64(n))))
	t.add("metrics successful / failed / noChange", fmt.Sprintf("%d / %d / %d", m.SuccessfulSyncs, m.FailedSyncs, m.NoChangeSyncs))
	t.add("metrics activeJobs / queueLength / registeredSources", fmt.Sprintf("%d / %d / %d", m.ActiveJobs, m.QueueLength, m.RegisteredSources))
	t.add("syncFinished signals in the runs' histories (want "+fmt.Sprint(n)+")", fmt.Sprintf("%d (%s)", h.totalSignals, verdict(h.totalSignals == n)))
	t.add("engine runs (continue-as-new count)", fmt.Sprintf("%d (%d)", len(h.runs), len(h.runs)-1))
	t.add("largest run: bytes / events / reports / failed workflow tasks", fmt.Sprintf("%d / %d / %d / %d", h.largest.bytes, h.largest.events, h.largest.signals, h.largest.wftFailed))
	t.add("current run: bytes / events / reports", fmt.Sprintf("%d / %d / %d", h.current.bytes, h.current.events, h.current.signals))
	t.add("largest first event (state carried over)", fmt.Sprint(h.maxFirst))
	t.add("runs form one continue-as-new chain", verdict(h.chainOK))
	t.add("peak RSS of the process while sending", mib(peak))
	var sizes []string
	for _, r := range h.runs {
		sizes = append(sizes, fmt.Sprintf("%d/%d/%d/%d", r.bytes, r.events, r.signals, r.wftFailed))
	}
	t.notes = append(t.notes,
		fmt.Sprintf("reports: syncjob.SyncReport{Status: completed, NoChange: true} for the %d jobs in turn, sent with client.SignalWorkflow to %s (no run ID: the current run), %d in flight, %s; no SyncJob runs, so this measures the engine's own bookkeeping, not syncs", k, engine.EngineWorkflowID, cfg.signalInflight, rateText(cfg.signalRate)),
		fmt.Sprintf("the %d jobs were registered first with one applyConfig (refreshInterval 0); settled %s s after the scenario began", k, secs(settled)),
		"runs: ListWorkflow WorkflowId='"+engine.EngineWorkflowID+"' since the scenario began; history bytes = sum of proto.Size of every event of a run (GetWorkflowHistory)",
		"per run, oldest first, bytes/events/reports/failed workflow tasks: "+strings.Join(sizes, ", "),
		canNote(cfg), h.summary())
	if m.TotalSyncs != int64(n) || h.totalSignals != n || !h.chainOK {
		fmt.Print(t.String())
		return t, fmt.Errorf("engine-history: totalSyncs %d, signals in history %d, want %d each; chain ok %v", m.TotalSyncs, h.totalSignals, n, h.chainOK)
	}
	return t, nil
}

func rateText(perSec int) string {
	if perSec <= 0 {
		return "as fast as the server takes them"
	}
	return fmt.Sprintf("paced at %d per second", perSec)
}
