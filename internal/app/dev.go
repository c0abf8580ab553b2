//go:build !nodev

package app

import (
	"context"
	"github.com/apilivesync/apilivesync/workflows/syncjob"

	"go.uber.org/zap"

	"github.com/apilivesync/apilivesync/internal/devserver"
)

// Default ports of the embedded dev server, the same as `temporal server start-dev`.
const (
	DefaultDevIP     = devserver.DefaultIP
	DefaultDevPort   = devserver.DefaultFrontendPort
	DefaultDevUIPort = devserver.DefaultUIPort
)

type devServer interface {
	FrontendHostPort() string
	UIURL() string
	Namespace() string
	Stop() error
}

func startDevServer(ctx context.Context, opts WorkerOptions, logger *zap.Logger) (devServer, error) {
	dopts := devserver.DefaultOptions(opts.DataDir)
	if opts.IP != "" {
		dopts.IP = opts.IP
	}
	dopts.FrontendPort, dopts.UIPort = opts.Port, opts.UIPort
	if opts.Namespace != "" {
		dopts.Namespace = opts.Namespace
	}
	dopts.SearchAttributes = syncjob.SearchAttributes()
	dopts.UICodecEndpoint = opts.CodecEndpoint
	dopts.Logger = logger.Named("temporal")
	return devserver.Start(ctx, dopts)
}
