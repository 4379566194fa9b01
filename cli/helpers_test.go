package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// The tests run the real binary, built once, as a user or a script would:
// a gateway child process per test on a temporary state dir, every command
// a subprocess whose stdout, stderr and exit code are checked.

var pairdeckBin string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	flag.Parse()
	// The tests spend their time waiting on child processes and on the
	// gateway's timers (--wait, --ttl), not on CPU: unless told otherwise,
	// run more of them at once than -parallel's default of GOMAXPROCS.
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		flag.Set("test.parallel", strconv.Itoa(max(8, runtime.GOMAXPROCS(0))))
	}
	dir, err := os.MkdirTemp("", "pairdeck-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	// Reachable by other users too (tests that run it as another user).
	if err := os.Chmod(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	pairdeckBin = filepath.Join(dir, "pairdeck")
	build := exec.Command("go", "build", "-o", pairdeckBin, "github.com/pairdeck/pairdeck")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build pairdeck:", err)
		return 1
	}
	return m.Run()
}

// Bounds: generous for a loaded CI machine, still far below the test
// timeout, so a hang fails with a message rather than a panic dump.
const (
	cmdTimeout  = 20 * time.Second
	lineTimeout = 10 * time.Second
)

// env is one user's world: a state dir, a home, and environment variables.
type env struct {
	t        *testing.T
	stateDir string
	home     string
	vars     []string
	// uid, when not 0, is the user pairdeck runs as (see asUser).
	uid int
}

// asUser makes the commands e runs run as uid, owning the state dir and
// home: the tests run as root in CI, and root is exempt from the file
// modes some tests need to be enforced.
func (e *env) asUser(t *testing.T, uid int) {
	t.Helper()
	for _, dir := range []string{e.stateDir, e.home} {
		if err := os.Chmod(filepath.Dir(dir), 0o755); err != nil {
			t.Fatal(err)
		}
		err := filepath.Walk(dir, func(path string, _ os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(path, uid, uid)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	e.uid = uid
}

// setUser applies e's uid to cmd.
func (e *env) setUser(cmd *exec.Cmd) {
	if e.uid != 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(e.uid), Gid: uint32(e.uid)}}
	}
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return &env{t: t, stateDir: t.TempDir(), home: t.TempDir()}
}

// environ is the child's environment: the test's own minus anything that
// could point it at a real gateway or state dir.
func (e *env) environ(extra []string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "OPENCLAW_") || strings.HasPrefix(kv, "HOME=") {
			continue
		}
		out = append(out, kv)
	}
	out = append(out, "HOME="+e.home, "OPENCLAW_STATE_DIR="+e.stateDir)
	out = append(out, e.vars...)
	return append(out, extra...)
}

// result is a finished command.
type result struct {
	args           []string
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("pairdeck %s\nexit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// run runs pairdeck to completion.
func (e *env) run(args ...string) result {
	e.t.Helper()
	return e.runEnv(nil, args...)
}

// runEnv runs pairdeck with extra KEY=VALUE variables (they win).
func (e *env) runEnv(extra []string, args ...string) result {
	e.t.Helper()
	return e.runFull(nil, extra, args...)
}

// runStdin runs pairdeck with stdin read from a pipe holding stdin.
func (e *env) runStdin(stdin string, args ...string) result {
	e.t.Helper()
	return e.runFull(strings.NewReader(stdin), nil, args...)
}

func (e *env) runFull(stdin io.Reader, extra []string, args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, pairdeckBin, args...)
	cmd.Env = e.environ(extra)
	cmd.Stdin = stdin
	e.setUser(cmd)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{args: args, stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		e.t.Fatalf("run pairdeck %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		e.t.Fatalf("pairdeck %s did not finish within %s\n%s", strings.Join(args, " "), cmdTimeout, r)
	}
	return r
}

// ok runs pairdeck and fails the test unless it exits 0 with nothing on
// stderr.
func (e *env) ok(args ...string) result {
	e.t.Helper()
	r := e.run(args...)
	if r.code != 0 || r.stderr != "" {
		e.t.Fatalf("want exit 0 and a quiet stderr:\n%s", r)
	}
	return r
}

// fails runs pairdeck and checks the exit code, an empty stdout and one
// "pairdeck: …" line on stderr containing every want.
func (e *env) fails(code int, want []string, args ...string) result {
	e.t.Helper()
	r := e.run(args...)
	checkFailure(e.t, r, code, want...)
	return r
}

func checkFailure(t *testing.T, r result, code int, want ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("want exit %d:\n%s", code, r)
	}
	if r.stdout != "" {
		t.Errorf("stdout must stay clean on failure:\n%s", r)
	}
	checkErrLine(t, r.stderr, want...)
}

// checkErrLine checks that stderr is one "pairdeck: …" line containing
// every want. (An ambiguity error lists its candidates on indented lines.)
func checkErrLine(t *testing.T, stderr string, want ...string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	if !strings.HasPrefix(lines[0], "pairdeck: ") || !strings.HasSuffix(stderr, "\n") {
		t.Errorf("stderr is not a \"pairdeck: …\" line: %q", stderr)
	}
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l, "  ") {
			t.Errorf("stderr has more than one message line: %q", stderr)
		}
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr %q does not mention %q", stderr, w)
		}
	}
}

