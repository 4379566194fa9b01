package sshconsole

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/vt"
	gossh "golang.org/x/crypto/ssh"

	"github.com/pairdeck/pairdeck/gateway"
	"github.com/pairdeck/pairdeck/store"
)

// waitFor is how long a test waits for a condition before it fails.
const waitFor = 15 * time.Second

// fixture is a real gateway (store in a temp state dir, WebSocket listener
// on loopback) with the SSH console served on loopback.
type fixture struct {
	t        *testing.T
	stateDir string
	st       *store.Store
	gw       *gateway.Gateway
	url      string
	keysFile string
	srv      *Server
	addr     string
	hostKey  gossh.PublicKey
	logs     *logLines
}

func newFixture(t *testing.T, tweak ...func(*Config)) *fixture {
	t.Helper()
	f := &fixture{t: t, stateDir: t.TempDir(), logs: &logLines{changed: make(chan struct{}, 1)}}
	logger := slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	st, err := store.Open(store.Options{StateDir: f.stateDir})
	if err != nil {
		t.Fatal(err)
	}
	f.st = st
	gw, err := gateway.New(gateway.Config{Store: st, OperatorToken: "operator-token-for-tests", Logger: logger, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	f.gw = gw
	wsLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.url = "ws://" + wsLn.Addr().String()
	go gw.Serve(wsLn)

	f.keysFile = filepath.Join(t.TempDir(), "authorized_keys")
	if err := os.WriteFile(f.keysFile, []byte("# operators of the test gateway\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hostKey, err := LoadOrCreateHostKey(HostKeyFile(f.stateDir), logger)
	if err != nil {
		t.Fatal(err)
	}
	f.hostKey = hostKey.PublicKey()
	cfg := Config{Gateway: gw, HostKey: hostKey, AuthorizedKeys: f.keysFile, Logger: logger, GatewayURL: f.url, Version: "test"}
	for _, tw := range tweak {
		tw(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = ln.Addr().String()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		f.stop(ctx)
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
		st.Close()
	})
	return f
}

// stop shuts the gateway down, then the SSH server, as pairdeck does.
func (f *fixture) stop(ctx context.Context) {
	f.t.Helper()
	if err := f.gw.Shutdown(ctx); err != nil {
		f.t.Errorf("gateway shutdown: %v", err)
	}
	if err := f.srv.Shutdown(ctx); err != nil {
		f.t.Errorf("ssh shutdown: %v", err)
	}
}

// authorize makes a key and adds it, with comment, to the authorized keys.
func (f *fixture) authorize(comment string) gossh.Signer {
	f.t.Helper()
	signer := newKey(f.t)
	line := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(signer.PublicKey()))) + " " + comment + "\n"
	fh, err := os.OpenFile(f.keysFile, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		f.t.Fatal(err)
	}
	defer fh.Close()
	if _, err := fh.WriteString(line); err != nil {
		f.t.Fatal(err)
	}
	return signer
}

func newKey(t *testing.T) gossh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return signer
}

// dial signs in with signer as user "operator", checking the host key.
func (f *fixture) dial(signer gossh.Signer) (*gossh.Client, error) {
	c, err := gossh.Dial("tcp", f.addr, &gossh.ClientConfig{
		User:            "operator",
		Auth:            []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.FixedHostKey(f.hostKey),
		Timeout:         waitFor,
	})
	if err == nil {
		f.t.Cleanup(func() { c.Close() })
	}
	return c, err
}

func (f *fixture) mustDial(signer gossh.Signer) *gossh.Client {
	f.t.Helper()
	c, err := f.dial(signer)
	if err != nil {
		f.t.Fatalf("dial: %v", err)
	}
	return c
}

// term is a console session seen through a terminal emulator: what the
// operator would see on their screen.
type term struct {
	t     *testing.T
	sess  *gossh.Session
	stdin *lockedWriter

	mu      sync.Mutex
	emu     *vt.Emulator
	raw     bytes.Buffer
	changed chan struct{} // a send after every write
	done    chan struct{} // closed when the session ended
	exitErr error
}

// openConsole opens a session with a terminal of w×h and env, and starts
// the console.
func openConsole(t *testing.T, c *gossh.Client, w, h int, env map[string]string) *term {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	tm := &term{t: t, sess: sess, emu: vt.NewEmulator(w, h), changed: make(chan struct{}, 1), done: make(chan struct{})}
	for k, v := range env {
		if err := sess.Setenv(k, v); err != nil {
			t.Fatal(err)
		}
	}
	stdin, err := sess.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	tm.stdin = &lockedWriter{w: stdin}
	sess.Stdout = tm
	sess.Stderr = tm
	if err := sess.RequestPty("xterm-256color", h, w, gossh.TerminalModes{gossh.ECHO: 0}); err != nil {
		t.Fatal(err)
	}
	// The emulator answers the program's queries, as a terminal does.
	go io.Copy(tm.stdin, tm.emu)
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	go func() {
		tm.exitErr = sess.Wait()
		close(tm.done)
	}()
	t.Cleanup(func() { sess.Close() })
	return tm
}

func (tm *term) Write(p []byte) (int, error) {
	tm.mu.Lock()
	tm.raw.Write(p)
	tm.emu.Write(p)
	tm.mu.Unlock()
	select {
	case tm.changed <- struct{}{}:
	default:
	}
	return len(p), nil
}

// screen is the emulator's screen as text, one string per row.
func (tm *term) screen() []string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	rows := make([]string, tm.emu.Height())
	for y := range rows {
		var b strings.Builder
		for x := 0; x < tm.emu.Width(); x++ {
			c := tm.emu.CellAt(x, y)
			if c == nil || c.Width == 0 {
				if c == nil {
					b.WriteByte(' ')
				}
				continue
			}
			if c.Content == "" {
				b.WriteByte(' ')
			} else {
				b.WriteString(c.Content)
			}
		}
		rows[y] = strings.TrimRight(b.String(), " ")
	}
	return rows
}

