package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/pairdeck/pairdeck/policy"
	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/store"
)

// accessFlushEvery is how often refused-attempt counters are written to
// access.json when they changed: often enough to survive a crash roughly
// intact, rarely enough that a blocked node asking in a loop costs nothing.
const accessFlushEvery = 10 * time.Second

// refusalEvery is the least time between two pairdeck.block.refused events
// (and log lines) for one node.
const refusalEvery = time.Second

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// accessLoop writes changed counters (the block list's, the refused
// tokens') now and then, and once more at shutdown.
func (g *Gateway) accessLoop() {
	defer g.loops.Done()
	t := time.NewTicker(accessFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-g.loopStop:
			if err := g.access.Flush(); err != nil {
				g.log.Warn("save block list counters", "err", err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			g.flushTokenAudit(ctx)
			cancel()
			return
		case <-t.C:
			if err := g.access.Flush(); err != nil {
				g.log.Warn("save block list counters", "err", err)
			}
			g.flushTokenAudit(g.ctx)
		}
	}
}

// refusalClock remembers when each blocked node's refusal was last
// announced.
type refusalClock struct {
	mu   sync.Mutex
	last map[string]time.Time
}

func (c *refusalClock) due(nodeID string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last == nil {
		c.last = map[string]time.Time{}
	}
	if t, ok := c.last[nodeID]; ok && now.Sub(t) < refusalEvery {
		return false
	}
	c.last[nodeID] = now
	return true
}

func (c *refusalClock) forget(nodeID string) {
	c.mu.Lock()
	delete(c.last, nodeID)
	c.mu.Unlock()
}

// refuseBlocked answers a request for a blocked node: counted, announced
// (at most once a second per node), never queued. It returns nil for a node
// that is not blocked.
func (g *Gateway) refuseBlocked(nodeID, remoteIP string) *protocol.Error {
	now := g.cfg.Now()
	b, blocked := g.access.Refuse(nodeID, remoteIP, now)
	if !blocked {
		return nil
	}
	// Logged and announced at most once a second per node: a node asking
	// in a loop must not flood the log or the consoles.
	if g.refusals.due(b.NodeID, now) {
		g.log.Info("blocked node refused", "node", b.NodeID, "attempts", b.Attempts, "addr", remoteIP)
		g.fan.broadcast(toPairing, protocol.EventBlockRefused, protocol.BlockEvent{Node: b, TS: now.UnixMilli()})
	}
	return protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonBlocked,
		"node %s is blocked on this gateway, so its pairing requests are refused; ask the gateway's operator to unblock it", b.NodeID)
}

// saveFailed is the answer when access.json cannot be written.
func saveFailed(what string, err error) *protocol.Error {
	e := protocol.NewError(protocol.CodeUnavailable, protocol.ReasonStoreFailed,
		"the gateway could not save %s (%v); nothing was changed: check the state dir's disk space and permissions, then retry", what, err)
	e.Retryable = true
	return e
}

// audit records a policy change in audit.jsonl. The change is already
// made; a failure here is logged, not undone.
func (g *Gateway) audit(ctx context.Context, actor store.Actor, action string, fields map[string]any) {
	if err := g.store.Audit(ctx, actor, action, fields); err != nil {
		g.log.Warn("audit "+action, "err", err)
	}
}

// setPairing switches pairing, remembers it, tells every operator and
// audits it.
func (g *Gateway) setPairing(ctx context.Context, actor store.Actor, on bool) (protocol.PairingState, *protocol.Error) {
	g.orderMu.Lock()
	sw, changed, err := g.access.SetPairing(on, actor.String(), g.cfg.Now())
	if err != nil {
		g.orderMu.Unlock()
		return protocol.PairingState{}, saveFailed("the pairing switch", err)
	}
	if changed {
		g.fan.broadcast(toOperators, protocol.EventPairingChanged,
			protocol.PairingChangedEvent{Enabled: on, TS: sw.ChangedAtMs, Actor: sw.ChangedBy})
	}
	g.orderMu.Unlock()
	if changed {
		g.audit(ctx, actor, "pairing-"+onOff(on), nil)
		g.log.Info("pairing switched", "enabled", on, "by", actor.String())
	}
	return sw.State(), nil
}

func (g *Gateway) pairingGet(_ context.Context, _ *session, raw json.RawMessage) (any, *protocol.Error) {
	var p struct{}
	if e := decode(protocol.MethodPairingGet, raw, &p); e != nil {
		return nil, e
	}
	return g.access.Pairing().State(), nil
}

func (g *Gateway) pairingSet(ctx context.Context, s *session, raw json.RawMessage) (any, *protocol.Error) {
	var p protocol.PairingSetParams
	if e := decode(protocol.MethodPairingSet, raw, &p); e != nil {
		return nil, e
	}
	if p.Enabled == nil {
		return nil, protocol.InvalidParams(protocol.MethodPairingSet, "must have required property 'enabled'")
	}
	return g.setPairing(ctx, s.actor, *p.Enabled)
}

