package gateway

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/pairdeck/pairdeck/protocol"
)

// OpenClaw's node hosts (`openclaw node run`, 2026.4 to 2026.9) never call
// node.pair.*: their gateway files a pairing request for them when they
// connect, and they learn they were approved by being let in with a token
// in hello-ok (auth.deviceToken), which they present from then on
// (auth.deviceToken, and 2026.4/2026.7 also auth.token). pairdeck's gateway
// does the same for every node that connects without a node token, with
// the gateway's shared token or none:
//
//   - the request is filed before hello-ok, through the rules of a node's
//     own node.pair.request (hostRequest);
//   - the node is let in unpaired and kept while its request waits
//     (unpairedWatch); pairdeck's own nodes then ask themselves and get
//     the same request;
//   - on approval, the token is held for the device it was issued to
//     (tokenPickups) and the node's sockets that never asked are closed
//     with 1012, so the host reconnects; its next connect, signed by the
//     approved device key, gets the token in hello-ok;
//   - a paired node presenting the gateway's shared token (a host started
//     with OPENCLAW_GATEWAY_TOKEN keeps sending it) is let in as paired:
//     whoever holds that token can approve anything anyway.

// pairdeckNodeAgent starts the userAgent of pairdeck's own node client
// (client.connectParams), which asks for itself right after hello-ok.
const pairdeckNodeAgent = "pairdeck-client/"

// tokenPickupWindow is how long an approved node's token waits for its
// device to come and take it. An OpenClaw node host reconnects within 30 s
// (its longest backoff); the rest is for one that was away.
const tokenPickupWindow = 10 * time.Minute

// tokenPickups holds the tokens of approvals until their node takes them
// from hello-ok, in memory only: a restart in between leaves the node paired
// without a token it can learn, and it must be removed and paired again
// (said in the refusal it then gets).
type tokenPickups struct {
	mu sync.Mutex
	m  map[string]tokenPickup
}

type tokenPickup struct {
	token   string
	request protocol.PendingRequest // the request whose approval issued it
	until   time.Time
}

// put holds token for nodeID, replacing an older one, and drops the
// pickups whose window has passed.
func (p *tokenPickups) put(req protocol.PendingRequest, token string, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = make(map[string]tokenPickup)
	}
	for id, pk := range p.m {
		if now.After(pk.until) {
			delete(p.m, id)
		}
	}
	p.m[req.NodeID] = tokenPickup{token: token, request: req, until: now.Add(tokenPickupWindow)}
}

// take hands over nodeID's token once.
func (p *tokenPickups) take(nodeID string, now time.Time) (tokenPickup, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pk, ok := p.m[nodeID]
	delete(p.m, nodeID)
	if !ok || now.After(pk.until) {
		return tokenPickup{}, false
	}
	return pk, true
}

// drop forgets nodeID's token: the node showed it has it, or was removed.
func (p *tokenPickups) drop(nodeID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.m, nodeID)
}

// hostRequest files the pairing request of a node that connected without a
// node token, before its hello-ok, through the rules of a node's own
// node.pair.request: block list, pairing switch, its network's share of
// the queue, the request rate, auto-approval rules. When a rule approves it
// at once, the node is let in paired with its token. A refusal does not
// refuse the connect (pairdeck's nodes ask themselves next and get the same
// answer); a node that never asks is closed by the unpaired watch with the
// refusal as the close reason.
func (g *Gateway) hostRequest(c *wsConn, sess *session) {
	ctx, cancel := context.WithTimeout(g.ctx, 5*time.Second)
	defer cancel()
	// Silent, as OpenClaw's gateways file them: a node that connects
	// without a token is what automatic approval is for. A node that then
	// asks itself says whether it wants that (pairRequest).
	silent := true
	p := protocol.PairRequestParams{Silent: &silent}
	done, e := g.nodeOwnRequest(sess, &p, false)
	if e == nil {
		var req protocol.PendingRequest
		var created bool
		req, created, e = g.fileRequest(ctx, sess, p)
		done()
		if e == nil {
			sess.filed, sess.filedCreated = req.RequestID, created
			if g.autoApprove(ctx, req) {
				g.takeToken(c, sess)
			} else if created {
				g.notify(req)
			}
			return
		}
	}
	sess.fileErr = g.forNode(sess, protocol.MethodPairRequest, e)
	c.logger().Info("no pairing request filed at connect", "node", sess.nodeID, "reason", e.Reason(), "msg", e.Message)
}

// takeToken lets an unpaired node in as paired when a token of an approval
// is held for it and still verifies (the node was not removed or paired
// again since); hello-ok then hands it over.
func (g *Gateway) takeToken(c *wsConn, sess *session) bool {
	pk, ok := g.pickups.take(sess.nodeID, g.cfg.Now())
	if !ok {
		return false
	}
	if _, ok := g.store.Verify(sess.nodeID, pk.token); !ok {
		return false
	}
	sess.issued, sess.approved = pk.token, pk.request
	g.pairedIn(c, sess, protocol.AuthMethodApproved)
	return true
}

// pairedIn marks a node's session paired.
func (g *Gateway) pairedIn(c *wsConn, sess *session, method string) {
	sess.paired = true
	sess.authMethod = method
	ctx, cancel := context.WithTimeout(g.ctx, 5*time.Second)
	defer cancel()
	if err := g.store.MarkConnected(ctx, sess.nodeID); err != nil {
		// The node proved who it is; a missing lastConnectedAtMs is not a
		// reason to turn it away.
		c.logger().Warn("record lastConnectedAtMs", "node", sess.nodeID, "err", err)
	}
}

