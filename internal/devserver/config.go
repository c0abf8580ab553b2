package devserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
)

const (
	// clusterName is the name of the single cluster the dev server runs.
	clusterName = "active"
	// dataStoreName names the one SQLite data store in the persistence config.
	dataStoreName = "sqlite-default"
)

// DefaultDynamicConfig returns the dynamic config the dev server starts
// with; Options.DynamicConfig entries override it key by key.
//
//   - system.forceSearchAttributesCacheRefreshOnRead and
//     system.forceNexusEndpointRefreshOnRead: a new search attribute or
//     Nexus endpoint is usable at once (as in `temporal server start-dev`),
//     with frontend.persistenceMaxQPS and history.persistenceMaxQPS raised to
//     pay for the cache bypass.
//   - frontend.namespaceRPS.visibility raised from 10 to 100, and
//     history.hostLevelCacheMaxSize lowered to 8096 for a dev box's memory.
//   - frontend.enableUpdateWorkflowExecution,
//     frontend.enableUpdateWorkflowExecutionAsyncAccepted,
//     frontend.enableSchedules and system.enableEagerWorkflowStart: on by
//     default in server 1.32 already, pinned here because the product uses
//     updates, update-with-start and schedules.
//   - Task-queue priority: matching.useNewMatcher (the priority-aware
//     matcher) on, matching.priorityLevels 5 (PriorityKey 1..5, 3 when
//     unset), and one read and one write partition per task queue
//     (matching.numTaskqueueReadPartitions/WritePartitions) so priority
//     orders a whole task queue rather than each of four partitions.
//     Fairness (matching.enableFairness) stays off: priority keys do not
//     need it.
func DefaultDynamicConfig() map[string]any {
	return map[string]any{
		dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key().String():            true,
		dynamicconfig.ForceNexusEndpointRefreshOnRead.Key().String():                    true,
		dynamicconfig.FrontendPersistenceMaxQPS.Key().String():                          10000,
		dynamicconfig.HistoryPersistenceMaxQPS.Key().String():                           45000,
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key().String():       100,
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key().String():                       8096,
		dynamicconfig.FrontendEnableUpdateWorkflowExecution.Key().String():              true,
		dynamicconfig.FrontendEnableUpdateWorkflowExecutionAsyncAccepted.Key().String(): true,
		dynamicconfig.FrontendEnableSchedules.Key().String():                            true,
		dynamicconfig.EnableEagerWorkflowStart.Key().String():                           true,
		dynamicconfig.MatchingUseNewMatcher.Key().String():                              true,
		dynamicconfig.MatchingPriorityLevels.Key().String():                             5,
		dynamicconfig.MatchingNumTaskqueueReadPartitions.Key().String():                 1,
		dynamicconfig.MatchingNumTaskqueueWritePartitions.Key().String():                1,
	}
}

// DataDirError reports a data directory that cannot be created or written.
type DataDirError struct {
	// Path is the directory.
	Path string
	// Err is the underlying file-system error.
	Err error
}

// Error implements error.
func (e *DataDirError) Error() string {
	return fmt.Sprintf("devserver: data dir %q is not usable: %v", e.Path, e.Err)
}

// Unwrap returns the file-system error.
func (e *DataDirError) Unwrap() error { return e.Err }

// prepareDataDir creates dir if missing and proves it is writable.
func prepareDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return &DataDirError{Path: dir, Err: err}
	}
	probe, err := os.CreateTemp(dir, ".devserver-probe-*")
	if err != nil {
		return &DataDirError{Path: dir, Err: fmt.Errorf("not writable: %w", err)}
	}
	name := probe.Name()
	if err := errors.Join(probe.Close(), os.Remove(name)); err != nil {
		return &DataDirError{Path: dir, Err: err}
	}
	return nil
}

// plan is Options with every default resolved and every port chosen.
type plan struct {
	ip               string
	frontendPort     int
	frontendHTTPPort int
	historyPort      int
	matchingPort     int
	workerPort       int
	uiPort           int // 0 when there is no UI
	dbFile           string
	namespaces       []string // the primary first
	searchAttributes map[string]enumspb.IndexedValueType
	dynamicConfig    dynamicconfig.StaticClient
	codecEndpoint    string
	logger           log.Logger
	logFilter        *logFilter
}

func (p *plan) frontendAddr() string { return net.JoinHostPort(p.ip, strconv.Itoa(p.frontendPort)) }

func (p *plan) addr(port int) string { return net.JoinHostPort(p.ip, strconv.Itoa(port)) }

// sqlConfig returns the SQLite persistence config: the file in rwc mode
// (read, write, create), or a shared-cache in-memory database when there is
// no data dir.
func (p *plan) sqlConfig() *config.SQL {
	if p.dbFile == "" {
		return &config.SQL{
			PluginName:        sqliteplugin.PluginName,
			DatabaseName:      "devserver-" + strconv.FormatUint(rand.Uint64(), 36),
			ConnectAttributes: map[string]string{"mode": "memory", "cache": "shared"},
		}
	}
	// Write-ahead logging with synchronous=NORMAL: each commit appends to
	// the WAL instead of rewriting pages behind a rollback journal with
	// several fsyncs, which made every workflow step wait on the disk. The
	// database stays consistent after a crash of the process; a power loss
	// may lose the last commits, as with `temporal server start-dev`.
	return &config.SQL{
		PluginName:        sqliteplugin.PluginName,
		DatabaseName:      p.dbFile,
		ConnectAttributes: map[string]string{"mode": "rwc", "journal_mode": "wal", "synchronous": "NORMAL"},
	}
}

