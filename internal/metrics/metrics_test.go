package metrics_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/apilivesync/apilivesync/internal/metrics"
	"github.com/apilivesync/apilivesync/workflows/syncjob"
)

// scrape serves one GET /metrics through h and parses the text exposition.
func scrape(t *testing.T, h http.Handler) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, metrics.MetricsPath, nil))
	require.Equal(t, http.StatusOK, rec.Code)
	body := rec.Body.String()
	var p expfmt.TextParser
	families, err := p.TextToMetricFamilies(strings.NewReader(body))
	require.NoError(t, err, "exposition:\n%s", body)
	return families, body
}

// sample finds the metric in family name whose labels are exactly want
// (target_info-style extra labels are not expected on our series).
func sample(t *testing.T, families map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	t.Helper()
	mf, ok := families[name]
	require.True(t, ok, "family %s not exposed; have %v", name, names(families))
	for _, m := range mf.GetMetric() {
		got := map[string]string{}
		for _, lp := range m.GetLabel() {
			got[lp.GetName()] = lp.GetValue()
		}
		if equalLabels(got, want) {
			return m
		}
	}
	require.Failf(t, "series not found", "%s%v not in %v", name, want, mf.GetMetric())
	return nil
}

func equalLabels(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func names(families map[string]*dto.MetricFamily) []string {
	out := make([]string, 0, len(families))
	for n := range families {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// bucket returns the cumulative count of the histogram bucket with upper bound le.
func bucket(t *testing.T, h *dto.Histogram, le float64) uint64 {
	t.Helper()
	for _, b := range h.GetBucket() {
		if b.GetUpperBound() == le {
			return b.GetCumulativeCount()
		}
	}
	require.Failf(t, "bucket not found", "le=%v not in %v", le, h.GetBucket())
	return 0
}

func newMetrics(t *testing.T) *metrics.Metrics {
	t.Helper()
	m, err := metrics.New()
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, m.Shutdown(context.WithoutCancel(t.Context()))) })
	return m
}

