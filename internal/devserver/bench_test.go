package devserver_test

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/apilivesync/apilivesync/internal/devserver"
)

// BenchmarkStartStop starts a server on a fresh data dir (with UI) until it
// is ready, then stops it. Besides ns/op (start plus stop) it reports the
// start alone (ms-start) and the process RSS while the server is up and
// idle (MiB-rss, test binary included).
//
//	go test ./internal/devserver -run '^$' -bench StartStop -benchtime 3x
func BenchmarkStartStop(b *testing.B) {
	var rss float64
	var startTotal time.Duration
	for b.Loop() {
		began := time.Now()
		s, err := devserver.Start(b.Context(), devserver.Options{DataDir: b.TempDir()})
		require.NoError(b, err)
		startTotal += time.Since(began)
		b.StopTimer()
		rss = max(rss, rssMiB(b))
		b.StartTimer()
		require.NoError(b, s.Stop())
	}
	b.ReportMetric(float64(startTotal.Milliseconds())/float64(b.N), "ms-start")
	b.ReportMetric(rss, "MiB-rss")
}

func rssMiB(b *testing.B) float64 {
	f, err := os.Open("/proc/self/status")
	require.NoError(b, err)
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			require.NoError(b, err)
			return kb / 1024
		}
	}
	return 0
}
