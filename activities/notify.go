package activities

import (
	"context"
	"encoding/json"
	"sort"
	"time"

	"go.temporal.io/sdk/activity"
	"go.uber.org/zap"

	"go.temporal.io/sdk/temporal"

	"github.com/apilivesync/apilivesync/internal/notify"
)

// Webhooks delivers sync events to signed webhooks.
type Webhooks struct{ N *notify.Notifier }

// Notify sends one event; a delivery that can never succeed (4xx, a
// refused address) is not retried.
func (w Webhooks) Notify(ctx context.Context, in NotifyInput) (NotifyResult, error) {
	data, err := json.Marshal(in)
	if err != nil {
		return NotifyResult{}, err
	}
	delivered, failed, err := w.N.Deliver(ctx, notify.Event{Type: in.Event, ID: in.Key, Time: in.Time, Source: in.SourceID, API: in.API, Data: data})
	res := NotifyResult{Delivered: delivered, Failed: failed}
	if err != nil && notify.Permanent(err) {
		return res, temporal.NewNonRetryableApplicationError(err.Error(), "WebhookRejected", nil)
	}
	return res, err
}

// NotifySourcesInput is one event about many sources (source.added,
// source.removed): one activity for a whole apply, not one per source.
type NotifySourcesInput struct {
	Event string `json:"event"`
	// Sources are source ID → API.
	Sources map[string]string `json:"sources"`
	// KeyPrefix + source ID is each event's idempotency key.
	KeyPrefix string    `json:"keyPrefix"`
	Time      time.Time `json:"time"`
}

// NotifySources delivers one event per source. A retry re-delivers with
// the same idempotency keys, which receivers drop.
func (a *Activities) NotifySources(ctx context.Context, in NotifySourcesInput) error {
	ids := make([]string, 0, len(in.Sources))
	for id := range in.Sources {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	a.logger(ctx).Info("source event", zap.String("event", in.Event), zap.Int("sources", len(ids)))
	if a.Notifier == nil {
		return nil
	}
	for _, id := range ids {
		activity.RecordHeartbeat(ctx, id)
		_, err := a.Notifier.Notify(ctx, NotifyInput{Event: in.Event, JobID: id, SourceID: id, API: in.Sources[id], Key: in.KeyPrefix + id, Time: in.Time})
		if err != nil {
			return err
		}
	}
	return nil
}
