package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pairdeck/pairdeck/client"
	"github.com/pairdeck/pairdeck/client/openclawtest"
	"github.com/pairdeck/pairdeck/protocol"
)

// The CLI against OpenClaw gateways: the binary talks to the replay double
// of package client/openclawtest, which plays back frames recorded from
// real OpenClaw 2026.4.12, 2026.7.35 and 2026.9.6 gateways
// (client/testdata/openclaw). Each command is one connection, served the
// recorded connection the test names.

const (
	oc412 = "2026.4.12"
	oc735 = "2026.7.35"
	oc96  = "2026.9.6"
)

// openclawEnv is a user whose commands go to a replay of the recorded
// connections labels of scenario, with the gateway's shared token.
func openclawEnv(t *testing.T, version, scenario string, labels ...string) (*env, *openclawtest.Gateway) {
	t.Helper()
	g := openclawtest.New(t, version, scenario, labels...)
	e := newEnv(t)
	e.vars = append(e.vars, "OPENCLAW_GATEWAY_URL="+g.URL, "OPENCLAW_GATEWAY_TOKEN=test-only-shared-token-"+version)
	return e, g
}

// recordedPending is the n-th recorded pending list of label (node and
// device requests alike), by display name.
func recordedPending(t *testing.T, g *openclawtest.Gateway, label, method string, n int) map[string]string {
	t.Helper()
	var list struct {
		Pending []struct {
			RequestID   string `json:"requestId"`
			DisplayName string `json:"displayName"`
		} `json:"pending"`
	}
	g.Rec.Result(t, label, method, n, &list)
	out := map[string]string{}
	for _, r := range list.Pending {
		out[r.DisplayName] = r.RequestID
	}
	return out
}

var ocPendingHeaders = []string{"REQUEST", "KIND", "NAME", "PLATFORM", "IP", "NODE", "ASKED", "EXPIRES"}

// Against 2026.9.6 the queue holds node (capability) and device requests,
// each row saying which, a device's reason too; no expiry is made up for
// either (the gateway gives none): the row says how long it has waited.
func TestOpenClawPendingSaysKindAndNeverMakesUpAnExpiry(t *testing.T) {
	t.Parallel()
	e, g := openclawEnv(t, oc96, "device-pairing", "op")
	g.SkipAnswers(protocol.MethodPairList, 2)
	g.SkipAnswers(protocol.MethodDevicePairList, 2)
	ids := recordedPending(t, g, "op", protocol.MethodDevicePairList, 2)
	nodes := recordedPending(t, g, "op", protocol.MethodPairList, 2)

	r := e.ok("nodes", "pending")
	tb := parseTable(t, r.stdout, ocPendingHeaders...)
	wantKinds := map[string]string{ids["Recorder G"]: "device (new)", nodes["Recorder Q"]: "node"}
	for id, kind := range wantKinds {
		if got := tb.cell(t, id, "KIND"); got != kind {
			t.Errorf("KIND of %s = %q, want %q\n%s", id, got, kind, r.stdout)
		}
		if got := tb.cell(t, id, "EXPIRES"); got != "-" {
			t.Errorf("EXPIRES of %s = %q: the gateway gives no expiry, nothing may be made up\n%s", id, got, r.stdout)
		}
		if got := tb.cell(t, id, "ASKED"); !regexp.MustCompile(`ago$`).MatchString(got) {
			t.Errorf("ASKED of %s = %q, want how long it has waited", id, got)
		}
	}
	// The request that merged E's and F's asks (roles operator and node)
	// is a role upgrade of the paired F.
	upgrades := 0
	for _, row := range tb.rows {
		if row[1] == "device (role upgrade)" {
			upgrades++
		}
	}
	if upgrades != 1 {
		t.Errorf("want one role upgrade among the rows:\n%s", r.stdout)
	}

	var recs []map[string]any
	decodeStrict(t, e.ok("nodes", "pending", "--json").stdout, &recs)
	byID := map[string]map[string]any{}
	for _, rec := range recs {
		byID[rec["requestId"].(string)] = rec
		if _, ok := rec["expiresAtMs"]; ok {
			t.Errorf("--json made up an expiry: %v", rec)
		}
	}
	if dev := byID[ids["Recorder G"]]; dev["kind"] != "device" || dev["reason"] != "not-paired" || dev["role"] != "node" {
		t.Errorf("device request in --json: %v", dev)
	}
	if nd := byID[nodes["Recorder Q"]]; nd["kind"] != "node" || nd["clientId"] != "node-host" || nd["requiredApproveScopes"] == nil {
		t.Errorf("node request in --json: %v", nd)
	}
}

