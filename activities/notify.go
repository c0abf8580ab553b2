package activities

import (
	"context"
	"encoding/json"

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
