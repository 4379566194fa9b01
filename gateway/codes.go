package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/store"
)

// Setup codes (issue 16): an operator approves ahead of time. The store
// keeps the codes (hashed), counts a use in the commit of its approval and
// decides whether a request fits; the gateway serves pairdeck.codes.*,
// takes a node's code with its node.pair.request or, from an OpenClaw node
// host (`openclaw node run --pair`), as connect's auth.bootstrapToken,
// limits unknown codes per network, and tells everyone what happened.
//
// A code is a secret: it is never logged, never echoed in an answer, and
// never kept by the gateway beyond the call that carries it.

// cgnat is 100.64.0.0/10, where Tailscale addresses live: OpenClaw's node
// host connects there over plain ws://.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// plainWSAllowed reports whether OpenClaw's node host connects to host over
// plain ws:// (its transport rule): loopback, private, link-local and CGNAT
// addresses, localhost, *.local and *.ts.net. Anywhere else it wants wss://,
// so a ws:// setup link there would be refused by the node.
func plainWSAllowed(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if a, err := netip.ParseAddr(host); err == nil {
		a = a.Unmap()
		return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || cgnat.Contains(a)
	}
	return host == "localhost" || strings.HasSuffix(host, ".local") || strings.HasSuffix(host, ".ts.net")
}

// checkPublicURL normalises Config.PublicURL as a setup link needs it and
// refuses a plain ws:// URL a node would refuse to use.
func checkPublicURL(s string) (string, error) {
	u, err := protocol.NormalizeSetupURL(s)
	if err != nil {
		return "", err
	}
	pu, _ := url.Parse(u)
	if pu.Scheme == "ws" && !plainWSAllowed(pu.Hostname()) {
		return "", fmt.Errorf("%s: nodes connect to %s only over wss:// (TLS); put a TLS proxy in front of the gateway and give its wss:// URL", u, pu.Hostname())
	}
	return u, nil
}

// setupURL is the gateway URL for setup links: Config.PublicURL, else the
// first address Serve listens on that nodes reach over plain ws://, else
// "" (listening on 0.0.0.0 or [::] says nothing about which address nodes
// use; a public address needs TLS in front).
func (g *Gateway) setupURL() string {
	if g.cfg.PublicURL != "" {
		return g.cfg.PublicURL
	}
	g.mu.Lock()
	addrs := append([]net.Addr(nil), g.listenAddrs...)
	g.mu.Unlock()
	for _, a := range addrs {
		ap, err := netip.ParseAddrPort(a.String())
		if err != nil || ap.Addr().IsUnspecified() || !plainWSAllowed(ap.Addr().Unmap().String()) {
			continue
		}
		u, err := protocol.NormalizeSetupURL("ws://" + netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String())
		if err == nil {
			return u
		}
	}
	return ""
}

func (g *Gateway) codesCreate(ctx context.Context, s *session, raw json.RawMessage) (any, *protocol.Error) {
	const m = protocol.MethodCodesCreate
	var p protocol.CodeCreateParams
	if e := decode(m, raw, &p); e != nil {
		return nil, e
	}
	if err := p.Check(); err != nil {
		return nil, protocol.InvalidField(m, err)
	}
	// Approving a node that may run commands on its machine takes
	// operator.admin; so does a code that would approve one.
	if p.Scope.AllowExec && !protocol.HasScope(s.scopes, protocol.ScopeAdmin) {
		return nil, missingScope(protocol.ScopeAdmin)
	}
	code, secret, err := g.store.CreateCode(ctx, s.actor, p, func(c protocol.SetupCode) {
		g.fan.broadcast(toPairing, protocol.EventCodeCreated, protocol.CodeEvent{Code: c, TS: g.nowMs(), Actor: s.actor.String()})
	})
	if err != nil {
		return nil, g.codeStoreError(m, err)
	}
	g.log.Info("setup code created", "code", code.ID, "uses", code.MaxUses, "expires", time.UnixMilli(code.ExpiresAtMs).UTC().Format(time.RFC3339), "by", s.actor.String())
	res := protocol.CodeCreateResult{Code: code, Secret: secret}
	if u := g.setupURL(); u != "" {
		link, err := protocol.EncodeSetupLink(protocol.SetupPayload{URL: u, BootstrapToken: secret, ExpiresAtMs: code.ExpiresAtMs})
		if err == nil {
			res.SetupLink = link
		}
	}
	return res, nil
}