// TestSyncSeries records the sync job's metrics through SDKHandler, under
// the names and tags the workflow uses (workflows/syncjob), and checks how
// they are exposed.
func TestSyncSeries(t *testing.T) {
	payments := map[string]string{"source": "payments-url", "api": "payments"}
	orders := map[string]string{"source": "orders-file", "api": "orders"}
	tests := []struct {
		name   string
		record func(h client.MetricsHandler)
		check  func(t *testing.T, families map[string]*dto.MetricFamily, text string)
	}{
		{
			name: "syncs by result with duration histogram",
			record: func(h client.MetricsHandler) {
				p, o := h.WithTags(payments), h.WithTags(orders)
				p.WithTags(map[string]string{"result": "completed"}).Counter(syncjob.MetricSyncs).Inc(1)
				p.WithTags(map[string]string{"result": "completed"}).Counter(syncjob.MetricSyncs).Inc(1)
				p.WithTags(map[string]string{"result": "failed"}).Counter(syncjob.MetricSyncs).Inc(1)
				o.WithTags(map[string]string{"result": "nochange"}).Counter(syncjob.MetricSyncs).Inc(1)
				p.Timer(syncjob.MetricSyncDuration).Record(500 * time.Millisecond)
				p.Timer(syncjob.MetricSyncDuration).Record(2500 * time.Millisecond)
				o.Timer(syncjob.MetricSyncDuration).Record(40 * time.Second)
			},
			check: func(t *testing.T, f map[string]*dto.MetricFamily, text string) {
				require.Equal(t, dto.MetricType_COUNTER, f["livesync_syncs_total"].GetType())
				require.Contains(t, text, `livesync_syncs_total{api="payments",result="completed",source="payments-url"} 2`)
				require.InDelta(t, 2, sample(t, f, "livesync_syncs_total", map[string]string{"source": "payments-url", "api": "payments", "result": "completed"}).GetCounter().GetValue(), 0)
				require.InDelta(t, 1, sample(t, f, "livesync_syncs_total", map[string]string{"source": "payments-url", "api": "payments", "result": "failed"}).GetCounter().GetValue(), 0)
				require.InDelta(t, 1, sample(t, f, "livesync_syncs_total", map[string]string{"source": "orders-file", "api": "orders", "result": "nochange"}).GetCounter().GetValue(), 0)

				require.Equal(t, dto.MetricType_HISTOGRAM, f["livesync_sync_duration_seconds"].GetType())
				h := sample(t, f, "livesync_sync_duration_seconds", payments).GetHistogram()
				require.Equal(t, uint64(2), h.GetSampleCount())
				require.InDelta(t, 3.0, h.GetSampleSum(), 1e-9)
				require.Equal(t, uint64(0), bucket(t, h, 0.25))
				require.Equal(t, uint64(1), bucket(t, h, 0.5))
				require.Equal(t, uint64(1), bucket(t, h, 1))
				require.Equal(t, uint64(2), bucket(t, h, 5))
				slow := sample(t, f, "livesync_sync_duration_seconds", orders).GetHistogram()
				require.Equal(t, uint64(0), bucket(t, slow, 30))
				require.Equal(t, uint64(1), bucket(t, slow, 60))
			},
		},
		{
			name: "step durations by step",
			record: func(h client.MetricsHandler) {
				step := func(name string, d time.Duration) {
					h.WithTags(map[string]string{"step": name}).Timer(syncjob.MetricStepDuration).Record(d)
				}
				step("fetch", 120*time.Millisecond)
				step("fetch", 80*time.Millisecond)
				step("merge", 3*time.Millisecond)
			},
			check: func(t *testing.T, f map[string]*dto.MetricFamily, _ string) {
				fetch := sample(t, f, "livesync_step_duration_seconds", map[string]string{"step": "fetch"}).GetHistogram()
				require.Equal(t, uint64(2), fetch.GetSampleCount())
				require.InDelta(t, 0.2, fetch.GetSampleSum(), 1e-9)
				require.Equal(t, uint64(1), bucket(t, fetch, 0.1))
				require.Equal(t, uint64(2), bucket(t, fetch, 0.25))
				merge := sample(t, f, "livesync_step_duration_seconds", map[string]string{"step": "merge"}).GetHistogram()
				require.Equal(t, uint64(1), bucket(t, merge, 0.005))
			},
		},
		{
			name: "changes, breaking changes and conflicts accumulate per api",
			record: func(h client.MetricsHandler) {
				p := h.WithTags(payments)
				p.Counter(syncjob.MetricChanges).Inc(7)
				p.Counter(syncjob.MetricBreakingChanges).Inc(2)
				p.Counter(syncjob.MetricChanges).Inc(3)
				p.Counter(syncjob.MetricConflicts).Inc(3)
				h.WithTags(orders).Counter(syncjob.MetricConflicts).Inc(1)
			},
			check: func(t *testing.T, f map[string]*dto.MetricFamily, text string) {
				require.Contains(t, text, `livesync_changes_total{api="payments",source="payments-url"} 10`)
				require.Contains(t, text, `livesync_breaking_changes_total{api="payments",source="payments-url"} 2`)
				require.InDelta(t, 3, sample(t, f, "livesync_conflicts_total", payments).GetCounter().GetValue(), 0)
				require.Len(t, f["livesync_conflicts_total"].GetMetric(), 2)
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMetrics(t)
			tc.record(m.SDKHandler())
			families, text := scrape(t, m.Handler())
			tc.check(t, families, text)
		})
	}
}

