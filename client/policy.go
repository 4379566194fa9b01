package client

import (
	"context"

	"github.com/pairdeck/pairdeck/protocol"
)

// pairdeck's own methods (protocol.MethodPairingGet and friends). Another
// gateway answers them with UNKNOWN_METHOD; hello-ok features tell in
// advance.

// PairingStatus reports the gateway's pairing switch.
func (c *Client) PairingStatus(ctx context.Context) (protocol.PairingState, error) {
	var r protocol.PairingState
	err := c.Call(ctx, protocol.MethodPairingGet, nil, &r)
	return r, err
}

// SetPairing switches pairing on or off (operator.admin). While off, nodes'
// requests are refused; paired nodes keep connecting.
func (c *Client) SetPairing(ctx context.Context, on bool) (protocol.PairingState, error) {
	var r protocol.PairingState
	err := c.Call(ctx, protocol.MethodPairingSet, protocol.PairingSetParams{Enabled: &on}, &r)
	return r, err
}

// Block puts a node id on the block list; its pending request is rejected
// and its future requests are refused. name labels the entry (optional).
func (c *Client) Block(ctx context.Context, nodeID, name string) (protocol.BlockResult, error) {
	return c.BlockWith(ctx, protocol.BlockParams{NodeID: nodeID, DisplayName: name})
}

// BlockWith is Block with the operator's reason (p.Reason, optional; see
// ApproveWith).
func (c *Client) BlockWith(ctx context.Context, p protocol.BlockParams) (protocol.BlockResult, error) {
	if err := c.checkReason(p.Reason); err != nil {
		return protocol.BlockResult{}, err
	}
	var r protocol.BlockResult
	err := c.Call(ctx, protocol.MethodBlockAdd, p, &r)
	return r, err
}

// Unblock takes a node id off the block list.
func (c *Client) Unblock(ctx context.Context, nodeID string) (protocol.UnblockResult, error) {
	var r protocol.UnblockResult
	err := c.Call(ctx, protocol.MethodBlockRemove, protocol.NodeIDParams{NodeID: nodeID}, &r)
	return r, err
}

// Blocked lists the blocked node ids with their refused-attempt counters.
func (c *Client) Blocked(ctx context.Context) (protocol.BlockListResult, error) {
	var r protocol.BlockListResult
	err := c.Call(ctx, protocol.MethodBlockList, nil, &r)
	return r, err
}

// AutoApprove approves a silent request on the strength of a check this
// client made (rule names it, e.g. "ssh-check"). The result carries the
// node's new token, as Approve's does.
func (c *Client) AutoApprove(ctx context.Context, requestID, rule string) (protocol.ApproveResult, error) {
	var r protocol.ApproveResult
	err := c.Call(ctx, protocol.MethodPairAutoApprove, protocol.AutoApproveParams{RequestID: requestID, Rule: rule}, &r)
	return r, err
}
