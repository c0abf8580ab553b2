//go:build nodev

package app

import (
	"context"
	"errors"

	"go.uber.org/zap"
)

// Default ports of the embedded dev server (not in this build).
const (
	DefaultDevIP     = "127.0.0.1"
	DefaultDevPort   = 7233
	DefaultDevUIPort = 8233
)

type devServer interface {
	FrontendHostPort() string
	UIURL() string
	Namespace() string
	Stop() error
}

func startDevServer(context.Context, WorkerOptions, *zap.Logger) (devServer, error) {
	return nil, errors.New("this worker was built with -tags nodev and has no embedded dev server; point it at a cluster with TEMPORAL_ADDRESS, or use a build without the tag")
}
