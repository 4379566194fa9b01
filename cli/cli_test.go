package cli_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

// The --json records, as docs/cli-json.md documents them. Decoding is
// strict, so a field added without updating these (and the doc) fails.

type pendingJSON struct {
	RequestID             string   `json:"requestId"`
	NodeID                string   `json:"nodeId"`
	DisplayName           string   `json:"displayName"`
	Platform              string   `json:"platform"`
	Version               string   `json:"version"`
	CoreVersion           string   `json:"coreVersion"`
	UIVersion             string   `json:"uiVersion"`
	DeviceFamily          string   `json:"deviceFamily"`
	ModelIdentifier       string   `json:"modelIdentifier"`
	Caps                  []string `json:"caps"`
	Commands              []string `json:"commands"`
	RemoteIP              string   `json:"remoteIp"`
	Silent                *bool    `json:"silent"`
	IsRepair              bool     `json:"isRepair"`
	TS                    int64    `json:"ts"`
	RenamedAtMs           int64    `json:"renamedAtMs"`
	RequiredApproveScopes []string `json:"requiredApproveScopes"`
	ExpiresAtMs           int64    `json:"expiresAtMs"`
}

type pairedJSON struct {
	NodeID            string   `json:"nodeId"`
	Token             string   `json:"token"` // approve only
	DisplayName       string   `json:"displayName"`
	Platform          string   `json:"platform"`
	Version           string   `json:"version"`
	CoreVersion       string   `json:"coreVersion"`
	UIVersion         string   `json:"uiVersion"`
	DeviceFamily      string   `json:"deviceFamily"`
	ModelIdentifier   string   `json:"modelIdentifier"`
	Caps              []string `json:"caps"`
	Commands          []string `json:"commands"`
	RemoteIP          string   `json:"remoteIp"`
	CreatedAtMs       int64    `json:"createdAtMs"`
	ApprovedAtMs      int64    `json:"approvedAtMs"`
	RenamedAtMs       int64    `json:"renamedAtMs"`
	LastConnectedAtMs int64    `json:"lastConnectedAtMs"`
}

type nodeInfoJSON struct {
	NodeID            string   `json:"nodeId"`
	DisplayName       string   `json:"displayName"`
	Platform          string   `json:"platform"`
	Version           string   `json:"version"`
	DeviceFamily      string   `json:"deviceFamily"`
	ModelIdentifier   string   `json:"modelIdentifier"`
	RemoteIP          string   `json:"remoteIp"`
	Caps              []string `json:"caps"`
	Commands          []string `json:"commands"`
	Paired            bool     `json:"paired"`
	Connected         bool     `json:"connected"`
	ConnectedAtMs     int64    `json:"connectedAtMs"`
	ApprovedAtMs      int64    `json:"approvedAtMs"`
	LastConnectedAtMs int64    `json:"lastConnectedAtMs"`
}

type statusJSON struct {
	TS    *int64         `json:"ts"`
	Nodes []nodeInfoJSON `json:"nodes"`
}

type listJSON struct {
	Pending []pendingJSON `json:"pending"`
	Paired  []pairedJSON  `json:"paired"`
}

type approveJSON struct {
	RequestID string     `json:"requestId"`
	Node      pairedJSON `json:"node"`
	Delivered *bool      `json:"delivered"`
}

type rejectJSON struct {
	RequestID string `json:"requestId"`
	NodeID    string `json:"nodeId"`
}

type renameJSON struct {
	NodeID      string `json:"nodeId"`
	DisplayName string `json:"displayName"`
}

type removeJSON struct {
	NodeID string `json:"nodeId"`
}

type verifyJSON struct {
	OK   *bool       `json:"ok"`
	Node *pairedJSON `json:"node"`
}

type watchJSON struct {
	Event    string          `json:"event"`
	Payload  json.RawMessage `json:"payload"`
	Snapshot bool            `json:"snapshot"`
	TS       int64           `json:"ts"`
}

// The columns of the tables, as the console names them.
var (
	pendingHeaders = []string{"Request", "Name", "Platform", "IP", "Node", "Asked", "Expires"}
	statusHeaders  = []string{"Name", "State", "Node", "Platform", "IP", "Seen", "Caps"}
)

var tokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

func checkToken(t *testing.T, tok string) {
	t.Helper()
	if !tokenRE.MatchString(tok) {
		t.Errorf("token %q is not 43 chars of base64url", tok)
	}
	if b, err := base64.RawURLEncoding.DecodeString(tok); err != nil || len(b) != 32 {
		t.Errorf("token %q does not decode to 32 bytes: %v", tok, err)
	}
}

func recent(t *testing.T, what string, ms int64) {
	t.Helper()
	if d := time.Since(time.UnixMilli(ms)); d < -time.Minute || d > time.Minute {
		t.Errorf("%s = %d is not about now (%s off)", what, ms, d)
	}
}

func pendingFor(t *testing.T, list []pendingJSON, requestID string) pendingJSON {
	t.Helper()
	for _, p := range list {
		if p.RequestID == requestID {
			return p
		}
	}
	t.Fatalf("request %s not in %+v", requestID, list)
	return pendingJSON{}
}

func nodeFor(t *testing.T, nodes []nodeInfoJSON, nodeID string) nodeInfoJSON {
	t.Helper()
	for _, n := range nodes {
		if n.NodeID == nodeID {
			return n
		}
	}
	t.Fatalf("node %s not in %+v", nodeID, nodes)
	return nodeInfoJSON{}
}

func TestHelpHasExamples(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, cmd := range [][]string{
		{}, {"serve"}, {"console"}, {"demo"},
		{"nodes"}, {"nodes", "pending"}, {"nodes", "approve"}, {"nodes", "reject"}, {"nodes", "status"},
		{"nodes", "rename"}, {"nodes", "remove"}, {"nodes", "list"}, {"nodes", "verify"},
		{"node"}, {"node", "pair"}, {"node", "connect"},
	} {
		r := e.ok(append(cmd, "--help")...)
		if !strings.Contains(r.stdout, "Usage:") || !strings.Contains(r.stdout, "Examples:\n  pairdeck") {
			t.Errorf("pairdeck %s --help has no usage or examples:\n%s", strings.Join(cmd, " "), r.stdout)
		}
	}
	// The token flag of verify is the node's; the help says where the
	// operator token comes from instead.
	r := e.ok("nodes", "verify", "--help")
	if !strings.Contains(r.stdout, "the node's token") || !strings.Contains(r.stdout, "OPENCLAW_GATEWAY_TOKEN") {
		t.Errorf("verify --help does not explain its --token:\n%s", r.stdout)
	}
	r = e.ok("nodes", "--help")
	if !strings.Contains(r.stdout, "Exit codes: 0 ok, 1 failed, 2 usage, 124 timed out, 130 interrupted") {
		t.Errorf("nodes --help does not list the exit codes:\n%s", r.stdout)
	}
}

