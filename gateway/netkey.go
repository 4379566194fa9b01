package gateway

import (
	"net"
	"net/netip"
)

// Limits are kept per network prefix, not per exact address: an IPv6
// client usually holds a whole /64 and would otherwise get a fresh budget
// with every address it picks, and an operator who sees a network of IPv4
// hosts acting together can widen the IPv4 prefix (Config.IPv4Prefix).
// With the default /32 an IPv4 address is its own prefix.

// Default prefix lengths the limits are kept per.
const (
	DefaultIPv4Prefix = 32
	DefaultIPv6Prefix = 64
)

// prefixKey is the key rate limits, pending shares and connection caps are
// kept under for a remote address ("203.0.113.7", "2001:db8:1:2::/64").
// An address that does not parse is its own key.
func (g *Gateway) prefixKey(ip string) string {
	return prefixKeyOf(ip, g.cfg.IPv4Prefix, g.cfg.IPv6Prefix)
}

func prefixKeyOf(ip string, v4, v6 int) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	addr = addr.Unmap().WithZone("")
	bits := v6
	if addr.Is4() {
		bits = v4
	}
	if bits >= addr.BitLen() {
		return addr.String()
	}
	p, err := addr.Prefix(bits)
	if err != nil {
		return addr.String()
	}
	return p.String()
}

// hostOf is the IP part of a remote address ("[::1]:5000" → "::1").
func hostOf(remoteAddr string) string {
	if host, _, err := net.SplitHostPort(remoteAddr); err == nil {
		return host
	}
	return remoteAddr
}
