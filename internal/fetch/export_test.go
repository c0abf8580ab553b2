package fetch

import (
	"context"
	"net"
	"net/netip"
	"sync/atomic"
)

// CountDials wraps the fetcher's real dialer and counts connection attempts,
// so tests can prove a refused address was never dialed.
func CountDials(f *Fetcher) *atomic.Int64 {
	var n atomic.Int64
	next := f.guard.connect
	f.guard.connect = func(ctx context.Context, network, addr string, trusted bool) (net.Conn, error) {
		n.Add(1)
		return next(ctx, network, addr, trusted)
	}
	return &n
}

// SetLookup replaces DNS resolution, so tests never query real DNS.
func SetLookup(f *Fetcher, lookup func(ctx context.Context, network, host string) ([]netip.Addr, error)) {
	f.guard.lookup = lookup
}

// ClassifyAddr exposes the address classification.
func ClassifyAddr(ip netip.Addr) string { return classifyAddr(ip) }

// BlockReason exposes the guard decision for one address.
func BlockReason(f *Fetcher, ip netip.Addr) string { return f.guard.blockReason(ip) }