func TestCompletion(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, sh := range []string{"bash", "zsh", "fish"} {
		if r := e.ok("completion", sh); !strings.Contains(r.stdout, "pairdeck") {
			t.Errorf("completion %s does not mention pairdeck:\n%.200s", sh, r.stdout)
		}
	}
	// __complete reports its directive on stderr; that is cobra's protocol.
	r := e.run("__complete", "nodes", "")
	for _, sub := range []string{"pending", "approve", "reject", "status", "rename", "remove", "list", "verify"} {
		if !strings.Contains(r.stdout, sub+"\t") {
			t.Errorf("completion of `nodes ` lacks %s:\n%s", sub, r.stdout)
		}
	}
	r = e.run("__complete", "nodes", "pending", "--")
	for _, fl := range []string{"--watch", "--count", "--json", "--url", "--token-file"} {
		if !strings.Contains(r.stdout, fl) {
			t.Errorf("completion of `nodes pending --` lacks %s:\n%s", fl, r.stdout)
		}
	}

	// No gateway: nothing offered, and nothing written to offer it.
	r = e.run("__complete", "nodes", "approve", "")
	if strings.Contains(r.stdout, "\t") {
		t.Errorf("completion without a gateway offered:\n%s", r.stdout)
	}
	if ents, _ := os.ReadDir(e.stateDir); len(ents) != 0 {
		t.Errorf("completion wrote to the state dir: %v", ents)
	}

	// With one: the pending requests by short id, described by their node;
	// the nodes by fingerprint, described by name.
	e.serve()
	pr := e.pair("Kitchen Display")
	r = e.run("__complete", "nodes", "approve", "")
	if want := pr.pending.RequestID[:8] + "\tKitchen Display · " + pr.pending.Fingerprint + " · 127.0.0.1 · expires in "; !strings.Contains(r.stdout, want) {
		t.Errorf("completion of `nodes approve ` lacks %q:\n%s", want, r.stdout)
	}
	r = e.run("__complete", "nodes", "reject", "")
	if !strings.Contains(r.stdout, pr.pending.RequestID[:8]+"\t") {
		t.Errorf("completion of `nodes reject `:\n%s", r.stdout)
	}
	r = e.run("__complete", "nodes", "rename", "--node", "")
	if want := pr.pending.Fingerprint + "\tKitchen Display · 127.0.0.1 · not paired, asking"; !strings.Contains(r.stdout, want) {
		t.Errorf("completion of `--node ` lacks %q:\n%s", want, r.stdout)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bogus"}, `unknown command "bogus"`},
		{[]string{"nodes", "bogus"}, `unknown command "bogus"`},
		{[]string{"node", "bogus"}, `unknown command "bogus"`},
		{[]string{"nodes", "pending", "extra"}, `"extra"`},
		{[]string{"nodes", "status", "extra"}, `"extra"`},
		{[]string{"node", "connect", "extra"}, `"extra"`},
		{[]string{"nodes", "pending", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"nodes", "pending", "--watch", "--count"}, "cannot be combined"},
		{[]string{"nodes", "approve"}, "needs a request"},
		{[]string{"nodes", "approve", "a", "b"}, "needs a request"},
		{[]string{"nodes", "reject"}, "needs a request"},
		{[]string{"nodes", "rename", "--node", "x"}, "needs --node and --name"},
		{[]string{"nodes", "rename", "--name", "x"}, "needs --node and --name"},
		{[]string{"nodes", "remove"}, "needs --node"},
		{[]string{"nodes", "verify", "--token-file", "-"}, "needs --node"},
		{[]string{"nodes", "verify", "--node", "x"}, "pipe the node's token on stdin"},
		{[]string{"nodes", "verify", "--node", "x", "--token-file", "-", "--token", "t"}, "not both"},
		{[]string{"nodes", "pending", "--token-file", "-", "--token", "t"}, "not both"},
		{[]string{"node", "pair"}, "needs --name"},
		{[]string{"node", "pair", "--name", "x", "--wait", "soon"}, `invalid argument "soon"`},
		{[]string{"serve", "--listen", "nowhere"}, "--listen"},
		{[]string{"serve", "--log-format", "xml"}, "--log-format"},
	} {
		r := e.run(tc.args...)
		checkFailure(t, r, 2, tc.want)
	}
	// None of them touched the state dir: a usage error acts on nothing.
	if ents, _ := os.ReadDir(e.stateDir); len(ents) != 0 {
		t.Errorf("usage errors wrote to the state dir: %v", ents)
	}
}

