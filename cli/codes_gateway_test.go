package cli_test

import (
	"encoding/json"
	"strings"
	"syscall"
	"testing"

	"github.com/pairdeck/pairdeck/protocol"
)

// startStdin is start with stdin read from a pipe holding stdin.
func (e *env) startStdin(stdin string, args ...string) *proc {
	e.t.Helper()
	return e.startFull(strings.NewReader(stdin), nil, args...)
}

// pairLines decodes `node pair --json`'s output, one event a line.
func pairLines(t *testing.T, r result) []pairEvent {
	t.Helper()
	var out []pairEvent
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var ev pairEvent
		decodeStrict(t, l, &ev)
		out = append(out, ev)
	}
	return out
}

// TestCodesLifecycleThroughTheGateway: a code made with `codes create`
// pairs a node through a real gateway with no one at the console; its
// second use is refused and waits in the queue; a revoked code approves
// nothing; the code is the approval's actor and the operators' reasons
// reach the history; the code is never shown again.
func TestCodesLifecycleThroughTheGateway(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.serve()

	var made codeCreated
	r := e.okJSON(&made, "codes", "create", "--note", "lifecycle")
	if strings.ContainsAny(r.stdout, "▀▄█\x1b") {
		t.Errorf("--json drew a QR code:\n%s", r.stdout)
	}
	link, err := protocol.ParseSetupLink(made.SetupLink)
	wantURL, _ := protocol.NormalizeSetupURL(g.url)
	if err != nil || link.URL != wantURL || link.BootstrapToken != made.Secret || link.ExpiresAtMs != made.Code.ExpiresAtMs {
		t.Fatalf("setup link %q = %+v, %v: want the gateway's URL %s and the code", made.SetupLink, link, err, wantURL)
	}

	// The node reads the link from stdin: it names the gateway, and the
	// code approves the request at once.
	dir := t.TempDir()
	r = e.runStdin(made.SetupLink+"\n", "node", "pair", "--json", "--node-dir", dir, "--name", "rack-1", "--code", "-")
	lines := pairLines(t, r)
	if last := lines[len(lines)-1]; r.code != 0 || last.Event != "approved" || !last.ByCode {
		t.Fatalf("pairing with the code:\n%s", r)
	}
	st := readNodeState(t, dir)
	if st.Token == "" || st.GatewayURL != g.url {
		t.Errorf("node.json %+v", st)
	}
	if v := e.runStdin(st.Token+"\n", "nodes", "verify", "--node", "rack-1"); v.code != 0 {
		t.Errorf("the token the code earned does not verify:\n%s", v)
	}

	// Its second use (one was allowed) is refused, and the request waits.
	second := e.startStdin(made.Secret+"\n", "node", "pair", "--json", "--node-dir", t.TempDir(), "--name", "rack-2", "--code", "-", "--url", g.url)
	var pend pairEvent
	second.nextJSON(&pend)
	if pend.Event != "pending" || pend.Code == nil || pend.Code.Reason != protocol.ReasonCodeUsedUp || pend.Code.Message == "" || pend.RequestID == "" {
		t.Fatalf("second use: %+v\n%s", pend, second)
	}
	var queue []struct {
		RequestID string `json:"requestId"`
	}
	if err := json.Unmarshal([]byte(e.ok("nodes", "pending", "--json").stdout), &queue); err != nil || len(queue) != 1 || queue[0].RequestID != pend.RequestID {
		t.Errorf("the refused request is not the one in the queue: %v %+v", err, queue)
	}
	e.ok("nodes", "approve", pend.RequestID, "--reason", "second box of rack 1")
	second.exits(0)

	// A revoked code approves nothing either; the operator rejects, saying why.
	var other codeCreated
	e.okJSON(&other, "codes", "create", "--uses", "5")
	rv := e.ok("codes", "revoke", other.Code.ID, "--reason", "posted in the wrong channel")
	if !strings.Contains(rv.stdout, "Revoked setup code "+other.Code.ID) {
		t.Errorf("revoke:\n%s", rv)
	}
	third := e.startStdin(other.Secret+"\n", "node", "pair", "--json", "--node-dir", t.TempDir(), "--name", "rack-3", "--code", "-", "--url", g.url)
	third.nextJSON(&pend)
	if pend.Code == nil || pend.Code.Reason != protocol.ReasonCodeRevoked {
		t.Fatalf("revoked code: %+v", pend)
	}
	e.ok("nodes", "reject", pend.RequestID, "--reason", "not one of ours")
	third.exits(1)

	// The text of `node pair` says why and that it waits.
	fourth := e.startStdin(other.Secret+"\n", "node", "pair", "--node-dir", t.TempDir(), "--name", "rack-4", "--code", "-", "--url", g.url)
	fourth.waitLine("The setup code approved nothing:")
	fourth.waitLine("The request waits for an operator")

	// Lists: states and uses, never a code.
	list := e.ok("codes", "list", "--all")
	tb := parseTable(t, list.stdout, "ID", "PREFIX", "STATE", "USES", "EXPIRES", "SCOPE", "NOTE", "CREATED BY")
	if s, u := tb.cell(t, made.Code.ID, "STATE"), tb.cell(t, made.Code.ID, "USES"); s != "used-up" || u != "1/1" {
		t.Errorf("used code: %s %s", s, u)
	}
	if s := tb.cell(t, other.Code.ID, "STATE"); s != "revoked" {
		t.Errorf("revoked code: %s", s)
	}
	lj := e.ok("codes", "list", "--all", "--json")
	checkNoSecret(t, "codes list", list.stdout+lj.stdout, made.Secret, other.Secret)

	// History: the code as the actor of its approval, the reasons.
	var h historyOut
	e.okJSON(&h, "nodes", "history")
	var byCode, withReason, rejected bool
	for _, ev := range h.Events {
		switch {
		case ev.Action == "approved" && ev.Actor.Kind == protocol.ActorCode:
			byCode = ev.Actor.Code == made.Code.ID && ev.By == "code "+made.Code.ID && ev.DisplayName == "rack-1"
		case ev.Action == "approved" && ev.Reason == "second box of rack 1":
			withReason = strings.HasPrefix(ev.By, "cli ")
		case ev.Action == "rejected" && ev.Reason == "not one of ours":
			rejected = true
		}
	}
	if !byCode || !withReason || !rejected {
		t.Errorf("history: code actor %v, approval reason %v, rejection reason %v\n%+v", byCode, withReason, rejected, h.Events)
	}
	text := e.ok("nodes", "history").stdout
	for _, want := range []string{"code " + made.Code.ID, "reason: not one of ours", "reason: second box of rack 1"} {
		if !strings.Contains(text, want) {
			t.Errorf("nodes history does not show %q:\n%s", want, text)
		}
	}
	checkNoSecret(t, "nodes history", text, made.Secret, other.Secret)

	// Completion offers the codes that can still be revoked.
	var live codeCreated
	e.okJSON(&live, "codes", "create", "--note", "for completion")
	comp := e.run("__complete", "codes", "revoke", "")
	if !strings.Contains(comp.stdout, live.Code.ID+"\t"+live.Code.Prefix+"…") || strings.Contains(comp.stdout, other.Code.ID) {
		t.Errorf("completion of codes revoke:\n%s", comp)
	}
}

