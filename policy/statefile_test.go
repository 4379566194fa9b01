//go:build unix

package policy

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/internal/statefile"
)

// policy.json and access.json are read like every other state file
// (internal/statefile): no link followed, no FIFO waited on, bounded.
func TestPolicyFilesAreReadSafely(t *testing.T) {
	within := func(t *testing.T, f func() error) error {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- f() }()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("reading the file hung")
			return nil
		}
	}
	loaders := map[string]func(dir string) error{
		FileName:       func(dir string) error { _, err := Load(Path(dir)); return err },
		AccessFileName: func(dir string) error { _, err := OpenAccess(dir); return err },
	}
	for name, load := range loaders {
		t.Run(name+" link to /dev/zero", func(t *testing.T) {
			dir := t.TempDir()
			os.Symlink("/dev/zero", filepath.Join(dir, name))
			if err := within(t, func() error { return load(dir) }); !errors.Is(err, statefile.ErrSymlink) {
				t.Fatalf("%v, want a refusal of the link", err)
			}
		})
		t.Run(name+" FIFO", func(t *testing.T) {
			dir := t.TempDir()
			syscall.Mkfifo(filepath.Join(dir, name), 0o600)
			if err := within(t, func() error { return load(dir) }); !errors.Is(err, statefile.ErrNotRegular) {
				t.Fatalf("%v, want a refusal of the FIFO", err)
			}
		})
		t.Run(name+" too large", func(t *testing.T) {
			dir := t.TempDir()
			f, _ := os.Create(filepath.Join(dir, name))
			f.Truncate(64 << 20)
			f.Close()
			if err := within(t, func() error { return load(dir) }); !errors.Is(err, statefile.ErrTooLarge) {
				t.Fatalf("%v, want a refusal of the size", err)
			}
		})
	}
}

// policy.lock is a state file too: a link in its place is refused, and
// what it points at is neither created nor touched.
func TestPolicyLockLinkIsRefused(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "elsewhere")
	os.Symlink(target, filepath.Join(dir, lockName))
	_, err := Edit(t.Context(), dir, func(p *Policy) error { p.AutoApprove.Enabled = true; return nil })
	if !errors.Is(err, statefile.ErrSymlink) {
		t.Fatalf("%v, want a refusal of the link", err)
	}
	if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the link's target was created: %v", err)
	}
	if _, err := os.Stat(Path(dir)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the policy was written despite the refused lock: %v", err)
	}
}
