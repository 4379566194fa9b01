package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/store"
)

// methodSpec says who may call a method and what runs it.
type methodSpec struct {
	scope   string // operator scope required
	nodeMay bool   // a node may call it, for itself only
	// nodeOnly: only a paired node may call it (a node host's reports).
	nodeOnly bool
	run      func(g *Gateway, ctx context.Context, s *session, params json.RawMessage) (any, *protocol.Error)
}

// methods is the one table both WebSocket sessions and LocalOperators go
// through, so their behaviour cannot drift apart.
var methods = map[string]methodSpec{
	protocol.MethodPairRequest: {scope: protocol.ScopePairing, nodeMay: true, run: (*Gateway).pairRequest},
	protocol.MethodPairList:    {scope: protocol.ScopePairing, run: (*Gateway).pairList},
	protocol.MethodPairApprove: {scope: protocol.ScopePairing, run: (*Gateway).pairApprove},
	protocol.MethodPairReject:  {scope: protocol.ScopePairing, run: (*Gateway).pairReject},
	protocol.MethodPairVerify:  {scope: protocol.ScopePairing, run: (*Gateway).pairVerify},
	protocol.MethodPairRemove:  {scope: protocol.ScopePairing, run: (*Gateway).pairRemove},
	protocol.MethodNodeRename:  {scope: protocol.ScopePairing, run: (*Gateway).nodeRename},
	protocol.MethodNodeList:    {scope: protocol.ScopeRead, run: (*Gateway).nodeList},

	protocol.MethodPairingGet:      {scope: protocol.ScopeRead, run: (*Gateway).pairingGet},
	protocol.MethodPairingSet:      {scope: protocol.ScopeAdmin, run: (*Gateway).pairingSet},
	protocol.MethodBlockAdd:        {scope: protocol.ScopePairing, run: (*Gateway).blockAdd},
	protocol.MethodBlockRemove:     {scope: protocol.ScopePairing, run: (*Gateway).blockRemove},
	protocol.MethodBlockList:       {scope: protocol.ScopePairing, run: (*Gateway).blockList},
	protocol.MethodPairAutoApprove: {scope: protocol.ScopePairing, run: (*Gateway).pairAutoApprove},
	protocol.MethodHistoryList:     {scope: protocol.ScopeRead, run: (*Gateway).historyList},

	protocol.MethodCodesCreate: {scope: protocol.ScopePairing, run: (*Gateway).codesCreate},
	protocol.MethodCodesList:   {scope: protocol.ScopePairing, run: (*Gateway).codesList},
	protocol.MethodCodesRevoke: {scope: protocol.ScopePairing, run: (*Gateway).codesRevoke},

	protocol.MethodNodeDescribe:        {scope: protocol.ScopeRead, run: (*Gateway).nodeDescribe},
	protocol.MethodNodeEvent:           {nodeOnly: true, run: (*Gateway).nodeEvent},
	protocol.MethodNodeRunnerInventory: {nodeOnly: true, run: nodeReport(protocol.MethodNodeRunnerInventory)},
	protocol.MethodNodeSkills:          {nodeOnly: true, run: nodeReport(protocol.MethodNodeSkills)},
	protocol.MethodNodePluginTools:     {nodeOnly: true, run: nodeReport(protocol.MethodNodePluginTools)},
}

// answer answers one post-handshake frame with the frame to send. A result
// spliced from encoded bytes (encodedResult) is written straight after
// the response's head, so a list of megabytes is copied once.
func (g *Gateway) answer(ctx context.Context, s *session, typ websocket.MessageType, data []byte) outFrame {
	res, enc := g.handle(ctx, s, typ, data)
	if enc == nil {
		return outFrame{res: res}
	}
	b := enc.appendWire(protocol.AppendOKHead(nil, res.ID))
	return outFrame{raw: append(b, '}')}
}

// handleFrame answers one post-handshake frame. Malformed frames get an
// error answer; the socket stays open.
func (g *Gateway) handleFrame(ctx context.Context, s *session, typ websocket.MessageType, data []byte) *protocol.Response {
	res, enc := g.handle(ctx, s, typ, data)
	if enc != nil {
		res.Payload = enc.appendWire(nil)
	}
	return res
}