// TestCodeOnTheCommandLineStillPairs: a code given in argv works, after the
// warning; a code the gateway does not know waits in the queue, said so.
func TestCodeOnTheCommandLineStillPairs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.serve()
	var made codeCreated
	e.okJSON(&made, "codes", "create")
	r := e.run("node", "pair", "--json", "--node-dir", t.TempDir(), "--name", "argv", "--url", g.url, "--code", made.Secret)
	if lines := pairLines(t, r); r.code != 0 || !lines[len(lines)-1].ByCode || !strings.Contains(r.stderr, "visible to other users") {
		t.Errorf("literal code:\n%s", r)
	}
	unknown := e.start("node", "pair", "--json", "--node-dir", t.TempDir(), "--name", "guess", "--url", g.url, "--code", "AAAA-BBBB-CCCC-DDDD-EEEE")
	var pend pairEvent
	unknown.nextJSON(&pend)
	if pend.Code == nil || pend.Code.Reason != protocol.ReasonCodeInvalid {
		t.Errorf("unknown code: %+v", pend)
	}
}

// TestReasonsReachTheHistory: a block's reason through the gateway, and a
// rejection's reason with no gateway running (the state dir, offline), are
// kept in the history, in its table and its JSON.
func TestReasonsReachTheHistory(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.serve()
	spam := e.pair("door spammer")
	e.ok("nodes", "block", "--node", "door spammer", "--reason", "asked 400 times overnight")
	spam.exits(1)
	waiting := e.pair("late box")
	waiting.signal(syscall.SIGINT) // the node gives up; its request stays
	waiting.wait()
	g.stop()
	e.ok("nodes", "reject", waiting.pending.RequestID, "--reason", "decided offline")

	var h historyOut
	e.okJSON(&h, "nodes", "history")
	var blocked, rejected bool
	for _, ev := range h.Events {
		blocked = blocked || ev.Action == "blocked" && ev.Reason == "asked 400 times overnight"
		rejected = rejected || ev.Action == "rejected" && ev.Reason == "decided offline" && strings.HasPrefix(ev.By, "cli ")
	}
	if !blocked || !rejected {
		t.Errorf("history: block reason %v, offline rejection reason %v\n%+v", blocked, rejected, h.Events)
	}
	text := e.ok("nodes", "history").stdout
	for _, want := range []string{"reason: asked 400 times overnight", "reason: decided offline"} {
		if !strings.Contains(text, want) {
			t.Errorf("nodes history does not show %q:\n%s", want, text)
		}
	}
}

