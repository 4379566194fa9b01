package gateway

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/store"
)

// pairingStore is the part of *store.Store the gateway uses. It is an
// interface only so tests can inject write failures.
//
// Every change is made through a …With method whose hooks announce it:
// the store runs them in the order it applied the changes, so events go
// out in store order without a gateway-wide lock held across the write,
// and concurrent changes share commits (store/commit.go).
type pairingStore interface {
	TTL() time.Duration
	RequestWith(ctx context.Context, actor store.Actor, in store.RequestInput, check func(nodeID string) error, then func(protocol.PendingRequest, bool)) (protocol.PendingRequest, bool, error)
	ApproveWith(ctx context.Context, actor store.Actor, requestID string, check func(protocol.PendingRequest) error, then func(protocol.PairedNode, protocol.PendingRequest)) (protocol.PairedNode, protocol.PendingRequest, error)
	RejectWith(ctx context.Context, actor store.Actor, requestID string, then func(protocol.PendingRequest)) (protocol.PendingRequest, error)
	Verify(nodeID, token string) (protocol.PairedNode, bool)
	RenameWith(ctx context.Context, actor store.Actor, nodeID, name string, then func()) error
	RemoveWith(ctx context.Context, actor store.Actor, nodeID string, then func()) error
	MarkConnected(ctx context.Context, nodeID string) error
	Audit(ctx context.Context, actor store.Actor, action string, fields map[string]any) error
	Pending() []protocol.PendingRequest
	PendingByID(requestID string) (protocol.PendingRequest, bool)
	PendingForNode(nodeID string) (protocol.PendingRequest, bool)
	Paired() []protocol.PairedNode
	AppendListJSON(b []byte) []byte
	Counts() (pending, paired int)
	PairedNode(nodeID string) (protocol.PairedNode, bool)
	NextExpiry() (time.Time, bool)
	ExpireDueWith(ctx context.Context, then func([]store.Expiry)) ([]store.Expiry, error)
	History(q protocol.HistoryQuery) (protocol.HistoryPage, error)

	ApproveWithReason(ctx context.Context, actor store.Actor, requestID, reason string, check func(protocol.PendingRequest) error, then func(protocol.PairedNode, protocol.PendingRequest)) (protocol.PairedNode, protocol.PendingRequest, error)
	RejectWithReason(ctx context.Context, actor store.Actor, requestID, reason string, then func(protocol.PendingRequest)) (protocol.PendingRequest, error)
	CreateCode(ctx context.Context, actor store.Actor, p protocol.CodeCreateParams, then func(protocol.SetupCode)) (protocol.SetupCode, string, error)
	ListCodes(all bool) []protocol.SetupCode
	RevokeCode(ctx context.Context, actor store.Actor, id, reason string, then func(protocol.CodeRevokeResult)) (protocol.CodeRevokeResult, error)
	RequestWithCode(ctx context.Context, actor store.Actor, in store.RequestInput, check func(nodeID string) error, then func(store.RequestOutcome)) (store.RequestOutcome, error)
}

var _ pairingStore = (*store.Store)(nil)

// storeError turns a store failure into the wire error a client can act on.
// subject names what the call was about (a node id), for the message.
func (g *Gateway) storeError(err error, subject string) *protocol.Error {
	var de *store.DecisionError
	if pe, ok := errors.AsType[*protocol.Error](err); ok {
		return pe // a hook's refusal, already worded for the wire
	}
	switch {
	case errors.As(err, &de):
		return g.decisionError(de)
	case errors.Is(err, store.ErrUnknownNode):
		// OpenClaw's clients match this message exactly; the node is in
		// details.nodeId.
		e := protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonUnknownNode, "unknown nodeId")
		e.Details.NodeID = subject
		return e
	case errors.Is(err, store.ErrQueueFull):
		e := protocol.NewError(protocol.CodeUnavailable, protocol.ReasonQueueFull,
			"the pending queue is full: approve or reject some requests (or wait for them to expire), then retry")
		e.Retryable = true
		return e
	case errors.Is(err, store.ErrInvalid):
		return protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonInvalidParams, "%v", err)
	case errors.Is(err, store.ErrWrite):
		e := protocol.NewError(protocol.CodeUnavailable, protocol.ReasonStoreFailed,
			"the gateway could not save the pairing state (%v); nothing was changed: check the state dir's disk space and permissions, then retry", err)
		e.Retryable = true
		return e
	case errors.Is(err, store.ErrClosed), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		e := protocol.NewError(protocol.CodeUnavailable, protocol.ReasonStoreFailed,
			"the gateway is shutting down or the call was cancelled (%v); retry once it is back", err)
		e.Retryable = true
		return e
	default:
		e := protocol.NewError(protocol.CodeUnavailable, protocol.ReasonStoreFailed, "pairing store failed: %v", err)
		e.Retryable = true
		return e
	}
}

// decisionError explains a stale request id and points at the node's
// current pending request, so the operator can act on the right one.
func (g *Gateway) decisionError(de *store.DecisionError) *protocol.Error {
	var e *protocol.Error
	switch {
	case errors.Is(de.Err, store.ErrAlreadyResolved):
		how := de.Decision
		if how == "" {
			how = "resolved"
		}
		e = protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonAlreadyResolved,
			"request %s was already %s", de.RequestID, how)
	case errors.Is(de.Err, store.ErrExpired):
		e = protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonUnknownRequest,
			"request %s expired (pending requests live %s); the node must ask again", de.RequestID, g.store.TTL())
	default:
		// Exactly OpenClaw's words, which its CLI matches to explain a
		// stale id; the id is the caller's own, and details say the rest.
		return protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonUnknownRequest, "unknown requestId")
	}
	if de.CurrentRequestID != "" {
		e.Message += fmt.Sprintf("; node %s's current pending request is %s", de.NodeID, de.CurrentRequestID)
		e.Details.CurrentRequestID = de.CurrentRequestID
	} else {
		e.Message += "; node.pair.list shows the pending requests"
	}
	e.Details.NodeID = de.NodeID
	return e
}
