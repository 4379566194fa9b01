package client

import (
	"context"
	"fmt"

	"github.com/pairdeck/pairdeck/protocol"
)

// Setup codes (pairdeck.codes.*): approval decided ahead of time. Only
// pairdeck's gateway has them; against any other gateway the calls are
// never sent and fail with an *UnsupportedError for CapCodes.

// CreateCode creates a setup code. The result holds the secret: the one
// time it is ever shown.
func (c *Client) CreateCode(ctx context.Context, p protocol.CodeCreateParams) (protocol.CodeCreateResult, error) {
	var r protocol.CodeCreateResult
	if err := c.Call(ctx, protocol.MethodCodesCreate, p, &r); err != nil {
		return protocol.CodeCreateResult{}, err
	}
	if r.Secret == "" {
		return protocol.CodeCreateResult{}, fmt.Errorf("%s: the gateway returned no code", protocol.MethodCodesCreate)
	}
	return r, nil
}

// ListCodes lists the setup codes that can still be used, newest first;
// all lists used-up, expired and revoked ones too. Lists never hold secrets.
func (c *Client) ListCodes(ctx context.Context, all bool) ([]protocol.SetupCode, error) {
	var r protocol.CodeListResult
	if err := c.Call(ctx, protocol.MethodCodesList, protocol.CodeListParams{All: all}, &r); err != nil {
		return nil, err
	}
	if r.Codes == nil {
		r.Codes = []protocol.SetupCode{}
	}
	return r.Codes, nil
}

// RevokeCode revokes a setup code by id. Revoked is false in the result
// when the code already was revoked.
func (c *Client) RevokeCode(ctx context.Context, p protocol.CodeRevokeParams) (protocol.CodeRevokeResult, error) {
	var r protocol.CodeRevokeResult
	err := c.Call(ctx, protocol.MethodCodesRevoke, p, &r)
	return r, err
}