// TestPendingListings covers what an operator sees of waiting requests:
// --json field by field, the piped table, --count, list and status.
func TestPendingListings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.serve()

	if r := e.ok("nodes", "pending"); r.stdout != "No pending requests.\n" {
		t.Errorf("empty pending: %q", r.stdout)
	}
	if r := e.ok("nodes", "pending", "--json"); r.stdout != "[]\n" {
		t.Errorf("empty pending --json: %q", r.stdout)
	}
	if r := e.ok("nodes", "pending", "--count"); r.stdout != "0\n" {
		t.Errorf("empty --count: %q", r.stdout)
	}

	ipad := e.pair("Living Room iPad", "--platform", "ios", "--device-family", "iPad", "--model", "iPad13,8",
		"--node-version", "2.0.1", "--caps", "canvas,camera", "--commands", "system.notify", "--silent")
	box := e.pair("build-box", "--commands", "system.run,system.which")
	plain := e.pair("plain")

	var pending []pendingJSON
	e.okJSON(&pending, "nodes", "pending")
	if len(pending) != 3 {
		t.Fatalf("want 3 pending, got %+v", pending)
	}
	if pending[0].RequestID != plain.pending.RequestID || pending[2].RequestID != ipad.pending.RequestID {
		t.Errorf("pending is not newest first: %s %s %s", pending[0].DisplayName, pending[1].DisplayName, pending[2].DisplayName)
	}
	p := pendingFor(t, pending, ipad.pending.RequestID)
	if p.NodeID != ipad.pending.NodeID || p.DisplayName != "Living Room iPad" || p.Platform != "ios" ||
		p.DeviceFamily != "iPad" || p.ModelIdentifier != "iPad13,8" || p.Version != "2.0.1" ||
		!slices.Equal(p.Caps, []string{"canvas", "camera"}) || !slices.Equal(p.Commands, []string{"system.notify"}) ||
		p.RemoteIP != "127.0.0.1" || p.Silent == nil || !*p.Silent || p.IsRepair {
		t.Errorf("ipad request fields: %+v", p)
	}
	if !slices.Equal(p.RequiredApproveScopes, []string{"operator.pairing", "operator.write"}) {
		t.Errorf("ipad requiredApproveScopes = %q", p.RequiredApproveScopes)
	}
	recent(t, "ts", p.TS)
	if ttl := time.Duration(p.ExpiresAtMs-p.TS) * time.Millisecond; ttl != 5*time.Minute {
		t.Errorf("expiresAtMs - ts = %s, want the default 5m", ttl)
	}
	if want := p.NodeID[0:4] + ":" + p.NodeID[4:8] + ":" + p.NodeID[8:12]; ipad.pending.Fingerprint != want {
		t.Errorf("fingerprint %q is not the start of node id %s", ipad.pending.Fingerprint, p.NodeID)
	}
	b := pendingFor(t, pending, box.pending.RequestID)
	if !slices.Equal(b.RequiredApproveScopes, []string{"operator.pairing", "operator.admin"}) {
		t.Errorf("system.run request needs %q, want pairing+admin", b.RequiredApproveScopes)
	}
	q := pendingFor(t, pending, plain.pending.RequestID)
	if q.Silent == nil || *q.Silent || q.Platform != runtime.GOOS || q.Caps != nil || q.Commands != nil ||
		!slices.Equal(q.RequiredApproveScopes, []string{"operator.pairing"}) {
		t.Errorf("plain request fields: %+v", q)
	}

	if r := e.ok("nodes", "pending", "--count"); r.stdout != "3\n" {
		t.Errorf("--count = %q, want 3", r.stdout)
	}

	// Piped: plain aligned columns with the console's names, every cell
	// whole.
	r := e.ok("nodes", "pending")
	tb := parseTable(t, r.stdout, pendingHeaders...)
	if len(tb.rows) != 3 {
		t.Fatalf("want 3 rows:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "\x1b[") || strings.ContainsAny(r.stdout, "╭│") {
		t.Errorf("piped output has colours or borders:\n%s", r.stdout)
	}
	id := ipad.pending.RequestID
	if got := tb.cell(t, id, "Name"); got != "Living Room iPad" {
		t.Errorf("Name = %q", got)
	}
	if got := tb.cell(t, id, "Node"); got != ipad.pending.Fingerprint {
		t.Errorf("Node = %q, want the fingerprint %s", got, ipad.pending.Fingerprint)
	}
	if got := tb.cell(t, id, "IP"); got != "127.0.0.1" {
		t.Errorf("IP = %q", got)
	}
	if got := tb.cell(t, id, "Platform"); got != "ios" {
		t.Errorf("Platform = %q", got)
	}
	// "now" unless a busy machine took seconds between the request and
	// this listing; never a date or a minute count.
	if got := tb.cell(t, id, "Asked"); !regexp.MustCompile(`^(now|[1-5]?[0-9]s ago)$`).MatchString(got) {
		t.Errorf("Asked = %q, want now or seconds ago", got)
	}
	if got := tb.cell(t, id, "Expires"); !regexp.MustCompile(`^4:[0-5][0-9]$`).MatchString(got) {
		t.Errorf("Expires = %q, want m:ss under 5:00", got)
	}

	// list: the same pending records, and paired (none yet).
	var list listJSON
	e.okJSON(&list, "nodes", "list")
	if len(list.Pending) != 3 || list.Paired == nil || len(list.Paired) != 0 {
		t.Errorf("list --json: %+v", list)
	}
	if lp := pendingFor(t, list.Pending, id); !jsonEqual(lp, p) {
		t.Errorf("list's pending record differs from pending's:\n%+v\n%+v", lp, p)
	}
	r = e.ok("nodes", "list")
	if !strings.HasPrefix(r.stdout, "Pending: 3 · Paired: 0\n") {
		t.Errorf("list header:\n%s", r.stdout)
	}
	parseTable(t, r.stdout, pendingHeaders...)

	// status: nodes with a pending request are known, not paired; the
	// pairing nodes wait unpaired, so nobody counts as connected.
	var st statusJSON
	e.okJSON(&st, "nodes", "status")
	if st.TS == nil || len(st.Nodes) != 3 {
		t.Fatalf("status --json: %+v", st)
	}
	recent(t, "status ts", *st.TS)
	n := nodeFor(t, st.Nodes, ipad.pending.NodeID)
	if n.Paired || n.Connected || n.DisplayName != "Living Room iPad" || !slices.Equal(n.Caps, []string{"canvas", "camera"}) ||
		n.Platform != "ios" || n.RemoteIP != "127.0.0.1" {
		t.Errorf("status node: %+v", n)
	}
	if pn := nodeFor(t, st.Nodes, plain.pending.NodeID); pn.Caps == nil || pn.Commands == nil {
		t.Errorf("status caps/commands must be arrays, even empty: %+v", pn)
	}
	r = e.ok("nodes", "status")
	if !strings.HasPrefix(r.stdout, "Known: 3 · Paired: 0 · Connected: 0\n") {
		t.Errorf("status header:\n%s", r.stdout)
	}
	stb := parseTable(t, r.stdout, statusHeaders...)
	if got := stb.cell(t, "Living Room iPad", "State"); got != "pending" {
		t.Errorf("status State of a node that only asked = %q", got)
	}
	if got := stb.cell(t, "Living Room iPad", "Caps"); got != "canvas,camera" {
		t.Errorf("status Caps = %q", got)
	}
	if got := stb.cell(t, "plain", "Caps"); got != "-" {
		t.Errorf("status Caps of a node without caps = %q", got)
	}
	if got := stb.cell(t, "build-box", "Node"); got != box.pending.Fingerprint {
		t.Errorf("status Node = %q, want the fingerprint %s", got, box.pending.Fingerprint)
	}

	// Repeating a request keeps its id (created:false).
	again := e.pair("Living Room iPad", "--node-dir", ipad.dir)
	if again.pending.RequestID != id || *again.pending.Created {
		t.Errorf("repeat request: %+v, want %s and created:false", again.pending, id)
	}
	if r := e.ok("nodes", "pending", "--count"); r.stdout != "3\n" {
		t.Errorf("--count after a repeat = %q", r.stdout)
	}
	g.stop()
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// TestApproveConnectVerifyRemove follows one node through its life.
func TestApproveConnectVerifyRemove(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.serve()
	pr := e.pair("Living Room iPad", "--platform", "ios", "--caps", "canvas,camera", "--commands", "system.notify")

	var ap approveJSON
	r := e.okJSON(&ap, "nodes", "approve", pr.pending.RequestID)
	checkToken(t, ap.Node.Token)
	if ap.RequestID != pr.pending.RequestID || ap.Node.NodeID != pr.pending.NodeID || ap.Delivered == nil || !*ap.Delivered ||
		ap.Node.DisplayName != "Living Room iPad" || ap.Node.Platform != "ios" || ap.Node.RemoteIP != "127.0.0.1" ||
		!slices.Equal(ap.Node.Caps, []string{"canvas", "camera"}) || !slices.Equal(ap.Node.Commands, []string{"system.notify"}) {
		t.Errorf("approve --json: %+v", ap)
	}
	recent(t, "approvedAtMs", ap.Node.ApprovedAtMs)
	recent(t, "createdAtMs", ap.Node.CreatedAtMs)
	if c := strings.Count(r.stdout, ap.Node.Token); c != 1 {
		t.Errorf("token printed %d times", c)
	}

	// The node got the token over its socket and stored it privately.
	var done pairEvent
	pr.nextJSON(&done)
	pr.exits(0)
	if done.Event != "approved" || done.RequestID != pr.pending.RequestID || done.NodeID != pr.pending.NodeID ||
		done.StateFile != filepath.Join(pr.dir, "node.json") {
		t.Errorf("approved line: %+v", done)
	}
	if strings.Contains(pr.String(), ap.Node.Token) {
		t.Errorf("node pair printed the token:\n%s", pr)
	}
	st := readNodeState(t, pr.dir)
	if st.NodeID != pr.pending.NodeID || st.Token != ap.Node.Token || st.GatewayURL != g.url || st.DisplayName != "Living Room iPad" {
		t.Errorf("node.json: %+v", st)
	}
	recent(t, "pairedAtMs", st.PairedAtMs)
	checkMode(t, filepath.Join(pr.dir, "node.json"), 0o600)
	idPath := filepath.Join(pr.dir, "identity", "device.json")
	checkMode(t, idPath, 0o600)
	var ident struct {
		Version       int    `json:"version"`
		DeviceID      string `json:"deviceId"`
		PublicKeyPem  string `json:"publicKeyPem"`
		PrivateKeyPem string `json:"privateKeyPem"`
	}
	data, _ := os.ReadFile(idPath)
	decodeStrict(t, string(data), &ident)
	if ident.Version != 1 || ident.DeviceID != st.NodeID || !strings.Contains(ident.PrivateKeyPem, "PRIVATE KEY") {
		t.Errorf("identity file: version %d, deviceId %s", ident.Version, ident.DeviceID)
	}

	// Connected: status shows it.
	conn := e.start("node", "connect", "--node-dir", pr.dir)
	if l := conn.next(); l != "connected: "+g.url+" as node "+pr.pending.Fingerprint {
		t.Errorf("connect line %q", l)
	}
	var status statusJSON
	eventually(t, "status shows the node connected", func() bool {
		e.okJSON(&status, "nodes", "status")
		return len(status.Nodes) == 1 && status.Nodes[0].Connected
	})
	n := status.Nodes[0]
	if !n.Paired || n.NodeID != st.NodeID || !slices.Equal(n.Caps, []string{"canvas", "camera"}) ||
		!slices.Equal(n.Commands, []string{"system.notify"}) || n.ConnectedAtMs == 0 || n.ApprovedAtMs != ap.Node.ApprovedAtMs {
		t.Errorf("status node: %+v", n)
	}
	recent(t, "lastConnectedAtMs", n.LastConnectedAtMs)
	r = e.ok("nodes", "status")
	if !strings.HasPrefix(r.stdout, "Known: 1 · Paired: 1 · Connected: 1\n") {
		t.Errorf("status header:\n%s", r.stdout)
	}
	tb := parseTable(t, r.stdout, statusHeaders...)
	if got := tb.cell(t, "Living Room iPad", "State"); got != "online" {
		t.Errorf("State = %q", got)
	}
	if got := tb.cell(t, "Living Room iPad", "Seen"); got != "now" {
		t.Errorf("Seen = %q", got)
	}
	var list listJSON
	e.okJSON(&list, "nodes", "list")
	if len(list.Pending) != 0 || len(list.Paired) != 1 || list.Paired[0].Token != "" || list.Paired[0].NodeID != st.NodeID {
		t.Errorf("list after approval: %+v", list)
	}
	r = e.ok("nodes", "list")
	if !strings.HasPrefix(r.stdout, "Pending: 0 · Paired: 1\nNo pending requests.\n") {
		t.Errorf("list text:\n%s", r.stdout)
	}
	if got := parseTable(t, r.stdout, "Name", "Node", "Platform", "Approved", "Seen").cell(t, "Living Room iPad", "Node"); got != pr.pending.Fingerprint {
		t.Errorf("list paired Node = %q", got)
	}

	// verify: the node's token, not the operator's, behind --token.
	var v verifyJSON
	e.okJSON(&v, "nodes", "verify", "--node", st.NodeID, "--token", st.Token)
	if v.OK == nil || !*v.OK || v.Node == nil || v.Node.NodeID != st.NodeID || v.Node.Token != "" {
		t.Errorf("verify --json: %+v", v)
	}
	if r := e.ok("nodes", "verify", "--node", st.NodeID, "--token", st.Token); !strings.Contains(r.stdout, "Token is valid for Living Room iPad") {
		t.Errorf("verify text: %q", r.stdout)
	}
	wrong := strings.Repeat("A", 43)
	r = e.run("nodes", "verify", "--node", st.NodeID, "--token", wrong, "--json")
	if r.code != 1 || r.stderr != "" {
		t.Errorf("verify --json of a wrong token: want exit 1 and only JSON:\n%s", r)
	}
	v = verifyJSON{}
	decodeStrict(t, r.stdout, &v)
	if v.OK == nil || *v.OK || v.Node != nil {
		t.Errorf("verify --json of a wrong token: %s", r.stdout)
	}
	e.fails(1, []string{"does not verify", st.NodeID}, "nodes", "verify", "--node", st.NodeID, "--token", wrong)

	// Removal while connected: the node is told, and says so.
	var rm removeJSON
	e.okJSON(&rm, "nodes", "remove", "--node", "living room ipad")
	if rm.NodeID != st.NodeID {
		t.Errorf("remove --json: %+v", rm)
	}
	conn.exits(1)
	checkErrLine(t, conn.stderr.String(), "removed this node", "pairdeck node pair")
	for _, l := range conn.rest() {
		if !strings.HasPrefix(l, "disconnected: "+g.url) {
			t.Errorf("connect after removal printed %q", l)
		}
	}
	if r := e.ok("nodes", "status"); !strings.HasPrefix(r.stdout, "Known: 0 · Paired: 0 · Connected: 0\n") {
		t.Errorf("status after removal:\n%s", r.stdout)
	}
	// A node that is gone is not a token that does not verify.
	e.fails(1, []string{"no node matches", st.NodeID}, "nodes", "verify", "--node", st.NodeID, "--token", st.Token)
	// A removed node cannot come back with its old token.
	c2 := e.start("node", "connect", "--node-dir", pr.dir)
	c2.exits(1)
	checkErrLine(t, c2.stderr.String(), "refused this node's token")
	e.fails(1, []string{"no node matches"}, "nodes", "remove", "--node", "living room ipad")
	g.stop()
}

// TestApproveUndelivered: the node gave up waiting (--wait), so approval
// cannot hand it the token; the operator is told to pass it on.
func TestApproveUndelivered(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.serve()
	var pending [2]*pairing
	for i := range pending {
		pending[i] = e.pair(fmt.Sprintf("node-%d", i), "--wait", "1s")
	}
	for _, pr := range pending {
		var ev pairEvent
		pr.nextJSON(&ev)
		pr.exits(124)
		if ev.Event != "timed-out" || !strings.Contains(ev.Error, "stays pending") {
			t.Errorf("timed-out line: %+v", ev)
		}
		checkErrLine(t, pr.stderr.String(), "gave up waiting", "--wait")
		if _, err := os.Stat(filepath.Join(pr.dir, "node.json")); !os.IsNotExist(err) {
			t.Errorf("node.json written without approval: %v", err)
		}
	}
	if r := e.ok("nodes", "pending", "--count"); r.stdout != "2\n" {
		t.Errorf("the timed-out requests must stay pending: --count = %q", r.stdout)
	}

	r := e.ok("nodes", "approve", pending[0].pending.RequestID)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("approve text:\n%s", r.stdout)
	}
	fp := pending[0].pending.Fingerprint
	if lines[0] != fmt.Sprintf("Approved node-0 (%s), request %s.", fp, pending[0].pending.RequestID) ||
		lines[1] != "Token (shown once, it will not be shown again):" ||
		!strings.HasPrefix(lines[2], "  ") ||
		lines[3] != "The node was not waiting for it: pass it on, and on the node run `pairdeck node connect --token-file FILE` with the token in FILE (- reads it from stdin)." {
		t.Errorf("approve text:\n%s", r.stdout)
	}
	tok := strings.TrimSpace(lines[2])
	checkToken(t, tok)
	if strings.Count(r.stdout, tok) != 1 {
		t.Errorf("token shown more than once:\n%s", r.stdout)
	}
	e.ok("nodes", "verify", "--node", pending[0].pending.NodeID, "--token", tok)

	var ap approveJSON
	e.okJSON(&ap, "nodes", "approve", pending[1].pending.RequestID)
	if ap.Delivered == nil || *ap.Delivered {
		t.Errorf(`approve --json must say "delivered": false: %+v`, ap)
	}

	// The token the operator passes on works: given to node connect, which
	// keeps it once the gateway accepts it.
	tokFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokFile, []byte(ap.Node.Token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := e.start("node", "connect", "--node-dir", pending[1].dir, "--json", "--token-file", tokFile)
	var line struct {
		Event  string `json:"event"`
		NodeID string `json:"nodeId"`
		URL    string `json:"url"`
	}
	c.nextJSON(&line)
	if line.Event != "connected" || line.NodeID != ap.Node.NodeID || !strings.HasPrefix(line.URL, "ws://127.0.0.1:") {
		t.Errorf("connect --json line: %+v", line)
	}
	if st := readNodeState(t, pending[1].dir); st.Token != ap.Node.Token || st.NodeID != ap.Node.NodeID || st.GatewayURL != line.URL || st.PairedAtMs == 0 {
		t.Errorf("node.json after connect --token-file: %+v", st)
	}
	checkMode(t, filepath.Join(pending[1].dir, "node.json"), 0o600)
	c.signal(syscall.SIGINT)
	c.exits(130)
	checkErrLine(t, c.stderr.String(), "interrupted")
}

// TestRejectAndStaleIDs: rejection ends node pair with exit 1, and acting
// on a stale id says what happened to it and where the node's request is now.
func TestRejectAndStaleIDs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.serve()
	dir := t.TempDir()
	pr := e.start("node", "pair", "--name", "kiosk", "--node-dir", dir)
	if l := pr.next(); l != `Requested pairing as "kiosk".` {
		t.Errorf("pair first line %q", l)
	}
	reqLine := pr.next()
	first := strings.TrimSpace(strings.TrimPrefix(reqLine, "  request"))
	if !strings.HasPrefix(reqLine, "  request ") || len(first) != 36 {
		t.Fatalf("request line %q", reqLine)
	}
	nodeLine := pr.next()
	if m := regexp.MustCompile(`^  node +([0-9a-f]{64}) \(fingerprint ([0-9a-f]{4}:[0-9a-f]{4}:[0-9a-f]{4})\)$`).FindStringSubmatch(nodeLine); m == nil {
		t.Errorf("node line %q", nodeLine)
	}
	if l := pr.next(); !strings.HasPrefix(l, "Waiting for an operator to approve (expires in ") {
		t.Errorf("waiting line %q", l)
	}

	var rj rejectJSON
	e.okJSON(&rj, "nodes", "reject", first)
	if rj.RequestID != first || len(rj.NodeID) != 64 {
		t.Errorf("reject --json: %+v", rj)
	}
	pr.exits(1)
	checkErrLine(t, pr.stderr.String(), "rejected")
	if _, err := os.Stat(filepath.Join(dir, "node.json")); !os.IsNotExist(err) {
		t.Errorf("node.json written after rejection: %v", err)
	}

	// Already resolved, no current request.
	e.fails(1, []string{"approve " + first, "already rejected", "`pairdeck nodes pending`"}, "nodes", "approve", first)
	e.fails(1, []string{"reject " + first, "already rejected"}, "nodes", "reject", first)
	// Unknown.
	e.fails(1, []string{`no pending request matches "no-such-request"`, "pairdeck nodes pending"}, "nodes", "approve", "no-such-request")
	e.fails(1, []string{`no pending request matches "no-such-request"`}, "nodes", "reject", "no-such-request")
	e.fails(1, []string{"unknown requestId", "00000000-0000-4000-8000-000000000000"}, "nodes", "approve", "00000000-0000-4000-8000-000000000000")

	// The node asks again: the stale id now points at the new request.
	again := e.pair("kiosk", "--node-dir", dir)
	second := again.pending.RequestID
	if second == first || !*again.pending.Created {
		t.Fatalf("a new request was expected: %+v", again.pending)
	}
	e.fails(1, []string{"already rejected", "current pending request is " + second}, "nodes", "approve", first)
	e.fails(1, []string{"already rejected", "current pending request is " + second}, "nodes", "reject", first)

	e.ok("nodes", "reject", second)
	var ev pairEvent
	again.nextJSON(&ev)
	again.exits(1)
	if ev.Event != "rejected" || ev.Error == "" {
		t.Errorf("rejected line: %+v", ev)
	}
	checkErrLine(t, again.stderr.String(), "rejected")

	// Approval, in text: the token is stored, not shown.
	third := e.start("node", "pair", "--name", "kiosk", "--node-dir", dir)
	third.waitLine("Waiting for an operator")
	var pending []pendingJSON
	e.okJSON(&pending, "nodes", "pending")
	if len(pending) != 1 {
		t.Fatalf("pending: %+v", pending)
	}
	e.ok("nodes", "approve", pending[0].RequestID)
	third.exits(0)
	if l := third.next(); l != "Approved. Token stored in "+filepath.Join(dir, "node.json")+"; connect with `pairdeck node connect --node-dir "+dir+"`." {
		t.Errorf("approved line %q", l)
	}
	if tok := readNodeState(t, dir).Token; strings.Contains(third.String(), tok) {
		t.Errorf("node pair printed its token:\n%s", third)
	}
}

// TestExpiry runs a gateway with a 2 s TTL: a waiting node exits 124, the
// watch stream reports the expiry, and the expired id is named as such.
func TestExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.serve("--ttl", "2s")
	w := e.start("nodes", "pending", "--watch", "--json")
	pr := e.pair("short-lived", "--wait", "0")
	requested := watchLineOf(t, w, "node.pair.requested")
	var req pendingJSON
	decodeStrict(t, string(requested.Payload), &req)
	if req.RequestID != pr.pending.RequestID || req.ExpiresAtMs-req.TS != 2000 {
		t.Errorf("requested payload: %+v", req)
	}

	r := e.ok("nodes", "pending")
	if got := parseTable(t, r.stdout, pendingHeaders...).cell(t, req.RequestID, "Expires"); !regexp.MustCompile(`^0:0[0-2]$|^expired$`).MatchString(got) {
		t.Errorf("Expires = %q with a 2s TTL", got)
	}

	var ev pairEvent
	pr.nextJSON(&ev)
	pr.exits(124)
	if ev.Event != "expired" {
		t.Errorf("expired line: %+v", ev)
	}
	checkErrLine(t, pr.stderr.String(), "expired", "pairdeck node pair")

	resolved := watchLineOf(t, w, "node.pair.resolved")
	var res struct {
		RequestID string `json:"requestId"`
		NodeID    string `json:"nodeId"`
		Decision  string `json:"decision"`
		TS        int64  `json:"ts"`
		Actor     string `json:"actor"`
	}
	decodeStrict(t, string(resolved.Payload), &res)
	if res.RequestID != req.RequestID || res.Decision != "expired" || res.NodeID != req.NodeID {
		t.Errorf("resolved payload: %+v", res)
	}
	if r := e.ok("nodes", "pending", "--count"); r.stdout != "0\n" {
		t.Errorf("--count after expiry = %q", r.stdout)
	}
	e.fails(1, []string{"request " + req.RequestID + " expired"}, "nodes", "approve", req.RequestID)

	// Asked again: the expired id names the new request (for the two
	// seconds it lives; then it expires too, and says so).
	again := e.pair("short-lived", "--node-dir", pr.dir, "--wait", "0")
	e.fails(1, []string{"expired", "current pending request is " + again.pending.RequestID}, "nodes", "reject", req.RequestID)
	again.exits(124)
	if l := watchLineOf(t, w, "node.pair.resolved"); !strings.Contains(string(l.Payload), again.pending.RequestID) {
		t.Errorf("second expiry: %s", l.Payload)
	}
	w.signal(syscall.SIGINT)
	w.exits(130)
}

