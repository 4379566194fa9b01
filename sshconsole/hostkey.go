package sshconsole

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	gossh "golang.org/x/crypto/ssh"

	"github.com/pairdeck/pairdeck/internal/atomicfile"
	"github.com/pairdeck/pairdeck/internal/statefile"
)

// HostKeyFile is where the server's host key lives in a state dir.
func HostKeyFile(stateDir string) string {
	return filepath.Join(stateDir, "pairdeck", "ssh_host_ed25519_key")
}

// Bounds on the files read as keys: an OpenSSH private key is a few
// hundred bytes, an authorized key up to about a kilobyte; a path given by
// mistake (a log) must not be read whole.
const (
	maxHostKeyBytes        = 64 << 10
	maxAuthorizedKeysBytes = 1 << 20
)

// LoadOrCreateHostKey reads the host key at path, or generates an Ed25519
// key there (0600, in a 0700 dir) when there is none, so clients see the
// same host key after a restart. It is read as pairdeck reads its state
// files (internal/statefile): no link followed, bounded, a mode others
// could read tightened to 0600 (log is told).
func LoadOrCreateHostKey(path string, log *slog.Logger) (gossh.Signer, error) {
	signer, err := readHostKey(path, log)
	if !errors.Is(err, fs.ErrNotExist) {
		return signer, err
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate SSH host key: %w", err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "pairdeck ssh console")
	if err != nil {
		return nil, fmt.Errorf("encode SSH host key: %w", err)
	}
	if err := atomicfile.Create(path, pem.EncodeToMemory(block)); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("write SSH host key %s: %w", path, err)
	}
	// Read back what is on disk: if another process created the key first,
	// its key is the one to serve with.
	return readHostKey(path, log)
}

func readHostKey(path string, log *slog.Logger) (gossh.Signer, error) {
	if err := statefile.CheckDir(filepath.Dir(path), true, log); err != nil {
		return nil, err
	}
	data, err := statefile.ReadPrivate(path, maxHostKeyBytes, log)
	if err != nil {
		return nil, err
	}
	signer, err := gossh.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("SSH host key %s: %w (move it aside to have a new one generated; clients will then see a new host key)", path, err)
	}
	return signer, nil
}

// readAuthorizedKeysFile reads the operators' keys: a regular file of a
// sensible size. Unlike a state file it may be a link (dotfile managers
// link ~/.ssh/authorized_keys), and it is checked to be a regular file
// before it is opened, so a FIFO there cannot hang a sign-in.
func readAuthorizedKeysFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxAuthorizedKeysBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxAuthorizedKeysBytes {
		return nil, fmt.Errorf("%s is larger than %d KiB: not an authorized keys file", path, maxAuthorizedKeysBytes>>10)
	}
	return data, nil
}
