package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/pairdeck/pairdeck/protocol"
)

// Call sends method with params and decodes the result into result (which
// may be nil). A gateway refusal is returned as the *protocol.Error itself;
// transport problems wrap ErrNotConnected, ErrConnectionLost, ErrClosed or
// the context's error. A call cancelled by ctx stops waiting at once; its
// response, should it come, is dropped.
func (c *Client) Call(ctx context.Context, method string, params, result any) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	cn, err := c.current()
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	if h := cn.hello; len(h.Features.Methods) > 0 && !slices.Contains(h.Features.Methods, method) {
		return unsupportedBy(h, capabilityOf(method), method)
	}
	if params == nil {
		params = struct{}{}
	}
	raw, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("%s: encode params: %w", method, err)
	}
	id := c.nextID()
	data, err := json.Marshal(protocol.Request{Type: protocol.TypeReq, ID: id, Method: method, Params: raw})
	if err != nil {
		return fmt.Errorf("%s: encode request: %w", method, err)
	}
	ch, ok := cn.register(id)
	if !ok {
		return fmt.Errorf("%s: %w", method, c.lostErr(cn))
	}
	defer cn.unregister(id)
	if err := cn.send(data); err != nil {
		return fmt.Errorf("%s: %w", method, c.lostErr(cn))
	}

	var f frame
	select {
	case f = <-ch:
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", method, ctx.Err())
	case <-cn.done:
		// The answer may have arrived just before the socket went.
		select {
		case f = <-ch:
		default:
			return fmt.Errorf("%s: %w", method, c.lostErr(cn))
		}
	}
	if !f.OK {
		perr := f.protocolError()
		if isUnknownMethod(perr) {
			return unsupportedBy(cn.hello, capabilityOf(method), method)
		}
		return perr
	}
	if result != nil && len(f.Payload) > 0 {
		if err := json.Unmarshal(f.Payload, result); err != nil {
			return fmt.Errorf("%s: unexpected result from the gateway: %w", method, err)
		}
	}
	return nil
}

// lostErr explains why cn can no longer carry a call.
func (c *Client) lostErr(cn *conn) error {
	select {
	case <-cn.done:
	default:
		return ErrConnectionLost
	}
	cause := cn.cause()
	if errors.Is(cause, ErrClosed) || errors.Is(cause, ErrConnectionLost) {
		return cause
	}
	return fmt.Errorf("%w: %w", ErrConnectionLost, cause)
}

// PairRequest asks to pair a node: an operator on a node's behalf, or a node
// for itself (NodeID empty or its own id). The result never has a token.
func (c *Client) PairRequest(ctx context.Context, p protocol.PairRequestParams) (protocol.PairRequestResult, error) {
	var r protocol.PairRequestResult
	err := c.Call(ctx, protocol.MethodPairRequest, p, &r)
	return r, err
}

// Request is PairRequest under the name gateway.LocalOperator gives it, so
// one interface can cover both.
func (c *Client) Request(ctx context.Context, p protocol.PairRequestParams) (protocol.PairRequestResult, error) {
	return c.PairRequest(ctx, p)
}

// Remove unpairs a node; its live connections are closed with 4001.
func (c *Client) Remove(ctx context.Context, nodeID string) (protocol.RemoveResult, error) {
	var r protocol.RemoveResult
	err := c.Call(ctx, protocol.MethodPairRemove, protocol.NodeIDParams{NodeID: nodeID}, &r)
	return r, err
}

// Verify checks a node's token. The returned node never carries a token
// (an OpenClaw gateway echoes it; it is stripped).
func (c *Client) Verify(ctx context.Context, nodeID, token string) (protocol.VerifyResult, error) {
	var r protocol.VerifyResult
	if err := c.Call(ctx, protocol.MethodPairVerify, protocol.VerifyParams{NodeID: nodeID, Token: token}, &r); err != nil {
		return protocol.VerifyResult{}, err
	}
	if r.Node != nil {
		n := r.Node.WithoutSecrets()
		r.Node = &n
	}
	return r, nil
}
