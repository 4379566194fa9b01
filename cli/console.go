package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	neturl "net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/pairdeck/pairdeck/client"
	"github.com/pairdeck/pairdeck/gateway"
	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/tui"
)

// consoleFlags configure the console and, when it embeds one, its gateway.
type consoleFlags struct {
	theme string
	bell  bool
	gw    gatewayFlags
	// url attaches to a remote gateway (`pairdeck console`); the operator
	// token comes from gw.token.
	url    string
	silent silentCheckFlags
	// pw gives the password of a gateway in password mode (OpenClaw's).
	pw passwordFlags
}

func (f *consoleFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.theme, "theme", "auto", "colours for a dark or light terminal: auto, dark or light")
	fl.BoolVar(&f.bell, "bell", false, "ring the terminal bell when a node asks to pair")
	f.gw.register(cmd)
	f.pw.register(fl)
}

func newConsoleCmd(g *globals) *cobra.Command {
	f := &consoleFlags{}
	cmd := &cobra.Command{
		Use:   "console",
		Short: "Open the console on a remote gateway (or the local one)",
		Long: `Open the live pairing console.

With --url (or $OPENCLAW_GATEWAY_URL) it attaches to that gateway with the
operator token from --token-file (or $OPENCLAW_GATEWAY_TOKEN), shows the connection state and reconnects with
backoff. Without, it behaves like plain "pairdeck": it attaches to the gateway
running for the state dir (pairdeck's, or the OpenClaw gateway that owns it:
the port and token or password in its openclaw.json) or embeds one.`,
		Example: `  pairdeck console --url wss://gw.example.net:18789 --token-file ~/.config/pairdeck/gw-token
  pairdeck console --theme light --bell`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runConsole(cmd, g, f, true)
		},
	}
	f.register(cmd)
	f.silent.register(cmd)
	cmd.Flags().StringVar(&f.url, "url", "", "gateway URL (default $OPENCLAW_GATEWAY_URL)")
	// --token-file and --token are registered by the embedded gateway's
	// flags: for a remote gateway they give the operator token to present.
	return cmd
}

// runConsole picks the backend — remote, the local running gateway, or an
// embedded one — and runs the console on it until the user quits.
func runConsole(cmd *cobra.Command, g *globals, f *consoleFlags, allowRemote bool) error {
	ctx := cmd.Context()
	// What was typed is checked first, then where it runs.
	if err := checkTheme(f.theme); err != nil {
		return err
	}
	if err := f.gw.check(); err != nil {
		return err
	}
	if f.gw.tok.file == "-" || f.pw.file == "-" {
		return usageError("the console reads its keys from the terminal, so --token-file and --password-file cannot be -: give them a file, or set $%s / $%s", gateway.EnvToken, envOpenClawPassword)
	}
	stateDir, err := g.resolveStateDir()
	if err != nil {
		return err
	}
	url, why := "", ""
	if allowRemote {
		if url, why, err = gatewayURLFlag(f.url); err != nil {
			return err
		}
	}
	named := url != "" // by --url or $OPENCLAW_GATEWAY_URL, not found for the state dir
	var follow func() string
	if url == "" {
		if rt, err := gateway.ReadRuntime(stateDir); err == nil && rt.Alive {
			url, why = rt.URL, fmt.Sprintf("it already runs for %s, pid %d", stateDir, rt.PID)
			// Found by its runtime file, it is found again that way: a
			// gateway restarted on another port is followed there.
			follow = runtimeURL(stateDir)
		}
	}
	// The OpenClaw gateway that owns the dir is attached to as a pairdeck
	// gateway running for it would be; a dir of OpenClaw 2026.8+ is never
	// embedded on.
	var owner *openclawDir
	if url == "" {
		if owner, err = inspectOpenClaw(ctx, stateDir); err != nil {
			return err
		}
		switch {
		case owner.answers:
			url, why = owner.url(), fmt.Sprintf("%s answers there and owns %s", strings.TrimPrefix(owner.owner(), "the "), stateDir)
		case owner.remote():
			url, why = owner.cfg.remoteURL, "gateway.mode is remote in "+owner.configPath
		case owner.database != "":
			return owner.databaseError()
		default:
			owner = nil
		}
	}
	if url != "" {
		if err := refuseEmbeddedFlags(cmd, url, why, owner != nil); err != nil {
			return err
		}
	}
	if err := checkTerminal(os.Stdout, os.Getenv("TERM")); err != nil {
		return err
	}
	// OpenClaw's dir gets nothing of pairdeck's, not even its log.
	logOut, err := consoleLog(stateDir, owner != nil)
	if err != nil {
		return err
	}
	defer logOut.Close()
	logger := slog.New(protocol.PrintableHandler(slog.NewTextHandler(logOut, nil)))
	// Libraries that log on their own (the SSH server's) must not write
	// over the console either.
	slog.SetDefault(logger)

	opts := tui.Options{Theme: f.theme, Bell: f.bell, Logger: logger, TryCommand: tryCommand(g, url, named)}
	if url != "" {
		if opts.SilentCheck, err = f.silent.check(url); err != nil {
			return err
		}
		given, err := (&secretFlags{tok: f.gw.tok, pw: f.pw}).given(os.Stdin)
		if err != nil {
			return err
		}
		var creds credentials
		if owner != nil {
			creds, err = given.forOpenClaw(owner)
		} else {
			creds, err = given.forPairdeck(stateDir)
		}
		if err != nil {
			return err
		}
		id, err := operatorIdentity(stateDir, owner != nil)
		if err != nil {
			return err
		}
		c, err := dialOperatorClient(ctx, url, creds, protocol.ActorConsole, id, true, follow, logger)
		if err != nil {
			return err
		}
		defer c.Close()
		opts.Remote, opts.Endpoint, opts.Actor = true, url, connectedActor(protocol.ActorConsole, id)
		if openClawGateway(c) {
			opts.TryCommand, opts.TryNodeHost, opts.TryNodeHostEnv = openClawTry(url, f, creds)
		}
		_, err = tui.Run(ctx, remoteConsole{c}, opts)
		return err
	}

	gw, err := startGateway(stateDir, &f.gw, logger)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := gw.Stop(sctx, logger); err != nil {
			logger.Error("stopping gateway", "err", err)
		}
	}()
	// The console at the gateway's machine is the same device as a remote
	// console there: the state dir's operator identity.
	id, err := operatorIdentity(stateDir, false)
	if err != nil {
		return err
	}
	opts.Actor = connectedActor(protocol.ActorConsole, id)
	local := gw.Gateway.Local(opts.Actor)
	defer local.Close()
	opts.Endpoint = "embedded · " + gw.URL
	if opts.SilentCheck, err = f.silent.check(gw.URL); err != nil {
		return err
	}
	// Quitting asks first while others use this gateway (consoles over the
	// network or SSH, CLI commands).
	opts.Others = func() []string { return gw.Gateway.Operators(local) }
	exit, err := tui.Run(ctx, local, opts)
	if err != nil || exit != tui.ExitKeepServing {
		return err
	}
	local.Close()
	keepServing(ctx, gw, cmd.ErrOrStderr(), logger)
	return nil
}

