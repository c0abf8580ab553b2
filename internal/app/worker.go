// Package app wires API Live Sync's parts into the worker program: the
// client, the store, the activities and their fetch policy, the embedded
// dev server and the example sources. worker/main.go stays thin; the
// starter's commands live in internal/cli, which never links the server.
package app

import (
	"context"
	"errors"
	"fmt"
	"github.com/apilivesync/apilivesync/internal/cli"
	"github.com/apilivesync/apilivesync/internal/dial"
	"github.com/apilivesync/apilivesync/internal/registry"
	"github.com/apilivesync/apilivesync/workflows/engine"
	"net"
	"net/http"
	"os"
	"slices"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"

	"github.com/apilivesync/apilivesync/activities"
	"github.com/apilivesync/apilivesync/examples"
	"github.com/apilivesync/apilivesync/internal/codec"
	"github.com/apilivesync/apilivesync/internal/config"
	"github.com/apilivesync/apilivesync/internal/fetch"
	"github.com/apilivesync/apilivesync/internal/logging"
	"github.com/apilivesync/apilivesync/internal/metrics"
	"github.com/apilivesync/apilivesync/internal/notify"
	"github.com/apilivesync/apilivesync/internal/resolve"
	"github.com/apilivesync/apilivesync/internal/source"
	"github.com/apilivesync/apilivesync/internal/spec"
	"github.com/apilivesync/apilivesync/internal/store"
	"github.com/apilivesync/apilivesync/workflows"
	"github.com/apilivesync/apilivesync/workflows/syncjob"
)

// WorkerOptions configure RunWorker.
type WorkerOptions struct {
	Dev          bool
	DataDir      string
	IP           string
	Port         int
	UIPort       int
	Namespace    string
	StoreURL     string
	NoWorker     bool // dev server only: workers run as separate processes
	Examples     bool // sync the embedded examples (dev mode)
	AllowPrivate bool
	Allow        []string
	MaxBytes     int64
	// FetchTimeout caps one fetch (0: the fetcher's default, 30s).
	FetchTimeout time.Duration
	// SourceDirs are the directories file sources may read (-source-dir);
	// -dev adds the working directory.
	SourceDirs []string
	// Secrets says which environment variables and secret files header
	// references may name (-secret-env, -secret-dir).
	Secrets source.SecretPolicy
	AI      resolve.AIConfig
	// CodecEndpoint is handed to the dev UI to decode encrypted payloads.
	CodecEndpoint string
	// ConfigFile declares sources, APIs, schedules, AI and webhooks; the
	// engine is reconciled to it at start.
	ConfigFile string
	// MetricsAddr serves Prometheus /metrics ("" or "off": none).
	MetricsAddr string
	// CodecAddr serves the payload codec (LIVESYNC_CODEC_KEY) for the UI.
	CodecAddr string
	// Ready, when set, is called once everything runs (tests use it).
	Ready func(Running)
}

// SetAIMaxReasks sets the worker-wide default of how many times an invalid
// model answer is asked again (-ai-max-reasks; 0: never). A job's, source's
// or API's aiMaxReasks wins.
func (o *WorkerOptions) SetAIMaxReasks(n int) error {
	if n < 0 {
		return fmt.Errorf("-ai-max-reasks %d: must not be negative (0 never asks the model again)", n)
	}
	o.AI.MaxReasks = n
	if n == 0 {
		o.AI.MaxReasks = -1 // AIConfig's zero is the default
	}
	return nil
}

// Running describes a started worker process.
type Running struct {
	Client    client.Client
	Frontend  string
	UIURL     string
	StoreURL  string
	Namespace string
	// MetricsURL is the Prometheus endpoint, when served.
	MetricsURL string
}

// DocCacheBytes bounds the estimated memory of the parsed-document cache of
// one worker.
const DocCacheBytes = 64 << 20

// NewActivities builds the activities with their real dependencies. The AI
// resolver is configured when ai.BaseURL or ai.Model is set; its key is
// read from the environment variable ai.APIKeyEnv at each call.
// fo configures fetching: limits, the SSRF guard, the roots file sources
// may read and the secret references sources may use.
func NewActivities(st *store.Store, fo fetch.Options, ai resolve.AIConfig, logger *zap.Logger) *activities.Activities {
	if fo.MaxBytes <= 0 {
		fo.MaxBytes = 20 << 20
	}
	fo.Logger = logger
	acts := &activities.Activities{
		Store:       st,
		Fetcher:     fetch.New(fo),
		Logger:      logger,
		SpecOptions: spec.Options{MaxBytes: fo.MaxBytes},
		Docs:        activities.NewDocCache(DocCacheBytes),
	}
	if ai.BaseURL != "" || ai.Model != "" {
		acts.AI = resolve.NewAIResolver(ai, os.LookupEnv, logger.Named("ai"))
	}
	return acts
}

