package gateway

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"github.com/pairdeck/pairdeck/protocol"
)

// refusal is a failed connect: the error answer and the close that follows.
type refusal struct {
	err    *protocol.Error
	status websocket.StatusCode
	reason string        // close reason, short (at most 123 bytes)
	delay  time.Duration // how long to hold the answer back (a guesser's)
}

func refuse(status websocket.StatusCode, code, reason, format string, args ...any) *refusal {
	return &refusal{err: protocol.NewError(code, reason, format, args...), status: status, reason: "connect refused"}
}

// handshake sends the challenge, reads the first frame and, if it is a
// valid connect, answers hello-ok and joins the fan-out. It returns nil when
// the connection is being closed.
func (g *Gateway) handshake(c *wsConn) *session {
	nonce := uuid.NewString()
	c.ws.SetReadLimit(g.cfg.PreHandshakeLimit)
	c.push(outFrame{event: protocol.NewEvent(protocol.EventChallenge,
		protocol.ChallengeEvent{Nonce: nonce, TS: g.nowMs()})})

	timer := time.AfterFunc(g.cfg.HandshakeTimeout, func() {
		c.logger().Info("handshake timed out", "after", g.cfg.HandshakeTimeout)
		c.requestClose(websocket.StatusNormalClosure, "handshake timeout", true)
	})
	typ, data, err := c.ws.Read(g.ctx)
	if !timer.Stop() {
		return nil
	}
	if err != nil {
		c.readFailed(err)
		return nil
	}
	var sess *session
	c.work(func() { sess = g.admit(c, nonce, typ, data) })
	return sess
}

// admit answers the first frame: hello-ok and the fan-out for a valid
// connect, a refusal and a close otherwise (then nil).
func (g *Gateway) admit(c *wsConn, nonce string, typ websocket.MessageType, data []byte) *session {
	c.dispatchMu.Lock()
	defer c.dispatchMu.Unlock()
	if c.stopping {
		return nil
	}
	id := "invalid"
	sess, ref := g.connect(c, nonce, typ, data, &id)
	if ref == nil {
		ref = g.settle(c, sess)
	}
	switch {
	case ref != nil || !sess.isNode() || sess.paired:
	case sess.bootstrap != "":
		ref = g.redeemAtConnect(c, sess)
	case !sess.asksItself:
		if g.hostRequest(c, sess); sess.paired {
			ref = g.settle(c, sess) // approved at once by a rule
		}
	}
	if ref != nil {
		c.logger().Info("connect refused", "reason", ref.err.Reason(), "msg", ref.err.Message, "heldFor", ref.delay)
		if ref.delay > 0 && !g.hold(ref.delay) {
			return nil
		}
		c.push(outFrame{res: protocol.ErrorResponse(id, ref.err)})
		c.requestClose(ref.status, ref.reason, true)
		return nil
	}
	c.ws.SetReadLimit(g.readLimit(sess))
	if !sess.isNode() {
		c.growQueue()
	}
	c.sub.sess = sess
	if sess.isNode() && !sess.paired {
		c.watchUnpaired()
	}
	hello := protocol.OKResponse(id, g.hello(sess, sess.issued))
	g.join(c.sub, func() { c.push(outFrame{res: hello}) })
	c.greeted = true
	c.logger().Info("connected", "role", sess.role, "client", sess.client.ID, "node", sess.nodeID, "paired", sess.paired)
	return sess
}

// settle tells the connection caps who the socket turned out to be; a
// paired node finds no room only when paired nodes hold every socket but
// those kept for operators.
func (g *Gateway) settle(c *wsConn, sess *session) *refusal {
	state := slotOperator
	switch {
	case sess.isNode() && sess.paired:
		state = slotPairedNode
	case sess.isNode():
		state = slotUnpaired
	}
	if err := g.adm.settle(c.slot, state); err != nil {
		return &refusal{err: rateLimited(nodeCapWait, "%v (%d; the rest are kept for operators)", err, g.adm.maxConns-operatorReserve),
			status: websocket.StatusTryAgainLater, reason: "gateway busy"}
	}
	return nil
}