// handle answers one post-handshake frame; a successful result that is
// spliced from encoded bytes comes back as enc, its response without a
// payload yet.
func (g *Gateway) handle(ctx context.Context, s *session, typ websocket.MessageType, data []byte) (res *protocol.Response, enc encodedResult) {
	if typ != websocket.MessageText {
		return protocol.ErrorResponse("invalid", protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonInvalidParams,
			"invalid frame: binary frames are not supported; send JSON text")), nil
	}
	frame, err := protocol.DecodeFrame(data)
	if err != nil {
		id := "invalid"
		var fe *protocol.FrameError
		if errors.As(err, &fe) && fe.ID != "" {
			id = fe.ID
		}
		return protocol.ErrorResponse(id, protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonInvalidParams, "%v", err)), nil
	}
	req := frame.Request
	if req == nil {
		id := "invalid"
		if frame.Response != nil {
			id = frame.Response.ID
		}
		return protocol.ErrorResponse(id, protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonInvalidParams,
			"invalid frame: clients send only req frames")), nil
	}
	if e := checkFrame(req); e != nil {
		return protocol.ErrorResponse(answerID(req), e), nil
	}
	if req.Method == protocol.MethodConnect {
		return protocol.ErrorResponse(req.ID, protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonUnknownMethod,
			"connect is only valid as the first frame; this socket is already connected")), nil
	}
	result, perr := g.dispatch(ctx, s, req.Method, req.Params)
	if perr != nil {
		return protocol.ErrorResponse(req.ID, perr), nil
	}
	if enc, ok := result.(encodedResult); ok {
		return &protocol.Response{Type: protocol.TypeRes, ID: req.ID, OK: true}, enc
	}
	return protocol.OKResponse(req.ID, result), nil
}

// encodedResult is a method result built in the form its caller needs:
// its JSON, spliced from bytes the store keeps, for a socket; the value
// itself, without any JSON, for an in-process operator (call).
type encodedResult interface {
	appendWire(b []byte) []byte
	value() any
}

// dispatch authorizes and runs one method for a session.
func (g *Gateway) dispatch(ctx context.Context, s *session, method string, params json.RawMessage) (any, *protocol.Error) {
	spec, ok := methods[method]
	if !ok {
		return nil, protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonUnknownMethod, "unknown method: %s", method)
	}
	switch {
	case s.isNode() && spec.nodeOnly && !s.paired:
		return nil, g.notPairedYet(s, method)
	case s.isNode() && !spec.nodeMay && !spec.nodeOnly:
		return nil, protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonUnauthorizedRole,
			"%s is for operators: a node may only call node.pair.request for itself", method)
	case !s.isNode() && spec.nodeOnly:
		return nil, protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonUnauthorizedRole,
			"%s is for nodes: a node host reports with it", method)
	case !s.isNode() && !protocol.HasScope(s.scopes, spec.scope):
		return nil, missingScope(spec.scope)
	}
	res, perr := spec.run(g, ctx, s, params)
	if perr != nil && s.isNode() {
		perr = g.forNode(s, method, perr)
	}
	return res, perr
}

// forNode keeps what a node is told about the gateway's own failures
// generic: a node has proved nothing but a key, so the state dir's paths
// and the system's errors go to the log, not to it.
func (g *Gateway) forNode(s *session, method string, e *protocol.Error) *protocol.Error {
	if e.Reason() != protocol.ReasonStoreFailed {
		return e
	}
	g.log.Warn("a node's call failed in the gateway; the node was told only to retry", "node", s.nodeID, "method", method, "addr", s.remoteIP, "err", e.Message)
	ne := protocol.NewError(protocol.CodeUnavailable, protocol.ReasonStoreFailed,
		"the gateway could not record the request; retry later")
	ne.Retryable = true
	return ne
}

func missingScope(scope string) *protocol.Error {
	return protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonMissingScope, "missing scope: %s", scope)
}

// decode decodes a method's params strictly and refuses text a terminal
// would act on in any of its strings (checkParams).
func decode(method string, raw json.RawMessage, v any) *protocol.Error {
	if err := protocol.DecodeParams(raw, v); err != nil {
		return protocol.InvalidParams(method, err.Error())
	}
	if err := checkParams(v); err != nil {
		return protocol.InvalidField(method, err)
	}
	return nil
}

// required trims a string param and refuses it blank.
func required(method, name string, v *string) *protocol.Error {
	*v = strings.TrimSpace(*v)
	if *v == "" {
		return protocol.InvalidParams(method, "must have required property '"+name+"'")
	}
	return nil
}

