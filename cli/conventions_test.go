package cli_test

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCommandLineConventions: version, "did you mean", a completion shell
// that does not exist, URLs without a scheme, wss:// against a plain
// gateway.
func TestCommandLineConventions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.ok("version")
	if want := "pairdeck 0.1.0-dev (" + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH; !strings.HasPrefix(r.stdout, want) {
		t.Errorf("version: %q, want it to start with %q", r.stdout, want)
	}
	var v struct {
		Version  string `json:"version"`
		Commit   string `json:"commit"`
		Go       string `json:"go"`
		OS       string `json:"os"`
		Arch     string `json:"arch"`
		Protocol int    `json:"protocol"`
	}
	e.okJSON(&v, "version")
	if v.Version != "0.1.0-dev" || v.Go != runtime.Version() || v.Protocol != 3 {
		t.Errorf("version --json: %+v", v)
	}

	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"sevre"}, []string{`unknown command "sevre" for "pairdeck"`, `did you mean "serve"?`}},
		{[]string{"nodes", "pendnig"}, []string{`unknown command "pendnig" for "pairdeck nodes"`, `did you mean "pending"?`}},
		{[]string{"node", "conect"}, []string{`did you mean "connect"?`}},
		{[]string{"completion", "tcsh"}, []string{`no completion script for "tcsh"`, "bash, fish, powershell, zsh"}},
		{[]string{"nodes", "pending", "--url", "127.0.0.1:41020"}, []string{`--url "127.0.0.1:41020": want a WebSocket URL such as ws://127.0.0.1:41020`}},
		{[]string{"nodes", "pending", "--url", "http://127.0.0.1:41020"}, []string{"use ws://127.0.0.1:41020"}},
		{[]string{"console", "--url", "gw.example.net:18789"}, []string{"ws://gw.example.net:18789"}},
		{[]string{"node", "pair", "--name", "x", "--url", "127.0.0.1:41020"}, []string{"ws://127.0.0.1:41020"}},
	} {
		checkFailure(t, e.run(tc.args...), 2, tc.want...)
	}
	checkFailure(t, e.runEnv([]string{"OPENCLAW_GATEWAY_URL=127.0.0.1:9"}, "nodes", "status"), 2, `$OPENCLAW_GATEWAY_URL "127.0.0.1:9"`, "ws://127.0.0.1:9")

	// wss:// to a gateway without TLS: said so, with the URL to use.
	g := e.serve()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(g.url, "ws://"))
	wss := "wss://127.0.0.1:" + port
	checkFailure(t, e.runEnv([]string{"OPENCLAW_GATEWAY_TOKEN=" + g.token}, "nodes", "pending", "--url", wss), 1,
		"the gateway at "+wss+" does not speak TLS", "use ws://127.0.0.1:"+port)
	r = e.run("node", "pair", "--name", "x", "--url", wss, "--node-dir", t.TempDir())
	if r.code != 1 || !strings.Contains(r.stderr, "does not speak TLS") {
		t.Errorf("node pair over wss:// to a plain gateway:\n%s", r)
	}

	// Plurals: one refusal is "1 time".
	dir := t.TempDir()
	pr := e.pair("door", "--node-dir", dir)
	e.ok("nodes", "block", "--node", "door")
	pr.exits(1)
	e.run("node", "pair", "--name", "door", "--node-dir", dir)
	if r := e.ok("nodes", "unblock", "--node", "door"); !strings.Contains(r.stdout, "(refused 1 time while blocked)") {
		t.Errorf("unblock: %q", r.stdout)
	}
}

