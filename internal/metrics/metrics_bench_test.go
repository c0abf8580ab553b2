package metrics_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/apilivesync/apilivesync/internal/metrics"
)

// BenchmarkSyncFinished measures recording one finished sync (a counter and
// a histogram with three attributes), the hottest of our recording paths.
func BenchmarkSyncFinished(b *testing.B) {
	m, err := metrics.New(metrics.WithoutRuntimeMetrics())
	require.NoError(b, err)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		m.SyncFinished(ctx, "payments-url", "payments", metrics.ResultCompleted, 1500*time.Millisecond)
	}
}

// BenchmarkSDKCounter measures one Temporal SDK counter increment through
// SDKHandler, which the SDK does on every request it makes.
func BenchmarkSDKCounter(b *testing.B) {
	m, err := metrics.New(metrics.WithoutRuntimeMetrics())
	require.NoError(b, err)
	c := m.SDKHandler().WithTags(map[string]string{"namespace": "default"}).Counter("temporal_request")
	b.ReportAllocs()
	for b.Loop() {
		c.Inc(1)
	}
}

// BenchmarkScrape measures one /metrics scrape with 100 sources, each with
// syncs, durations, changes and conflicts recorded.
func BenchmarkScrape(b *testing.B) {
	m, err := metrics.New(metrics.WithoutRuntimeMetrics())
	require.NoError(b, err)
	ctx := b.Context()
	for i := range 100 {
		api := fmt.Sprintf("api-%d", i)
		m.SyncFinished(ctx, fmt.Sprintf("source-%d", i), api, metrics.ResultCompleted, time.Second)
		m.Changes(ctx, api, 5, 1)
		m.Conflicts(ctx, api, 1, "ours")
	}
	h := m.Handler()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, metrics.MetricsPath, nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("scrape: %d", rec.Code)
		}
	}
}
