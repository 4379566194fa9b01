package gateway

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/pairdeck/pairdeck/protocol"
)

// dialHost opens a WebSocket to the harness with the given Host (and
// Origin, as a browser page on that name would send) and returns the HTTP
// status of the upgrade and its body.
func dialHost(t *testing.T, h *harness, host, origin string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	hdr := http.Header{}
	if origin != "" {
		hdr.Set("Origin", origin)
	}
	c, res, err := websocket.Dial(ctx, h.url, &websocket.DialOptions{Host: host, HTTPHeader: hdr})
	if err == nil {
		c.CloseNow()
		return res.StatusCode, ""
	}
	if res == nil {
		t.Fatalf("dial with Host %q: %v", host, err)
	}
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// A page whose name re-resolves to 127.0.0.1 sends Host and Origin both
// with its own name: refused with 403 and a log line, while every loopback
// spelling and the names the operator allowed are served.
func TestDNSRebindingHostIsRefusedOnLoopback(t *testing.T) {
	logs := &logBuffer{}
	h := newHarness(t, func(o *harnessOpts) {
		o.cfg.Logger = logs.logger()
		o.cfg.AllowedHosts = []string{"pairdeck.lan", "Console.Example:443"}
	})
	u, _ := url.Parse(h.url)
	port := u.Port()
	for _, host := range []string{"evil.example:" + port, "evil.example", "localhost.evil.example:" + port, "10.0.0.1:" + port, "[fe80::1]:" + port, "pairdeck.lan.evil:" + port} {
		status, body := dialHost(t, h, host, "http://"+host)
		if status != http.StatusForbidden || !strings.Contains(body, "--allow-host") {
			t.Errorf("Host %q: %d %q, want 403 saying how to allow a name", host, status, body)
		}
	}
	for _, host := range []string{"localhost:" + port, "LOCALHOST:" + port, "127.0.0.1:" + port, "127.8.9.10:" + port, "[::1]:" + port, "localhost", "pairdeck.lan:" + port, "PAIRDECK.LAN", "console.example:" + port} {
		if status, body := dialHost(t, h, host, ""); status != http.StatusSwitchingProtocols {
			t.Errorf("Host %q: %d %q, want the upgrade", host, status, body)
		}
	}
	// Browsers on an allowed name keep the Origin rule: same host only.
	if status, _ := dialHost(t, h, "pairdeck.lan:"+port, "http://pairdeck.lan:"+port); status != http.StatusSwitchingProtocols {
		t.Errorf("same-origin page on an allowed name: %d", status)
	}
	log := logs.String()
	if !strings.Contains(log, "DNS rebinding") || !strings.Contains(log, "evil.example:"+port) {
		t.Fatalf("no log line for the refusal:\n%s", log)
	}
	// The refusals did not stop anyone with the right name.
	h.operator().ok(protocol.MethodPairList, nil, nil)
}

// What a stranger sends in Host and Origin reaches the log escaped.
func TestRefusedHostIsLoggedPrintable(t *testing.T) {
	logs := &logBuffer{}
	h := newHarness(t, func(o *harnessOpts) { o.cfg.Logger = logs.logger() })
	status, body := dialHost(t, h, "evil.example", "http://x\u009b2K\u202e.example")
	if status != http.StatusForbidden || protocol.CheckText(strings.TrimSpace(body)) != nil {
		t.Fatalf("refusal %d %q", status, body)
	}
	log := logs.String()
	if !strings.Contains(log, `\u009b2K\u202e`) {
		t.Fatalf("the Origin is not in the log, escaped:\n%s", log)
	}
	for line := range strings.SplitSeq(strings.TrimSpace(log), "\n") {
		if err := protocol.CheckText(line); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
	}
}
