package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/pairdeck/pairdeck/gateway"
	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/store"
)

// gatewayFlags configure a gateway, headless or embedded in the console.
type gatewayFlags struct {
	listen     string
	tok        tokenFlags
	ttl        time.Duration
	maxPending int
	pairing    string // "on", "off", or "" for as last switched
	onRequest  string
	publicURL  string
	// tokenStorage is --token-storage: "" lets the store decide by the
	// state dir.
	tokenStorage string
	ssh          sshFlags
	limits       gatewayLimitFlags
}

func (f *gatewayFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "", "address to listen on (default $OPENCLAW_GATEWAY_PORT on loopback, else 127.0.0.1:18789)")
	f.tok.register(fl)
	fl.DurationVar(&f.ttl, "ttl", store.DefaultTTL, "how long a pending request waits for a decision")
	fl.IntVar(&f.maxPending, "max-pending", store.DefaultMaxPending, "cap on pending requests")
	fl.StringVar(&f.pairing, "pairing", "", "switch pairing on or off at start (default: as last switched, on for a new state dir)")
	fl.StringVar(&f.onRequest, "on-request", "", "shell command run for every new request, with the request as JSON on stdin (notifies only)")
	fl.StringVar(&f.publicURL, "public-url", "", "the gateway's URL as nodes reach it, for setup links (default: the address it listens on, when nodes can use it)")
	fl.StringVar(&f.tokenStorage, "token-storage", "", "how node tokens are kept: hash (only their SHA-256) or openclaw (plaintext, as OpenClaw 2026.4–2026.7 read them); default openclaw on a state dir OpenClaw has written, else hash")
	f.ssh.register(fl)
	f.limits.register(fl)
}

