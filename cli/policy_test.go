package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The JSON of the policy commands (docs/cli-json.md).
type policyFileJSON struct {
	File        string `json:"file"`
	Version     int    `json:"version"`
	AutoApprove struct {
		Enabled bool `json:"enabled"`
		Rules   []struct {
			Name      string   `json:"name"`
			Loopback  bool     `json:"loopback"`
			CIDRs     []string `json:"cidrs"`
			NodeIDs   []string `json:"nodeIds"`
			Platforms []string `json:"platforms"`
			AllowExec bool     `json:"allowExec"`
		} `json:"rules"`
	} `json:"autoApprove"`
}

type pairingSwitchJSON struct {
	Enabled     bool   `json:"enabled"`
	ChangedAtMs int64  `json:"changedAtMs"`
	ChangedBy   string `json:"changedBy"`
}

type blockedNodeJSON struct {
	NodeID        string `json:"nodeId"`
	DisplayName   string `json:"displayName"`
	BlockedAtMs   int64  `json:"blockedAtMs"`
	BlockedBy     string `json:"blockedBy"`
	Attempts      int64  `json:"attempts"`
	LastAttemptMs int64  `json:"lastAttemptMs"`
	LastRemoteIP  string `json:"lastRemoteIp"`
}

type blockResultJSON struct {
	Node              blockedNodeJSON `json:"node"`
	Created           bool            `json:"created"`
	RejectedRequestID string          `json:"rejectedRequestId"`
}

type unblockResultJSON struct {
	Node blockedNodeJSON `json:"node"`
}

type blockListJSON struct {
	Blocked []blockedNodeJSON `json:"blocked"`
}

func TestPolicyCommands(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	path := filepath.Join(e.stateDir, "pairdeck", "policy.json")

	var pol policyFileJSON
	e.okJSON(&pol, "policy", "show")
	if pol.File != path || pol.Version != 1 || pol.AutoApprove.Enabled || len(pol.AutoApprove.Rules) != 0 {
		t.Fatalf("default policy: %+v", pol)
	}
	if r := e.ok("policy", "show"); !strings.Contains(r.stdout, "Auto-approval is off (0 rules)") {
		t.Errorf("show: %s", r.stdout)
	}
	const id = "c8cf3b318f965532d8f389c41756d48469d877e551bf24bcb67e55e182442e88"
	e.okJSON(&pol, "policy", "rule", "add", "lab", "--cidr", "10.9.0.1/8,192.168.7.5", "--platform", "iOS,ipados")
	r := pol.AutoApprove.Rules[0]
	if r.Name != "lab" || strings.Join(r.CIDRs, " ") != "10.0.0.0/8 192.168.7.5/32" || strings.Join(r.Platforms, " ") != "ios ipados" || r.AllowExec {
		t.Fatalf("rule: %+v", r)
	}
	out := e.ok("policy", "rule", "add", "kiosk", "--node", strings.ToUpper(id), "--loopback", "--allow-exec")
	if !strings.Contains(out.stdout, "Added rule kiosk: approves silent requests with loopback and node c8cf:3b31:8f96 (including requests that declare exec-class commands).") ||
		!strings.Contains(out.stdout, "`pairdeck policy enable`") {
		t.Errorf("add text: %s", out.stdout)
	}
	e.okJSON(&pol, "policy", "enable")
	if !pol.AutoApprove.Enabled || len(pol.AutoApprove.Rules) != 2 || pol.AutoApprove.Rules[1].NodeIDs[0] != id {
		t.Fatalf("enabled: %+v", pol)
	}
	// Same name: replaced in place.
	pol = policyFileJSON{}
	e.okJSON(&pol, "policy", "rule", "add", "lab", "--loopback")
	if len(pol.AutoApprove.Rules) != 2 || pol.AutoApprove.Rules[0].Name != "lab" || !pol.AutoApprove.Rules[0].Loopback || pol.AutoApprove.Rules[0].CIDRs != nil {
		t.Fatalf("replaced: %+v", pol.AutoApprove.Rules)
	}
	show := e.ok("policy", "show")
	tb := parseTable(t, show.stdout, "Rule", "Approves silent requests with", "Exec-class commands")
	if tb.cell(t, "kiosk", "Exec-class commands") != "approved" || tb.cell(t, "lab", "Exec-class commands") != "waits for a person" {
		t.Errorf("show table:\n%s", show.stdout)
	}
	checkMode(t, path, 0o600)

	// Too broad, malformed or unknown: refused, the file untouched.
	before, _ := os.ReadFile(path)
	e.fails(2, []string{`rule "open" has no condition`, "--loopback, --cidr, --node or --platform"}, "policy", "rule", "add", "open")
	e.fails(2, []string{`rule "open" has no condition`}, "policy", "rule", "add", "open", "--allow-exec")
	e.fails(2, []string{`cidr "10.0/8"`}, "policy", "rule", "add", "x", "--cidr", "10.0/8")
	e.fails(2, []string{"reserved"}, "policy", "rule", "add", "ssh-check", "--loopback")
	e.fails(2, []string{"needs a rule NAME"}, "policy", "rule", "add", "--loopback")
	e.fails(1, []string{`no rule named "nope"`}, "policy", "rule", "remove", "nope")
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Fatalf("a refused edit changed the file:\n%s", after)
	}

	e.okJSON(&pol, "policy", "rule", "remove", "kiosk")
	e.okJSON(&pol, "policy", "disable")
	if pol.AutoApprove.Enabled || len(pol.AutoApprove.Rules) != 1 {
		t.Fatalf("after remove and disable: %+v", pol)
	}
}

func TestCorruptPolicyFileIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	path := filepath.Join(e.stateDir, "pairdeck", "policy.json")
	os.MkdirAll(filepath.Dir(path), 0o700)
	broken := "{\"version\": 1,\n \"autoApprove\": {\"enabled\": true, \"rules\": [{\"name\": \"lab\", \"cidr\": [\"10.0.0.0/8\"]}]}}\n"
	os.WriteFile(path, []byte(broken), 0o600)
	want := []string{path, "line 2", "byte", `unknown member "cidr"`, "mv " + path}
	e.fails(1, want, "policy", "show")
	e.fails(1, want, "policy", "enable")
	// The gateway will not start on it either, and says the same.
	g := e.start("serve", "--listen", "127.0.0.1:0")
	g.exits(1)
	checkErrLine(t, g.stderr.String(), want...)
	if data, _ := os.ReadFile(path); string(data) != broken {
		t.Fatalf("the file was changed:\n%s", data)
	}
}

func TestPairingCommand(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fails(2, []string{"--pairing \"maybe\": want on or off"}, "serve", "--pairing", "maybe")
	e.fails(2, []string{"pairing takes on, off or status"}, "pairing", "sideways")

	g := e.serve()
	var st pairingSwitchJSON
	e.okJSON(&st, "pairing", "status")
	if !st.Enabled || st.ChangedAtMs != 0 {
		t.Fatalf("a new gateway pairs: %+v", st)
	}
	pairedDir, _, _ := e.pairedNode("before")
	e.okJSON(&st, "pairing", "off")
	if st.Enabled || st.ChangedBy != cliActor(t) || st.ChangedAtMs == 0 {
		t.Fatalf("off: %+v", st)
	}
	if r := e.ok("pairing", "off"); !strings.Contains(r.stdout, "Pairing was already off.") {
		t.Errorf("off twice: %q", r.stdout)
	}
	if r := e.ok("pairing"); !strings.HasPrefix(r.stdout, "Pairing is off (switched ") || !strings.Contains(r.stdout, "by "+cliActor(t)) {
		t.Errorf("status: %q", r.stdout)
	}
	// A node cannot ask; the paired one still connects.
	r := e.run("node", "pair", "--json", "--name", "late", "--node-dir", t.TempDir())
	if r.code != 1 || !strings.Contains(r.stdout, "PAIRING_DISABLED") {
		t.Fatalf("node pair while off:\n%s", r)
	}
	var pending []json.RawMessage
	e.okJSON(&pending, "nodes", "pending")
	if len(pending) != 0 {
		t.Fatalf("queued while off: %s", pending)
	}
	c := e.start("node", "connect", "--node-dir", pairedDir)
	c.waitLine("connected:")
	c.signal(os.Interrupt)
	c.wait()
	g.stop()

	// Remembered across a restart; --pairing sets it at start.
	e.okJSON(&st, "pairing", "status") // offline, from the state dir
	if st.Enabled {
		t.Fatal("a restart forgot the switch")
	}
	g = e.serve()
	e.okJSON(&st, "pairing", "status")
	if st.Enabled {
		t.Fatal("the gateway forgot the switch")
	}
	g.stop()
	g = e.serve("--pairing", "on")
	e.okJSON(&st, "pairing", "status")
	if !st.Enabled || st.ChangedBy != "gateway (start)" {
		t.Fatalf("--pairing on: %+v", st)
	}
	e.pair("after").signal(os.Interrupt)
	g.stop()
}

