package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

// Sentinels for the refusals callers branch on (errors.Is); the typed errors
// below carry the details.
var (
	// ErrPairingRequired: the gateway holds a device pairing request for
	// this device and lets it in only once a person approves it.
	ErrPairingRequired = errors.New("device pairing required")
	// ErrProtocolMismatch: the gateway and this client share no protocol
	// version.
	ErrProtocolMismatch = errors.New("protocol mismatch")
	// ErrRateLimited: the gateway is refusing sign-ins for a while.
	ErrRateLimited = errors.New("rate limited")
	// ErrAuth: the gateway refused the credential (or wants another kind).
	ErrAuth = errors.New("authentication refused")
)

// PairingRequiredError is OpenClaw's NOT_PAIRED / PAIRING_REQUIRED: this
// device (new, or asking for more scopes, another role, or with changed
// metadata) waits for approval as device pairing request RequestID. It
// matches ErrPairingRequired and unwraps to the *protocol.Error.
type PairingRequiredError struct {
	URL             string
	RequestID       string
	Reason          string // protocol.PairingReason*
	DeviceID        string
	RequestedRole   string
	RequestedScopes []string
	ApprovedScopes  []string
	// WaitThenRetry: the gateway is checking the device itself (e.g. over
	// SSH) and asks it to retry shortly rather than wait for a person.
	WaitThenRetry bool
	Err           *protocol.Error
}

func (e *PairingRequiredError) Error() string {
	what := "this device is not paired with it yet"
	switch e.Reason {
	case protocol.PairingReasonScopeUpgrade:
		what = "this device asks for more scopes than it was approved for"
		if len(e.ApprovedScopes) > 0 || len(e.RequestedScopes) > 0 {
			what += fmt.Sprintf(" (asks for %s; approved: %s)", joinOrNone(e.RequestedScopes), joinOrNone(e.ApprovedScopes))
		}
	case protocol.PairingReasonRoleUpgrade:
		what = "this device asks for a role it was not approved for"
		if e.RequestedRole != "" {
			what += " (" + protocol.Printable(e.RequestedRole) + ")"
		}
	case protocol.PairingReasonMetadataUpgrade:
		what = "this device's platform or device family changed since it was approved"
	}
	if e.RequestID == "" {
		return fmt.Sprintf("gateway at %s requires pairing: %s; approve this device on the gateway host (`openclaw devices list`), then try again", e.URL, what)
	}
	id := protocol.Printable(e.RequestID)
	return fmt.Sprintf("gateway at %s requires pairing: %s (device pairing request %s); approve this device on the gateway host with `openclaw devices approve %s`, then try again",
		e.URL, what, id, id)
}

func (e *PairingRequiredError) Unwrap() []error { return []error{ErrPairingRequired, e.Err} }

func joinOrNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return protocol.Printable(strings.Join(list, ", "))
}

// AuthError is a refused credential, with what to do about it. It matches
// ErrAuth and unwraps to the *protocol.Error.
type AuthError struct {
	URL  string
	Code string // details.code, e.g. protocol.DetailAuthPasswordMissing
	Hint string
	Err  *protocol.Error
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("gateway at %s refused the connection: %s", e.URL, e.Hint)
}

// Unwrap matches ErrAuth, the *protocol.Error, and ErrNotPaired when the
// refused credential was this device's device token (pairing again helps).
func (e *AuthError) Unwrap() []error {
	if e.Code == protocol.DetailAuthDeviceTokenMismatch {
		return []error{ErrAuth, ErrNotPaired, e.Err}
	}
	return []error{ErrAuth, e.Err}
}

// RateLimitedError is a sign-in refused for a while (pairdeck's
// RATE_LIMITED, OpenClaw's AUTH_RATE_LIMITED). RetryAfter is the gateway's
// hint, 0 when it gave none. It matches ErrRateLimited and unwraps to the
// *protocol.Error.
type RateLimitedError struct {
	URL        string
	RetryAfter time.Duration
	// What is limited: "" for sign-ins (after failed attempts), or e.g.
	// "pairing requests".
	What string
	Err  *protocol.Error
}

func (e *RateLimitedError) Error() string {
	what := "sign-ins from this address after failed attempts"
	if e.What != "" {
		what = e.What + " from this address"
	}
	msg := fmt.Sprintf("gateway at %s is rate-limiting %s (%s)", e.URL, what, e.Err.Error())
	if e.RetryAfter > 0 {
		return msg + fmt.Sprintf(": try again in %s", e.RetryAfter.Round(100*time.Millisecond))
	}
	return msg + ": try again later"
}

func (e *RateLimitedError) Unwrap() []error { return []error{ErrRateLimited, e.Err} }