func (g *Gateway) codesList(_ context.Context, _ *session, raw json.RawMessage) (any, *protocol.Error) {
	var p protocol.CodeListParams
	if e := decode(protocol.MethodCodesList, raw, &p); e != nil {
		return nil, e
	}
	codes := g.store.ListCodes(p.All)
	if codes == nil {
		codes = []protocol.SetupCode{}
	}
	return protocol.CodeListResult{Codes: codes}, nil
}

func (g *Gateway) codesRevoke(ctx context.Context, s *session, raw json.RawMessage) (any, *protocol.Error) {
	const m = protocol.MethodCodesRevoke
	var p protocol.CodeRevokeParams
	if e := decode(m, raw, &p); e != nil {
		return nil, e
	}
	if e := required(m, "id", &p.ID); e != nil {
		return nil, e
	}
	if err := protocol.CheckReason("reason", p.Reason); err != nil {
		return nil, protocol.InvalidField(m, err)
	}
	res, err := g.store.RevokeCode(ctx, s.actor, p.ID, p.Reason, func(r protocol.CodeRevokeResult) {
		if r.Revoked {
			g.fan.broadcast(toPairing, protocol.EventCodeRevoked, protocol.CodeEvent{Code: r.Code, TS: g.nowMs(), Actor: s.actor.String()})
		}
	})
	if err != nil {
		if errors.Is(err, store.ErrUnknownCode) {
			return nil, protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonUnknownCode,
				"unknown code id %s: `pairdeck codes list --all` shows the codes this gateway keeps", p.ID)
		}
		return nil, g.codeStoreError(m, err)
	}
	g.log.Info("setup code revoked", "code", res.Code.ID, "revoked", res.Revoked, "by", s.actor.String())
	return res, nil
}

// codeStoreError words the store's refusals of code calls.
func (g *Gateway) codeStoreError(method string, err error) *protocol.Error {
	switch {
	case errors.Is(err, store.ErrTooManyCodes):
		e := protocol.NewError(protocol.CodeUnavailable, protocol.ReasonQueueFull,
			"%d setup codes can still be used, the most a gateway keeps: revoke some first (`pairdeck codes list`, `pairdeck codes revoke ID`)", protocol.CodeMaxActive)
		return e
	case errors.Is(err, store.ErrInvalid):
		return protocol.InvalidParams(method, strings.TrimPrefix(err.Error(), store.ErrInvalid.Error()+": "))
	}
	return g.storeError(err, "")
}

// codeBudget refuses a request with a code from a network whose budget of
// unknown codes is spent, before the code is looked at.
func (g *Gateway) codeBudget(s *session) *protocol.Error {
	if ok, wait := g.codeLimit.peek(s.prefix); !ok {
		return rateLimited(wait, "too many unknown setup codes from %s (a request without a code still goes to the queue)", networkName(s.remoteIP, s.prefix))
	}
	return nil
}

