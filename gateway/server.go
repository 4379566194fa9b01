package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/pairdeck/pairdeck/policy"
	"github.com/pairdeck/pairdeck/protocol"
)

// maxHeaderBytes bounds an upgrade request's headers (as Node's HTTP server
// does, which OpenClaw gateways run on), not net/http's 1 MiB.
const maxHeaderBytes = 16 << 10

// minTokenLen is the operator token length below which the gateway warns.
const minTokenLen = 16

// ErrShutdown is returned by calls made after Shutdown began, and is the Err
// of a LocalOperator's final Disconnected update.
var ErrShutdown = errors.New("gateway is shutting down")

// Gateway serves the pairing protocol over WebSocket and to in-process
// operators. Create it with New; stop it with Shutdown.
type Gateway struct {
	cfg     Config
	store   pairingStore
	log     *slog.Logger
	fan     *fanout
	started time.Time

	requestLimit *limiter // node.pair.request from nodes, per prefix
	authLimit    *limiter // failed token checks, per prefix
	codeLimit    *limiter // unknown setup codes, per prefix
	// refusedTokens aggregates wrong tokens for the audit log.
	refusedTokens tokenAudit
	// pickups hold approved nodes' tokens until they take them (nodehost.go).
	pickups tokenPickups
	// shares caps the pending requests each network's nodes may hold.
	shares *pendingShares

	presenceVersion atomic.Uint64

	// The pairing policy: the rules file, re-read when it changes, and
	// the switch and block list the gateway keeps itself.
	rules  *policy.Watcher
	access *policy.Access
	// refusals throttles pairdeck.block.refused per node.
	refusals refusalClock
	// adm applies the connection caps to sockets accepted by Serve.
	adm *admission
	// throttledLog rate-limits the warnings strangers can cause.
	throttledLog logThrottle
	// hook runs the on-request command; nil without one.
	hook *hookRunner

	// orderMu orders the changes the gateway keeps itself (presence, the
	// pairing switch, the block list) with the events that announce them.
	// Store changes need no lock here: the store announces them through
	// hooks in the order it applied them, and checks what must hold
	// (approval scopes, the block list) as it applies them
	// (storeerrors.go). orderMu is never taken inside a store hook.
	orderMu sync.Mutex

	mu      sync.Mutex
	closing bool
	conns   map[*wsConn]struct{}
	locals  map[*LocalOperator]struct{}
	servers []*http.Server
	// listenAddrs are the addresses Serve listens on (setup links).
	listenAddrs []net.Addr
	// work counts socket handlers and in-process calls; Shutdown waits
	// for it. Add only under mu while !closing.
	work sync.WaitGroup

	// ctx ends at a hard stop (Shutdown's deadline passed): it cancels
	// reads and store calls still running.
	ctx    context.Context
	cancel context.CancelFunc

	loopStop   chan struct{}
	loops      sync.WaitGroup
	expiryPoke chan struct{}
	stopOnce   sync.Once
}

// New checks cfg, fills defaults and starts the tick and expiry timers. The
// caller owns cfg.Store and closes it after Shutdown.
func New(cfg Config) (*Gateway, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return newGateway(cfg, cfg.Store)
}

