// Package activities holds API Live Sync's side effects: fetching, parsing,
// diffing, merging, resolving, storing and notifying. Each activity is a
// method on Activities, whose dependencies are injected; workflows call them
// through a nil *Activities. Inputs and results carry hashes, keys, counts
// and short summaries, never spec documents: those live in the store.
package activities

import (
	"encoding/json"
	"time"

	"github.com/apilivesync/apilivesync/internal/kind"
	"github.com/apilivesync/apilivesync/internal/source"
)

// Stable error types of permanent (non-retryable) failures. Users and
// alerting match on these strings.
const (
	ErrTypeFetch      = "FetchFailed"       // a permanent fetch failure: 404, 4xx, blocked address, too large, redirects
	ErrTypeSpec       = "InvalidSpec"       // not YAML/JSON, not an API spec, broken $ref, …
	ErrTypeSource     = "InvalidSource"     // the source's configuration is wrong (bad URL, missing secret)
	ErrTypeHeadMoved  = "HeadMoved"         // another writer stored a version first: re-merge
	ErrTypeMerge      = "MergeFailed"       // the merged document is not a valid spec
	ErrTypeResolution = "InvalidResolution" // a conflict resolution was rejected
	ErrTypeNotFound   = "NotFound"          // a stored API, version or blob is missing
)

// Counts summarize a document (kind.Counts).
type Counts = kind.Counts

// Decision records how one merge conflict was decided.
type Decision struct {
	Pointer  string `json:"pointer"`
	Choice   string `json:"choice"`
	Strategy string `json:"strategy"`
	Reason   string `json:"reason,omitempty"`
}

// FetchInput asks for a source's current spec.
type FetchInput struct {
	Source source.Source `json:"source"`
	// Force skips the conditional request and the unchanged-content shortcut.
	Force bool `json:"force,omitempty"`
}

// FetchResult says what the fetch found. The body itself is in the store
// under RawHash.
type FetchResult struct {
	// NotModified is true when the server answered 304 Not Modified.
	NotModified bool `json:"notModified,omitempty"`
	// Unchanged is true when the bytes hash to what the source gave last
	// time, or a file's size and modification time are those of the last
	// fetch.
	Unchanged    bool   `json:"unchanged,omitempty"`
	RawHash      string `json:"rawHash,omitempty"`
	Bytes        int64  `json:"bytes"`
	StatusCode   int    `json:"statusCode,omitempty"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"lastModified,omitempty"`
	Redirects    int    `json:"redirects,omitempty"`
	// BaseHash is the canonical document last synced from this source ("" the first time).
	BaseHash string `json:"baseHash,omitempty"`
	// HeadVersion and HeadHash are the API's current version, reported when
	// nothing changed.
	HeadVersion int    `json:"headVersion,omitempty"`
	HeadHash    string `json:"headHash,omitempty"`
}