// okJSON runs pairdeck --json and decodes its stdout into v, rejecting
// fields v does not know so schema drift shows up here.
func (e *env) okJSON(v any, args ...string) result {
	e.t.Helper()
	r := e.ok(append(args, "--json")...)
	decodeStrict(e.t, r.stdout, v)
	return r
}

func decodeStrict(t *testing.T, s string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, s)
	}
	if dec.More() {
		t.Fatalf("more than one JSON value on stdout:\n%s", s)
	}
}

// proc is a long-running pairdeck (serve, watch, node pair/connect).
type proc struct {
	t      *testing.T
	args   []string
	cmd    *exec.Cmd
	lines  chan string
	mu     sync.Mutex
	stdout bytes.Buffer
	stderr lockedBuffer
	done   chan struct{}
	code   int
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// start runs pairdeck in the background; stdout is read line by line. The
// process is killed at the end of the test if it is still running.
func (e *env) start(args ...string) *proc {
	e.t.Helper()
	return e.startEnv(nil, args...)
}

func (e *env) startEnv(extra []string, args ...string) *proc {
	e.t.Helper()
	return e.startFull(nil, extra, args...)
}

func (e *env) startFull(stdin io.Reader, extra []string, args ...string) *proc {
	e.t.Helper()
	p := &proc{t: e.t, args: args, lines: make(chan string, 4096), done: make(chan struct{})}
	p.cmd = exec.Command(pairdeckBin, args...)
	p.cmd.Env = e.environ(extra)
	p.cmd.Stdin = stdin
	p.cmd.Stderr = &p.stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.stdout.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			p.lines <- sc.Text()
		}
		close(p.lines)
		err := p.cmd.Wait()
		var ee *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &ee):
			p.code = ee.ExitCode()
		default:
			p.code = -1
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
	})
	return p
}

func (p *proc) String() string {
	p.mu.Lock()
	out := p.stdout.String()
	p.mu.Unlock()
	return fmt.Sprintf("pairdeck %s\nstdout:\n%s\nstderr:\n%s", strings.Join(p.args, " "), out, p.stderr.String())
}

// next returns the next stdout line, failing the test after lineTimeout or
// if the process ends first.
func (p *proc) next() string {
	p.t.Helper()
	select {
	case l, ok := <-p.lines:
		if !ok {
			<-p.done
			p.t.Fatalf("pairdeck exited (%d) before printing the expected line\n%s", p.code, p)
		}
		return l
	case <-time.After(lineTimeout):
		p.t.Fatalf("no output line within %s\n%s", lineTimeout, p)
	}
	return ""
}

// waitLine skips stdout lines until one contains want, and returns it.
func (p *proc) waitLine(want string) string {
	p.t.Helper()
	for {
		if l := p.next(); strings.Contains(l, want) {
			return l
		}
	}
}

// nextJSON decodes the next stdout line into v, strictly.
func (p *proc) nextJSON(v any) string {
	p.t.Helper()
	l := p.next()
	decodeStrict(p.t, l, v)
	return l
}