// keepServingPoll is how often a gateway left serving after its console
// closed looks whether operators are still attached.
const keepServingPoll = 500 * time.Millisecond

// keepServing leaves the gateway of a closed console serving the operators
// still attached to it — nobody is cut off — until the last has left, or a
// signal stops it. Closing the terminal does not: the operator asked to
// leave it running. It says so on out, once, and again as they leave.
func keepServing(ctx context.Context, gw *runningGateway, out io.Writer, logger *slog.Logger) {
	signal.Ignore(syscall.SIGHUP) // the terminal may go now
	say := func(format string, a ...any) {
		// Names come from the network: shown escaped. A terminal that has
		// gone takes nothing; that is fine.
		_, _ = fmt.Fprintln(out, protocol.Printable(fmt.Sprintf(format, a...)))
	}
	others := gw.Gateway.Operators(nil)
	logger.Info("console closed; the gateway keeps serving", "operators", len(others), "url", gw.URL)
	say("pairdeck: the console closed; the gateway at %s keeps serving %s: %s.",
		gw.URL, operatorCount(len(others)), strings.Join(others, ", "))
	say("It stops when the last one has left; ctrl+c (or SIGTERM to pid %d) stops it now. Closing this terminal does not.", os.Getpid())
	tick := time.NewTicker(keepServingPoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			say("pairdeck: stopping the gateway.")
			logger.Info("gateway left serving stops", "reason", "signal")
			return
		case err := <-gw.Done:
			logger.Error("gateway stopped", "err", err)
			return
		case <-tick.C:
		}
		now := gw.Gateway.Operators(nil)
		switch {
		case len(now) == 0:
			say("pairdeck: the last operator has left; the gateway stops.")
			logger.Info("gateway left serving stops", "reason", "no operators left")
			return
		case !slices.Equal(now, others):
			say("pairdeck: still serving %s: %s.", operatorCount(len(now)), strings.Join(now, ", "))
			others = now
		}
	}
}

func operatorCount(n int) string {
	if n == 1 {
		return "1 operator"
	}
	return fmt.Sprintf("%d operators", n)
}

