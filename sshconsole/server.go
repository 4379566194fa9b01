// Package sshconsole serves the console over SSH: every session is a
// console of its own, with its terminal's size and colours, acting on the
// gateway as an in-process operator whose identity is the SSH key it
// signed in with. So approving a node needs nothing but an SSH client,
// and the audit log names the key behind every decision.
//
// Only public keys sign in, against an authorized_keys file (OpenSSH's
// format, re-read when it changes). Sessions and connections are bounded
// and an address whose sign-ins keep failing is turned away for a while
// (see the Default* limits). When the gateway shuts down, each console
// shows it, then its session ends with a line saying why.
package sshconsole

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"charm.land/ssh"
	"charm.land/wish/v2"
	gossh "golang.org/x/crypto/ssh"

	"github.com/pairdeck/pairdeck/gateway"
	"github.com/pairdeck/pairdeck/protocol"
)

// Config configures a Server. Gateway, HostKey and AuthorizedKeys are
// required; zero limits take the Default* values.
type Config struct {
	Gateway *gateway.Gateway
	// HostKey is the server's identity (see LoadOrCreateHostKey).
	HostKey gossh.Signer
	// AuthorizedKeys is the path of the file of keys that may sign in.
	AuthorizedKeys string
	// Logger receives sign-ins, refusals and session ends (discarded when
	// nil). Never the terminal of a console.
	Logger *slog.Logger
	// GatewayURL names the gateway in the line that ends a session when
	// it shuts down, e.g. "ws://127.0.0.1:18789".
	GatewayURL string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Version is sent in the SSH version string ("SSH-2.0-pairdeck_…").
	Version string

	MaxSessions      int
	MaxConnections   int
	MaxFailures      int
	FailureWindow    time.Duration
	HandshakeTimeout time.Duration
	ShutdownNotice   time.Duration
}

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.MaxSessions <= 0 {
		c.MaxSessions = DefaultMaxSessions
	}
	if c.MaxConnections <= 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	if c.MaxFailures <= 0 {
		c.MaxFailures = DefaultMaxFailures
	}
	if c.FailureWindow <= 0 {
		c.FailureWindow = DefaultFailureWindow
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.ShutdownNotice <= 0 {
		c.ShutdownNotice = DefaultShutdownNotice
	}
	return c
}

// Server is the SSH server of the console.
type Server struct {
	cfg      Config
	log      *slog.Logger
	keys     *authorizedKeys
	failures *failures
	srv      *ssh.Server

	mu       sync.Mutex
	conns    map[string]*connRecord // by remote address (ip:port)
	sessions int
	closing  bool
	idle     chan struct{} // closed when closing and no session is left
	noConns  chan struct{} // closed when closing and no connection is left
	stopping chan struct{} // closed by Shutdown
}

// connRecord is what the server knows of one connection before and after
// sign-in.
type connRecord struct {
	user    string   // the user name the client gave
	refused []string // fingerprints of the keys it offered that were refused
}

// New checks the configuration and reads the authorized keys; Serve then
// accepts connections.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if cfg.Gateway == nil || cfg.HostKey == nil || cfg.AuthorizedKeys == "" {
		return nil, errors.New("sshconsole: Gateway, HostKey and AuthorizedKeys are required")
	}
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger,
		failures: newFailures(cfg.MaxFailures, cfg.FailureWindow, cfg.Now),
		conns:    make(map[string]*connRecord),
		idle:     make(chan struct{}),
		noConns:  make(chan struct{}),
		stopping: make(chan struct{}),
	}
	keys, err := newAuthorizedKeys(cfg.AuthorizedKeys, cfg.Logger)
	if err != nil {
		return nil, err
	}
	s.keys = keys
	version := "pairdeck"
	if cfg.Version != "" {
		version += "_" + strings.Map(versionRune, cfg.Version)
	}
	srv, err := wish.NewServer(
		wish.WithVersion(version),
		wish.WithPublicKeyAuth(s.signIn),
		wish.WithMiddleware(s.serveSession),
		func(srv *ssh.Server) error {
			srv.HostSigners = []ssh.Signer{cfg.HostKey}
			srv.HandshakeTimeout = cfg.HandshakeTimeout
			srv.ConnCallback = s.accept
			srv.ConnectionFailedCallback = s.failed
			srv.ConnectionCloseCallback = s.closed
			return nil
		},
	)
	if err != nil {
		return nil, fmt.Errorf("ssh server: %w", err)
	}
	s.srv = srv
	return s, nil
}

// versionRune keeps the SSH version string within what RFC 4253 allows
// (printable ASCII, no spaces or minus signs).
func versionRune(r rune) rune {
	if r > ' ' && r < 0x7f && r != '-' {
		return r
	}
	return '_'
}