// 2026.4.12 and 2026.7.35 drop a node request 5 minutes after ts: that is
// the expiry shown, and their queue is node requests only.
func TestOpenClawNodePairingGatewaysKeepTheirExpiry(t *testing.T) {
	t.Parallel()
	for _, v := range []string{oc412, oc735} {
		e, _ := openclawEnv(t, v, "node-connect", "op")
		var recs []protocol.PendingRequest
		decodeStrictLoose(t, e.ok("nodes", "pending", "--json").stdout, &recs)
		if len(recs) == 0 {
			t.Fatalf("%s: no pending requests", v)
		}
		for _, r := range recs {
			if r.Kind != protocol.KindNode || r.ExpiresAtMs != r.TS+300000 {
				t.Errorf("%s: %+v, want a node request expiring at ts + 5 min", v, r)
			}
		}
	}
}

// decodeStrictLoose decodes JSON that may hold keys v does not model.
func decodeStrictLoose(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, s)
	}
}

// An approval says what it did: a token only where the gateway issued one,
// and never "give it this token yourself" where it did not.
func TestOpenClawApproveSaysWhatHappened(t *testing.T) {
	t.Parallel()
	noTokenTalk := []string{"Token (shown once", "pass it on", "node connect --token-file", "token handed over", "received it"}

	t.Run("9.6 node", func(t *testing.T) {
		t.Parallel()
		e, g := openclawEnv(t, oc96, "node-connect", "op")
		p := recordedPending(t, g, "op", protocol.MethodPairList, 0)["Recorder P"]
		r := e.ok("nodes", "approve", p)
		if !strings.Contains(r.stdout, "Approved Recorder P (") || !strings.Contains(r.stdout, "the node continues with its device token") ||
			!strings.Contains(r.stdout, "permissions  camera") {
			t.Errorf("approve output:\n%s", r.stdout)
		}
		for _, bad := range noTokenTalk {
			if strings.Contains(r.stdout, bad) {
				t.Errorf("approve without a token says %q:\n%s", bad, r.stdout)
			}
		}
		var res map[string]any
		decodeStrict(t, e.ok("nodes", "approve", p, "--json").stdout, &res)
		node, _ := res["node"].(map[string]any)
		if res["noToken"] != protocol.NoTokenNodeUsesDeviceToken || res["kind"] != "node" || node["token"] != nil ||
			node["permissions"] == nil || node["clientId"] != "node-host" || node["lastSeenReason"] == nil {
			t.Errorf("approve --json = %v", res)
		}
	})

	t.Run("9.6 device", func(t *testing.T) {
		t.Parallel()
		e, g := openclawEnv(t, oc96, "device-pairing", "op")
		g.SkipAnswers(protocol.MethodPairList, 2)
		g.SkipAnswers(protocol.MethodDevicePairList, 2)
		ids := recordedPending(t, g, "op", protocol.MethodDevicePairList, 2)
		r := e.ok("nodes", "approve", ids["Recorder G"])
		if !strings.Contains(r.stdout, "Approved device Recorder G (") || !strings.Contains(r.stdout, " as node") ||
			!strings.Contains(r.stdout, "the device gets its token from the gateway when it next connects") {
			t.Errorf("approve output:\n%s", r.stdout)
		}
		for _, bad := range noTokenTalk {
			if strings.Contains(r.stdout, bad) {
				t.Errorf("device approval says %q:\n%s", bad, r.stdout)
			}
		}
		// F's request (merged with its later asks, role node among
		// them): a device reject says so.
		var list struct {
			Pending []protocol.PendingDevice `json:"pending"`
		}
		g.Rec.Result(t, "op", protocol.MethodDevicePairList, 2, &list)
		var f string
		for _, d := range list.Pending {
			if d.Platform == "darwin" {
				f = d.RequestID
			}
		}
		if f == "" {
			t.Fatalf("no recorded request of F in %+v", list)
		}
		r = e.ok("nodes", "reject", f)
		if !strings.HasPrefix(r.stdout, "Rejected device pairing request "+f+" (device ") {
			t.Errorf("reject output:\n%s", r.stdout)
		}
	})

	t.Run("4.12 node", func(t *testing.T) {
		t.Parallel()
		e, g := openclawEnv(t, oc412, "node-connect", "op")
		p := recordedPending(t, g, "op", protocol.MethodPairList, 0)["Recorder P"]
		r := e.ok("nodes", "approve", p)
		if !strings.Contains(r.stdout, "Token (shown once") || !strings.Contains(r.stdout, "test-only-token-") ||
			!strings.Contains(r.stdout, "sign in with their device token") || strings.Contains(r.stdout, "pass it on") {
			t.Errorf("approve output:\n%s", r.stdout)
		}
	})
}

