package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/policy"
	"github.com/pairdeck/pairdeck/protocol"
)

// logBuffer collects a gateway's log lines for a test to look at.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func TestOnRequestHookGetsNewRequestsAsJSON(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "hook.sh")
	// Each run appends its stdin and environment to the log, one run per line.
	os.WriteFile(script, []byte(`#!/bin/sh
line=$(cat)
printf '%s\t%s\t%s\n' "$line" "$PAIRDECK_REQUEST_ID" "$PAIRDECK_NODE_NAME" >> "`+dir+`/runs"
`), 0o700)
	h := newHarness(t, noRateLimit, func(o *harnessOpts) { o.cfg.OnRequest = script })
	op := h.operator()

	first := op.request(protocol.PairRequestParams{NodeID: "n1", NodeMeta: protocol.NodeMeta{DisplayName: "Garage Pi", Platform: "linux"}})
	op.request(protocol.PairRequestParams{NodeID: "n1", NodeMeta: protocol.NodeMeta{DisplayName: "Garage Pi 2"}}) // a refresh: no run
	_, _, nodeReq := asks(t, h, false)
	// An automatically approved request waits for nobody: no run.
	setRules(t, h, true, policy.Rule{Name: "lo", Loopback: true})
	_, n, auto := asks(t, h, true)
	n.event(protocol.EventPairResolved)

	waitForRuns(t, filepath.Join(dir, "runs"), 2)
	time.Sleep(waitShort) // a wrong third run would show up by now
	runs := waitForRuns(t, filepath.Join(dir, "runs"), 2)
	if len(runs) != 2 {
		t.Fatalf("want 2 runs, got %d: %q", len(runs), runs)
	}
	for i, want := range []protocol.PendingRequest{first.Request, nodeReq} {
		fields := strings.Split(runs[i], "\t")
		var got protocol.PendingRequest
		dec := json.NewDecoder(strings.NewReader(fields[0]))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("stdin is not a pending request: %v\n%s", err, fields[0])
		}
		if got.RequestID != want.RequestID || got.NodeID != want.NodeID || got.ExpiresAtMs == 0 || fields[1] != want.RequestID {
			t.Errorf("run %d: %+v (env id %q), want request %s", i, got, fields[1], want.RequestID)
		}
	}
	if name := strings.Split(runs[0], "\t")[2]; name != "Garage Pi" {
		t.Errorf("PAIRDECK_NODE_NAME=%q", name)
	}
	for _, r := range runs {
		if strings.Contains(r, auto.RequestID) {
			t.Errorf("the hook ran for an automatically approved request: %s", r)
		}
	}
}

func waitForRuns(t *testing.T, path string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	for {
		data, _ := os.ReadFile(path)
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		if len(data) > 0 && len(lines) >= n {
			return lines
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d hook runs after %s: %q", len(lines), n, waitLong, data)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestHungHookIsKilledWithoutDelayingTheGateway(t *testing.T) {
	dir := t.TempDir()
	logs := &logBuffer{}
	// The shell records its pid (the process group) and hangs in a child.
	hook := fmt.Sprintf(`echo $$ >> %s/pids; sleep 60`, dir)
	h := newHarness(t, noRateLimit, func(o *harnessOpts) {
		o.cfg.OnRequest = hook
		o.cfg.OnRequestTimeout = 500 * time.Millisecond
		o.cfg.Logger = logs.logger()
	})
	op := h.operator()
	start := time.Now()
	for i := range 20 {
		t0 := time.Now()
		op.request(protocol.PairRequestParams{NodeID: fmt.Sprintf("n%d", i)})
		if d := time.Since(t0); d > 2*time.Second {
			t.Fatalf("request %d took %s while the hook hung", i, d)
		}
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("20 requests took %s while the hook hung", d)
	}
	// The first run is killed after its timeout, process group and all.
	waitFor(t, func() bool { return strings.Contains(logs.String(), "process group was killed") })
	data, _ := os.ReadFile(filepath.Join(dir, "pids"))
	pgid, err := strconv.Atoi(strings.Fields(string(data))[0])
	if err != nil {
		t.Fatalf("pids file: %q", data)
	}
	waitFor(t, func() bool { return groupGone(pgid) })
}

// groupGone reports whether no live process is left in a process group
// (zombies waiting for a parent to reap them count as gone).
func groupGone(pgid int) bool {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return true // no /proc to look in: trust the log line
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces, so split
		// after its closing parenthesis.
		rest := stat[bytes.LastIndexByte(stat, ')')+1:]
		f := strings.Fields(string(rest))
		if len(f) >= 3 && f[2] == strconv.Itoa(pgid) && f[0] != "Z" && pid != os.Getpid() {
			return false
		}
	}
	return true
}

func TestFullHookQueueDropsWithALogLine(t *testing.T) {
	logs := &logBuffer{}
	h := newHookRunner("sleep 60", time.Hour, logs.logger(), nil)
	// Nobody runs the queue here: it fills and then drops.
	for i := range hookQueue + 3 {
		h.offer(protocol.PendingRequest{RequestID: fmt.Sprintf("r%d", i)})
	}
	if got := strings.Count(logs.String(), "not announced"); got != 3 {
		t.Fatalf("%d drops logged, want 3:\n%s", got, logs)
	}
	if !strings.Contains(logs.String(), "request=r"+strconv.Itoa(hookQueue)) {
		t.Fatalf("the drop must name the request:\n%s", logs)
	}
}

// The on-request command is a notifier: it gets the request, never the
// gateway's secrets, under their own names or copied under others.
func TestHookRunsWithoutTheGatewaysSecrets(t *testing.T) {
	const operatorToken = "hook-test-operator-token-0123456789"
	t.Setenv(EnvToken, operatorToken)
	t.Setenv(EnvPassword, "openclaw-password")
	t.Setenv("MY_GATEWAY_TOKEN_COPY", operatorToken)
	t.Setenv("GATEWAY_AUTH_FROM_CONFIG", "named-by-the-caller")
	t.Setenv("NTFY_TOPIC", "kept-for-the-notifier")
	dir := t.TempDir()
	h := newHarness(t, func(o *harnessOpts) {
		o.cfg.OperatorToken = operatorToken
		o.cfg.SecretEnv = []string{"GATEWAY_AUTH_FROM_CONFIG"}
		o.cfg.OnRequest = "env > " + dir + "/env.tmp && mv " + dir + "/env.tmp " + dir + "/env && echo done >> " + dir + "/runs"
	})
	w := h.dial()
	if res := w.connect(w.connectParams(nil, h.now(), connectOpts{token: operatorToken})); !res.OK {
		t.Fatalf("operator: %v", res.Error)
	}
	r := w.request(protocol.PairRequestParams{NodeID: "n1", NodeMeta: protocol.NodeMeta{DisplayName: "Garage Pi"}})
	waitForRuns(t, filepath.Join(dir, "runs"), 1)
	data, err := os.ReadFile(filepath.Join(dir, "env"))
	if err != nil {
		t.Fatal(err)
	}
	env := string(data)
	for _, secret := range []string{operatorToken, "openclaw-password", "named-by-the-caller", EnvToken + "=", EnvPassword + "="} {
		if strings.Contains(env, secret) {
			t.Errorf("the hook's environment holds %q:\n%s", secret, env)
		}
	}
	for _, want := range []string{"NTFY_TOPIC=kept-for-the-notifier", "PAIRDECK_REQUEST_ID=" + r.Request.RequestID, "PAIRDECK_NODE_NAME=Garage Pi", "PATH="} {
		if !strings.Contains(env, want) {
			t.Errorf("the hook's environment lacks %q", want)
		}
	}
}