func (g *Gateway) pairRequest(ctx context.Context, s *session, raw json.RawMessage) (any, *protocol.Error) {
	const m = protocol.MethodPairRequest
	var p protocol.PairRequestParams
	if e := decode(m, raw, &p); e != nil {
		return nil, e
	}
	// A node's first ask after its request was filed at connect is for
	// that same request: it is not counted against its rate twice, and
	// the node is told it created it.
	fromConnect := false
	if s.isNode() {
		first := !s.asked.Swap(true)
		if first {
			if res, ok := g.approvedBeforeAsking(ctx, s, p); ok {
				return res, nil
			}
		}
		fromConnect = first && s.filed != ""
		if fromConnect && p.Silent == nil {
			no := false
			p.Silent = &no // what the node asks for, not what was filed for it
		}
		done, e := g.nodeOwnRequest(s, &p, fromConnect)
		if e != nil {
			return nil, e
		}
		defer done()
	} else if e := required(m, "nodeId", &p.NodeID); e != nil {
		return nil, e
	}
	if err := p.Permissions.Check(); err != nil {
		return nil, protocol.InvalidField(m, err)
	}
	if p.Code != "" {
		if !s.isNode() {
			return nil, protocol.InvalidParams(m, "property 'code' is a node's own: a node presents its setup code when it asks for itself")
		}
		return g.requestWithCode(ctx, s, p)
	}
	req, created, e := g.fileRequest(ctx, s, p)
	if e != nil {
		return nil, e
	}
	res := protocol.PairRequestResult{Status: "pending", Request: req, Created: created || (fromConnect && s.filedCreated && req.RequestID == s.filed)}
	if s.isNode() {
		// After the answer, so the node learns its request id before the
		// decision that may follow at once.
		afterReply(ctx, func() {
			if !g.autoApprove(g.ctx, req) && created {
				g.notify(req)
			}
		})
	} else if created {
		g.notify(req)
	}
	return res, nil
}

// fileRequest files a pairing request and announces it to the pairing
// operators. The block list is checked as the store applies the request,
// so a block that lands while the request is on its way (after a node's
// own early check) still keeps it out of the queue; and the request is
// announced in commit order, so concurrent requests share a write.
func (g *Gateway) fileRequest(ctx context.Context, s *session, p protocol.PairRequestParams) (protocol.PendingRequest, bool, *protocol.Error) {
	req, created, err := g.store.RequestWith(ctx, s.actor, p,
		func(nodeID string) error {
			if e := g.refuseBlocked(nodeID, p.RemoteIP); e != nil {
				return e
			}
			return nil
		},
		func(req protocol.PendingRequest, _ bool) {
			g.fan.broadcast(toPairing, protocol.EventPairRequested, g.decorate(req))
		})
	if err != nil {
		return protocol.PendingRequest{}, false, g.storeError(err, p.NodeID)
	}
	req = g.decorate(req)
	g.pokeExpiry()
	g.log.Info("pairing requested", "node", req.NodeID, "request", req.RequestID, "created", created, "by", s.actor.String())
	return req, created, nil
}