var ocStatusHeaders = []string{"NAME", "STATE", "APPROVAL", "NODE", "PLATFORM", "IP", "SEEN", "CAPS"}

// `nodes status` never calls a node whose commands wait for approval (or
// were rejected) simply paired and online: the APPROVAL column says.
func TestOpenClawStatusShowsTheApprovalState(t *testing.T) {
	t.Parallel()
	for _, v := range []string{oc412, oc735, oc96} {
		e, _ := openclawEnv(t, v, "node-connect", "op")
		r := e.ok("nodes", "status")
		if !strings.HasPrefix(r.stdout, "Known: ") || !strings.Contains(r.stdout, "Awaiting approval: 4 ·") {
			t.Errorf("%s: summary:\n%s", v, r.stdout)
		}
		tb := parseTable(t, r.stdout, ocStatusHeaders...)
		if got := tb.cell(t, "Recorder P", "APPROVAL"); got != "pending" {
			t.Errorf("%s: Recorder P approval %q, want pending\n%s", v, got, r.stdout)
		}
		if got := tb.cell(t, "Recorder P", "CAPS"); v != oc412 && got != "asks system" {
			t.Errorf("%s: Recorder P caps %q, want what it asks for\n%s", v, got, r.stdout)
		}
		if v != oc96 {
			continue
		}
		var res struct {
			TS    int64            `json:"ts"`
			Nodes []map[string]any `json:"nodes"`
		}
		decodeStrict(t, e.ok("nodes", "status", "--json").stdout, &res)
		n := res.Nodes[0]
		for _, k := range []string{"approvalState", "pendingRequestId", "pendingDeclaredCommands", "sessionHost", "nodePluginTools"} {
			if _, ok := n[k]; !ok {
				t.Errorf("status --json dropped %q: %v", k, n)
			}
		}
	}
}