// runtimeURL says where the gateway running for stateDir is now, from its
// runtime file ("" while none runs).
func runtimeURL(stateDir string) func() string {
	return func() string {
		if rt, err := gateway.ReadRuntime(stateDir); err == nil && rt.Alive {
			return rt.URL
		}
		return ""
	}
}

// remoteConsole is the client as the console's backend, saying which of
// the console's actions its gateway offers (the console does not import
// the client).
type remoteConsole struct{ *client.Client }

// The client's reasons and setup codes are the console's.
var (
	_ tui.ReasonBackend = remoteConsole{}
	_ tui.CodesBackend  = remoteConsole{}
)

// consoleCapabilities are the client's names for the console's features.
var consoleCapabilities = map[tui.Feature]client.Capability{
	tui.FeatureRenamePending: client.CapRenamePending,
	tui.FeatureRemove:        client.CapRemove,
	tui.FeatureBlockList:     client.CapBlockList,
	tui.FeaturePairingSwitch: client.CapPairingSwitch,
	tui.FeatureAutoApprove:   client.CapAutoApprove,
	tui.FeatureReasons:       client.CapReasons,
	tui.FeatureCodes:         client.CapCodes,
}

// Offered is nil where the gateway offers f, else the client's one-line
// reason.
func (r remoteConsole) Offered(f tui.Feature) error {
	c, ok := consoleCapabilities[f]
	if !ok {
		return nil
	}
	return r.Supports(c)
}

// openClawTry is what the console's empty queue suggests against an
// OpenClaw gateway: pairdeck's node with the gateway's shared secret —
// the file the console read it from, nothing where the environment gave
// it (the node reads the same variable), else a placeholder for a file
// that holds it; the secret itself never — and OpenClaw's own node host,
// with the variable it reads the secret from.
func openClawTry(url string, f *consoleFlags, creds credentials) (try, nodeHost, nodeHostEnv string) {
	args := []string{"pairdeck", "node", "pair", "--url", shellQuote(url), "--name", "test"}
	secretFlag := func(flag, file, env, placeholder string) {
		switch {
		case file != "":
			if abs, err := filepath.Abs(file); err == nil {
				file = abs // the other pane may be elsewhere
			}
			args = append(args, flag, shellQuote(file))
		case strings.TrimSpace(os.Getenv(env)) != "":
		default:
			args = append(args, flag, placeholder)
		}
	}
	switch {
	case creds.password != "":
		secretFlag("--gateway-password-file", f.pw.file, envOpenClawPassword, "<password-file>")
		nodeHostEnv = envOpenClawPassword
	case creds.token != "":
		secretFlag("--gateway-token-file", f.gw.tok.file, gateway.EnvToken, "<token-file>")
		nodeHostEnv = gateway.EnvToken
	}
	try = strings.Join(args, " ")

	u, err := neturl.Parse(url)
	if err != nil || u.Hostname() == "" {
		return try, "", ""
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "wss" {
			port = "443"
		}
	}
	host := []string{"openclaw", "node", "run", "--host", shellQuote(u.Hostname()), "--port", port}
	if u.Scheme == "wss" {
		host = append(host, "--tls")
	}
	if p := strings.TrimSuffix(u.Path, "/"); p != "" {
		host = append(host, "--context-path", shellQuote(p))
	}
	host = append(host, "--display-name", "test")
	return try, strings.Join(host, " "), nodeHostEnv
}

// tryCommand is what the console's empty queue suggests running in another
// pane to see a request arrive: a test node asking this gateway to pair,
// found as the console found it.
func tryCommand(g *globals, url string, named bool) string {
	args := []string{"pairdeck", "node", "pair"}
	switch {
	case named:
		args = append(args, "--url", url)
	case g.stateDir != "":
		args = append(args, "--state-dir", g.stateDir)
	}
	args = append(args, "--name", "test")
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	return strings.Join(args, " ")
}

// checkTerminal refuses the full-screen console where it cannot work: on
// output that is not a terminal (a pipe, a file, a service's log) or on a
// terminal that says it cannot place the cursor (TERM=dumb).
func checkTerminal(out *os.File, termName string) error {
	var why string
	switch {
	case !isTerminal(out):
		why = "its output is not a terminal"
	case termName == "dumb":
		why = "TERM=dumb says this terminal cannot draw it"
	default:
		return nil
	}
	return usageError("the console is a full-screen view and %s: run the gateway with `pairdeck serve`, "+
		"follow the queue with `pairdeck nodes pending --watch`, and decide with `pairdeck nodes approve|reject`", why)
}

func checkTheme(theme string) error {
	switch theme {
	case "auto", "dark", "light":
		return nil
	}
	return usageError("--theme %q: want auto, dark or light", theme)
}
