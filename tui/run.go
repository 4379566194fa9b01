package tui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/term"

	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/styles"
)

// Options configure the console.
type Options struct {
	// Now is the clock (time.Now when nil). Countdowns and flashes use it.
	Now func() time.Time
	// Theme is "auto", "dark" or "light" (see styles.ParseTheme). Run
	// settles auto with the terminal before the program starts; New,
	// without a terminal to ask, settles it from the environment.
	Theme string
	// ColorProfile is the terminal's colour profile (NO_COLOR is ASCII).
	// Run detects it when unset; New then draws in true colour and the
	// program converts. A program tells the console its terminal's profile
	// (tea.ColorProfileMsg) and the styles follow.
	ColorProfile colorprofile.Profile
	// Bell rings the terminal bell when a new request arrives.
	Bell bool
	// Remote says the backend is across the network: the header then
	// shows the state of the link.
	Remote bool
	// Endpoint is shown in the header, e.g. "embedded · 127.0.0.1:18789".
	Endpoint string
	// Logger receives the console's logs (discarded when nil). It must not
	// write to the terminal the console is drawing on.
	Logger *slog.Logger
	// TryCommand is the command that makes a test node ask this gateway
	// to pair; an empty queue suggests it (defaultTryCommand when empty).
	TryCommand string
	// TryNodeHost, for a gateway that is not pairdeck's (OpenClaw's), is
	// that gateway's own node host command ("openclaw node run …"): an
	// empty queue suggests it too. TryNodeHostEnv names the variable the
	// node host reads the gateway's shared secret from
	// (OPENCLAW_GATEWAY_TOKEN or _PASSWORD; "" when it needs none).
	TryNodeHost    string
	TryNodeHostEnv string
	// Others, for a console that embeds its gateway, names the other
	// operators attached to it now (consoles over the network or SSH, CLI
	// commands). While there are any, quitting asks whether to stop the
	// gateway for them or leave it serving them (Run: ExitKeepServing).
	Others func() []string
	// Demo says simulated nodes fill the queue by themselves: an empty
	// queue says so instead of suggesting a command.
	Demo bool
	// SilentCheck, when set, approves silent requests by itself once the
	// check passes (see SilentCheck); requests that declare exec-class
	// commands always wait for the operator.
	SilentCheck *SilentCheck
	// Actor is who this console acts as, derived as the gateway derives
	// it (protocol.ConnectActor): its own decisions are logged as that,
	// in the one form every view shows, and an event with that actor is
	// its own. Unset, they read "this console".
	Actor protocol.Actor
}

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.TryCommand == "" {
		o.TryCommand = defaultTryCommand
	}
	if o.Theme == "" {
		o.Theme = styles.ThemeAuto
	}
	return o
}

// defaultTryCommand makes a test node ask the gateway running for the
// default state dir to pair.
const defaultTryCommand = "pairdeck node pair --name test"

// ErrNoTerminal is returned by Run when stdin or stdout is not a terminal;
// the caller can fall back to running headless.
var ErrNoTerminal = errors.New("the console needs a terminal on stdin and stdout")

// Run shows the console on the terminal until the operator quits or ctx
// is cancelled (a cancelled ctx is a clean exit: ExitQuit, nil), and says
// how it ended. It takes the alternate screen and prints nothing else:
// logs go to opts.Logger.
func Run(ctx context.Context, b Backend, opts Options) (Exit, error) {
	if !term.IsTerminal(os.Stdin.Fd()) || !term.IsTerminal(os.Stdout.Fd()) {
		return ExitQuit, ErrNoTerminal
	}
	theme, err := styles.ParseTheme(opts.Theme)
	if err != nil {
		return ExitQuit, err
	}
	// Background and colour profile are settled here, before the program
	// owns the terminal and its input.
	opts.Theme = styles.ThemeLight
	if styles.Resolve(theme, os.Stdin, os.Stdout) {
		opts.Theme = styles.ThemeDark
	}
	if opts.ColorProfile == colorprofile.Unknown {
		opts.ColorProfile = colorprofile.Detect(os.Stdout, os.Environ())
	}

	final, err := Program(ctx, b, opts).Run()
	if err != nil && ctx.Err() != nil && errors.Is(err, tea.ErrProgramKilled) {
		return ExitQuit, nil
	}
	if err != nil {
		return ExitQuit, fmt.Errorf("console: %w", err)
	}
	if m, ok := final.(Model); ok {
		return m.exit, nil
	}
	return ExitQuit, nil
}

// Program builds the console as a Bubble Tea program, for a terminal this
// process does not own — an SSH session's — as well as for Run. popts give
// that terminal's input, output, size and environment (the process's own
// terminal when none). Nothing is asked of the terminal: opts.Theme should
// be settled (dark or light) and opts.ColorProfile set. Cancelling ctx ends
// the program and the console's calls.
func Program(ctx context.Context, b Backend, opts Options, popts ...tea.ProgramOption) *tea.Program {
	m := New(b, opts)
	m.ctx = ctx
	base := []tea.ProgramOption{tea.WithContext(ctx)}
	if opts.ColorProfile != colorprofile.Unknown {
		base = append(base, tea.WithColorProfile(opts.ColorProfile))
	}
	return tea.NewProgram(m, append(base, popts...)...)
}
