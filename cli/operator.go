package cli

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/pairdeck/pairdeck/client"
	"github.com/pairdeck/pairdeck/gateway"
	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/store"
)

// operator is what the nodes commands and the console need from a gateway.
// The remote *client.Client and the in-process *gateway.LocalOperator both
// provide it, so every command behaves the same whichever it talks to.
type operator interface {
	List(ctx context.Context) (protocol.PairListResult, error)
	Nodes(ctx context.Context) (protocol.NodeListResult, error)
	Approve(ctx context.Context, requestID string) (protocol.ApproveResult, error)
	Reject(ctx context.Context, requestID string) (protocol.RejectResult, error)
	Rename(ctx context.Context, nodeID, name string) (protocol.RenameResult, error)
	Remove(ctx context.Context, nodeID string) (protocol.RemoveResult, error)
	Verify(ctx context.Context, nodeID, token string) (protocol.VerifyResult, error)
	Updates() <-chan protocol.Update
}

// connFlags say which gateway an operator command talks to.
type connFlags struct {
	url     string
	secrets secretFlags
}

func (f *connFlags) register(cmd *cobra.Command) {
	fl := cmd.PersistentFlags()
	fl.StringVar(&f.url, "url", "", "gateway URL (default $OPENCLAW_GATEWAY_URL, else the gateway running for the state dir)")
	f.secrets.register(fl)
}

// Where an operator session acts.
const (
	modeLocal   = "local gateway"
	modeRemote  = "remote gateway"
	modeOffline = "offline (state dir)"
	// modeOpenClaw: the OpenClaw gateway that owns the state dir.
	modeOpenClaw = "OpenClaw gateway"
)

// session is an open operator connection and how to end it.
type session struct {
	op    operator
	mode  string
	url   string
	close func() error
	// stateDir is the state the gateway acts on, when it is this machine's
	// (local or offline); empty for a remote gateway.
	stateDir string
	// owner is the OpenClaw gateway that owns the state dir (modeOpenClaw).
	owner *openclawDir
}

// access is what a command does with the state it reaches.
type access int

const (
	// readAccess answers a question: with no gateway it reads the state
	// dir, and it creates nothing it can avoid (no state dir, no identity).
	readAccess access = iota
	// writeAccess changes state, through a gateway or, with none, in the
	// state dir under its lock.
	writeAccess
	// liveAccess follows the gateway's events (watch, completion): it
	// needs a running gateway, and re-connects after a drop.
	liveAccess
)

// openSession finds the gateway to act on: --url/$OPENCLAW_GATEWAY_URL,
// else the pairdeck gateway running for the state dir, else the OpenClaw
// gateway that owns it (openclaw.json names its port, and it answers
// there), else the state dir itself under the store's lock (offline), so
// scripts work whether or not a gateway runs. Commands with liveAccess
// need a gateway; their connection is re-established after a drop (a
// gateway restart), instead of ending the command.
func openSession(ctx context.Context, g *globals, f *connFlags, kind string, acc access) (*session, error) {
	return openSessionOr(ctx, g, f, kind, acc, func(stateDir string) (*session, error) {
		return openOffline(stateDir, kind, acc == readAccess)
	})
}

