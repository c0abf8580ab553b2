package devserver

import (
	"fmt"
	"strings"
	"sync/atomic"

	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// DefaultLogLevel is the level below which server logs are dropped when
// Options.LogLevel is empty. The server logs a lot at info level.
const DefaultLogLevel = "warn"

// parseLogLevel turns Options.LogLevel into a zap level. "none" (or
// "never", as the temporal CLI spells it) silences the server entirely.
func parseLogLevel(s string) (zapcore.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return zapcore.WarnLevel, nil
	case "none", "never", "off":
		return zapcore.InvalidLevel, nil
	}
	lvl, err := zapcore.ParseLevel(s)
	if err != nil {
		return 0, fmt.Errorf("devserver: log level %q: want debug, info, warn, error or none: %w", s, err)
	}
	return lvl, nil
}

// logFilter is the minimum level a zapBridge passes on, shared by all
// loggers derived from one bridge so Stop can raise it for every one.
// zapcore.InvalidLevel means log nothing.
type logFilter struct{ min atomic.Int32 }

func newLogFilter(min zapcore.Level) *logFilter {
	f := &logFilter{}
	f.set(min)
	return f
}

func (f *logFilter) set(min zapcore.Level) { f.min.Store(int32(min)) }

func (f *logFilter) allows(lvl zapcore.Level) bool {
	min := zapcore.Level(f.min.Load())
	return min != zapcore.InvalidLevel && lvl >= min
}

// zapBridge implements the server's log.Logger on a *zap.Logger, dropping
// entries the filter rejects. DPanic, Panic and Fatal are logged as errors
// and never panic or exit: a dev server must not take its host process down.
type zapBridge struct {
	zl     *zap.Logger
	filter *logFilter
}

var (
	_ log.Logger     = zapBridge{}
	_ log.WithLogger = zapBridge{}
)

func newZapBridge(zl *zap.Logger, filter *logFilter) zapBridge {
	return zapBridge{zl: zl.WithOptions(zap.AddCallerSkip(2)), filter: filter}
}

func (b zapBridge) Debug(msg string, tags ...tag.Tag)  { b.log(zapcore.DebugLevel, msg, tags) }
func (b zapBridge) Info(msg string, tags ...tag.Tag)   { b.log(zapcore.InfoLevel, msg, tags) }
func (b zapBridge) Warn(msg string, tags ...tag.Tag)   { b.log(zapcore.WarnLevel, msg, tags) }
func (b zapBridge) Error(msg string, tags ...tag.Tag)  { b.log(zapcore.ErrorLevel, msg, tags) }
func (b zapBridge) DPanic(msg string, tags ...tag.Tag) { b.log(zapcore.ErrorLevel, msg, tags) }
func (b zapBridge) Panic(msg string, tags ...tag.Tag)  { b.log(zapcore.ErrorLevel, msg, tags) }
func (b zapBridge) Fatal(msg string, tags ...tag.Tag)  { b.log(zapcore.ErrorLevel, msg, tags) }

// With returns a logger that prepends tags to every entry.
func (b zapBridge) With(tags ...tag.Tag) log.Logger {
	return zapBridge{zl: b.zl.With(tagsToFields(tags)...), filter: b.filter}
}

func (b zapBridge) log(lvl zapcore.Level, msg string, tags []tag.Tag) {
	if !b.filter.allows(lvl) {
		return
	}
	if ce := b.zl.Check(lvl, msg); ce != nil {
		ce.Write(tagsToFields(tags)...)
	}
}

func tagsToFields(tags []tag.Tag) []zap.Field {
	fields := make([]zap.Field, 0, len(tags))
	for _, t := range tags {
		if zt, ok := t.(tag.ZapTag); ok {
			fields = append(fields, zt.Field())
			continue
		}
		fields = append(fields, zap.Any(t.Key(), t.Value()))
	}
	return fields
}