func (tm *term) output() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.raw.String()
}

// waitScreen waits until cond holds for the screen, and returns it.
func (tm *term) waitScreen(what string, cond func(rows []string) bool) []string {
	tm.t.Helper()
	deadline := time.NewTimer(waitFor)
	defer deadline.Stop()
	for {
		rows := tm.screen()
		if cond(rows) {
			return rows
		}
		select {
		case <-tm.changed:
		case <-tm.done:
			if rows := tm.screen(); cond(rows) {
				return rows
			}
			tm.t.Fatalf("session ended before %s (exit: %v); screen:\n%s", what, tm.exitErr, strings.Join(tm.screen(), "\n"))
		case <-deadline.C:
			tm.t.Fatalf("no %s within %s; screen:\n%s", what, waitFor, strings.Join(tm.screen(), "\n"))
		}
	}
}

// waitText waits until the screen shows s.
func (tm *term) waitText(s string) []string {
	tm.t.Helper()
	return tm.waitScreen(strings.TrimSpace(s), func(rows []string) bool { return strings.Contains(strings.Join(rows, "\n"), s) })
}

func (tm *term) press(keys string) {
	tm.t.Helper()
	if _, err := tm.stdin.Write([]byte(keys)); err != nil {
		tm.t.Fatalf("send %q: %v", keys, err)
	}
}

// resize changes the window, on the emulator and over SSH.
func (tm *term) resize(w, h int) {
	tm.t.Helper()
	tm.mu.Lock()
	tm.emu.Resize(w, h)
	tm.mu.Unlock()
	if err := tm.sess.WindowChange(h, w); err != nil {
		tm.t.Fatal(err)
	}
}

// waitEnd waits for the session to end and returns its exit error.
func (tm *term) waitEnd() error {
	tm.t.Helper()
	select {
	case <-tm.done:
		return tm.exitErr
	case <-time.After(waitFor):
		tm.t.Fatalf("the session did not end within %s; screen:\n%s", waitFor, strings.Join(tm.screen(), "\n"))
		return nil
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// logLines collects the server's log, for tests that wait for a line.
type logLines struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.buf.Write(p)
	l.mu.Unlock()
	select {
	case l.changed <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// waitLine waits for a log line holding every one of parts.
func (l *logLines) waitLine(t *testing.T, parts ...string) string {
	t.Helper()
	deadline := time.NewTimer(waitFor)
	defer deadline.Stop()
	for {
		for _, line := range strings.Split(l.String(), "\n") {
			ok := true
			for _, p := range parts {
				ok = ok && strings.Contains(line, p)
			}
			if ok {
				return line
			}
		}
		select {
		case <-l.changed:
		case <-deadline.C:
			t.Fatalf("no log line with %q within %s; log:\n%s", parts, waitFor, l.String())
		}
	}
}

// width is a screen row's width in cells.
func width(row string) int { return ansi.StringWidth(row) }

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
