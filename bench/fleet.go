package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/pairdeck/pairdeck/client"
	"github.com/pairdeck/pairdeck/protocol"
)

// A fleet powering on is nodes, not operators: each connects with its own
// device identity, asks to pair for itself, and gets no broadcast events.
// The gateway limits node requests per remote address (10 at once, then
// one per 6 s), so every simulated node dials from its own loopback
// address (127.1.0.0/16; all of 127/8 is loopback on Linux), as a real
// fleet has its own addresses. The client package has no option to pick a
// source address, so the node side of the handshake is written out here.

// fleetAddr is the loopback source address of node i: 127.1.0.1,
// 127.1.0.2, … (250 to a block, never .0 or .255).
func fleetAddr(i int) net.IP {
	block := i / 250
	return net.IPv4(127, byte(1+block/256), byte(block%256), byte(i%250+1))
}

// nodePairOnce connects as a new node from src, asks to pair, and returns
// the wall time of the node.pair.request call alone and of the whole visit
// (dial, handshake, request).
func nodePairOnce(ctx context.Context, url string, src net.IP, i int) (req, visit time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	start := time.Now()
	id, err := client.NewIdentity()
	if err != nil {
		return 0, 0, err
	}
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: src}}
	hc := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		return 0, 0, fmt.Errorf("node dial from %s: %w", src, err)
	}
	defer ws.CloseNow()

	var challenge struct {
		Event   string                  `json:"event"`
		Payload protocol.ChallengeEvent `json:"payload"`
	}
	if err := readJSON(ctx, ws, &challenge); err != nil || challenge.Payload.Nonce == "" {
		return 0, 0, fmt.Errorf("node: no connect.challenge (%v)", err)
	}
	const clientID, mode, platform = "node-host", "node", "linux"
	device := protocol.SignDevice(id.PrivateKey, protocol.SignedPayload{
		DeviceID: id.DeviceID, ClientID: clientID, ClientMode: mode, Role: protocol.RoleNode,
		SignedAtMs: time.Now().UnixMilli(), Nonce: challenge.Payload.Nonce, Platform: platform,
	})
	connect := protocol.NewRequest("1", protocol.MethodConnect, protocol.ConnectParams{
		MinProtocol: protocol.Version, MaxProtocol: protocol.Version,
		Client: protocol.ClientInfo{ID: clientID, Mode: mode, Version: "bench", Platform: platform},
		Role:   protocol.RoleNode, Device: &device,
	})
	if err := nodeCall(ctx, ws, connect); err != nil {
		return 0, 0, fmt.Errorf("node connect: %w", err)
	}
	p := nodeParams("", i)
	p.RemoteIP = "" // the gateway fills it for nodes
	reqStart := time.Now()
	if err := nodeCall(ctx, ws, protocol.NewRequest("2", protocol.MethodPairRequest, p)); err != nil {
		return 0, 0, fmt.Errorf("node pair request: %w", err)
	}
	req = time.Since(reqStart)
	ws.Close(websocket.StatusNormalClosure, "")
	return req, time.Since(start), nil
}

func readJSON(ctx context.Context, ws *websocket.Conn, v any) error {
	_, data, err := ws.Read(ctx)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// nodeCall sends req and waits for its answer.
func nodeCall(ctx context.Context, ws *websocket.Conn, req *protocol.Request) error {
	data, err := json.Marshal(req)
	if err != nil {
		return err
	}
	if err := ws.Write(ctx, websocket.MessageText, data); err != nil {
		return err
	}
	for {
		var res struct {
			Type  string          `json:"type"`
			ID    string          `json:"id"`
			OK    bool            `json:"ok"`
			Error json.RawMessage `json:"error"`
		}
		if err := readJSON(ctx, ws, &res); err != nil {
			return err
		}
		if res.Type != protocol.TypeRes || res.ID != req.ID {
			continue
		}
		if !res.OK {
			return fmt.Errorf("refused: %s", res.Error)
		}
		return nil
	}
}

// fleetThroughput runs `workers` concurrent nodes at a time until `total`
// nodes have asked to pair; it returns nodes per second and the request
// call times.
func fleetThroughput(ctx context.Context, url string, workers, total int) (float64, samples, error) {
	var next atomic.Int64
	var mu sync.Mutex
	lat := make(samples, 0, total)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= total || ctx.Err() != nil {
					return
				}
				d, _, err := nodePairOnce(ctx, url, fleetAddr(i), i)
				if err != nil {
					errs[w] = err
					return
				}
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, err := range errs {
		if err != nil {
			return 0, nil, err
		}
	}
	return float64(len(lat)) / elapsed.Seconds(), lat, nil
}
