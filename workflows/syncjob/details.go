package syncjob

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/apilivesync/apilivesync/internal/source"
)

// Summary is a sync's one-line static summary in the Temporal UI and CLI:
// the source, the API it feeds, and where the source lives.
func Summary(src source.Source) string {
	return fmt.Sprintf("sync %s → API %s: %s", src.ID, src.APIID(), src.Location())
}

// publish shows the job's current details (markdown) in the Temporal UI:
// what it does now, what it found, what it waits for, and the starter
// command that shows more. Details are workflow metadata, not a command,
// so replay is unaffected.
func (j *syncJob) publish(ctx workflow.Context) {
	workflow.SetCurrentDetails(ctx, j.details())
}

func (j *syncJob) details() string {
	st := &j.st
	var b strings.Builder
	b.WriteString(fmt.Sprintf("**%s**", statusLine(st)))
	if st.Step != "" && st.Step != StepDone && st.Status != StatusCompleted {
		b.WriteString(fmt.Sprintf(" · step `%s`", st.Step))
	}
	b.WriteString("\n\n")
	b.WriteString(fmt.Sprintf("- source `%s` → API `%s` (%s)\n", st.SourceID, st.API, st.Location))
	if st.Outcome != "" || st.Trigger != "" {
		b.WriteString(fmt.Sprintf("- outcome `%s`, trigger `%s`\n", orDash(st.Outcome), orDash(st.Trigger)))
	}
	if st.Message != "" && st.Status != StatusStopped {
		b.WriteString(fmt.Sprintf("- %s\n", oneLine(st.Message, 300)))
	}
	if st.Version > 0 {
		b.WriteString(fmt.Sprintf("- version %d, %d change(s), %d breaking\n", st.Version, st.ChangesDetected, st.BreakingChanges))
	}
	if st.Conflicts > 0 {
		b.WriteString(fmt.Sprintf("- %d merge conflict(s)\n", st.Conflicts))
	}
	if st.RetryCount > 0 || st.WorkerLosses > 0 {
		b.WriteString(fmt.Sprintf("- %d retr(ies), %d step(s) lost with a worker\n", st.RetryCount, st.WorkerLosses))
	}
	if st.LastError != "" && st.Status != StatusCompleted {
		b.WriteString(fmt.Sprintf("- last error: %s\n", oneLine(st.LastError, 300)))
	}
	if len(st.Warnings) > 0 {
		b.WriteString(fmt.Sprintf("- %d warning(s), first: %s\n", len(st.Warnings), oneLine(st.Warnings[0], 200)))
	}
	if w := st.Waiting; w != nil {
		b.WriteString(fmt.Sprintf("\n**Waiting for %s** until %s (then: %s). %s\n", w.Kind, w.Deadline.UTC().Format(time.RFC3339), w.OnTimeout, w.Reason))
	}
	if len(j.top) > 0 {
		b.WriteString("\n**Changes**\n\n")
		for _, t := range j.top {
			b.WriteString(fmt.Sprintf("- %s\n", t))
		}
	}
	b.WriteString("\nMore: `starter status " + st.ID + "`")
	if st.Version > 0 {
		b.WriteString(fmt.Sprintf(" · `starter show %s@%d`", st.API, st.Version))
	}
	b.WriteString("\n")
	return b.String()
}

// statusLine is what the job did, in a few words.
func statusLine(st *Status) string {
	switch {
	case st.Outcome == OutcomeRejected:
		return "rejected: the last version stays"
	case st.Outcome == OutcomeHeld || (st.Status == StatusCompleted && st.Blocked):
		return "held by the gate: the last version stays"
	case st.Status == StatusCompleted && st.NoChange:
		return "no change"
	case st.Status == StatusCompleted && st.Version > 0:
		return fmt.Sprintf("stored version %d", st.Version)
	case st.Status == StatusWaiting && st.Waiting != nil:
		return "waiting for " + st.Waiting.Kind
	case st.Status == StatusStopped:
		// Stopped runs close as Completed (stop) or Canceled: say so first.
		return "stopped: " + st.Message
	}
	return st.Status
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
