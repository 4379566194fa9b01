package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/pairdeck/pairdeck/internal/atomicfile"
	"github.com/pairdeck/pairdeck/internal/statefile"
	"github.com/pairdeck/pairdeck/protocol"
)

// NodeState is what a paired node remembers, in <node state dir>/node.json.
// It holds the node's credential: the file is 0600 and the type never prints
// it. A node paired with a pairdeck gateway holds the node Token it was
// approved with; one paired with an OpenClaw gateway holds the DeviceToken
// that gateway issued this device for Role (hello-ok auth.deviceToken), for
// the gateway at GatewayURL.
type NodeState struct {
	NodeID      string `json:"nodeId"`
	GatewayURL  string `json:"gatewayUrl"`
	Token       string `json:"token,omitempty"`
	PairedAtMs  int64  `json:"pairedAtMs"`
	DisplayName string `json:"displayName,omitempty"`

	DeviceToken string `json:"deviceToken,omitempty"`
	Role        string `json:"role,omitempty"`
	// Protocol is the protocol the gateway spoke when it issued
	// DeviceToken: a protocol-3 gateway (OpenClaw 2026.4) is also sent the
	// device token in auth.token, as its own node hosts do.
	Protocol int `json:"protocol,omitempty"`
	// Approval is protocol.ApprovalApproved once the gateway said the
	// node's commands were approved, protocol.ApprovalPending while that is
	// not known (empty for a pairdeck pairing).
	Approval string `json:"approval,omitempty"`
	// Caps and Commands are what the node declared when it paired with an
	// OpenClaw gateway, which takes a node's surface from every connect:
	// ConnectNode declares them again (a connect declaring less was
	// recorded on 2026.7.35 to need approval anew).
	Caps     []string `json:"caps,omitempty"`
	Commands []string `json:"commands,omitempty"`
}

// String describes the state without the token.
func (s NodeState) String() string {
	return fmt.Sprintf("node %s (%s) paired with %s", protocol.Fingerprint(s.NodeID), s.DisplayName, s.GatewayURL)
}

// LogValue keeps the token out of structured logs.
func (s NodeState) LogValue() slog.Value {
	return slog.GroupValue(slog.String("nodeId", s.NodeID), slog.String("gatewayUrl", s.GatewayURL),
		slog.Int64("pairedAtMs", s.PairedAtMs), slog.String("displayName", s.DisplayName))
}

// NodeStatePath is where a node state dir keeps node.json. The same dir
// holds the node's identity at IdentityPath(dir).
func NodeStatePath(dir string) string { return filepath.Join(dir, "node.json") }

// SaveNodeState writes node.json atomically with mode 0600.
func SaveNodeState(dir string, s NodeState) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(NodeStatePath(dir), append(data, '\n')); err != nil {
		return fmt.Errorf("save node state: %w", err)
	}
	return nil
}

// LoadNodeState reads node.json. A node that never paired gets an error
// matching ErrNotPaired (and fs.ErrNotExist).
func LoadNodeState(dir string) (NodeState, error) {
	path := NodeStatePath(dir)
	data, err := statefile.Read(path, maxIdentityBytes) // no link followed, a regular file, bounded
	if errors.Is(err, fs.ErrNotExist) {
		return NodeState{}, fmt.Errorf("%w: no %s; pair this node first (pairdeck node pair): %w", ErrNotPaired, path, err)
	}
	if err != nil {
		return NodeState{}, fmt.Errorf("read node state: %w", err)
	}
	var s NodeState
	if err := json.Unmarshal(data, &s); err != nil {
		return NodeState{}, fmt.Errorf("node state %s is not valid JSON (%v): fix it, or delete it and pair again", path, err)
	}
	if s.NodeID == "" || (s.Token == "" && s.DeviceToken == "") {
		return NodeState{}, fmt.Errorf("%w: %s has no nodeId or token; delete it and pair again", ErrNotPaired, path)
	}
	return s, nil
}

