package client

import (
	"fmt"
	"net/url"
	"os"
	"strings"
)

// DefaultURL is where a local gateway listens unless told otherwise.
const DefaultURL = "ws://127.0.0.1:18789"

// Environment variables that locate a gateway.
const (
	EnvGatewayURL  = "OPENCLAW_GATEWAY_URL"
	EnvGatewayPort = "OPENCLAW_GATEWAY_PORT"
)

// ResolveURL picks the gateway URL: the flag value if set, else
// OPENCLAW_GATEWAY_URL, else the local default. The local default follows
// OPENCLAW_GATEWAY_PORT, because that variable moves where `pairdeck serve`
// listens and a CLI run in the same environment should find it there.
func ResolveURL(flag string) string {
	if u := strings.TrimSpace(flag); u != "" {
		return u
	}
	if u := strings.TrimSpace(os.Getenv(EnvGatewayURL)); u != "" {
		return u
	}
	if p := strings.TrimSpace(os.Getenv(EnvGatewayPort)); p != "" {
		return "ws://127.0.0.1:" + p
	}
	return DefaultURL
}

// checkURL rejects URLs the WebSocket dialer would misread, with a hint.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("gateway URL %q is not a URL: %w", raw, err)
	}
	switch u.Scheme {
	case "ws", "wss":
	default:
		return fmt.Errorf("gateway URL %q must start with ws:// or wss:// (e.g. %s)", raw, DefaultURL)
	}
	if u.Host == "" {
		return fmt.Errorf("gateway URL %q has no host (e.g. %s)", raw, DefaultURL)
	}
	return nil
}
