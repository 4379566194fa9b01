package cli_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/pairdeck/pairdeck/protocol"
)

// hostile is text a node or a gateway that filters nothing could send:
// a pane retitle (OSC 2), a line erase and a cursor move (CSI), a C1 CSI,
// bidi override and isolate, a clipboard write (OSC 52), a carriage
// return and a newline that would forge a line, NUL and DEL.
const hostile = "evil\x1b]2;pwned\x07\x1b[2K\x1b[3A\u202eoops\u2066\u009b31m\x1b]52;c;aGk=\x07\r\n  pairdeck: approved\x00\x7f"

// hostileArg is hostile as a command-line argument can carry it (no NUL).
var hostileArg = strings.ReplaceAll(hostile, "\x00", "")

// hostileGateway speaks the operator side of the protocol and answers every
// question with hostile text in every string field: what pairdeck's own
// gateway refuses at ingestion, another gateway may still send.
type hostileGateway struct {
	url   string
	now   time.Time
	reqID string
	node  string
}

func newHostileGateway(t *testing.T) *hostileGateway {
	t.Helper()
	g := &hostileGateway{now: time.Now(), reqID: "5e1f0000-0000-4000-8000-000000000001", node: "ba5eba11" + strings.Repeat("0", 56)}
	srv := httptest.NewServer(http.HandlerFunc(g.handle))
	t.Cleanup(srv.Close)
	g.url = "ws" + strings.TrimPrefix(srv.URL, "http")
	return g
}

func (g *hostileGateway) meta() protocol.NodeMeta {
	return protocol.NodeMeta{DisplayName: "Node " + hostile, Platform: hostile, Version: hostile, CoreVersion: hostile,
		UIVersion: hostile, DeviceFamily: hostile, ModelIdentifier: hostile, Caps: []string{hostile, "cam" + hostile},
		Commands: []string{hostile}, RemoteIP: "10.0.0.1" + hostile}
}

func (g *hostileGateway) pending() protocol.PendingRequest {
	return protocol.PendingRequest{RequestID: g.reqID, NodeID: g.node, NodeMeta: g.meta(), TS: g.now.UnixMilli(),
		ExpiresAtMs: g.now.Add(5 * time.Minute).UnixMilli(), RequiredApproveScopes: []string{hostile}}
}

func (g *hostileGateway) paired() protocol.PairedNode {
	return protocol.PairedNode{NodeID: "0bad" + hostile, NodeMeta: g.meta(), CreatedAtMs: g.now.UnixMilli(), ApprovedAtMs: g.now.UnixMilli()}
}

func (g *hostileGateway) answer(req protocol.Request) (any, *protocol.Error) {
	switch req.Method {
	case protocol.MethodPairList:
		return protocol.PairListResult{Pending: []protocol.PendingRequest{g.pending()}, Paired: []protocol.PairedNode{g.paired()}}, nil
	case protocol.MethodNodeList:
		info := protocol.NodeInfo{NodeID: g.node, DisplayName: "Node " + hostile, Platform: hostile, Version: hostile,
			DeviceFamily: hostile, ModelIdentifier: hostile, RemoteIP: hostile, Caps: []string{hostile}, Commands: []string{hostile},
			Paired: true, Connected: true, ConnectedAtMs: g.now.UnixMilli()}
		return protocol.NodeListResult{TS: g.now.UnixMilli(), Nodes: []protocol.NodeInfo{info}}, nil
	case protocol.MethodPairApprove:
		n := g.paired()
		n.Token = "tok" + hostile
		return protocol.ApproveResult{RequestID: g.reqID + hostile, Node: n}, nil
	case protocol.MethodPairReject:
		return nil, protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonUnknownRequest, "unknown requestId %s", hostile)
	case protocol.MethodNodeRename:
		return protocol.RenameResult{NodeID: g.node + hostile, DisplayName: hostile}, nil
	case protocol.MethodPairVerify:
		n := g.paired()
		return protocol.VerifyResult{OK: true, Node: &n}, nil
	case protocol.MethodPairingGet:
		return protocol.PairingState{Enabled: true, ChangedAtMs: g.now.UnixMilli(), ChangedBy: hostile}, nil
	case protocol.MethodBlockList:
		return protocol.BlockListResult{Blocked: []protocol.BlockedNode{{NodeID: g.node, DisplayName: hostile, BlockedAtMs: g.now.UnixMilli(),
			BlockedBy: hostile, Attempts: 1, LastAttemptMs: g.now.UnixMilli(), LastRemoteIP: hostile}}}, nil
	}
	return nil, protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonUnknownMethod, "no method %s%s", req.Method, hostile)
}

