package sshconsole

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	gossh "golang.org/x/crypto/ssh"

	"github.com/pairdeck/pairdeck/internal/atomicfile"
)

// HostKeyFile is where the server's host key lives in a state dir.
func HostKeyFile(stateDir string) string {
	return filepath.Join(stateDir, "pairdeck", "ssh_host_ed25519_key")
}

// Bounds on the files read as keys: an OpenSSH private key is a few
// hundred bytes, an authorized key up to about a kilobyte; a path given by
// mistake (a log, a device) must not be read whole.
const (
	maxHostKeyBytes        = 64 << 10
	maxAuthorizedKeysBytes = 1 << 20
)

// LoadOrCreateHostKey reads the host key at path, or generates an Ed25519
// key there (0600, in a 0700 dir) when there is none, so clients see the
// same host key after a restart. A key others can read is refused, as sshd
// refuses one: it would let them pose as this server.
func LoadOrCreateHostKey(path string) (gossh.Signer, error) {
	signer, err := readHostKey(path)
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
	return readHostKey(path)
}

func readHostKey(path string) (gossh.Signer, error) {
	data, err := readKeyFile(path, maxHostKeyBytes, false)
	if err != nil {
		return nil, err
	}
	signer, err := gossh.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("SSH host key %s: %w (remove it to have a new one generated)", path, err)
	}
	return signer, nil
}

// readKeyFile reads a regular file of at most limit bytes. Unless
// followLinks, a symbolic link is refused (the host key is ours, in our
// state dir: a link there was not put by us), and so is a file group or
// others can read.
func readKeyFile(path string, limit int64, followLinks bool) ([]byte, error) {
	if !followLinks {
		fi, err := os.Lstat(path)
		if err != nil {
			return nil, err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return nil, fmt.Errorf("%s is a symbolic link; pairdeck keeps its SSH host key in a plain file (remove the link)", path)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if !followLinks && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("SSH host key %s is readable by others (mode %04o): run chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d KiB: not a key file", path, limit>>10)
	}
	return data, nil
}
