package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
)

// HeartbeatTimeout is how long a step may go without a heartbeat before
// Temporal hands it to another worker: a worker killed mid-step costs
// seconds, not the step's whole StartToClose timeout.
const HeartbeatTimeout = 10 * time.Second

// heartbeatEvery is how often a running activity heartbeats (the SDK
// batches heartbeats, sending at most one per 80% of the timeout).
const heartbeatEvery = 2 * time.Second

// NewHeartbeatInterceptor makes every activity of the worker heartbeat
// while it runs, so a lost worker is noticed within HeartbeatTimeout. Each
// API Live Sync worker installs it (worker.Options.Interceptors).
func NewHeartbeatInterceptor() interceptor.WorkerInterceptor { return &heartbeatInterceptor{} }

type heartbeatInterceptor struct {
	interceptor.WorkerInterceptorBase
}

func (*heartbeatInterceptor) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &heartbeatActivity{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}}
}

type heartbeatActivity struct {
	interceptor.ActivityInboundInterceptorBase
}

func (h *heartbeatActivity) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	if activity.GetInfo(ctx).HeartbeatTimeout <= 0 {
		return h.Next.ExecuteActivity(ctx, in)
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		t := time.NewTicker(heartbeatEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()
	return h.Next.ExecuteActivity(ctx, in)
}