func (g *hostileGateway) handle(w http.ResponseWriter, r *http.Request) {
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer ws.CloseNow()
	ctx := r.Context()
	send := func(v any) {
		data, _ := json.Marshal(v)
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_ = ws.Write(wctx, websocket.MessageText, data)
	}
	read := func() (protocol.Request, error) {
		var req protocol.Request
		_, data, err := ws.Read(ctx)
		if err == nil {
			err = json.Unmarshal(data, &req)
		}
		return req, err
	}
	send(protocol.NewEvent(protocol.EventChallenge, protocol.ChallengeEvent{Nonce: "n-" + g.reqID, TS: time.Now().UnixMilli()}))
	req, err := read()
	if err != nil || req.Method != protocol.MethodConnect {
		return
	}
	send(protocol.OKResponse(req.ID, protocol.HelloOK{Type: "hello-ok", Protocol: 3,
		Server:   protocol.ServerInfo{Version: hostile, ConnID: "c1"},
		Features: protocol.Features{Methods: protocol.Methods, Events: protocol.Events},
		Auth:     &protocol.HelloAuth{Role: protocol.RoleOperator, Scopes: protocol.AllOperatorScopes},
		Policy:   protocol.Policy{MaxPayload: 1 << 20, MaxBufferedBytes: 1 << 21}}))
	// A new request appears while a watch is running.
	ev := protocol.NewEvent(protocol.EventPairRequested, g.pending())
	ev.Seq = 1
	send(ev)
	for {
		req, err := read()
		if err != nil {
			return
		}
		res, perr := g.answer(req)
		if perr != nil {
			send(protocol.ErrorResponse(req.ID, perr))
			continue
		}
		send(protocol.OKResponse(req.ID, res))
	}
}

// checkPrintable fails for any byte of out a terminal would act on: every
// line must be what protocol.CheckText accepts. (A pty turns "\n" into
// "\r\n"; that carriage return is the terminal's own.)
func checkPrintable(t *testing.T, what, out string) {
	t.Helper()
	for i, l := range strings.Split(out, "\n") {
		l = strings.TrimSuffix(l, "\r")
		if err := protocol.CheckText(l); err != nil {
			t.Errorf("%s: line %d %q: %v", what, i+1, l, err)
		}
	}
}

// TestHostileTextNeverReachesTheTerminal runs every command that prints
// what a gateway sends against one that sends escape sequences, bidi
// controls and forged lines in every field: tables, plain lines and
// errors show them escaped, piped and on a terminal; --json carries them
// exactly, as valid JSON.
func TestHostileTextNeverReachesTheTerminal(t *testing.T) {
	t.Parallel()
	g := newHostileGateway(t)
	e := newEnv(t)
	e.vars = append(e.vars, "OPENCLAW_GATEWAY_URL="+g.url, "OPENCLAW_GATEWAY_TOKEN=op-token")
	commands := [][]string{
		{"nodes", "pending"}, {"nodes", "list"}, {"nodes", "status"}, {"nodes", "blocked"},
		{"pairing", "status"}, {"nodes", "approve", g.reqID}, {"nodes", "reject", g.reqID},
		{"nodes", "rename", "--node", g.node, "--name", "x"},
		{"nodes", "unblock", "--node", "nobody" + hostileArg},
	}
	for _, args := range commands {
		name := strings.Join(args, " ")
		r := e.run(args...)
		if r.stdout == "" && r.stderr == "" {
			t.Errorf("%s printed nothing:\n%s", name, r)
		}
		checkPrintable(t, name+" (stdout)", r.stdout)
		checkPrintable(t, name+" (stderr)", r.stderr)
		for _, width := range []int{200, 80, 40} {
			out := e.runTTY(width, args...)
			checkPrintable(t, name+" (terminal)", out.out)
			if !strings.Contains(out.out, `\x1b`) {
				t.Errorf("%s on a %d-column terminal does not show the escape as \\x1b:\n%s", name, width, out.out)
			}
		}
	}
	// The escapes are shown, not dropped: the operator sees that the node
	// sent them.
	r := e.ok("nodes", "pending")
	for _, want := range []string{`evil\x1b]2;pwned\x07\x1b[2K\x1b[3A\u202eoops\u2066\u009b31m`, g.reqID} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("nodes pending does not show %q:\n%s", want, r.stdout)
		}
	}
	// A query that matches nothing is quoted back escaped.
	r = e.run("nodes", "remove", "--node", "nobody"+hostileArg)
	checkFailure(t, r, 1, `\x1b]2;pwned`)
	checkPrintable(t, "remove", r.stderr)

	// --json is JSON, carrying the text exactly, and inert on a terminal
	// too: what JSON leaves raw (DEL, C1, bidi) is written \uXXXX.
	var pending []pendingJSON
	r = e.okJSON(&pending, "nodes", "pending")
	checkPrintable(t, "nodes pending --json", r.stdout)
	if len(pending) != 1 || pending[0].Platform != hostile || pending[0].DisplayName != "Node "+hostile {
		t.Errorf("--json does not carry the text as sent: %+v", pending)
	}
	var list listJSON
	r = e.okJSON(&list, "nodes", "list")
	checkPrintable(t, "nodes list --json", r.stdout)
	if len(list.Paired) != 1 || list.Paired[0].CoreVersion != hostile {
		t.Errorf("list --json does not carry the text as sent: %+v", list)
	}
	var st statusJSON
	r = e.okJSON(&st, "nodes", "status")
	checkPrintable(t, "nodes status --json", r.stdout)

	// The watch stream is NDJSON: every line valid JSON, whatever it holds.
	w := e.start("nodes", "pending", "--watch", "--json")
	for range 2 {
		var l watchJSON
		checkPrintable(t, "watch line", w.nextJSON(&l))
		var p pendingJSON
		decodeStrict(t, string(l.Payload), &p)
		if p.Platform != hostile {
			t.Errorf("watch payload platform = %q", p.Platform)
		}
	}
}