// nodeOwnRequest applies the rules for a node asking to pair: only for
// itself, from its own address, while pairing is on, within its network's
// share of the queue and its rate limit (unless free: a request already
// counted). Metadata it leaves out is taken from its connect params. Call
// done once the store has answered.
func (g *Gateway) nodeOwnRequest(s *session, p *protocol.PairRequestParams, free bool) (done func(), _ *protocol.Error) {
	switch {
	case p.NodeID == "" || strings.EqualFold(p.NodeID, s.nodeID):
		p.NodeID = s.nodeID
	default:
		return nil, protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonUnauthorizedRole,
			"a node may only request pairing for itself: omit nodeId or pass %s (its device id)", s.nodeID)
	}
	if p.RemoteIP != "" {
		return nil, protocol.InvalidParams(protocol.MethodPairRequest, "property 'remoteIp' is filled in by the gateway for nodes; omit it")
	}
	// Before the switch and the rate limit: a blocked node is told so, and
	// its attempts neither count against its address nor cost a write.
	if e := g.refuseBlocked(p.NodeID, s.remoteIP); e != nil {
		return nil, e
	}
	if !g.PairingEnabled() {
		return nil, protocol.NewError(protocol.CodeUnavailable, protocol.ReasonPairingDisabled,
			"pairing is switched off on this gateway; ask its operator to switch it on, then retry")
	}
	// The share before the rate limit: a request refused for its network's
	// share does not spend the budget.
	done, holders, ok := g.shares.reserve(p.NodeID, s.prefix, g.isPending)
	if !ok {
		return nil, g.shareFull(s.prefix, holders)
	}
	if !free {
		if ok, wait := g.requestLimit.take(s.prefix); !ok {
			done()
			return nil, rateLimited(wait, "too many pairing requests from %s", networkName(s.remoteIP, s.prefix))
		}
	}

	p.RemoteIP = s.remoteIP
	// What the node declared at connect fills what its request leaves out;
	// commands declared at connect count for the approval scopes.
	declared := protocol.NodeMeta{
		DisplayName: s.client.DisplayName, Platform: s.client.Platform, Version: s.client.Version,
		DeviceFamily: s.client.DeviceFamily, ModelIdentifier: s.client.ModelIdentifier,
		Caps: s.caps, Commands: s.commands,
	}
	declared.Merge(p.NodeMeta)
	p.NodeMeta = declared
	if p.Permissions == nil {
		p.Permissions = s.permissions
	}
	return done, nil
}

// isPending reports whether a node has a pending request.
func (g *Gateway) isPending(nodeID string) bool {
	_, ok := g.store.PendingForNode(nodeID)
	return ok
}

// networkName says where a limited client is: its address, and the
// prefix when the limit is kept for a wider network.
func networkName(ip, prefix string) string {
	if ip == prefix || prefix == "" {
		return ip
	}
	return ip + " (network " + prefix + ")"
}

// decorate adds the wire-only fields of a pending request.
func (g *Gateway) decorate(req protocol.PendingRequest) protocol.PendingRequest {
	if req.ExpiresAtMs == 0 {
		req.ExpiresAtMs = req.TS + g.store.TTL().Milliseconds()
	}
	if req.RequiredApproveScopes == nil {
		req.RequiredApproveScopes = protocol.RequiredApproveScopes(req.Commands)
	}
	return req
}

func (g *Gateway) pairList(_ context.Context, _ *session, raw json.RawMessage) (any, *protocol.Error) {
	var p struct{}
	if e := decode(protocol.MethodPairList, raw, &p); e != nil {
		return nil, e
	}
	return pairList{g}, nil
}

// pairList is node.pair.list's result: over a socket it is spliced from
// the records' cached JSON (store.AppendListJSON), which is what encoding
// the value below gives.
type pairList struct{ g *Gateway }

func (l pairList) appendWire(b []byte) []byte { return l.g.store.AppendListJSON(b) }

func (l pairList) value() any {
	res := protocol.PairListResult{Pending: []protocol.PendingRequest{}, Paired: []protocol.PairedNode{}}
	for _, r := range l.g.store.Pending() {
		res.Pending = append(res.Pending, l.g.decorate(r))
	}
	for _, n := range l.g.store.Paired() {
		res.Paired = append(res.Paired, n.WithoutSecrets())
	}
	return res
}

func (g *Gateway) pairApprove(ctx context.Context, s *session, raw json.RawMessage) (any, *protocol.Error) {
	const m = protocol.MethodPairApprove
	var p protocol.RequestIDParams
	if e := decode(m, raw, &p); e != nil {
		return nil, e
	}
	if e := required(m, "requestId", &p.RequestID); e != nil {
		return nil, e
	}
	if err := protocol.CheckReason("reason", p.Reason); err != nil {
		return nil, protocol.InvalidField(m, err)
	}
	return g.approve(ctx, s, s.actor, p.RequestID, p.Reason, nil)
}

