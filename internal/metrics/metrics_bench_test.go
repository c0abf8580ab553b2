package metrics_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/apilivesync/apilivesync/internal/metrics"
	"github.com/apilivesync/apilivesync/workflows/syncjob"
)

// BenchmarkRecordSync measures recording one finished sync through
// SDKHandler as the sync job workflow does (a counter and a histogram
// tagged with source, API and result).
func BenchmarkRecordSync(b *testing.B) {
	m, err := metrics.New()
	require.NoError(b, err)
	h := m.SDKHandler()
	b.ReportAllocs()
	for b.Loop() {
		mh := h.WithTags(map[string]string{"source": "payments-url", "api": "payments"})
		mh.WithTags(map[string]string{"result": "completed"}).Counter(syncjob.MetricSyncs).Inc(1)
		mh.Timer(syncjob.MetricSyncDuration).Record(1500 * time.Millisecond)
	}
}

// BenchmarkSDKCounter measures one Temporal SDK counter increment through
// SDKHandler, which the SDK does on every request it makes.
func BenchmarkSDKCounter(b *testing.B) {
	m, err := metrics.New()
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
	m, err := metrics.New()
	require.NoError(b, err)
	for i := range 100 {
		mh := m.SDKHandler().WithTags(map[string]string{"source": fmt.Sprintf("source-%d", i), "api": fmt.Sprintf("api-%d", i)})
		mh.WithTags(map[string]string{"result": "completed"}).Counter(syncjob.MetricSyncs).Inc(1)
		mh.Timer(syncjob.MetricSyncDuration).Record(time.Second)
		mh.Counter(syncjob.MetricChanges).Inc(5)
		mh.Counter(syncjob.MetricBreakingChanges).Inc(1)
		mh.Counter(syncjob.MetricConflicts).Inc(1)
	}
	h := m.Handler()
	req := httptest.NewRequestWithContext(b.Context(), http.MethodGet, metrics.MetricsPath, nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("scrape: %d", rec.Code)
		}
	}
}