// What a gateway does not offer is said in one line, before anything else
// is asked for; never a raw "unknown method".
func TestOpenClawUnofferedActionsExplainedInOneLine(t *testing.T) {
	t.Parallel()
	e, _ := openclawEnv(t, oc96, "node-connect", "op")
	tokenFile := filepath.Join(t.TempDir(), "tok")
	os.WriteFile(tokenFile, []byte("whatever\n"), 0o600)
	r := e.fails(1, []string{"has no node.pair.verify", "device tokens"}, "nodes", "verify", "--node", "Recorder P", "--token-file", tokenFile)
	if strings.Contains(r.stderr, "unknown method") {
		t.Errorf("raw refusal: %s", r.stderr)
	}
	e.fails(1, []string{"renames paired nodes only"}, "nodes", "rename", "--node", "Recorder S", "--name", "Renamed S")

	e412, _ := openclawEnv(t, oc412, "node-connect", "op")
	e412.fails(1, []string{"does not offer node.pair.remove"}, "nodes", "remove", "--node", "Recorder P")
}

// Refusals of the handshake say what happened and what to do.
func TestOpenClawRefusalsSayWhatToDo(t *testing.T) {
	t.Parallel()
	e, g := openclawEnv(t, oc96, "device-pairing", "E-new")
	var refusal struct {
		Error struct {
			Details struct {
				RequestID string `json:"requestId"`
			} `json:"details"`
		} `json:"error"`
	}
	g.Rec.Frame(t, "E-new", func(f openclawtest.Frame, _ json.RawMessage) bool { return f.Type == "res" }, &refusal)
	id := refusal.Error.Details.RequestID
	if id == "" {
		t.Fatal("no recorded request id")
	}
	e.fails(1, []string{"requires pairing", "not paired", "device pairing request " + id, "openclaw devices approve " + id}, "nodes", "pending")

	e, _ = openclawEnv(t, oc96, "device-pairing", "F-scope-upgrade")
	e.fails(1, []string{"asks for more scopes than it was approved for", "openclaw devices approve "}, "nodes", "status")

	e, _ = openclawEnv(t, oc96, "handshake", "op-wrong-token")
	e.fails(1, []string{"does not match", "OPENCLAW_GATEWAY_TOKEN"}, "nodes", "pending")

	// A token given to a password gateway: 7.35 says the password is
	// missing, 9.6 that it does not match (it took the token for one).
	for _, v := range []string{oc735, oc96} {
		e, _ = openclawEnv(t, v, "auth-password", "pw-token-only")
		r := e.fails(1, []string{"password authentication", "--password", "OPENCLAW_GATEWAY_PASSWORD"}, "nodes", "pending")
		if strings.Contains(r.stderr, "does not match") {
			t.Errorf("%s: a token was given, not a password: %s", v, r.stderr)
		}
	}
}

// openclawNodeState is node.json of a node paired with an OpenClaw gateway.
type openclawNodeState struct {
	NodeID      string   `json:"nodeId"`
	GatewayURL  string   `json:"gatewayUrl"`
	PairedAtMs  int64    `json:"pairedAtMs"`
	DisplayName string   `json:"displayName"`
	DeviceToken string   `json:"deviceToken"`
	Role        string   `json:"role"`
	Protocol    int      `json:"protocol"`
	Approval    string   `json:"approval"`
	Caps        []string `json:"caps"`
	Commands    []string `json:"commands"`
}

func readOpenClawNodeState(t *testing.T, dir string) openclawNodeState {
	t.Helper()
	var st openclawNodeState
	data, err := os.ReadFile(filepath.Join(dir, "node.json"))
	if err != nil {
		t.Fatal(err)
	}
	decodeStrict(t, string(data), &st)
	return st
}

// recordedDeviceToken is the device token the hello-ok of label issued.
func recordedDeviceToken(t *testing.T, g *openclawtest.Gateway, label string) string {
	t.Helper()
	var res struct {
		Payload protocol.HelloOK `json:"payload"`
	}
	g.Rec.Frame(t, label, func(f openclawtest.Frame, _ json.RawMessage) bool { return f.Type == "res" && f.OK != nil && *f.OK }, &res)
	if res.Payload.Auth == nil || res.Payload.Auth.DeviceToken == "" {
		t.Fatalf("%s issued no device token", label)
	}
	return res.Payload.Auth.DeviceToken
}