// openSessionOr is openSession with another way to act on the state dir
// when no gateway runs (offline): `nodes history` reads the files without
// the store's lock.
func openSessionOr(ctx context.Context, g *globals, f *connFlags, kind string, acc access, offline func(stateDir string) (*session, error)) (*session, error) {
	stateDir, err := g.resolveStateDir()
	if err != nil {
		return nil, err
	}
	given, err := f.secrets.given(os.Stdin)
	if err != nil {
		return nil, err
	}
	live, readOnly := acc == liveAccess, acc != writeAccess
	url, _, err := gatewayURLFlag(f.url)
	if err != nil {
		return nil, err
	}
	if url != "" {
		return dialOperator(ctx, stateDir, url, given, kind, modeRemote, live, readOnly, nil)
	}
	var owner *openclawDir
	deadline := time.Now().Add(offlineLockWait)
	for {
		if rt, err := gateway.ReadRuntime(stateDir); err == nil && rt.Alive {
			return dialOperator(ctx, stateDir, rt.URL, given, kind, modeLocal, live, readOnly, nil)
		}
		if owner == nil {
			if owner, err = inspectOpenClaw(ctx, stateDir); err != nil {
				return nil, err
			}
			switch {
			case owner.answers:
				return dialOperator(ctx, stateDir, owner.url(), given, kind, modeOpenClaw, live, readOnly, owner)
			case owner.remote():
				return dialOperator(ctx, stateDir, owner.cfg.remoteURL, given, kind, modeOpenClaw, live, readOnly, owner)
			case owner.database != "":
				return nil, owner.databaseError()
			}
		}
		if live {
			if owner.owned() {
				return nil, fmt.Errorf("no gateway is running for %s: neither pairdeck's nor OpenClaw's (nothing answers on 127.0.0.1:%d, %s): "+
					"start one (`openclaw gateway`, or `pairdeck serve`), or pass --url", stateDir, owner.port, owner.portFrom)
			}
			return nil, fmt.Errorf("no gateway is running for %s: start one with `pairdeck serve` (or pass --url)", stateDir)
		}
		if _, err := os.Stat(stateDir); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("state dir %s does not exist, and no gateway runs for it: start one with `pairdeck serve --state-dir %s` "+
				"(it creates the dir), or name another with --state-dir or $OPENCLAW_STATE_DIR, or a gateway with --url", stateDir, stateDir)
		}
		s, err := offline(stateDir)
		var locked *store.LockedError
		if err == nil || !errors.As(err, &locked) || time.Now().After(deadline) {
			return s, err
		}
		// Another offline command holds the lock for a moment (scripts run
		// several at once), or a gateway is starting and is about to
		// announce itself in gateway.json: wait for either.
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// source says where a session's answers come from, as the footer and -v
// print it.
func (s *session) source() string {
	switch s.mode {
	case modeLocal:
		return fmt.Sprintf("the gateway at %s (running for %s)", s.url, s.stateDir)
	case modeOffline:
		return fmt.Sprintf("state dir %s (no gateway running)", s.stateDir)
	case modeOpenClaw:
		if !s.owner.answers {
			return fmt.Sprintf("the OpenClaw gateway at %s (gateway.remote.url in %s)", s.url, s.owner.configPath)
		}
		if s.owner.configPath == "" {
			return fmt.Sprintf("the gateway at %s (%s)", s.url, s.owner.detail())
		}
		return fmt.Sprintf("the OpenClaw gateway at %s (it owns %s; %s)", s.url, s.owner.stateDir, s.owner.detail())
	}
	return "the gateway at " + s.url
}

// tellSource says where the answer comes from: on stderr with -v, and on
// a terminal as a last line after the answer (or a first line before a
// stream), never in --json or a bare number.
func tellSource(g *globals, s *session, p *printer, errOut io.Writer, stream bool, answer func() error) error {
	if g.verbose {
		note(errOut, "from %s", s.source())
	}
	footer := p.tty && !p.json
	if footer && stream {
		p.Line("Following %s.", s.source())
	}
	if err := answer(); err != nil || !footer || stream || p.bare {
		return err
	}
	p.Line("(from %s)", s.source())
	return nil
}

// offlineLockWait bounds how long an offline command waits for the state
// dir's lock before saying who holds it.
const offlineLockWait = 5 * time.Second

func dialOperator(ctx context.Context, stateDir, url string, given credentials, kind, mode string, reconnect, readOnly bool, owner *openclawDir) (*session, error) {
	var creds credentials
	var err error
	if owner != nil {
		creds, err = given.forOpenClaw(owner)
	} else {
		creds, err = given.forPairdeck(stateDir)
	}
	if err != nil {
		return nil, err
	}
	// In a dir OpenClaw owns, identity/device.json is OpenClaw's own device
	// (2026.8+ moves it into its database): used when there, never made.
	id, err := operatorIdentity(stateDir, readOnly || owner != nil)
	if err != nil {
		return nil, err
	}
	c, err := dialOperatorClient(ctx, url, creds, kind, id, reconnect, nil, nil)
	if err != nil {
		return nil, err
	}
	s := &session{op: c, mode: mode, url: url, close: c.Close, owner: owner}
	if mode == modeLocal {
		s.stateDir = stateDir
	}
	return s, nil
}

// operatorIdentity is this machine's operator identity from the state dir.
// A command that only reads does not create one: it signs its one
// connection with a key of the moment instead, and leaves no file behind.
func operatorIdentity(stateDir string, readOnly bool) (*client.Identity, error) {
	path := client.IdentityPath(stateDir)
	if !readOnly {
		return client.LoadOrCreateIdentity(path)
	}
	id, err := client.LoadIdentity(path)
	if errors.Is(err, fs.ErrNotExist) {
		return client.NewIdentity()
	}
	return id, err
}

// dialOperatorClient connects as an operator with the given credentials
// and device identity; the console and the nodes commands share it. kind
// is protocol.ActorConsole or protocol.ActorCLI (see actor.go).
// follow, when set, says where the gateway is now, before each reconnect
// (see client.Config.FollowURL).
func dialOperatorClient(ctx context.Context, url string, creds credentials, kind string, id *client.Identity, reconnect bool, follow func() string, logger *slog.Logger) (*client.Client, error) {
	cfg := client.Config{
		URL:       url,
		FollowURL: follow,
		Role:      protocol.RoleOperator,
		Scopes:    protocol.AllOperatorScopes,
		// client.id and mode keep the values OpenClaw gateways accept.
		Client:    clientInfo(kind),
		Identity:  id,
		Reconnect: reconnect,
		Logger:    logger,
	}
	creds.apply(&cfg)
	c, err := client.Dial(ctx, cfg)
	if err != nil {
		return nil, explainDial(url, err)
	}
	return c, nil
}

func explainDial(url string, err error) error {
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.Reason() == protocol.ReasonTokenInvalid {
		return fmt.Errorf("gateway %s refused the operator token: check --token-file or $OPENCLAW_GATEWAY_TOKEN", url)
	}
	return explainTLS(url, err)
}

// openOffline acts on the state dir directly: the same gateway logic runs
// in-process, under the store's lock, for the length of one command. A
// command that only reads opens the store read-only: no lock, nothing
// created or written (it works on a read-only dir), a loose file mode
// reported on stderr rather than fixed.
func openOffline(stateDir, kind string, readOnly bool) (*session, error) {
	opts := store.Options{StateDir: stateDir}
	if readOnly {
		opts.ReadOnly = true
		opts.Logger = slog.New(noteHandler{os.Stderr})
	}
	st, err := store.Open(opts)
	if err != nil {
		return nil, err
	}
	// No socket is opened, so the operator token only has to be unguessable.
	gw, err := gateway.New(gateway.Config{Store: st, OperatorToken: rand.Text(), Logger: slog.New(slog.DiscardHandler), Version: Version, TickInterval: -1})
	if err != nil {
		st.Close()
		return nil, err
	}
	local := gw.Local(selfActor(kind, stateDir))
	return &session{op: local, mode: modeOffline, stateDir: stateDir, close: func() error {
		local.Close()
		return errors.Join(gw.Shutdown(context.Background()), st.Close())
	}}, nil
}

// noteHandler prints a store's warnings as the CLI's notes on stderr
// ("pairdeck: …"), without slog's keys.
type noteHandler struct{ w io.Writer }

func (h noteHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (h noteHandler) Handle(_ context.Context, r slog.Record) error {
	note(h.w, "%s", r.Message)
	return nil
}
func (h noteHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h noteHandler) WithGroup(string) slog.Handler      { return h }
