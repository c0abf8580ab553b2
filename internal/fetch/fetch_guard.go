package fetch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
)

// GuardOptions configures the SSRF guard. By default the fetcher refuses to
// connect to loopback, private, link-local (which includes cloud metadata at
// 169.254.169.254), CGNAT, unspecified, multicast and reserved addresses.
// The guard runs at dial time on the resolved address, so redirects and DNS
// rebinding cannot get around it.
type GuardOptions struct {
	// AllowLoopback permits 127.0.0.0/8 and ::1 (the -dev mode that syncs a
	// dev server on localhost).
	AllowLoopback bool
	// AllowPrivate permits RFC 1918, fc00::/7 and CGNAT 100.64.0.0/10.
	AllowPrivate bool
	// Allow lists entries that are always permitted: a host name
	// ("specs.internal"), a host and port ("specs.internal:8443",
	// "[::1]:8080"), an IP address, or a CIDR ("10.20.0.0/16"). A host entry
	// trusts whatever that name resolves to.
	Allow []string
}

// Validate reports Allow entries that can never match.
func (g GuardOptions) Validate() error {
	var errs []error
	for _, a := range g.Allow {
		if _, err := parseAllowEntry(a); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

type allowEntry struct {
	prefix netip.Prefix // valid for IP and CIDR entries
	host   string       // lower-case, for host and host:port entries
	port   string       // empty: any port
}

func parseAllowEntry(s string) (allowEntry, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return allowEntry{}, errors.New("fetch guard: empty allow entry")
	}
	if p, err := netip.ParsePrefix(s); err == nil {
		return allowEntry{prefix: p.Masked()}, nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return allowEntry{prefix: netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())}, nil
	}
	host, port := s, ""
	if h, p, err := net.SplitHostPort(s); err == nil {
		if n, err := strconv.ParseUint(p, 10, 16); err != nil || n == 0 {
			return allowEntry{}, fmt.Errorf("fetch guard: allow entry %q has an invalid port", s)
		}
		host, port = h, p
	}
	if a, err := netip.ParseAddr(host); err == nil {
		// "127.0.0.1:8080" or "[::1]:8080": an address with a port.
		return allowEntry{host: a.Unmap().String(), port: port}, nil
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "" || strings.ContainsAny(host, "/ @?#[]") {
		return allowEntry{}, fmt.Errorf("fetch guard: allow entry %q is neither a host, host:port, IP address nor CIDR", s)
	}
	return allowEntry{host: host, port: port}, nil
}

// guard decides, at dial time, whether an address may be connected to.
type guard struct {
	opts  GuardOptions
	allow []allowEntry
	// lookup resolves a host name; connect dials a literal address, with
	// the address re-checked unless trusted (the host matched an allow
	// entry by name). Both are fields so tests can observe that a refused
	// address is never dialed.
	lookup  func(ctx context.Context, network, host string) ([]netip.Addr, error)
	connect func(ctx context.Context, network, addr string, trusted bool) (net.Conn, error)
}

func newGuard(opts GuardOptions, dialer *net.Dialer) *guard {
	g := &guard{opts: opts, lookup: net.DefaultResolver.LookupNetIP}
	for _, a := range opts.Allow {
		if e, err := parseAllowEntry(a); err == nil {
			g.allow = append(g.allow, e)
		}
	}
	trusted := *dialer
	checked := *dialer
	// Belt and braces: the dialer re-checks the literal address it is about
	// to connect to, so no code path can dial an address the guard has not
	// seen.
	checked.Control = func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("fetch guard: unexpected dial address %q", address)
		}
		if class := g.blockReason(ap.Addr()); class != "" {
			return &BlockedError{Host: ap.Addr().String(), Addr: ap.Addr().String(), Reason: class}
		}
		return nil
	}
	g.connect = func(ctx context.Context, network, addr string, isTrusted bool) (net.Conn, error) {
		if isTrusted {
			return trusted.DialContext(ctx, network, addr)
		}
		return checked.DialContext(ctx, network, addr)
	}
	return g
}

// allowsName reports whether a host (name or literal IP) and port match a
// host or host:port allow entry.
func (g *guard) allowsName(host, port string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	for _, e := range g.allow {
		if e.host != "" && e.host == host && (e.port == "" || e.port == port) {
			return true
		}
	}
	return false
}

// blockReason returns "" when ip may be dialed, else the name of the class
// that blocks it.
func (g *guard) blockReason(ip netip.Addr) string {
	ip = ip.WithZone("").Unmap()
	for _, e := range g.allow {
		if e.prefix.IsValid() && e.prefix.Contains(ip) {
			return ""
		}
	}
	class := classifyAddr(ip)
	switch class {
	case "":
		return ""
	case classLoopback:
		if g.opts.AllowLoopback {
			return ""
		}
	case classPrivate, classCGNAT:
		if g.opts.AllowPrivate {
			return ""
		}
	}
	return class
}

const (
	classLoopback    = "loopback"
	classPrivate     = "private"
	classCGNAT       = "carrier-grade NAT (100.64.0.0/10)"
	classLinkLocal   = "link-local (this range includes cloud metadata endpoints)"
	classUnspecified = "unspecified"
	classMulticast   = "multicast or broadcast"
	classReserved    = "reserved or non-routable"
)

