package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/pairdeck/pairdeck/protocol"
)

// The one pending queue. Against a gateway of ModelDevicePairing (OpenClaw
// 2026.8+) every request that waits for a person is listed: device pairing
// requests (device.pair.*) and node capability requests (node.pair.*), each
// with its Kind. Approve and Reject take a request id and go to the family
// the request belongs to; the client remembers each id's kind from the last
// list and from events, and lists once more for an id it does not know.
// Against ModelNodePairing gateways the queue is node.pair.list as before.

// queueState is what the client remembers between calls.
type queueState struct {
	mu sync.Mutex
	// kinds maps a pending request id to its kind.
	kinds map[string]string
	// pendingNodes are the node ids with a pending node request (to
	// explain why a gateway cannot rename them).
	pendingNodes map[string]bool
	// pairedDevices are the paired devices of the last device.pair.list,
	// from which a device request's reason is worked out.
	pairedDevices map[string]protocol.PairedDevice
}

func (q *queueState) remember(requestID, kind, nodeID string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.kinds == nil {
		q.kinds, q.pendingNodes = map[string]string{}, map[string]bool{}
	}
	q.kinds[requestID] = kind
	if kind == protocol.KindNode && nodeID != "" {
		q.pendingNodes[nodeID] = true
	}
}

func (q *queueState) forget(requestID, nodeID string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.kinds, requestID)
	if nodeID != "" {
		delete(q.pendingNodes, nodeID)
	}
}

func (q *queueState) kind(requestID string) (string, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	k, ok := q.kinds[requestID]
	return k, ok
}

func (q *queueState) hasPendingNode(nodeID string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.pendingNodes[nodeID]
}

func (q *queueState) pairedDevice(id string) (protocol.PairedDevice, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	d, ok := q.pairedDevices[id]
	return d, ok
}