// initDatabase creates the schema when the file is new and registers the
// namespaces that do not exist yet (existing ones are left as they are).
func (p *plan) initDatabase(sql *config.SQL) error {
	if p.dbFile != "" {
		st, err := os.Stat(p.dbFile)
		switch {
		case errors.Is(err, fs.ErrNotExist) || (err == nil && st.Size() == 0):
			if err := sqliteschema.SetupSchema(sql); err != nil {
				return fmt.Errorf("devserver: create schema in %s: %w", p.dbFile, err)
			}
		case err != nil:
			return &DataDirError{Path: filepath.Dir(p.dbFile), Err: err}
		}
	}
	nsConfigs := make([]*sqliteschema.NamespaceConfig, 0, len(p.namespaces))
	for _, ns := range p.namespaces {
		c, err := sqliteschema.NewNamespaceConfig(clusterName, ns, false, p.searchAttributes)
		if err != nil {
			return fmt.Errorf("devserver: namespace %q: %w", ns, err)
		}
		nsConfigs = append(nsConfigs, c)
	}
	if err := sqliteschema.CreateNamespaces(sql, nsConfigs...); err != nil {
		return fmt.Errorf("devserver: register namespaces %v in %s: %w", p.namespaces, p.dbDescription(), err)
	}
	return nil
}

func (p *plan) dbDescription() string {
	if p.dbFile == "" {
		return "in-memory database"
	}
	return p.dbFile
}

// serverConfig builds the static server config: one shard, SQLite for the
// default and visibility stores, one cluster, archival off.
func (p *plan) serverConfig(sql *config.SQL) *config.Config {
	var c config.Config
	c.Global.Membership.MaxJoinDuration = 30 * time.Second
	c.Global.Membership.BroadcastAddress = p.ip
	c.Persistence.DefaultStore = dataStoreName
	c.Persistence.VisibilityStore = dataStoreName
	c.Persistence.NumHistoryShards = 1
	c.Persistence.DataStores = map[string]config.DataStore{dataStoreName: {SQL: sql}}
	c.ClusterMetadata = &cluster.Config{
		EnableGlobalNamespace:    false,
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             p.frontendAddr(),
				HTTPAddress:            p.addr(p.frontendHTTPPort),
				// Only used when the database is new; afterwards the stored ID wins.
				ClusterID: uuid.NewString(),
			},
		},
	}
	c.DCRedirectionPolicy.Policy = "noop"
	service := func(grpcPort, httpPort int) config.Service {
		var s config.Service
		s.RPC.BindOnIP = p.ip
		s.RPC.GRPCPort = grpcPort
		s.RPC.HTTPPort = httpPort
		return s
	}
	c.Services = map[string]config.Service{
		string(primitives.FrontendService): service(p.frontendPort, p.frontendHTTPPort),
		string(primitives.HistoryService):  service(p.historyPort, 0),
		string(primitives.MatchingService): service(p.matchingPort, 0),
		string(primitives.WorkerService):   service(p.workerPort, 0),
	}
	c.Archival.History.State = "disabled"
	c.Archival.Visibility.State = "disabled"
	c.NamespaceDefaults.Archival.History.State = "disabled"
	c.NamespaceDefaults.Archival.Visibility.State = "disabled"
	c.PublicClient.HostPort = p.frontendAddr()
	return &c
}

// serverOptions assembles the options for temporal.NewServer. Static hosts
// replace ringpop membership, so several dev servers can share a process.
func (p *plan) serverOptions(c *config.Config) ([]temporal.ServerOption, error) {
	authorizer, err := authorization.GetAuthorizerFromConfig(&c.Global.Authorization)
	if err != nil {
		return nil, fmt.Errorf("devserver: authorizer: %w", err)
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&c.Global.Authorization, p.logger)
	if err != nil {
		return nil, fmt.Errorf("devserver: claim mapper: %w", err)
	}
	return []temporal.ServerOption{
		temporal.WithConfig(c),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(map[primitives.ServiceName]static.Hosts{
			primitives.FrontendService: static.SingleLocalHost(p.frontendAddr()),
			primitives.HistoryService:  static.SingleLocalHost(p.addr(p.historyPort)),
			primitives.MatchingService: static.SingleLocalHost(p.addr(p.matchingPort)),
			primitives.WorkerService:   static.SingleLocalHost(p.addr(p.workerPort)),
		}),
		temporal.WithLogger(p.logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(p.dynamicConfig),
	}, nil
}

// buildDynamicConfig merges overrides over DefaultDynamicConfig. Integer
// values of any Go integer type, and integral JSON numbers, become int,
// the only integer type the server's dynamic config accepts.
func buildDynamicConfig(overrides map[string]any) (dynamicconfig.StaticClient, error) {
	defaults := DefaultDynamicConfig()
	out := make(dynamicconfig.StaticClient, len(defaults)+len(overrides))
	for k, v := range defaults {
		out[dynamicconfig.MakeKey(k)] = v
	}
	// Keys are case-insensitive: MakeKey folds case, so an override written
	// as "frontend.namespaceRPS.visibility" replaces the default.
	for k, v := range overrides {
		nv, err := normalizeDynamicValue(v)
		if err != nil {
			return nil, fmt.Errorf("devserver: dynamic config %q: %w", k, err)
		}
		out[dynamicconfig.MakeKey(k)] = nv
	}
	return out, nil
}

func normalizeDynamicValue(v any) (any, error) {
	switch x := v.(type) {
	case int8:
		return int(x), nil
	case int16:
		return int(x), nil
	case int32:
		return int(x), nil
	case int64:
		return int(x), nil
	case uint8:
		return int(x), nil
	case uint16:
		return int(x), nil
	case uint32:
		return int(x), nil
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return int(i), nil
		}
		f, err := x.Float64()
		if err != nil {
			return nil, fmt.Errorf("value %q is not a number", x.String())
		}
		return f, nil
	default:
		return v, nil
	}
}
