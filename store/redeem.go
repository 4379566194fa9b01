package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/pairdeck/pairdeck/protocol"
)

// Redeeming a setup code. A node's request carrying a code is applied in
// one op: the request is queued (or refreshed) as any other, and, when
// the code is valid and the request fits its scope, approved at once, the
// code's use counted in the same journal record. A crash therefore either
// loses the whole op (nothing was acknowledged: no use, no approval) or
// keeps all of it; it can never count a use without the approval or grant
// an approval without the use.
//
// Idempotent per device: a node the code approved before may present it
// again while it is neither expired nor revoked (used up is fine) and is
// approved again, with a fresh token, without counting another use. This
// is what a node needs when it was killed between the approval and
// hearing of it, and what OpenClaw's node hosts do (they present their
// bootstrap token until they see hello-ok).
//
// A code that approves nothing leaves the request queued for a person,
// and the outcome says why (Refusal). A code nobody has (or text that is
// not a code at all) is ReasonCodeInvalid: the gateway rate-limits those,
// since guessing is the only way to get one. A known code refused for its
// state or scope is also written to the audit log (code.refused), so
// history shows who tried what.
//
// Blocks and the pairing switch are the gateway's: its check hook runs
// first in the op, and a refusal there refuses the whole request, the
// code untouched. (Pairing switched off refuses a node's request before
// the store is asked, code or not: nothing is approved while it is off.)

// RequestOutcome is what a request came to.
type RequestOutcome struct {
	// Request is the request as queued; when Approved, as it was approved
	// (no longer pending).
	Request protocol.PendingRequest
	Created bool
	// Approved: the code approved the request, in the same commit that
	// counted its use; Node is the paired node with its new Token (shown
	// this once).
	Approved bool
	Node     protocol.PairedNode
	// Code is the code after this commit, when the request named a known
	// code (whether it approved or not); never a secret.
	Code *protocol.SetupCode
	// Refusal says why the code approved nothing; nil when the request
	// carried no code or the code approved it.
	Refusal *protocol.CodeRefusal
	// Repeat: the node had used this code before; approved again without
	// counting a use.
	Repeat bool
}

// RequestWithCode is RequestWith for a request that may carry a setup code
// (in.Code): see above. check and then as for RequestWith; then is handed
// the outcome once durable, in commit order. Errors are RequestWith's (a
// refused check, a full queue, invalid input); a code never causes one.
func (s *Store) RequestWithCode(ctx context.Context, actor Actor, in RequestInput, check func(nodeID string) error, then func(RequestOutcome)) (RequestOutcome, error) {
	var out RequestOutcome
	code := in.Code
	in.Code = ""
	in, err := normalizeRequest(in)
	if err != nil {
		return out, fmt.Errorf("pair request: %w", err)
	}
	// Minted ahead, so nothing can fail between queueing the request and
	// approving it (an op changes nothing when it fails).
	var token, sum string
	if code != "" {
		if token, sum, err = mintToken(); err != nil {
			return out, fmt.Errorf("pair request for node %s: %w", in.NodeID, err)
		}
	}
	var after func()
	if then != nil {
		after = func() { then(out) }
	}
	err = s.submit(ctx, func(tx *tx) error {
		out = RequestOutcome{}
		if check != nil {
			if err := check(in.NodeID); err != nil {
				return err
			}
		}
		var err error
		if out.Request, out.Created, err = tx.request(actor, in); err != nil {
			return err
		}
		if code != "" {
			return tx.redeem(code, token, sum, &out)
		}
		return nil
	}, after)
	if err != nil {
		return RequestOutcome{}, fmt.Errorf("pair request for node %s: %w", in.NodeID, err)
	}
	return out, nil
}

// redeem applies code to the request just queued in out.
func (tx *tx) redeem(secret, token, sum string, out *RequestOutcome) error {
	s := tx.s
	e := s.codes.lookup(secret)
	if e == nil {
		out.Refusal = &protocol.CodeRefusal{Reason: protocol.ReasonCodeInvalid,
			Message: "this setup code is not known to this gateway (mistyped, or for another gateway): the request waits for an operator; ask for a new code"}
		return nil
	}
	req := out.Request
	view := e.view()
	out.Code = &view
	repeat := slices.Contains(e.rec.UsedBy, req.NodeID)
	refuse := func(reason, message string) error {
		out.Refusal = &protocol.CodeRefusal{Reason: reason, Message: message}
		ev := auditEvent{Action: actionCodeRefused, RequestID: req.RequestID, NodeID: req.NodeID,
			Actor: protocol.CodeActor(e.rec.ID, e.rec.CreatedBy), DisplayName: req.DisplayName}
		ev.extra = map[string]json.RawMessage{"refusal": mustMarshal(reason), "message": mustMarshal(message)}
		tx.log(ev)
		return nil
	}
	switch {
	case e.rec.RevokedAtMs != 0:
		return refuse(protocol.ReasonCodeRevoked, fmt.Sprintf("setup code %s was revoked: the request waits for an operator", e.rec.ID))
	case tx.nowMs >= e.rec.ExpiresAtMs:
		return refuse(protocol.ReasonCodeExpired, fmt.Sprintf("setup code %s has expired: the request waits for an operator; ask for a new code", e.rec.ID))
	case !repeat && e.rec.Uses >= e.rec.MaxUses:
		return refuse(protocol.ReasonCodeUsedUp, fmt.Sprintf("setup code %s has been used %d of %d times: the request waits for an operator; ask for a new code", e.rec.ID, e.rec.Uses, e.rec.MaxUses))
	}
	if ok, why := e.rec.Scope.Fits(req.NodeMeta, req.RemoteIP); !ok {
		return refuse(protocol.ReasonCodeOutOfScope, fmt.Sprintf("setup code %s does not cover this request: %s; the request waits for an operator", e.rec.ID, why))
	}

	pe := s.pending.byID[req.RequestID]
	ev := auditEvent{}
	if repeat {
		ev.extra = map[string]json.RawMessage{"repeat": json.RawMessage("true")}
	}
	node, approved, err := tx.approveMinted(protocol.CodeActor(e.rec.ID, e.rec.CreatedBy), pe, req, token, sum, ev)
	if err != nil {
		return err
	}
	if !repeat {
		rec := e.rec
		rec.SetupCode.UsedBy = append(slices.Clone(rec.UsedBy), req.NodeID)
		rec.Uses++
		rec.LastUsedAtMs = tx.nowMs
		if err := tx.putCode(rec, e.digest, e.extra); err != nil {
			return err
		}
		view = s.codes.byID[rec.ID].view()
	}
	out.Request, out.Node, out.Approved, out.Repeat = approved, node, true, repeat
	return nil
}

func mustMarshal(v string) json.RawMessage {
	b, _ := marshalCompact(v) // a string always marshals
	return b
}
