// Package client speaks pairdeck's gateway protocol (version 3) from the
// outside: the CLI, the console's remote mode and node processes use it. It
// works against pairdeck's own gateway and against an OpenClaw gateway of the
// same protocol generation.
//
// A Client holds one WebSocket at a time. Dial performs the handshake;
// Call and the typed wrappers (calls.go) issue requests; Updates delivers
// events and connection changes; with Config.Reconnect a dropped connection is
// re-established with backoff (reconnect.go). Node-side pairing lives in
// node.go.
package client

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

// Defaults for the zero values of Config.
const (
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultBackoffMin       = 250 * time.Millisecond
	DefaultBackoffMax       = 30 * time.Second
	// DefaultRetryRefusalsFor covers an OpenClaw 2026.9 gateway's start
	// (15 to 30 s of "gateway starting; retry shortly").
	DefaultRetryRefusalsFor = 45 * time.Second
)

// Backoff bounds the delay between reconnect attempts. The delay doubles
// from Min up to Max, with jitter.
type Backoff struct {
	Min, Max time.Duration
}

// Config says where and as whom to connect. Zero values mean the defaults.
type Config struct {
	// URL of the gateway, ws:// or wss:// (ResolveURL("") when empty).
	URL string
	// Token is the gateway's shared token (operators; OpenClaw gateways
	// want it from nodes too), or a node's pairing token from a pairdeck
	// gateway. Never logged.
	Token string
	// Password is the gateway's shared password, for gateways in password
	// mode (OpenClaw's gateway.auth.mode "password"). Never signed or
	// logged.
	Password string
	// DeviceToken is the token an OpenClaw gateway issued this device for
	// its role (hello-ok auth.deviceToken), presented instead of a shared
	// secret. Never logged.
	DeviceToken string
	// BootstrapToken is a setup code presented at connect
	// (auth.bootstrapToken), as OpenClaw's node host presents the code of
	// a setup link; it is signed when there is no token. Never logged.
	BootstrapToken string
	// OnDeviceToken, when set, is called with the device token of a
	// hello-ok that differs from DeviceToken (issued or rotated by the
	// gateway), so the caller can store it. It runs on the connection's
	// goroutine: keep it short.
	OnDeviceToken func(token string)
	// Role is protocol.RoleOperator (default) or protocol.RoleNode.
	Role string
	// Scopes requested. An operator asking for none asks for all of
	// protocol.AllOperatorScopes, which the operator token allows.
	Scopes []string
	// Client describes this program. Missing ID and Mode default to the ids
	// an OpenClaw gateway accepts: "cli"/"cli" for operators,
	// "node-host"/"node" for nodes; Platform defaults to runtime.GOOS.
	Client protocol.ClientInfo
	// Identity signs the handshake. Required for nodes (it is their node
	// id); optional for operators (recorded as the actor when given).
	Identity *Identity
	// Caps and Commands a node declares.
	Caps, Commands []string
	// Logger receives connection events (never tokens or frames).
	Logger *slog.Logger
	// Now is the clock for signedAt (time.Now when nil).
	Now func() time.Time
	// Reconnect re-establishes a dropped connection with backoff until
	// Close or a terminal refusal.
	Reconnect bool
	Backoff   Backoff
	// TLSConfig is used for wss:// URLs.
	TLSConfig *tls.Config
	// HandshakeTimeout bounds dial + challenge + connect (10 s default).
	HandshakeTimeout time.Duration
	// FollowURL, when set, is asked before each reconnect attempt where
	// the gateway is now: a non-empty answer other than the URL in use is
	// dialled instead (a local gateway restarted on another port announces
	// itself in its runtime file). Called on the reconnect goroutine.
	FollowURL func() string
	// RetryRefusalsFor is how long Dial keeps retrying refusals that say
	// "later" (a rate limit, a gateway still starting), waiting as long as
	// the gateway asks; 0 means DefaultRetryRefusalsFor, negative never.
	RetryRefusalsFor time.Duration
}