// newGateway builds a gateway over st (tests pass a wrapped store). It
// loads the policy files first: a corrupt one stops it from starting.
func newGateway(cfg Config, st pairingStore) (*Gateway, error) {
	rules, err := policy.NewWatcher(policy.Path(cfg.PolicyDir))
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	access, err := policy.OpenAccess(cfg.PolicyDir)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g := &Gateway{
		cfg:          cfg,
		store:        st,
		log:          cfg.Logger,
		fan:          newFanout(),
		started:      cfg.Now(),
		requestLimit: newLimiter(cfg.RequestRate, cfg.Now),
		authLimit:    newLimiter(cfg.FailedAuthRate, cfg.Now),
		codeLimit:    newLimiter(cfg.FailedCodeRate, cfg.Now),
		shares:       newPendingShares(cfg.MaxPendingPerPrefix),
		conns:        make(map[*wsConn]struct{}),
		locals:       make(map[*LocalOperator]struct{}),
		ctx:          ctx,
		cancel:       cancel,
		loopStop:     make(chan struct{}),
		expiryPoke:   make(chan struct{}, 1),
		rules:        rules,
		access:       access,
	}
	g.throttledLog.log = g.log
	g.adm = newConnCaps(cfg, fdLimit(), g.log)
	if n := len(cfg.OperatorToken); n < minTokenLen {
		// Tokens are compared before any limit applies, so that a guesser
		// can never lock the operator out: the token's length is what
		// makes guessing hopeless.
		g.log.Warn("the operator token is short: anyone who can reach the gateway may guess it; use a generated one (pairdeck generates 43 characters when none is configured)", "length", n)
	}
	if cfg.Pairing != PairingRemembered {
		on := cfg.Pairing == PairingOn
		if _, _, err := access.SetPairing(on, protocol.GatewayActor("start").String(), cfg.Now()); err != nil {
			cancel()
			return nil, fmt.Errorf("gateway: switch pairing %s: %w", onOff(on), err)
		}
	}
	if cfg.TickInterval > 0 {
		g.loops.Add(1)
		go g.tickLoop()
	}
	g.loops.Add(2)
	go g.expiryLoop()
	go g.accessLoop()
	if cfg.OnRequest != "" {
		g.hook = newHookRunner(cfg.OnRequest, cfg.OnRequestTimeout, g.log, g.hookSecret)
		g.loops.Add(1)
		go func() {
			defer g.loops.Done()
			g.hook.run(g.loopStop)
		}()
	}
	return g, nil
}

// SetPairingEnabled switches nodes' pairing requests on or off at runtime,
// as pairdeck.pairing.set does (remembered, announced and audited, with the
// gateway itself as the actor). Paired nodes keep connecting either way.
func (g *Gateway) SetPairingEnabled(on bool) {
	ctx, cancel := context.WithTimeout(g.ctx, 5*time.Second)
	defer cancel()
	if _, perr := g.setPairing(ctx, protocol.GatewayActor(""), on); perr != nil {
		g.log.Warn("switch pairing", "enabled", on, "err", perr.Message)
	}
}

// PairingEnabled reports whether nodes may currently request pairing.
func (g *Gateway) PairingEnabled() bool { return !g.access.Pairing().Disabled }

// Handler returns the WebSocket endpoint, for mounting in an http.Server or
// httptest.Server. It refuses new connections (503) once Shutdown begins.
func (g *Gateway) Handler() http.Handler { return http.HandlerFunc(g.serveHTTP) }

// Serve accepts connections on ln until Shutdown. It returns nil once
// Shutdown has begun; Shutdown itself returns when the connections are done.
func (g *Gateway) Serve(ln net.Listener) error {
	srv := &http.Server{
		Handler:           g.Handler(),
		ReadHeaderTimeout: g.cfg.HandshakeTimeout,
		// A socket that never upgrades is dropped as soon as one that
		// never finishes its handshake would be.
		IdleTimeout:    g.cfg.HandshakeTimeout,
		MaxHeaderBytes: maxHeaderBytes,
		ErrorLog:       slog.NewLogLogger(g.log.Handler(), slog.LevelDebug),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if s, ok := c.(*slot); ok {
				return context.WithValue(ctx, slotKey{}, s)
			}
			return ctx
		},
	}
	g.mu.Lock()
	if g.closing {
		g.mu.Unlock()
		ln.Close()
		return ErrShutdown
	}
	g.servers = append(g.servers, srv)
	g.listenAddrs = append(g.listenAddrs, ln.Addr())
	g.mu.Unlock()
	g.log.Info("gateway listening", "addr", ln.Addr().String(), "version", g.cfg.Version,
		"maxConns", g.adm.maxConns, "maxUnauthenticated", g.adm.maxUnauth, "maxUnauthenticatedPerNetwork", g.adm.maxUnauthPerNet)
	err := srv.Serve(&admittingListener{Listener: ln, g: g, adm: g.adm})
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("serve %s: %w", ln.Addr(), err)
}

