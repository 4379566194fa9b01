package gateway

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/pairdeck/pairdeck/protocol"
)

// hostileTexts are strings a terminal acts on or that make look-alikes: OSC
// 2 (retitles the pane), a C1 CSI that erases a line, a bidi override, a
// line separator.
var hostileTexts = []string{"Mac\x1b]2;owned\x07", "Mac\u009b2K", "Mac\u202eretsam", "Mac\u2028Approval needs: nothing"}

// refusedField checks an INVALID_PARAMS answer that names field.
func refusedField(t *testing.T, what string, res *protocol.Response, field string) {
	t.Helper()
	e := checkErr(t, what, res, protocol.CodeInvalidRequest, protocol.ReasonInvalidParams)
	if e.Details.Field != field || !strings.Contains(e.Message, field+":") {
		t.Fatalf("%s: refusal names %q (%q), want %q", what, e.Details.Field, e.Message, field)
	}
	if protocol.CheckText(e.Message) != nil {
		t.Fatalf("%s: the refusal itself carries unsafe text: %q", what, e.Message)
	}
}

func TestConnectRefusesUnsafeTextInEveryField(t *testing.T) {
	h := newHarness(t)
	id := newIdentity(t, "node-host")
	set := map[string]func(p *protocol.ConnectParams, v string){
		"client.id":              func(p *protocol.ConnectParams, v string) { p.Client.ID = v },
		"client.displayName":     func(p *protocol.ConnectParams, v string) { p.Client.DisplayName = v },
		"client.version":         func(p *protocol.ConnectParams, v string) { p.Client.Version = v },
		"client.platform":        func(p *protocol.ConnectParams, v string) { p.Client.Platform = v },
		"client.deviceFamily":    func(p *protocol.ConnectParams, v string) { p.Client.DeviceFamily = v },
		"client.modelIdentifier": func(p *protocol.ConnectParams, v string) { p.Client.ModelIdentifier = v },
		"client.mode":            func(p *protocol.ConnectParams, v string) { p.Client.Mode = v },
		"client.instanceId":      func(p *protocol.ConnectParams, v string) { p.Client.InstanceID = v },
		"locale":                 func(p *protocol.ConnectParams, v string) { p.Locale = v },
		"userAgent":              func(p *protocol.ConnectParams, v string) { p.UserAgent = v },
		"pathEnv":                func(p *protocol.ConnectParams, v string) { p.PathEnv = v },
		"scopes[1]":              func(p *protocol.ConnectParams, v string) { p.Scopes = []string{"operator.read", v} },
		"caps[0]":                func(p *protocol.ConnectParams, v string) { p.Caps = []string{v} },
		"commands[2]":            func(p *protocol.ConnectParams, v string) { p.Commands = []string{"a", "b", v} },
		"permissions.camera": func(p *protocol.ConnectParams, v string) {
			p.Permissions, _ = json.Marshal(map[string]any{"camera": v})
		},
		// Keys OpenClaw 2026.9 clients add.
		"client.buildId":  func(p *protocol.ConnectParams, v string) { p.Client.BuildID = v },
		"client.timeZone": func(p *protocol.ConnectParams, v string) { p.Client.TimeZone = v },
		"computerUse.displays[0].name": func(p *protocol.ConnectParams, v string) {
			p.ComputerUse, _ = json.Marshal(map[string]any{"displays": []any{map[string]any{"name": v}}})
		},
		"workerRuns.version": func(p *protocol.ConnectParams, v string) {
			p.WorkerRuns, _ = json.Marshal(map[string]any{"version": v})
		},
		"modelCatalog.agentId": func(p *protocol.ConnectParams, v string) {
			p.ModelCatalog, _ = json.Marshal(map[string]any{"agentId": v})
		},
		"auth.approvalRuntimeToken": func(p *protocol.ConnectParams, v string) {
			p.Auth = &protocol.ConnectAuth{Token: testToken, ApprovalRuntimeToken: v}
		},
		"auth.agentRuntimeIdentityToken": func(p *protocol.ConnectParams, v string) {
			p.Auth = &protocol.ConnectAuth{Token: testToken, AgentRuntimeIdentityToken: v}
		},
	}
	for field, mod := range set {
		for _, bad := range hostileTexts {
			for _, role := range []string{protocol.RoleOperator, protocol.RoleNode} {
				w := h.dial()
				var p protocol.ConnectParams
				if role == protocol.RoleNode {
					p = w.connectParams(&id, h.now(), connectOpts{role: role})
				} else {
					p = w.connectParams(nil, h.now(), connectOpts{token: testToken})
				}
				mod(&p, bad)
				data, _ := json.Marshal(protocol.NewRequest("c1", protocol.MethodConnect, p))
				w.sendRaw(string(data))
				f, err := w.next(waitLong)
				if err != nil || f.Response == nil {
					t.Fatalf("%s %s %q: no answer (%v)", role, field, bad, err)
				}
				refusedField(t, role+" connect "+field, f.Response, field)
				if got := w.closed(); got != websocket.StatusPolicyViolation {
					t.Fatalf("%s %s: close %d, want 1008", role, field, got)
				}
			}
		}
	}
	// The frame's own strings are answered too, without echoing them.
	w := h.dial()
	w.sendRaw(`{"type":"req","id":"c\u001b[2K","method":"connect","params":{}}`)
	f, err := w.next(waitLong)
	if err != nil || f.Response == nil || f.Response.ID != "invalid" {
		t.Fatalf("unsafe frame id: %+v %v", f.Response, err)
	}
	checkErr(t, "unsafe frame id", f.Response, protocol.CodeInvalidRequest, protocol.ReasonInvalidParams)
}

