package cli_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"

	gossh "golang.org/x/crypto/ssh"
)

func TestSSHFlagUsageErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"serve", "--ssh", "nowhere"}, []string{"--ssh", "host:port"}},
		{[]string{"serve", "--ssh", "70000"}, []string{"--ssh", "between 1 and 65535"}},
		{[]string{"serve", "--ssh-authorized-keys", "keys"}, []string{"needs --ssh"}},
	} {
		r := e.run(tc.args...)
		checkFailure(t, r, 2, tc.want...)
	}
	if ents, _ := os.ReadDir(e.stateDir); len(ents) != 0 {
		t.Errorf("usage errors wrote to the state dir: %v", ents)
	}
	// Beyond loopback, SSH needs the confirmation --listen needs: a token
	// chosen by the operator, not generated.
	checkFailure(t, e.run("serve", "--ssh", "0.0.0.0:0"), 2,
		"refusing to serve the console over SSH on 0.0.0.0:0", "OPENCLAW_GATEWAY_TOKEN", "--ssh PORT")
	checkFailure(t, e.run("serve", "--ssh", ":2222"), 2, "over SSH on :2222")
	// With a chosen token it gets as far as the keys: without an
	// authorized_keys file nobody could sign in, so it does not start.
	r := e.runEnv([]string{"OPENCLAW_GATEWAY_TOKEN=a-token-the-operator-chose"}, "serve", "--ssh", "0.0.0.0:0")
	checkFailure(t, r, 1, "authorized keys file "+filepath.Join(e.home, ".ssh", "authorized_keys")+" does not exist", "--ssh-authorized-keys")
	// A console attached to another gateway has no gateway to serve.
	r = e.run("console", "--url", "ws://127.0.0.1:1", "--ssh", "2222")
	checkFailure(t, r, 2, "--ssh configures a gateway this console starts", "ws://127.0.0.1:1 (--url)")
}

// serve --ssh with the default authorized keys (~/.ssh/authorized_keys):
// a key from there opens the console; the host key is made in the state
// dir, private, and the same after a restart; SIGINT ends the session with
// a line saying why.
func TestServeSSH(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	sshDir := filepath.Join(e.home, ".ssh")
	if err := os.MkdirAll(sshDir, 0o700); err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(signer.PublicKey()))) + " ops@example\n"
	if err := os.WriteFile(filepath.Join(sshDir, "authorized_keys"), []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}

	var hostKey gossh.PublicKey
	for run := range 2 {
		g := e.serve("--ssh", "127.0.0.1:0")
		addr := sshAddr(t, g)
		keyFile := filepath.Join(e.stateDir, "pairdeck", "ssh_host_ed25519_key")
		checkMode(t, keyFile, 0o600)
		cfg := &gossh.ClientConfig{User: "ops", Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)}, Timeout: cmdTimeout}
		if run == 0 {
			cfg.HostKeyCallback = func(_ string, _ net.Addr, key gossh.PublicKey) error { hostKey = key; return nil }
		} else {
			cfg.HostKeyCallback = gossh.FixedHostKey(hostKey) // the same host key as before the restart
		}
		c, err := gossh.Dial("tcp", addr, cfg)
		if err != nil {
			t.Fatalf("run %d: dial %s: %v\n%s", run, addr, err, g)
		}
		sess, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		out := &watchedBuffer{}
		sess.Stdout, sess.Stderr = out, out
		if err := sess.RequestPty("xterm-256color", 24, 100, nil); err != nil {
			t.Fatal(err)
		}
		if err := sess.Shell(); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the console over SSH", func() bool { return strings.Contains(out.String(), "Pending 0") })

		g.signal(syscall.SIGINT)
		if err := sess.Wait(); err != nil {
			t.Fatalf("session ended with %v", err)
		}
		g.exits(0)
		if !strings.Contains(out.String(), "pairdeck: the gateway at "+g.url+" shut down, so this console has closed.") {
			t.Fatalf("the session did not say the gateway shut down: %q", out.String())
		}
		c.Close()
	}
}

var sshAddrLine = regexp.MustCompile(`msg="console served over SSH" addr=(\S+)`)

// sshAddr finds where the gateway serves SSH, from its log.
func sshAddr(t *testing.T, g *gw) string {
	t.Helper()
	var addr string
	eventually(t, "the SSH address in the log", func() bool {
		m := sshAddrLine.FindStringSubmatch(g.stderr.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	})
	return addr
}

// watchedBuffer is a buffer written by one goroutine and read by another.
type watchedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *watchedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *watchedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
