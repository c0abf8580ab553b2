package devserver

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
)

// PortInUseError reports that a port the server was asked to use is taken.
type PortInUseError struct {
	// Purpose names the listener, e.g. "frontend gRPC" or "Web UI".
	Purpose string
	// Addr is the host:port that could not be bound.
	Addr string
	// Port is the port number.
	Port int
	// Err is the error from the failed bind.
	Err error
}

// Error implements error.
func (e *PortInUseError) Error() string {
	return fmt.Sprintf("devserver: %s port %d (%s) is already in use; pick another port or stop what listens there: %v",
		e.Purpose, e.Port, e.Addr, e.Err)
}

// Unwrap returns the bind error.
func (e *PortInUseError) Unwrap() error { return e.Err }

// freePort asks the kernel for an ephemeral port on ip. It then connects to
// the port and lets the server side close first, which leaves the pair in
// TIME_WAIT: Linux does not hand that port out again for port-0 binds for a
// while, yet an explicit bind (with SO_REUSEADDR, Go's default) still works.
// That keeps two servers started back to back from drawing the same port.
func freePort(ip string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return 0, fmt.Errorf("devserver: find a free port on %s: %w", ip, err)
	}
	defer func() { _ = l.Close() }()
	port := l.Addr().(*net.TCPAddr).Port

	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		accepted <- c
	}()
	client, err := net.Dial("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
	if err != nil {
		return port, nil // the port is free anyway; we just lose the TIME_WAIT guard
	}
	if server := <-accepted; server != nil {
		_ = server.Close()
	}
	_ = client.Close()
	return port, nil
}

// listenPort binds ip:port, returning a PortInUseError that names the port
// and its purpose when something already listens there.
func listenPort(purpose, ip string, port int) (net.Listener, error) {
	addr := net.JoinHostPort(ip, strconv.Itoa(port))
	l, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, &PortInUseError{Purpose: purpose, Addr: addr, Port: port, Err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("devserver: listen for %s on %s: %w", purpose, addr, err)
	}
	return l, nil
}

// checkPortFree reports whether ip:port can be bound right now.
func checkPortFree(purpose, ip string, port int) error {
	l, err := listenPort(purpose, ip, port)
	if err != nil {
		return err
	}
	return l.Close()
}
