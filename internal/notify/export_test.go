package notify

import (
	"context"
	"time"
)

// SetSleep replaces the backoff wait, so tests observe waits without sleeping.
func SetSleep(n *Notifier, f func(ctx context.Context, d time.Duration) error) { n.sleep = f }

// ParseRetryAfter exposes retryWait.
var ParseRetryAfter = retryWait
