package cli_test

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/vt"
	"github.com/creack/pty"

	"github.com/pairdeck/pairdeck/client"
	"github.com/pairdeck/pairdeck/protocol"
)

// One operator is one actor: the same approve, reject, block and rename
// show the same actor in audit.jsonl, in the events (`nodes pending --watch
// --json`), in the console's Activity and Blocked views and in `nodes
// history` — from the CLI with a gateway running and offline, and from a
// console, remote or embedded.
func TestOneActorEverywhere(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.serve()
	cli := cliActor(t)

	alpha := e.pair("alpha")
	watch := e.start("nodes", "pending", "--watch", "--json")
	watchLineOf(t, watch, "node.pair.requested") // alpha's, as a snapshot: the watch is on
	e.ok("nodes", "approve", alpha.pending.RequestID)
	alpha.exits(0)
	bravo := e.pair("bravo")
	e.ok("nodes", "reject", "bravo")
	bravo.exits(1)
	charlie := e.pair("charlie")
	e.ok("nodes", "block", "--node", "charlie")
	charlie.exits(1)
	e.ok("nodes", "rename", "--node", "alpha", "--name", "Alpha")

	// The console: remote, on the gateway running for the state dir.
	id, err := client.LoadIdentity(client.IdentityPath(e.stateDir))
	if err != nil {
		t.Fatalf("the CLI's write commands made no operator identity: %v", err)
	}
	user := strings.TrimPrefix(cli, "cli ")
	console := "console " + user + " (" + protocol.Fingerprint(id.DeviceID) + ")"

	c := e.startConsole(200, 40, "console")
	c.waitText("[Pending 0]")
	c.press("\t\t")
	rows := c.waitScreen("Activity read from history", func(rows []string) bool {
		s := strings.Join(rows, "\n")
		return strings.Contains(s, "[Activity") && strings.Contains(s, " Alpha ")
	})
	for _, want := range [][]string{{"approved", "alpha"}, {"rejected", "bravo"}, {"rejected", "charlie"}, {"blocked", "charlie"}, {"renamed", "Alpha"}} {
		if row := onlyRow(t, rows, want...); !strings.Contains(row, cli) {
			t.Errorf("Activity, read from history: %q does not say %q", row, cli)
		}
	}
	c.press("\t\t\t") // Blocked, Codes, then back to Pending

	delta := e.pair("delta")
	c.waitText(" delta ")
	c.press("n")
	c.waitText("› delta")
	c.press(strings.Repeat("\x7f", len("delta")) + "Delta\r")
	c.waitText("Renamed to “Delta”")
	time.Sleep(minOnScreen) // a key decides a request only once it has been in view this long
	c.press("a")
	delta.exits(0)
	echo := e.pair("echo")
	c.waitText(" echo ")
	time.Sleep(minOnScreen)
	c.press("b")
	c.waitText("Block echo?")
	c.press("y")
	c.waitText("block echo, reason (optional)") // pairdeck's gateway keeps one: enter gives none
	c.press("\r")
	echo.exits(1)
	foxtrot := e.pair("foxtrot")
	c.waitText(" foxtrot ")
	time.Sleep(minOnScreen)
	c.press("r")
	c.waitText("reject foxtrot, reason (optional)")
	c.press("\r")
	foxtrot.exits(1)
	c.waitText("Rejected foxtrot")

	c.press("\t\t")
	rows = c.waitScreen("the console's own actions in Activity", func(rows []string) bool {
		s := strings.Join(rows, "\n")
		return strings.Contains(s, "[Activity") && strings.Contains(s, " foxtrot ")
	})
	for _, want := range [][]string{{"renamed", "Delta"}, {"approved", "Delta"}, {"blocked", "echo"}, {"rejected", "echo"}, {"rejected", "foxtrot"}} {
		if row := onlyRow(t, rows, want...); !strings.Contains(row, console) {
			t.Errorf("Activity: %q does not say %q", row, console)
		}
	}
	if s := strings.Join(rows, "\n"); strings.Contains(s, "this console") || strings.Contains(s, "(operator)") {
		t.Errorf("Activity names an actor a second way:\n%s", s)
	}
	c.press("\t")
	rows = c.waitText("[Blocked")
	if row := onlyRow(t, rows, "echo"); !strings.Contains(row, console) {
		t.Errorf("Blocked view: %q does not say %q", row, console)
	}
	if row := onlyRow(t, rows, "charlie"); !strings.Contains(row, cli) {
		t.Errorf("Blocked view: %q does not say %q", row, cli)
	}
	c.press("q")
	c.exits(0)

	// The events.
	want := map[string]string{
		"approved alpha": cli, "rejected bravo": cli, "rejected charlie": cli, "renamed Alpha": cli,
		"renamed Delta": console, "approved Delta": console, "rejected echo": console, "rejected foxtrot": console,
	}
	names := map[string]string{alpha.pending.NodeID: "alpha", bravo.pending.NodeID: "bravo", charlie.pending.NodeID: "charlie",
		delta.pending.NodeID: "Delta", echo.pending.NodeID: "echo", foxtrot.pending.NodeID: "foxtrot"}
	got := map[string]string{}
	for len(got) < len(want) {
		var l watchJSON
		watch.nextJSON(&l)
		var p struct {
			NodeID, Decision, DisplayName, Actor string
		}
		json.Unmarshal(l.Payload, &p)
		switch l.Event {
		case protocol.EventPairResolved:
			got[p.Decision+" "+names[p.NodeID]] = p.Actor
		case protocol.EventNodeRenamed:
			got["renamed "+p.DisplayName] = p.Actor
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("event %s: actor %q, want %q", k, got[k], v)
		}
	}
	watch.signal(os.Interrupt)

	// History through the gateway, and the audit log itself.
	online := historyBy(t, e)
	checkHistoryBy(t, online, want, "online")
	checkAudit(t, e, map[string]protocol.Actor{
		cli:     {Kind: protocol.ActorCLI, ClientID: "cli", Role: protocol.RoleOperator, DeviceID: id.DeviceID, User: user},
		console: {Kind: protocol.ActorConsole, ClientID: "cli", Role: protocol.RoleOperator, DeviceID: id.DeviceID, User: user},
	})

	// Offline: the same person is the same actor.
	g.stop()
	e.ok("nodes", "rename", "--node", "Delta", "--name", "Delta 2")
	e.ok("nodes", "unblock", "--node", "echo")
	offline := historyBy(t, e)
	want["renamed Delta 2"], want["unblocked echo"] = cli, cli
	checkHistoryBy(t, offline, want, "offline")
	checkAudit(t, e, map[string]protocol.Actor{
		cli: {Kind: protocol.ActorCLI, ClientID: "cli", Role: protocol.RoleOperator, DeviceID: id.DeviceID, User: user},
	})

	// The embedded console is the same device as the remote one.
	c = e.startConsole(200, 40)
	c.waitText("embedded")
	golf := e.pair("golf")
	c.waitText(" golf ")
	time.Sleep(minOnScreen)
	c.press("a")
	golf.exits(0)
	c.waitText("Approved golf")
	c.press("q")
	c.exits(0)
	want["approved golf"] = console
	checkHistoryBy(t, historyBy(t, e), want, "embedded")
}