// fileWithCode files a node's request carrying a setup code (p.Code): the
// store approves it in the same commit that counts the use, or queues it
// and says why the code approved nothing. Operators hear of it in commit
// order: the request, and the approval with the code as its actor and
// the code's new use count. The node's own copy of the approval (with its
// token) is the caller's to send. An unknown code counts against the
// node's network.
func (g *Gateway) fileWithCode(ctx context.Context, s *session, p protocol.PairRequestParams) (store.RequestOutcome, *protocol.Error) {
	var resolved protocol.ResolvedEvent
	out, err := g.store.RequestWithCode(ctx, s.actor, p,
		func(nodeID string) error {
			if e := g.refuseBlocked(nodeID, p.RemoteIP); e != nil {
				return e
			}
			return nil
		},
		func(o store.RequestOutcome) {
			g.fan.broadcast(toPairing, protocol.EventPairRequested, g.decorate(o.Request))
			if !o.Approved {
				return
			}
			actor := "code"
			if o.Code != nil {
				actor = protocol.CodeActor(o.Code.ID, o.Code.CreatedBy).String()
			}
			resolved = protocol.ResolvedEvent{RequestID: o.Request.RequestID, NodeID: o.Request.NodeID, Decision: protocol.DecisionApproved, TS: g.nowMs(), Actor: actor}
			g.fan.broadcast(toPairing, protocol.EventPairResolved, resolved)
			if o.Code != nil {
				g.fan.broadcast(toPairing, protocol.EventCodeUsed, protocol.CodeEvent{Code: *o.Code, NodeID: o.Request.NodeID, RequestID: o.Request.RequestID, TS: g.nowMs(), Actor: actor})
			}
			g.handOver(o.Request, o.Node.Token)
			g.nodeResolved(o.Request.NodeID)
		})
	g.pokeExpiry()
	if err != nil {
		return out, g.storeError(err, p.NodeID)
	}
	out.Request = g.decorate(out.Request)
	codeID, why := "", ""
	if out.Code != nil {
		codeID = out.Code.ID
	}
	if out.Refusal != nil {
		why = out.Refusal.Reason
		if why == protocol.ReasonCodeInvalid {
			g.codeLimit.failed(s.prefix)
		}
	}
	g.log.Info("pairing requested with a setup code", "node", out.Request.NodeID, "request", out.Request.RequestID,
		"created", out.Created, "approved", out.Approved, "code", codeID, "refused", why, "repeat", out.Repeat, "addr", s.remoteIP)
	return out, nil
}

// requestWithCode is node.pair.request with a code, from a node for
// itself. The approval reaches the node after the answer, as
// node.pair.resolved with its token. A code the gateway does not know is
// an error (CODE_INVALID); any other refusal of the code leaves the request
// waiting for a person, and the result says why.
func (g *Gateway) requestWithCode(ctx context.Context, s *session, p protocol.PairRequestParams) (any, *protocol.Error) {
	if e := g.codeBudget(s); e != nil {
		return nil, e
	}
	out, e := g.fileWithCode(ctx, s, p)
	if e != nil {
		return nil, e
	}
	req := out.Request
	if out.Approved {
		ev := protocol.ResolvedEvent{RequestID: req.RequestID, NodeID: req.NodeID, Decision: protocol.DecisionApproved, TS: g.nowMs(), Token: out.Node.Token}
		afterReply(ctx, func() { g.fan.toNode(req.NodeID, protocol.EventPairResolved, ev) })
		return protocol.PairRequestResult{Status: protocol.DecisionApproved, Request: req, Created: out.Created}, nil
	}
	if out.Refusal != nil && out.Refusal.Reason == protocol.ReasonCodeInvalid {
		e := protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonCodeInvalid,
			"this gateway has no such setup code: check that it was copied whole, or ask its operator for a new one (`pairdeck codes create`); request %s waits for an operator instead", req.RequestID)
		e.Details.CurrentRequestID = req.RequestID
		return nil, e
	}
	afterReply(ctx, func() {
		if !g.autoApprove(g.ctx, req) && out.Created {
			g.notify(req)
		}
	})
	return protocol.PairRequestResult{Status: "pending", Request: req, Created: out.Created, Code: out.Refusal}, nil
}

