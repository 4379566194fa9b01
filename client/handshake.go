package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/coder/websocket"

	"github.com/pairdeck/pairdeck/protocol"
)

// preHandshakeReadLimit bounds frames before hello-ok. It is well above the
// 64 KiB the gateway accepts from clients because an OpenClaw hello-ok
// carries a snapshot (presence, health) that can be large.
const preHandshakeReadLimit = 4 << 20

// gatewayReadLimit bounds the frames this client accepts from a gateway once
// connected. policy.maxPayload in hello-ok is the limit on what the
// gateway accepts, not on what it sends: a node.pair.list of thousands of
// nodes is several MiB (about 350 bytes per paired node, 460 per pending
// request), so the client reads up to 64 MiB, or the gateway's own limit
// if that is larger.
const gatewayReadLimit = 64 << 20

// connect dials and performs the handshake within HandshakeTimeout.
func (c *Client) connect(parent context.Context) (*conn, error) {
	ctx, cancel := context.WithTimeout(parent, c.cfg.HandshakeTimeout)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, c.cfg.URL, c.dialOptions())
	if err != nil {
		if parent.Err() == nil && ctx.Err() != nil {
			return nil, &NoGatewayError{URL: c.cfg.URL,
				Err: fmt.Errorf("no answer within %s", c.cfg.HandshakeTimeout)}
		}
		return nil, dialError(parent, c.cfg.URL, resp, err)
	}
	ws.SetReadLimit(preHandshakeReadLimit)
	hello, err := c.handshake(ctx, ws)
	if err != nil {
		ws.CloseNow()
		if parent.Err() != nil {
			return nil, fmt.Errorf("connect to %s: %w", c.cfg.URL, parent.Err())
		}
		return nil, err
	}
	ws.SetReadLimit(max(hello.Policy.MaxPayload, gatewayReadLimit))
	cn := &conn{
		ws:    ws,
		hello: hello,
		calls: make(map[string]chan frame),
		done:  make(chan struct{}),
	}
	if t := hello.Policy.TickIntervalMs; t > 0 {
		cn.idle = 2*time.Duration(t)*time.Millisecond + idleGrace
	}
	cn.ctx, cn.cancel = context.WithCancel(context.Background())
	return cn, nil
}

func (c *Client) dialOptions() *websocket.DialOptions {
	opts := &websocket.DialOptions{}
	if c.cfg.TLSConfig != nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = c.cfg.TLSConfig
		opts.HTTPClient = &http.Client{Transport: tr}
	}
	return opts
}

func (c *Client) nextID() string { return strconv.FormatUint(c.ids.Add(1), 10) }

// handshake answers the challenge with connect and waits for hello-ok.
func (c *Client) handshake(ctx context.Context, ws *websocket.Conn) (protocol.HelloOK, error) {
	var nonce string
	var challengeTS int64
	for nonce == "" {
		f, err := readFrame(ctx, ws)
		if err != nil {
			return protocol.HelloOK{}, c.handshakeReadError(ctx, "waiting for connect.challenge", err)
		}
		if f.Type != protocol.TypeEvent || f.Event != protocol.EventChallenge {
			continue // nothing else is meaningful before the challenge
		}
		var ch protocol.ChallengeEvent
		if err := json.Unmarshal(f.Payload, &ch); err != nil || ch.Nonce == "" {
			return protocol.HelloOK{}, fmt.Errorf("handshake with %s: connect.challenge without a nonce", c.cfg.URL)
		}
		nonce, challengeTS = ch.Nonce, ch.TS
	}

	id := c.nextID()
	req := protocol.NewRequest(id, protocol.MethodConnect, c.connectParams(nonce, challengeTS))
	if err := writeFrame(ctx, ws, req); err != nil {
		return protocol.HelloOK{}, c.handshakeReadError(ctx, "sending connect", err)
	}
	for {
		f, err := readFrame(ctx, ws)
		if err != nil {
			return protocol.HelloOK{}, c.handshakeReadError(ctx, "waiting for hello-ok", err)
		}
		if f.Type != protocol.TypeRes || f.ID != id {
			continue
		}
		if !f.OK {
			return protocol.HelloOK{}, c.refused(f.Error)
		}
		hello, err := decodeHello(f.Payload)
		if err != nil {
			var pm *ProtocolMismatchError
			if errors.As(err, &pm) {
				pm.URL = c.cfg.URL
				return protocol.HelloOK{}, pm
			}
			return protocol.HelloOK{}, fmt.Errorf("handshake with %s: %w", c.cfg.URL, err)
		}
		return hello, nil
	}
}

