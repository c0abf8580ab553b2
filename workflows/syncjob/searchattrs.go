package syncjob

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"

	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// changeSearchAttributes gates the job's own search attributes: runs
// recorded before it set none, and replay the same.
const changeSearchAttributes = "upsert-search-attributes"

// RegisteredSearchAttributes is a local activity: the names of the job's
// search attributes (SearchAttributes) that the run's namespace has, with
// the right type. The job sets only these: Temporal fails every workflow
// task that upserts an unknown attribute, which would hold the sync until
// someone registered it. It needs no registration on the worker (the
// workflow runs it by reference) and asks the worker's own client; the
// answer is cached for a minute per client and namespace.
func RegisteredSearchAttributes(ctx context.Context) ([]string, error) {
	c := activity.GetClient(ctx)
	if v := reflect.ValueOf(c); !v.IsValid() || (v.Kind() == reflect.Pointer && v.IsNil()) {
		// The SDK's test environment has none.
		return nil, temporal.NewNonRetryableApplicationError("no Temporal client in this activity", "NoClient", nil)
	}
	key := saCacheKey{client: c, namespace: activity.GetInfo(ctx).Namespace}
	ns := key.namespace
	if names, ok := registeredCache.get(key); ok {
		return names, nil
	}
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: ns})
	if err != nil {
		return nil, fmt.Errorf("list the search attributes of namespace %q: %w", ns, err)
	}
	var names []string
	for name, typ := range SearchAttributes() {
		if have, ok := resp.GetCustomAttributes()[name]; ok && have == typ {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	registeredCache.put(key, names)
	return names, nil
}

// registeredCache keeps RegisteredSearchAttributes' answers for a minute:
// a batch of syncs asks once, and an attribute registered later is used
// within a minute.
var registeredCache = &saCache{m: map[saCacheKey]saCacheEntry{}}

type saCache struct {
	mu sync.Mutex
	m  map[saCacheKey]saCacheEntry
}

// saCacheKey: one process may run workers of several clusters.
type saCacheKey struct {
	client    any
	namespace string
}

type saCacheEntry struct {
	names []string
	at    time.Time
}

func (c *saCache) get(key saCacheKey) ([]string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || time.Since(e.at) > time.Minute {
		return nil, false
	}
	return e.names, true
}

func (c *saCache) put(key saCacheKey, names []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[key] = saCacheEntry{names: names, at: time.Now()}
}

// searchAttrs is what a run knows of its search attributes: which ones
// the namespace has (nil: set none) and the values last set.
type searchAttrs struct {
	have map[string]bool
	set  map[string]any
}

// initSearchAttributes asks, once per run, which search attributes the
// namespace has, and sets the ones known at the start: source, API and
// trigger.
func (j *syncJob) initSearchAttributes(ctx workflow.Context) {
	if workflow.GetVersion(ctx, changeSearchAttributes, workflow.DefaultVersion, 1) < 1 {
		return
	}
	p := Policies[PolicySearchAttributes]
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: p.StartToClose,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: p.MaxAttempts},
	})
	var names []string
	if err := workflow.ExecuteLocalActivity(lctx, RegisteredSearchAttributes).Get(ctx, &names); err != nil {
		workflow.GetLogger(ctx).Warn("cannot tell which search attributes the namespace has; this sync sets none",
			"error", err.Error())
		return
	}
	j.sa.have, j.sa.set = map[string]bool{}, map[string]any{}
	for _, n := range names {
		j.sa.have[n] = true
	}
	if len(names) < len(searchAttributeKeys) {
		var missing []string
		for _, k := range searchAttributeKeys {
			if !j.sa.have[k.GetName()] {
				missing = append(missing, k.GetName())
			}
		}
		workflow.GetLogger(ctx).Warn("search attributes missing from the namespace (or of another type); register them as the README shows",
			"missing", missing)
	}
	j.upsertStart(ctx)
}

// upsertStart sets what is known once the input is normalized.
func (j *syncJob) upsertStart(ctx workflow.Context) {
	var u saUpdates
	if j.in.SourceID != "" {
		u.keyword(SearchAttrSource, j.in.SourceID)
	}
	if api := j.in.Source.APIID(); api != "" {
		u.keyword(SearchAttrAPI, api)
	}
	trigger := j.in.Trigger
	if trigger == "" {
		trigger = TriggerAPI
	}
	u.keyword(SearchAttrTrigger, trigger)
	j.upsert(ctx, u)
}

// upsertOutcome sets the outcome (empty: unset it, the job runs again)
// and, at the end, the breaking count and the version.
func (j *syncJob) upsertOutcome(ctx workflow.Context, outcome string, final bool) {
	var u saUpdates
	if outcome == "" {
		u.unset(SearchAttrOutcome)
	} else {
		u.keyword(SearchAttrOutcome, outcome)
	}
	if final {
		u.int(SearchAttrBreaking, int64(j.st.BreakingChanges))
		if j.st.Version > 0 {
			u.int(SearchAttrVersion, int64(j.st.Version))
		}
	}
	j.upsert(ctx, u)
}

// upsert sets the attributes of u that the namespace has and whose value
// changed, in one command; nothing when the run sets no attributes.
func (j *syncJob) upsert(ctx workflow.Context, u saUpdates) {
	if j.sa.have == nil {
		return
	}
	var ups []temporal.SearchAttributeUpdate
	for _, e := range u {
		name := e.key.GetName()
		if !j.sa.have[name] {
			continue
		}
		if old, ok := j.sa.set[name]; ok == (e.value != nil) && old == e.value {
			continue
		}
		ups = append(ups, e.update)
		if e.value == nil {
			delete(j.sa.set, name)
		} else {
			j.sa.set[name] = e.value
		}
	}
	if len(ups) == 0 {
		return
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, ups...); err != nil {
		workflow.GetLogger(ctx).Warn("could not set the search attributes", "error", err.Error())
	}
}

type saUpdate struct {
	key    temporal.SearchAttributeKey
	value  any // nil: unset
	update temporal.SearchAttributeUpdate
}

type saUpdates []saUpdate

func (u *saUpdates) keyword(k temporal.SearchAttributeKeyKeyword, v string) {
	*u = append(*u, saUpdate{key: k, value: v, update: k.ValueSet(v)})
}

func (u *saUpdates) int(k temporal.SearchAttributeKeyInt64, v int64) {
	*u = append(*u, saUpdate{key: k, value: v, update: k.ValueSet(v)})
}

func (u *saUpdates) unset(k temporal.SearchAttributeKeyKeyword) {
	*u = append(*u, saUpdate{key: k, update: k.ValueUnset()})
}

// outcome is what the run did, from its status.
func (j *syncJob) outcome() string {
	st := &j.st
	switch st.Status {
	case StatusFailed:
		return OutcomeFailed
	case StatusStopped:
		return OutcomeStopped
	case StatusWaiting:
		return OutcomeWaiting
	case StatusCompleted:
		switch {
		case st.Blocked && j.approval.decided && !j.approval.approved:
			return OutcomeRejected
		case st.Blocked:
			return OutcomeHeld
		case st.NoChange:
			return OutcomeNoChange
		default:
			return OutcomeStored
		}
	}
	return ""
}