// Register registers every workflow and activity on w. The engine's
// activities manage schedules through c.
func Register(w worker.Registry, acts *activities.Activities, c client.Client) {
	workflows.Register(w)
	w.RegisterActivity(acts)
	guard, roots, secrets := acts.Fetcher.Policy()
	w.RegisterActivity(&activities.EngineActivities{Client: c, Logger: acts.Logger,
		Policy:   activities.SourcePolicy{Guard: guard, Roots: roots, Secrets: secrets},
		Registry: registry.New(acts.Store), Engine: engine.Ref()})
}

// NewWorkers are a worker process's pollers, each registered with every
// workflow and activity: one on the sync jobs' task queue and one on the
// engine's own (engine.TaskQueue), so the engine's workflow tasks never wait
// for a slot a job holds. Start and stop them together.
func NewWorkers(c client.Client, acts *activities.Activities, opts worker.Options) []worker.Worker {
	var ws []worker.Worker
	for _, q := range []string{syncjob.TaskQueue, engine.TaskQueue} {
		w := worker.New(c, q, opts)
		Register(w, acts, c)
		ws = append(ws, w)
	}
	return ws
}

// StartWorkers starts workers; on an error it stops those it started.
// stop stops them all.
func StartWorkers(ws []worker.Worker) (stop func(), err error) {
	stop = func() {
		for _, w := range ws {
			w.Stop()
		}
	}
	for i, w := range ws {
		if err := w.Start(); err != nil {
			for _, started := range ws[:i] {
				started.Stop()
			}
			return nil, err
		}
	}
	return stop, nil
}

// WithHeartbeats makes every activity of a worker with these options
// heartbeat while it runs: a worker lost mid-step is noticed within
// activities.HeartbeatTimeout and its step runs elsewhere at once.
func WithHeartbeats(o worker.Options) worker.Options {
	o.Interceptors = append(o.Interceptors, activities.NewHeartbeatInterceptor())
	return o
}

