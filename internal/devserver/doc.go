// Package devserver runs an embedded Temporal development server: a real
// Temporal server (frontend, history, matching and worker services) in the
// current process, persisting to a SQLite file, with the Temporal Web UI
// served beside it. It is what `go run ./worker -dev` starts, and what
// end-to-end tests start on free ports.
//
// The configuration is built in code, the way `temporal server start-dev`
// builds it: one history shard, SQLite for both the default and the
// visibility store, a single "active" cluster, static hosts instead of
// ringpop membership, and a static dynamic-config client with dev-box
// defaults (see DefaultDynamicConfig).
//
// # Ports
//
// All listeners bind to Options.IP (127.0.0.1 by default):
//
//   - Frontend gRPC, Options.FrontendPort: what SDK clients, workers and the
//     temporal CLI dial. DefaultFrontendPort (7233) in DefaultOptions, a free
//     port when 0.
//   - Web UI HTTP, Options.UIPort: DefaultUIPort (8233) in DefaultOptions, a
//     free port when 0, no UI when NoUI (-1). The UI proxies its /api/v1/...
//     calls to the frontend over gRPC.
//   - Frontend HTTP API, history, matching and worker gRPC: internal, always
//     on free ports chosen at start.
//
// # Persistence
//
// Options.DataDir holds the SQLite file (DatabaseFileName). The schema is
// created and the namespaces registered on first start; later starts on the
// same directory reuse the file, so workflow histories, namespaces and
// search attributes survive restarts. An empty DataDir runs on an in-memory
// database that is lost at Stop.
package devserver
