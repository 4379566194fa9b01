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

// operatorName says who an operator session is, as a person recognises
// it: an SSH key by its comment and fingerprint, a client by the name it
// gave and where it connects from.
func operatorName(s *session) string {
	a := s.actor
	if a.KeyFingerprint != "" {
		return a.String()
	}
	name := s.client.DisplayName
	if name == "" {
		name = a.String()
	}
	if host, _, err := net.SplitHostPort(a.RemoteAddr); err == nil {
		return name + " from " + host
	}
	return name
}