func (cfg Config) withDefaults() (Config, error) {
	if cfg.URL == "" {
		cfg.URL = ResolveURL("")
	}
	if err := checkURL(cfg.URL); err != nil {
		return cfg, err
	}
	switch cfg.Role {
	case "":
		cfg.Role = protocol.RoleOperator
	case protocol.RoleOperator, protocol.RoleNode:
	default:
		return cfg, fmt.Errorf("role %q: want %q or %q", cfg.Role, protocol.RoleOperator, protocol.RoleNode)
	}
	node := cfg.Role == protocol.RoleNode
	if node && cfg.Identity == nil {
		return cfg, fmt.Errorf("a node needs a device identity (LoadOrCreateIdentity): its node id is derived from it")
	}
	if cfg.Scopes == nil && !node {
		cfg.Scopes = slices.Clone(protocol.AllOperatorScopes)
	}
	defID, defMode := "cli", "cli"
	if node {
		defID, defMode = "node-host", "node"
	}
	if cfg.Client.ID == "" {
		cfg.Client.ID = defID
	}
	if cfg.Client.Mode == "" {
		cfg.Client.Mode = defMode
	}
	if cfg.Client.Version == "" {
		cfg.Client.Version = "dev"
	}
	// OpenClaw gateways accept only their own client ids, so pairdeck
	// names itself in displayName.
	if cfg.Client.DisplayName == "" {
		cfg.Client.DisplayName = "pairdeck"
		if node {
			cfg.Client.DisplayName = "pairdeck node"
		}
	}
	if cfg.RetryRefusalsFor == 0 {
		cfg.RetryRefusalsFor = DefaultRetryRefusalsFor
	}
	if cfg.Client.Platform == "" {
		cfg.Client.Platform = runtime.GOOS
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Backoff.Min <= 0 {
		cfg.Backoff.Min = DefaultBackoffMin
	}
	if cfg.Backoff.Max < cfg.Backoff.Min {
		cfg.Backoff.Max = max(DefaultBackoffMax, cfg.Backoff.Min)
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	return cfg, nil
}

// Client is a connection to a gateway that survives reconnects (with
// Config.Reconnect). All methods are safe for concurrent use.
type Client struct {
	cfg Config
	log *slog.Logger

	ids atomic.Uint64 // request ids, unique across reconnects

	mu      sync.Mutex
	cur     *conn // nil between connections and after the end
	hello   protocol.HelloOK
	state   protocol.ConnState
	err     error     // the terminal error, once done
	lastErr error     // why the last connection or attempt failed
	retryAt time.Time // when the next reconnect attempt starts, while waiting for it
	closed  bool      // Close was called
	// deviceToken is the last device token the gateway issued (or the
	// configured one), to tell a rotation from a repeat.
	deviceToken string

	// ctx ends when Close is called, aborting dials and backoff sleeps.
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	upd updates
	q   queueState // request kinds and paired devices, for the one queue
}

// Dial connects and completes the handshake; ctx bounds only that. It
// retries only refusals that say "later" (a rate limit, a gateway that is
// starting; see Config.RetryRefusalsFor), waiting as the gateway asks, and
// fails on anything else: with Config.Reconnect the Client reconnects only
// after a first success.
//
// A refusal by the gateway is (or wraps) a *protocol.Error, and the typed
// errors of refusals.go say more: *PairingRequiredError, *AuthError,
// *RateLimitedError, *ProtocolMismatchError. Nothing listening is a
// *NoGatewayError matching ErrNoGateway.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, log: cfg.Logger.With("gateway", cfg.URL), done: make(chan struct{}), deviceToken: cfg.DeviceToken}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.upd.init()
	cn, err := c.connectPatiently(ctx)
	if err != nil {
		c.cancel()
		return nil, err
	}
	c.adopt(cn, false)
	go c.run(cn)
	return c, nil
}

// Hello is the hello-ok of the current (or last) connection.
func (c *Client) Hello() protocol.HelloOK {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hello
}

// State is the current connection state.
func (c *Client) State() protocol.ConnState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Err is why the Client stopped: nil while it runs and after Close; the
// terminal error (a refusal, ErrNodeRemoved, or the lost connection when not
// reconnecting) once Done is closed.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Done is closed when the Client has stopped for good (Close, a terminal
// error, or a lost connection without Reconnect).
func (c *Client) Done() <-chan struct{} { return c.done }

// Updates delivers events, connection state changes and re-list requests.
// It never blocks the connection: a consumer that falls behind loses the
// backlog and receives the current state and a Relist instead. The channel
// is closed when the Client stops, just before Done.
func (c *Client) Updates() <-chan protocol.Update { return c.upd.ch }

// Close ends the connection (close 1000) and stops reconnecting. It is
// idempotent and returns once the Client has stopped.
func (c *Client) Close() error {
	c.mu.Lock()
	first := !c.closed
	c.closed = true
	cn := c.cur
	c.mu.Unlock()
	if first {
		c.cancel()
		if cn != nil {
			cn.close(websocketNormal, "client closed")
		}
	}
	<-c.done
	return nil
}

// current is the live connection, or an error saying why there is none.
func (c *Client) current() (*conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return nil, ErrClosed
	case c.cur != nil:
		return c.cur, nil
	case c.err != nil:
		return nil, fmt.Errorf("%w: %w", ErrClosed, c.err)
	default:
		return nil, ErrNotConnected
	}
}

