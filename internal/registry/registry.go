// Package registry is the SyncEngine's registry of sources, kept in the
// store rather than in the engine's workflow state, so the engine carries
// O(1) state across continue-as-new whatever the number of sources (see
// docs/ARCHITECTURE.md). It holds one record per source (its config and
// last outcome), the queue of syncs due, and the engine's config.
//
// Writers: the engine's activities write registrations, pauses and the
// queue; a sync job's report activity writes its own source's outcome.
package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/apilivesync/apilivesync/internal/source"
	"github.com/apilivesync/apilivesync/internal/store"
)

// Job is one registered source and what the engine knows of its syncs.
type Job struct {
	ID                  string        `json:"id"`
	Source              source.Source `json:"source"`
	MaxRetries          *int          `json:"maxRetries,omitempty"`
	Enabled             bool          `json:"enabled"`
	Scheduled           bool          `json:"scheduled"`
	ScheduleID          string        `json:"scheduleId,omitempty"`
	Paused              bool          `json:"paused"`
	PausedReason        string        `json:"pausedReason,omitempty"`
	Running             bool          `json:"running"`
	Queued              bool          `json:"queued"`
	ConsecutiveFailures int           `json:"consecutiveFailures"`
	LastStatus          string        `json:"lastStatus,omitempty"`
	LastError           string        `json:"lastError,omitempty"`
	LastSyncTime        *time.Time    `json:"lastSyncTime,omitempty"`
	LastDurationMs      int64         `json:"lastDurationMs,omitempty"`
	LastVersion         int           `json:"lastVersion,omitempty"`
	LastChanges         int           `json:"lastChanges,omitempty"`
	LastWorkflowID      string        `json:"lastWorkflowId,omitempty"`
	LastRunID           string        `json:"lastRunId,omitempty"`
	// Held says why a queued sync did not run (a dependency failed).
	Held string `json:"held,omitempty"`
	// NextRun is the next time the source's schedule fires (filled by
	// readers that describe the schedule; not stored).
	NextRun *time.Time `json:"nextRun,omitempty"`
	// Generation is the apply that last declared the source.
	Generation string `json:"generation,omitempty"`
	// QueueKey is the source's entry in the queue while Queued.
	QueueKey string `json:"queueKey,omitempty"`
	// QueuedBy is what queued the sync (schedule, engine).
	QueuedBy string `json:"queuedBy,omitempty"`
}

// Registry reads and writes the registry in a store.
type Registry struct{ st *store.Store }

// New is the registry kept in st.
func New(st *store.Store) *Registry { return &Registry{st: st} }

const (
	jobsPrefix  = "jobs/"
	queuePrefix = "queue/"
	configKey   = "engine-config.json"
)

func jobKey(id string) string { return jobsPrefix + id + ".json" }

// ErrNotFound says a source is not registered.
var ErrNotFound = errors.New("not registered")

// Get reads a source's record.
func (r *Registry) Get(ctx context.Context, id string) (*Job, error) {
	if err := source.ValidID("source", id); err != nil {
		return nil, err
	}
	var j Job
	if err := r.st.GetRecord(ctx, jobKey(id), &j); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("source %q: %w", id, ErrNotFound)
		}
		return nil, err
	}
	return &j, nil
}

// Put writes a source's record.
func (r *Registry) Put(ctx context.Context, j *Job) error {
	if err := source.ValidID("source", j.ID); err != nil {
		return err
	}
	return r.st.PutRecord(ctx, jobKey(j.ID), j)
}

// Delete removes a source's record and its queue entry.
func (r *Registry) Delete(ctx context.Context, j *Job) error {
	if j.QueueKey != "" {
		if err := r.st.DeleteRecord(ctx, j.QueueKey); err != nil {
			return err
		}
	}
	return r.st.DeleteRecord(ctx, jobKey(j.ID))
}

// Page lists up to limit records in ID order after the page token, and
// the token of the next page ("" after the last).
func (r *Registry) Page(ctx context.Context, token string, limit int) ([]Job, string, error) {
	keys, next, err := r.st.ListRecords(ctx, jobsPrefix, token, limit)
	if err != nil {
		return nil, "", err
	}
	out := make([]Job, 0, len(keys))
	for _, k := range keys {
		var j Job
		if err := r.st.GetRecord(ctx, k, &j); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				continue // removed while we listed
			}
			return nil, "", err
		}
		out = append(out, j)
	}
	return out, next, nil
}

// Each calls fn for every record, in ID order, a page at a time.
func (r *Registry) Each(ctx context.Context, fn func(*Job) error) error {
	token := ""
	for {
		jobs, next, err := r.Page(ctx, token, 1000)
		if err != nil {
			return err
		}
		for i := range jobs {
			if err := fn(&jobs[i]); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		token = next
	}
}

// Enqueue queues a sync of j, ordered by priority (0 first), then seq; a
// queued job stays where it is. It updates j; the caller writes it.
func (r *Registry) Enqueue(ctx context.Context, j *Job, priority int, seq int64) (bool, error) {
	if j.Queued {
		return false, nil
	}
	key := fmt.Sprintf("%s%d/%020d-%s", queuePrefix, priority, seq, j.ID)
	if err := r.st.PutRecord(ctx, key, j.ID); err != nil {
		return false, err
	}
	j.Queued, j.QueueKey, j.Held = true, key, ""
	return true, nil
}

// Unqueue drops j's queue entry. It updates j; the caller writes it.
func (r *Registry) Unqueue(ctx context.Context, j *Job) error {
	if j.QueueKey != "" {
		if err := r.st.DeleteRecord(ctx, j.QueueKey); err != nil {
			return err
		}
	}
	j.Queued, j.QueueKey = false, ""
	return nil
}

// Dequeue takes up to n entries off the head of the queue, highest
// priority first, and returns the records of their jobs (no longer marked
// queued) and whether entries may remain.
func (r *Registry) Dequeue(ctx context.Context, n int) ([]Job, bool, error) {
	keys, next, err := r.st.ListRecords(ctx, queuePrefix, "", n)
	if err != nil {
		return nil, false, err
	}
	var out []Job
	for _, k := range keys {
		// queue/<priority>/<seq>-<id>: the ID follows the first '-' after the last '/'.
		rest := k[strings.LastIndexByte(k, '/')+1:]
		id := rest[strings.IndexByte(rest, '-')+1:]
		j, err := r.Get(ctx, id)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, false, err
		}
		if err := r.st.DeleteRecord(ctx, k); err != nil {
			return nil, false, err
		}
		if j == nil || j.QueueKey != k {
			continue // removed or requeued since
		}
		j.Queued, j.QueueKey = false, ""
		if err := r.Put(ctx, j); err != nil {
			return nil, false, err
		}
		out = append(out, *j)
	}
	return out, next != "" || len(keys) == n, nil
}

// Config is the engine's config as last saved (so readers need not ask the engine).
func (r *Registry) Config(ctx context.Context, v any) error {
	return r.st.GetRecord(ctx, configKey, v)
}

// SaveConfig records the engine's config.
func (r *Registry) SaveConfig(ctx context.Context, v any) error {
	return r.st.PutRecord(ctx, configKey, v)
}
