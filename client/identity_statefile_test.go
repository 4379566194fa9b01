//go:build unix

package client

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/internal/statefile"
)

// device.json is read like every other state file (internal/statefile).
func TestIdentityIsReadSafely(t *testing.T) {
	for name, setup := range map[string]func(path string){
		"link to /dev/zero": func(path string) { os.Symlink("/dev/zero", path) },
		"link to a file": func(path string) {
			other := filepath.Join(t.TempDir(), "device.json")
			if _, err := LoadOrCreateIdentity(other); err != nil {
				t.Fatal(err)
			}
			os.Symlink(other, path)
		},
		"FIFO": func(path string) { syscall.Mkfifo(path, 0o600) },
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "device.json")
			setup(path)
			done := make(chan error, 1)
			go func() { _, err := LoadOrCreateIdentity(path); done <- err }()
			select {
			case err := <-done:
				if !errors.Is(err, statefile.ErrUnsafe) {
					t.Fatalf("%v, want a refusal", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("loading the identity hung")
			}
		})
	}
}

// node.json is read the same way: a link, a FIFO or /dev/zero is refused
// at once, never followed or waited on.
func TestNodeStateIsReadSafely(t *testing.T) {
	for name, setup := range map[string]func(path string){
		"link to /dev/zero": func(path string) { os.Symlink("/dev/zero", path) },
		"FIFO":              func(path string) { syscall.Mkfifo(path, 0o600) },
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			setup(NodeStatePath(dir))
			done := make(chan error, 1)
			go func() { _, err := LoadNodeState(dir); done <- err }()
			select {
			case err := <-done:
				if !errors.Is(err, statefile.ErrUnsafe) {
					t.Fatalf("%v, want a refusal", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("loading node.json hung")
			}
		})
	}
}