// `node pair` with 2026.9.6: refused without the shared token, connects
// with it, keeps the device token at once, and ends when the gateway tells
// the node its commands were approved.
func TestOpenClawNodePairThroughDevicePairing(t *testing.T) {
	t.Parallel()
	e, g := openclawEnv(t, oc96, "node-connect", "node-no-token", "node-P")
	dir := t.TempDir()
	p := e.start("node", "pair", "--json", "--name", "Recorder P", "--node-dir", dir, "--caps", "system", "--commands", "system.notify")
	var pending struct {
		Event, RequestID, NodeID, Fingerprint, Kind, Hint, StateFile string
		Created                                                      *bool
	}
	decodeStrictLoose(t, p.next(), &pending)
	if pending.Event != "pending" || pending.Kind != protocol.KindNode || pending.StateFile != filepath.Join(dir, "node.json") ||
		!strings.Contains(pending.Hint, "openclaw nodes approve") {
		t.Fatalf("pending line %+v\n%s", pending, p)
	}
	want := recordedDeviceToken(t, g, "node-P")
	st := readOpenClawNodeState(t, dir)
	if st.DeviceToken != want || st.Role != "node" || st.Protocol != 4 || st.Approval != protocol.ApprovalPending || st.NodeID != pending.NodeID ||
		strings.Join(st.Caps, ",") != "system" || strings.Join(st.Commands, ",") != "system.notify" {
		t.Errorf("node.json while waiting = %+v", st)
	}
	checkMode(t, filepath.Join(dir, "node.json"), 0o600)
	if g.Push(t, "node-P", protocol.EventPairResolved) != 1 {
		t.Fatal("no recorded node.pair.resolved for node P")
	}
	var done map[string]any
	decodeStrictLoose(t, p.next(), &done)
	p.exits(0)
	if done["event"] != "approved" {
		t.Errorf("last line %v", done)
	}
	if st := readOpenClawNodeState(t, dir); st.Approval != protocol.ApprovalApproved || st.DeviceToken != want {
		t.Errorf("node.json after approval = %+v", st)
	}
	sent := g.Sent()
	if len(sent) != 2 || sent[0].Auth != nil || sent[1].Auth == nil || sent[1].Auth.Token != "test-only-shared-token-"+oc96 {
		t.Errorf("connects: want one without credentials, then one with the shared token: %+v", sent)
	}

	// Without the shared token: told where it goes.
	e2, _ := openclawEnv(t, oc96, "node-connect", "node-no-token")
	r := e2.runEnv([]string{"OPENCLAW_GATEWAY_TOKEN="}, "node", "pair", "--name", "x", "--node-dir", t.TempDir())
	checkFailure(t, r, 1, "shared token", "OPENCLAW_GATEWAY_TOKEN")
}

// 2026.4.12 and 2026.7.35 never tell a node how its request was decided:
// `node pair` ends once the device token is stored, and says so.
func TestOpenClawNodePairOnNodePairingGateways(t *testing.T) {
	t.Parallel()
	for _, v := range []string{oc412, oc735} {
		e, g := openclawEnv(t, v, "node-connect", "node-no-token", "node-P")
		dir := t.TempDir()
		r := e.ok("node", "pair", "--name", "Recorder P", "--node-dir", dir)
		for _, want := range []string{"gave it a device token", "Paired: ", "does not tell the node", "pairdeck node connect --node-dir"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%s: output lacks %q:\n%s", v, want, r.stdout)
			}
		}
		st := readOpenClawNodeState(t, dir)
		if st.DeviceToken != recordedDeviceToken(t, g, "node-P") || st.Approval != protocol.ApprovalPending {
			t.Errorf("%s: node.json = %+v", v, st)
		}
	}
}

