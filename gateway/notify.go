package gateway

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

// hookQueue is how many notifications may wait for the on-request command.
// One run at a time keeps a burst of requests from forking a burst of
// processes; beyond the queue, notifications are dropped with a log line.
const hookQueue = 32

// hookOutput is how much of a failed run's output is logged.
const hookOutput = 2 << 10

// hookRunner runs the on-request command, one request at a time, from a
// bounded queue. Offering never blocks the gateway.
type hookRunner struct {
	command string
	timeout time.Duration
	log     *slog.Logger
	queue   chan protocol.PendingRequest
	// secret reports environment variables the command must not see.
	secret func(name, value string) bool
}

func newHookRunner(command string, timeout time.Duration, log *slog.Logger, secret func(name, value string) bool) *hookRunner {
	return &hookRunner{command: command, timeout: timeout, log: log.With("hook", "on-request"),
		queue: make(chan protocol.PendingRequest, hookQueue), secret: secret}
}

// EnvPassword is OpenClaw's gateway password variable: pairdeck does not
// serve password auth, but a hook must not inherit it either.
const EnvPassword = "OPENCLAW_GATEWAY_PASSWORD"

// hookSecret reports the variables the on-request command runs without:
// the gateway's own secret variables, those its caller names
// (Config.SecretEnv), and any whose value holds the operator token, under
// whatever name it was exported. The command is a notifier someone else
// may have written; it needs the request, not the keys to the gateway.
func (g *Gateway) hookSecret(name, value string) bool {
	switch name {
	case EnvToken, EnvPassword:
		return true
	}
	if slices.Contains(g.cfg.SecretEnv, name) {
		return true
	}
	return g.cfg.OperatorToken != "" && strings.Contains(value, g.cfg.OperatorToken)
}

// hookEnv is the environment for one run: this process's, less the
// secrets, plus the request's PAIRDECK_ variables.
func (h *hookRunner) hookEnv(req protocol.PendingRequest) []string {
	env := make([]string, 0, len(os.Environ())+4)
	for _, kv := range os.Environ() {
		name, value, _ := strings.Cut(kv, "=")
		if h.secret != nil && h.secret(name, value) {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"PAIRDECK_REQUEST_ID="+req.RequestID,
		"PAIRDECK_NODE_ID="+req.NodeID,
		"PAIRDECK_NODE_NAME="+req.DisplayName,
		"PAIRDECK_REMOTE_IP="+req.RemoteIP,
	)
}

// notify hands a new request to the on-request command, if there is one.
func (g *Gateway) notify(req protocol.PendingRequest) {
	if g.hook != nil {
		g.hook.offer(req)
	}
}

func (h *hookRunner) offer(req protocol.PendingRequest) {
	select {
	case h.queue <- req:
	default:
		h.log.Warn("on-request command is behind; this request was not announced to it",
			"request", req.RequestID, "node", req.NodeID, "queued", hookQueue)
	}
}

// run serves the queue until stop is closed; a run in progress is killed
// then.
func (h *hookRunner) run(stop <-chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-stop
		cancel()
	}()
	for {
		select {
		case <-stop:
			return
		case req := <-h.queue:
			h.runOne(ctx, req)
		}
	}
}

// runOne runs the command with the request as JSON on stdin, and kills its
// whole process group once the timeout passes, so a hook that hangs (or
// leaves children behind that hang) cannot pile up.
func (h *hookRunner) runOne(ctx context.Context, req protocol.PendingRequest) {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", h.command)
	cmd.Stdin = bytes.NewReader(append(protocol.MustMarshal(req), '\n'))
	cmd.Env = h.hookEnv(req)
	out := &tailBuffer{max: hookOutput}
	cmd.Stdout, cmd.Stderr = out, out
	killGroupOnCancel(cmd)
	// Children that outlive the shell and keep its output open must not
	// keep the runner waiting.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	took := time.Since(start).Round(time.Millisecond)
	switch {
	case err == nil:
		h.log.Debug("on-request command ran", "request", req.RequestID, "took", took)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		h.log.Warn("on-request command timed out; its process group was killed",
			"request", req.RequestID, "after", h.timeout, "output", out.String())
	case ctx.Err() != nil:
		h.log.Info("on-request command stopped: the gateway is shutting down", "request", req.RequestID)
	default:
		h.log.Warn("on-request command failed", "request", req.RequestID, "err", err, "took", took, "output", out.String())
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = b.buf[over:]
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.TrimSpace(string(b.buf))
}