// ParseInput asks to validate and normalize a fetched document.
type ParseInput struct {
	SourceID string `json:"sourceId"`
	Location string `json:"location,omitempty"`
	RawHash  string `json:"rawHash"`
	// URL or File is the source's location, against which relative
	// references resolve; Headers are its header references (for
	// references on the same origin).
	URL     string            `json:"url,omitempty"`
	File    string            `json:"file,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	// Strict refuses dangling references instead of warning.
	Strict bool `json:"strict,omitempty"`
	// Kind is the source's kind (openapi, graphql, postman); empty detects it.
	Kind string `json:"kind,omitempty"`
}

// ParseResult describes a valid document, normalized and stored under Hash.
type ParseResult struct {
	Hash   string `json:"hash"`
	Counts Counts `json:"counts"`
}

// DiffInput asks what changed between two stored documents.
type DiffInput struct {
	API      string `json:"api"`
	SourceID string `json:"sourceId,omitempty"`
	OldHash  string `json:"oldHash"`
	NewHash  string `json:"newHash"`
	// RulesFile is an optional rules YAML file; empty uses the default rules.
	RulesFile string `json:"rulesFile,omitempty"`
}

// DiffResult summarizes a change report stored under ReportHash.
type DiffResult struct {
	Total      int      `json:"total"`
	Breaking   int      `json:"breaking"`
	ReportHash string   `json:"reportHash,omitempty"`
	RuleSet    string   `json:"ruleSet,omitempty"`
	Top        []string `json:"top,omitempty"` // at most MaxTopChanges one-line summaries
}

// MaxTopChanges bounds the change summaries carried in history.
const MaxTopChanges = 10

// MergeInput asks to merge a source's new document into its API.
type MergeInput struct {
	API        string           `json:"api"`
	SourceID   string           `json:"sourceId"`
	BaseHash   string           `json:"baseHash,omitempty"`
	RemoteHash string           `json:"remoteHash"`
	Owns       source.Ownership `json:"owns,omitempty"`
	Strategy   string           `json:"strategy,omitempty"`
}

// Conflict is a merge conflict as carried in history: where, and the hash of
// the values (which live in the store, under MergeResult.ConflictsHash).
type Conflict struct {
	ID      string `json:"id"`
	Pointer string `json:"pointer"`
	Kind    string `json:"kind"`
	// Location is where people read the conflict when the pointer is not
	// it: a GraphQL schema coordinate (User.email(arg:)) or a Postman
	// request path ("/Users/Get user#method").
	Location string `json:"location,omitempty"`
}

// MergeResult is the merged document (in the store) and what is left open.
type MergeResult struct {
	// HeadVersion and HeadHash are the API version the merge was made on
	// (0 and "" for a new API).
	HeadVersion int    `json:"headVersion"`
	HeadHash    string `json:"headHash,omitempty"`
	MergedHash  string `json:"mergedHash"`
	AutoMerged  int    `json:"autoMerged"`
	// Conflicts are the open conflicts (at most MaxConflictsInHistory; their
	// values are stored under ConflictsHash); ConflictCount counts them all.
	Conflicts     []Conflict `json:"conflicts,omitempty"`
	ConflictCount int        `json:"conflictCount,omitempty"`
	ConflictsHash string     `json:"conflictsHash,omitempty"`
	// Ignored lists what the remote sent outside the source's ownership.
	Ignored int `json:"ignored,omitempty"`
}

// StoreInput asks to store a new version of an API and remember the
// source's state, in that order.
type StoreInput struct {
	API         string        `json:"api"`
	Source      source.Source `json:"source"`
	ParentVer   int           `json:"parentVersion"`
	DocHash     string        `json:"docHash"`
	BaseHash    string        `json:"baseHash"` // the source's new merge base (its normalized document)
	RawHash     string        `json:"rawHash"`
	ETag        string        `json:"etag,omitempty"`
	LastMod     string        `json:"lastModified,omitempty"`
	Counts      Counts        `json:"counts"`
	Diff        DiffResult    `json:"diff"`
	DiffOldHash string        `json:"diffOldHash,omitempty"` // what Diff compared, to reuse it when it matches
	Decisions   []Decision    `json:"decisions,omitempty"`
	Origin      string        `json:"origin,omitempty"`
	Key         string        `json:"idempotencyKey"`
}

// StoreResult is the stored version.
type StoreResult struct {
	Version int    `json:"version"`
	Hash    string `json:"hash"`
	// Created is false when the document equals the head: nothing new was stored.
	Created  bool `json:"created"`
	Changes  int  `json:"changes"`
	Breaking int  `json:"breaking"`
	// ReportHash and Top are the version's own report (head → stored),
	// the one Changes and Breaking count, so a summary never mixes two.
	ReportHash string   `json:"reportHash,omitempty"`
	Top        []string `json:"top,omitempty"`
}

// RecordInput remembers a source's fetch state without storing a version
// (its content normalized to what was already synced).
type RecordInput struct {
	Source   source.Source `json:"source"`
	RawHash  string        `json:"rawHash"`
	BaseHash string        `json:"baseHash"`
	ETag     string        `json:"etag,omitempty"`
	LastMod  string        `json:"lastModified,omitempty"`
}

// NotifyInput is a sync event to deliver.
type NotifyInput struct {
	Event    string `json:"event"` // sync.completed, sync.failed, sync.nochange, …
	JobID    string `json:"jobId"`
	SourceID string `json:"sourceId"`
	API      string `json:"api"`
	Version  int    `json:"version,omitempty"`
	Hash     string `json:"hash,omitempty"`
	Changes  int    `json:"changes"`
	Breaking int    `json:"breaking"`
	Error    string `json:"error,omitempty"`
	// Key is the idempotency key receivers use to drop duplicate deliveries.
	Key string `json:"idempotencyKey"`
	// Time is when the event happened (workflow time, stable across retries).
	Time time.Time `json:"time"`
}

// NotifyResult says how many receivers took the event.
type NotifyResult struct {
	Delivered int `json:"delivered"`
	Failed    int `json:"failed"`
}

// Resolution decides one open conflict (as typed by people, the AI or a
// strategy): take the remote, local or base value, or an edited value.
type Resolution struct {
	ID       string          `json:"id,omitempty"`
	Pointer  string          `json:"pointer"`
	Choice   string          `json:"choice"` // remote | local | base | value
	Value    json.RawMessage `json:"value,omitempty"`
	Strategy string          `json:"strategy,omitempty"`
	Reason   string          `json:"reason,omitempty"`
}

// ResolveInput asks a strategy to decide a merge's open conflicts.
type ResolveInput struct {
	API           string `json:"api"`
	SourceID      string `json:"sourceId"`
	Strategy      string `json:"strategy"`
	ConflictsHash string `json:"conflictsHash"`
	Rank          int    `json:"rank,omitempty"`
	// MaxReasks bounds how often the ai strategy asks again after an invalid answer (0: the resolver's default).
	MaxReasks int `json:"maxReasks,omitempty"`
}

// ResolveResult is what the strategy decided. When Open is empty every
// conflict is decided and MergedHash is the resolved document; otherwise
// Open lists the conflicts left to a person, and Resolutions the decided
// ones, to apply together with the person's choices.
type ResolveResult struct {
	MergedHash     string       `json:"mergedHash,omitempty"`
	Resolutions    []Resolution `json:"resolutions,omitempty"`
	Open           []Conflict   `json:"open,omitempty"`
	FallbackReason string       `json:"fallbackReason,omitempty"`
	// Attempts is the activity attempt that answered (the ai strategy is retried by Temporal).
	Attempts int32 `json:"attempts,omitempty"`
}

// ApplyInput applies resolutions to a merge's conflicts.
type ApplyInput struct {
	API           string       `json:"api"`
	ConflictsHash string       `json:"conflictsHash"`
	Resolutions   []Resolution `json:"resolutions"`
	// Rest, when set (remote or local), decides every conflict Resolutions
	// leaves open, as RestStrategy.
	Rest         string `json:"rest,omitempty"`
	RestStrategy string `json:"restStrategy,omitempty"`
	RestReason   string `json:"restReason,omitempty"`
}

// ApplyResult is the resolved document, validated and stored.
type ApplyResult struct {
	MergedHash string `json:"mergedHash"`
	// Decided lists every decision applied, when Rest filled some in (at
	// most MaxConflictsInHistory).
	Decided []Resolution `json:"decided,omitempty"`
}

// MaxConflictsInHistory bounds the conflicts a merge result carries in history.
const MaxConflictsInHistory = 100