// RunWorker runs until ctx ends: in dev mode an embedded Temporal server
// and UI, then the worker, then a sync of the examples.
func RunWorker(ctx context.Context, opts WorkerOptions, logger *zap.Logger) error {
	if opts.DataDir == "" {
		opts.DataDir = store.DefaultDataDir
	}
	// An invalid config file is refused as a whole before anything starts.
	var cfg *config.Config
	if opts.ConfigFile != "" {
		var err error
		if cfg, err = config.Load(opts.ConfigFile); err != nil {
			return fmt.Errorf("config %s refused, nothing applied:\n%w", opts.ConfigFile, err)
		}
		if cfg.Fetch.MaxBytes > 0 {
			opts.MaxBytes = cfg.Fetch.MaxBytes
		}
		if cfg.Fetch.Timeout > 0 {
			opts.FetchTimeout = cfg.Fetch.Timeout.Std()
		}
		if cfg.AI.BaseURL != "" || cfg.AI.Model != "" {
			opts.AI = resolve.AIConfig{BaseURL: cfg.AI.BaseURL, Model: cfg.AI.Model, APIKeyEnv: cfg.AI.APIKeyEnv, Timeout: cfg.AI.Timeout.Std(),
				MaxReasks: opts.AI.MaxReasks}
		}
	}
	var mets *metrics.Metrics
	var metricsURL string
	if opts.MetricsAddr != "" && opts.MetricsAddr != "off" {
		var err error
		if mets, err = metrics.New(metrics.WithLogger(logger)); err != nil {
			return err
		}
		addr, err := mets.Serve(ctx, opts.MetricsAddr)
		switch {
		case err != nil && opts.Dev:
			// A busy port (another Prometheus, say) must not stop the dev run.
			logger.Warn("no /metrics endpoint: "+err.Error()+" (choose another with -metrics-addr)", zap.String("addr", opts.MetricsAddr))
		case err != nil:
			return fmt.Errorf("serve metrics on %s: %w", opts.MetricsAddr, err)
		default:
			logger.Info("Prometheus metrics on http://"+addr+"/metrics", zap.String("addr", addr))
			metricsURL = "http://" + addr + "/metrics"
		}
		defer func() {
			// Flush what the exporter holds; the process is ending anyway.
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = mets.Shutdown(sctx)
		}()
	}
	keys, err := codec.KeysFromEnv(os.LookupEnv)
	if err != nil {
		return err
	}
	if opts.CodecAddr != "" {
		if keys == nil {
			return fmt.Errorf("-codec-addr needs %s: the codec server decodes with those keys", codec.EnvKey)
		}
		origins := []string{"http://127.0.0.1:8233", "http://localhost:8233"}
		if opts.Dev && opts.UIPort > 0 {
			origins = append(origins, fmt.Sprintf("http://127.0.0.1:%d", opts.UIPort), fmt.Sprintf("http://localhost:%d", opts.UIPort))
		}
		ln, err := net.Listen("tcp", opts.CodecAddr)
		if err != nil {
			return fmt.Errorf("serve codec on %s: %w", opts.CodecAddr, err)
		}
		srv := &http.Server{Handler: codec.Handler(keys, codec.HandlerOptions{AllowedOrigins: origins, AuthToken: os.Getenv(codec.EnvAuthToken)}), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		opts.CodecEndpoint = "http://" + ln.Addr().String()
		logger.Info("payload codec server on "+opts.CodecEndpoint, zap.Strings("corsOrigins", origins))
	}
	var copts client.Options
	running := Running{MetricsURL: metricsURL}
	if opts.Dev {
		logger.Info("starting embedded Temporal server", zap.String("data", opts.DataDir))
		srv, err := startDevServer(ctx, opts, logger)
		if err != nil {
			return err
		}
		defer func() { _ = srv.Stop() }()
		running.Frontend, running.UIURL, running.Namespace = srv.FrontendHostPort(), srv.UIURL(), srv.Namespace()
		copts = client.Options{HostPort: running.Frontend, Namespace: running.Namespace}
		logger.Info("Temporal server ready", zap.String("frontend", running.Frontend), zap.String("namespace", running.Namespace))
		if running.UIURL != "" {
			logger.Info("Temporal UI: "+running.UIURL+"/namespaces/"+running.Namespace+"/workflows", zap.String("ui", running.UIURL))
		}
	} else {
		var err error
		copts, err = envconfig.LoadDefaultClientOptions()
		if err != nil {
			return fmt.Errorf("load Temporal client config (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, …): %w", err)
		}
		if opts.Namespace != "" {
			copts.Namespace = opts.Namespace
		}
		if copts.HostPort == "" {
			copts.HostPort = client.DefaultHostPort
		}
		running.Frontend, running.Namespace = copts.HostPort, copts.Namespace
	}
	copts.Logger = logging.NewSDK(logger.Named("sdk"))
	if mets != nil {
		copts.MetricsHandler = mets.SDKHandler()
	}
	if err := dial.UseCodec(&copts); err != nil {
		return err
	}
	if keys != nil {
		logger.Info("payloads in workflow history are encrypted (AES-GCM, key " + keys.Current + ")")
	}
	c, err := client.DialContext(ctx, copts)
	if err != nil {
		return fmt.Errorf("connect to Temporal at %s: %w", copts.HostPort, err)
	}
	defer c.Close()
	running.Client = c

	storeURL, err := store.URLFor(opts.DataDir, opts.StoreURL)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, storeURL)
	if err != nil {
		return err
	}
	defer st.Close()
	running.StoreURL = storeURL

	policy := config.Policy{
		Guard:       fetch.GuardOptions{AllowPrivate: opts.AllowPrivate, Allow: opts.Allow},
		SourceRoots: opts.SourceDirs,
		Secrets:     opts.Secrets,
	}
	if opts.Dev {
		// The main use of -dev is syncing a local dev server, or a file beside it.
		policy.Guard.AllowLoopback = true
		for _, r := range source.DevRoots("") {
			if !slices.Contains(policy.SourceRoots, r) {
				policy.SourceRoots = append(policy.SourceRoots, r)
			}
		}
		logger.Info("dev mode: sources on localhost and files under the working directory are allowed (the SSRF guard still refuses private and metadata addresses)",
			zap.Strings("sourceDirs", policy.SourceRoots))
	}
	if cfg != nil {
		policy = cfg.Policy(policy)
	}
	if opts.AI.APIKeyEnv != "" {
		policy.Secrets.Deny = append(policy.Secrets.Deny, opts.AI.APIKeyEnv)
	}
	logger.Info("sources may reference secrets: "+policy.Secrets.String(), zap.Strings("sourceDirs", policy.SourceRoots))
	if cfg != nil {
		// What fetch would refuse later is refused now, at file:line:col.
		if err := config.ValidateWith(cfg, policy); err != nil {
			return fmt.Errorf("config %s refused, nothing applied:\n%w", opts.ConfigFile, err)
		}
	}

	if !opts.NoWorker {
		acts := NewActivities(st, policy.Apply(fetch.Options{MaxBytes: opts.MaxBytes, Timeout: opts.FetchTimeout}), opts.AI, logger)
		if cfg != nil && len(cfg.Webhooks) > 0 {
			hooks, err := webhooks(cfg, os.LookupEnv)
			if err != nil {
				return err
			}
			acts.Notifier = activities.Webhooks{N: notify.New(hooks, notify.Options{Client: acts.Fetcher.Client(), Logger: logger.Named("webhooks")})}
		}
		go releaseIdleMemory(ctx, 30*time.Second, 256<<20, logger)
		stop, err := StartWorkers(NewWorkers(c, acts, WithHeartbeats(worker.Options{})))
		if err != nil {
			return fmt.Errorf("start workers on task queues %s and %s: %w", syncjob.TaskQueue, engine.TaskQueue, err)
		}
		defer stop()
		logger.Info("worker polling", zap.String("taskQueue", syncjob.TaskQueue), zap.String("engineTaskQueue", engine.TaskQueue), zap.String("store", storeURL))
	} else {
		logger.Info("no in-process worker (-no-worker): start workers with `go run ./worker` pointed at " + running.Frontend)
	}

	if opts.Dev && opts.Examples {
		stopExamples, err := syncExamples(ctx, c, running, logger)
		if err != nil {
			return err
		}
		defer stopExamples()
	}
	if cfg != nil {
		res, err := cli.ApplyConfig(ctx, c, cfg, false, nil)
		if err != nil {
			return fmt.Errorf("apply %s: %w", opts.ConfigFile, err)
		}
		logger.Info(fmt.Sprintf("applied %s: %d added, %d updated, %d removed, %d unchanged", opts.ConfigFile,
			len(res.Added), len(res.Updated), len(res.Removed), len(res.Unchanged)))
	}
	if opts.Ready != nil {
		opts.Ready(running)
	}
	<-ctx.Done()
	logger.Info("shutting down")
	return nil
}

