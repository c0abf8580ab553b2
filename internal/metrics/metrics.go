// Package metrics exposes API Live Sync's Prometheus /metrics endpoint
// through OpenTelemetry. One MeterProvider, backed by the OpenTelemetry
// Prometheus exporter on a private registry, carries both the Temporal SDK's
// metrics (through SDKHandler) and our own sync instruments.
//
// Exposed names (the exporter turns dots into underscores, appends the unit
// suffix "_seconds" to histograms in seconds and "_total" to counters):
//
//	livesync_syncs_total{source,api,result}
//	livesync_sync_duration_seconds{source,api,result}   (histogram)
//	livesync_step_duration_seconds{step}                (histogram)
//	livesync_changes_total{api}
//	livesync_breaking_changes_total{api}
//	livesync_conflicts_total{api,strategy}
//	temporal_*                                          (Temporal SDK)
//
// A nil *Metrics is valid: every recording method is a no-op, so callers
// never need to check whether metrics are enabled.
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
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.uber.org/zap"
)

// Result values for SyncFinished, one per way a sync can end.
const (
	ResultCompleted = "completed"
	ResultNoChange  = "nochange"
	ResultFailed    = "failed"
	ResultBlocked   = "blocked"
	ResultStopped   = "stopped"
)

// Attribute keys on our series.
const (
	AttrSource   = "source"
	AttrAPI      = "api"
	AttrResult   = "result"
	AttrStep     = "step"
	AttrStrategy = "strategy"
)

// MetricsPath is the path Serve answers on.
const MetricsPath = "/metrics"

// DefaultAddr is the worker's default -metrics-addr.
const DefaultAddr = "127.0.0.1:9090"

// meterName is the instrumentation scope of our own instruments.
const meterName = "github.com/apilivesync/apilivesync/internal/metrics"

// temporalMeterName is the instrumentation scope the Temporal SDK records under.
const temporalMeterName = "temporal-sdk-go"

// DurationBuckets are the histogram boundaries, in seconds, used for every
// duration histogram, ours and the Temporal SDK's timers: from 5 ms (a
// cached fetch, a schedule-to-start on an idle worker) to 30 min (a sync
// waiting on a slow AI resolver). The OpenTelemetry default boundaries
// (0 … 10000) are meant for milliseconds and would put every activity in the
// first bucket.
var DurationBuckets = []float64{
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800,
}

// Metrics holds the MeterProvider, its Prometheus registry and our
// instruments. Build it with New; all methods are safe for concurrent use.
type Metrics struct {
	logger   *zap.Logger
	registry *prometheus.Registry
	provider *sdkmetric.MeterProvider
	handler  http.Handler
	sdk      client.MetricsHandler

	syncs        metric.Int64Counter
	syncDuration metric.Float64Histogram
	stepDuration metric.Float64Histogram
	changes      metric.Int64Counter
	breaking     metric.Int64Counter
	conflicts    metric.Int64Counter
}

// Option configures New.
type Option func(*options)

type options struct {
	logger      *zap.Logger
	serviceName string
	runtime     bool
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

// WithServiceName sets the service.name resource attribute shown on the
// target_info series. The default is "api-live-sync".
func WithServiceName(name string) Option {
	return func(o *options) {
		if name != "" {
			o.serviceName = name
		}
	}
}

// WithoutRuntimeMetrics leaves the Go runtime (go_*) and process
// (process_*) collectors off the registry. They are on by default.
func WithoutRuntimeMetrics() Option {
	return func(o *options) { o.runtime = false }
}

// New builds a private Prometheus registry, an OpenTelemetry MeterProvider
// exporting into it, and our instruments. Nothing is global: two Metrics in
// one process (tests, an embedded worker) do not see each other's series.
func New(opts ...Option) (*Metrics, error) {
	o := options{logger: zap.NewNop(), serviceName: "api-live-sync", runtime: true}
	for _, opt := range opts {
		opt(&o)
	}

	reg := prometheus.NewRegistry()
	if o.runtime {
		if err := reg.Register(collectors.NewGoCollector()); err != nil {
			return nil, fmt.Errorf("metrics: register Go collector: %w", err)
		}
		if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
			return nil, fmt.Errorf("metrics: register process collector: %w", err)
		}
	}
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo())
	if err != nil {
		return nil, fmt.Errorf("metrics: prometheus exporter: %w", err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		attribute.String("service.name", o.serviceName),
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
		registry: reg,
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
	if err := m.instruments(provider.Meter(meterName)); err != nil {
		_ = provider.Shutdown(context.Background())
		return nil, err
	}
	return m, nil
}

func (m *Metrics) instruments(meter metric.Meter) error {
	var errs []error
	var err error
	m.syncs, err = meter.Int64Counter("livesync.syncs",
		metric.WithDescription("Syncs finished, by source, API and result (completed, nochange, failed, blocked, stopped)."))
	errs = append(errs, err)
	m.syncDuration, err = meter.Float64Histogram("livesync.sync.duration", metric.WithUnit("s"),
		metric.WithDescription("Wall time of a sync from start to finish, by source, API and result."))
	errs = append(errs, err)
	m.stepDuration, err = meter.Float64Histogram("livesync.step.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of one pipeline step (fetch, parse, diff, merge, resolve, store, notify)."))
	errs = append(errs, err)
	m.changes, err = meter.Int64Counter("livesync.changes",
		metric.WithDescription("Changes detected between an API's versions, by API."))
	errs = append(errs, err)
	m.breaking, err = meter.Int64Counter("livesync.breaking_changes",
		metric.WithDescription("Breaking changes detected between an API's versions, by API."))
	errs = append(errs, err)
	m.conflicts, err = meter.Int64Counter("livesync.conflicts",
		metric.WithDescription("Merge conflicts, by API and the strategy that decided them."))
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("metrics: create instruments: %w", err)
	}
	return nil
}

