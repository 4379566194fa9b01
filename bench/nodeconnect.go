package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/coder/websocket"

	"github.com/pairdeck/pairdeck/client"
	"github.com/pairdeck/pairdeck/protocol"
)

// pairedNode is a node the harness paired over the wire: its identity and
// the token its approval minted.
type pairedNode struct {
	id    *client.Identity
	token string
}

// pairNodes pairs n new node identities through op (request on their
// behalf, then approve) and returns them with their tokens.
func pairNodes(ctx context.Context, op *client.Client, n, first int) ([]pairedNode, error) {
	out := make([]pairedNode, 0, n)
	for i := range n {
		id, err := client.NewIdentity()
		if err != nil {
			return nil, err
		}
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		req, err := op.PairRequest(cctx, nodeParams(id.DeviceID, first+i))
		if err == nil {
			var res protocol.ApproveResult
			res, err = op.Approve(cctx, req.Request.RequestID)
			out = append(out, pairedNode{id: id, token: res.Node.Token})
		}
		cancel()
		if err != nil {
			return nil, fmt.Errorf("pair node %d: %w", i, err)
		}
	}
	return out, nil
}

// nodeConnect connects a paired node with its token from src (the gateway
// records lastConnectedAtMs) and returns the time from dial to hello-ok.
func nodeConnect(ctx context.Context, url string, src net.IP, n pairedNode) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	start := time.Now()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: src}}
	hc := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		return 0, fmt.Errorf("node dial from %s: %w", src, err)
	}
	defer ws.CloseNow()
	var challenge struct {
		Payload protocol.ChallengeEvent `json:"payload"`
	}
	if err := readJSON(ctx, ws, &challenge); err != nil || challenge.Payload.Nonce == "" {
		return 0, fmt.Errorf("node: no connect.challenge (%v)", err)
	}
	const clientID, mode, platform = "node-host", "node", "linux"
	device := protocol.SignDevice(n.id.PrivateKey, protocol.SignedPayload{
		DeviceID: n.id.DeviceID, ClientID: clientID, ClientMode: mode, Role: protocol.RoleNode,
		SignedAtMs: time.Now().UnixMilli(), Token: n.token, Nonce: challenge.Payload.Nonce, Platform: platform,
	})
	connect := protocol.NewRequest("1", protocol.MethodConnect, protocol.ConnectParams{
		MinProtocol: protocol.Version, MaxProtocol: protocol.Version,
		Client: protocol.ClientInfo{ID: clientID, Mode: mode, Version: "bench", Platform: platform},
		Role:   protocol.RoleNode, Device: &device, Auth: &protocol.ConnectAuth{Token: n.token},
	})
	if err := nodeCall(ctx, ws, connect); err != nil {
		return 0, fmt.Errorf("paired node connect: %w", err)
	}
	d := time.Since(start)
	ws.Close(websocket.StatusNormalClosure, "")
	return d, nil
}
