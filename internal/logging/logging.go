// Package logging builds the zap loggers API Live Sync uses and bridges zap
// into the Temporal SDK, so workflow and activity logs carry the workflow and
// run IDs the SDK adds to every line.
package logging

import (
	"fmt"
	"os"

	"go.temporal.io/sdk/log"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// New builds a logger. format is "console" (for people) or "json" (for
// machines); level is debug, info, warn or error.
func New(format, level string) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	var cfg zap.Config
	switch format {
	case "", "console":
		cfg = zap.NewDevelopmentConfig()
		cfg.EncoderConfig.EncodeLevel = zapcore.CapitalColorLevelEncoder
		if fi, err := os.Stderr.Stat(); err == nil && fi.Mode()&os.ModeCharDevice == 0 {
			cfg.EncoderConfig.EncodeLevel = zapcore.CapitalLevelEncoder
		}
		cfg.EncoderConfig.EncodeTime = zapcore.TimeEncoderOfLayout("15:04:05.000")
		cfg.DisableStacktrace = true
	case "json":
		cfg = zap.NewProductionConfig()
	default:
		return nil, fmt.Errorf("log format %q: want console or json", format)
	}
	cfg.Level = zap.NewAtomicLevelAt(lvl)
	cfg.Development = false
	return cfg.Build()
}

// SDK adapts a zap logger to the Temporal SDK's log.Logger.
type SDK struct{ z *zap.Logger }

var (
	_ log.Logger          = (*SDK)(nil)
	_ log.WithLogger      = (*SDK)(nil)
	_ log.WithSkipCallers = (*SDK)(nil)
)

// NewSDK wraps z for client.Options.Logger.
func NewSDK(z *zap.Logger) *SDK { return &SDK{z: z.WithOptions(zap.AddCallerSkip(1))} }

func fields(keyvals []any) []zap.Field {
	out := make([]zap.Field, 0, len(keyvals)/2+1)
	for i := 0; i < len(keyvals); i += 2 {
		if i+1 == len(keyvals) {
			out = append(out, zap.Any("extra", keyvals[i]))
			break
		}
		key, ok := keyvals[i].(string)
		if !ok {
			key = fmt.Sprint(keyvals[i])
		}
		out = append(out, zap.Any(key, keyvals[i+1]))
	}
	return out
}

// Debug logs at debug level.
func (l *SDK) Debug(msg string, keyvals ...any) { l.z.Debug(msg, fields(keyvals)...) }

// Info logs at info level.
func (l *SDK) Info(msg string, keyvals ...any) { l.z.Info(msg, fields(keyvals)...) }

// Warn logs at warn level.
func (l *SDK) Warn(msg string, keyvals ...any) { l.z.Warn(msg, fields(keyvals)...) }

// Error logs at error level.
func (l *SDK) Error(msg string, keyvals ...any) { l.z.Error(msg, fields(keyvals)...) }

// With returns a logger that adds keyvals to every line.
func (l *SDK) With(keyvals ...any) log.Logger { return &SDK{z: l.z.With(fields(keyvals)...)} }

// WithCallerSkip returns a logger that skips depth more callers.
func (l *SDK) WithCallerSkip(depth int) log.Logger {
	return &SDK{z: l.z.WithOptions(zap.AddCallerSkip(depth))}
}
