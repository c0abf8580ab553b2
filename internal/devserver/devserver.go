package devserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/server/temporal"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

const (
	// DefaultIP is the address every listener binds to when Options.IP is empty.
	DefaultIP = "127.0.0.1"
	// DefaultFrontendPort is the usual Temporal frontend gRPC port.
	DefaultFrontendPort = 7233
	// DefaultUIPort is the Web UI port `temporal server start-dev` uses.
	DefaultUIPort = 8233
	// NoUI as Options.UIPort starts no Web UI.
	NoUI = -1
	// DefaultNamespace is the namespace registered when Options.Namespace is empty.
	DefaultNamespace = "default"
	// DatabaseFileName is the SQLite file inside Options.DataDir.
	DatabaseFileName = "temporal.db"
	// defaultReadyTimeout bounds Start when ctx has no deadline.
	defaultReadyTimeout = 2 * time.Minute
)

// Options configures a dev server. The zero value is usable: an in-memory
// database, free ports, the UI on, namespace "default", server logs dropped.
type Options struct {
	// DataDir holds the SQLite file (DataDir/temporal.db). It is created if
	// missing and reused across restarts. Empty means an in-memory database,
	// lost at Stop.
	DataDir string
	// IP is the address all listeners bind to; DefaultIP when empty.
	IP string
	// FrontendPort is the gRPC frontend port; 0 picks a free port.
	// DefaultOptions sets DefaultFrontendPort.
	FrontendPort int
	// UIPort is the Web UI port; 0 picks a free port, NoUI (-1) starts no
	// UI. DefaultOptions sets DefaultUIPort.
	UIPort int
	// Namespace is registered on first start and reused after a restart;
	// DefaultNamespace when empty.
	Namespace string
	// ExtraNamespaces are registered beside Namespace.
	ExtraNamespaces []string
	// SearchAttributes are custom search attributes ensured in every
	// namespace, e.g. {"LiveSyncSource": INDEXED_VALUE_TYPE_KEYWORD}.
	// Attributes added since the last start are added on this one.
	SearchAttributes map[string]enumspb.IndexedValueType
	// DynamicConfig overrides DefaultDynamicConfig, key by key.
	DynamicConfig map[string]any
	// UICodecEndpoint is an optional codec server URL handed to the UI.
	UICodecEndpoint string
	// Logger receives the server's logs; nil drops them.
	Logger *zap.Logger
	// LogLevel filters server logs: debug, info, warn, error or none;
	// DefaultLogLevel (warn) when empty.
	LogLevel string
}

// DefaultOptions returns the options `go run ./worker -dev` starts with:
// data under dataDir, the frontend on DefaultFrontendPort and the UI on
// DefaultUIPort.
func DefaultOptions(dataDir string) Options {
	return Options{
		DataDir:      dataDir,
		IP:           DefaultIP,
		FrontendPort: DefaultFrontendPort,
		UIPort:       DefaultUIPort,
		Namespace:    DefaultNamespace,
	}
}

// Server is a running dev server. Stop it when done.
type Server struct {
	plan      *plan
	quietStop bool     // raise the log filter to error while stopping
	lock      *os.File // flock on the data dir; nil when in memory
	temporal  temporal.Server
	ui        *uiServer
	log       *zap.Logger

	stopOnce sync.Once
	stopErr  error
}

// Start starts the Temporal server and, unless opts.UIPort is NoUI, the Web
// UI. It returns once the frontend answers gRPC calls, every namespace can
// be described and every search attribute is registered, or with an error
// (after stopping whatever it started) when ctx ends first. Port conflicts
// are reported as *PortInUseError, data-dir problems as *DataDirError.
func Start(ctx context.Context, opts Options) (*Server, error) {
	p, err := resolve(opts)
	if err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	logger = logger.Named("devserver")

	var lock *os.File
	if p.dbFile != "" {
		if lock, err = lockDataDir(filepath.Dir(p.dbFile)); err != nil {
			return nil, err
		}
	}
	unlock := func() {
		if lock != nil {
			_ = lock.Close()
		}
	}
	sql := p.sqlConfig()
	if err := p.initDatabase(sql); err != nil {
		unlock()
		return nil, err
	}
	srvOpts, err := p.serverOptions(p.serverConfig(sql))
	if err != nil {
		unlock()
		return nil, err
	}
	ts, err := temporal.NewServer(srvOpts...)
	if err != nil {
		unlock()
		return nil, fmt.Errorf("devserver: build Temporal server: %w", err)
	}
	s := &Server{plan: p, temporal: ts, log: logger, quietStop: opts.LogLevel == "", lock: lock}

	started := time.Now()
	if err := ts.Start(); err != nil {
		_ = ts.Stop()
		unlock()
		return nil, fmt.Errorf("devserver: start Temporal server on %s: %w", p.frontendAddr(), err)
	}
	if p.uiPort != 0 {
		ui, err := startUI(p)
		if err != nil {
			_ = ts.Stop()
			unlock()
			return nil, err
		}
		s.ui = ui
	}

	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultReadyTimeout)
		defer cancel()
	}
	if err := s.waitReady(ctx); err != nil {
		return nil, errors.Join(err, s.Stop())
	}
	logger.Info("Temporal dev server started",
		zap.String("frontend", s.FrontendHostPort()),
		zap.String("ui", s.UIURL()),
		zap.String("database", p.dbDescription()),
		zap.Strings("namespaces", p.namespaces),
		zap.Duration("took", time.Since(started)))
	return s, nil
}