// PairPending tells the user a request is waiting for an operator: print
// RequestID and Fingerprint so they can be matched in the console.
type PairPending struct {
	RequestID   string // "" when the gateway does not tell the node (Kind node on OpenClaw)
	NodeID      string
	Fingerprint string
	// Created is false when an earlier request for this node was reused.
	Created bool
	// ExpiresAt is zero when the gateway does not say.
	ExpiresAt time.Time

	// Kind is what waits: protocol.KindNode, the node's pairing (pairdeck)
	// or the approval of its commands (OpenClaw, a request the gateway
	// filed itself); protocol.KindDevice, this device's pairing request,
	// which must be approved before the gateway lets it in (Reason says
	// why, protocol.PairingReason*).
	Kind   string
	Reason string
	// Hint is what an operator does about it, in one line.
	Hint string
	// State is set once an OpenClaw gateway issued this device its device
	// token: save it right away (SaveNodeState); `node connect` can use it
	// while the node's commands wait for approval.
	State *NodeState
	// Code says why the setup code the request carried approved nothing
	// (pairdeck's gateway): the request waits for a person all the same.
	Code *protocol.CodeRefusal
}

// PairOutcome is how a pairing request ended. State is set on approval,
// ready for SaveNodeState (and, against OpenClaw gateways, whenever a device
// token was issued, even if the pairing did not finish).
type PairOutcome struct {
	RequestID string
	NodeID    string
	Decision  string // protocol.DecisionApproved, ...Rejected, ...Expired
	Token     string
	State     NodeState

	// ByCode is true when a setup code approved the request at once.
	ByCode bool

	// CommandsPending is true when the device is paired and holds its
	// device token but the gateway has not said the node's commands were
	// approved. OpenClaw 2026.4 and 2026.7 decide a node's request without
	// telling the node (the decision applies when it next connects), so
	// Pair returns as soon as the device token is stored.
	CommandsPending bool
}

// Pair pairs this node with the gateway and waits for an operator's
// decision. onPending (optional) is called as soon as something waits for
// an operator, and again when that changes.
//
// How depends on the gateway (see node_device.go for OpenClaw's): against
// pairdeck's gateway the node connects without a credential, requests
// pairing for itself (node.pair.request) and receives its node token with
// the approval. An OpenClaw gateway pairs nodes through device pairing: the
// node connects with role node and the gateway's shared token or password
// (cfg.Token / cfg.Password; tried only when the gateway asks for it, as
// pairdeck's gateway would refuse it), is given its device token, and waits
// on its own socket for the approval of its commands.
//
// req.Code, a setup code (protocol.NormalizeCode's form or as typed), asks
// for approval ahead of a person: pairdeck's gateway takes it with
// node.pair.request; an OpenClaw 2026.8+ gateway takes it as the connect's
// auth.bootstrapToken, as its own node host sends it. A code that approves
// nothing (expired, used up, revoked, out of scope) leaves the request
// waiting for a person, and onPending's PairPending.Code says why; a code
// the gateway does not know at all is an error (*CodeRefusedError).
//
// Approval returns the outcome with the state to save. Rejection, expiry
// and ctx's deadline return errors matching ErrPairRejected, ErrPairExpired
// and ErrPairTimedOut. A dropped connection is re-established and the
// request repeated (it is idempotent) instead of failing.
func Pair(ctx context.Context, cfg Config, req protocol.PairRequestParams, onPending ...func(PairPending)) (PairOutcome, error) {
	if cfg.Identity == nil {
		return PairOutcome{}, errors.New("pair: a node needs a device identity (LoadOrCreateIdentity)")
	}
	notify := func(p PairPending) {
		for _, f := range onPending {
			if f != nil {
				f(p)
			}
		}
	}
	shared := sharedSecret{token: cfg.Token, password: cfg.Password}
	cfg.Role = protocol.RoleNode
	cfg.Token, cfg.Password, cfg.DeviceToken, cfg.BootstrapToken = "", "", "", ""
	cfg.Reconnect = true
	req.NodeID = cfg.Identity.DeviceID
	if cfg.Caps == nil {
		cfg.Caps = req.Caps
	}
	if cfg.Commands == nil {
		cfg.Commands = req.Commands
	}
	if cfg.Client.DisplayName == "" {
		cfg.Client.DisplayName = req.DisplayName
	}

	c, err := Dial(ctx, cfg)
	if err != nil && req.Code != "" && (wantsSharedSecret(err) || errors.Is(err, ErrPairingRequired)) {
		// Not pairdeck's gateway (it lets a node in to ask): an OpenClaw
		// gateway that pairs with setup codes takes the code at connect.
		return pairWithBootstrapToken(ctx, cfg, req, notify)
	}
	if err != nil {
		if !wantsSharedSecret(err) && !errors.Is(err, ErrPairingRequired) {
			return PairOutcome{}, err
		}
		if wantsSharedSecret(err) {
			if shared.empty() {
				return PairOutcome{}, err
			}
			cfg.Token, cfg.Password = shared.token, shared.password
			err = nil // dial again, now with the secret
		}
		c, err = dialUntilDeviceApproved(ctx, cfg, err, notify)
		if err != nil {
			return PairOutcome{}, err
		}
	}
	defer c.Close()
	if !isPairdeck(c.Hello().Features) {
		if req.Code != "" {
			return PairOutcome{NodeID: req.NodeID}, unsupported(c.Hello().Server.Version, CapCodes, protocol.MethodPairRequest)
		}
		return pairThroughDevice(ctx, c, req, notify)
	}
	return pairWithRequest(ctx, c, req, notify)
}