// watchLineOf reads watch lines until one of event, checking each line's
// shape on the way.
func watchLineOf(t *testing.T, w *proc, event string) watchJSON {
	t.Helper()
	for {
		var l watchJSON
		w.nextJSON(&l)
		if l.Event == "" || len(l.Payload) == 0 || l.Payload[0] != '{' {
			t.Fatalf("bad watch line %+v", l)
		}
		recent(t, "watch line ts", l.TS)
		if l.Event == event {
			return l
		}
	}
}

// TestWatch streams a session's events as NDJSON and stops on SIGINT.
func TestWatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.serve()
	old := e.pair("old", "--wait", "1s")
	old.exits(124)
	older := e.pair("older", "--wait", "1s")
	older.exits(124)

	w := e.start("nodes", "pending", "--watch", "--json")
	// The queue as it is, oldest first, marked as snapshot.
	for _, want := range []*pairing{old, older} {
		l := watchLineOf(t, w, "node.pair.requested")
		var p pendingJSON
		decodeStrict(t, string(l.Payload), &p)
		if !l.Snapshot || p.RequestID != want.pending.RequestID || p.ExpiresAtMs == 0 || p.RequiredApproveScopes == nil {
			t.Errorf("snapshot line %+v %+v", l, p)
		}
	}

	pr := e.pair("fresh")
	l := watchLineOf(t, w, "node.pair.requested")
	var p pendingJSON
	decodeStrict(t, string(l.Payload), &p)
	if l.Snapshot || p.RequestID != pr.pending.RequestID || p.DisplayName != "fresh" {
		t.Errorf("live requested line %+v %+v", l, p)
	}
	e.ok("nodes", "approve", pr.pending.RequestID)
	pr.exits(0)
	l = watchLineOf(t, w, "node.pair.resolved")
	if !strings.Contains(string(l.Payload), `"decision":"approved"`) || !strings.Contains(string(l.Payload), pr.pending.RequestID) {
		t.Errorf("resolved line: %s", l.Payload)
	}
	if strings.Contains(string(l.Payload), `"token"`) {
		t.Errorf("an operator's resolved event carries a token: %s", l.Payload)
	}
	if r := e.ok("nodes", "reject", old.pending.RequestID); r.stdout != fmt.Sprintf("Rejected request %s (node %s).\n", old.pending.RequestID, old.pending.Fingerprint) {
		t.Errorf("reject text: %q", r.stdout)
	}
	if l := watchLineOf(t, w, "node.pair.resolved"); !strings.Contains(string(l.Payload), `"decision":"rejected"`) {
		t.Errorf("resolved line: %s", l.Payload)
	}

	c := e.start("node", "connect", "--node-dir", pr.dir)
	c.waitLine("connected:")
	if l := watchLineOf(t, w, protocol.EventNodePresence); !strings.Contains(string(l.Payload), `"connected":true`) {
		t.Errorf("presence line: %s", l.Payload)
	}
	fp := pr.pending.Fingerprint
	if r := e.ok("nodes", "rename", "--node", "fresh", "--name", "renamed"); r.stdout != fmt.Sprintf("Renamed %s to \"renamed\".\n", fp) {
		t.Errorf("rename text: %q", r.stdout)
	}
	if l := watchLineOf(t, w, protocol.EventNodeRenamed); !strings.Contains(string(l.Payload), `"displayName":"renamed"`) {
		t.Errorf("renamed line: %s", l.Payload)
	}
	if r := e.ok("nodes", "remove", "--node", "renamed"); r.stdout != fmt.Sprintf("Removed node %s.\n", fp) {
		t.Errorf("remove text: %q", r.stdout)
	}
	if l := watchLineOf(t, w, protocol.EventPairRemoved); !strings.Contains(string(l.Payload), pr.pending.NodeID) {
		t.Errorf("removed line: %s", l.Payload)
	}
	c.exits(1)

	w.signal(syscall.SIGINT)
	w.exits(130)
	for _, l := range w.rest() {
		var x watchJSON
		decodeStrict(t, l, &x)
	}
	if got := w.stderr.String(); got != "pairdeck: interrupted\n" {
		t.Errorf("watch stderr on SIGINT: %q", got)
	}
}