func newServeCmd(g *globals) *cobra.Command {
	f := &gatewayFlags{}
	var logFormat, logLevel string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway headless",
		Long: `Run the pairing gateway without the console, logging to stderr.

The gateway holds the state dir's lock for its lifetime; consoles and
"pairdeck nodes" commands on the same machine find it through
<state>/pairdeck/gateway.json. SIGINT, SIGTERM or SIGHUP shut it down cleanly:
connected clients get a shutdown event and close code 1012.`,
		Example: `  pairdeck serve
  pairdeck serve --listen 0.0.0.0:18789 --token-file /etc/pairdeck/token
  OPENCLAW_STATE_DIR=/srv/pairdeck pairdeck serve --ttl 2m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := newLogger(os.Stderr, logFormat, logLevel)
			if err != nil {
				return err
			}
			stateDir, err := g.resolveStateDir()
			if err != nil {
				return err
			}
			gw, err := startGateway(stateDir, f, logger)
			if err != nil {
				return err
			}
			select {
			case <-cmd.Context().Done():
				logger.Info("shutting down", "reason", "signal")
			case err := <-gw.Done:
				if err != nil {
					return fmt.Errorf("gateway stopped: %w", err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return gw.Stop(ctx, logger)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&logFormat, "log-format", "text", "log format: text or json")
	cmd.Flags().StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	return cmd
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(protocol.PrintableHandler(slog.NewTextHandler(w, opts))), nil
	case "json":
		return slog.New(protocol.PrintableHandler(slog.NewJSONHandler(w, opts))), nil
	default:
		return nil, usageError("--log-format %q: want text or json", format)
	}
}

// runningGateway is a started gateway with its store and listener.
type runningGateway struct {
	Gateway     *gateway.Gateway
	Store       *store.Store
	URL         string
	Token       string
	TokenSource string
	StateDir    string
	// SSH serves the console over SSH (--ssh); nil without.
	SSH *sshConsole
	// Done yields the serve loop's error if it stops on its own.
	Done <-chan error
}

// pairingStart reads --pairing.
func pairingStart(flag string) (gateway.PairingStart, error) {
	switch flag {
	case "":
		return gateway.PairingRemembered, nil
	case "on":
		return gateway.PairingOn, nil
	case "off":
		return gateway.PairingOff, nil
	}
	return 0, usageError("--pairing %q: want on or off", flag)
}

// startGateway opens the store (taking the state dir's lock), resolves token
// and address, listens, serves in the background and records where it runs.
func startGateway(stateDir string, f *gatewayFlags, logger *slog.Logger) (*runningGateway, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	// The address first: a mistyped --listen is a usage error that must
	// not leave a generated token file behind.
	addr, err := gateway.ResolveListen(f.listen)
	if err != nil {
		return nil, withCode(ExitUsage, err)
	}
	sshAddr, err := f.ssh.listenAddr()
	if err != nil {
		return nil, err
	}
	pairing, err := pairingStart(f.pairing)
	if err != nil {
		return nil, err
	}
	var cfg gateway.Config
	if err := f.limits.check(); err != nil {
		return nil, err
	}
	f.limits.apply(&cfg)
	given, givenBy, err := f.tok.value(os.Stdin)
	if err != nil {
		return nil, err
	}
	// Whose dir it is, before anything is written into it.
	if err := checkNoGateway(stateDir); err != nil {
		return nil, err
	}
	owner, err := inspectOpenClaw(context.Background(), stateDir)
	if err != nil {
		return nil, err
	}
	if err := owner.refuseServe(addr); err != nil {
		return nil, err
	}
	token, source, err := gateway.ResolveToken(given, stateDir)
	if err != nil {
		return nil, err
	}
	if gateway.CheckBind(addr, gateway.TokenExplicit(source)) != nil {
		return nil, usageError("refusing to listen on %s with a generated operator token: anyone who can reach it could try to pair; "+
			"choose the token yourself (--token-file FILE, or $%s) to expose the gateway, or listen on 127.0.0.1", addr, gateway.EnvToken)
	}
	if err := checkSSHBind(sshAddr, gateway.TokenExplicit(source)); err != nil {
		return nil, err
	}
	if givenBy != "" {
		source = givenBy
	} else {
		source = tokenSourceText(source, stateDir)
	}
	storage, err := f.storage()
	if err != nil {
		return nil, err
	}
	st, err := openGatewayStore(store.Options{StateDir: stateDir, TTL: f.ttl, MaxPending: f.maxPending, Logger: logger, TokenStorage: storage})
	if err != nil {
		return nil, err
	}
	cfg.Store, cfg.OperatorToken, cfg.Logger, cfg.Version = st, token, logger, Version
	cfg.Pairing, cfg.OnRequest = pairing, f.onRequest
	if f.publicURL != "" {
		if cfg.PublicURL, err = checkLinkURL("--public-url", f.publicURL); err != nil {
			st.Close()
			return nil, err
		}
	}
	gw, err := gateway.New(cfg)
	if err != nil {
		st.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		st.Close()
		return nil, listenError(addr, err)
	}
	url := "ws://" + ln.Addr().String()
	var sshc *sshConsole
	if sshAddr != "" {
		if sshc, err = newSSHConsole(stateDir, &f.ssh, sshAddr, gw, url, logger); err != nil {
			ln.Close()
			st.Close()
			return nil, err
		}
	}
	if err := gateway.WriteRuntime(stateDir, gateway.Runtime{URL: url, PID: os.Getpid(), Version: Version}); err != nil {
		ln.Close()
		if sshc != nil {
			sshc.close()
		}
		st.Close()
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- gw.Serve(ln) }()
	logger.Info("gateway listening", "listen", ln.Addr().String(), "url", url, "stateDir", stateDir,
		"ttl", durationText(st.TTL()), "maxPending", f.maxPending, "token", source)
	if sshc != nil {
		sshc.serve(logger)
	}
	return &runningGateway{Gateway: gw, Store: st, URL: url, Token: token, TokenSource: source, StateDir: stateDir, SSH: sshc, Done: done}, nil
}

// openGatewayStore opens the store for a gateway. An offline CLI command
// may hold the state dir's lock for a moment: the store waits for it as the
// offline commands do. A gateway that holds it is named at once instead.
func openGatewayStore(opts store.Options) (*store.Store, error) {
	if err := checkNoGateway(opts.StateDir); err != nil {
		return nil, err
	}
	opts.LockWait = offlineLockWait
	return store.Open(opts)
}

// checkNoGateway refuses a state dir a pairdeck gateway already serves.
func checkNoGateway(stateDir string) error {
	if rt, err := gateway.ReadRuntime(stateDir); err == nil && rt.Alive {
		return fmt.Errorf("a gateway already serves %s (pid %d, %s): stop it first, or use it (`pairdeck` attaches to it)", stateDir, rt.PID, rt.URL)
	}
	return nil
}

// Stop shuts the gateway down, releases the store and forgets the runtime
// file. Safe to call once.
//
// Clients that do not answer the gateway's close before ctx ends are cut
// off and named in a warning on log, not returned as an error: the gateway
// has stopped with every decision recorded, and a supervisor stopping it
// should not be told it failed because a peer was slow.
func (r *runningGateway) Stop(ctx context.Context, log *slog.Logger) error {
	errShutdown := r.Gateway.Shutdown(ctx)
	if errors.Is(errShutdown, context.DeadlineExceeded) {
		log.Warn("stopped; some clients did not answer the close in time and were cut off", "err", errShutdown)
		errShutdown = nil
	}
	var errSSH error
	if r.SSH != nil {
		// After the gateway: each SSH console shows its shutdown first.
		errSSH = r.SSH.stop(ctx)
	}
	errRuntime := gateway.RemoveRuntime(r.StateDir)
	errStore := r.Store.Close()
	return errors.Join(errShutdown, errSSH, errRuntime, errStore)
}

func listenError(addr string, err error) error {
	if errors.Is(err, errAddrInUse) {
		if url := "ws://" + loopbackAddr(addr); probeGateway(context.Background(), url) {
			return fmt.Errorf("cannot listen on %s: a gateway is already listening there; attach to it with `pairdeck console --url %s` "+
				"(and `pairdeck nodes … --url %s`), or pick another address with --listen", addr, url, url)
		}
		return fmt.Errorf("cannot listen on %s: the address is in use; stop whatever holds it or pick another with --listen", addr)
	}
	return fmt.Errorf("cannot listen on %s: %w", addr, err)
}

// consoleLog opens the console's log: <state>/pairdeck/console.log, or,
// for a state dir OpenClaw owns, pairdeck's directory in the user's cache
// (os.UserCacheDir), so nothing of pairdeck's lands in OpenClaw's dir.
func consoleLog(stateDir string, openclaw bool) (*os.File, error) {
	if !openclaw {
		return logFile(stateDir, "console")
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return nil, fmt.Errorf("log dir: %w", err)
	}
	return logFileIn(filepath.Join(cache, "pairdeck"), "console")
}

// logFile opens <state>/pairdeck/<name>.log for a process that owns the
// terminal and so must not print logs on it.
func logFile(stateDir, name string) (*os.File, error) {
	return logFileIn(filepath.Join(stateDir, "pairdeck"), name)
}

func logFileIn(dir, name string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("log dir: %w", err)
	}
	return os.OpenFile(filepath.Join(dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
}

// loopbackAddr is addr with an unspecified host (0.0.0.0, ::, "") made
// loopback, the address a client on this machine dials.
func loopbackAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// storage reads --token-storage ("" lets the store decide).
func (f *gatewayFlags) storage() (store.TokenStorage, error) {
	if f.tokenStorage == "" {
		return store.TokenStorageAuto, nil
	}
	t, err := store.ParseTokenStorage(f.tokenStorage)
	if err != nil {
		return "", usageError("--token-storage %q: want hash (only each token's SHA-256) or openclaw (plaintext, as OpenClaw 2026.4.12 and 2026.7.35 read them)", f.tokenStorage)
	}
	return t, nil
}
