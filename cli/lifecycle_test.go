package cli_test

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/charmbracelet/x/vt"
	"github.com/creack/pty"
)

// screenProc is pairdeck on a pty read through a terminal emulator, so a
// test sees the screen a person would, and types as they would.
type screenProc struct {
	t    *testing.T
	cmd  *exec.Cmd
	pty  *os.File
	mu   sync.Mutex
	emu  *vt.Emulator
	done chan struct{}
	code int
}

func (e *env) startScreen(w, h int, args ...string) *screenProc {
	e.t.Helper()
	p := &screenProc{t: e.t, cmd: exec.Command(pairdeckBin, args...), emu: vt.NewEmulator(w, h), done: make(chan struct{})}
	p.cmd.Env = append(e.environ(nil), "TERM=xterm-256color", "NO_COLOR=1")
	f, err := pty.StartWithSize(p.cmd, &pty.Winsize{Cols: uint16(w), Rows: uint16(h)})
	if err != nil {
		e.t.Fatal(err)
	}
	p.pty = f
	// The emulator answers the program's queries, as a terminal does.
	go io.Copy(f, p.emu)
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := f.Read(buf)
			if n > 0 {
				p.mu.Lock()
				p.emu.Write(buf[:n])
				p.mu.Unlock()
			}
			if err != nil {
				break
			}
		}
		err := p.cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			p.code = ee.ExitCode()
		}
		close(p.done)
	}()
	e.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
		f.Close()
	})
	return p
}

// screen is the emulator's screen, one string per row.
func (p *screenProc) screen() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	rows := make([]string, p.emu.Height())
	for y := range rows {
		var b strings.Builder
		for x := 0; x < p.emu.Width(); x++ {
			c := p.emu.CellAt(x, y)
			switch {
			case c == nil:
				b.WriteByte(' ')
			case c.Width == 0:
			case c.Content == "":
				b.WriteByte(' ')
			default:
				b.WriteString(c.Content)
			}
		}
		rows[y] = strings.TrimRight(b.String(), " ")
	}
	return strings.Join(rows, "\n")
}

// waitScreen waits until the screen shows every one of want.
func (p *screenProc) waitScreen(want ...string) {
	p.t.Helper()
	eventually(p.t, "the screen shows "+strings.Join(want, ", "), func() bool {
		s := p.screen()
		for _, w := range want {
			if !strings.Contains(s, w) {
				return false
			}
		}
		return true
	})
}

// press types keys, a moment apart: an escape followed at once by a
// letter reads as alt+letter.
func (p *screenProc) press(keys ...string) {
	p.t.Helper()
	for _, k := range keys {
		if _, err := p.pty.Write([]byte(k)); err != nil {
			p.t.Fatalf("type %q: %v", k, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// exits waits for the process and checks its exit code.
func (p *screenProc) exits(code int) {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(cmdTimeout):
		p.t.Fatalf("pairdeck did not exit within %s; screen:\n%s", cmdTimeout, p.screen())
	}
	if p.code != code {
		p.t.Fatalf("exit %d, want %d; screen:\n%s", p.code, code, p.screen())
	}
}

// running reports whether the process has not ended.
func (p *screenProc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// runtimeURL waits for the gateway running for e's state dir and returns
// its URL.
func (e *env) runtimeURL() string {
	e.t.Helper()
	var url string
	eventually(e.t, "a gateway announces itself in gateway.json", func() bool {
		data, err := os.ReadFile(filepath.Join(e.stateDir, "pairdeck", "gateway.json"))
		var rt struct {
			URL string `json:"url"`
		}
		if err != nil || json.Unmarshal(data, &rt) != nil {
			return false
		}
		url = rt.URL
		return url != ""
	})
	return url
}

func (e *env) runtimeGone() bool {
	_, err := os.Stat(filepath.Join(e.stateDir, "pairdeck", "gateway.json"))
	return errors.Is(err, os.ErrNotExist)
}

// Quitting the embedded console while another operator is attached asks
// first (issue 14 item 8). Staying changes nothing; "keep serving" closes
// the console and leaves the gateway serving them — closing the terminal
// does not stop it — until the last one has left, then it stops cleanly.
func TestQuitWithOthersAttachedCanKeepTheGatewayServing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.startScreen(100, 30, "--listen", "127.0.0.1:0")
	url := e.runtimeURL()
	c.waitScreen("embedded · " + url)

	watch := e.start("nodes", "pending", "--watch")
	watch.next() // attached
	c.press("q")
	c.waitScreen("Quit? 1 other operator uses this console's gateway", "from 127.0.0.1", "k keep it serving them")
	c.press("\x1b")
	c.waitScreen("? help")
	if strings.Contains(c.screen(), "Quit?") || !c.running() {
		t.Fatalf("esc: the dialog stays or the console quit:\n%s", c.screen())
	}

	c.press("q", "k")
	c.waitScreen("keeps serving 1 operator", "It stops when the last one has left")
	if e.runtimeGone() {
		t.Fatal("gateway.json removed while the gateway still serves")
	}
	// The terminal goes away: it keeps serving.
	c.cmd.Process.Signal(syscall.SIGHUP)
	time.Sleep(300 * time.Millisecond) // nothing to wait for: the point is that nothing happens
	if !c.running() || e.runtimeGone() {
		t.Fatalf("SIGHUP stopped a gateway left serving:\n%s", c.screen())
	}
	// The other operator still has it: a node's request reaches it.
	pair := e.pair("still-served")
	watch.waitLine("still-served")
	_ = pair

	watch.signal(syscall.SIGINT)
	watch.wait()
	c.exits(0)
	if !e.runtimeGone() {
		t.Error("gateway.json left behind once the last operator left")
	}
}

// Or it stops the gateway for everyone, as quitting did before — with a
// second ctrl+c as well as s.
func TestQuitWithOthersAttachedCanStopTheGateway(t *testing.T) {
	t.Parallel()
	for _, keys := range [][]string{{"q", "s"}, {"\x03", "\x03"}} {
		e := newEnv(t)
		c := e.startScreen(100, 30, "--listen", "127.0.0.1:0")
		url := e.runtimeURL()
		c.waitScreen("embedded · " + url)
		watch := e.start("nodes", "pending", "--watch")
		watch.next()
		c.press(keys[0])
		c.waitScreen("Quit? 1 other operator uses this console's gateway")
		c.press(keys[1])
		c.exits(0)
		if !e.runtimeGone() {
			t.Errorf("%q: gateway.json left behind", keys)
		}
		// Alone, q quits at once.
		e = newEnv(t)
		alone := e.startScreen(100, 30, "--listen", "127.0.0.1:0")
		alone.waitScreen("embedded · " + e.runtimeURL())
		alone.press("q")
		alone.exits(0)
	}
}