// ProtocolMismatchError says which protocol versions each side speaks.
// GatewayMin/GatewayMax are 0 when the gateway did not say. It matches
// ErrProtocolMismatch and unwraps to the *protocol.Error (nil when the
// mismatch showed in hello-ok).
type ProtocolMismatchError struct {
	URL                    string
	ClientMin, ClientMax   int
	GatewayMin, GatewayMax int
	Err                    *protocol.Error
}

func (e *ProtocolMismatchError) Error() string {
	gw := "a protocol version this client does not"
	switch {
	case e.GatewayMin > 0 && e.GatewayMin == e.GatewayMax:
		gw = fmt.Sprintf("protocol %d", e.GatewayMin)
	case e.GatewayMin > 0 && e.GatewayMax > 0:
		gw = fmt.Sprintf("protocols %d to %d", e.GatewayMin, e.GatewayMax)
	case e.GatewayMin > 0:
		gw = fmt.Sprintf("protocol %d or newer", e.GatewayMin)
	}
	return fmt.Sprintf("protocol mismatch: the gateway at %s speaks %s; this client speaks protocols %d to %d (upgrade whichever side is older)",
		e.URL, gw, e.ClientMin, e.ClientMax)
}

func (e *ProtocolMismatchError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrProtocolMismatch}
	}
	return []error{ErrProtocolMismatch, e.Err}
}

// refusal is a failed connect response: the error and OpenClaw's details.
type refusal struct {
	perr *protocol.Error
	oc   protocol.OpenClawErrorDetails
}

// parseRefusal reads a failed response's error object leniently: the
// generic *protocol.Error, and OpenClaw's richer details alongside.
func parseRefusal(raw json.RawMessage) refusal {
	var r refusal
	r.perr = errorFromRaw(raw)
	var wire struct {
		Details json.RawMessage `json:"details"`
	}
	if json.Unmarshal(raw, &wire) == nil && len(wire.Details) > 0 {
		_ = json.Unmarshal(wire.Details, &r.oc)
	}
	if r.oc.RetryAfterMs == 0 {
		r.oc.RetryAfterMs = r.perr.RetryAfterMs
	}
	return r
}

// errorFromRaw decodes an error object, tolerating details that are not
// pairdeck's shape.
func errorFromRaw(raw json.RawMessage) *protocol.Error {
	var wire struct {
		Code         string          `json:"code"`
		Message      string          `json:"message"`
		Details      json.RawMessage `json:"details"`
		Retryable    bool            `json:"retryable"`
		RetryAfterMs int64           `json:"retryAfterMs"`
	}
	if json.Unmarshal(raw, &wire) != nil || (wire.Code == "" && wire.Message == "") {
		return &protocol.Error{Code: protocol.CodeUnavailable, Message: "the gateway refused without saying why"}
	}
	perr := &protocol.Error{Code: wire.Code, Message: wire.Message, Retryable: wire.Retryable, RetryAfterMs: wire.RetryAfterMs}
	var d protocol.ErrorDetails
	if json.Unmarshal(wire.Details, &d) == nil && d.Code != "" {
		perr.Details = &d
	}
	return perr
}

// retryAfter is the wait a retryable refusal asks for (0: none given).
func (r refusal) retryAfter() time.Duration {
	return time.Duration(max(r.oc.RetryAfterMs, 0)) * time.Millisecond
}

// rateLimited reports pairdeck's and OpenClaw's rate-limit refusals.
func (r refusal) rateLimited() bool {
	return r.perr.Reason() == protocol.ReasonRateLimited || r.oc.Code == protocol.DetailAuthRateLimited
}

var speaksProtocol = regexp.MustCompile(`speaks protocol (\d+)`)

// mismatch builds the error for a refused protocol range from either
// gateway's answer: OpenClaw's details (expectedProtocol) or pairdeck's
// message ("this gateway speaks protocol 3, ...").
func (c *Client) mismatch(r refusal) error {
	// The client's side is what this client offers (the details echo the
	// offer; they are not needed).
	e := &ProtocolMismatchError{URL: c.cfg.URL, ClientMin: protocol.MinClientProtocol, ClientMax: protocol.MaxClientProtocol, Err: r.perr}
	switch {
	case r.oc.ExpectedProtocol > 0:
		e.GatewayMin, e.GatewayMax = r.oc.ExpectedProtocol, r.oc.ExpectedProtocol
		if p := r.oc.MinimumProbeProtocol; p > 0 && p < e.GatewayMin && c.cfg.Role == protocol.RoleNode {
			// Nodes may use the previous generation (N-1).
			e.GatewayMin = p
		}
	default:
		if m := speaksProtocol.FindStringSubmatch(r.perr.Message); m != nil {
			v, _ := strconv.Atoi(m[1])
			e.GatewayMin, e.GatewayMax = v, v
		}
	}
	return e
}

