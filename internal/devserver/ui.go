package devserver

import (
	"fmt"

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
