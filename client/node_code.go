package client

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pairdeck/pairdeck/protocol"
)

// detailBootstrapTokenInvalid is OpenClaw's refusal of a setup code at
// connect (details.code), recorded from 2026.9.6: unknown, expired, revoked
// or already used. Its node host prints the message and exits.
const detailBootstrapTokenInvalid = "AUTH_BOOTSTRAP_TOKEN_INVALID"

// ErrCodeRefused matches every *CodeRefusedError.
var ErrCodeRefused = errors.New("setup code refused")

// CodeRefusedError is a setup code the gateway refused outright: nothing
// waits for a person (pairdeck's CODE_* refusals of node.pair.request,
// OpenClaw's AUTH_BOOTSTRAP_TOKEN_INVALID at connect). Reason is a
// protocol.ReasonCode* value or OpenClaw's detail code. It matches
// ErrCodeRefused and unwraps to the *protocol.Error.
type CodeRefusedError struct {
	URL    string
	Reason string
	Err    *protocol.Error
}

func (e *CodeRefusedError) Error() string {
	msg := strings.TrimPrefix(e.Err.Message, "unauthorized: ")
	next := "ask an operator for a new code (`pairdeck codes create`)"
	if e.Reason == detailBootstrapTokenInvalid {
		next = "ask an operator for a new one" // an OpenClaw gateway's code
	}
	return fmt.Sprintf("gateway at %s refused the setup code: %s; %s", e.URL, protocol.Printable(msg), next)
}

func (e *CodeRefusedError) Unwrap() []error { return []error{ErrCodeRefused, e.Err} }

// codeRefused turns a refusal naming a setup code into a *CodeRefusedError
// and leaves any other error as it is.
func codeRefused(url string, err error) error {
	var perr *protocol.Error
	if !errors.As(err, &perr) {
		return err
	}
	switch r := perr.Reason(); r {
	case protocol.ReasonCodeInvalid, protocol.ReasonCodeExpired, protocol.ReasonCodeUsedUp,
		protocol.ReasonCodeRevoked, protocol.ReasonCodeOutOfScope, detailBootstrapTokenInvalid:
		return &CodeRefusedError{URL: url, Reason: r, Err: perr}
	}
	var ae *AuthError
	if errors.As(err, &ae) && ae.Code == detailBootstrapTokenInvalid {
		return &CodeRefusedError{URL: url, Reason: ae.Code, Err: ae.Err}
	}
	return err
}

// pairWithBootstrapToken pairs with a gateway that takes a setup code at
// connect (OpenClaw 2026.8+): auth.bootstrapToken, signed over, and no
// shared secret, exactly as OpenClaw's node host connects with a setup
// link. A code the gateway accepts answers with hello-ok and this device's
// device token: the node is paired. A code that approves nothing is
// answered with PAIRING_REQUIRED and a device request that waits for a
// person; the connect is repeated with the same code until it is approved,
// as OpenClaw's node host does.
func pairWithBootstrapToken(ctx context.Context, cfg Config, req protocol.PairRequestParams, notify func(PairPending)) (PairOutcome, error) {
	nodeID := req.NodeID
	cfg.BootstrapToken = req.Code
	waited := false
	c, err := Dial(ctx, cfg)
	if errors.Is(err, ErrPairingRequired) {
		waited = true
		notify(PairPending{NodeID: nodeID, Fingerprint: protocol.Fingerprint(nodeID), Created: true, Kind: protocol.KindDevice,
			Code: &protocol.CodeRefusal{Message: "the gateway did not approve this node with the setup code (it does not tell a node why: " +
				"the code may be used up, expired, revoked, or not allow what this node declares)"},
			Hint: "an operator can approve this device's request in pairdeck's console or on the gateway host (`openclaw devices list`)"})
		c, err = dialUntilDeviceApproved(ctx, cfg, err, notify)
	}
	if err != nil {
		return PairOutcome{NodeID: nodeID}, codeRefused(cfg.URL, err)
	}
	defer c.Close()
	h := c.Hello()
	if h.Auth == nil || h.Auth.DeviceToken == "" {
		return PairOutcome{NodeID: nodeID}, fmt.Errorf("the gateway at %s let this node in with the setup code but issued it no device token, "+
			"so it could not reconnect: ask an operator to approve it in the console instead", c.cfg.URL)
	}
	st := NodeState{NodeID: nodeID, GatewayURL: c.cfg.URL, PairedAtMs: c.cfg.Now().UnixMilli(), DisplayName: req.DisplayName,
		DeviceToken: h.Auth.DeviceToken, Role: protocol.RoleNode, Protocol: h.Protocol, Approval: protocol.ApprovalApproved,
		Caps: c.cfg.Caps, Commands: c.cfg.Commands}
	out := PairOutcome{NodeID: nodeID, Decision: protocol.DecisionApproved, State: st, ByCode: !waited}
	if waited {
		// A person approved the device; whether its commands were
		// approved with it the gateway does not tell the node.
		out.State.Approval = protocol.ApprovalPending
		out.CommandsPending = true
	}
	return out, nil
}

// unknownCodeQueued reads pairdeck's refusal of a code it does not know,
// which queues the request all the same (details.currentRequestId), as the
// result of a request that waits with the code's refusal.
func unknownCodeQueued(err error, nodeID string) (protocol.PairRequestResult, bool) {
	var perr *protocol.Error
	if !errors.As(err, &perr) || perr.Reason() != protocol.ReasonCodeInvalid || perr.Details.CurrentRequestID == "" {
		return protocol.PairRequestResult{}, false
	}
	return protocol.PairRequestResult{Status: "pending", Created: true,
		Request: protocol.PendingRequest{RequestID: perr.Details.CurrentRequestID, NodeID: nodeID},
		Code:    &protocol.CodeRefusal{Reason: protocol.ReasonCodeInvalid, Message: perr.Message}}, true
}