// TestWatchOnATerminal: --watch prints readable lines on a terminal, as
// kubectl get -w does, and NDJSON with --json (TestWatch covers the pipe).
func TestWatchOnATerminal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.serve()
	old := e.pair("Old Kiosk", "--wait", "1s")
	old.exits(124)
	w := e.startTTY(120, "nodes", "pending", "--watch")
	fp := regexp.QuoteMeta(old.pending.Fingerprint)
	w.waitFor(`^\d\d:\d\d:\d\d  waiting    ` + old.pending.RequestID[:8] + `  Old Kiosk  ` + fp + ` · 127\.0\.0\.1 · ` + runtime.GOOS + ` · expires in 4:[0-5]\d$`)
	pr := e.pair("Kitchen Display")
	w.waitFor(`  requested  ` + pr.pending.RequestID[:8] + `  Kitchen Display  ` + regexp.QuoteMeta(pr.pending.Fingerprint))
	e.ok("nodes", "approve", "kitchen display")
	w.waitFor(`  approved   ` + pr.pending.RequestID[:8] + `  Kitchen Display  by `)
	e.ok("nodes", "reject", old.pending.RequestID[:8])
	w.waitFor(`  rejected   ` + old.pending.RequestID[:8] + `  Old Kiosk  by `)
	e.ok("nodes", "rename", "--node", "kitchen display", "--name", "Kitchen")
	w.waitFor(`  renamed    ` + `          Kitchen Display  now "Kitchen"`)
	if strings.Contains(w.text(), "{") {
		t.Errorf("watch on a terminal printed JSON:\n%s", w.text())
	}
	w.cmd.Process.Signal(syscall.SIGINT)
	<-w.done

	// --json on a terminal: NDJSON.
	e.pair("Hallway Echo")
	j := e.startTTY(120, "nodes", "pending", "--watch", "--json")
	j.waitFor(`^\{"event":"node.pair.requested","payload":\{.*"snapshot":true`)
}

// TestWatchPipedPrintsRows: piped without --json, --watch prints the same
// readable lines as on a terminal (as kubectl get -w does), whole rather
// than cut to a width; NDJSON comes only with --json (TestWatch).
func TestWatchPipedPrintsRows(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.serve()
	old := e.pair("Old Kiosk", "--wait", "1s")
	old.exits(124)
	w := e.start("nodes", "pending", "--watch")
	fp := regexp.QuoteMeta(old.pending.Fingerprint)
	first := w.next()
	if !regexp.MustCompile(`^\d\d:\d\d:\d\d  waiting    ` + old.pending.RequestID[:8] + `  Old Kiosk  ` + fp + ` · 127\.0\.0\.1 · ` + runtime.GOOS + ` · expires in 4:[0-5]\d$`).MatchString(first) {
		t.Errorf("first piped line %q", first)
	}
	long := strings.Repeat("Conference Room Display ", 5)
	pr := e.pair(strings.TrimSpace(long))
	if l := w.waitLine("  requested  "); !strings.Contains(l, pr.pending.RequestID[:8]+"  "+strings.TrimSpace(long)+"  ") || strings.Contains(l, "…") {
		t.Errorf("piped requested line is not whole: %q", l)
	}
	e.ok("nodes", "approve", pr.pending.RequestID)
	if l := w.waitLine("  approved   "); !strings.Contains(l, pr.pending.RequestID[:8]) || !strings.Contains(l, " by ") {
		t.Errorf("approved line %q", l)
	}
	w.signal(syscall.SIGINT)
	w.exits(130)
	if strings.Contains(w.String(), `{"event"`) {
		t.Errorf("piped --watch without --json printed JSON:\n%s", w)
	}
}

// TestHangUpShutsDownCleanly: SIGHUP (the SSH session or tmux pane went
// away) stops the embedded console's gateway and serve as ctrl+c does:
// gateway.json is removed and the state dir is free for the next gateway.
func TestHangUpShutsDownCleanly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	runtimeFile := filepath.Join(e.stateDir, "pairdeck", "gateway.json")
	c := e.startTTY(100, "--listen", "127.0.0.1:0")
	c.waitFor(`embedded`)
	eventually(t, "the embedded gateway announces itself", func() bool {
		_, err := os.Stat(runtimeFile)
		return err == nil
	})
	c.cmd.Process.Signal(syscall.SIGHUP)
	select {
	case <-c.done:
	case <-time.After(cmdTimeout):
		t.Fatalf("the console did not exit on SIGHUP:\n%s", c.text())
	}
	if _, err := os.Stat(runtimeFile); !os.IsNotExist(err) {
		t.Errorf("gateway.json left behind after SIGHUP: %v", err)
	}

	g := e.serve()
	g.signal(syscall.SIGHUP)
	g.exits(0)
	if _, err := os.Stat(runtimeFile); !os.IsNotExist(err) {
		t.Errorf("serve left gateway.json behind after SIGHUP: %v", err)
	}
	e.serve().stop() // the state dir is free
}
