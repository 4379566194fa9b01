package store

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/pairdeck/pairdeck/protocol"
)

// Approve resolves a pending request: mints a new 32-byte base64url token
// (returned once, in node.Token), stores only its SHA-256, and the node's
// previous token stops verifying at once. An existing record keeps its
// createdAtMs, lastConnectedAtMs and unknown fields; an operator-chosen name
// (renamedAtMs on the request or the paired record, the later one wins)
// survives. Descriptive fields come from the request, falling back to the
// old record where the request left them out; caps and commands are exactly
// the request's, since those are what the approver saw.
//
// Errors: *DecisionError (unknown, already resolved, expired); an expired
// request that was not swept yet is swept by this call and later reported
// by ExpireDue. Other errors wrap ErrWrite or ErrClosed.
func (s *Store) Approve(ctx context.Context, actor Actor, requestID string) (node protocol.PairedNode, req protocol.PendingRequest, err error) {
	return s.ApproveWith(ctx, actor, requestID, nil, nil)
}

// ApproveWith is Approve with hooks (commit.go): check sees the pending
// request as it is when the approval is applied (with
// RequiredApproveScopes), so nothing can change it between the check and
// the approval, and may refuse it; then is handed the new node (with its
// token) and the request once the approval is durable, in commit order.
// Either may be nil.
func (s *Store) ApproveWith(ctx context.Context, actor Actor, requestID string, check func(protocol.PendingRequest) error, then func(node protocol.PairedNode, req protocol.PendingRequest)) (node protocol.PairedNode, req protocol.PendingRequest, err error) {
	return s.ApproveWithReason(ctx, actor, requestID, "", check, then)
}

// ApproveWithReason is ApproveWith with the operator's reason (optional,
// protocol.CheckReason), kept in the audit line as "reason" and read back
// as HistoryEvent.Reason.
func (s *Store) ApproveWithReason(ctx context.Context, actor Actor, requestID, reason string, check func(protocol.PendingRequest) error, then func(node protocol.PairedNode, req protocol.PendingRequest)) (node protocol.PairedNode, req protocol.PendingRequest, err error) {
	if err := checkReason(reason); err != nil {
		return node, req, fmt.Errorf("approve %s: %w", requestID, err)
	}
	var after func()
	if then != nil {
		after = func() { then(node, req) }
	}
	err = s.submit(ctx, func(tx *tx) error {
		var err error
		node, req, err = tx.approve(actor, requestID, reason, check)
		return err
	}, after)
	if err != nil {
		return protocol.PairedNode{}, protocol.PendingRequest{}, decisionErr("approve", requestID, err)
	}
	return node, req, nil
}

// Reject resolves a pending request without pairing; a paired node's token
// keeps working. Errors: as Approve.
func (s *Store) Reject(ctx context.Context, actor Actor, requestID string) (protocol.PendingRequest, error) {
	return s.RejectWith(ctx, actor, requestID, nil)
}

// RejectWith is Reject with a hook (commit.go): then is handed the
// request once the rejection is durable, in commit order. It may be nil.
func (s *Store) RejectWith(ctx context.Context, actor Actor, requestID string, then func(req protocol.PendingRequest)) (protocol.PendingRequest, error) {
	return s.RejectWithReason(ctx, actor, requestID, "", then)
}

// RejectWithReason is RejectWith with the operator's reason (as
// ApproveWithReason).
func (s *Store) RejectWithReason(ctx context.Context, actor Actor, requestID, reason string, then func(req protocol.PendingRequest)) (protocol.PendingRequest, error) {
	if err := checkReason(reason); err != nil {
		return protocol.PendingRequest{}, fmt.Errorf("reject %s: %w", requestID, err)
	}
	var req protocol.PendingRequest
	var after func()
	if then != nil {
		after = func() { then(req) }
	}
	err := s.submit(ctx, func(tx *tx) error {
		var err error
		req, err = tx.reject(actor, requestID, reason)
		return err
	}, after)
	if err != nil {
		return protocol.PendingRequest{}, decisionErr("reject", requestID, err)
	}
	return req, nil
}

// decisionErr returns a *DecisionError as is (callers may type-assert it)
// and gives other errors context.
func decisionErr(verb, requestID string, err error) error {
	if de, ok := errors.AsType[*DecisionError](err); ok {
		return de
	}
	return fmt.Errorf("%s %s: %w", verb, requestID, err)
}