// nodeCapWait is the retry hint for a node refused by the connection cap.
const nodeCapWait = 30 * time.Second

// readLimit is the largest frame a session may send: a node only ever
// sends small requests.
func (g *Gateway) readLimit(sess *session) int64 {
	if sess.isNode() {
		return g.cfg.NodeMaxPayload
	}
	return g.cfg.MaxPayload
}

// hold waits d, or less when the gateway shuts down (then false).
func (g *Gateway) hold(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-g.loopStop:
		return false
	}
}

// connect validates the first frame and authenticates the client. It sets
// *id to the frame's id as soon as one is known, for the answer.
func (g *Gateway) connect(c *wsConn, nonce string, typ websocket.MessageType, data []byte, id *string) (*session, *refusal) {
	policy := websocket.StatusPolicyViolation
	if typ != websocket.MessageText {
		return nil, refuse(policy, protocol.CodeInvalidRequest, protocol.ReasonInvalidParams,
			"frames are JSON text; the first must be a connect request")
	}
	frame, err := protocol.DecodeFrame(data)
	if err != nil {
		var fe *protocol.FrameError
		if errors.As(err, &fe) && fe.ID != "" {
			*id = fe.ID
		}
		return nil, refuse(policy, protocol.CodeInvalidRequest, protocol.ReasonInvalidParams,
			"%v; the first frame must be a connect request", err)
	}
	req := frame.Request
	if req == nil || req.Method != protocol.MethodConnect {
		if req != nil {
			*id = req.ID
		} else if frame.Response != nil {
			*id = frame.Response.ID
		}
		return nil, refuse(policy, protocol.CodeInvalidRequest, protocol.ReasonInvalidParams,
			"the first frame must be {\"type\":\"req\",\"method\":\"connect\",...}: answer the connect.challenge before anything else")
	}
	if e := checkFrame(req); e != nil {
		*id = answerID(req)
		return nil, &refusal{err: e, status: policy, reason: "connect refused"}
	}
	*id = req.ID

	var p protocol.ConnectParams
	if err := protocol.DecodeParams(req.Params, &p); err != nil {
		return nil, &refusal{err: protocol.InvalidParams(protocol.MethodConnect, err.Error()), status: policy, reason: "connect refused"}
	}
	// Every string the client sent, before any of it is used or logged.
	if err := checkParams(&p); err != nil {
		return nil, &refusal{err: protocol.InvalidField(protocol.MethodConnect, err), status: policy, reason: "connect refused"}
	}
	if err := checkClient(p.Client); err != nil {
		return nil, &refusal{err: protocol.InvalidField(protocol.MethodConnect, err), status: policy, reason: "connect refused"}
	}
	version, ok := protocol.Negotiate(p.MinProtocol, p.MaxProtocol)
	if !ok {
		return nil, &refusal{err: protocol.ProtocolMismatch(p.MinProtocol, p.MaxProtocol),
			status: websocket.StatusProtocolError, reason: "protocol mismatch"}
	}
	role := p.Role
	if role == "" {
		role = protocol.RoleOperator
	}
	if role != protocol.RoleOperator && role != protocol.RoleNode {
		return nil, refuse(policy, protocol.CodeInvalidRequest, protocol.ReasonInvalidParams,
			"invalid connect params: role must be %q or %q, got %q", protocol.RoleOperator, protocol.RoleNode, p.Role)
	}
	if strings.TrimSpace(p.Client.ID) == "" {
		return nil, refuse(policy, protocol.CodeInvalidRequest, protocol.ReasonInvalidParams,
			"invalid connect params: client.id is required")
	}
	token := ""
	if p.Auth != nil {
		token = p.Auth.Token
	}

	sess := &session{
		connID:   c.connID,
		protocol: version,
		role:     role,
		client:   p.Client,
		caps:     p.Caps,
		commands: p.Commands,
		remoteIP: c.remoteIP,
		prefix:   c.prefix,
		since:    g.cfg.Now(),
		actor:    protocol.ConnectActor(p.Client, role, "", c.remoteAddr), // DeviceID once proved
	}
	signed := protocol.SignedPayload{
		ClientID: p.Client.ID, ClientMode: p.Client.Mode, Role: role, Scopes: p.Scopes,
		Token: signedToken(req.Params), Platform: p.Client.Platform, DeviceFamily: p.Client.DeviceFamily,
	}
	if role == protocol.RoleOperator {
		return g.connectOperator(c, sess, p, token, nonce, signed)
	}
	return g.connectNode(c, sess, p, token, nonce, signed)
}