// approve is an operator's approval, recorded as actor. check, when set,
// may refuse the pending request before anything changes. The approver's
// scopes and check are tested against the request as the store applies
// the approval, so a refresh that declares exec-class commands cannot slip
// in between the check and the approval.
func (g *Gateway) approve(ctx context.Context, s *session, actor store.Actor, requestID, reason string, check func(protocol.PendingRequest) *protocol.Error) (any, *protocol.Error) {
	var written chan struct{}
	var queued int
	node, req, err := g.store.ApproveWithReason(ctx, actor, requestID, reason,
		func(pending protocol.PendingRequest) error {
			if miss := protocol.MissingScope(s.scopes, protocol.RequiredApproveScopes(pending.Commands)); miss != "" {
				return missingScope(miss)
			}
			if check != nil {
				if e := check(pending); e != nil {
					return e
				}
			}
			return nil
		},
		func(node protocol.PairedNode, req protocol.PendingRequest) {
			written, queued = g.announceApproval(req, node, actor, reason)
		})
	g.pokeExpiry() // the store sweeps overdue requests on every change
	if err != nil {
		return nil, g.storeError(err, "")
	}

	delivered := queued > 0 && g.awaitWrite(ctx, written)
	g.log.Info("pairing approved", "node", req.NodeID, "request", req.RequestID, "by", actor.String(), "delivered", delivered)
	node.TokenSHA256 = ""
	return protocol.ApproveResult{RequestID: req.RequestID, Node: node, Delivered: delivered}, nil
}