func (p *proc) signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %v: %v", sig, err)
	}
}

// wait returns the exit code once the process ends.
func (p *proc) wait() int {
	p.t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(cmdTimeout):
		p.t.Fatalf("pairdeck did not exit within %s\n%s", cmdTimeout, p)
	}
	return 0
}

// exits waits for the process and checks its exit code.
func (p *proc) exits(code int) {
	p.t.Helper()
	if got := p.wait(); got != code {
		p.t.Fatalf("want exit %d, got %d\n%s", code, got, p)
	}
}

// rest drains stdout after the process ended.
func (p *proc) rest() []string {
	p.t.Helper()
	p.wait()
	var out []string
	for l := range p.lines {
		out = append(out, l)
	}
	return out
}

// gw is a `pairdeck serve` child process.
type gw struct {
	*proc
	e     *env
	url   string
	token string
}

// serve starts a gateway on a free loopback port (unless args say
// --listen) and waits until it has announced itself in gateway.json.
func (e *env) serve(args ...string) *gw {
	e.t.Helper()
	if !containsArg(args, "--listen") {
		args = append([]string{"--listen", "127.0.0.1:0"}, args...)
	}
	p := e.start(append([]string{"serve"}, args...)...)
	g := &gw{proc: p, e: e}
	deadline := time.Now().Add(cmdTimeout)
	for {
		var rt struct {
			URL string `json:"url"`
			PID int    `json:"pid"`
		}
		data, err := os.ReadFile(filepath.Join(e.stateDir, "pairdeck", "gateway.json"))
		if err == nil && json.Unmarshal(data, &rt) == nil && rt.PID == p.cmd.Process.Pid {
			g.url = rt.URL
			break
		}
		select {
		case <-p.done:
			e.t.Fatalf("gateway exited (%d) before announcing itself\n%s", p.code, p)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("gateway.json not written within %s\n%s", cmdTimeout, p)
		}
	}
	if containsArg(args, "--token-file") || containsArg(args, "--token") {
		return g // the caller knows the token it gave
	}
	tok, err := os.ReadFile(filepath.Join(e.stateDir, "pairdeck", "gateway.token"))
	if err != nil {
		e.t.Fatalf("operator token: %v", err)
	}
	g.token = strings.TrimSpace(string(tok))
	return g
}

// stop shuts the gateway down with SIGINT and expects a clean exit.
func (g *gw) stop() {
	g.t.Helper()
	g.signal(syscall.SIGINT)
	g.exits(0)
	if _, err := os.Stat(filepath.Join(g.e.stateDir, "pairdeck", "gateway.json")); !errors.Is(err, os.ErrNotExist) {
		g.t.Errorf("gateway.json left behind after a clean stop: %v", err)
	}
}