func (g *Gateway) blockAdd(ctx context.Context, s *session, raw json.RawMessage) (any, *protocol.Error) {
	const m = protocol.MethodBlockAdd
	var p protocol.BlockParams
	if e := decode(m, raw, &p); e != nil {
		return nil, e
	}
	if e := required(m, "nodeId", &p.NodeID); e != nil {
		return nil, e
	}
	if err := protocol.CheckReason("reason", p.Reason); err != nil {
		return nil, protocol.InvalidField(m, err)
	}
	id := policy.ID(p.NodeID)
	name := strings.TrimSpace(p.DisplayName)

	g.orderMu.Lock()
	pending, hasPending := g.store.PendingForNode(id)
	if name == "" {
		name = pending.DisplayName
	}
	if name == "" {
		if n, ok := g.store.PairedNode(id); ok {
			name = n.DisplayName
		}
	}
	b, created, err := g.access.BlockWithReason(id, name, s.actor.String(), p.Reason, g.cfg.Now())
	if err != nil {
		g.orderMu.Unlock()
		return nil, saveFailed("the block list", err)
	}
	if created {
		fields := map[string]any{"nodeId": id, "displayName": b.DisplayName}
		if p.Reason != "" {
			fields["reason"] = p.Reason
		}
		g.audit(ctx, s.actor, "blocked", fields)
	}
	res := protocol.BlockResult{Node: b, Created: created}
	// A blocked node's waiting request goes with the block: rejected by
	// whoever blocked it, like any rejection.
	if hasPending {
		req, err := g.store.RejectWithReason(ctx, s.actor, pending.RequestID, p.Reason, func(req protocol.PendingRequest) {
			g.announceRejection(req, s.actor, p.Reason)
		})
		if err == nil {
			res.RejectedRequestID = req.RequestID
		} else {
			g.log.Warn("reject the blocked node's request", "node", id, "request", pending.RequestID, "err", err)
		}
	}
	g.fan.broadcast(toPairing, protocol.EventBlockAdded, protocol.BlockEvent{Node: b, TS: g.nowMs(), Actor: s.actor.String()})
	g.orderMu.Unlock()
	g.pokeExpiry()
	g.log.Info("node blocked", "node", id, "created", created, "rejected", res.RejectedRequestID, "by", s.actor.String())
	return res, nil
}

func (g *Gateway) blockRemove(ctx context.Context, s *session, raw json.RawMessage) (any, *protocol.Error) {
	const m = protocol.MethodBlockRemove
	var p protocol.NodeIDParams
	if e := decode(m, raw, &p); e != nil {
		return nil, e
	}
	if e := required(m, "nodeId", &p.NodeID); e != nil {
		return nil, e
	}
	g.orderMu.Lock()
	old, err := g.access.Unblock(p.NodeID)
	if err != nil {
		g.orderMu.Unlock()
		if errors.Is(err, policy.ErrNotBlocked) {
			e := protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonUnknownNode,
				"node %s is not blocked (pairdeck.block.list shows the blocked nodes)", p.NodeID)
			e.Details.NodeID = p.NodeID
			return nil, e
		}
		return nil, saveFailed("the block list", err)
	}
	g.refusals.forget(old.NodeID)
	g.fan.broadcast(toPairing, protocol.EventBlockRemoved, protocol.UnblockEvent{NodeID: old.NodeID, TS: g.nowMs(), Actor: s.actor.String()})
	g.orderMu.Unlock()
	g.audit(ctx, s.actor, "unblocked", map[string]any{"nodeId": old.NodeID, "displayName": old.DisplayName, "attempts": old.Attempts})
	g.log.Info("node unblocked", "node", old.NodeID, "attempts", old.Attempts, "by", s.actor.String())
	return protocol.UnblockResult{Node: old}, nil
}

func (g *Gateway) blockList(_ context.Context, _ *session, raw json.RawMessage) (any, *protocol.Error) {
	var p struct{}
	if e := decode(protocol.MethodBlockList, raw, &p); e != nil {
		return nil, e
	}
	return protocol.BlockListResult{Blocked: g.access.List()}, nil
}

// currentRules is the policy in force; a change on disk is logged, and a
// policy.json broken after start turns auto-approval off until it is fixed.
func (g *Gateway) currentRules() policy.Policy {
	p, changed, err := g.rules.Current()
	switch {
	case err != nil && changed:
		g.log.Error("policy file unusable: auto-approval is off until it is fixed", "err", err)
	case err != nil:
		g.log.Debug("policy file still unusable", "err", err)
	case changed:
		g.log.Info("policy reloaded", "file", g.rules.Path(), "autoApprove", p.AutoApprove.Enabled, "rules", len(p.AutoApprove.Rules))
	}
	return p
}

func ruleRequest(req protocol.PendingRequest) policy.Request {
	return policy.Request{NodeID: req.NodeID, RemoteIP: req.RemoteIP, Platform: req.Platform, Commands: req.Commands, Silent: req.Silent}
}