func (g *Gateway) connectOperator(c *wsConn, sess *session, p protocol.ConnectParams, token, nonce string, signed protocol.SignedPayload) (*session, *refusal) {
	// The token is compared first, in constant time: a correct token is
	// never refused for what others sent from the same network.
	if token == "" || !sameSecret(token, g.cfg.OperatorToken) {
		r := refuse(websocket.StatusPolicyViolation, protocol.CodeInvalidRequest, protocol.ReasonTokenInvalid,
			"operator token missing or wrong: pass the gateway's token in auth.token (--token-file, $OPENCLAW_GATEWAY_TOKEN, or <state>/pairdeck/gateway.token on the gateway's machine)")
		if token != "" {
			g.tokenRefused(c, sess, r)
		}
		return nil, r
	}
	if p.Device != nil {
		if r := g.checkDevice(*p.Device, nonce, signed); r != nil {
			return nil, r
		}
		sess.actor.DeviceID = strings.ToLower(p.Device.ID)
	}
	sess.scopes = grantScopes(p.Scopes)
	sess.authMethod = "token"
	return sess, nil
}

func (g *Gateway) connectNode(c *wsConn, sess *session, p protocol.ConnectParams, token, nonce string, signed protocol.SignedPayload) (*session, *refusal) {
	if p.Device == nil {
		return nil, refuse(websocket.StatusPolicyViolation, protocol.CodeInvalidRequest, protocol.ReasonInvalidParams,
			"a node must present a device identity (connect params.device, signed over the challenge nonce)")
	}
	if r := g.checkDevice(*p.Device, nonce, signed); r != nil {
		return nil, r
	}
	sess.nodeID = strings.ToLower(p.Device.ID)
	sess.actor.DeviceID = sess.nodeID
	sess.scopes = []string{}
	sess.authMethod = protocol.AuthMethodNone
	sess.asksItself = strings.HasPrefix(p.UserAgent, pairdeckNodeAgent)
	if len(p.Permissions) > 0 {
		_ = json.Unmarshal(p.Permissions, &sess.permissions) // keeps the booleans, never fails
		if err := sess.permissions.Check(); err != nil {
			return nil, &refusal{err: protocol.InvalidField(protocol.MethodConnect, err), status: websocket.StatusPolicyViolation, reason: "connect refused"}
		}
	}
	// A node's token comes in auth.token (pairdeck's nodes, OpenClaw
	// 2026.4/2026.7 hosts) or auth.deviceToken (OpenClaw hosts); auth.token
	// may instead be the gateway's shared token (hosts started with
	// OPENCLAW_GATEWAY_TOKEN), which is never taken for a node's token.
	var auth protocol.ConnectAuth
	if p.Auth != nil {
		auth = *p.Auth
	}
	shared := token != "" && sameSecret(token, g.cfg.OperatorToken)
	var tokens []string
	if token != "" && !shared {
		tokens = append(tokens, token)
	}
	if auth.DeviceToken != "" && auth.DeviceToken != token {
		tokens = append(tokens, auth.DeviceToken)
	}
	for _, t := range tokens {
		if _, ok := g.store.Verify(sess.nodeID, t); ok {
			g.pickups.drop(sess.nodeID) // it has its token
			g.pairedIn(c, sess, protocol.AuthMethodDeviceToken)
			return sess, nil
		}
	}
	if len(tokens) > 0 {
		r := refuse(websocket.StatusPolicyViolation, protocol.CodeNotPaired, protocol.ReasonTokenInvalid,
			"node %s is not paired with this token: reconnect without a token and call node.pair.request to pair again (an OpenClaw node host: clear its stored device token)", sess.nodeID)
		g.tokenRefused(c, sess, r)
		return nil, r
	}
	if g.takeToken(c, sess) {
		return sess, nil // approved while it was away: hello-ok hands the token over
	}
	if auth.BootstrapToken != "" {
		sess.bootstrap = auth.BootstrapToken // a setup code: redeemed before hello-ok
		return sess, nil
	}
	if shared {
		if _, ok := g.store.PairedNode(sess.nodeID); ok {
			g.pairedIn(c, sess, protocol.AuthMethodToken)
			return sess, nil
		}
	}
	return sess, nil // unpaired: its request is filed before hello-ok (hostRequest)
}