func TestBlockCommands(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.serve()
	e.fails(2, []string{"block needs --node"}, "nodes", "block")
	e.fails(2, []string{"unblock needs --node"}, "nodes", "unblock")

	dir := t.TempDir()
	pr := e.pair("door spammer", "--node-dir", dir)
	var res blockResultJSON
	e.okJSON(&res, "nodes", "block", "--node", "door spammer")
	if !res.Created || res.Node.NodeID != pr.pending.NodeID || res.Node.DisplayName != "door spammer" || res.RejectedRequestID != pr.pending.RequestID {
		t.Fatalf("block: %+v", res)
	}
	pr.exits(1) // rejected with the block

	// Asking again: refused at once, counted, never queued.
	r := e.run("node", "pair", "--json", "--name", "door spammer", "--node-dir", dir)
	if r.code != 1 || !strings.Contains(r.stdout, "BLOCKED") || !strings.Contains(r.stdout, "unblock") {
		t.Fatalf("a blocked node asked:\n%s", r)
	}
	var pending []json.RawMessage
	e.okJSON(&pending, "nodes", "pending")
	if len(pending) != 0 {
		t.Fatalf("queued: %s", pending)
	}
	var list blockListJSON
	e.okJSON(&list, "nodes", "blocked")
	if len(list.Blocked) != 1 || list.Blocked[0].Attempts != 1 || list.Blocked[0].LastAttemptMs == 0 || list.Blocked[0].LastRemoteIP != "127.0.0.1" {
		t.Fatalf("block list: %+v", list)
	}
	out := e.ok("nodes", "blocked")
	tb := parseTable(t, out.stdout, "Name", "Node", "Tries", "Last try", "Blocked", "By", "Last IP")
	if tb.cell(t, "door spammer", "Tries") != "1" || tb.cell(t, "door spammer", "By") != cliActor(t) {
		t.Errorf("blocked table:\n%s", out.stdout)
	}
	if r := e.ok("nodes", "block", "--node", pr.pending.NodeID); !strings.Contains(r.stdout, "was already blocked") {
		t.Errorf("block twice: %q", r.stdout)
	}
	// A node never seen can be blocked by its full id.
	const stranger = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
	if r := e.ok("nodes", "block", "--node", stranger, "--name", "stranger"); r.stdout != "Blocked stranger (0a1b:2c3d:4e5f). Its requests are refused from now on.\n" {
		t.Errorf("block a stranger: %q", r.stdout)
	}
	e.fails(1, []string{`no node matches "nobody"`}, "nodes", "block", "--node", "nobody")

	var un unblockResultJSON
	e.okJSON(&un, "nodes", "unblock", "--node", "door spammer")
	if un.Node.NodeID != pr.pending.NodeID || un.Node.Attempts != 1 {
		t.Fatalf("unblock: %+v", un)
	}
	e.fails(1, []string{`no node matches "door spammer"`, "among the blocked nodes"}, "nodes", "unblock", "--node", "door spammer")
	if r := e.ok("nodes", "unblock", "--node", "stranger"); r.stdout != "Unblocked stranger (0a1b:2c3d:4e5f) (refused 0 times while blocked). It may ask to pair again.\n" {
		t.Errorf("unblock text: %q", r.stdout)
	}
	e.okJSON(&list, "nodes", "blocked")
	if list.Blocked == nil || len(list.Blocked) != 0 {
		t.Fatalf("empty list must be []: %+v", list)
	}
	// Unblocked: it may ask again.
	again := e.pair("door spammer", "--node-dir", dir)
	if again.pending.NodeID != pr.pending.NodeID {
		t.Fatalf("pending again: %+v", again.pending)
	}

	audit, _ := os.ReadFile(filepath.Join(e.stateDir, "nodes", "audit.jsonl"))
	for _, want := range []string{`"action":"blocked"`, `"action":"unblocked"`, `"action":"rejected"`} {
		if !strings.Contains(string(audit), want) {
			t.Errorf("audit log lacks %s", want)
		}
	}
}

func TestAutoApprovalShowsItsRule(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.ok("policy", "rule", "add", "this-host", "--loopback")
	e.ok("policy", "enable")
	e.serve()
	w := e.start("nodes", "pending", "--watch", "--json")

	loud := e.pair("loud")
	watchLineOf(t, w, "node.pair.requested")
	quiet := e.run("node", "pair", "--json", "--silent", "--name", "quiet", "--node-dir", t.TempDir())
	if quiet.code != 0 || !strings.Contains(quiet.stdout, `"event":"approved"`) {
		t.Fatalf("silent request from loopback:\n%s", quiet)
	}
	watchLineOf(t, w, "node.pair.requested")
	l := watchLineOf(t, w, "node.pair.resolved")
	if !strings.Contains(string(l.Payload), `"actor":"auto (rule this-host)"`) || !strings.Contains(string(l.Payload), `"decision":"approved"`) {
		t.Fatalf("resolved line: %s", l.Payload)
	}
	// The loud one still waits.
	var pending []struct {
		RequestID string `json:"requestId"`
	}
	r := e.ok("nodes", "pending", "--json")
	json.Unmarshal([]byte(r.stdout), &pending)
	if len(pending) != 1 || pending[0].RequestID != loud.pending.RequestID {
		t.Fatalf("pending: %s", r.stdout)
	}
	audit, _ := os.ReadFile(filepath.Join(e.stateDir, "nodes", "audit.jsonl"))
	if !strings.Contains(string(audit), `"actor":{"rule":"this-host"}`) {
		t.Fatalf("audit log:\n%s", audit)
	}
}

func TestOnRequestHook(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	out := filepath.Join(t.TempDir(), "requests")
	e.serve("--on-request", "cat >> "+out)
	pr := e.pair("noisy")
	eventually(t, "the hook ran", func() bool {
		data, _ := os.ReadFile(out)
		return strings.Count(string(data), "\n") >= 1
	})
	data, _ := os.ReadFile(out)
	var req struct {
		RequestID   string `json:"requestId"`
		NodeID      string `json:"nodeId"`
		DisplayName string `json:"displayName"`
	}
	if err := json.Unmarshal(data, &req); err != nil || req.RequestID != pr.pending.RequestID || req.DisplayName != "noisy" {
		t.Fatalf("hook stdin %q: %+v %v", data, req, err)
	}
}
