package devserver

import (
	"fmt"
	"strings"

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

// zapBridge implements the server's log.Logger on a *zap.Logger, dropping
// entries below min. DPanic, Panic and Fatal are logged as errors and never
// panic or exit: a dev server must not take its host process down.
type zapBridge struct {
	zl  *zap.Logger
	min zapcore.Level // InvalidLevel means log nothing
}

var (
	_ log.Logger     = zapBridge{}
	_ log.WithLogger = zapBridge{}
)

func newZapBridge(zl *zap.Logger, min zapcore.Level) zapBridge {
	return zapBridge{zl: zl.WithOptions(zap.AddCallerSkip(1)), min: min}
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
	return zapBridge{zl: b.zl.With(tagsToFields(tags)...), min: b.min}
}

func (b zapBridge) enabled(lvl zapcore.Level) bool {
	return b.min != zapcore.InvalidLevel && lvl >= b.min && b.zl.Core().Enabled(lvl)
}

func (b zapBridge) log(lvl zapcore.Level, msg string, tags []tag.Tag) {
	if !b.enabled(lvl) {
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