// isMismatch reports a refused protocol range.
func (r refusal) isMismatch() bool {
	return r.oc.Code == protocol.DetailProtocolMismatch || strings.HasPrefix(strings.ToLower(r.perr.Message), "protocol mismatch")
}

// refused turns a connect refusal into an error that says what happened and
// what to do.
func (c *Client) refused(raw json.RawMessage) error {
	r := parseRefusal(raw)
	perr := r.perr
	switch {
	case r.isMismatch():
		return c.mismatch(r)
	case r.oc.Code == protocol.DetailPairingRequired:
		return &PairingRequiredError{URL: c.cfg.URL, RequestID: r.oc.RequestID, Reason: r.oc.Reason,
			DeviceID: r.oc.DeviceID, RequestedRole: r.oc.RequestedRole, RequestedScopes: r.oc.RequestedScopes,
			ApprovedScopes: r.oc.ApprovedScopes, WaitThenRetry: r.oc.RecommendedNextStep == "wait_then_retry", Err: perr}
	case r.rateLimited():
		return &RateLimitedError{URL: c.cfg.URL, RetryAfter: max(r.retryAfter(), retryHint(perr)), Err: perr}
	}
	if hint := c.authHint(r); hint != "" {
		return &AuthError{URL: c.cfg.URL, Code: r.oc.Code, Hint: hint, Err: perr}
	}
	return c.legacyRefusal(perr)
}

// authHint explains OpenClaw's AUTH_* refusals ("" for anything else).
func (c *Client) authHint(r refusal) string {
	node := c.cfg.Role == protocol.RoleNode
	switch r.oc.Code {
	case protocol.DetailAuthTokenMissing:
		if node {
			return "it wants its shared token from nodes too (it pairs nodes through device pairing): give the node the gateway's token (OPENCLAW_GATEWAY_TOKEN)"
		}
		return "it wants its shared token: pass it with --token or OPENCLAW_GATEWAY_TOKEN (gateway.auth.token in the gateway's openclaw.json)"
	case protocol.DetailAuthTokenMismatch:
		return "the token does not match the gateway's (AUTH_TOKEN_MISMATCH): check --token or OPENCLAW_GATEWAY_TOKEN"
	case protocol.DetailAuthPasswordMissing:
		return "it uses password authentication: pass the password with --password or OPENCLAW_GATEWAY_PASSWORD"
	case protocol.DetailAuthPasswordMismatch:
		if c.cfg.Password == "" {
			// OpenClaw 2026.9 checks a token given to a password gateway
			// as the password.
			return "it uses password authentication, and a token is not its password: pass the password with --password or OPENCLAW_GATEWAY_PASSWORD"
		}
		return "the password does not match the gateway's (AUTH_PASSWORD_MISMATCH): check --password or OPENCLAW_GATEWAY_PASSWORD"
	case protocol.DetailAuthDeviceTokenMismatch:
		return "it no longer accepts this device's stored device token (revoked or rotated): pair this device again"
	case protocol.DetailDeviceIdentityRequired:
		return "it requires a device identity from this client"
	case detailBootstrapTokenInvalid:
		return fmt.Sprintf("it refused the setup code: %s; ask an operator for a new code", protocol.Printable(strings.TrimPrefix(r.perr.Message, "unauthorized: ")))
	}
	if strings.HasPrefix(r.oc.Code, "AUTH_") || strings.HasPrefix(r.oc.Code, "DEVICE_AUTH_") {
		return fmt.Sprintf("%s (%s)", protocol.Printable(r.perr.Message), protocol.Printable(r.oc.Code))
	}
	return ""
}

// legacyRefusal explains pairdeck's own refusals and anything else.
func (c *Client) legacyRefusal(perr *protocol.Error) error {
	e := &refusalError{url: c.cfg.URL, perr: perr}
	// Only a refused pairing token means "pair again": an OpenClaw gateway
	// also refuses nodes for a missing shared token (AUTH_TOKEN_MISSING),
	// which pairing again cannot cure.
	lostPairing := (c.cfg.Token != "" || c.cfg.DeviceToken != "") && (perr.Reason() == protocol.ReasonTokenInvalid ||
		(perr.Code == protocol.CodeNotPaired && perr.Reason() == ""))
	switch {
	case c.cfg.Role == protocol.RoleNode && lostPairing:
		e.hint = "this node's pairing is no longer valid; pair it again (pairdeck node pair)"
		e.also = ErrNotPaired
	case c.cfg.Role != protocol.RoleNode && (perr.Reason() == protocol.ReasonTokenInvalid || perr.Reason() == protocol.ReasonUnauthorizedRole):
		e.hint = "check the operator token"
	}
	return e
}
