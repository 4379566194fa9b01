package store

import (
	"context"
	"fmt"
)

// Rename sets an operator-chosen display name (trimmed, 1 to 128
// characters) on the paired record and/or the live pending request of
// nodeID, and marks it with renamedAtMs so neither the node's refreshes nor
// a re-approval replace it. ErrUnknownNode if neither exists, ErrInvalid
// for a bad name.
func (s *Store) Rename(ctx context.Context, actor Actor, nodeID, name string) error {
	return s.RenameWith(ctx, actor, nodeID, name, nil)
}

// RenameWith is Rename with a hook (commit.go): then runs once the new
// name is durable, in commit order. It may be nil.
func (s *Store) RenameWith(ctx context.Context, actor Actor, nodeID, name string, then func()) error {
	name, err := cleanName(name)
	if err != nil {
		return fmt.Errorf("rename %s: %w", nodeID, err)
	}
	if err := s.submit(ctx, func(tx *tx) error { return tx.rename(actor, nodeID, name) }, then); err != nil {
		return fmt.Errorf("rename %s: %w", nodeID, err)
	}
	return nil
}

func (tx *tx) rename(actor Actor, nodeID, name string) error {
	s := tx.s
	pe := s.pending.byNode[nodeID]
	pa := s.paired.byNode[nodeID]
	if pe == nil && pa == nil {
		return ErrUnknownNode
	}
	ev := auditEvent{Action: actionRenamed, NodeID: nodeID, Actor: actor, DisplayName: name}
	if s.openclaw && pa != nil {
		// As OpenClaw renames: the paired record only (a request of the
		// node keeps the name it asked with, and its approval takes it).
		pe = nil
	}
	if pe != nil {
		rec := pe.rec
		rec.DisplayName, rec.RenamedAtMs = name, tx.nowMs
		if err := tx.updatePending(pe, rec); err != nil {
			return err
		}
		ev.RequestID = rec.RequestID
	}
	if pa != nil {
		rec := pa.rec
		rec.DisplayName, rec.RenamedAtMs = name, tx.nowMs
		if err := tx.putPaired(pa, rec, true); err != nil {
			return err
		}
	}
	tx.log(ev)
	return nil
}

// Remove deletes a paired node (and its pending request, if any, which is
// then remembered as resolved "removed"). A node that only has a pending
// request is not removed: ErrUnknownNode says to reject the request.
func (s *Store) Remove(ctx context.Context, actor Actor, nodeID string) error {
	return s.RemoveWith(ctx, actor, nodeID, nil)
}

// RemoveWith is Remove with a hook (commit.go): then runs once the removal
// is durable, in commit order. It may be nil.
func (s *Store) RemoveWith(ctx context.Context, actor Actor, nodeID string, then func()) error {
	return s.RemoveWithReason(ctx, actor, nodeID, "", then)
}

// RemoveWithReason is RemoveWith with the operator's reason (as
// ApproveWithReason).
func (s *Store) RemoveWithReason(ctx context.Context, actor Actor, nodeID, reason string, then func()) error {
	if err := checkReason(reason); err != nil {
		return fmt.Errorf("remove %s: %w", nodeID, err)
	}
	if err := s.submit(ctx, func(tx *tx) error { return tx.remove(actor, nodeID, reason) }, then); err != nil {
		return fmt.Errorf("remove %s: %w", nodeID, err)
	}
	return nil
}

func (tx *tx) remove(actor Actor, nodeID, reason string) error {
	s := tx.s
	pa := s.paired.byNode[nodeID]
	if pa == nil {
		if pe := s.pending.byNode[nodeID]; pe != nil {
			return fmt.Errorf("%w: the node is not paired; its pending request %s can be rejected instead", ErrUnknownNode, pe.rec.RequestID)
		}
		return ErrUnknownNode
	}
	ev := auditEvent{Action: actionRemoved, NodeID: nodeID, Actor: actor, DisplayName: pa.rec.DisplayName, Reason: reason}
	tx.removePaired(pa)
	if pe := s.pending.byNode[nodeID]; pe != nil {
		tx.removePending(pe)
		tx.resolve(pe.rec.RequestID, nodeID, decisionRemoved)
		ev.RequestID = pe.rec.RequestID
	}
	tx.log(ev)
	return nil
}

// MarkConnected records lastConnectedAtMs for a paired node. Unlike every
// other change it is not written on its own: a connection is not a
// decision, and rewriting paired.json (megabytes with thousands of nodes)
// for each node that connects would cost more than everything else the
// gateway does. Reads show it at once; it goes to disk with the next
// write of paired.json, within lazyWriteDelay (10 s) at the latest, and at
// Close. A crash can lose the updates of those last seconds, and a failed
// write of paired.json drops the ones that waited for it; nothing else is
// lost. It is not audited.
func (s *Store) MarkConnected(ctx context.Context, nodeID string) error {
	err := s.submit(ctx, func(tx *tx) error {
		pa := tx.s.paired.byNode[nodeID]
		if pa == nil {
			return ErrUnknownNode
		}
		return tx.markConnected(pa)
	}, nil)
	if err != nil {
		return fmt.Errorf("mark %s connected: %w", nodeID, err)
	}
	return nil
}

// Audit appends a non-mutating event (e.g. "token-refused") to audit.jsonl,
// durably. fields become members of the line; ts, action and actor are the
// store's, and members whose name suggests a secret (token, secret,
// password) are written as "[redacted]".
func (s *Store) Audit(ctx context.Context, actor Actor, action string, fields map[string]any) error {
	if err := validAction(action); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	ev := auditEvent{Action: action, Actor: actor}
	if err := ev.setFields(fields); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	err := s.submit(ctx, func(tx *tx) error {
		tx.log(ev)
		return nil
	}, nil)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}