// TestGatewayRestart: a watch and a connected node ride out a gateway
// restart on the same address, and the watch re-prints the snapshot.
func TestGatewayRestart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.serve()
	addr := strings.TrimPrefix(g.url, "ws://")
	dir, _, _ := e.pairedNode("steady")
	c := e.start("node", "connect", "--node-dir", dir)
	c.waitLine("connected:")
	waiting := e.pair("waiting", "--wait", "1s")
	waiting.exits(124)

	w := e.start("nodes", "pending", "--watch", "--json")
	if l := watchLineOf(t, w, "node.pair.requested"); !l.Snapshot {
		t.Errorf("first line is not a snapshot: %+v", l)
	}
	g.stop()
	eventually(t, "the watch notices the gateway left", func() bool {
		return strings.Contains(w.stderr.String(), "lost the gateway "+g.url)
	})
	g2 := e.serve("--listen", addr)
	if g2.url != g.url {
		t.Fatalf("restarted on %s, not %s", g2.url, g.url)
	}
	// The request survived the restart and is re-listed as a snapshot.
	l := watchLineOf(t, w, "node.pair.requested")
	if !l.Snapshot || !strings.Contains(string(l.Payload), waiting.pending.RequestID) {
		t.Errorf("after the restart: %+v", l)
	}
	eventually(t, "the watch says it reconnected", func() bool {
		return strings.Contains(w.stderr.String(), "reconnected to "+g.url)
	})
	pr := e.pair("after-restart")
	l = watchLineOf(t, w, "node.pair.requested")
	if l.Snapshot || !strings.Contains(string(l.Payload), pr.pending.RequestID) {
		t.Errorf("live line after the restart: %+v", l)
	}

	// The node reconnected: connected, then one line per distinct cause of
	// disconnection, no per-attempt noise, then connected again.
	c.waitLine("connected:")
	var status statusJSON
	eventually(t, "the node is connected again", func() bool {
		e.okJSON(&status, "nodes", "status")
		return len(status.Nodes) > 0 && nodeFor(t, status.Nodes, readNodeState(t, dir).NodeID).Connected
	})
	c.signal(syscall.SIGINT)
	c.exits(130)
	c.mu.Lock()
	out := c.stdout.String()
	c.mu.Unlock()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if !strings.HasPrefix(lines[0], "connected: ") || !strings.HasPrefix(lines[len(lines)-1], "connected: ") || len(lines) > 5 {
		t.Errorf("connect lines across a restart:\n%s", out)
	}
	for _, l := range lines[1 : len(lines)-1] {
		if !strings.HasPrefix(l, "disconnected: "+g.url+" (") {
			t.Errorf("unexpected line %q", l)
		}
	}
	w.signal(syscall.SIGINT)
	w.exits(130)
	pr.signal(syscall.SIGINT)
	pr.exits(130)
	var ev pairEvent
	pr.nextJSON(&ev)
	if ev.Event != "interrupted" {
		t.Errorf("interrupted pair line: %+v", ev)
	}
	checkErrLine(t, pr.stderr.String(), "interrupted")
	g2.stop()
}

