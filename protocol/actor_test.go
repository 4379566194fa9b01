package protocol

import (
	"strings"
	"testing"
)

func TestClientNameRoundTrip(t *testing.T) {
	for _, tc := range []struct{ kind, user, name string }{
		{ActorConsole, "alice@laptop", "pairdeck console alice@laptop"},
		{ActorCLI, "bob@build-01", "pairdeck cli bob@build-01"},
		{ActorCLI, "", "pairdeck cli"},
	} {
		if got := ClientName(tc.kind, tc.user); got != tc.name {
			t.Errorf("ClientName(%q, %q) = %q, want %q", tc.kind, tc.user, got, tc.name)
		}
		kind, user, ok := ParseClientName(tc.name)
		if !ok || kind != tc.kind || user != tc.user {
			t.Errorf("ParseClientName(%q) = %q %q %v", tc.name, kind, user, ok)
		}
	}
	for _, other := range []string{"", "Kitchen iPad", "pairdeck", "pairdeck node x", "pairdeckcli a", "openclaw cli a"} {
		if _, _, ok := ParseClientName(other); ok {
			t.Errorf("ParseClientName(%q) took another program's name for pairdeck's", other)
		}
	}
}

// One derivation and one form: what the gateway derives from connect and
// what a client derives for itself read the same.
func TestConnectActorAndItsOneForm(t *testing.T) {
	dev := strings.Repeat("fa35853307801234", 4)
	cli := ClientInfo{ID: "cli", DisplayName: ClientName(ActorCLI, "alice@laptop"), Mode: "cli"}
	console := ClientInfo{ID: "cli", DisplayName: ClientName(ActorConsole, "alice@laptop"), Mode: "cli"}
	for _, tc := range []struct {
		what  string
		actor Actor
		want  Actor
		form  string
	}{
		{"console", ConnectActor(console, RoleOperator, strings.ToUpper(dev), "127.0.0.1:5000"),
			Actor{Kind: ActorConsole, ClientID: "cli", Role: RoleOperator, DeviceID: dev, RemoteAddr: "127.0.0.1:5000", User: "alice@laptop"},
			"console alice@laptop (fa35:8533:0780)"},
		{"cli online", ConnectActor(cli, RoleOperator, dev, "127.0.0.1:5001"),
			Actor{Kind: ActorCLI, ClientID: "cli", Role: RoleOperator, DeviceID: dev, RemoteAddr: "127.0.0.1:5001", User: "alice@laptop"},
			"cli alice@laptop"},
		{"cli offline", ConnectActor(cli, RoleOperator, "", ""),
			Actor{Kind: ActorCLI, ClientID: "cli", Role: RoleOperator, User: "alice@laptop"},
			"cli alice@laptop"},
		{"node", ConnectActor(ClientInfo{ID: "node-host", DisplayName: "pairdeck cli mallory"}, RoleNode, dev, "10.0.0.5:1"),
			Actor{Kind: ActorNode, ClientID: "node-host", Role: RoleNode, DeviceID: dev, RemoteAddr: "10.0.0.5:1", Name: "pairdeck cli mallory"},
			"node (fa35:8533:0780)"},
		{"another program", ConnectActor(ClientInfo{ID: "openclaw-control-ui", DisplayName: "Ops"}, RoleOperator, dev, ""),
			Actor{Kind: "openclaw-control-ui", ClientID: "openclaw-control-ui", Role: RoleOperator, DeviceID: dev, Name: "Ops"},
			"openclaw-control-ui Ops (fa35:8533:0780)"},
	} {
		if tc.actor != tc.want {
			t.Errorf("%s: derived %+v, want %+v", tc.what, tc.actor, tc.want)
		}
		if got := tc.actor.String(); got != tc.form {
			t.Errorf("%s: %q, want %q", tc.what, got, tc.form)
		}
	}
	for _, tc := range []struct {
		actor Actor
		form  string
	}{
		{Actor{Kind: ActorSSH, ClientID: "pairdeck-ssh", User: "alice", Name: "alice@laptop", KeyFingerprint: "SHA256:abc"}, "ssh alice@laptop (SHA256:abc)"},
		{Actor{Kind: ActorSSH, User: "alice", KeyFingerprint: "SHA256:abc"}, "ssh alice (SHA256:abc)"},
		{Actor{Rule: "lab"}, "auto (rule lab)"},
		{Actor{Kind: ActorConsole, User: "alice@laptop", Rule: "ssh-check"}, "auto (rule ssh-check)"},
		{Actor{Rule: RuleTTL}, "gateway (expired)"},
		{GatewayActor(""), "gateway"},
		{GatewayActor("start"), "gateway (start)"},
		{Actor{Kind: ActorConsole}, "console"},
		// Lines written before the kind was recorded read as they did.
		{Actor{ClientID: "cli", Role: RoleOperator}, "cli (operator)"},
		{Actor{ClientID: "pairdeck-cli", Role: RoleOperator, User: "alice"}, "pairdeck-cli (operator)"},
		{Actor{}, "unknown"},
	} {
		if got := tc.actor.String(); got != tc.form {
			t.Errorf("%+v: %q, want %q", tc.actor, got, tc.form)
		}
	}
}
