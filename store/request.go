package store

import (
	"context"
	"fmt"
	"maps"
	"strings"

	"github.com/google/uuid"
	"github.com/pairdeck/pairdeck/protocol"
)

// Request creates or refreshes the node's pending request (idempotent per
// node: same requestId, supplied metadata replaces, silent is ANDed, window
// restarts; IsRepair when the node is already paired). ErrQueueFull over the
// cap, ErrInvalid for a blank nodeId or oversized fields.
//
// A refresh never replaces a display name an operator chose (RenamedAtMs).
// A paired node's token keeps working until the new request is approved.
// The returned request carries ExpiresAtMs and RequiredApproveScopes.
func (s *Store) Request(ctx context.Context, actor Actor, in RequestInput) (req protocol.PendingRequest, created bool, err error) {
	return s.RequestWith(ctx, actor, in, nil, nil)
}

// RequestWith is Request with hooks (commit.go): check(nodeID) may refuse
// the request as it is applied (a node blocked meanwhile); then is handed
// the request once it is durable, in commit order. Either may be nil.
// A setup code in in.Code is not looked at: RequestWithCode redeems codes.
func (s *Store) RequestWith(ctx context.Context, actor Actor, in RequestInput, check func(nodeID string) error, then func(req protocol.PendingRequest, created bool)) (req protocol.PendingRequest, created bool, err error) {
	in, err = normalizeRequest(in)
	if err != nil {
		return protocol.PendingRequest{}, false, fmt.Errorf("pair request: %w", err)
	}
	var after func()
	if then != nil {
		after = func() { then(req, created) }
	}
	err = s.submit(ctx, func(tx *tx) error {
		if check != nil {
			if err := check(in.NodeID); err != nil {
				return err
			}
		}
		var err error
		req, created, err = tx.request(actor, in)
		return err
	}, after)
	if err != nil {
		return protocol.PendingRequest{}, false, fmt.Errorf("pair request for node %s: %w", in.NodeID, err)
	}
	return req, created, nil
}

func (tx *tx) request(actor Actor, in RequestInput) (protocol.PendingRequest, bool, error) {
	s := tx.s
	_, isRepair := s.paired.byNode[in.NodeID]
	if e, ok := s.pending.byNode[in.NodeID]; ok { // live: the batch swept first
		rec := e.rec
		mergeRequest(&rec, in)
		rec.IsRepair = isRepair
		rec.TS = tx.nowMs
		if err := tx.updatePending(e, rec); err != nil {
			return protocol.PendingRequest{}, false, err
		}
		tx.log(requestEvent(actionRefreshed, actor, rec))
		return s.pendingView(e), false, nil
	}
	if n := len(s.pending.byID); n >= s.maxPending {
		return protocol.PendingRequest{}, false, fmt.Errorf("%w: %d requests are already waiting: approve or reject some, or wait for them to expire", ErrQueueFull, n)
	}
	id := uuid.NewString()
	for s.pending.byID[id] != nil {
		id = uuid.NewString()
	}
	rec := protocol.PendingRequest{
		RequestID: id,
		NodeID:    in.NodeID,
		Silent:    in.Silent != nil && *in.Silent,
		IsRepair:  isRepair,
		TS:        tx.nowMs,
	}
	mergeRequest(&rec, in)
	e, err := tx.insertPending(rec)
	if err != nil {
		return protocol.PendingRequest{}, false, err
	}
	tx.log(requestEvent(actionRequested, actor, rec))
	return s.pendingView(e), true, nil
}

func requestEvent(action string, actor Actor, rec protocol.PendingRequest) auditEvent {
	return auditEvent{
		Action:      action,
		RequestID:   rec.RequestID,
		NodeID:      rec.NodeID,
		Actor:       actor,
		DisplayName: rec.DisplayName,
		IsRepair:    rec.IsRepair,
	}
}

// mergeRequest applies the fields the caller supplied (NodeMeta.Merge:
// strings when non-empty, lists when present, an empty list clears) and
// ANDs silent. A name an operator chose (RenamedAtMs) is kept.
func mergeRequest(rec *protocol.PendingRequest, in RequestInput) {
	if rec.RenamedAtMs != 0 {
		in.DisplayName = ""
	}
	rec.NodeMeta.Merge(in.NodeMeta)
	if in.Silent != nil {
		rec.Silent = rec.Silent && *in.Silent
	}
	if in.Permissions != nil {
		rec.Permissions = maps.Clone(in.Permissions)
	}
}

// normalizeRequest trims and checks a request (the wire's limits and text
// rules, protocol.NodeMeta.Clean) and copies its lists, so the caller's
// slices are never shared with the store.
func normalizeRequest(in RequestInput) (RequestInput, error) {
	in.NodeID = strings.TrimSpace(in.NodeID)
	if err := protocol.CheckNodeID(in.NodeID); err != nil {
		return in, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	meta, err := in.NodeMeta.Clean()
	if err != nil {
		return in, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	in.NodeMeta = meta
	if err := in.Permissions.Check(); err != nil {
		return in, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if in.Silent != nil {
		v := *in.Silent
		in.Silent = &v
	}
	return in, nil
}

// cleanName trims a display name and checks it (protocol.CleanName).
func cleanName(name string) (string, error) {
	name, err := protocol.CleanName(name)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return name, nil
}