// enter registers one unit of work unless Shutdown has begun.
func (g *Gateway) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closing {
		return false
	}
	g.work.Add(1)
	return true
}

func (g *Gateway) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if !g.enter() {
		http.Error(w, "pairdeck gateway is shutting down", http.StatusServiceUnavailable)
		return
	}
	handed := false // the work unit passes to the connection's goroutine
	defer func() {
		if !handed {
			g.work.Done()
		}
	}()
	if local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr); !g.hostAllowed(local, r.Host) {
		g.refuseHost(w, r)
		return
	}
	ws, err := websocket.Accept(smallBuffers{w}, r, &websocket.AcceptOptions{OriginPatterns: g.cfg.OriginPatterns})
	if err != nil {
		// Accept has already answered with the HTTP error.
		g.log.Debug("websocket upgrade refused", "addr", r.RemoteAddr, "err", err)
		return
	}
	c := newConn(g, ws, r.RemoteAddr, slotOf(r.Context()))
	g.mu.Lock()
	if g.closing {
		g.mu.Unlock()
		ws.Close(websocket.StatusServiceRestart, "gateway shutting down")
		return
	}
	g.conns[c] = struct{}{}
	g.mu.Unlock()
	// The socket is served on a goroutine of its own and the handler
	// returns: net/http then lets go of the request, the response and
	// its buffers, and of the deep stack that parsed them, which would
	// otherwise be held for the connection's whole life.
	handed = true
	go func() {
		defer g.work.Done()
		defer func() {
			g.mu.Lock()
			delete(g.conns, c)
			g.mu.Unlock()
		}()
		c.run()
	}()
}

// Shutdown tells every client (shutdown event, then close 1012), stops
// accepting, and waits for handlers and in-process calls to finish. When
// ctx ends first it closes what is left at once and returns ctx's error.
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.stopOnce.Do(func() { g.beginShutdown(ctx) })
	done := make(chan struct{})
	go func() {
		g.work.Wait()
		g.loops.Wait()
		close(done)
	}()
	select {
	case <-done:
		g.cancel()
		g.log.Info("gateway stopped")
		return nil
	case <-ctx.Done():
	}
	g.cancel()
	g.mu.Lock()
	left := len(g.conns)
	for c := range g.conns {
		c.ws.CloseNow()
	}
	g.mu.Unlock()
	return fmt.Errorf("gateway shutdown: %d connection(s) closed without a clean close: %w", left, ctx.Err())
}

func (g *Gateway) beginShutdown(ctx context.Context) {
	g.mu.Lock()
	g.closing = true
	conns := make([]*wsConn, 0, len(g.conns))
	for c := range g.conns {
		conns = append(conns, c)
	}
	locals := make([]*LocalOperator, 0, len(g.locals))
	for lo := range g.locals {
		locals = append(locals, lo)
	}
	servers := g.servers
	g.mu.Unlock()

	g.log.Info("gateway shutting down", "connections", len(conns), "local", len(locals))
	close(g.loopStop)
	for _, srv := range servers {
		// Hijacked WebSocket connections are not the server's to wait for;
		// this only closes the listeners and idle HTTP connections.
		if err := srv.Shutdown(ctx); err != nil {
			g.log.Warn("http server shutdown", "err", err)
		}
	}
	reason := protocol.ShutdownEvent{Reason: "gateway shutting down"}
	for _, c := range conns {
		go c.shutdown(reason)
	}
	for _, lo := range locals {
		lo.gatewayGone(reason)
	}
}

func (g *Gateway) tickLoop() {
	defer g.loops.Done()
	t := time.NewTicker(g.cfg.TickInterval)
	defer t.Stop()
	for {
		select {
		case <-g.loopStop:
			return
		case <-t.C:
			g.fan.broadcast(toEveryone, protocol.EventTick, protocol.TickEvent{TS: g.nowMs()})
		}
	}
}

func (g *Gateway) nowMs() int64 { return g.cfg.Now().UnixMilli() }
