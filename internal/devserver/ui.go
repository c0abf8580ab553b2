package devserver

import (
	"context"
	"fmt"
	"net"
	"strconv"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uioptions "github.com/temporalio/ui-server/v2/server/server_options"
)

// uiServer runs the Temporal Web UI (ui-server, whose assets are embedded)
// in front of a frontend.
type uiServer struct {
	srv  *uiserver.Server
	done chan error
}

// startUI starts the dev server's UI on p.ip:p.uiPort.
func startUI(p *plan) (*uiServer, error) {
	return startUIServer(p.ip, p.uiPort, p.frontendAddr(), p.namespaces[0], p.codecEndpoint)
}

// startUIServer starts the UI on ip:port in front of frontend. ui-server
// binds the port itself inside its blocking Start, so the port is checked
// free just before. ui-server exits the process if that bind then fails;
// the window is the few microseconds between the check and the bind.
func startUIServer(ip string, port int, frontend, namespace, codecEndpoint string) (*uiServer, error) {
	if err := checkPortFree("Web UI", ip, port); err != nil {
		return nil, err
	}
	srv := uiserver.NewServer(uioptions.WithConfigProvider(&uiconfig.Config{
		Host:                ip,
		Port:                port,
		TemporalGRPCAddress: frontend,
		EnableUI:            true,
		DefaultNamespace:    namespace,
		Codec:               uiconfig.Codec{Endpoint: codecEndpoint},
		CORS:                uiconfig.CORS{CookieInsecure: true},
		HideLogs:            true,
		DisableNewsFetch:    true, // no internet access is assumed
	}))
	u := &uiServer{srv: srv, done: make(chan error, 1)}
	go func() { u.done <- srv.Start() }()
	return u, nil
}

// stop closes the UI's listener and waits for its Start to return.
func (u *uiServer) stop() error {
	u.srv.Stop()
	if err := <-u.done; err != nil {
		return fmt.Errorf("devserver: Web UI: %w", err)
	}
	return nil
}

// UIOptions configures a Web UI started on its own, in front of a frontend
// that is already running: a dev server started with NoUI, or a cluster.
type UIOptions struct {
	// Frontend is the gRPC frontend's host:port (Server.FrontendHostPort).
	Frontend string
	// Namespace is the namespace the UI opens; DefaultNamespace when empty.
	Namespace string
	// IP is the address the UI binds to; DefaultIP when empty.
	IP string
	// Port is the UI's port; 0 picks a free one.
	Port int
	// CodecEndpoint is an optional codec server URL handed to the UI.
	CodecEndpoint string
}

// UI is a Web UI started by StartUI. Stop it when done.
type UI struct {
	srv *uiServer
	url string
}

// StartUI starts the Temporal Web UI in front of opts.Frontend and returns
// once it answers (or with an error, after stopping it, when ctx ends
// first). Port conflicts are reported as *PortInUseError.
func StartUI(ctx context.Context, opts UIOptions) (*UI, error) {
	ip := opts.IP
	if ip == "" {
		ip = DefaultIP
	}
	ns := opts.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	if opts.Frontend == "" {
		return nil, fmt.Errorf("devserver: StartUI needs the frontend's host:port")
	}
	port, err := choosePort("Web UI", ip, opts.Port)
	if err != nil {
		return nil, err
	}
	srv, err := startUIServer(ip, port, opts.Frontend, ns, opts.CodecEndpoint)
	if err != nil {
		return nil, err
	}
	ui := &UI{srv: srv, url: "http://" + net.JoinHostPort(ip, strconv.Itoa(port))}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultReadyTimeout)
		defer cancel()
	}
	if _, err := retry(ctx, func() (struct{}, error) { return struct{}{}, httpOK(ctx, ui.url+"/healthz") }); err != nil {
		return nil, fmt.Errorf("devserver: Web UI at %s did not come up: %w (stop: %v)", ui.url, err, srv.stop())
	}
	return ui, nil
}

// URL is the UI's base URL, e.g. "http://127.0.0.1:34567".
func (u *UI) URL() string { return u.url }

// Stop stops the UI and waits for it.
func (u *UI) Stop() error { return u.srv.stop() }