// adopt makes cn the current connection, announces it (and, after a
// reconnect, asks the consumer to re-list: events may have been missed while
// away) and starts reading. It reports false (and drops cn) if the Client was
// closed meanwhile.
func (c *Client) adopt(cn *conn, relist bool) bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		cn.abort()
		return false
	}
	c.cur, c.hello, c.state, c.lastErr = cn, cn.hello, protocol.Connected, nil
	issued := ""
	if a := cn.hello.Auth; a != nil && a.DeviceToken != "" && a.DeviceToken != c.deviceToken {
		issued, c.deviceToken = a.DeviceToken, a.DeviceToken
	}
	c.mu.Unlock()
	if issued != "" && c.cfg.OnDeviceToken != nil {
		c.cfg.OnDeviceToken(issued)
	}
	c.log.Info("connected to gateway", "role", c.cfg.Role, "connId", cn.hello.Server.ConnID,
		"serverVersion", cn.hello.Server.Version)
	c.upd.emit(protocol.Update{StateChanged: true, State: protocol.Connected}, c.snapshot)
	if relist {
		c.upd.emit(protocol.Update{Relist: true}, c.snapshot)
	}
	cn.start(c)
	return true
}

// setState records a state change and tells the consumer.
func (c *Client) setState(s protocol.ConnState, err error) { c.setRetry(s, err, time.Time{}) }

// setRetry is setState for a Disconnected state that ends in another
// attempt at retryAt (zero: none planned).
func (c *Client) setRetry(s protocol.ConnState, err error, retryAt time.Time) {
	c.mu.Lock()
	c.state, c.lastErr, c.retryAt = s, err, retryAt
	c.mu.Unlock()
	c.upd.emit(protocol.Update{StateChanged: true, State: s, Err: err, RetryAt: retryAt}, c.snapshot)
}

// URL is the gateway's URL: the one dialled last (see Config.FollowURL).
func (c *Client) URL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cfg.URL
}

// snapshot is the current state as an update, re-sent after an overflow.
func (c *Client) snapshot() protocol.Update {
	c.mu.Lock()
	defer c.mu.Unlock()
	u := protocol.Update{StateChanged: true, State: c.state}
	if c.state == protocol.Disconnected {
		u.Err, u.RetryAt = c.lastErr, c.retryAt
	}
	return u
}