func TestSDKHandler(t *testing.T) {
	m := newMetrics(t)
	h := m.SDKHandler()
	tagged := h.WithTags(map[string]string{"namespace": "default", "operation": "PollWorkflowTaskQueue"})
	tagged.Counter("temporal_request").Inc(2)
	tagged.Counter("temporal_request").Inc(1)
	h.Timer("temporal_workflow_task_execution_latency").Record(20 * time.Millisecond)
	h.Timer("temporal_workflow_task_execution_latency").Record(3 * time.Second)
	h.Gauge("temporal_num_pollers").Update(4)

	families, _ := scrape(t, m.Handler())

	// Counters are monotonic, so Prometheus sees a counter with _total.
	require.Equal(t, dto.MetricType_COUNTER, families["temporal_request_total"].GetType())
	c := sample(t, families, "temporal_request_total", map[string]string{"namespace": "default", "operation": "PollWorkflowTaskQueue"})
	require.InDelta(t, 3, c.GetCounter().GetValue(), 0)

	// Timers are histograms in seconds, on our duration buckets.
	require.Equal(t, dto.MetricType_HISTOGRAM, families["temporal_workflow_task_execution_latency_seconds"].GetType())
	timer := sample(t, families, "temporal_workflow_task_execution_latency_seconds", map[string]string{}).GetHistogram()
	require.Equal(t, uint64(2), timer.GetSampleCount())
	require.InDelta(t, 3.02, timer.GetSampleSum(), 1e-9)
	require.Equal(t, uint64(0), bucket(t, timer, 0.01))
	require.Equal(t, uint64(1), bucket(t, timer, 0.025))
	require.Equal(t, uint64(2), bucket(t, timer, 5))

	require.InDelta(t, 4, sample(t, families, "temporal_num_pollers", map[string]string{}).GetGauge().GetValue(), 0)
}

func TestServe(t *testing.T) {
	m := newMetrics(t)
	m.SDKHandler().WithTags(map[string]string{"source": "payments-url", "api": "payments", "result": "blocked"}).Counter(syncjob.MetricSyncs).Inc(1)

	ctx, cancel := context.WithCancel(t.Context())
	addr, err := m.Serve(ctx, "127.0.0.1:0")
	require.NoError(t, err)
	require.NotEqual(t, "127.0.0.1:0", addr)

	get := func(path string) (int, string, error) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+addr+path, nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), err
	}

	t.Run("metrics answers over HTTP", func(t *testing.T) {
		code, body, err := get(metrics.MetricsPath)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, body, `livesync_syncs_total{api="payments",result="blocked",source="payments-url"} 1`)
	})
	t.Run("other paths are 404", func(t *testing.T) {
		code, _, err := get("/debug/pprof/")
		require.NoError(t, err)
		require.Equal(t, http.StatusNotFound, code)
	})
	t.Run("address in use is an error naming it", func(t *testing.T) {
		_, err := m.Serve(t.Context(), addr)
		require.ErrorContains(t, err, addr)
	})
	t.Run("stops when ctx is done", func(t *testing.T) {
		cancel()
		require.Eventually(t, func() bool {
			_, _, err := get(metrics.MetricsPath)
			return err != nil
		}, 10*time.Second, 10*time.Millisecond, "server still answering after ctx was cancelled")
	})
}

func TestRuntimeMetrics(t *testing.T) {
	m, err := metrics.New()
	require.NoError(t, err)
	families, _ := scrape(t, m.Handler())
	require.Contains(t, families, "go_goroutines")
	require.Contains(t, families, "target_info")
	require.Contains(t, families, "process_cpu_seconds_total")
	require.Len(t, families["target_info"].GetMetric(), 1)
	labels := map[string]string{}
	for _, lp := range families["target_info"].GetMetric()[0].GetLabel() {
		labels[lp.GetName()] = lp.GetValue()
	}
	require.Equal(t, "api-live-sync", labels["service_name"])
	require.Equal(t, "opentelemetry", labels["telemetry_sdk_name"])
}

func TestInstancesAreIsolated(t *testing.T) {
	a, b := newMetrics(t), newMetrics(t)
	a.SDKHandler().WithTags(map[string]string{"api": "payments"}).Counter(syncjob.MetricConflicts).Inc(1)
	families, _ := scrape(t, b.Handler())
	require.NotContains(t, families, "livesync_conflicts_total")
}

func TestNilMetricsIsNoop(t *testing.T) {
	var m *metrics.Metrics
	ctx := t.Context()
	require.NotPanics(t, func() {
		m.SDKHandler().Counter("temporal_request").Inc(1)
	})
	require.Equal(t, client.MetricsNopHandler, m.SDKHandler())
	require.NoError(t, m.Shutdown(ctx))

	_, err := m.Serve(ctx, "127.0.0.1:0")
	require.Error(t, err)
}