// HostKeyFingerprint is the host key's SHA-256 fingerprint, for operators
// to check the first time they connect.
func (s *Server) HostKeyFingerprint() string {
	return gossh.FingerprintSHA256(s.cfg.HostKey.PublicKey())
}

// Serve accepts connections on ln until Shutdown. It returns nil after
// Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	err := s.srv.Serve(ln)
	if errors.Is(err, ssh.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting connections and ends every session: each
// console shows the shutdown for ShutdownNotice, then its session ends
// with a line saying why. It waits for that until ctx ends, then closes
// every connection.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.closing {
		s.closing = true
		close(s.stopping)
		if s.sessions == 0 {
			close(s.idle)
		}
		if len(s.conns) == 0 {
			close(s.noConns)
		}
	}
	s.mu.Unlock()
	var err error
	select {
	case <-s.idle:
	case <-ctx.Done():
		err = fmt.Errorf("ssh sessions still open: %w", ctx.Err())
	}
	// A client whose session ended closes its connection; one that keeps
	// it (multiplexing, ssh -N) is closed after connCloseGrace, with the
	// listener.
	grace := time.NewTimer(connCloseGrace)
	defer grace.Stop()
	select {
	case <-s.noConns:
	case <-grace.C:
	case <-ctx.Done():
	}
	if cerr := s.srv.Close(); cerr != nil && !errors.Is(cerr, ssh.ErrServerClosed) && err == nil {
		err = cerr
	}
	return err
}

// connCloseGrace is how long Shutdown lets clients close their own
// connections once their sessions have ended.
const connCloseGrace = time.Second

// openSession takes a session slot, or says why there is none.
func (s *Server) openSession() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closing:
		return errors.New("the gateway is shutting down")
	case s.sessions >= s.cfg.MaxSessions:
		return fmt.Errorf("the console limit is reached: %d open over SSH, the most this gateway serves at once; close one and try again", s.cfg.MaxSessions)
	}
	s.sessions++
	return nil
}

func (s *Server) closeSession() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions--
	if s.closing && s.sessions == 0 {
		close(s.idle)
	}
}

// accept admits a new connection unless its address is turned away or
// too many are open. A refused connection is closed before the handshake.
func (s *Server) accept(_ ssh.Context, conn net.Conn) net.Conn {
	addr := conn.RemoteAddr()
	if blocked, until := s.failures.blocked(addr); blocked {
		s.log.Debug("ssh: connection turned away: too many failed sign-ins", "remote", addr.String(), "until", until.Format(time.RFC3339))
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return nil
	}
	if len(s.conns) >= s.cfg.MaxConnections {
		s.log.Warn("ssh: connection refused: too many open connections", "remote", addr.String(), "max", s.cfg.MaxConnections)
		return nil
	}
	s.conns[addr.String()] = &connRecord{}
	return conn
}

func (s *Server) closed(conn net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.conns[conn.RemoteAddr().String()]; !ok {
		return
	}
	delete(s.conns, conn.RemoteAddr().String())
	if s.closing && len(s.conns) == 0 {
		close(s.noConns)
	}
}

// signIn lets a key in if the authorized keys file lists it. A refused
// key is remembered for the connection's log line, should it fail.
func (s *Server) signIn(ctx ssh.Context, key ssh.PublicKey) bool {
	if _, ok := s.keys.lookup(key); ok {
		return true
	}
	s.mu.Lock()
	if rec := s.conns[ctx.RemoteAddr().String()]; rec != nil && len(rec.refused) < 16 {
		rec.user = ctx.User()
		rec.refused = append(rec.refused, gossh.FingerprintSHA256(key))
	}
	s.mu.Unlock()
	return false
}

// failed logs a connection that did not get through its handshake; one
// whose keys were all refused counts against its address.
func (s *Server) failed(conn net.Conn, err error) {
	addr := conn.RemoteAddr()
	s.mu.Lock()
	var refused []string
	var user string
	if rec := s.conns[addr.String()]; rec != nil {
		refused, user = rec.refused, rec.user
	}
	s.mu.Unlock()
	var authErr *gossh.ServerAuthError
	if !errors.As(err, &authErr) || len(refused) == 0 {
		s.log.Debug("ssh: handshake failed", "remote", addr.String(), "err", err)
		return
	}
	turnedAway := s.failures.fail(addr)
	s.log.Warn("ssh: sign-in refused: no key the client offered is in the authorized keys file",
		"remote", addr.String(), "user", protocol.Printable(user), "keys", strings.Join(refused, ","), "file", s.cfg.AuthorizedKeys)
	if turnedAway {
		s.log.Warn("ssh: address turned away after repeated failed sign-ins", "remote", hostOf(addr),
			"failures", s.cfg.MaxFailures, "for", s.cfg.FailureWindow.String())
	}
}
