package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/pairdeck/pairdeck/protocol"
)

// Limits on what a request may carry: pending.json is rewritten on every
// change, so one caller must not be able to make it huge.
const (
	maxNodeIDLen   = 256 // bytes
	maxNameRunes   = 128
	maxFieldLen    = 256 // bytes, for platform, versions, model, address
	maxListLen     = 256
	maxListItemLen = 128 // bytes
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

// mergeRequest applies the fields the caller supplied: strings when
// non-empty, lists when present (an empty list clears), silent ANDed.
func mergeRequest(rec *protocol.PendingRequest, in RequestInput) {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	if rec.RenamedAtMs == 0 {
		set(&rec.DisplayName, in.DisplayName)
	}
	set(&rec.Platform, in.Platform)
	set(&rec.Version, in.Version)
	set(&rec.CoreVersion, in.CoreVersion)
	set(&rec.UIVersion, in.UIVersion)
	set(&rec.DeviceFamily, in.DeviceFamily)
	set(&rec.ModelIdentifier, in.ModelIdentifier)
	set(&rec.RemoteIP, in.RemoteIP)
	if in.Caps != nil {
		rec.Caps = in.Caps
	}
	if in.Commands != nil {
		rec.Commands = in.Commands
	}
	if in.Silent != nil {
		rec.Silent = rec.Silent && *in.Silent
	}
}

// normalizeRequest trims and checks a request and copies its lists, so the
// caller's slices are never shared with the store.
func normalizeRequest(in RequestInput) (RequestInput, error) {
	in.NodeID = strings.TrimSpace(in.NodeID)
	if in.NodeID == "" {
		return in, fmt.Errorf("%w: nodeId is required", ErrInvalid)
	}
	if len(in.NodeID) > maxNodeIDLen || hasControl(in.NodeID) {
		return in, fmt.Errorf("%w: nodeId must be at most %d bytes without control characters", ErrInvalid, maxNodeIDLen)
	}
	if in.DisplayName != "" {
		name, err := cleanName(in.DisplayName)
		if err != nil {
			return in, err
		}
		in.DisplayName = name
	}
	for field, v := range map[string]string{
		"platform": in.Platform, "version": in.Version, "coreVersion": in.CoreVersion,
		"uiVersion": in.UIVersion, "deviceFamily": in.DeviceFamily,
		"modelIdentifier": in.ModelIdentifier, "remoteIp": in.RemoteIP,
	} {
		if len(v) > maxFieldLen {
			return in, fmt.Errorf("%w: %s is longer than %d bytes", ErrInvalid, field, maxFieldLen)
		}
	}
	for field, list := range map[string][]string{"caps": in.Caps, "commands": in.Commands} {
		if len(list) > maxListLen {
			return in, fmt.Errorf("%w: %s has more than %d entries", ErrInvalid, field, maxListLen)
		}
		for _, item := range list {
			if len(item) > maxListItemLen {
				return in, fmt.Errorf("%w: a %s entry is longer than %d bytes", ErrInvalid, field, maxListItemLen)
			}
		}
	}
	in.Caps = slices.Clone(in.Caps)
	in.Commands = slices.Clone(in.Commands)
	if in.Silent != nil {
		v := *in.Silent
		in.Silent = &v
	}
	return in, nil
}

// cleanName trims a display name and checks it: 1 to 128 characters, no
// control characters (they would break the console's layout).
func cleanName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", fmt.Errorf("%w: the name is empty", ErrInvalid)
	case utf8.RuneCountInString(name) > maxNameRunes:
		return "", fmt.Errorf("%w: the name is longer than %d characters", ErrInvalid, maxNameRunes)
	case hasControl(name):
		return "", fmt.Errorf("%w: the name contains control characters", ErrInvalid)
	}
	return name, nil
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}