// tokenRefused counts a wrong token against the client's network and
// records it for the audit log (aggregated: refusalAudit). Once the
// network's budget is spent, the refusal is answered only after
// Config.FailedAuthDelay, which slows a guesser down without ever holding
// up a client whose credential is right.
func (g *Gateway) tokenRefused(c *wsConn, sess *session, r *refusal) {
	g.refusedTokens.add(sess.actor, sess.nodeID, c.prefix, g.cfg.Now())
	if g.authLimit.failed(c.prefix) && g.cfg.FailedAuthDelay > 0 {
		r.delay = g.cfg.FailedAuthDelay
	}
}

// checkDevice verifies a signed device identity against the challenge.
func (g *Gateway) checkDevice(d protocol.DeviceAuth, nonce string, signed protocol.SignedPayload) *refusal {
	err := protocol.VerifyDevice(d, nonce, g.cfg.Now(), signed)
	if err == nil {
		return nil
	}
	hint := "sign the v3 payload with the device key"
	switch {
	case errors.Is(err, protocol.ErrDeviceNonce):
		hint = "sign the nonce of this connection's connect.challenge"
	case errors.Is(err, protocol.ErrDeviceStale):
		hint = "check the device's clock and sign just before connecting"
	case errors.Is(err, protocol.ErrDeviceID):
		hint = "device.id must be the hex SHA-256 of the raw public key"
	}
	return refuse(websocket.StatusPolicyViolation, protocol.CodeInvalidRequest, protocol.ReasonInvalidParams,
		"device identity refused: %v: %s", err, hint)
}

// grantScopes gives an operator exactly the scopes it asked for, once
// each, in its order: the shared token allows every scope, and OpenClaw's
// clients take hello-ok's auth.scopes as the truth. Scopes pairdeck does
// not define (operator.approvals, operator.talk.secrets, …) are granted as
// asked; they allow nothing here. Asking for none grants none.
func grantScopes(asked []string) []string {
	granted := make([]string, 0, len(asked))
	for _, s := range asked {
		if s != "" && !slices.Contains(granted, s) {
			granted = append(granted, s)
		}
	}
	return granted
}

// signedToken is the token a client's device signature covers: auth.token,
// else auth.deviceToken, else auth.bootstrapToken, else "" — each taken
// when present, even empty, as OpenClaw's clients pick it (JavaScript's
// ??), so it is read from the params as sent rather than from decoded
// strings, which cannot tell "" from absent.
func signedToken(params json.RawMessage) string {
	var p struct {
		Auth map[string]json.RawMessage `json:"auth"`
	}
	if json.Unmarshal(params, &p) != nil {
		return ""
	}
	for _, key := range [...]string{"token", "deviceToken", "bootstrapToken"} {
		raw, ok := p.Auth[key]
		if !ok || string(raw) == "null" {
			continue
		}
		var v string
		if json.Unmarshal(raw, &v) == nil {
			return v
		}
	}
	return ""
}

