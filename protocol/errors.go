package protocol

import (
	"errors"
	"fmt"
	"time"
)

// Error codes carried in Error.Code (the OpenClaw-compatible coarse class).
const (
	CodeInvalidRequest = "INVALID_REQUEST"
	CodeNotPaired      = "NOT_PAIRED"
	CodeUnavailable    = "UNAVAILABLE"
)

// Reasons carried in Error.Details.Code: stable, machine-readable, pairdeck's
// addition so clients can branch without parsing messages.
const (
	ReasonInvalidParams    = "INVALID_PARAMS"
	ReasonUnknownMethod    = "UNKNOWN_METHOD"
	ReasonUnknownRequest   = "UNKNOWN_REQUEST"
	ReasonAlreadyResolved  = "ALREADY_RESOLVED"
	ReasonUnknownNode      = "UNKNOWN_NODE"
	ReasonMissingScope     = "MISSING_SCOPE"
	ReasonUnauthorizedRole = "UNAUTHORIZED_ROLE"
	ReasonQueueFull        = "QUEUE_FULL"
	ReasonRateLimited      = "RATE_LIMITED"
	ReasonPairingDisabled  = "PAIRING_DISABLED"
	ReasonTokenInvalid     = "TOKEN_INVALID"
	ReasonStoreFailed      = "STORE_FAILED"
	// ReasonBlocked refuses a request from a node an operator blocked
	// (pairdeck): a retry cannot help until it is unblocked.
	ReasonBlocked = "BLOCKED"
)

// Error is the error object of a failed response. It is also a Go error, so
// clients can return it as is and callers can inspect Reason().
type Error struct {
	Code      string        `json:"code"`
	Message   string        `json:"message"`
	Details   *ErrorDetails `json:"details,omitempty"`
	Retryable bool          `json:"retryable,omitempty"`
	// RetryAfterMs is how long to wait before retrying, where the gateway
	// knows (a rate limit); OpenClaw gateways send it in the same place.
	RetryAfterMs int64 `json:"retryAfterMs,omitempty"`
}

// ErrorDetails holds pairdeck's machine-readable reason (or, for a refused
// connect OpenClaw's clients act on, OpenClaw's details.code) and, for
// stale ids, the node's current pending request.
type ErrorDetails struct {
	Code             string `json:"code"`
	CurrentRequestID string `json:"currentRequestId,omitempty"`
	NodeID           string `json:"nodeId,omitempty"`
	// Field names the param refused by INVALID_PARAMS, in its wire path
	// ("client.platform", "commands[2]"), when one param is to blame.
	Field string `json:"field,omitempty"`
	// What OpenClaw's clients read in a refused connect, where they need
	// it (their node hosts' reconnect rules, their protocol fallback).
	*RefusalDetails
}

func (e *Error) Error() string {
	if e.Details != nil && e.Details.Code != "" {
		return fmt.Sprintf("%s (%s)", e.Message, e.Details.Code)
	}
	return e.Message
}

// Reason returns details.code, or "" when the peer sent none (an OpenClaw
// gateway never does).
func (e *Error) Reason() string {
	if e == nil || e.Details == nil {
		return ""
	}
	return e.Details.Code
}

// RetryAfter is the wait the gateway asked for before a retry, and false
// when it named none.
func (e *Error) RetryAfter() (time.Duration, bool) {
	if e == nil || e.RetryAfterMs <= 0 {
		return 0, false
	}
	return time.Duration(e.RetryAfterMs) * time.Millisecond, true
}

// NewError builds an error with a details.code reason.
func NewError(code, reason, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Details: &ErrorDetails{Code: reason}}
}

// InvalidParams is the error for params that do not fit a method.
func InvalidParams(method, why string) *Error {
	return NewError(CodeInvalidRequest, ReasonInvalidParams, "invalid %s params: %s", method, why)
}

// InvalidField is InvalidParams for a value refused by a field check
// (a *FieldError), with the field also in details.field.
func InvalidField(method string, err error) *Error {
	e := InvalidParams(method, err.Error())
	if fe, ok := errors.AsType[*FieldError](err); ok {
		e.Details.Field = fe.Field
	}
	return e
}
