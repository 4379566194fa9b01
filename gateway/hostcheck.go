package gateway

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/pairdeck/pairdeck/protocol"
)

// DNS rebinding. A web page on a name its owner controls can make that name
// resolve to 127.0.0.1 after it loaded; the browser then lets the page open
// a WebSocket to the gateway with Host and Origin both the page's name, so
// comparing Origin with Host lets it through. A connection that arrived on
// a loopback address is therefore served only when its Host header names
// loopback (localhost, 127.0.0.0/8, ::1, with any port) or a name the
// operator allowed (Config.AllowedHosts, serve --allow-host). Connections
// on other addresses were addressed to the network on purpose and are not
// checked: there the operator token is what keeps strangers out.

// hostAllowed reports whether a request that arrived on local may be
// served for the Host header host.
func (g *Gateway) hostAllowed(local net.Addr, host string) bool {
	if !onLoopback(local) {
		return true
	}
	name := hostName(host)
	if name == "" {
		return false
	}
	if name == "localhost" {
		return true
	}
	if addr, err := netip.ParseAddr(name); err == nil {
		return addr.Unmap().IsLoopback()
	}
	for _, allowed := range g.cfg.AllowedHosts {
		if strings.EqualFold(hostName(allowed), name) {
			return true
		}
	}
	return false
}

// onLoopback reports whether a connection's local address is a loopback
// one (also through a wildcard listener).
func onLoopback(local net.Addr) bool {
	tcp, ok := local.(*net.TCPAddr)
	if !ok {
		return false
	}
	addr, ok := netip.AddrFromSlice(tcp.IP)
	return ok && addr.Unmap().IsLoopback()
}

// hostName is the lower-cased name of a Host header value, without its
// port or IPv6 brackets ("[::1]:18789" → "::1", "LocalHost." → "localhost").
func hostName(host string) string {
	host = strings.TrimSpace(host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return strings.TrimSuffix(strings.ToLower(host), ".")
}

// refuseHost answers a request whose Host is not allowed on this listener,
// with what to do if the name is the operator's own.
func (g *Gateway) refuseHost(w http.ResponseWriter, r *http.Request) {
	g.throttledLog.warn("host", "refused a connection on a loopback address for a Host that is not loopback (DNS rebinding?); allow a name of your own with --allow-host",
		"host", r.Host, "origin", r.Header.Get("Origin"), "addr", r.RemoteAddr)
	http.Error(w, "pairdeck gateway: Host "+quoteHost(r.Host)+" is not a loopback name, so this connection on a loopback address is refused "+
		"(a web page may be trying to reach the gateway through DNS rebinding). "+
		"If this is a name of your own for this machine, start the gateway with --allow-host "+quoteHost(hostName(r.Host))+".",
		http.StatusForbidden)
}

// quoteHost renders a Host value for the refusal, which a terminal may
// print.
func quoteHost(h string) string {
	return `"` + strings.ReplaceAll(protocol.Printable(h), `"`, `\"`) + `"`
}
