package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/term"

	"github.com/pairdeck/pairdeck/styles"
)

// Options configure the console.
type Options struct {
	// Now is the clock (time.Now when nil). Countdowns and flashes use it.
	Now func() time.Time
	// Theme is "auto", "dark" or "light" (see styles.ParseTheme).
	Theme string
	// Bell rings the terminal bell when a new request arrives.
	Bell bool
	// Remote says the backend is across the network: the header then
	// shows the state of the link.
	Remote bool
	// Endpoint is shown in the header, e.g. "embedded · 127.0.0.1:18789".
	Endpoint string
	// TTL is the pending-request lifetime, for gateways that do not send
	// expiresAtMs (defaultTTL when zero).
	TTL time.Duration
	// Logger receives the console's logs (discarded when nil). It must not
	// write to the terminal the console is drawing on.
	Logger *slog.Logger
	// SilentCheck, when set, approves silent requests by itself once the
	// check passes (see SilentCheck); requests that declare exec-class
	// commands always wait for the operator.
	SilentCheck *SilentCheck
	// Renderer draws the styles: one per terminal, so a console served to
	// several terminals can give each its own colour profile. Run makes
	// one for its output when nil; New falls back to lipgloss' default.
	Renderer *lipgloss.Renderer
}

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.TTL <= 0 {
		o.TTL = defaultTTL
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Theme == "" {
		o.Theme = styles.ThemeAuto
	}
	return o
}

// defaultTTL is the pending-request lifetime the pairing spec fixes.
const defaultTTL = 5 * time.Minute

// ErrNoTerminal is returned by Run when stdin or stdout is not a terminal;
// the caller can fall back to running headless.
var ErrNoTerminal = errors.New("the console needs a terminal on stdin and stdout")

// Run shows the console on the terminal until the operator quits or ctx
// is cancelled (a cancelled ctx is a clean exit: nil). It takes the
// alternate screen and prints nothing else: logs go to opts.Logger.
func Run(ctx context.Context, b Backend, opts Options) error {
	if !term.IsTerminal(os.Stdin.Fd()) || !term.IsTerminal(os.Stdout.Fd()) {
		return ErrNoTerminal
	}
	theme, err := styles.ParseTheme(opts.Theme)
	if err != nil {
		return err
	}
	opts.Theme = theme
	out := &sharedOutput{File: os.Stdout}
	if opts.Renderer == nil {
		opts.Renderer = lipgloss.NewRenderer(os.Stdout)
	}
	// Colour profile and background are settled here, before the program
	// owns the terminal (styles.New pins both).
	opts.Renderer.ColorProfile()

	m := New(b, opts)
	m.ctx = ctx
	m.bell = out
	p := tea.NewProgram(m,
		tea.WithContext(ctx),
		tea.WithOutput(out),
		tea.WithAltScreen(),
	)
	_, err = p.Run()
	if err != nil && ctx.Err() != nil && errors.Is(err, tea.ErrProgramKilled) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	return nil
}

// sharedOutput is the terminal, shared by the renderer and the bell. The
// renderer writes each frame with one Write; the lock keeps the bell from
// landing inside a frame's escape sequences. Embedding *os.File keeps it a
// terminal to Bubble Tea (size, resize, raw mode).
type sharedOutput struct {
	*os.File
	mu sync.Mutex
}

func (o *sharedOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.File.Write(p)
}

var _ io.Writer = (*sharedOutput)(nil)
