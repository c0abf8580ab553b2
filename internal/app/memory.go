package app

import (
	"context"
	"runtime"
	"runtime/debug"
	"time"

	"go.uber.org/zap"
)

// releaseIdleMemory gives memory the Go heap no longer uses back to the
// operating system when the worker has gone quiet holding a lot of it:
// after a big spec's parse and diff, resident memory falls back instead of
// staying at the job's peak (an idle process runs no collection, so the
// runtime never finds that garbage on its own).
func releaseIdleMemory(ctx context.Context, every time.Duration, threshold uint64, logger *zap.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		// Memory the process holds for its heap: in use (garbage included,
		// until a collection runs) and idle but not yet returned. A quiet
		// worker runs no collection, so its last big job's garbage stays
		// resident: collect and return it when no collection ran lately.
		held := m.HeapInuse + m.HeapIdle - m.HeapReleased
		quiet := time.Since(time.Unix(0, int64(m.LastGC))) > every
		if held > threshold && quiet {
			debug.FreeOSMemory()
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			logger.Debug("returned unused heap memory to the OS", zap.Uint64("heldBefore", held),
				zap.Uint64("heldAfter", after.HeapInuse+after.HeapIdle-after.HeapReleased))
		}
	}
}
