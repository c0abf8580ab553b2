// Command worker runs API Live Sync's Temporal worker. With -dev it also
// runs an embedded Temporal server and UI and syncs the example sources:
//
//	go run ./worker -dev
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/apilivesync/apilivesync/internal/app"
	"github.com/apilivesync/apilivesync/internal/logging"
	"github.com/apilivesync/apilivesync/internal/resolve"
	"github.com/apilivesync/apilivesync/internal/source"
	"github.com/apilivesync/apilivesync/internal/store"
)

func main() {
	var o app.WorkerOptions
	var allow, logFormat, logLevel, sourceDirs, secretEnv, secretDirs string
	var aiMaxReasks int
	flag.BoolVar(&o.Dev, "dev", false, "run an embedded Temporal server and UI (state in -data) and sync the examples")
	flag.StringVar(&o.DataDir, "data", store.DefaultDataDir, "data directory: Temporal's SQLite database and the spec store")
	flag.StringVar(&o.IP, "ip", app.DefaultDevIP, "-dev: address the server and UI listen on")
	flag.IntVar(&o.Port, "port", app.DefaultDevPort, "-dev: Temporal frontend (gRPC) port")
	flag.IntVar(&o.UIPort, "ui-port", app.DefaultDevUIPort, "-dev: Temporal UI port (-1: no UI)")
	flag.StringVar(&o.Namespace, "namespace", "", "Temporal namespace (default: default, or $TEMPORAL_NAMESPACE without -dev)")
	flag.StringVar(&o.StoreURL, "store", "", "store URL: file:///dir, mem://, s3://bucket (default $"+store.URLEnv+" or file://<data>/store)")
	flag.BoolVar(&o.NoWorker, "no-worker", false, "-dev: run the server and UI only; start workers separately with `go run ./worker`")
	flag.BoolVar(&o.Examples, "examples", true, "-dev: sync the embedded example specs at start")
	flag.BoolVar(&o.AllowPrivate, "allow-private", false, "let sources reach private network addresses (SSRF guard)")
	flag.StringVar(&allow, "allow", "", "comma-separated hosts, host:port or CIDRs sources may reach despite the SSRF guard")
	flag.Int64Var(&o.MaxBytes, "max-bytes", 20<<20, "largest spec a source may serve, in bytes")
	flag.DurationVar(&o.FetchTimeout, "fetch-timeout", 0, "longest one fetch may take, redirects and body included (default 30s)")
	flag.StringVar(&sourceDirs, "source-dir", "", "comma-separated directories file sources may read (-dev adds the working directory)")
	flag.StringVar(&secretEnv, "secret-env", "", "comma-separated environment variable names or patterns (PAYMENTS_*) header references may name; "+source.DefaultSecretEnvPattern+" always")
	flag.StringVar(&secretDirs, "secret-dir", "", "comma-separated directories whose files header references (file:/…) may name")
	flag.StringVar(&o.AI.BaseURL, "ai-base-url", os.Getenv("LIVESYNC_AI_BASE_URL"), "OpenAI-compatible API base URL for the ai conflict strategy (e.g. http://localhost:11434/v1)")
	flag.StringVar(&o.AI.Model, "ai-model", os.Getenv("LIVESYNC_AI_MODEL"), "model for the ai conflict strategy")
	flag.StringVar(&o.AI.APIKeyEnv, "ai-key-env", "OPENAI_API_KEY", "environment variable that holds the AI API key (never the key itself)")
	flag.IntVar(&aiMaxReasks, "ai-max-reasks", resolve.DefaultAIMaxReasks, "how often an invalid model answer is asked again, with the error, before a person is asked (0: never); a source's or API's aiMaxReasks wins")
	flag.StringVar(&o.ConfigFile, "config", "", "YAML file declaring sources, APIs, schedules, AI and webhooks; the engine is reconciled to it")
	flag.StringVar(&o.MetricsAddr, "metrics-addr", "127.0.0.1:9090", "address of the Prometheus /metrics endpoint (off: none)")
	flag.StringVar(&o.CodecAddr, "codec-addr", "", "serve the payload codec for the Temporal UI on this address (needs LIVESYNC_CODEC_KEY)")
	flag.StringVar(&logFormat, "log-format", "console", "console or json")
	flag.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	flag.Parse()
	if allow != "" {
		o.Allow = strings.Split(allow, ",")
	}
	o.SourceDirs = source.SplitList(sourceDirs)
	secrets, err := source.SecretPolicyFromFlags(secretEnv, secretDirs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(2)
	}
	o.Secrets = secrets
	if err := o.SetAIMaxReasks(aiMaxReasks); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(2)
	}
	logger, err := logging.New(logFormat, logLevel)
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(2)
	}
	defer func() { _ = logger.Sync() }()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if err := app.RunWorker(ctx, o, logger); err != nil {
		logger.Error("worker stopped: " + err.Error())
		os.Exit(1)
	}
}