// checkReason checks a decision's optional reason.
func checkReason(reason string) error {
	if err := protocol.CheckReason("reason", reason); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

func (tx *tx) approve(actor Actor, requestID, reason string, check func(protocol.PendingRequest) error) (protocol.PairedNode, protocol.PendingRequest, error) {
	s := tx.s
	e, ok := s.pending.byID[requestID]
	if !ok {
		return protocol.PairedNode{}, protocol.PendingRequest{}, tx.staleError(requestID)
	}
	req := s.pendingView(e)
	if check != nil {
		if err := check(req); err != nil {
			return protocol.PairedNode{}, protocol.PendingRequest{}, err
		}
	}
	token, sum, err := mintToken()
	if err != nil {
		return protocol.PairedNode{}, protocol.PendingRequest{}, err
	}
	return tx.approveMinted(actor, e, req, token, sum, auditEvent{Reason: reason})
}

// approveMinted approves pending request e (req is its view) with a token
// already minted; ev carries what the audit line adds (a reason, extra
// members).
func (tx *tx) approveMinted(actor Actor, e *pendingEntry, req protocol.PendingRequest, token, sum string, ev auditEvent) (protocol.PairedNode, protocol.PendingRequest, error) {
	s := tx.s
	requestID := e.rec.RequestID
	pe := s.paired.byNode[e.rec.NodeID]
	rec := approvedRecord(pe, e.rec, tx.nowMs)
	if s.openclaw {
		rec.Token = token
	} else {
		rec.TokenSHA256 = sum
	}
	if err := tx.putPaired(pe, rec, false); err != nil {
		return protocol.PairedNode{}, protocol.PendingRequest{}, err
	}
	tx.removePending(e)
	tx.resolve(requestID, rec.NodeID, decisionApproved)
	ev.Action, ev.RequestID, ev.NodeID, ev.Actor = actionApproved, requestID, rec.NodeID, actor
	ev.DisplayName, ev.IsRepair, ev.Decision = rec.DisplayName, e.rec.IsRepair, decisionApproved
	tx.log(ev)
	node := rec.WithoutSecrets()
	node.Caps = slices.Clone(node.Caps)
	node.Commands = slices.Clone(node.Commands)
	node.Token = token
	return node, req, nil
}

// approvedRecord builds the paired record for an approval of req, without
// its new token (the caller stores it in the storage's form).
func approvedRecord(pe *pairedEntry, req protocol.PendingRequest, nowMs int64) protocol.PairedNode {
	var rec protocol.PairedNode
	if pe != nil {
		rec = pe.rec
	} else {
		rec = protocol.PairedNode{NodeID: req.NodeID, CreatedAtMs: nowMs}
	}
	meta := req.NodeMeta
	switch {
	case req.RenamedAtMs != 0 && req.RenamedAtMs >= rec.RenamedAtMs:
		rec.DisplayName, rec.RenamedAtMs = req.DisplayName, req.RenamedAtMs
	case rec.RenamedAtMs != 0:
		meta.DisplayName = "" // the operator's name on the paired record stays
	}
	rec.NodeMeta.Merge(meta)
	// The approved surface is exactly what was asked for, not a union.
	rec.Caps = req.Caps
	rec.Commands = req.Commands
	rec.Permissions = req.Permissions
	// Who asked, as OpenClaw 2026.7+ copies it from the request.
	rec.ClientID, rec.ClientMode = req.ClientID, req.ClientMode
	rec.Token, rec.TokenSHA256 = "", ""
	rec.ApprovedAtMs = nowMs
	return rec
}

func (tx *tx) reject(actor Actor, requestID, reason string) (protocol.PendingRequest, error) {
	s := tx.s
	e, ok := s.pending.byID[requestID]
	if !ok {
		return protocol.PendingRequest{}, tx.staleError(requestID)
	}
	req := s.pendingView(e)
	tx.removePending(e)
	tx.resolve(requestID, e.rec.NodeID, decisionRejected)
	tx.log(auditEvent{
		Action:      actionRejected,
		RequestID:   requestID,
		NodeID:      e.rec.NodeID,
		Actor:       actor,
		DisplayName: e.rec.DisplayName,
		IsRepair:    e.rec.IsRepair,
		Decision:    decisionRejected,
		Reason:      reason,
	})
	return req, nil
}

// staleError explains an id that is not pending (any more): unknown,
// expired, or resolved (with how), naming the node's current request.
func (tx *tx) staleError(requestID string) *DecisionError {
	de := &DecisionError{Err: ErrUnknownRequest, RequestID: requestID}
	r, ok := tx.lookupResolved(requestID)
	if !ok {
		return de
	}
	de.NodeID = r.nodeID
	if r.decision == decisionExpired {
		de.Err = ErrExpired
	} else {
		de.Err = ErrAlreadyResolved
		de.Decision = r.decision
	}
	if cur, ok := tx.s.pending.byNode[r.nodeID]; ok {
		de.CurrentRequestID = cur.rec.RequestID
	}
	return de
}