func containsArg(args []string, name string) bool {
	for _, a := range args {
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}

// pairEvent is one line of `node pair --json`.
type pairEvent struct {
	Event       string `json:"event"`
	RequestID   string `json:"requestId"`
	NodeID      string `json:"nodeId"`
	Fingerprint string `json:"fingerprint"`
	Created     *bool  `json:"created"`
	StateFile   string `json:"stateFile"`
	Error       string `json:"error"`
	// What waits and what to do about it (kind, and for OpenClaw
	// gateways reason).
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
	Hint   string `json:"hint"`
	// Code says why a setup code approved nothing (pending); ByCode that
	// it approved the request (approved).
	Code   *codeRefusalJSON `json:"code"`
	ByCode bool             `json:"byCode"`
}

type codeRefusalJSON struct {
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// pairing is a `node pair --json` in progress.
type pairing struct {
	*proc
	dir     string
	pending pairEvent
}

// pair starts `node pair --json` in a fresh node dir (or dir, when given
// with --node-dir in args) and waits for the pending line.
func (e *env) pair(name string, args ...string) *pairing {
	e.t.Helper()
	dir := ""
	for i, a := range args {
		if a == "--node-dir" && i+1 < len(args) {
			dir = args[i+1]
		}
	}
	if dir == "" {
		dir = e.t.TempDir()
		args = append(args, "--node-dir", dir)
	}
	p := e.start(append([]string{"node", "pair", "--json", "--name", name}, args...)...)
	pr := &pairing{proc: p, dir: dir}
	p.nextJSON(&pr.pending)
	if pr.pending.Event != "pending" || pr.pending.RequestID == "" || len(pr.pending.NodeID) != 64 || pr.pending.Created == nil {
		e.t.Fatalf("bad pending line %+v\n%s", pr.pending, p)
	}
	return pr
}

// pairedNode pairs a node named name and returns its dir, id and token.
func (e *env) pairedNode(name string, args ...string) (dir, nodeID, token string) {
	e.t.Helper()
	pr := e.pair(name, args...)
	e.ok("nodes", "approve", pr.pending.RequestID)
	pr.exits(0)
	st := readNodeState(e.t, pr.dir)
	return pr.dir, st.NodeID, st.Token
}

// nodeState is node.json.
type nodeState struct {
	NodeID      string `json:"nodeId"`
	GatewayURL  string `json:"gatewayUrl"`
	Token       string `json:"token"`
	PairedAtMs  int64  `json:"pairedAtMs"`
	DisplayName string `json:"displayName"`
}

func readNodeState(t *testing.T, dir string) nodeState {
	t.Helper()
	var st nodeState
	data, err := os.ReadFile(filepath.Join(dir, "node.json"))
	if err != nil {
		t.Fatal(err)
	}
	decodeStrict(t, string(data), &st)
	return st
}

// checkMode checks a file's permission bits.
func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s has mode %v, want %v", path, got, want)
	}
}

// eventually polls cond until it holds or lineTimeout passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(lineTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// table is a plain-text table as printed when stdout is not a terminal.
type table struct {
	header []string
	rows   [][]string // cells, split at the header's column starts
}

// parseTable finds the line that starts with the upper-cased headers,
// checks that every following line has its columns at the header's
// offsets (aligned text, not tabs), and splits the cells.
func parseTable(t *testing.T, out string, headers ...string) table {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if strings.Contains(out, "\t") {
		t.Errorf("plain output contains tabs:\n%s", out)
	}
	start := -1
	for i, l := range lines {
		if strings.HasPrefix(l, strings.ToUpper(headers[0])+" ") {
			start = i
			break
		}
	}
	if start < 0 {
		t.Fatalf("no table with headers %q in:\n%s", headers, out)
	}
	head := []rune(lines[start])
	cols := make([]int, len(headers))
	pos := 0
	for i, h := range headers {
		idx := strings.Index(string(head[pos:]), strings.ToUpper(h))
		if idx < 0 {
			t.Fatalf("header %q missing in %q", h, string(head))
		}
		cols[i] = pos + len([]rune(string(head[pos:])[:idx]))
		pos = cols[i] + len([]rune(h))
	}
	tb := table{header: headers}
	for _, l := range lines[start+1:] {
		r := []rune(l)
		if len(r) == 0 || r[0] == ' ' || !strings.Contains(l, "  ") {
			break // the table ended
		}
		var cells []string
		for i, c := range cols {
			if c >= len(r) || (c > 0 && r[c-1] != ' ') || r[c] == ' ' {
				t.Fatalf("column %q not aligned at rune %d in %q\n%s", headers[i], c, l, out)
			}
			end := len(r)
			if i+1 < len(cols) {
				end = cols[i+1]
			}
			cells = append(cells, strings.TrimSpace(string(r[c:end])))
		}
		tb.rows = append(tb.rows, cells)
	}
	return tb
}

// cell is the cell under header h in the row whose first cell is key.
func (tb table) cell(t *testing.T, key, h string) string {
	t.Helper()
	col := -1
	for i, x := range tb.header {
		if x == h {
			col = i
		}
	}
	for _, r := range tb.rows {
		if r[0] == key {
			return r[col]
		}
	}
	t.Fatalf("no row %q in table %q", key, tb.rows)
	return ""
}

// ttyResult is a command run on a terminal: stdout and stderr both went to
// the pty, so out holds them interleaved, with "\n" as the terminal
// shows it ("\r\n" turned back into "\n").
type ttyResult struct {
	args []string
	out  string
	code int
}

