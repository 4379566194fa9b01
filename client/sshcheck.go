package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"os/user"
	"strings"
	"time"
)

// DefaultSSHCheckTimeout bounds one SSH check, connect and login included.
const DefaultSSHCheckTimeout = 10 * time.Second

// SSHCheck proves that the operator can log into the gateway's host as the
// same user, without a prompt: the check the reference desktop app makes
// before approving a silent request by itself. It runs
//
//	ssh -o BatchMode=yes -o ConnectTimeout=5 -l USER HOST true
//
// so it succeeds only with keys or an agent already in place, and never
// waits for a password or a host-key question.
type SSHCheck struct {
	// Host to log into: the gateway URL's host (see SSHHost), or an alias
	// from ~/.ssh/config.
	Host string
	// User to log in as (the current user when empty). It is passed with
	// -l, so a User line in ~/.ssh/config cannot swap in someone else.
	User string
	// Timeout bounds the whole check (DefaultSSHCheckTimeout when zero).
	Timeout time.Duration
}

// String names the check for messages: "ssh alice@gw.example.net".
func (c SSHCheck) String() string {
	u := c.User
	if u == "" {
		u = currentUser()
	}
	return "ssh " + u + "@" + c.Host
}

// Run makes the check. The error says why it failed in the words ssh used.
func (c SSHCheck) Run(ctx context.Context) error {
	if c.Host == "" || strings.HasPrefix(c.Host, "-") || strings.ContainsAny(c.Host, " \t\r\n") {
		return fmt.Errorf("ssh check: %q is not a host name", c.Host)
	}
	login := c.User
	if login == "" {
		login = currentUser()
	}
	if login == "" {
		return errors.New("ssh check: cannot tell who the current user is")
	}
	bin, err := exec.LookPath("ssh")
	if err != nil {
		return fmt.Errorf("ssh check: no ssh program on PATH: %w", err)
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultSSHCheckTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "-l", login, c.Host, "true")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("%s: no answer within %s", c, timeout)
	}
	why := lastLine(stderr.String())
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if why == "" {
			why = fmt.Sprintf("exit status %d", ee.ExitCode())
		} else {
			why = fmt.Sprintf("exit status %d: %s", ee.ExitCode(), why)
		}
		return fmt.Errorf("%s failed (%s)", c, why)
	}
	return fmt.Errorf("%s: %w", c, err)
}

// SSHHost is the host of a gateway URL, without port or brackets.
func SSHHost(gatewayURL string) (string, error) {
	u, err := url.Parse(gatewayURL)
	if err != nil || u.Hostname() == "" {
		return "", fmt.Errorf("gateway URL %q has no host to check over ssh; pass one with --ssh-host", gatewayURL)
	}
	return u.Hostname(), nil
}

func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