// webhooks resolves the config's webhooks, reading each HMAC secret from
// the environment variable the file names.
func webhooks(cfg *config.Config, lookup func(string) (string, bool)) ([]notify.Webhook, error) {
	var out []notify.Webhook
	for _, h := range cfg.Webhooks {
		if h.SecretEnv == "" {
			return nil, fmt.Errorf("webhook %s: set secretEnv: every delivery is signed (HMAC-SHA256), so receivers can tell it from a forgery", h.URL)
		}
		v, ok := lookup(h.SecretEnv)
		if !ok || v == "" {
			return nil, fmt.Errorf("webhook %s: environment variable %s (its signing secret) is not set", h.URL, h.SecretEnv)
		}
		out = append(out, notify.Webhook{URL: h.URL, Secret: []byte(v), Events: h.Events})
	}
	return out, nil
}

// syncExamples serves the embedded example specs over HTTP on loopback and
// starts a SyncJob for each, logging what each found.
func syncExamples(ctx context.Context, c client.Client, r Running, logger *zap.Logger) (func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("serve example specs: %w", err)
	}
	srv := &http.Server{Handler: http.FileServerFS(examples.Specs()), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	base := "http://" + ln.Addr().String() + "/"
	logger.Info("serving example specs", zap.String("url", base))
	stop := func() { _ = srv.Close() }

	for _, name := range examples.Names() {
		src := source.Source{ID: "example-" + examples.ID(name), Name: name, Kind: source.KindOpenAPI, URL: base + name}
		go func() {
			run, err := syncjob.StartRun(ctx, c, syncjob.SyncJobInput{Source: src})
			var res *syncjob.SyncJobResult
			if err == nil {
				res, err = syncjob.Result(ctx, run)
			}
			if err != nil {
				if !errors.Is(ctx.Err(), context.Canceled) {
					logger.Warn("example sync failed", zap.String("source", src.ID), zap.Error(err))
				}
				return
			}
			logger.Info("example synced: "+summaryLine(res), zap.String("source", src.ID),
				zap.String("ui", syncjob.UILink(r.UIURL, r.Namespace, run.GetID(), run.GetRunID())))
		}()
	}
	return stop, nil
}

// summaryLine is a one-line summary of a sync result.
func summaryLine(r *syncjob.SyncJobResult) string {
	switch {
	case r == nil:
		return ""
	case r.Error != "":
		return "failed: " + r.Error
	case r.NoChange:
		return fmt.Sprintf("no change (%s)", r.Message)
	default:
		return fmt.Sprintf("version %d of %s stored (%s; %d paths, %d operations, %d schemas; %d changes, %d breaking)",
			r.Version, r.API, r.SpecVersion, r.Paths, r.Operations, r.Schemas, r.Changes, r.BreakingChanges)
	}
}