func (r ttyResult) String() string {
	return fmt.Sprintf("pairdeck %s (on a terminal)\nexit %d\n%s", strings.Join(r.args, " "), r.code, r.out)
}

// runTTY runs pairdeck to completion with its stdin, stdout and stderr on
// a pseudo-terminal of the given width, as a person at a terminal would.
func (e *env) runTTY(width int, args ...string) ttyResult {
	e.t.Helper()
	return e.runTTYEnv(width, nil, args...)
}

func (e *env) runTTYEnv(width int, extra []string, args ...string) ttyResult {
	e.t.Helper()
	return e.runTTYTyping(width, extra, nil, args...)
}

// typing is a person at the terminal: what they wait to see before each
// line they type.
type typing struct {
	waitFor, line string
}

// runTTYTyping runs pairdeck on a pty and types each line once its prompt
// has shown.
func (e *env) runTTYTyping(width int, extra []string, typed []typing, args ...string) ttyResult {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, pairdeckBin, args...)
	// A common terminal. Nothing here answers terminal queries, so a
	// command that asked the terminal something would stall and fail
	// its check for control bytes.
	env := []string{"TERM=xterm-256color"}
	for _, kv := range e.environ(nil) {
		if !strings.HasPrefix(kv, "COLUMNS=") && !strings.HasPrefix(kv, "LINES=") && !strings.HasPrefix(kv, "TERM=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, extra...)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: uint16(width), Rows: 40})
	if err != nil {
		e.t.Fatalf("start pairdeck on a pty: %v", err)
	}
	defer f.Close()
	var out lockedBuffer
	copied := make(chan struct{})
	go func() {
		// Reading ends with EIO once the child has exited and closed
		// its side.
		io.Copy(&out, f)
		close(copied)
	}()
	for _, ty := range typed {
		eventually(e.t, "the terminal shows "+ty.waitFor, func() bool { return strings.Contains(out.String(), ty.waitFor) })
		f.Write([]byte(ty.line + "\r"))
	}
	err = cmd.Wait()
	<-copied
	r := ttyResult{args: args, out: strings.ReplaceAll(out.String(), "\r\n", "\n")}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		e.t.Fatalf("run pairdeck %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		e.t.Fatalf("pairdeck %s did not finish within %s\n%s", strings.Join(args, " "), cmdTimeout, r)
	}
	return r
}

// ttyProc is a long-running pairdeck on a pty (watch on a terminal).
type ttyProc struct {
	t    *testing.T
	cmd  *exec.Cmd
	out  lockedBuffer
	done chan struct{}
}

// startTTY starts pairdeck on a pty of the given width; it is killed at
// the end of the test if still running.
func (e *env) startTTY(width int, args ...string) *ttyProc {
	e.t.Helper()
	p := &ttyProc{t: e.t, cmd: exec.Command(pairdeckBin, args...), done: make(chan struct{})}
	env := []string{"TERM=xterm-256color"}
	for _, kv := range e.environ(nil) {
		if !strings.HasPrefix(kv, "COLUMNS=") && !strings.HasPrefix(kv, "TERM=") {
			env = append(env, kv)
		}
	}
	p.cmd.Env = env
	f, err := pty.StartWithSize(p.cmd, &pty.Winsize{Cols: uint16(width), Rows: 40})
	if err != nil {
		e.t.Fatal(err)
	}
	go func() {
		io.Copy(&p.out, f)
		p.cmd.Wait()
		f.Close()
		close(p.done)
	}()
	e.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// text is what the terminal has shown so far, with "\r\n" as "\n".
func (p *ttyProc) text() string { return strings.ReplaceAll(p.out.String(), "\r\n", "\n") }

// waitFor waits until the terminal shows a line matching re, and returns it.
func (p *ttyProc) waitFor(re string) string {
	p.t.Helper()
	rx := regexp.MustCompile(re)
	var line string
	eventually(p.t, "the terminal shows /"+re+"/", func() bool {
		for _, l := range strings.Split(p.text(), "\n") {
			if rx.MatchString(l) {
				line = l
				return true
			}
		}
		return false
	})
	return line
}
