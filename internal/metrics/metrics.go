// Package metrics exposes API Live Sync's Prometheus /metrics endpoint
// through OpenTelemetry. One MeterProvider, backed by the OpenTelemetry
// Prometheus exporter on a private registry, carries the Temporal SDK's
// metrics and the sync metrics the workflows record through the same SDK
// handler (SDKHandler), so a replayed workflow records nothing twice.
//
// Exposed names (the exporter turns dots into underscores, appends the unit
// suffix "_seconds" to histograms in seconds and "_total" to counters; the
// names are syncjob's Metric* constants, and the SDK adds its own labels
// such as namespace, task_queue and workflow_type):
//
//	livesync_syncs_total{source,api,result}
//	livesync_sync_duration_seconds{source,api}          (histogram)
//	livesync_step_duration_seconds{step}                (histogram)
//	livesync_changes_total{source,api}
//	livesync_breaking_changes_total{source,api}
//	livesync_conflicts_total{source,api}
//	temporal_*                                          (Temporal SDK)
//	go_*, process_*, target_info
//
// A nil *Metrics is valid: SDKHandler returns the SDK's no-op handler and
// Shutdown does nothing, so callers never need to check whether metrics are
// enabled.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.uber.org/zap"
)

// MetricsPath is the path Serve answers on.
const MetricsPath = "/metrics"

// DefaultAddr is the worker's default -metrics-addr.
const DefaultAddr = "127.0.0.1:9090"

// temporalMeterName is the instrumentation scope the Temporal SDK records
// under.
const temporalMeterName = "temporal-sdk-go"

// DurationBuckets are the histogram boundaries, in seconds, used for every
// duration histogram recorded through SDKHandler: from 5 ms (a cached
// fetch, a schedule-to-start on an idle worker) to 30 min (a sync waiting
// on a slow AI resolver). The OpenTelemetry default boundaries
// (0 … 10000) are meant for milliseconds and would put every activity in the
// first bucket.
var DurationBuckets = []float64{
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800,
}

// serviceName is the service.name resource attribute on target_info.
const serviceName = "api-live-sync"

// Metrics holds the MeterProvider and the /metrics handler of its private
// Prometheus registry. Build it with New; all methods are safe for
// concurrent use.
type Metrics struct {
	logger   *zap.Logger
	provider *sdkmetric.MeterProvider
	handler  http.Handler
	sdk      client.MetricsHandler
}

// Option configures New.
type Option func(*options)

type options struct {
	logger *zap.Logger
}

// WithLogger logs instrument errors (from the Temporal SDK handler) and
// /metrics serving errors. The default discards them.
func WithLogger(l *zap.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// New builds a private Prometheus registry with the Go runtime (go_*) and
// process (process_*) collectors, and an OpenTelemetry MeterProvider
// exporting into it. Nothing is global: two Metrics in one process (tests,
// an embedded worker) do not see each other's series.
func New(opts ...Option) (*Metrics, error) {
	o := options{logger: zap.NewNop()}
	for _, opt := range opts {
		opt(&o)
	}

	reg := prometheus.NewRegistry()
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, fmt.Errorf("metrics: register Go collector: %w", err)
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, fmt.Errorf("metrics: register process collector: %w", err)
	}
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo())
	if err != nil {
		return nil, fmt.Errorf("metrics: prometheus exporter: %w", err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		attribute.String("service.name", serviceName),
	))
	if err != nil {
		return nil, fmt.Errorf("metrics: resource: %w", err)
	}
	secondsView := sdkmetric.NewView(
		sdkmetric.Instrument{Name: "*", Kind: sdkmetric.InstrumentKindHistogram, Unit: "s"},
		sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: DurationBuckets}},
	)
	provider := sdkmetric.NewMeterProvider(
		sdkmetric.WithReader(exporter),
		sdkmetric.WithResource(res),
		sdkmetric.WithView(secondsView),
	)

	m := &Metrics{
		logger:   o.logger,
		provider: provider,
		handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{
			ErrorLog:          zap.NewStdLog(o.logger),
			ErrorHandling:     promhttp.ContinueOnError,
			EnableOpenMetrics: true,
		}),
	}
	m.sdk = temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter: provider.Meter(temporalMeterName),
		// Counters are monotonic so Prometheus sees them as counters
		// (temporal_request_total) rather than gauges.
		UseMonotonicCounters: true,
		// The default panics; a broken instrument must not take the worker down.
		OnError: func(err error) {
			m.logger.Warn("temporal SDK metric instrument", zap.Error(err))
		},
	})
	return m, nil
}

// SDKHandler returns the handler to put in client.Options.MetricsHandler,
// so the Temporal SDK's metrics (temporal_request_total,
// temporal_workflow_task_execution_latency_seconds, ...) and those the
// workflows record through workflow.GetMetricsHandler are served. On a nil
// *Metrics it returns client.MetricsNopHandler.
func (m *Metrics) SDKHandler() client.MetricsHandler {
	if m == nil {
		return client.MetricsNopHandler
	}
	return m.sdk
}

// Serve listens on addr (host:port; port 0 picks a free one) and serves the
// registry on /metrics (Prometheus text format, or OpenMetrics when the
// scraper asks for it) until ctx is done, then shuts the server down. It
// returns once the listener is open, with the address it is bound to.
func (m *Metrics) Serve(ctx context.Context, addr string) (string, error) {
	if m == nil {
		return "", errors.New("metrics: serve on a nil *Metrics")
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return "", fmt.Errorf("metrics: listen on %q: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle(MetricsPath, m.handler)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.logger.Error("metrics server stopped", zap.String("addr", ln.Addr().String()), zap.Error(err))
		}
	}()
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdownCtx); err != nil {
			m.logger.Warn("metrics server shutdown", zap.Error(err))
		}
	}()
	return ln.Addr().String(), nil
}

// Shutdown stops the MeterProvider; later recordings are dropped. Safe on a
// nil *Metrics.
func (m *Metrics) Shutdown(ctx context.Context) error {
	if m == nil {
		return nil
	}
	if err := m.provider.Shutdown(ctx); err != nil {
		return fmt.Errorf("metrics: shutdown meter provider: %w", err)
	}
	return nil
}
