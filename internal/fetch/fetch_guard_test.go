package fetch_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/apilivesync/apilivesync/internal/fetch"
)

func TestClassifyAddr(t *testing.T) {
	tests := []struct {
		ip      string
		blocked bool
		class   string // substring of the class name
	}{
		{"93.184.215.14", false, ""},
		{"2606:2800:21f:cb07:6820:80da:af6b:8b2c", false, ""},
		{"127.0.0.1", true, "loopback"},
		{"127.9.9.9", true, "loopback"},
		{"::1", true, "loopback"},
		{"::ffff:127.0.0.1", true, "loopback"},
		{"10.0.0.1", true, "private"},
		{"172.16.5.4", true, "private"},
		{"192.168.1.1", true, "private"},
		{"fd00::1", true, "private"},
		{"fec0::1", true, "private"},
		{"100.64.0.1", true, "carrier-grade"},
		{"169.254.169.254", true, "link-local"},
		{"::ffff:169.254.169.254", true, "link-local"},
		{"fe80::1", true, "link-local"},
		{"fe80::1%eth0", true, "link-local"},
		{"0.0.0.0", true, "unspecified"},
		{"::", true, "unspecified"},
		{"0.1.2.3", true, "reserved"},
		{"224.0.0.1", true, "multicast"},
		{"ff02::1", true, "multicast"},
		{"255.255.255.255", true, "reserved"},
		{"198.18.0.1", true, "reserved"},
		{"64:ff9b::a9fe:a9fe", true, "link-local"}, // NAT64 of 169.254.169.254
		{"64:ff9b::808:808", false, ""},            // NAT64 of 8.8.8.8
		{"2002:7f00:1::", true, "loopback"},        // 6to4 of 127.0.0.1
		{"2001:db8::1", true, "reserved"},
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			class := fetch.ClassifyAddr(netip.MustParseAddr(tt.ip))
			require.Equal(t, tt.blocked, class != "", "class %q", class)
			require.Contains(t, class, tt.class)
		})
	}
}

func TestGuardOptions(t *testing.T) {
	tests := []struct {
		name  string
		guard fetch.GuardOptions
		ip    string
		allow bool
	}{
		{"loopback refused by default", fetch.GuardOptions{}, "127.0.0.1", false},
		{"loopback allowed", fetch.GuardOptions{AllowLoopback: true}, "::1", true},
		{"AllowLoopback does not open private", fetch.GuardOptions{AllowLoopback: true}, "10.0.0.1", false},
		{"private allowed", fetch.GuardOptions{AllowPrivate: true}, "192.168.0.10", true},
		{"AllowPrivate opens CGNAT", fetch.GuardOptions{AllowPrivate: true}, "100.100.0.1", true},
		{"AllowPrivate does not open metadata", fetch.GuardOptions{AllowPrivate: true, AllowLoopback: true}, "169.254.169.254", false},
		{"CIDR entry", fetch.GuardOptions{Allow: []string{"10.20.0.0/16"}}, "10.20.3.4", true},
		{"CIDR entry elsewhere", fetch.GuardOptions{Allow: []string{"10.20.0.0/16"}}, "10.21.3.4", false},
		{"IP entry", fetch.GuardOptions{Allow: []string{"169.254.1.2"}}, "169.254.1.2", true},
		{"public always allowed", fetch.GuardOptions{}, "93.184.215.14", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fetch.New(fetch.Options{Guard: tt.guard})
			require.Equal(t, tt.allow, fetch.BlockReason(f, netip.MustParseAddr(tt.ip)) == "")
		})
	}
	t.Run("Validate", func(t *testing.T) {
		require.NoError(t, fetch.GuardOptions{Allow: []string{"specs.internal", "specs.internal:8443", "[::1]:8080", "10.0.0.0/8", "fd00::1"}}.Validate())
		err := fetch.GuardOptions{Allow: []string{"ok.example", "http://bad/", ""}}.Validate()
		require.Error(t, err)
		require.Contains(t, err.Error(), `"http://bad/"`)
		require.Contains(t, err.Error(), "empty")
	})
}