// replace records a whole list: the ids it holds are all that is pending.
func (q *queueState) replace(pending []protocol.PendingRequest) {
	kinds, nodes := make(map[string]string, len(pending)), map[string]bool{}
	for _, r := range pending {
		kind := r.Kind
		if kind == "" {
			kind = protocol.KindNode
		}
		kinds[r.RequestID] = kind
		if kind == protocol.KindNode {
			nodes[r.NodeID] = true
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.kinds, q.pendingNodes = kinds, nodes
}

// setPaired records the paired devices of a device.pair.list.
func (q *queueState) setPaired(paired []protocol.PairedDevice) {
	m := make(map[string]protocol.PairedDevice, len(paired))
	for _, d := range paired {
		m[d.DeviceID] = d
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pairedDevices = m
}

// nodeRequestExpiry is when a node request of a ModelNodePairing gateway
// expires if it sent none: OpenClaw 2026.4 and 2026.7 drop node requests 5
// minutes after ts (a retry moves ts). pairdeck's gateway always sends it.
func nodeRequestExpiry(r protocol.PendingRequest) int64 {
	if r.ExpiresAtMs > 0 || r.TS <= 0 {
		return r.ExpiresAtMs
	}
	return r.TS + protocol.DefaultTTL.Milliseconds()
}

// deviceRequestExpiry applies OpenClaw's rule for device pairing requests,
// 5 minutes after refreshedAtMs ?? ts, only where the gateway publishes
// refreshedAtMs. 2026.9.6 strips it from every list and event (and 2026.4
// and 2026.7 send none either, recorded): a device that keeps retrying keeps
// its request alive with no sign of it, so ts + 5 min would be a deadline
// made up, and 0 (no known expiry) is the truth.
func deviceRequestExpiry(d protocol.PendingDevice) int64 {
	if d.RefreshedAtMs <= 0 {
		return 0
	}
	return d.RefreshedAtMs + protocol.DefaultTTL.Milliseconds()
}

// deviceRequest is a device pairing request as an entry of the one queue.
func (c *Client) deviceRequest(d protocol.PendingDevice, extra map[string]json.RawMessage) protocol.PendingRequest {
	var paired *protocol.PairedDevice
	if p, ok := c.q.pairedDevice(d.DeviceID); ok {
		paired = &p
	}
	return protocol.PendingRequest{
		RequestID: d.RequestID,
		NodeID:    d.DeviceID,
		NodeMeta: protocol.NodeMeta{DisplayName: d.DisplayName, Platform: d.Platform, DeviceFamily: d.DeviceFamily,
			ModelIdentifier: d.ModelIdentifier, RemoteIP: d.RemoteIP},
		Silent:                d.Silent,
		IsRepair:              d.IsRepair,
		TS:                    d.TS,
		RequiredApproveScopes: protocol.DeviceApproveScopes(d),
		ExpiresAtMs:           deviceRequestExpiry(d),
		Kind:                  protocol.KindDevice,
		Reason:                protocol.DeviceReason(d, paired),
		RefreshedAtMs:         d.RefreshedAtMs,
		ClientID:              d.ClientID,
		ClientMode:            d.ClientMode,
		Role:                  d.Role,
		Roles:                 d.Roles,
		Scopes:                d.Scopes,
		Extra:                 extra,
	}
}

// rawList is a list result whose records are decoded one by one.
type rawList struct {
	Pending []json.RawMessage `json:"pending"`
	Paired  []json.RawMessage `json:"paired"`
}

// List returns every pending request and the paired nodes. Paired nodes
// never carry tokens (OpenClaw 2026.4 and 2026.7 include them; a list is
// for display). Against OpenClaw gateways each pending request has its Kind
// and, where the gateway's rule is known, ExpiresAtMs; pairdeck's gateway
// fills expiresAtMs itself and leaves Kind empty (all its requests are node
// requests).
func (c *Client) List(ctx context.Context) (protocol.PairListResult, error) {
	h := c.Hello()
	if isPairdeck(h.Features) {
		return c.listPairdeck(ctx)
	}
	if modelOf(h.Features) == ModelDevicePairing {
		return c.listDevicePairing(ctx)
	}
	var raw rawList
	if err := c.Call(ctx, protocol.MethodPairList, nil, &raw); err != nil {
		return protocol.PairListResult{}, err
	}
	res, err := decodeNodeList(raw, true)
	if err != nil {
		return protocol.PairListResult{}, err
	}
	c.q.replace(res.Pending)
	return res, nil
}

// listPairdeck is pairdeck's own list, decoded straight into its types: its
// records have no keys the types do not know, and its lists can be large.
func (c *Client) listPairdeck(ctx context.Context) (protocol.PairListResult, error) {
	var r protocol.PairListResult
	if err := c.Call(ctx, protocol.MethodPairList, nil, &r); err != nil {
		return protocol.PairListResult{}, err
	}
	for i := range r.Paired {
		r.Paired[i] = r.Paired[i].WithoutSecrets()
	}
	c.q.replace(r.Pending)
	return r, nil
}

// decodeNodeList decodes node.pair.list's records, marking pending ones as
// node requests; withExpiry fills the 5-minute rule of 2026.4/2026.7.
func decodeNodeList(raw rawList, withExpiry bool) (protocol.PairListResult, error) {
	res := protocol.PairListResult{
		Pending: make([]protocol.PendingRequest, 0, len(raw.Pending)),
		Paired:  make([]protocol.PairedNode, 0, len(raw.Paired)),
	}
	for _, p := range raw.Pending {
		r, err := decodePending(p)
		if err != nil {
			return res, fmt.Errorf("%s: unexpected pending record from the gateway: %w", protocol.MethodPairList, err)
		}
		r.Kind = protocol.KindNode
		if withExpiry {
			r.ExpiresAtMs = nodeRequestExpiry(r)
		}
		res.Pending = append(res.Pending, r)
	}
	for _, p := range raw.Paired {
		n, err := decodePaired(p)
		if err != nil {
			return res, fmt.Errorf("%s: unexpected paired record from the gateway: %w", protocol.MethodPairList, err)
		}
		res.Paired = append(res.Paired, n)
	}
	return res, nil
}

// listDevicePairing lists both families at once and merges them, newest
// first.
func (c *Client) listDevicePairing(ctx context.Context) (protocol.PairListResult, error) {
	var (
		nodes, devices rawList
		nodeErr        error
		wg             sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		nodeErr = c.Call(ctx, protocol.MethodPairList, nil, &nodes)
	}()
	devErr := c.Call(ctx, protocol.MethodDevicePairList, nil, &devices)
	wg.Wait()
	if nodeErr != nil {
		return protocol.PairListResult{}, nodeErr
	}
	if devErr != nil {
		return protocol.PairListResult{}, devErr
	}
	// Node capability requests on these gateways carry no expiry and have
	// none: they wait until decided or superseded.
	res, err := decodeNodeList(nodes, false)
	if err != nil {
		return protocol.PairListResult{}, err
	}
	paired := make([]protocol.PairedDevice, 0, len(devices.Paired))
	for _, p := range devices.Paired {
		var d protocol.PairedDevice
		if json.Unmarshal(p, &d) == nil {
			paired = append(paired, d)
		}
	}
	c.q.setPaired(paired) // reasons below are worked out against these
	for _, p := range devices.Pending {
		d, extra, err := decodeDevice(p)
		if err != nil {
			return protocol.PairListResult{}, fmt.Errorf("%s: unexpected pending record from the gateway: %w", protocol.MethodDevicePairList, err)
		}
		res.Pending = append(res.Pending, c.deviceRequest(d, extra))
	}
	slices.SortStableFunc(res.Pending, func(a, b protocol.PendingRequest) int {
		return int(max(b.TS, b.RefreshedAtMs) - max(a.TS, a.RefreshedAtMs))
	})
	c.q.replace(res.Pending)
	return res, nil
}

// kindOf is the kind of request id: remembered from a list or an event, or
// (for a gateway with two families) learnt by listing once more. Unknown
// ids go to node.pair.*, whose answer ("unknown requestId") says so.
func (c *Client) kindOf(ctx context.Context, requestID string) string {
	if k, ok := c.q.kind(requestID); ok && k != "" {
		return k
	}
	if c.Model() != ModelDevicePairing {
		return protocol.KindNode
	}
	if _, err := c.List(ctx); err == nil {
		if k, ok := c.q.kind(requestID); ok && k != "" {
			return k
		}
	}
	return protocol.KindNode
}

// Approve approves a pending request of either kind. A node approval on
// pairdeck's gateway (and OpenClaw up to 2026.7) carries the node's new
// token: the one place it is shown. Where the gateway issues none, NoToken
// says why (protocol.NoToken*); a device approval has Kind KindDevice and
// the approved device in Device.
func (c *Client) Approve(ctx context.Context, requestID string) (protocol.ApproveResult, error) {
	return c.ApproveWith(ctx, protocol.RequestIDParams{RequestID: requestID})
}

// ApproveWith is Approve with the operator's reason (p.Reason, optional),
// which pairdeck's gateway keeps in its history. A reason for a gateway
// that keeps none is refused before anything is sent (CapReasons), so a
// decision is never made without the word that was meant to go with it.
func (c *Client) ApproveWith(ctx context.Context, p protocol.RequestIDParams) (protocol.ApproveResult, error) {
	if err := c.checkReason(p.Reason); err != nil {
		return protocol.ApproveResult{}, err
	}
	requestID := p.RequestID
	h := c.Hello()
	if c.kindOf(ctx, requestID) == protocol.KindDevice {
		var r protocol.DeviceApproveResult
		if err := c.Call(ctx, protocol.MethodDevicePairApprove, protocol.RequestIDParams{RequestID: requestID}, &r); err != nil {
			return protocol.ApproveResult{}, err
		}
		c.q.forget(requestID, "")
		d := r.Device
		return protocol.ApproveResult{
			RequestID: r.RequestID,
			Node: protocol.PairedNode{NodeID: d.DeviceID, CreatedAtMs: d.CreatedAtMs, ApprovedAtMs: d.ApprovedAtMs,
				NodeMeta: protocol.NodeMeta{DisplayName: d.DisplayName, Platform: d.Platform, DeviceFamily: d.DeviceFamily,
					ModelIdentifier: d.ModelIdentifier},
				ClientID: d.ClientID, ClientMode: d.ClientMode, LastSeenAtMs: d.LastSeenAtMs, LastSeenReason: d.LastSeenReason},
			Kind:    protocol.KindDevice,
			NoToken: protocol.NoTokenDeviceApproval,
			Device:  &d,
		}, nil
	}
	if isPairdeck(h.Features) {
		var r protocol.ApproveResult
		err := c.Call(ctx, protocol.MethodPairApprove, p, &r)
		if err == nil {
			c.q.forget(requestID, r.Node.NodeID)
		}
		return r, err
	}
	var wire struct {
		RequestID string          `json:"requestId"`
		Node      json.RawMessage `json:"node"`
	}
	if err := c.Call(ctx, protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: requestID}, &wire); err != nil {
		return protocol.ApproveResult{}, err
	}
	r := protocol.ApproveResult{RequestID: wire.RequestID, Kind: protocol.KindNode}
	if len(wire.Node) > 0 {
		extra, err := decodeWithExtra(wire.Node, &r.Node)
		if err != nil {
			return r, fmt.Errorf("%s: unexpected result from the gateway: %w", protocol.MethodPairApprove, err)
		}
		r.Node.Extra = extra
	}
	r.Node.TokenSHA256 = ""
	if r.Node.Token == "" {
		r.NoToken = protocol.NoTokenNodeUsesDeviceToken
	}
	c.q.forget(requestID, r.Node.NodeID)
	return r, nil
}

// Reject rejects a pending request of either kind.
func (c *Client) Reject(ctx context.Context, requestID string) (protocol.RejectResult, error) {
	return c.RejectWith(ctx, protocol.RequestIDParams{RequestID: requestID})
}

// RejectWith is Reject with the operator's reason (see ApproveWith).
func (c *Client) RejectWith(ctx context.Context, p protocol.RequestIDParams) (protocol.RejectResult, error) {
	if err := c.checkReason(p.Reason); err != nil {
		return protocol.RejectResult{}, err
	}
	requestID := p.RequestID
	h := c.Hello()
	if c.kindOf(ctx, requestID) == protocol.KindDevice {
		var r protocol.DeviceRejectResult
		if err := c.Call(ctx, protocol.MethodDevicePairReject, protocol.RequestIDParams{RequestID: requestID}, &r); err != nil {
			return protocol.RejectResult{}, err
		}
		c.q.forget(requestID, "")
		return protocol.RejectResult{RequestID: r.RequestID, NodeID: r.DeviceID, Kind: protocol.KindDevice}, nil
	}
	var r protocol.RejectResult
	if err := c.Call(ctx, protocol.MethodPairReject, p, &r); err != nil {
		return protocol.RejectResult{}, err
	}
	if !isPairdeck(h.Features) {
		r.Kind = protocol.KindNode
	}
	c.q.forget(requestID, r.NodeID)
	return r, nil
}

// Nodes returns every node the gateway knows, connected first. Against
// OpenClaw 2026.7+ each carries its ApprovalState: Paired there means only
// that the node's device is paired.
func (c *Client) Nodes(ctx context.Context) (protocol.NodeListResult, error) {
	if isPairdeck(c.Hello().Features) {
		var r protocol.NodeListResult
		err := c.Call(ctx, protocol.MethodNodeList, nil, &r)
		return r, err
	}
	var wire struct {
		TS    int64             `json:"ts"`
		Nodes []json.RawMessage `json:"nodes"`
	}
	if err := c.Call(ctx, protocol.MethodNodeList, nil, &wire); err != nil {
		return protocol.NodeListResult{}, err
	}
	r := protocol.NodeListResult{TS: wire.TS, Nodes: make([]protocol.NodeInfo, 0, len(wire.Nodes))}
	for _, raw := range wire.Nodes {
		var n protocol.NodeInfo
		extra, err := decodeWithExtra(raw, &n)
		if err != nil {
			return protocol.NodeListResult{}, fmt.Errorf("%s: unexpected node record from the gateway: %w", protocol.MethodNodeList, err)
		}
		n.Extra = extra
		r.Nodes = append(r.Nodes, n)
	}
	return r, nil
}

// Rename sets a node's display name (paired; also pending on pairdeck's
// gateway). A gateway that renames paired nodes only refuses a node that
// has only a pending request; that refusal is an *UnsupportedError for
// CapRenamePending.
func (c *Client) Rename(ctx context.Context, nodeID, name string) (protocol.RenameResult, error) {
	var r protocol.RenameResult
	err := c.Call(ctx, protocol.MethodNodeRename, protocol.RenameParams{NodeID: nodeID, DisplayName: name}, &r)
	var perr *protocol.Error
	if errors.As(err, &perr) && perr.Message == "unknown nodeId" && c.q.hasPendingNode(nodeID) && c.Supports(CapRenamePending) != nil {
		return r, c.Supports(CapRenamePending)
	}
	return r, err
}

// RenameDevice sets a paired device's label (device.pair.rename, OpenClaw
// 2026.9+; see CapDeviceRename).
func (c *Client) RenameDevice(ctx context.Context, deviceID, label string) error {
	return c.Call(ctx, protocol.MethodDevicePairRename, protocol.DeviceRenameParams{DeviceID: deviceID, Label: label}, nil)
}

// checkReason refuses, before anything is sent, a reason the gateway could
// not keep or would refuse (protocol.CheckReason).
func (c *Client) checkReason(reason string) error {
	if reason == "" {
		return nil
	}
	if err := protocol.CheckReason("reason", reason); err != nil {
		return err
	}
	return c.Supports(CapReasons)
}