// sameSecret compares secrets in constant time, lengths included.
func sameSecret(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// join queues a connection's hello-ok (via greet) and adds it to the
// fan-out as one step (fanout.add): no event can precede hello-ok, and
// every change announced after it was queued reaches the client. Changes
// are announced by the store's committer once durable and before anyone
// can read them, so a change announced earlier is in any list the client
// asks for after hello-ok: it misses nothing and gets no event twice.
// greet cannot block for long: the queue holds at most the challenge
// (Config.SendQueue is at least 2).
func (g *Gateway) join(sub *subscriber, greet func()) {
	g.orderMu.Lock()
	defer g.orderMu.Unlock()
	if g.fan.add(sub, greet) {
		g.presenceVersion.Add(1)
		g.fan.broadcast(toReaders, protocol.EventNodePresence,
			protocol.PresenceEvent{NodeID: sub.sess.nodeID, Connected: true, TS: g.nowMs()})
	}
}

// leave removes a connection from the fan-out and announces a node that
// went offline.
func (g *Gateway) leave(sub *subscriber) {
	sub.stop()
	g.orderMu.Lock()
	defer g.orderMu.Unlock()
	if g.fan.remove(sub) {
		g.presenceVersion.Add(1)
		g.fan.broadcast(toReaders, protocol.EventNodePresence,
			protocol.PresenceEvent{NodeID: sub.sess.nodeID, Connected: false, TS: g.nowMs()})
	}
}

// hello builds the hello-ok payload in the shape the session's protocol
// version's clients validate: version 4 always states the role and scopes
// granted (auth), version 3 only when a device token is handed over, since
// its schema requires one in auth.
func (g *Gateway) hello(sess *session, deviceToken string) protocol.HelloOK {
	tickMs := g.cfg.TickInterval.Milliseconds()
	if tickMs < 0 {
		tickMs = 0
	}
	h := protocol.HelloOK{
		Type:     "hello-ok",
		Protocol: sess.protocol,
		Server:   protocol.ServerInfo{Version: g.cfg.Version, ConnID: sess.connID},
		Features: protocol.Features{Methods: protocol.Methods, Events: protocol.Events},
		Snapshot: g.snapshot(sess),
		Policy: protocol.Policy{
			MaxPayload:       g.readLimit(sess),
			MaxBufferedBytes: 2 * g.cfg.MaxPayload,
			TickIntervalMs:   tickMs,
		},
	}
	if sess.protocol >= 4 || deviceToken != "" {
		scopes := sess.scopes
		if scopes == nil {
			scopes = []string{}
		}
		h.Auth = &protocol.HelloAuth{Role: sess.role, Scopes: scopes, Method: sess.authMethod}
		if deviceToken != "" {
			h.Auth.DeviceToken, h.Auth.IssuedAtMs = deviceToken, g.nowMs()
		}
	}
	return h
}

// snapshot is hello-ok's view of the gateway, shaped like OpenClaw's
// (presence, health, stateVersion, uptimeMs, authMode) so its clients accept
// it. Only operators with operator.read see who is online and the counts.
func (g *Gateway) snapshot(sess *session) map[string]any {
	presence := []map[string]any{}
	health := map[string]any{"ok": true, "pairingEnabled": g.PairingEnabled()}
	if !sess.isNode() && protocol.HasScope(sess.scopes, protocol.ScopeRead) {
		for id, live := range g.fan.connected() {
			e := map[string]any{"deviceId": id, "mode": "node", "roles": []string{"node"}, "reason": "connect", "ts": live.since.UnixMilli()}
			if live.remoteIP != "" {
				e["ip"] = live.remoteIP
			}
			presence = append(presence, e)
		}
		slices.SortFunc(presence, func(a, b map[string]any) int {
			return strings.Compare(a["deviceId"].(string), b["deviceId"].(string))
		})
		health["pending"], health["paired"] = g.store.Counts()
		health["blocked"] = len(g.access.List())
	}
	return map[string]any{
		"presence":     presence,
		"health":       health,
		"stateVersion": map[string]any{"presence": g.presenceVersion.Load(), "health": 0},
		"uptimeMs":     g.cfg.Now().Sub(g.started).Milliseconds(),
		"authMode":     "token",
	}
}
