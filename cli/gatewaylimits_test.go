package cli_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// serve --allow-host adds a name to the loopback names a connection on a
// loopback address may use; any other name is refused (DNS rebinding).
func TestServeAllowHost(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.serve("--allow-host", "pairdeck.lan")
	defer g.stop()
	u, _ := url.Parse(g.url)
	status := func(host string) int {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, res, err := websocket.Dial(ctx, g.url, &websocket.DialOptions{Host: host})
		if err == nil {
			c.CloseNow()
		}
		if res == nil {
			t.Fatalf("dial %s with Host %s: %v", g.url, host, err)
		}
		return res.StatusCode
	}
	for host, want := range map[string]int{
		"pairdeck.lan:" + u.Port():  http.StatusSwitchingProtocols,
		"localhost:" + u.Port():     http.StatusSwitchingProtocols,
		"evil.example:" + u.Port():  http.StatusForbidden,
		"pairdeck.lan.evil.example": http.StatusForbidden,
	} {
		if got := status(host); got != want {
			t.Errorf("Host %s: %d, want %d", host, got, want)
		}
	}
}

func TestGatewayLimitFlagsOutOfRange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--ipv4-prefix", "40"}, "--ipv4-prefix 40: want 8 to 32"},
		{[]string{"serve", "--max-pending-per-network", "0"}, "--max-pending-per-network 0: want at least 1"},
		{[]string{"serve", "--max-conns", "10"}, "--max-conns 10: want 64 to 1048576"},
		{[]string{"serve", "--max-conns-per-network", "0"}, "--max-conns-per-network 0: want at least 1"},
		{[]string{"serve", "--allow-host", "http://x/"}, `--allow-host "http://x/": want a host name`},
		{[]string{"console", "--url", "ws://127.0.0.1:1", "--allow-host", "x"}, "--allow-host configures a gateway this console starts"},
	} {
		checkFailure(t, e.run(tc.args...), 2, tc.want)
	}
}