// pairWithRequest is pairdeck's node pairing: node.pair.request for itself,
// then the decision (with the token) on its own socket.
func pairWithRequest(ctx context.Context, c *Client, req protocol.PairRequestParams, notify func(PairPending)) (PairOutcome, error) {
	nodeID := req.NodeID
	requestID := ""
	byCode := false
	request := func() error {
		res, err := c.PairRequest(ctx, req)
		if queued, ok := unknownCodeQueued(err, nodeID); ok {
			// The gateway queued the request all the same.
			res, err = queued, nil
		}
		if err != nil {
			return codeRefused(c.cfg.URL, err)
		}
		if res.Code != nil {
			// A code that approved nothing is not presented again when the
			// request is repeated after a reconnect: the answer would be
			// the same, and unknown codes count against the network.
			req.Code = ""
		}
		if res.Request.RequestID == requestID {
			return nil
		}
		requestID = res.Request.RequestID
		if res.Status == protocol.DecisionApproved {
			// The code approved it: node.pair.resolved brings the token.
			byCode = true
			return nil
		}
		p := PairPending{RequestID: requestID, NodeID: nodeID, Fingerprint: protocol.Fingerprint(nodeID), Created: res.Created,
			Kind: protocol.KindNode, Code: res.Code, Hint: "approve it in the console, or with `pairdeck nodes approve " + requestID + "`"}
		if res.Request.ExpiresAtMs > 0 {
			p.ExpiresAt = time.UnixMilli(res.Request.ExpiresAtMs)
		}
		notify(p)
		return nil
	}
	if err := requestPatiently(ctx, c, request); err != nil {
		return PairOutcome{}, fmt.Errorf("request pairing: %w", err)
	}

	for {
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return PairOutcome{RequestID: requestID, NodeID: nodeID}, fmt.Errorf(
					"%w: request %s is still pending until it expires; an operator can approve it and you can pair again: %w",
					ErrPairTimedOut, requestID, ctx.Err())
			}
			return PairOutcome{RequestID: requestID, NodeID: nodeID}, fmt.Errorf("pair: %w", ctx.Err())
		case u, ok := <-c.Updates():
			if !ok {
				return PairOutcome{RequestID: requestID, NodeID: nodeID}, fmt.Errorf("pair: %w", c.Err())
			}
			if u.Relist {
				// Reconnected (or missed events): the decision may have
				// been missed, so ask again; the gateway keeps one request
				// per node, and answers with the current one.
				if err := request(); err != nil && ctx.Err() == nil && !isTransient(err) {
					return PairOutcome{RequestID: requestID, NodeID: nodeID}, fmt.Errorf("request pairing again: %w", err)
				}
				continue
			}
			if u.Event == nil || u.Event.Event != protocol.EventPairResolved {
				continue
			}
			var ev protocol.ResolvedEvent
			if json.Unmarshal(u.Event.Payload, &ev) != nil || ev.RequestID != requestID {
				continue
			}
			out := PairOutcome{RequestID: ev.RequestID, NodeID: nodeID, Decision: ev.Decision, ByCode: byCode}
			switch ev.Decision {
			case protocol.DecisionApproved:
				if ev.Token == "" {
					return out, fmt.Errorf("request %s was approved but the gateway sent no token to this node; "+
						"ask the operator for it, or pair again", requestID)
				}
				out.Token = ev.Token
				out.State = NodeState{NodeID: nodeID, GatewayURL: c.cfg.URL, Token: ev.Token,
					PairedAtMs: c.cfg.Now().UnixMilli(), DisplayName: req.DisplayName}
				return out, nil
			case protocol.DecisionRejected:
				return out, fmt.Errorf("%w: an operator rejected request %s", ErrPairRejected, requestID)
			case protocol.DecisionExpired:
				return out, fmt.Errorf("%w: request %s expired without a decision; pair again", ErrPairExpired, requestID)
			}
		}
	}
}

