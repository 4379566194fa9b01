package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFlagValuesThatCannotWork: a value outside its range exits 2 naming
// the range, instead of silently becoming a default; nothing is started or
// written.
func TestFlagValuesThatCannotWork(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--ttl", "0"}, "--ttl 0s: want a duration from 1s to 24h"},
		{[]string{"serve", "--ttl", "-5s"}, "--ttl -5s: want a duration from 1s to 24h"},
		{[]string{"serve", "--ttl", "1ms"}, "--ttl 1ms: want a duration from 1s to 24h"},
		{[]string{"serve", "--ttl", "25h"}, "--ttl 25h: want a duration from 1s to 24h"},
		{[]string{"serve", "--max-pending", "0"}, "--max-pending 0: want a number from 1 to 1048576"},
		{[]string{"serve", "--pairing", "maybe"}, `--pairing "maybe": want on or off`},
		{[]string{"console", "--ttl", "0"}, "--ttl 0s"},
		{[]string{"--ttl", "1ms"}, "--ttl 1ms"},
		{[]string{"demo", "--ttl", "0"}, "--ttl 0s"},
		{[]string{"demo", "--nodes", "9"}, "--nodes 9: want a number from 0 to 8"},
		{[]string{"demo", "--every", "0"}, "--every 0s: want a duration from 100ms to 1h"},
		{[]string{"node", "pair", "--name", "x", "--wait", "-1s"}, "--wait -1s: want 0"},
	} {
		checkFailure(t, e.run(tc.args...), 2, tc.want)
	}
	if ents, _ := os.ReadDir(e.stateDir); len(ents) != 0 {
		t.Errorf("refused flags wrote to the state dir: %v", ents)
	}
}

// TestFlagsThatCannotApply: a console that attaches to a gateway refuses
// the flags that configure one it would start, saying why.
func TestFlagsThatCannotApply(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.run("console", "--url", "ws://127.0.0.1:1", "--ttl", "30s", "--on-request", "true")
	checkFailure(t, r, 2, "--ttl, --on-request configure a gateway this console starts", "attaches to the gateway at ws://127.0.0.1:1 (--url)", "pairdeck serve")
	r = e.runEnv([]string{"OPENCLAW_GATEWAY_URL=ws://127.0.0.1:1"}, "console", "--max-pending", "9")
	checkFailure(t, r, 2, "--max-pending configures", "($OPENCLAW_GATEWAY_URL)")
	g := e.serve()
	r = e.run("--listen", "127.0.0.1:0")
	checkFailure(t, r, 2, "--listen configures", "attaches to the gateway at "+g.url, fmt.Sprintf("pid %d", g.cmd.Process.Pid))

	// demo --help offers only what the demo uses, with its own defaults.
	h := e.ok("demo", "--help").stdout
	for _, gone := range []string{"--token", "--max-pending", "--pairing", "--on-request", "--auto-approve-silent", "OPENCLAW_STATE_DIR"} {
		if strings.Contains(h, gone) {
			t.Errorf("demo --help offers %s, which the demo does not use:\n%s", gone, h)
		}
	}
	for _, want := range []string{`(default "127.0.0.1:0")`, "(default 1m30s)", "(default 6)", "temporary dir, removed on exit"} {
		if !strings.Contains(h, want) {
			t.Errorf("demo --help lacks %q:\n%s", want, h)
		}
	}
}

// TestConsoleNeedsATerminal: the full-screen console is refused on a pipe
// and on TERM=dumb, pointing at the commands that work there.
func TestConsoleNeedsATerminal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, args := range [][]string{{}, {"console"}, {"demo"}} {
		r := e.run(args...)
		checkFailure(t, r, 2, "its output is not a terminal", "pairdeck serve", "pairdeck nodes pending --watch")
		tty := e.runTTYEnv(80, []string{"TERM=dumb"}, args...)
		if tty.code != 2 || !strings.Contains(tty.out, "TERM=dumb") || !strings.Contains(tty.out, "pairdeck nodes pending --watch") {
			t.Errorf("console with TERM=dumb:\n%s", tty)
		}
	}
	if _, err := os.Stat(filepath.Join(e.stateDir, "nodes")); !os.IsNotExist(err) {
		t.Errorf("a refused console started a gateway: %v", err)
	}
}

// TestServeSaysHowItStarts: the start line gives the TTL, the address, the
// state dir and where the token came from, never the token.
func TestServeSaysHowItStarts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.serve("--ttl", "90s")
	g.stop()
	log := g.stderr.String()
	want := regexp.MustCompile(`msg="gateway listening" listen=127\.0\.0\.1:\d+ url=ws://127\.0\.0\.1:\d+ stateDir=` +
		regexp.QuoteMeta(e.stateDir) + ` ttl=1m30s maxPending=1024 token="generated into ` + regexp.QuoteMeta(filepath.Join(e.stateDir, "pairdeck", "gateway.token")) + `"`)
	if !want.MatchString(log) || strings.Contains(log, g.token) {
		t.Errorf("start line:\n%s", log)
	}
	g = e.serve()
	g.stop()
	if !strings.Contains(g.stderr.String(), "token="+filepath.Join(e.stateDir, "pairdeck", "gateway.token")) {
		t.Errorf("second start names the token file:\n%s", g.stderr.String())
	}
	srv := newEnv(t).startEnv([]string{"OPENCLAW_GATEWAY_TOKEN=from-env"}, "serve", "--listen", "127.0.0.1:0")
	eventually(t, "serve names the environment as its token's source", func() bool {
		return strings.Contains(srv.stderr.String(), "token=$OPENCLAW_GATEWAY_TOKEN")
	})
	if strings.Contains(srv.stderr.String(), "from-env") {
		t.Errorf("serve logged the token:\n%s", srv.stderr.String())
	}
	srv.signal(syscall.SIGINT)
	srv.exits(0)
}

// TestServeWaitsForTheLock: an offline command holding the state dir's
// lock for a moment does not make serve fail; a gateway holding it is
// named at once.
func TestServeWaitsForTheLock(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dir := filepath.Join(e.stateDir, "nodes")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	released := time.Now().Add(time.Second)
	go func() {
		time.Sleep(time.Until(released))
		f.Close()
	}()
	g := e.serve()
	if time.Now().Before(released) {
		t.Errorf("serve started while the lock was held")
	}
	r := e.run("serve", "--listen", "127.0.0.1:0")
	checkFailure(t, r, 1, "a gateway already serves "+e.stateDir, fmt.Sprintf("pid %d", g.cmd.Process.Pid), g.url)
	g.stop()
}

// TestServeRefusesAStateDirItCannotWrite: a nodes/ dir it cannot write is
// refused at start, saying what to do, instead of failing every decision.
func TestServeRefusesAStateDirItCannotWrite(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.serve().stop() // a state dir as a gateway leaves it
	nodes := filepath.Join(e.stateDir, "nodes")
	if os.Getuid() == 0 {
		// Modes do not stop root: make the dir another user's, and run
		// pairdeck as that user... who cannot write to a dir left 0500.
		e.asUser(t, 65534)
	}
	if err := os.Chmod(nodes, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(nodes, 0o700) })
	r := e.run("serve", "--listen", "127.0.0.1:0")
	checkFailure(t, r, 1, "cannot be written: "+nodes, "permission denied", "chmod 700 "+nodes)
	if _, err := os.Stat(filepath.Join(e.stateDir, "pairdeck", "gateway.json")); !os.IsNotExist(err) {
		t.Errorf("a refused gateway announced itself: %v", err)
	}
}
