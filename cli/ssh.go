package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/pairdeck/pairdeck/gateway"
	"github.com/pairdeck/pairdeck/sshconsole"
)

// sshFlags configure the console a gateway serves over SSH.
type sshFlags struct {
	addr           string
	authorizedKeys string
}

func (f *sshFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.addr, "ssh", "", "also serve the console over SSH on this address (a bare port is on loopback: 2222 = 127.0.0.1:2222)")
	fl.StringVar(&f.authorizedKeys, "ssh-authorized-keys", "", "public keys that may open the console over SSH (default ~/.ssh/authorized_keys of the user running pairdeck)")
}

// listenAddr resolves --ssh: "" when not given; a bare port is on
// loopback; anything else must be host:port (":2222" is every interface,
// as for --listen).
func (f *sshFlags) listenAddr() (string, error) {
	v := strings.TrimSpace(f.addr)
	if v == "" {
		if f.authorizedKeys != "" {
			return "", usageError("--ssh-authorized-keys needs --ssh ADDR: it says who may open the console over SSH")
		}
		return "", nil
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 || n > 65535 {
			return "", usageError("--ssh %q: want a port between 1 and 65535, or host:port", v)
		}
		return net.JoinHostPort("127.0.0.1", v), nil
	}
	_, port, err := net.SplitHostPort(v)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
		return "", usageError("--ssh %q: want host:port (for example 127.0.0.1:2222) or a port", v)
	}
	return v, nil
}

// checkSSHBind applies the WebSocket listener's rule to the SSH one:
// serving beyond loopback is confirmed by choosing the operator token
// yourself, which says the gateway is meant to be reached from elsewhere.
func checkSSHBind(addr string, tokenExplicit bool) error {
	if addr == "" || gateway.CheckBind(addr, tokenExplicit) == nil {
		return nil
	}
	return usageError("refusing to serve the console over SSH on %s with a generated operator token: exposing the gateway beyond this machine "+
		"is confirmed the same way for SSH as for --listen, by choosing the operator token yourself (--token-file FILE, or $%s); "+
		"or serve SSH on loopback (--ssh PORT)", addr, gateway.EnvToken)
}

// sshConsole is the SSH server of a running gateway.
type sshConsole struct {
	srv  *sshconsole.Server
	ln   net.Listener
	done chan error
}

// newSSHConsole reads (or makes) the host key, reads the authorized keys
// and listens on addr; serve then accepts connections.
func newSSHConsole(stateDir string, f *sshFlags, addr string, gw *gateway.Gateway, gatewayURL string, logger *slog.Logger) (*sshConsole, error) {
	keysPath := f.authorizedKeys
	if keysPath == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("--ssh: no home directory to find ~/.ssh/authorized_keys in (%v): pass --ssh-authorized-keys FILE", err)
		}
		keysPath = filepath.Join(home, ".ssh", "authorized_keys")
	}
	hostKey, err := sshconsole.LoadOrCreateHostKey(sshconsole.HostKeyFile(stateDir), logger)
	if err != nil {
		return nil, err
	}
	srv, err := sshconsole.New(sshconsole.Config{
		Gateway:        gw,
		HostKey:        hostKey,
		AuthorizedKeys: keysPath,
		Logger:         logger,
		GatewayURL:     gatewayURL,
		Version:        Version,
	})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, errAddrInUse) {
			return nil, fmt.Errorf("cannot serve SSH on %s: the address is in use; pick another port with --ssh", addr)
		}
		return nil, fmt.Errorf("cannot serve SSH on %s: %w", addr, err)
	}
	logger.Info("console served over SSH", "addr", ln.Addr().String(), "hostKey", srv.HostKeyFingerprint(), "authorizedKeys", keysPath)
	return &sshConsole{srv: srv, ln: ln, done: make(chan error, 1)}, nil
}

// Addr is where the SSH server listens.
func (c *sshConsole) Addr() string { return c.ln.Addr().String() }

func (c *sshConsole) serve(logger *slog.Logger) {
	go func() {
		err := c.srv.Serve(c.ln)
		if err != nil {
			logger.Error("ssh server stopped", "err", err)
		}
		c.done <- err
	}()
}

// stop ends every SSH session (each console shows the gateway's shutdown
// first) and closes the listener.
func (c *sshConsole) stop(ctx context.Context) error {
	return c.srv.Shutdown(ctx)
}

// close releases the listener of a server that never served.
func (c *sshConsole) close() { c.ln.Close() }