func TestMethodsRefuseUnsafeTextInEveryField(t *testing.T) {
	h := newHarness(t)
	op := h.operator()
	paired := op.request(protocol.PairRequestParams{NodeID: "n-ok", NodeMeta: protocol.NodeMeta{DisplayName: "Fine"}})

	metaFields := []string{"displayName", "platform", "version", "coreVersion", "uiVersion", "deviceFamily", "modelIdentifier", "remoteIp"}
	for _, field := range metaFields {
		for _, bad := range hostileTexts {
			res := op.call(protocol.MethodPairRequest, map[string]any{"nodeId": "n1", field: bad})
			refusedField(t, "operator request "+field, res, field)
		}
	}
	for _, list := range []string{"caps", "commands"} {
		res := op.call(protocol.MethodPairRequest, map[string]any{"nodeId": "n1", list: []string{"ok", hostileTexts[0]}})
		refusedField(t, "operator request "+list, res, list+"[1]")
	}
	refusedField(t, "request nodeId", op.call(protocol.MethodPairRequest, map[string]any{"nodeId": "n\x1b[1A"}), "nodeId")

	// A node's own request, every metadata field but the address it may
	// not send.
	id := newIdentity(t, "node-host")
	node := h.node(id, "")
	for _, field := range metaFields[:7] {
		res := node.call(protocol.MethodPairRequest, map[string]any{field: hostileTexts[1]})
		refusedField(t, "node request "+field, res, field)
	}
	res := node.call(protocol.MethodPairRequest, map[string]any{"commands": []string{"system.run", "\x1b[3A"}})
	refusedField(t, "node request commands", res, "commands[1]")

	// Names refuse what makes look-alikes, wherever a name is given.
	lookalikes := []string{"Office\u200bMac", "Office\u200dMac", "Office\u202eMac", "Office\u2028Mac", "Office\u2066Mac"}
	for _, bad := range lookalikes {
		refusedField(t, "rename", op.call(protocol.MethodNodeRename, map[string]any{"nodeId": "n-ok", "displayName": bad}), "displayName")
		refusedField(t, "block name", op.call(protocol.MethodBlockAdd, map[string]any{"nodeId": "n-bad", "displayName": bad}), "displayName")
		refusedField(t, "request name", op.call(protocol.MethodPairRequest, map[string]any{"nodeId": "n2", "displayName": bad}), "displayName")
	}
	// Every other method's strings.
	for _, c := range []struct {
		method string
		params map[string]any
		field  string
	}{
		{protocol.MethodPairApprove, map[string]any{"requestId": "r\x1b"}, "requestId"},
		{protocol.MethodPairReject, map[string]any{"requestId": "r\u202e"}, "requestId"},
		{protocol.MethodPairVerify, map[string]any{"nodeId": "n\x07", "token": "t"}, "nodeId"},
		{protocol.MethodPairVerify, map[string]any{"nodeId": "n-ok", "token": "t\x1b"}, "token"},
		{protocol.MethodPairRemove, map[string]any{"nodeId": "n\u0085"}, "nodeId"},
		{protocol.MethodNodeRename, map[string]any{"nodeId": "n\x1b", "displayName": "x"}, "nodeId"},
		{protocol.MethodBlockAdd, map[string]any{"nodeId": "n\x1b"}, "nodeId"},
		{protocol.MethodBlockRemove, map[string]any{"nodeId": "n\x1b"}, "nodeId"},
		{protocol.MethodPairAutoApprove, map[string]any{"requestId": "r\x1b", "rule": "ssh-check"}, "requestId"},
	} {
		refusedField(t, c.method+" "+c.field, op.call(c.method, c.params), c.field)
	}
	// An unsafe method name is answered without echoing it (the id is safe, so it is).
	op.sendRaw(`{"type":"req","id":"m1","method":"node.list\u001b]2;x\u0007","params":{}}`)
	checkErr(t, "unsafe method", op.response("m1"), protocol.CodeInvalidRequest, protocol.ReasonInvalidParams)

	// Nothing of it was kept: the node's request is the one filed at its
	// connect, with what it declared there.
	var list protocol.PairListResult
	op.ok(protocol.MethodPairList, struct{}{}, &list)
	if len(list.Pending) != 2 {
		t.Fatalf("pending after the refusals: %+v", list.Pending)
	}
	for _, r := range list.Pending {
		ok := r.RequestID == paired.Request.RequestID && r.DisplayName == "Fine" ||
			r.NodeID == id.nodeID() && r.DisplayName == "Kitchen iPad" && r.Platform == "Linux"
		if !ok {
			t.Fatalf("pending after the refusals: %+v", r)
		}
	}
	var blocked protocol.BlockListResult
	op.ok(protocol.MethodBlockList, struct{}{}, &blocked)
	if len(blocked.Blocked) != 0 {
		t.Fatalf("blocked after the refusals: %+v", blocked.Blocked)
	}
}