// connectParams builds connect's params, signing the device block over
// exactly the values sent. It offers protocols 3 to 4 whatever the role:
// pairdeck's gateway and OpenClaw 2026.4 answer 3, later OpenClaw gateways 4.
func (c *Client) connectParams(nonce string, challengeTS int64) protocol.ConnectParams {
	cfg := c.cfg
	p := protocol.ConnectParams{
		MinProtocol: protocol.MinClientProtocol,
		MaxProtocol: protocol.MaxClientProtocol,
		Client:      cfg.Client,
		Role:        cfg.Role,
		Scopes:      cfg.Scopes,
		Caps:        cfg.Caps,
		Commands:    cfg.Commands,
		UserAgent:   "pairdeck-client/" + cfg.Client.Version,
	}
	if cfg.Token != "" || cfg.Password != "" || cfg.DeviceToken != "" || cfg.BootstrapToken != "" {
		p.Auth = &protocol.ConnectAuth{Token: cfg.Token, Password: cfg.Password, DeviceToken: cfg.DeviceToken,
			BootstrapToken: cfg.BootstrapToken}
	}
	if cfg.Identity != nil {
		// signedAt is the challenge's own time, as OpenClaw's current
		// clients sign it: the gateway allows ±2 minutes around its clock,
		// and a client whose clock is off would otherwise be refused.
		signedAt := challengeTS
		if signedAt <= 0 {
			signedAt = cfg.Now().UnixMilli()
		}
		// The signed token is auth.token, else auth.deviceToken, else
		// auth.bootstrapToken (OpenClaw's order); a password is never
		// signed.
		signed := cfg.Token
		if signed == "" {
			signed = cfg.DeviceToken
		}
		if signed == "" {
			signed = cfg.BootstrapToken
		}
		d := protocol.SignDevice(cfg.Identity.PrivateKey, protocol.SignedPayload{
			ClientID:     cfg.Client.ID,
			ClientMode:   cfg.Client.Mode,
			Role:         cfg.Role,
			Scopes:       cfg.Scopes,
			SignedAtMs:   signedAt,
			Token:        signed,
			Nonce:        nonce,
			Platform:     cfg.Client.Platform,
			DeviceFamily: cfg.Client.DeviceFamily,
		})
		p.Device = &d
	}
	return p
}

// decodeHello reads hello-ok leniently: an OpenClaw gateway adds keys
// (canvasHostUrl, auth.deviceToken) that pairdeck does not model, and only
// the protocol version is essential.
func decodeHello(payload json.RawMessage) (protocol.HelloOK, error) {
	var head struct {
		Type     string          `json:"type"`
		Protocol int             `json:"protocol"`
		Server   json.RawMessage `json:"server"`
		Features json.RawMessage `json:"features"`
		Snapshot json.RawMessage `json:"snapshot"`
		Auth     json.RawMessage `json:"auth"`
		Policy   json.RawMessage `json:"policy"`
	}
	if err := json.Unmarshal(payload, &head); err != nil {
		return protocol.HelloOK{}, fmt.Errorf("hello-ok is not a JSON object: %v", err)
	}
	if head.Type != "" && head.Type != "hello-ok" {
		return protocol.HelloOK{}, fmt.Errorf("expected hello-ok, got %q", head.Type)
	}
	if head.Protocol < protocol.MinClientProtocol || head.Protocol > protocol.MaxClientProtocol {
		return protocol.HelloOK{}, &ProtocolMismatchError{ClientMin: protocol.MinClientProtocol,
			ClientMax: protocol.MaxClientProtocol, GatewayMin: head.Protocol, GatewayMax: head.Protocol}
	}
	h := protocol.HelloOK{Type: "hello-ok", Protocol: head.Protocol}
	// Best effort for the rest: a shape we do not expect is not worth
	// refusing a working connection over.
	_ = json.Unmarshal(head.Server, &h.Server)
	_ = json.Unmarshal(head.Features, &h.Features)
	_ = json.Unmarshal(head.Snapshot, &h.Snapshot)
	_ = json.Unmarshal(head.Policy, &h.Policy)
	var auth protocol.HelloAuth
	if json.Unmarshal(head.Auth, &auth) == nil && (auth.Role != "" || auth.Scopes != nil) {
		h.Auth = &auth
	}
	return h, nil
}

// handshakeReadError explains a failed read or write during the handshake.
func (c *Client) handshakeReadError(ctx context.Context, step string, err error) error {
	if ce, ok := closeReason(err); ok {
		e := fmt.Errorf("gateway at %s closed the connection during the handshake (%d %s): %w",
			c.cfg.URL, int(ce.Code), ce.Reason, ce)
		if ce.Code == websocket.StatusProtocolError {
			return fmt.Errorf("%w: %w", ErrProtocolMismatch, e)
		}
		return e
	}
	if ctx.Err() != nil {
		return fmt.Errorf("handshake with %s: no answer %s within %s", c.cfg.URL, step, c.cfg.HandshakeTimeout)
	}
	return fmt.Errorf("handshake with %s: %s: %w", c.cfg.URL, step, err)
}

// refusalError is a handshake refusal with a hint for the user. It unwraps
// to the *protocol.Error (and to ErrNotPaired for a refused node token).
type refusalError struct {
	url  string
	perr *protocol.Error
	hint string
	also error
}

func (e *refusalError) Error() string {
	msg := fmt.Sprintf("gateway at %s refused the connection: %s", e.url, e.perr.Error())
	if e.hint != "" {
		msg += ": " + e.hint
	}
	return msg
}

func (e *refusalError) Unwrap() []error {
	if e.also != nil {
		return []error{e.perr, e.also}
	}
	return []error{e.perr}
}

// connectPatiently is connect, retried while the gateway answers "later"
// (rate limit, starting up) and RetryRefusalsFor allows, waiting as long as
// it asks (else with the reconnect backoff).
func (c *Client) connectPatiently(ctx context.Context) (*conn, error) {
	deadline := c.cfg.Now().Add(c.cfg.RetryRefusalsFor)
	for attempt := 0; ; attempt++ {
		cn, err := c.connect(ctx)
		if err == nil {
			return cn, nil
		}
		hint, ok := retryWait(err)
		if !ok || c.cfg.RetryRefusalsFor < 0 {
			return nil, err
		}
		wait := max(hint, c.cfg.Backoff.delay(attempt))
		if c.cfg.Now().Add(wait).After(deadline) {
			return nil, err
		}
		c.log.Info("gateway asked to retry later", "err", err, "wait", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w (gave up waiting: %w)", err, ctx.Err())
		case <-t.C:
		}
	}
}
