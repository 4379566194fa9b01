package gateway

import (
	"net"
	"slices"
)

// Operators names the operators attached now — over WebSocket, or in this
// process like the SSH consoles — but except (the caller's own session;
// nil for none), one line each: "alice@laptop (ssh SHA256:…)",
// "pairdeck-console from 127.0.0.1". A console that embeds the gateway asks
// before it takes the gateway away from them.
func (g *Gateway) Operators(except *LocalOperator) []string {
	g.fan.mu.RLock()
	defer g.fan.mu.RUnlock()
	var names []string
	for s := range g.fan.subs {
		if s.sess.isNode() || (except != nil && s == except.sub) {
			continue
		}
		names = append(names, operatorName(s.sess))
	}
	slices.Sort(names)
	return names
}

// operatorName says who an operator session is: its actor in the one form
// every view shows (protocol.Actor.String), and where a client connects
// from (an SSH key is named by its comment and fingerprint already).
func operatorName(s *session) string {
	a := s.actor
	name := a.String()
	if a.KeyFingerprint != "" {
		return name
	}
	if host, _, err := net.SplitHostPort(a.RemoteAddr); err == nil {
		return name + " from " + host
	}
	return name
}
