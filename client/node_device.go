package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

// Node pairing with OpenClaw gateways. A node connects with role node, its
// device identity and the gateway's shared secret. The gateway pairs the
// device (silently on loopback; otherwise it answers PAIRING_REQUIRED until
// a person approves the device request), issues a device token in hello-ok,
// and files a request for the node's commands itself (node.pair.requested
// to operators). OpenClaw 2026.8+ tells the node's own socket when that is
// approved (node.pair.resolved without seq; a rejection is not sent to the
// node); 2026.4 and 2026.7 tell the node nothing.

// sharedSecret is the gateway's shared token or password, kept aside until
// the gateway asks for it.
type sharedSecret struct{ token, password string }

func (s sharedSecret) empty() bool { return s.token == "" && s.password == "" }

// wantsSharedSecret reports a refusal that a shared token or password cures.
func wantsSharedSecret(err error) bool {
	var ae *AuthError
	return errors.As(err, &ae) && (ae.Code == protocol.DetailAuthTokenMissing || ae.Code == protocol.DetailAuthPasswordMissing)
}

// devicePairingRetryMax bounds the wait between connects while a device
// request waits for a person: each connect keeps the gateway's request
// alive (it expires 5 minutes after the last one).
const devicePairingRetryMax = 30 * time.Second

// dialUntilDeviceApproved dials (again) until the gateway lets this device
// in, reporting each device pairing request it is told about. first is the
// PAIRING_REQUIRED refusal of the dial before, or nil to dial at once.
func dialUntilDeviceApproved(ctx context.Context, cfg Config, first error, notify func(PairPending)) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	nodeID := cfg.Identity.DeviceID
	lastID := ""
	err = first
	for attempt := 0; ; attempt++ {
		var pr *PairingRequiredError
		if err != nil && !errors.As(err, &pr) {
			return nil, err
		}
		if pr == nil && attempt > 0 {
			return nil, err // unreachable: a nil error returned below
		}
		if pr != nil {
			if pr.RequestID != lastID {
				lastID = pr.RequestID
				hint := "approve this device on the gateway host with `openclaw devices approve " + protocol.Printable(pr.RequestID) + "`, or in pairdeck's console"
				notify(PairPending{RequestID: pr.RequestID, NodeID: nodeID, Fingerprint: protocol.Fingerprint(nodeID),
					Created: true, Kind: protocol.KindDevice, Reason: pr.Reason, Hint: hint})
			}
			wait := min(cfg.Backoff.delay(attempt)*4, devicePairingRetryMax)
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				if errors.Is(ctx.Err(), context.DeadlineExceeded) {
					return nil, fmt.Errorf("%w: device pairing request %s still waits for approval; an operator can approve it and you can pair again: %w",
						ErrPairTimedOut, protocol.Printable(pr.RequestID), ctx.Err())
				}
				return nil, fmt.Errorf("pair: %w", ctx.Err())
			case <-t.C:
			}
		}
		var c *Client
		c, err = Dial(ctx, cfg)
		if err == nil {
			return c, nil
		}
	}
}

// pairThroughDevice is pairing with an OpenClaw gateway once connected: the
// device token is the node's credential from now on; then the approval of
// its commands, where the gateway tells the node about it.
func pairThroughDevice(ctx context.Context, c *Client, req protocol.PairRequestParams, notify func(PairPending)) (PairOutcome, error) {
	nodeID := req.NodeID
	h := c.Hello()
	if h.Auth == nil || h.Auth.DeviceToken == "" {
		return PairOutcome{NodeID: nodeID}, fmt.Errorf("the gateway at %s let this node in but issued it no device token, "+
			"so it could not reconnect without the gateway's shared secret; pairdeck does not store that secret", c.cfg.URL)
	}
	st := NodeState{NodeID: nodeID, GatewayURL: c.cfg.URL, PairedAtMs: c.cfg.Now().UnixMilli(), DisplayName: req.DisplayName,
		DeviceToken: h.Auth.DeviceToken, Role: protocol.RoleNode, Protocol: h.Protocol, Approval: protocol.ApprovalPending,
		Caps: c.cfg.Caps, Commands: c.cfg.Commands}
	out := PairOutcome{NodeID: nodeID, State: st, CommandsPending: true}
	pending := PairPending{NodeID: nodeID, Fingerprint: protocol.Fingerprint(nodeID), Created: true, Kind: protocol.KindNode, State: &st}

	if modelOf(h.Features) == ModelNodePairing {
		// 2026.4 / 2026.7: the gateway filed a request for the node's
		// commands and will not tell the node how it was decided.
		pending.Hint = "approve this node's commands on the gateway (`openclaw nodes pending`, `openclaw nodes approve <requestId>`) or in pairdeck's console; this gateway does not tell the node, the approval applies when it next connects"
		notify(pending)
		return out, nil
	}
	pending.Hint = "approve this node's commands in pairdeck's console or on the gateway host (`openclaw nodes pending`, then `openclaw nodes approve <requestId>`)"
	notify(pending)
	for {
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return out, fmt.Errorf("%w: the device is paired and its device token kept, but no approval of its commands reached it "+
					"(this gateway does not tell a node about a rejection); `pairdeck node connect` uses the device token: %w",
					ErrPairTimedOut, ctx.Err())
			}
			return out, fmt.Errorf("pair: %w", ctx.Err())
		case u, ok := <-c.Updates():
			if !ok {
				return out, fmt.Errorf("pair: %w", c.Err())
			}
			if u.Event == nil || u.Event.Event != protocol.EventPairResolved {
				continue
			}
			var ev protocol.ResolvedEvent
			if json.Unmarshal(u.Event.Payload, &ev) != nil || ev.NodeID != nodeID {
				continue
			}
			out.RequestID, out.Decision = ev.RequestID, ev.Decision
			switch ev.Decision {
			case protocol.DecisionApproved:
				out.CommandsPending = false
				out.State.Approval = protocol.ApprovalApproved
				if t := c.Hello().Auth; t != nil && t.DeviceToken != "" {
					out.State.DeviceToken = t.DeviceToken // a reconnect may have rotated it
				}
				return out, nil
			case protocol.DecisionRejected:
				return out, fmt.Errorf("%w: an operator rejected request %s for this node's commands", ErrPairRejected, protocol.Printable(ev.RequestID))
			}
		}
	}
}