// resolve validates opts, fills defaults, checks the requested ports are
// free and chooses the others.
func resolve(opts Options) (*plan, error) {
	lvl, err := parseLogLevel(opts.LogLevel)
	if err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	p := &plan{
		ip:               opts.IP,
		searchAttributes: opts.SearchAttributes,
		codecEndpoint:    opts.UICodecEndpoint,
		logFilter:        newLogFilter(lvl),
	}
	p.logger = newZapBridge(logger.Named("temporal"), p.logFilter)
	if p.ip == "" {
		p.ip = DefaultIP
	}
	if net.ParseIP(p.ip) == nil {
		return nil, fmt.Errorf("devserver: IP %q is not an IP address (the server needs an address, not a host name)", opts.IP)
	}

	primary := opts.Namespace
	if primary == "" {
		primary = DefaultNamespace
	}
	p.namespaces = []string{primary}
	for _, ns := range opts.ExtraNamespaces {
		if ns == "" {
			return nil, errors.New("devserver: ExtraNamespaces contains an empty name")
		}
		if !slices.Contains(p.namespaces, ns) {
			p.namespaces = append(p.namespaces, ns)
		}
	}

	if p.dynamicConfig, err = buildDynamicConfig(opts.DynamicConfig); err != nil {
		return nil, err
	}

	if opts.DataDir != "" {
		dir, err := filepath.Abs(opts.DataDir)
		if err != nil {
			return nil, &DataDirError{Path: opts.DataDir, Err: err}
		}
		if err := prepareDataDir(dir); err != nil {
			return nil, err
		}
		p.dbFile = filepath.Join(dir, DatabaseFileName)
	}

	if p.frontendPort, err = choosePort("frontend gRPC", p.ip, opts.FrontendPort); err != nil {
		return nil, err
	}
	switch {
	case opts.UIPort == NoUI:
	case opts.UIPort < NoUI:
		return nil, fmt.Errorf("devserver: UI port %d: want a port, 0 for a free one or %d for no UI", opts.UIPort, NoUI)
	default:
		if p.uiPort, err = choosePort("Web UI", p.ip, opts.UIPort); err != nil {
			return nil, err
		}
	}
	for _, port := range []*int{&p.frontendHTTPPort, &p.historyPort, &p.matchingPort, &p.workerPort} {
		if *port, err = freePort(p.ip); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// choosePort returns port after checking it is free, or a free port when 0.
func choosePort(purpose, ip string, port int) (int, error) {
	if port == 0 {
		return freePort(ip)
	}
	if port < 0 || port > 65535 {
		return 0, fmt.Errorf("devserver: %s port %d is out of range", purpose, port)
	}
	if err := checkPortFree(purpose, ip, port); err != nil {
		return 0, err
	}
	return port, nil
}

// FrontendHostPort returns the gRPC frontend address, e.g. "127.0.0.1:7233".
func (s *Server) FrontendHostPort() string { return s.plan.frontendAddr() }

// UIURL returns the Web UI's base URL, e.g. "http://127.0.0.1:8233", or ""
// when the server runs without UI.
func (s *Server) UIURL() string {
	if s.ui == nil {
		return ""
	}
	return "http://" + net.JoinHostPort(s.plan.ip, strconv.Itoa(s.plan.uiPort))
}

// Namespace returns the primary namespace.
func (s *Server) Namespace() string { return s.plan.namespaces[0] }

// Stop stops the UI and the server and waits for them. Calling it again
// returns the first call's result.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		if s.quietStop {
			// Services shutting down warn about each other's closed
			// connections; with the default level that is noise.
			s.plan.logFilter.set(zapcore.ErrorLevel)
		}
		var errs []error
		if s.ui != nil {
			errs = append(errs, s.ui.stop())
		}
		if err := s.temporal.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("devserver: stop Temporal server on %s: %w", s.FrontendHostPort(), err))
		}
		if s.lock != nil {
			errs = append(errs, s.lock.Close())
		}
		s.stopErr = errors.Join(errs...)
		s.log.Info("Temporal dev server stopped", zap.String("frontend", s.FrontendHostPort()))
	})
	return s.stopErr
}
