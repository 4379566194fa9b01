package cli

import "testing"

// The empty queue's suggestion runs as printed: it finds the gateway the
// console found, with what the shell needs quoted.
func TestTryCommandFindsTheConsolesGateway(t *testing.T) {
	for _, c := range []struct {
		stateDir, url string
		named         bool
		want          string
	}{
		{"", "ws://127.0.0.1:18789", false, "pairdeck node pair --name test"},
		{"/srv/my state", "ws://127.0.0.1:41020", false, "pairdeck node pair --state-dir '/srv/my state' --name test"},
		{"/srv/pd", "wss://gw.example.net:18789", true, "pairdeck node pair --url wss://gw.example.net:18789 --name test"},
	} {
		if got := tryCommand(&globals{stateDir: c.stateDir}, c.url, c.named); got != c.want {
			t.Errorf("tryCommand(%q, %q, %v) = %q, want %q", c.stateDir, c.url, c.named, got, c.want)
		}
	}
}