// TestNodeConnectRefused: a wrong stored token and a node that never
// paired both end with exit 1 and a message that says to pair.
func TestNodeConnectRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.serve()
	dir, _, tok := e.pairedNode("tampered")
	path := filepath.Join(dir, "node.json")
	data, _ := os.ReadFile(path)
	bad := strings.Repeat("x", 43)
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), tok, bad, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	c := e.start("node", "connect", "--node-dir", dir)
	c.exits(1)
	checkErrLine(t, c.stderr.String(), "refused this node's token", "pairdeck node pair")
	if out := c.rest(); len(out) != 0 {
		t.Errorf("refused connect printed %q", out)
	}

	empty := t.TempDir()
	r := e.run("node", "connect", "--node-dir", empty)
	checkFailure(t, r, 1, "no node identity in "+empty, "pairdeck node pair --node-dir "+empty+" --name NAME")
}

// TestOffline: with no gateway, the commands act on the state dir under
// its lock, with the same output, and the files show it.
func TestOffline(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.serve()
	_, pairedID, pairedTok := e.pairedNode("paired-one", "--caps", "gpio")
	a := e.pair("alpha", "--wait", "1s", "--platform", "ios")
	a.exits(124)
	b := e.pair("beta", "--wait", "1s")
	b.exits(124)
	online := map[string]string{}
	for _, args := range [][]string{
		{"nodes", "pending", "--json"}, {"nodes", "list", "--json"}, {"nodes", "pending", "--count"},
	} {
		online[strings.Join(args, " ")] = e.ok(args...).stdout
	}
	onlineStatus := e.ok("nodes", "status", "--json").stdout
	g.stop()

	// Identical results without the gateway.
	for args, want := range online {
		if got := e.ok(strings.Fields(args)...).stdout; got != want {
			t.Errorf("offline %s differs:\n%s\nonline:\n%s", args, got, want)
		}
	}
	var on, off statusJSON
	decodeStrict(t, onlineStatus, &on)
	e.okJSON(&off, "nodes", "status")
	if !jsonEqual(on.Nodes, off.Nodes) {
		t.Errorf("offline status differs:\n%+v\nonline:\n%+v", off.Nodes, on.Nodes)
	}
	r := e.ok("nodes", "pending")
	parseTable(t, r.stdout, pendingHeaders...)
	if r := e.ok("nodes", "status"); !strings.HasPrefix(r.stdout, "Known: 3 · Paired: 1 · Connected: 0\n") {
		t.Errorf("offline status:\n%s", r.stdout)
	}

	// Decisions land in the files.
	var ap approveJSON
	e.okJSON(&ap, "nodes", "approve", a.pending.RequestID)
	checkToken(t, ap.Node.Token)
	if ap.Delivered == nil || *ap.Delivered {
		t.Errorf("offline approval cannot deliver: %+v", ap)
	}
	var rj rejectJSON
	e.okJSON(&rj, "nodes", "reject", b.pending.RequestID)
	var rn renameJSON
	e.okJSON(&rn, "nodes", "rename", "--node", "alpha", "--name", "Alpha Phone")
	if rn.NodeID != a.pending.NodeID || rn.DisplayName != "Alpha Phone" {
		t.Errorf("rename --json: %+v", rn)
	}
	e.ok("nodes", "verify", "--node", a.pending.NodeID, "--token", ap.Node.Token)
	var rm removeJSON
	e.okJSON(&rm, "nodes", "remove", "--node", pairedID)

	nodesDir := filepath.Join(e.stateDir, "nodes")
	var pendingFile map[string]json.RawMessage
	readJSONFile(t, filepath.Join(nodesDir, "pending.json"), &pendingFile)
	if len(pendingFile) != 0 {
		t.Errorf("pending.json still holds %d requests", len(pendingFile))
	}
	var pairedFile map[string]map[string]any
	readJSONFile(t, filepath.Join(nodesDir, "paired.json"), &pairedFile)
	rec, ok := pairedFile[a.pending.NodeID]
	sum := sha256.Sum256([]byte(ap.Node.Token))
	if len(pairedFile) != 1 || !ok || rec["tokenSha256"] != hex.EncodeToString(sum[:]) || rec["token"] != nil ||
		rec["displayName"] != "Alpha Phone" || rec["platform"] != "ios" {
		t.Errorf("paired.json: %v", pairedFile)
	}
	for _, f := range []string{"pending.json", "paired.json", "audit.jsonl"} {
		checkMode(t, filepath.Join(nodesDir, f), 0o600)
	}
	audit, _ := os.ReadFile(filepath.Join(nodesDir, "audit.jsonl"))
	for _, want := range []string{`"approved"`, `"rejected"`, `"renamed"`, `"removed"`, a.pending.RequestID, b.pending.RequestID} {
		if !strings.Contains(string(audit), want) {
			t.Errorf("audit.jsonl lacks %s", want)
		}
	}
	e.fails(1, []string{"no node matches"}, "nodes", "verify", "--node", pairedID, "--token", pairedTok)
	// Resolved ids are remembered across processes (the audit log).
	e.fails(1, []string{"request " + a.pending.RequestID + " was already approved", "`pairdeck nodes pending`", "ALREADY_RESOLVED"},
		"nodes", "approve", a.pending.RequestID)
	e.fails(1, []string{"was already rejected"}, "nodes", "reject", b.pending.RequestID)
	e.fails(1, []string{`no pending request matches "nope"`}, "nodes", "reject", "nope")
	e.fails(1, []string{"no gateway is running", "pairdeck serve"}, "nodes", "pending", "--watch")

	// A gateway.json whose process is gone is not trusted.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	stale := fmt.Sprintf(`{"url":"ws://127.0.0.1:1","pid":%d,"startedAtMs":1,"version":"x"}`, dead.Process.Pid)
	if err := os.WriteFile(filepath.Join(e.stateDir, "pairdeck", "gateway.json"), []byte(stale), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := e.ok("nodes", "pending", "--count"); r.stdout != "0\n" {
		t.Errorf("--count with a stale gateway.json: %q", r.stdout)
	}

	// Scripts may run several at once: each waits its turn for the lock.
	var wg sync.WaitGroup
	results := make([]result, 6)
	for i := range results {
		wg.Go(func() {
			if i%2 == 0 {
				results[i] = e.run("nodes", "list", "--json")
			} else {
				results[i] = e.run("nodes", "rename", "--node", "alpha phone", "--name", "Alpha Phone")
			}
		})
	}
	wg.Wait()
	for _, r := range results {
		if r.code != 0 {
			t.Errorf("concurrent offline command failed:\n%s", r)
		}
	}

	// A gateway started later serves what was written offline.
	e.serve()
	var list listJSON
	e.okJSON(&list, "nodes", "list")
	if len(list.Pending) != 0 || len(list.Paired) != 1 || list.Paired[0].DisplayName != "Alpha Phone" {
		t.Errorf("gateway after offline changes: %+v", list)
	}
	e.ok("nodes", "verify", "--node", a.pending.NodeID, "--token", ap.Node.Token)
}

func readJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestLockHeldWithoutRuntimeFile: a gateway whose gateway.json went
// missing still holds the state dir; an offline change says who does (a
// read needs no lock: it answers from the files).
func TestLockHeldWithoutRuntimeFile(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.serve()
	if err := os.Remove(filepath.Join(e.stateDir, "pairdeck", "gateway.json")); err != nil {
		t.Fatal(err)
	}
	e.fails(1, []string{"in use by pid " + fmt.Sprint(g.cmd.Process.Pid)}, "pairing", "off")
	e.ok("nodes", "list")
	// Pointing at it explicitly works.
	var list listJSON
	e.okJSON(&list, "nodes", "list", "--url", g.url)
}

// TestRemoteGateway: --url/--token and their environment variables, from
// a machine (state dir) of its own.
func TestRemoteGateway(t *testing.T) {
	t.Parallel()
	server := newEnv(t)
	g := server.serve()
	e := newEnv(t) // no gateway, no token here

	pr := e.pair("remote-node", "--url", g.url)
	var pending []pendingJSON
	e.okJSON(&pending, "nodes", "pending", "--url", g.url, "--token", g.token)
	if len(pending) != 1 || pending[0].RequestID != pr.pending.RequestID {
		t.Errorf("remote pending: %+v", pending)
	}
	withEnv := []string{"OPENCLAW_GATEWAY_URL=" + g.url, "OPENCLAW_GATEWAY_TOKEN=" + g.token}
	if r := e.runEnv(withEnv, "nodes", "pending", "--count"); r.code != 0 || r.stdout != "1\n" {
		t.Errorf("pending via the environment:\n%s", r)
	}
	var ap approveJSON
	r := e.runEnv(withEnv, "nodes", "approve", pr.pending.RequestID, "--json")
	decodeStrict(t, r.stdout, &ap)
	if ap.Delivered == nil || !*ap.Delivered {
		t.Errorf("remote approval: %+v", ap)
	}
	pr.exits(0)
	if st := readNodeState(t, pr.dir); st.GatewayURL != g.url {
		t.Errorf("node.json gatewayUrl = %q, want %s", st.GatewayURL, g.url)
	}
	// verify's --token is the node's: the operator token comes from the
	// environment.
	if r := e.runEnv(withEnv, "nodes", "verify", "--node", ap.Node.NodeID, "--token", ap.Node.Token); r.code != 0 {
		t.Errorf("remote verify:\n%s", r)
	}
	if r := e.runEnv([]string{"OPENCLAW_GATEWAY_TOKEN=" + g.token}, "nodes", "verify", "--url", g.url, "--node", ap.Node.NodeID, "--token", ap.Node.Token); r.code != 0 {
		t.Errorf("remote verify with --url:\n%s", r)
	}

	e.fails(1, []string{"refused the operator token", "--token", "OPENCLAW_GATEWAY_TOKEN"}, "nodes", "list", "--url", g.url, "--token", "wrong")
	checkFailure(t, e.runEnv([]string{"OPENCLAW_GATEWAY_URL=" + g.url, "OPENCLAW_GATEWAY_TOKEN=wrong"}, "nodes", "list", "--json"),
		1, "refused the operator token")
	e.fails(1, []string{"no operator token", "--token", "OPENCLAW_GATEWAY_TOKEN"}, "nodes", "list", "--url", g.url)

	// Nothing listening.
	closed := g.url
	g.stop()
	e.fails(1, []string{"no gateway at " + closed, "pairdeck serve"}, "nodes", "status", "--url", closed, "--token", g.token)
	r = e.run("node", "pair", "--name", "late", "--url", closed, "--node-dir", t.TempDir())
	checkFailure(t, r, 1, "no gateway at "+closed)
}

// TestNodeResolution: --node tiers exact id > exact IP > normalised name >
// id prefix (≥6), and ambiguity lists the candidates; offline and through
// a gateway alike. The state files are written by hand, as another
// gateway of the protocol would write them.
func TestNodeResolution(t *testing.T) {
	t.Parallel()
	id := func(prefix string) string { return prefix + strings.Repeat("0", 64-len(prefix)) }
	ipad, kitchen, kitchen2 := id("a1b2c3d4"), id("a1b2c3e5"), id("f00d")
	ipNamed, prefixNamed, idNamed := id("beef01"), id("beef02"), id("beef03")
	shared1, shared2 := id("cafe01"), id("cafe02")
	names := map[string]string{
		ipad: "Living Room iPad", kitchen: "Kitchen Display", kitchen2: "kitchen-display",
		ipNamed: "192.168.1.20", prefixNamed: "a1b2c3d4", idNamed: kitchen,
		shared1: "shared one", shared2: "shared two",
	}
	ips := map[string]string{
		ipad: "192.168.1.20", kitchen: "192.168.1.21", kitchen2: "192.168.1.22",
		ipNamed: "192.168.1.30", prefixNamed: "192.168.1.31", idNamed: "192.168.1.32",
		shared1: "10.0.0.5", shared2: "10.0.0.5",
	}
	paired := []string{ipad, kitchen2, ipNamed, shared1}

	for _, mode := range []string{"offline", "gateway"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			writeState(t, e.stateDir, names, ips, paired)
			if mode == "gateway" {
				e.serve()
			}
			var st statusJSON
			e.okJSON(&st, "nodes", "status")
			if len(st.Nodes) != len(names) {
				t.Fatalf("status lists %d nodes, want %d", len(st.Nodes), len(names))
			}
			for _, tc := range []struct {
				query, want string
			}{
				{ipad, ipad},
				{"192.168.1.20", ipad},          // IP beats a node named so
				{"  living-room   IPAD ", ipad}, // name, normalised
				{"a1b2c3d4", prefixNamed},       // name beats id prefix
				{kitchen, kitchen},              // id beats a node named so
				{"F00D00", kitchen2},            // id prefix, any case
				{"192.168.1.31", prefixNamed},   // a pending-only node
				{"beef03", idNamed},
			} {
				var rn renameJSON
				e.okJSON(&rn, "nodes", "rename", "--node", tc.query, "--name", names[tc.want])
				if rn.NodeID != tc.want {
					t.Errorf("--node %q resolved to %s, want %s", tc.query, rn.NodeID, tc.want)
				}
			}
			for _, tc := range []struct {
				query string
				want  []string
			}{
				{"Kitchen Display", []string{`"Kitchen Display" matches 2 nodes by name`, kitchen, kitchen2, "use an exact id"}},
				{"10.0.0.5", []string{"matches 2 nodes by IP", shared1, shared2, "shared one", "shared two"}},
				{"a1b2c3", []string{"matches 2 nodes by id prefix", ipad, kitchen}},
				{"beef0", []string{"no node matches", "at least 6 characters"}},
				{"nobody", []string{`no node matches "nobody"`, "pairdeck nodes status"}},
			} {
				r := e.run("nodes", "remove", "--node", tc.query)
				checkFailure(t, r, 1, tc.want...)
			}
			// Nothing was removed or renamed by the failures above.
			var after statusJSON
			e.okJSON(&after, "nodes", "status")
			for _, n := range after.Nodes {
				if n.DisplayName != names[n.NodeID] {
					t.Errorf("node %s is now named %q, want %q", n.NodeID, n.DisplayName, names[n.NodeID])
				}
			}
			if len(after.Nodes) != len(names) {
				t.Errorf("%d nodes left, want %d", len(after.Nodes), len(names))
			}
			var rm removeJSON
			e.okJSON(&rm, "nodes", "remove", "--node", "shared one")
			if rm.NodeID != shared1 {
				t.Errorf("removed %s, want %s", rm.NodeID, shared1)
			}
			var rn renameJSON
			e.okJSON(&rn, "nodes", "rename", "--node", "10.0.0.5", "--name", "now unique")
			if rn.NodeID != shared2 {
				t.Errorf("renamed %s, want %s", rn.NodeID, shared2)
			}
		})
	}
}

// writeState writes nodes/pending.json and nodes/paired.json: the nodes in
// paired are paired (with a legacy plaintext token), the rest pending.
func writeState(t *testing.T, stateDir string, names, ips map[string]string, paired []string) {
	t.Helper()
	now := time.Now().UnixMilli()
	pending := map[string]any{}
	pairedRecs := map[string]any{}
	i := 0
	for nodeID, name := range names {
		i++
		if slices.Contains(paired, nodeID) {
			pairedRecs[nodeID] = map[string]any{
				"nodeId": nodeID, "token": fmt.Sprintf("legacy-token-%d", i), "displayName": name,
				"platform": "linux", "remoteIp": ips[nodeID], "createdAtMs": now - 60000, "approvedAtMs": now - 60000,
			}
			continue
		}
		reqID := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		pending[reqID] = map[string]any{
			"requestId": reqID, "nodeId": nodeID, "displayName": name, "platform": "ios",
			"remoteIp": ips[nodeID], "silent": false, "ts": now - int64(i)*1000,
		}
	}
	dir := filepath.Join(stateDir, "nodes")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for file, v := range map[string]any{"pending.json": pending, "paired.json": pairedRecs} {
		data, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, file), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
