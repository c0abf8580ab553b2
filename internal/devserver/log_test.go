package devserver

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log/tag"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestZapBridge(t *testing.T) {
	type entry struct {
		level zapcore.Level
		msg   string
	}
	tests := []struct {
		name     string
		logLevel string
		want     []entry
	}{
		{"default keeps warn and up", "", []entry{{zapcore.WarnLevel, "warn"}, {zapcore.ErrorLevel, "error"}, {zapcore.ErrorLevel, "dpanic"}, {zapcore.ErrorLevel, "panic"}, {zapcore.ErrorLevel, "fatal"}}},
		{"debug keeps all", "debug", []entry{{zapcore.DebugLevel, "debug"}, {zapcore.InfoLevel, "info"}, {zapcore.WarnLevel, "warn"}, {zapcore.ErrorLevel, "error"}, {zapcore.ErrorLevel, "dpanic"}, {zapcore.ErrorLevel, "panic"}, {zapcore.ErrorLevel, "fatal"}}},
		{"error", "ERROR", []entry{{zapcore.ErrorLevel, "error"}, {zapcore.ErrorLevel, "dpanic"}, {zapcore.ErrorLevel, "panic"}, {zapcore.ErrorLevel, "fatal"}}},
		{"none drops all", "none", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lvl, err := parseLogLevel(tt.logLevel)
			require.NoError(t, err)
			core, logs := observer.New(zapcore.DebugLevel)
			b := newZapBridge(zap.New(core), newLogFilter(lvl)).With(tag.ClusterName("active"))
			// Panic and Fatal must log, not panic or exit.
			b.Debug("debug", tag.Operation("op"))
			b.Info("info", tag.Operation("op"))
			b.Warn("warn", tag.Operation("op"))
			b.Error("error", tag.Error(errors.New("boom")))
			b.DPanic("dpanic")
			b.Panic("panic")
			b.Fatal("fatal")

			var got []entry
			for _, e := range logs.All() {
				got = append(got, entry{e.Level, e.Message})
				require.Equal(t, "active", e.ContextMap()["cluster-name"], "With tags are kept")
			}
			require.Equal(t, tt.want, got)
			if tt.logLevel == "debug" {
				require.Equal(t, "op", logs.All()[0].ContextMap()["operation"])
				require.Equal(t, "boom", logs.All()[3].ContextMap()["error"])
			}
		})
	}
}

func TestBuildDynamicConfig(t *testing.T) {
	dc, err := buildDynamicConfig(map[string]any{
		"matching.priorityLevels":          int64(10),
		"frontend.namespaceRPS.visibility": json.Number("250"),
		"Limit.BlobSize.Warn":              json.Number("0.5"),
	})
	require.NoError(t, err)
	tests := []struct {
		key  dynamicconfig.Key
		want any
	}{
		{dynamicconfig.MatchingUseNewMatcher.Key(), true},
		{dynamicconfig.MatchingNumTaskqueueReadPartitions.Key(), 1},
		{dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key(), true},
		{dynamicconfig.MatchingPriorityLevels.Key(), 10},
		{dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(), 250},
		{dynamicconfig.MakeKey("limit.blobSize.warn"), 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.key.String(), func(t *testing.T) {
			got := dc.GetValue(tt.key)
			require.Len(t, got, 1)
			require.Equal(t, tt.want, got[0].Value)
		})
	}
	_, err = buildDynamicConfig(map[string]any{"x": json.Number("nan-ish")})
	require.ErrorContains(t, err, `dynamic config "x"`)
}