var (
	cgnat     = netip.MustParsePrefix("100.64.0.0/10")
	reserved4 = []netip.Prefix{
		netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
		netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
		netip.MustParsePrefix("192.0.2.0/24"),    // TEST-NET-1
		netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
		netip.MustParsePrefix("198.51.100.0/24"), // TEST-NET-2
		netip.MustParsePrefix("203.0.113.0/24"),  // TEST-NET-3
		netip.MustParsePrefix("240.0.0.0/4"),     // reserved, includes broadcast
	}
	siteLocal6 = netip.MustParsePrefix("fec0::/10")
	reserved6  = []netip.Prefix{
		netip.MustParsePrefix("::/96"),         // IPv4-compatible (deprecated)
		netip.MustParsePrefix("100::/64"),      // discard
		netip.MustParsePrefix("2001::/32"),     // Teredo: embeds an arbitrary IPv4
		netip.MustParsePrefix("2001:db8::/32"), // documentation
	}
	nat64 = []netip.Prefix{
		netip.MustParsePrefix("64:ff9b::/96"),
		netip.MustParsePrefix("64:ff9b:1::/48"),
	}
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// classifyAddr names the class of a non-public address, "" for public ones.
// IPv6 forms that embed an IPv4 address (mapped, NAT64, 6to4) are judged by
// the embedded address.
func classifyAddr(ip netip.Addr) string {
	ip = ip.WithZone("").Unmap()
	if ip.Is6() {
		for _, p := range nat64 {
			if p.Contains(ip) {
				b := ip.As16()
				return classifyAddr(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
			}
		}
		if sixToFour.Contains(ip) {
			b := ip.As16()
			return classifyAddr(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
		}
	}
	switch {
	case !ip.IsValid():
		return classReserved
	case ip.IsUnspecified():
		return classUnspecified
	case ip.IsLoopback():
		return classLoopback
	case ip.IsLinkLocalUnicast():
		return classLinkLocal
	case ip.IsMulticast():
		return classMulticast
	case ip.IsPrivate() || siteLocal6.Contains(ip):
		return classPrivate
	case cgnat.Contains(ip):
		return classCGNAT
	}
	list := reserved6
	if ip.Is4() {
		list = reserved4
	}
	for _, p := range list {
		if p.Contains(ip) {
			return classReserved
		}
	}
	return ""
}

// hint says how to allow an address of the given class.
func hint(class, host, port string) string {
	entry := host
	if port != "" {
		entry = net.JoinHostPort(host, port)
	}
	switch class {
	case classLoopback:
		return fmt.Sprintf("loopback is off by default; enable it (GuardOptions.AllowLoopback, the -dev mode) or add %q to the fetch guard allow-list in the config", entry)
	case classPrivate, classCGNAT:
		return fmt.Sprintf("private networks are off by default; enable them (GuardOptions.AllowPrivate) or add %q or its CIDR to the fetch guard allow-list in the config", entry)
	default:
		return fmt.Sprintf("if this is really intended, add %q or its CIDR to the fetch guard allow-list in the config", entry)
	}
}

// dialContext is the Transport's DialContext: it resolves the host, refuses
// the connection if any resolved address is blocked, and otherwise dials
// the very addresses it checked (so a second DNS answer cannot differ).
func (g *guard) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if g.allowsName(host, port) {
		if _, err := netip.ParseAddr(host); err == nil {
			return g.connect(ctx, network, addr, true)
		}
		ips, err := g.lookup(ctx, lookupNetwork(network), host)
		if err != nil {
			return nil, err
		}
		return g.dialEach(ctx, network, host, port, ips, true)
	}
	var ips []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{a}
	} else {
		ips, err = g.lookup(ctx, lookupNetwork(network), host)
		if err != nil {
			return nil, err
		}
	}
	for _, ip := range ips {
		if class := g.blockReason(ip); class != "" {
			return nil, &BlockedError{Host: host, Port: port, Addr: ip.WithZone("").Unmap().String(), Reason: class, Hint: hint(class, host, port)}
		}
	}
	return g.dialEach(ctx, network, host, port, ips, false)
}

func (g *guard) dialEach(ctx context.Context, network, host, port string, ips []netip.Addr, trusted bool) (net.Conn, error) {
	if len(ips) == 0 {
		return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	var errs []error
	for _, ip := range ips {
		c, err := g.connect(ctx, network, net.JoinHostPort(ip.Unmap().String(), port), trusted)
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

func lookupNetwork(network string) string {
	switch network {
	case "tcp4":
		return "ip4"
	case "tcp6":
		return "ip6"
	}
	return "ip"
}

// localNames are host names that always mean a non-public address, judged
// without DNS by CheckURL: the address they stand for.
var localNames = map[string]netip.Addr{
	"localhost":                netip.MustParseAddr("127.0.0.1"),
	"metadata":                 netip.MustParseAddr("169.254.169.254"),
	"metadata.google.internal": netip.MustParseAddr("169.254.169.254"),
}

// CheckURL applies the guard to a URL without connecting or resolving: a
// literal IP address, localhost (and *.localhost) and the cloud metadata
// names are judged as the dial-time guard would judge them, with the same
// allow-list; other host names pass (the guard checks what they resolve to
// when they are dialed). Config validation calls it so that apply refuses
// what fetch would refuse later. The error is a *BlockedError with a hint.
func (o GuardOptions) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("invalid URL: %w", err)
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "" {
		return nil
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	g := &guard{opts: o}
	for _, a := range o.Allow {
		if e, err := parseAllowEntry(a); err == nil {
			g.allow = append(g.allow, e)
		}
	}
	if g.allowsName(host, port) {
		return nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		var ok bool
		if ip, ok = localNames[host]; !ok && strings.HasSuffix(host, ".localhost") {
			ip, ok = localNames["localhost"], true
		}
		if !ok {
			return nil
		}
	}
	if class := g.blockReason(ip); class != "" {
		return &BlockedError{Host: host, Port: port, Addr: ip.WithZone("").Unmap().String(), Reason: class, Hint: hint(class, host, port)}
	}
	return nil
}
