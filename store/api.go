package store

// This file is the store's public contract. The gateway, the CLI's offline
// mode and the tests are written against it.

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

// DefaultTTL is how long a pending request lives after it was created or
// last refreshed.
const DefaultTTL = 5 * time.Minute

// DefaultMaxPending caps the queue so a flood cannot grow it without bound.
const DefaultMaxPending = 1024

// Options configure Open. Zero values mean the defaults.
type Options struct {
	// StateDir is the gateway's state dir; the store owns StateDir/nodes.
	StateDir string
	// TTL of pending requests (DefaultTTL when zero).
	TTL time.Duration
	// MaxPending caps the pending queue (DefaultMaxPending when zero).
	MaxPending int
	// Now is the clock (time.Now when nil). Expiry and every timestamp use it.
	Now func() time.Time
	// LockWait is how long Open waits for another process (an offline
	// CLI command, a gateway shutting down) to release the state dir's
	// lock before it gives up with a *LockedError. Zero: no wait.
	LockWait time.Duration
	// Logger receives what the store fixes by itself and the operator
	// should know (a state file's mode tightened to 0600). Nil: discarded.
	Logger *slog.Logger
	// TokenStorage is how node tokens and records are stored
	// (tokenstorage.go): TokenStorageAuto decides by the state dir
	// (DetectTokenStorage), reading OpenClawConfig (default
	// StateDir/openclaw.json).
	TokenStorage   TokenStorage
	OpenClawConfig string
	// ReadOnly opens the state for reading only (readonly.go): no lock,
	// nothing created or written, changes refused with ErrReadOnly. For
	// commands that only read; it works on a read-only state dir.
	ReadOnly bool
}

// Actor is who made a change (protocol.Actor), as the audit log records it.
type Actor = protocol.Actor

// RequestInput is what a node (or an operator on its behalf) asks for.
// Silent is nil when the caller did not say.
type RequestInput = protocol.PairRequestParams

// Expiry reports a pending request that ran out of time.
type Expiry struct {
	Request protocol.PendingRequest
	At      time.Time
}

// Sentinel errors; callers branch with errors.Is. The concrete error is a
// *DecisionError (for request ids) or wraps one of these with context.
var (
	ErrUnknownRequest  = errors.New("unknown requestId")
	ErrAlreadyResolved = errors.New("request already resolved")
	ErrExpired         = errors.New("request expired")
	ErrUnknownNode     = errors.New("unknown nodeId")
	ErrQueueFull       = errors.New("pending queue is full")
	// ErrTooManyPending: pending.json holds more live requests than
	// Options.MaxPending allows; Open refuses it (the message says what
	// to do).
	ErrTooManyPending = errors.New("pending.json holds more requests than the queue allows")
	ErrInvalid        = errors.New("invalid input")
	ErrLocked         = errors.New("state dir is locked by another process")
	// ErrNotWritable: files cannot be created in StateDir/nodes (read-only
	// file system, permissions, disk full); Open refuses it, saying what
	// to do.
	ErrNotWritable = errors.New("state dir cannot be written")
	ErrCorrupt     = errors.New("state file is corrupt")
	ErrClosed      = errors.New("store is closed")
	// ErrWrite means a change could not be made durable (disk full, I/O
	// error). The change was not applied: memory matches disk.
	ErrWrite = errors.New("could not write pairing state")
)

// DecisionError explains why approve/reject could not act on a request id.
// CurrentRequestID names the node's current pending request, if any.
type DecisionError struct {
	Err              error // ErrUnknownRequest, ErrAlreadyResolved or ErrExpired
	RequestID        string
	NodeID           string // known when the id was seen before
	Decision         string // how it was resolved, for ErrAlreadyResolved
	CurrentRequestID string
}

func (e *DecisionError) Error() string {
	msg := fmt.Sprintf("%s: %s", e.Err, e.RequestID)
	if e.Decision != "" {
		msg += " (" + e.Decision + ")"
	}
	if e.CurrentRequestID != "" {
		msg += fmt.Sprintf("; node %s's current pending request is %s", e.NodeID, e.CurrentRequestID)
	}
	return msg
}

func (e *DecisionError) Unwrap() error { return e.Err }
