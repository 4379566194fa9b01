package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pairdeck/pairdeck/gateway"
)

// Launcher says how to start `pairdeck serve` as a child process: Path and
// Args (e.g. ["serve"]) come first, then the harness's own flags. Env is
// added to the harness's environment.
type Launcher struct {
	Path string
	Args []string
	Env  []string
}

// Bounds on a child gateway's life: it must announce itself quickly, and
// it must stop when asked.
const (
	startTimeout = 30 * time.Second
	stopTimeout  = 10 * time.Second
)

// child is a gateway running in its own process, so that its memory is
// its own and not the load generator's.
type child struct {
	cmd      *exec.Cmd
	stateDir string
	url      string
	token    string
	stderr   *tailBuffer
	waitErr  chan error
}

// serveOptions are the flags a child gateway is started with.
type serveOptions struct {
	stateDir   string
	token      string
	maxPending int
	ttl        time.Duration
}

// startChild runs `pairdeck serve` on stateDir, listening on a free
// loopback port, and waits until it has written its runtime file.
func startChild(ctx context.Context, l Launcher, o serveOptions) (*child, error) {
	if l.Path == "" {
		return nil, errors.New("no gateway launcher: set Options.Gateway (the pairdeck binary and its serve command)")
	}
	args := append(append([]string(nil), l.Args...),
		"--state-dir", o.stateDir,
		"--listen", "127.0.0.1:0",
		"--token", o.token,
		"--max-pending", strconv.Itoa(o.maxPending),
		"--ttl", o.ttl.String(),
		"--log-level", "warn",
	)
	cmd := exec.Command(l.Path, args...)
	// The child must not pick up a token, port or state dir from the
	// caller's environment: the flags above say everything.
	cmd.Env = append(filteredEnv(), l.Env...)
	stderr := &tailBuffer{max: 16 << 10}
	cmd.Stdout = stderr
	cmd.Stderr = stderr
	cmd.WaitDelay = stopTimeout
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start gateway %s: %w", l.Path, err)
	}
	c := &child{cmd: cmd, stateDir: o.stateDir, token: o.token, stderr: stderr, waitErr: make(chan error, 1)}
	go func() { c.waitErr <- cmd.Wait() }()

	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		rt, err := gateway.ReadRuntime(o.stateDir)
		if err == nil && rt.PID == cmd.Process.Pid && rt.URL != "" {
			c.url = rt.URL
			return c, nil
		}
		select {
		case err := <-c.waitErr:
			return nil, fmt.Errorf("gateway exited before it was ready (%v): %s", err, stderr.String())
		case <-deadline.C:
			c.kill()
			return nil, fmt.Errorf("gateway did not write %s within %s: %s", gateway.RuntimeFile(o.stateDir), startTimeout, stderr.String())
		case <-ctx.Done():
			c.kill()
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

func filteredEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case gateway.EnvToken, gateway.EnvPort, "OPENCLAW_STATE_DIR", "OPENCLAW_GATEWAY_URL":
			continue
		}
		env = append(env, kv)
	}
	return env
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// stop asks the gateway to shut down (SIGTERM) and waits for it; a child
// that does not stop in time is killed.
func (c *child) stop() error {
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		c.kill()
		return err
	}
	select {
	case err := <-c.waitErr:
		if err != nil {
			return fmt.Errorf("gateway exited with %v: %s", err, c.stderr.String())
		}
		return nil
	case <-time.After(stopTimeout):
		c.kill()
		return fmt.Errorf("gateway did not stop within %s; killed", stopTimeout)
	}
}

func (c *child) kill() {
	_ = c.cmd.Process.Kill()
}

// procStatus reads fields of /proc/<pid>/status in kB.
func procStatus(pid int) (rssKB, hwmKB int64, err error) {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, 0, fmt.Errorf("read memory of gateway process %d: %w (RSS is read from /proc: Linux only)", pid, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(fields[0], 10, 64)
		switch k {
		case "VmRSS":
			rssKB = n
		case "VmHWM":
			hwmKB = n
		}
	}
	if rssKB == 0 {
		return 0, 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
	}
	return rssKB, hwmKB, nil
}

// rssMB is the child's resident set now, in MB (MiB, as the kernel counts).
func (c *child) rssMB() (float64, error) {
	rss, _, err := procStatus(c.pid())
	return float64(rss) / 1024, err
}

// hwmMB is the child's peak resident set, in MB.
func (c *child) hwmMB() (float64, error) {
	_, hwm, err := procStatus(c.pid())
	return float64(hwm) / 1024, err
}

// writtenBytes is what the child has passed to write(2) so far (wchar in
// /proc/<pid>/io), or -1 where the kernel does not say.
func (c *child) writtenBytes() int64 {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(c.pid()), "io"))
	if err != nil {
		return -1
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "wchar:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// cpuTime is the CPU time (user and system) the child has used so far,
// or -1 where /proc does not say. The kernel counts it in ticks of 10 ms
// (USER_HZ 100), so it is for totals over many calls, not single ones.
func (c *child) cpuTime() time.Duration {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(c.pid()), "stat"))
	if err != nil {
		return -1
	}
	// The command name (field 2) may hold spaces; fields are counted
	// after its closing parenthesis.
	_, rest, ok := strings.Cut(string(data), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return -1
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// tailBuffer keeps the last max bytes written to it: the end of a child's
// log is what explains a failure.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}