// `node connect` signs in with the stored device token (in auth.token too
// for a protocol-3 gateway), re-saves node.json when the gateway issues
// another, and notes the approval the gateway sends the node.
func TestOpenClawNodeConnectWithTheDeviceToken(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		version, label string
		protocol       int
	}{{oc96, "node-P-devicetoken", 4}, {oc412, "node-P-devicetoken-as-token", 3}} {
		e, g := openclawEnv(t, tc.version, "node-connect", tc.label)
		dir := t.TempDir()
		id, err := client.LoadOrCreateIdentity(client.IdentityPath(dir))
		if err != nil {
			t.Fatal(err)
		}
		if err := client.SaveNodeState(dir, client.NodeState{NodeID: id.DeviceID, GatewayURL: g.URL, DeviceToken: "an-older-device-token",
			Role: protocol.RoleNode, Protocol: tc.protocol, Approval: protocol.ApprovalPending, DisplayName: "Recorder P",
			Caps: []string{"system"}, Commands: []string{"system.notify"}}); err != nil {
			t.Fatal(err)
		}
		p := e.startEnv([]string{"OPENCLAW_GATEWAY_TOKEN="}, "node", "connect", "--node-dir", dir)
		p.waitLine("connected: ")
		want := recordedDeviceToken(t, g, tc.label)
		eventually(t, "node.json holds the device token the gateway issued", func() bool {
			return readOpenClawNodeState(t, dir).DeviceToken == want
		})
		sent := g.Sent()
		if a := sent[0].Auth; a == nil || a.DeviceToken != "an-older-device-token" || (tc.protocol == 3) != (a.Token == "an-older-device-token") {
			t.Errorf("%s: connect auth %+v", tc.version, a)
		}
		// The gateway takes the node's surface from every connect.
		if strings.Join(sent[0].Caps, ",") != "system" || strings.Join(sent[0].Commands, ",") != "system.notify" {
			t.Errorf("%s: connect declares caps %v commands %v, want what the node paired with", tc.version, sent[0].Caps, sent[0].Commands)
		}
		if tc.version == oc96 {
			if g.Push(t, "node-P", protocol.EventPairResolved) != 1 {
				t.Fatal("no recorded node.pair.resolved")
			}
			p.waitLine("approved: an operator approved this node's commands")
			eventually(t, "node.json says approved", func() bool {
				return readOpenClawNodeState(t, dir).Approval == protocol.ApprovalApproved
			})
		}
	}
}

// A gateway in password mode: `node pair` presents the password it was
// given ($OPENCLAW_GATEWAY_PASSWORD) once the gateway asks for it, and keeps
// the device token even when it gives up waiting for the approval.
func TestOpenClawNodePairWithAPassword(t *testing.T) {
	t.Parallel()
	g := openclawtest.New(t, oc96, "auth-password", "pw-none", "pw-node")
	g.CheckConnect = false // the refusal was recorded for an operator
	e := newEnv(t)
	dir := t.TempDir()
	r := e.runEnv([]string{"OPENCLAW_GATEWAY_URL=" + g.URL, "OPENCLAW_GATEWAY_PASSWORD=test-only-password-" + oc96},
		"node", "pair", "--name", "pw node", "--node-dir", dir, "--wait", "1s")
	if r.code != 124 || !strings.Contains(r.stdout, "gave it a device token") {
		t.Fatalf("want exit 124 after the device token was kept:\n%s", r)
	}
	checkErrLine(t, r.stderr, "gave up waiting for the approval of this node's commands", "device token is stored", "pairdeck node connect --node-dir")
	sent := g.Sent()
	if len(sent) != 2 || sent[0].Auth != nil || sent[1].Auth == nil || sent[1].Auth.Password != "test-only-password-"+oc96 || sent[1].Auth.Token != "" {
		t.Errorf("connects: want none, then the password alone: %+v", sent)
	}
	if st := readOpenClawNodeState(t, dir); st.DeviceToken != recordedDeviceToken(t, g, "pw-node") {
		t.Errorf("node.json = %+v", st)
	}
}