// SDKHandler returns the handler to put in client.Options.MetricsHandler,
// so the Temporal SDK's metrics (temporal_request_total,
// temporal_workflow_task_execution_latency_seconds, ...) are served beside
// ours. On a nil *Metrics it returns client.MetricsNopHandler.
func (m *Metrics) SDKHandler() client.MetricsHandler {
	if m == nil {
		return client.MetricsNopHandler
	}
	return m.sdk
}

// Registry returns the private Prometheus registry, for callers that want to
// add their own collectors. Nil on a nil *Metrics.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.registry
}

// Handler returns the /metrics HTTP handler (Prometheus text format, or
// OpenMetrics when the scraper asks for it). On a nil *Metrics it answers
// 404.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return m.handler
}

// Serve listens on addr (host:port; port 0 picks a free one) and serves
// Handler on /metrics until ctx is done, then shuts the server down. It
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

// SyncFinished records one finished sync of source into api: it counts
// livesync_syncs_total{source,api,result} and observes d in
// livesync_sync_duration_seconds. result is one of the Result constants.
func (m *Metrics) SyncFinished(ctx context.Context, source, api, result string, d time.Duration) {
	if m == nil {
		return
	}
	attrs := metric.WithAttributeSet(attribute.NewSet(
		attribute.String(AttrSource, source),
		attribute.String(AttrAPI, api),
		attribute.String(AttrResult, result),
	))
	m.syncs.Add(ctx, 1, attrs)
	m.syncDuration.Record(ctx, d.Seconds(), attrs)
}

// StepDuration observes one pipeline step's duration in
// livesync_step_duration_seconds{step}.
func (m *Metrics) StepDuration(ctx context.Context, step string, d time.Duration) {
	if m == nil {
		return
	}
	m.stepDuration.Record(ctx, d.Seconds(), metric.WithAttributeSet(attribute.NewSet(
		attribute.String(AttrStep, step),
	)))
}

// Changes adds a diff's counts to livesync_changes_total{api} and
// livesync_breaking_changes_total{api}. Negative counts are ignored; zero
// counts create the series so dashboards show 0 rather than nothing.
func (m *Metrics) Changes(ctx context.Context, api string, total, breaking int) {
	if m == nil {
		return
	}
	attrs := metric.WithAttributeSet(attribute.NewSet(attribute.String(AttrAPI, api)))
	if total >= 0 {
		m.changes.Add(ctx, int64(total), attrs)
	}
	if breaking >= 0 {
		m.breaking.Add(ctx, int64(breaking), attrs)
	}
}

// Conflicts adds n to livesync_conflicts_total{api,strategy}. Negative n is
// ignored.
func (m *Metrics) Conflicts(ctx context.Context, api string, n int, strategy string) {
	if m == nil || n < 0 {
		return
	}
	m.conflicts.Add(ctx, int64(n), metric.WithAttributeSet(attribute.NewSet(
		attribute.String(AttrAPI, api),
		attribute.String(AttrStrategy, strategy),
	)))
}
