// Package dial connects to Temporal the standard way (TEMPORAL_ADDRESS,
// TEMPORAL_NAMESPACE, TLS and API key variables or the temporal CLI's
// config file), with API Live Sync's payload codec when it is configured.
// The worker and the starter both dial through it.
package dial

import (
	"context"
	"fmt"
	"os"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	"go.temporal.io/sdk/temporal"

	"github.com/apilivesync/apilivesync/internal/codec"
)

// Client connects to Temporal: the standard environment and config file
// (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS, API key), overridden by the
// explicit address and namespace when given.
func Client(ctx context.Context, address, namespace string) (client.Client, error) {
	opts, err := envconfig.LoadDefaultClientOptions()
	if err != nil {
		return nil, fmt.Errorf("load Temporal client config: %w", err)
	}
	if address != "" {
		opts.HostPort = address
	}
	if opts.HostPort == "" {
		opts.HostPort = client.DefaultHostPort
	}
	if namespace != "" {
		opts.Namespace = namespace
	}
	opts.Logger = quietLogger{}
	if err := UseCodec(&opts); err != nil {
		return nil, err
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s (is `go run ./worker -dev` running?): %w", opts.HostPort, err)
	}
	return c, nil
}

// UseCodec encrypts payloads (and failure messages) with the AES-GCM codec
// when LIVESYNC_CODEC_KEY is set; every client of the namespace must.
func UseCodec(opts *client.Options) error {
	keys, err := codec.KeysFromEnv(os.LookupEnv)
	if err != nil || keys == nil {
		return err
	}
	dc := codec.DataConverter(keys)
	opts.DataConverter = dc
	opts.FailureConverter = temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{DataConverter: dc, EncodeCommonAttributes: true})
	return nil
}

// quietLogger drops the SDK's client logs in command-line tools.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}
