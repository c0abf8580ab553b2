package devserver_test

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/apilivesync/apilivesync/internal/devserver"
)

// BenchmarkStartStop starts a server on a fresh data dir (with UI) until it
// is ready, then stops it. It reports the process RSS while the server is
// up and idle.
//
//	go test ./internal/devserver -run '^$' -bench StartStop -benchtime 3x
func BenchmarkStartStop(b *testing.B) {
	var rss float64
	for b.Loop() {
		s, err := devserver.Start(b.Context(), devserver.Options{DataDir: b.TempDir()})
		require.NoError(b, err)
		b.StopTimer()
		rss = max(rss, rssMiB(b))
		b.StartTimer()
		require.NoError(b, s.Stop())
	}
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