// autoApprove approves a node's own silent request when a rule of the
// policy matches it, with the rule as the actor. It reports whether it did.
func (g *Gateway) autoApprove(ctx context.Context, req protocol.PendingRequest) bool {
	if !req.Silent {
		return false
	}
	pol := g.currentRules()
	rule, ok := pol.Match(ruleRequest(req))
	if !ok {
		return false
	}
	// Matched again on the request as the store applies the approval: an
	// operator may have decided it, or a refresh may have declared more
	// commands. The rule that matches then is the actor; should a refresh
	// have made another rule the match, the approval is tried again in
	// that rule's name.
	for range 3 {
		var now policy.Rule
		_, approved, err := g.store.ApproveWith(ctx, store.Actor{Rule: rule.Name}, req.RequestID,
			func(cur protocol.PendingRequest) error {
				var ok bool
				if now, ok = pol.Match(ruleRequest(cur)); !ok || now.Name != rule.Name {
					return errNoRuleMatches
				}
				return nil
			},
			func(node protocol.PairedNode, approved protocol.PendingRequest) {
				g.announceApproval(approved, node, store.Actor{Rule: rule.Name}, "")
			})
		g.pokeExpiry()
		switch {
		case errors.Is(err, errNoRuleMatches) && now.Name != "":
			rule = now
			continue
		case errors.Is(err, errNoRuleMatches):
			return false
		case errors.Is(err, store.ErrUnknownRequest), errors.Is(err, store.ErrAlreadyResolved), errors.Is(err, store.ErrExpired):
			return false // decided (or expired) meanwhile
		case err != nil:
			g.log.Warn("automatic approval failed; the request waits for an operator", "node", req.NodeID, "request", req.RequestID, "rule", rule.Name, "err", err)
			return false
		}
		g.log.Info("pairing approved automatically", "node", approved.NodeID, "request", approved.RequestID, "rule", rule.Name, "addr", approved.RemoteIP)
		return true
	}
	return false
}

// errNoRuleMatches refuses an automatic approval whose request no longer
// matches a rule.
var errNoRuleMatches = errors.New("no auto-approval rule matches the request any more")

// announceRejection tells the pairing operators and the node's sockets.
// Call it from a store hook, so it goes out in commit order.
func (g *Gateway) announceRejection(req protocol.PendingRequest, actor store.Actor, reason string) {
	ev := protocol.ResolvedEvent{RequestID: req.RequestID, NodeID: req.NodeID, Decision: protocol.DecisionRejected, TS: g.nowMs(), Actor: actor.String(), Reason: reason}
	g.fan.broadcast(toPairing, protocol.EventPairResolved, ev)
	ev.Actor, ev.Reason = "", "" // the operator's word stays with operators
	g.fan.toNode(req.NodeID, protocol.EventPairResolved, ev)
	g.nodeResolved(req.NodeID)
}

// announceApproval tells the pairing operators and hands the token to the
// node's sockets. Call it from a store hook, so it goes out in commit
// order.
func (g *Gateway) announceApproval(req protocol.PendingRequest, node protocol.PairedNode, actor store.Actor, reason string) (written chan struct{}, queued int) {
	ev := protocol.ResolvedEvent{RequestID: req.RequestID, NodeID: req.NodeID, Decision: protocol.DecisionApproved, TS: g.nowMs(), Actor: actor.String(), Reason: reason}
	g.fan.broadcast(toPairing, protocol.EventPairResolved, ev)
	ev.Actor, ev.Reason, ev.Token = "", "", node.Token
	written, queued = g.fan.toNode(req.NodeID, protocol.EventPairResolved, ev)
	g.handOver(req, node.Token)
	g.nodeResolved(req.NodeID)
	return written, queued
}

// pairAutoApprove is an operator's approval on the strength of a check its
// client made (the console's SSH check): only for silent requests that
// declare no exec-class command, with the check named as the rule.
func (g *Gateway) pairAutoApprove(ctx context.Context, s *session, raw json.RawMessage) (any, *protocol.Error) {
	const m = protocol.MethodPairAutoApprove
	var p protocol.AutoApproveParams
	if e := decode(m, raw, &p); e != nil {
		return nil, e
	}
	if e := required(m, "requestId", &p.RequestID); e != nil {
		return nil, e
	}
	if e := required(m, "rule", &p.Rule); e != nil {
		return nil, e
	}
	if !validCheckName(p.Rule) {
		return nil, protocol.InvalidParams(m, "property 'rule' must be 1 to 64 letters, digits, '.', '_' or '-'")
	}
	actor := s.actor
	actor.Rule = p.Rule
	return g.approve(ctx, s, actor, p.RequestID, "", func(req protocol.PendingRequest) *protocol.Error {
		switch {
		case !req.Silent:
			return protocol.InvalidParams(m, "request "+req.RequestID+" is not silent, so it needs an operator's own decision (node.pair.approve)")
		case protocol.DeclaresExec(req.Commands):
			return protocol.InvalidParams(m, "request "+req.RequestID+" declares exec-class commands, so it needs an operator's own decision (node.pair.approve)")
		}
		return nil
	})
}

func validCheckName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r == '.' || r == '_' || r == '-' || ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')) {
			return false
		}
	}
	return true
}