// requestPatiently runs request, and again after the wait the gateway asks
// for while it rate-limits pairing requests (pairdeck's RATE_LIMITED), until
// ctx ends. The error then says it is a rate limit and when to retry.
func requestPatiently(ctx context.Context, c *Client, request func() error) error {
	for attempt := 0; ; attempt++ {
		err := request()
		var perr *protocol.Error
		if err == nil || !errors.As(err, &perr) || perr.Reason() != protocol.ReasonRateLimited {
			return err
		}
		rl := &RateLimitedError{URL: c.cfg.URL, RetryAfter: retryHint(perr), What: "pairing requests", Err: perr}
		wait := max(rl.RetryAfter, c.cfg.Backoff.delay(attempt))
		c.log.Info("pairing requests are rate-limited; waiting", "wait", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (gave up waiting: %w)", rl, ctx.Err())
		case <-t.C:
		}
	}
}

// isTransient reports errors a reconnect will cure.
func isTransient(err error) bool {
	return errors.Is(err, ErrNotConnected) || errors.Is(err, ErrConnectionLost)
}

// ConnectNode connects a paired node with the credential from its state and
// keeps it connected, reconnecting with backoff after network loss: its node
// token (pairdeck), or its device token (OpenClaw: in auth.deviceToken, and
// for a protocol-3 gateway in auth.token too). It ends (Done, Err) when the
// gateway removes the node (ErrNodeRemoved) or refuses its credential
// (ErrNotPaired, and the *protocol.Error). cfg.URL overrides the state's
// gateway URL when set. A gateway that rotates the device token hands it to
// cfg.OnDeviceToken, which should save it.
func ConnectNode(ctx context.Context, cfg Config, st NodeState) (*Client, error) {
	if cfg.Identity == nil {
		return nil, errors.New("connect node: a node needs its device identity (LoadOrCreateIdentity)")
	}
	if cfg.Identity.DeviceID != st.NodeID {
		return nil, fmt.Errorf("connect node: node.json is for node %s but the identity is %s; "+
			"they must come from the same node state dir", protocol.Fingerprint(st.NodeID),
			protocol.Fingerprint(cfg.Identity.DeviceID))
	}
	cfg.Role = protocol.RoleNode
	cfg.Token, cfg.Password, cfg.DeviceToken = st.Token, "", ""
	if st.DeviceToken != "" {
		cfg.Token, cfg.DeviceToken = "", st.DeviceToken
		if st.Protocol == 3 {
			cfg.Token = st.DeviceToken
		}
	}
	cfg.Reconnect = true
	if cfg.URL == "" {
		cfg.URL = st.GatewayURL
	}
	if cfg.Caps == nil {
		cfg.Caps = st.Caps
	}
	if cfg.Commands == nil {
		cfg.Commands = st.Commands
	}
	return Dial(ctx, cfg)
}
