// Package netaddr answers "which address did this request come from" once
// for every surface that cares (login limits, the audit log, the OSMP allow
// lists, the speed test): the connection's peer, or, behind a trusted
// reverse proxy, the client that proxy names in X-Forwarded-For.
package netaddr

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// ParsePrefixes reads a list of networks ("194.54.14.0/24") and single
// addresses ("10.0.0.5", "::1"); what is the configuration key that held
// it, for the error.
func ParsePrefixes(what string, list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is neither an address nor a network", what, s)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// Peer is the address of remoteAddr ("host:port", "[v6]:port" or a bare
// address), IPv4-mapped IPv6 addresses unmapped.
func Peer(remoteAddr string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// Client is the address a request came from: the connection's peer, or,
// when the peer is a trusted proxy, the rightmost address in
// X-Forwarded-For (all its headers, in order) that is not a trusted proxy:
// everything left of it is the client's own word, which anyone can write.
// ok is false when the peer is a proxy and the header names no untrusted
// hop, or a hop is not an address: the client is unknown.
func Client(remoteAddr string, forwarded []string, proxies []netip.Prefix) (addr netip.Addr, ok bool) {
	peer, ok := Peer(remoteAddr)
	if !ok || !In(proxies, peer) {
		return peer, ok
	}
	hops := strings.Split(strings.Join(forwarded, ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		if h == "" {
			continue
		}
		a, err := netip.ParseAddr(h)
		if err != nil {
			return netip.Addr{}, false
		}
		if a = a.Unmap(); !In(proxies, a) {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// In tells whether a is in one of ps.
func In(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Key is the rate-limit key of a client address: the IPv4 address, or the
// /64 an IPv6 client gets from its provider (one subscriber owns the whole
// /64 and can change addresses inside it at will). Never the port: each new
// connection has a fresh one.
func Key(a netip.Addr) string {
	a = a.Unmap()
	if a.Is4() || !a.IsValid() {
		return "addr:" + a.String()
	}
	p, _ := a.Prefix(64)
	return "addr:" + p.String()
}
