package devserver

import (
	"fmt"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uioptions "github.com/temporalio/ui-server/v2/server/server_options"
)

// uiServer runs the Temporal Web UI (ui-server, whose assets are embedded)
// in front of the frontend.
type uiServer struct {
	srv  *uiserver.Server
	done chan error
}

// startUI starts the UI server on p.ip:p.uiPort. ui-server binds the port
// itself inside its blocking Start, so the port is checked free just before.
// ui-server exits the process if that bind then fails; the window is the
// few microseconds between the check and the bind.
func startUI(p *plan) (*uiServer, error) {
	if err := checkPortFree("Web UI", p.ip, p.uiPort); err != nil {
		return nil, err
	}
	srv := uiserver.NewServer(uioptions.WithConfigProvider(&uiconfig.Config{
		Host:                p.ip,
		Port:                p.uiPort,
		TemporalGRPCAddress: p.frontendAddr(),
		EnableUI:            true,
		DefaultNamespace:    p.namespaces[0],
		Codec:               uiconfig.Codec{Endpoint: p.codecEndpoint},
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