// TestServePublicURL: serve --public-url is the address setup links name
// (checked as a node host would read it); without it, the address serve
// listens on.
func TestServePublicURL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	checkFailure(t, e.run("serve", "--listen", "127.0.0.1:0", "--public-url", "ws://8.8.8.8:18789"), 2, "--public-url ws://8.8.8.8:18789", "wss://")
	g := e.serve("--public-url", "ws://192.168.1.20:18789/")
	var made codeCreated
	e.okJSON(&made, "codes", "create")
	if p, err := protocol.ParseSetupLink(made.SetupLink); err != nil || p.URL != "ws://192.168.1.20:18789" || p.BootstrapToken != made.Secret {
		t.Errorf("setup link %q = %+v, %v: want the public URL", made.SetupLink, p, err)
	}
	// --link-url still wins for one code.
	e.okJSON(&made, "codes", "create", "--link-url", "ws://10.0.0.9:1")
	if p, _ := protocol.ParseSetupLink(made.SetupLink); p.URL != "ws://10.0.0.9:1" {
		t.Errorf("--link-url: %q", made.SetupLink)
	}
	g.stop()
}

// TestCodeTypedAtAPrompt: on a terminal `node pair --code -` asks for the
// code without echoing it, and pairs with it.
func TestCodeTypedAtAPrompt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.serve()
	var made codeCreated
	e.okJSON(&made, "codes", "create")
	r := e.runTTYTyping(100, nil, []typing{{waitFor: "Setup code or link: ", line: made.SetupLink}},
		"node", "pair", "--node-dir", t.TempDir(), "--name", "typed", "--code", "-")
	if r.code != 0 || !strings.Contains(r.out, "Approved by the setup code.") {
		t.Fatalf("pairing with a typed link:\n%s", r)
	}
	if strings.Contains(r.out, made.SetupLink) || strings.Contains(r.out, made.Secret) || strings.Contains(r.out, "visible to other users") {
		t.Errorf("the terminal echoed the code, or warned about argv:\n%s", r)
	}
}