// redeemAtConnect takes an OpenClaw node host's auth.bootstrapToken as a
// setup code, before hello-ok, and answers as OpenClaw's gateway answers
// its host: approved, the node is let in with its token in hello-ok
// (auth.method "bootstrap-token"); a known code that approves nothing
// (expired, used up, revoked, out of scope) leaves the request in the queue
// and refuses the connect with PAIRING_REQUIRED and wait_then_retry, so the
// host retries until a person approves; a code the gateway does not know,
// or a network out of unknown codes, is AUTH_BOOTSTRAP_TOKEN_INVALID,
// which the host prints and exits on. The same device presenting a code it
// used again (a lost hello-ok) is approved again with a fresh token, no
// use counted (the store's repeat).
func (g *Gateway) redeemAtConnect(c *wsConn, sess *session) *refusal {
	ctx, cancel := context.WithTimeout(g.ctx, 5*time.Second)
	defer cancel()
	if e := g.codeBudget(sess); e != nil {
		return bootstrapInvalid(e.Message, e.RetryAfterMs)
	}
	silent := true
	p := protocol.PairRequestParams{Silent: &silent, Code: sess.bootstrap}
	sess.bootstrap = "" // kept no longer than this call
	done, e := g.nodeOwnRequest(sess, &p, false)
	if e != nil {
		return &refusal{err: g.forNode(sess, protocol.MethodPairRequest, e), status: websocket.StatusPolicyViolation, reason: closeReason(e.Message)}
	}
	out, e := g.fileWithCode(ctx, sess, p)
	done()
	if e != nil {
		return &refusal{err: g.forNode(sess, protocol.MethodPairRequest, e), status: websocket.StatusPolicyViolation, reason: closeReason(e.Message)}
	}
	req := out.Request
	switch {
	case out.Approved:
		g.pickups.drop(sess.nodeID) // handed over in hello-ok now
		sess.issued, sess.approved = out.Node.Token, req
		sess.filed, sess.filedCreated = req.RequestID, out.Created
		g.pairedIn(c, sess, protocol.AuthMethodBootstrapToken)
		return g.settle(c, sess)
	case out.Refusal != nil && out.Refusal.Reason == protocol.ReasonCodeInvalid:
		return bootstrapInvalid("unauthorized: this gateway has no such setup code: check that the setup link was copied whole, or ask its operator for a new one (`pairdeck codes create`)", 0)
	}
	sess.filed, sess.filedCreated = req.RequestID, out.Created
	if out.Created {
		g.notify(req)
	}
	why := "the setup code approved nothing"
	if out.Refusal != nil {
		why = out.Refusal.Message
	}
	e = protocol.NewError(protocol.CodeNotPaired, protocol.DetailPairingRequired,
		"pairing required: %s; request %s waits for an operator (`pairdeck nodes approve %s`)", why, req.RequestID, req.RequestID)
	e.Retryable = true
	no := false
	e.Details.RefusalDetails = &protocol.RefusalDetails{
		RequestID: req.RequestID, Reason: "not-paired", DeviceID: sess.nodeID, RequestedRole: protocol.RoleNode,
		RemediationHint:     "Approve this node from the pending pairing requests.",
		RecommendedNextStep: protocol.NextStepWaitThenRetry, Retryable: true, PauseReconnect: &no,
	}
	return &refusal{err: e, status: websocket.StatusPolicyViolation, reason: "pairing required"}
}

// bootstrapInvalid is the refusal of a setup code an OpenClaw node host
// presented that the gateway will not look at or does not know.
func bootstrapInvalid(msg string, retryAfterMs int64) *refusal {
	e := protocol.NewError(protocol.CodeInvalidRequest, protocol.DetailAuthBootstrapTokenInvalid, "%s", msg)
	e.Details.RefusalDetails = &protocol.RefusalDetails{AuthReason: "bootstrap_token_invalid", RecommendedNextStep: protocol.NextStepReviewAuthConfig, RetryAfterMs: retryAfterMs}
	e.RetryAfterMs = retryAfterMs
	return &refusal{err: e, status: websocket.StatusPolicyViolation, reason: "setup code refused"}
}