// minOnScreen is how long a request must have been in view before a
// decision key acts on it (the console's rule), with room for a loaded
// machine's frame.
const minOnScreen = 700 * time.Millisecond

// onlyRow is the one screen row holding every want; more than one (the
// same happening shown twice) or none fails the test.
func onlyRow(t *testing.T, rows []string, want ...string) string {
	t.Helper()
	var found []string
	for _, r := range rows {
		all := true
		for _, w := range want {
			all = all && strings.Contains(r, " "+w+" ")
		}
		if all {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d rows show %q (want 1):\n%s", len(found), want, strings.Join(rows, "\n"))
	}
	return found[0]
}

// historyBy is `nodes history --json` as "action name" → by (a node's
// name as the event gives it).
func historyBy(t *testing.T, e *env) map[string]string {
	t.Helper()
	var h historyOut
	e.okJSON(&h, "nodes", "history", "--limit", "0")
	out := map[string]string{}
	for _, ev := range h.Events {
		key := ev.Action + " " + ev.DisplayName
		if _, seen := out[key]; !seen {
			out[key] = ev.By
		}
	}
	return out
}

func checkHistoryBy(t *testing.T, got, want map[string]string, how string) {
	t.Helper()
	for k, v := range want {
		if k == "blocked echo" {
			continue
		}
		if got[k] != v {
			t.Errorf("%s history %s: by %q, want %q (%v)", how, k, got[k], v, got)
		}
	}
	if got["blocked charlie"] == "" || got["blocked echo"] == "" {
		t.Errorf("%s history has no blocks: %v", how, got)
	}
}

// checkAudit checks that every operator's line in audit.jsonl records one
// of the actors (by their form), whole but for the address.
func checkAudit(t *testing.T, e *env, actors map[string]protocol.Actor) {
	t.Helper()
	f, err := os.Open(filepath.Join(e.stateDir, "nodes", "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var line struct {
			Action string         `json:"action"`
			Actor  protocol.Actor `json:"actor"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		if line.Actor.Role != protocol.RoleOperator {
			continue
		}
		form := line.Actor.String()
		want, ok := actors[form]
		if !ok {
			continue
		}
		a := line.Actor
		a.RemoteAddr = ""
		if a != want {
			t.Errorf("audit %s by %s: actor %+v, want %+v", line.Action, form, line.Actor, want)
		}
		seen[form]++
	}
	for form := range actors {
		if seen[form] == 0 {
			t.Errorf("audit.jsonl has no line by %s", form)
		}
	}
}

// vtConsole is the console run on a pseudo-terminal, seen through a
// terminal emulator: what an operator would see.
type vtConsole struct {
	t       *testing.T
	cmd     *exec.Cmd
	pty     *os.File
	mu      sync.Mutex
	emu     *vt.Emulator
	changed chan struct{}
	done    chan struct{}
	code    int
}

func (e *env) startConsole(w, h int, args ...string) *vtConsole {
	e.t.Helper()
	c := &vtConsole{t: e.t, cmd: exec.Command(pairdeckBin, args...), emu: vt.NewEmulator(w, h),
		changed: make(chan struct{}, 1), done: make(chan struct{})}
	env := []string{"TERM=xterm-256color"}
	for _, kv := range e.environ(nil) {
		if !strings.HasPrefix(kv, "COLUMNS=") && !strings.HasPrefix(kv, "LINES=") && !strings.HasPrefix(kv, "TERM=") {
			env = append(env, kv)
		}
	}
	c.cmd.Env = env
	f, err := pty.StartWithSize(c.cmd, &pty.Winsize{Cols: uint16(w), Rows: uint16(h)})
	if err != nil {
		e.t.Fatal(err)
	}
	c.pty = f
	go io.Copy(f, c.emu) // the emulator answers the program's queries
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := f.Read(buf)
			if n > 0 {
				c.mu.Lock()
				c.emu.Write(buf[:n])
				c.mu.Unlock()
				select {
				case c.changed <- struct{}{}:
				default:
				}
			}
			if err != nil {
				break
			}
		}
		c.cmd.Wait()
		c.code = c.cmd.ProcessState.ExitCode()
		f.Close()
		close(c.done)
	}()
	e.t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			c.cmd.Process.Kill()
			<-c.done
		}
	})
	return c
}

func (c *vtConsole) press(keys string) {
	c.t.Helper()
	if _, err := c.pty.Write([]byte(keys)); err != nil {
		c.t.Fatalf("type %q: %v", keys, err)
	}
}

// screen is the emulator's screen, one string per row.
func (c *vtConsole) screen() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	rows := make([]string, c.emu.Height())
	for y := range rows {
		var b strings.Builder
		for x := 0; x < c.emu.Width(); x++ {
			cell := c.emu.CellAt(x, y)
			switch {
			case cell == nil:
				b.WriteByte(' ')
			case cell.Width == 0:
			case cell.Content == "":
				b.WriteByte(' ')
			default:
				b.WriteString(cell.Content)
			}
		}
		rows[y] = strings.TrimRight(b.String(), " ")
	}
	return rows
}

func (c *vtConsole) waitScreen(what string, cond func([]string) bool) []string {
	c.t.Helper()
	deadline := time.NewTimer(lineTimeout)
	defer deadline.Stop()
	for {
		rows := c.screen()
		if cond(rows) {
			return rows
		}
		select {
		case <-c.changed:
		case <-c.done:
			c.t.Fatalf("the console exited (%d) before %s; screen:\n%s", c.code, what, strings.Join(c.screen(), "\n"))
		case <-deadline.C:
			c.t.Fatalf("no %s within %s; screen:\n%s", what, lineTimeout, strings.Join(rows, "\n"))
		}
	}
}

func (c *vtConsole) waitText(s string) []string {
	c.t.Helper()
	return c.waitScreen(strings.TrimSpace(s), func(rows []string) bool { return strings.Contains(strings.Join(rows, "\n"), s) })
}

func (c *vtConsole) exits(code int) {
	c.t.Helper()
	select {
	case <-c.done:
		if c.code != code {
			c.t.Fatalf("console exit %d, want %d; screen:\n%s", c.code, code, strings.Join(c.screen(), "\n"))
		}
	case <-time.After(cmdTimeout):
		c.t.Fatalf("the console did not exit; screen:\n%s", strings.Join(c.screen(), "\n"))
	}
}