// handOver holds an approval's token for its node and closes the node's
// unpaired sockets that never asked to pair themselves: they read no token
// from node.pair.resolved, so they reconnect and take it from hello-ok.
// Not a protocol 3 socket (a 2026.4 host): its process exits when its
// socket closes (its reconnect timer does not keep it alive), so it is
// kept, and the approval applies at its next connect, as on its own
// gateway (checkUnpaired). Called from a store hook: it only queues
// closes.
func (g *Gateway) handOver(req protocol.PendingRequest, token string) {
	g.pickups.put(req, token, g.cfg.Now())
	for _, sub := range g.fan.nodeSockets(req.NodeID) {
		if !sub.sess.paired && !sub.sess.asked.Load() && sub.sess.protocol >= 4 && sub.kick != nil {
			sub.kick(int(websocket.StatusServiceRestart), "pairing approved: reconnect to be let in")
		}
	}
}

// approvedBeforeAsking answers the first node.pair.request of a node that
// was let in with a token in hello-ok (approved at connect by a rule, or
// while it was away) and asks for no command beyond those approved: the
// approval it missed, told the way a setup code's approval is (status
// "approved", then node.pair.resolved with the token on its socket), so a
// node that reads no hello-ok token (pairdeck's own) learns it too.
func (g *Gateway) approvedBeforeAsking(ctx context.Context, s *session, p protocol.PairRequestParams) (protocol.PairRequestResult, bool) {
	if s.issued == "" {
		return protocol.PairRequestResult{}, false
	}
	for _, cmd := range p.Commands {
		if !slices.Contains(s.approved.Commands, cmd) {
			return protocol.PairRequestResult{}, false // more than was approved: it asks again
		}
	}
	req := g.decorate(s.approved)
	afterReply(ctx, func() {
		g.fan.toNode(s.nodeID, protocol.EventPairResolved, protocol.ResolvedEvent{
			RequestID: req.RequestID, NodeID: req.NodeID, Decision: protocol.DecisionApproved, TS: g.nowMs(), Token: s.issued})
	})
	return protocol.PairRequestResult{Status: protocol.DecisionApproved, Request: req, Created: true}, true
}

// closeReason shortens a refusal's message to a WebSocket close reason
// (at most 123 bytes), on a rune boundary.
func closeReason(msg string) string {
	const max = 123
	if len(msg) <= max {
		return msg
	}
	cut := max - len("…")
	for cut > 0 && !utf8RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// nodeDescribe is one node as node.list shows it.
func (g *Gateway) nodeDescribe(_ context.Context, _ *session, raw json.RawMessage) (any, *protocol.Error) {
	const m = protocol.MethodNodeDescribe
	var p protocol.NodeIDParams
	if e := decode(m, raw, &p); e != nil {
		return nil, e
	}
	if e := required(m, "nodeId", &p.NodeID); e != nil {
		return nil, e
	}
	list := g.listNodes()
	for _, n := range list.Nodes {
		if strings.EqualFold(n.NodeID, p.NodeID) {
			return protocol.NodeDescribeResult{TS: list.TS, NodeInfo: n}, nil
		}
	}
	e := protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonUnknownNode, "unknown nodeId")
	e.Details.NodeID = p.NodeID
	return nil, e
}

// hostParams are the params of a node host's reports: any object, its
// text checked like all input, none of it kept.
type hostParams map[string]json.RawMessage

func (g *Gateway) nodeEvent(_ context.Context, _ *session, raw json.RawMessage) (any, *protocol.Error) {
	var p struct {
		Event       string          `json:"event"`
		PayloadJSON string          `json:"payloadJSON,omitempty"`
		Payload     json.RawMessage `json:"payload,omitempty"`
	}
	if e := decode(protocol.MethodNodeEvent, raw, &p); e != nil {
		return nil, e
	}
	return protocol.NodeEventResult{OK: true, Event: p.Event}, nil
}

func nodeReport(method string) func(*Gateway, context.Context, *session, json.RawMessage) (any, *protocol.Error) {
	return func(g *Gateway, _ context.Context, s *session, raw json.RawMessage) (any, *protocol.Error) {
		var p hostParams
		if e := decode(method, raw, &p); e != nil {
			return nil, e
		}
		res := protocol.NodeUpdateResult{NodeID: s.nodeID}
		empty := []string{}
		switch method {
		case protocol.MethodNodeSkills:
			res.Skills = &empty
		case protocol.MethodNodePluginTools:
			res.Tools = &empty
		}
		return res, nil
	}
}

// notPairedYet answers an unpaired node's call of a method for paired
// nodes: OpenClaw's node hosts retry it until they are let in.
func (g *Gateway) notPairedYet(s *session, method string) *protocol.Error {
	msg := "node " + s.nodeID + " is not paired yet, so " + method + " waits"
	if req, ok := g.store.PendingForNode(s.nodeID); ok {
		msg += ": its pairing request " + req.RequestID + " waits for an operator (`pairdeck nodes pending`); once approved, the node is let in when it reconnects"
	} else {
		msg += ": it has no pending pairing request; reconnect to ask again"
	}
	e := protocol.NewError(protocol.CodeUnavailable, protocol.DetailPairingRequired, "%s", msg)
	e.Retryable = true
	return e
}