// awaitWrite waits, briefly, for one node socket to have written its copy.
func (g *Gateway) awaitWrite(ctx context.Context, written <-chan struct{}) bool {
	t := time.NewTimer(g.cfg.DeliveryWait)
	defer t.Stop()
	select {
	case <-written:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

func (g *Gateway) pairReject(ctx context.Context, s *session, raw json.RawMessage) (any, *protocol.Error) {
	const m = protocol.MethodPairReject
	var p protocol.RequestIDParams
	if e := decode(m, raw, &p); e != nil {
		return nil, e
	}
	if e := required(m, "requestId", &p.RequestID); e != nil {
		return nil, e
	}
	if err := protocol.CheckReason("reason", p.Reason); err != nil {
		return nil, protocol.InvalidField(m, err)
	}
	req, err := g.store.RejectWithReason(ctx, s.actor, p.RequestID, p.Reason, func(req protocol.PendingRequest) {
		g.announceRejection(req, s.actor, p.Reason)
	})
	g.pokeExpiry()
	if err != nil {
		return nil, g.storeError(err, "")
	}
	g.log.Info("pairing rejected", "node", req.NodeID, "request", req.RequestID, "by", s.actor.String())
	return protocol.RejectResult{RequestID: req.RequestID, NodeID: req.NodeID}, nil
}

func (g *Gateway) pairVerify(_ context.Context, _ *session, raw json.RawMessage) (any, *protocol.Error) {
	const m = protocol.MethodPairVerify
	var p protocol.VerifyParams
	if e := decode(m, raw, &p); e != nil {
		return nil, e
	}
	if e := required(m, "nodeId", &p.NodeID); e != nil {
		return nil, e
	}
	if p.Token == "" {
		return nil, protocol.InvalidParams(m, "must have required property 'token'")
	}
	node, ok := g.store.Verify(p.NodeID, p.Token)
	if !ok {
		return protocol.VerifyResult{OK: false}, nil
	}
	clean := node.WithoutSecrets()
	return protocol.VerifyResult{OK: true, Node: &clean}, nil
}

func (g *Gateway) pairRemove(ctx context.Context, s *session, raw json.RawMessage) (any, *protocol.Error) {
	const m = protocol.MethodPairRemove
	var p protocol.NodeIDParams
	if e := decode(m, raw, &p); e != nil {
		return nil, e
	}
	if e := required(m, "nodeId", &p.NodeID); e != nil {
		return nil, e
	}
	err := g.store.RemoveWith(ctx, s.actor, p.NodeID, func() {
		g.fan.broadcast(toOperators, protocol.EventPairRemoved, protocol.RemovedEvent{NodeID: p.NodeID, TS: g.nowMs(), Actor: s.actor.String()})
	})
	if err != nil {
		if pending, ok := g.store.PendingForNode(p.NodeID); ok && errors.Is(err, store.ErrUnknownNode) {
			e := protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonUnknownNode,
				"node %s is not paired, so there is nothing to remove; reject its pending request %s instead", p.NodeID, pending.RequestID)
			e.Details.NodeID, e.Details.CurrentRequestID = p.NodeID, pending.RequestID
			return nil, e
		}
		return nil, g.storeError(err, p.NodeID)
	}
	// A removed node must pair again: drop whatever sockets it has, and
	// a token it has not taken yet.
	g.pickups.drop(p.NodeID)
	for _, sub := range g.fan.nodeSockets(p.NodeID) {
		if sub.kick != nil {
			sub.kick(int(statusNodeRemoved), "node removed")
		}
	}
	g.log.Info("node removed", "node", p.NodeID, "by", s.actor.String())
	return protocol.RemoveResult(p), nil
}

func (g *Gateway) nodeRename(ctx context.Context, s *session, raw json.RawMessage) (any, *protocol.Error) {
	const m = protocol.MethodNodeRename
	var p protocol.RenameParams
	if e := decode(m, raw, &p); e != nil {
		return nil, e
	}
	if e := required(m, "nodeId", &p.NodeID); e != nil {
		return nil, e
	}
	if e := required(m, "displayName", &p.DisplayName); e != nil {
		return nil, e
	}
	err := g.store.RenameWith(ctx, s.actor, p.NodeID, p.DisplayName, func() {
		g.fan.broadcast(toOperators, protocol.EventNodeRenamed,
			protocol.RenamedEvent{NodeID: p.NodeID, DisplayName: p.DisplayName, TS: g.nowMs(), Actor: s.actor.String()})
	})
	if err != nil {
		return nil, g.storeError(err, p.NodeID)
	}
	g.log.Info("node renamed", "node", p.NodeID, "by", s.actor.String())
	return protocol.RenameResult(p), nil
}

func (g *Gateway) nodeList(_ context.Context, _ *session, raw json.RawMessage) (any, *protocol.Error) {
	var p struct{}
	if e := decode(protocol.MethodNodeList, raw, &p); e != nil {
		return nil, e
	}
	return g.listNodes(), nil
}

// listNodes is node.list's result: paired nodes and those that only ask.
func (g *Gateway) listNodes() protocol.NodeListResult {
	live := g.fan.connected()
	byID := make(map[string]*protocol.NodeInfo)
	var nodes []*protocol.NodeInfo
	for _, n := range g.store.Paired() {
		info := protocol.NewNodeInfo(n.NodeID, n.NodeMeta)
		info.Paired = true
		info.ApprovedAtMs, info.LastConnectedAtMs = n.ApprovedAtMs, n.LastConnectedAtMs
		byID[n.NodeID] = info
		nodes = append(nodes, info)
	}
	for _, r := range g.store.Pending() {
		if _, ok := byID[r.NodeID]; ok {
			continue // a paired node asking again is still the paired node
		}
		info := protocol.NewNodeInfo(r.NodeID, r.NodeMeta)
		byID[r.NodeID] = info
		nodes = append(nodes, info)
	}
	for id, l := range live {
		if info, ok := byID[id]; ok {
			info.Connected = true
			info.ConnectedAtMs = l.since.UnixMilli()
			info.RemoteIP = l.remoteIP
		}
	}
	keyed := make([]sortedNode, len(nodes))
	for i, n := range nodes {
		keyed[i] = sortedNode{n, nodeRank(n), nodeName(n)}
	}
	slices.SortFunc(keyed, compareNodes)
	res := protocol.NodeListResult{TS: g.nowMs(), Nodes: make([]protocol.NodeInfo, 0, len(nodes))}
	for _, k := range keyed {
		n := k.info
		if n.Caps == nil {
			n.Caps = []string{}
		}
		if n.Commands == nil {
			n.Commands = []string{}
		}
		res.Nodes = append(res.Nodes, *n)
	}
	return res
}

// sortedNode is a node.list entry with its sort keys, worked out once
// rather than on every comparison.
type sortedNode struct {
	info *protocol.NodeInfo
	rank int
	name string
}

// nodeRank orders connected nodes first, then paired ones, then the rest.
func nodeRank(n *protocol.NodeInfo) int {
	switch {
	case n.Connected:
		return 0
	case n.Paired:
		return 1
	}
	return 2
}

// nodeName is what node.list sorts a node by within its rank.
func nodeName(n *protocol.NodeInfo) string {
	if n.DisplayName != "" {
		return strings.ToLower(n.DisplayName)
	}
	return n.NodeID
}

// compareNodes orders node.list: connected first, then paired, then by
// name and id.
func compareNodes(a, b sortedNode) int {
	if d := a.rank - b.rank; d != 0 {
		return d
	}
	if d := strings.Compare(a.name, b.name); d != 0 {
		return d
	}
	return strings.Compare(a.info.NodeID, b.info.NodeID)
}
