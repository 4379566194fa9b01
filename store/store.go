package store

// SKELETON: signatures are the contract; bodies are being implemented.

import (
	"context"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

// Store is the single source of truth for pairing state. It is safe for
// concurrent use. Every mutating call returns only after its change (and its
// audit line) is durably on disk; concurrent mutations share one write.
type Store struct{}

// Open locks StateDir/nodes/.lock (ErrLocked naming the holder's pid if
// taken), creates the dir 0700 if needed, and loads pending.json and
// paired.json (ErrCorrupt naming file, byte offset and how to recover; the
// files are never modified by a failed open).
func Open(opts Options) (*Store, error) { panic("unimplemented") }

// Close flushes, releases the lock and stops background work. Idempotent.
func (s *Store) Close() error { panic("unimplemented") }

// Dir is StateDir/nodes.
func (s *Store) Dir() string { panic("unimplemented") }

// TTL is the pending-request lifetime in force.
func (s *Store) TTL() time.Duration { panic("unimplemented") }

// Request creates or refreshes the node's pending request (idempotent per
// node: same requestId, supplied metadata replaces, silent is ANDed, window
// restarts; IsRepair when the node is already paired). ErrQueueFull over the
// cap, ErrInvalid for a blank nodeId.
func (s *Store) Request(ctx context.Context, actor Actor, in RequestInput) (req protocol.PendingRequest, created bool, err error) {
	panic("unimplemented")
}

// Approve resolves a pending request: mints a new 32-byte base64url token
// (returned once, in node.Token), stores only its SHA-256, keeps an
// operator-chosen name. Errors: *DecisionError.
func (s *Store) Approve(ctx context.Context, actor Actor, requestID string) (node protocol.PairedNode, req protocol.PendingRequest, err error) {
	panic("unimplemented")
}

// Reject resolves a pending request without pairing. Errors: *DecisionError.
func (s *Store) Reject(ctx context.Context, actor Actor, requestID string) (protocol.PendingRequest, error) {
	panic("unimplemented")
}

// Verify checks a node's token in constant time; the node has no secrets.
func (s *Store) Verify(nodeID, token string) (protocol.PairedNode, bool) { panic("unimplemented") }

// Rename sets an operator-chosen display name on the paired record and/or
// the pending request of nodeID (ErrUnknownNode if neither exists).
func (s *Store) Rename(ctx context.Context, actor Actor, nodeID, name string) error {
	panic("unimplemented")
}

// Remove deletes a paired node (and its pending request, if any).
func (s *Store) Remove(ctx context.Context, actor Actor, nodeID string) error {
	panic("unimplemented")
}

// MarkConnected stores lastConnectedAtMs for a paired node.
func (s *Store) MarkConnected(ctx context.Context, nodeID string) error { panic("unimplemented") }

// Audit appends a non-mutating event (e.g. "token-refused") to audit.jsonl.
func (s *Store) Audit(ctx context.Context, actor Actor, action string, fields map[string]any) error {
	panic("unimplemented")
}

// Pending lists live requests newest first, with ExpiresAtMs and
// RequiredApproveScopes filled.
func (s *Store) Pending() []protocol.PendingRequest { panic("unimplemented") }

// PendingByID returns one live request.
func (s *Store) PendingByID(requestID string) (protocol.PendingRequest, bool) {
	panic("unimplemented")
}

// PendingForNode returns the node's live request, if any.
func (s *Store) PendingForNode(nodeID string) (protocol.PendingRequest, bool) {
	panic("unimplemented")
}

// Paired lists paired nodes newest approval first, without secrets.
func (s *Store) Paired() []protocol.PairedNode { panic("unimplemented") }

// PairedNode returns one paired node without secrets.
func (s *Store) PairedNode(nodeID string) (protocol.PairedNode, bool) { panic("unimplemented") }

// NextExpiry is when the earliest pending request expires.
func (s *Store) NextExpiry() (time.Time, bool) { panic("unimplemented") }

// ExpireDue removes every request whose time is up (now >= ts+TTL), durably,
// writes an audit line for each, and returns them so the gateway can emit
// node.pair.resolved(expired).
func (s *Store) ExpireDue(ctx context.Context) ([]Expiry, error) { panic("unimplemented") }