// noDNS fails any lookup of a name the test did not plan for, so no test
// queries real DNS.
func noDNS(names map[string]string) func(context.Context, string, string) ([]netip.Addr, error) {
	return func(_ context.Context, _, host string) ([]netip.Addr, error) {
		if ip, ok := names[host]; ok {
			return []netip.Addr{netip.MustParseAddr(ip)}, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
}

func TestGuardRefusesWithoutDialing(t *testing.T) {
	tests := []struct {
		name   string
		url    string
		guard  fetch.GuardOptions
		reason string
		addr   string
	}{
		{"cloud metadata literal", "http://169.254.169.254/latest/meta-data/", fetch.GuardOptions{AllowLoopback: true, AllowPrivate: true}, "link-local", "169.254.169.254"},
		{"private literal", "http://10.0.0.1/openapi.json", fetch.GuardOptions{AllowLoopback: true}, "private", "10.0.0.1"},
		{"IPv6 unique local literal", "http://[fd12::1]:8080/openapi.json", fetch.GuardOptions{}, "private", "fd12::1"},
		{"name resolving to private (DNS rebinding)", "http://rebind.example/openapi.json", fetch.GuardOptions{}, "private", "10.1.2.3"},
		{"name resolving to metadata", "http://meta.example/", fetch.GuardOptions{Allow: []string{"other.example"}}, "link-local", "169.254.169.254"},
		{"loopback name by default", "http://local.example:9/", fetch.GuardOptions{}, "loopback", "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fetch.New(fetch.Options{Guard: tt.guard})
			fetch.SetLookup(f, noDNS(map[string]string{"rebind.example": "10.1.2.3", "meta.example": "169.254.169.254", "local.example": "127.0.0.1"}))
			dials := fetch.CountDials(f)
			_, err := f.Fetch(t.Context(), fetch.Request{SourceID: "ssrf", URL: tt.url})
			requireKind(t, err, fetch.KindBlocked, false)
			var be *fetch.BlockedError
			require.ErrorAs(t, err, &be)
			require.Equal(t, tt.addr, be.Addr)
			require.Contains(t, be.Reason, tt.reason)
			require.Contains(t, err.Error(), `fetch source "ssrf"`)
			require.Contains(t, err.Error(), "allow-list")
			require.Zero(t, dials.Load(), "a refused address must never be dialed")
		})
	}
}

func TestGuardLoopbackByDefault(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("{}")) }))
	host := srv.Listener.Addr().String()

	f := fetch.New(fetch.Options{})
	dials := fetch.CountDials(f)
	_, err := f.Fetch(t.Context(), fetch.Request{SourceID: "dev", URL: srv.URL + "/openapi.json"})
	requireKind(t, err, fetch.KindBlocked, false)
	require.Zero(t, dials.Load())
	require.Equal(t,
		`fetch source "dev": GET `+srv.URL+`/openapi.json: refusing to connect to 127.0.0.1, a loopback address; `+
			`loopback is off by default; enable it (GuardOptions.AllowLoopback, the -dev mode) or add "`+host+`" to the fetch guard allow-list in the config`,
		err.Error())

	// Each way of allowing it works.
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	byName := "http://specs.internal:" + u.Port()
	tests := []struct {
		name  string
		guard fetch.GuardOptions
		url   string
	}{
		{"AllowLoopback", fetch.GuardOptions{AllowLoopback: true}, srv.URL},
		{"host:port entry", fetch.GuardOptions{Allow: []string{host}}, srv.URL},
		{"CIDR entry", fetch.GuardOptions{Allow: []string{"127.0.0.0/8"}}, srv.URL},
		{"IP entry", fetch.GuardOptions{Allow: []string{"127.0.0.1"}}, srv.URL},
		{"trusted name", fetch.GuardOptions{Allow: []string{"specs.internal"}}, byName},
		{"trusted name and port", fetch.GuardOptions{Allow: []string{"specs.internal:" + u.Port()}}, byName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fetch.New(fetch.Options{Guard: tt.guard})
			fetch.SetLookup(f, noDNS(map[string]string{"specs.internal": "127.0.0.1"}))
			resp, err := f.Fetch(t.Context(), fetch.Request{SourceID: "dev", URL: tt.url})
			require.NoError(t, err)
			require.Equal(t, "{}", string(resp.Body))
		})
	}
	t.Run("name allowed on another port only", func(t *testing.T) {
		f := fetch.New(fetch.Options{Guard: fetch.GuardOptions{Allow: []string{"specs.internal:1"}}})
		fetch.SetLookup(f, noDNS(map[string]string{"specs.internal": "127.0.0.1"}))
		_, err := f.Fetch(t.Context(), fetch.Request{SourceID: "dev", URL: byName})
		requireKind(t, err, fetch.KindBlocked, false)
		require.Contains(t, err.Error(), `host "specs.internal": it resolves to 127.0.0.1`)
	})
}

func TestGuardOnRedirects(t *testing.T) {
	blockedSrv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the guard let a redirect reach a loopback server that is not allowed")
	}))
	mux := http.NewServeMux()
	mux.HandleFunc("/to-metadata", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/iam/", http.StatusFound)
	})
	mux.HandleFunc("/to-other-port", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, blockedSrv.URL+"/", http.StatusFound)
	})
	mux.HandleFunc("/to-file", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
	})
	srv := newServer(t, mux)

	tests := []struct {
		path string
		addr string
	}{
		{"/to-metadata", "169.254.169.254"},
		{"/to-other-port", "127.0.0.1"},
		{"/to-file", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			// Only the first server is allowed, by host:port.
			f := fetch.New(fetch.Options{Guard: fetch.GuardOptions{Allow: []string{srv.Listener.Addr().String()}}})
			dials := fetch.CountDials(f)
			_, err := f.Fetch(t.Context(), fetch.Request{SourceID: "redir", URL: srv.URL + tt.path})
			requireKind(t, err, fetch.KindBlocked, false)
			require.Equal(t, int64(1), dials.Load(), "only the allowed first hop is dialed")
			var be *fetch.BlockedError
			if tt.addr != "" {
				require.ErrorAs(t, err, &be)
				require.Equal(t, tt.addr, be.Addr)
			} else {
				require.False(t, errors.As(err, &be))
				require.Contains(t, err.Error(), "only http and https")
			}
		})
	}
}

func TestClientIsGuarded(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))

	_, err := fetch.New(fetch.Options{}).Client().Get(srv.URL)
	var be *fetch.BlockedError
	require.ErrorAs(t, err, &be)
	require.Equal(t, "127.0.0.1", be.Addr)

	resp, err := fetch.New(loopbackOptions()).Client().Get(srv.URL)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
}

func TestFetchDNSFailureIsTemporary(t *testing.T) {
	f := fetch.New(fetch.Options{})
	fetch.SetLookup(f, noDNS(nil))
	dials := fetch.CountDials(f)
	_, err := f.Fetch(t.Context(), fetch.Request{SourceID: "typo", URL: "https://specs.nowhere.example/openapi.json"})
	requireKind(t, err, fetch.KindConnection, true)
	require.Contains(t, err.Error(), `fetch source "typo": GET https://specs.nowhere.example/openapi.json: `)
	require.Contains(t, err.Error(), "no such host")
	require.Zero(t, dials.Load())

	require.False(t, fetch.IsTemporary(errors.New("not a fetch error")))
}
