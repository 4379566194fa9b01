package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/pairdeck/pairdeck/internal/atomicfile"
	"github.com/pairdeck/pairdeck/internal/statefile"
)

// readError explains a policy file that exists but cannot be read; a
// refusal by internal/statefile says what to do already.
func readError(path string, err error) error {
	if errors.Is(err, statefile.ErrUnsafe) {
		return err
	}
	return fmt.Errorf("read %s: %w", path, err)
}

// File names inside the policy dir (<state>/pairdeck).
const (
	FileName       = "policy.json"
	lockName       = "policy.lock"
	AccessFileName = "access.json"
)

// Dir is where a state dir keeps its policy files.
func Dir(stateDir string) string { return filepath.Join(stateDir, "pairdeck") }

// Path is policy.json in dir.
func Path(dir string) string { return filepath.Join(dir, FileName) }

// maxPolicyBytes bounds what is read of policy.json: thousands of rules.
const maxPolicyBytes = 1 << 20

// Load reads policy.json (through internal/statefile: no link followed, a
// regular file, at most maxPolicyBytes). A missing file is the Default
// policy; a file that does not parse or breaks a rule is a *CorruptError.
func Load(path string) (Policy, error) {
	data, err := statefile.Read(path, maxPolicyBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return Default(), nil
	}
	if err != nil {
		return Policy{}, readError(path, err)
	}
	return parse(path, data)
}

func parse(path string, data []byte) (Policy, error) {
	var p Policy
	if err := decodeStrict(path, data, &p); err != nil {
		return Policy{}, err
	}
	if p.Version == 0 {
		return Policy{}, corruptAt(path, data, 0, fmt.Sprintf(`"version" is missing (write "version": %d)`, Version))
	}
	valid, err := p.Validate()
	if err != nil {
		off := offsetOf(data, "version")
		if re, ok := errors.AsType[*RuleError](err); ok {
			off = offsetOf(data, "autoApprove", "rules", re.Index)
			err = fmt.Errorf("rule %d: %w", re.Index+1, re.Err)
		}
		return Policy{}, corruptAt(path, data, off, err.Error())
	}
	if valid.AutoApprove.Rules == nil {
		valid.AutoApprove.Rules = []Rule{}
	}
	return valid, nil
}

// Save validates p and writes it to path atomically.
func Save(path string, p Policy) error {
	valid, err := p.Validate()
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(valid, "", "  ")
	if err != nil {
		return fmt.Errorf("encode policy: %w", err)
	}
	return atomicfile.Write(path, append(data, '\n'))
}

// lockWait bounds how long Edit waits for another editor.
const lockWait = 5 * time.Second

// Edit changes policy.json in dir under policy.lock: it loads the file
// (refusing a corrupt one), applies change, and saves the result. Edits
// from concurrent commands are applied one after the other, never lost.
func Edit(ctx context.Context, dir string, change func(*Policy) error) (Policy, error) {
	if err := statefile.EnsureDir(dir, nil); err != nil {
		return Policy{}, err
	}
	// The lock file is opened as every state file is: a link in its place
	// is refused, never followed (a lock that followed one would create or
	// lock whatever it points at).
	lockPath := filepath.Join(dir, lockName)
	lock, err := statefile.AcquireLock(ctx, lockPath, lockWait, nil)
	if errors.Is(err, statefile.ErrLockHeld) {
		return Policy{}, fmt.Errorf("another pairdeck command is editing the policy (%s is locked); retry in a moment", lockPath)
	}
	if err != nil {
		return Policy{}, err
	}
	defer lock.Release()

	path := Path(dir)
	p, err := Load(path)
	if err != nil {
		return Policy{}, err
	}
	if err := change(&p); err != nil {
		return Policy{}, err
	}
	if err := Save(path, p); err != nil {
		return Policy{}, err
	}
	return Load(path)
}

// Watcher serves the current policy.json to a long-running reader,
// re-reading it when it changes on disk, so edits take effect without a
// restart.
type Watcher struct {
	path string

	mu      sync.Mutex
	stamp   fileStamp
	current Policy
	err     error
}

type fileStamp struct {
	exists  bool
	size    int64
	modTime time.Time
	info    os.FileInfo
}

func (a fileStamp) same(b fileStamp) bool {
	if a.exists != b.exists {
		return false
	}
	if !a.exists {
		return true
	}
	return a.size == b.size && a.modTime.Equal(b.modTime) && os.SameFile(a.info, b.info)
}

// NewWatcher loads path once; a corrupt file is an error, so a gateway can
// refuse to start on it.
func NewWatcher(path string) (*Watcher, error) {
	w := &Watcher{path: path}
	st, err := stat(path)
	if err != nil {
		return nil, err
	}
	p, err := Load(path)
	if err != nil {
		return nil, err
	}
	w.stamp, w.current = st, p
	return w, nil
}

// Path is the file watched.
func (w *Watcher) Path() string { return w.path }

// Current returns the policy in force. When the file changed since the last
// call it is read again; changed reports that. A file that became unusable
// yields the Default policy (auto-approval off: failing closed) and the
// error, until it is fixed.
func (w *Watcher) Current() (p Policy, changed bool, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	st, err := stat(w.path)
	if err != nil {
		return Default(), false, err
	}
	if st.same(w.stamp) {
		if w.err != nil {
			return Default(), false, w.err
		}
		return w.current, false, nil
	}
	w.stamp = st
	p, err = Load(w.path)
	if err != nil {
		w.err = err
		return Default(), true, err
	}
	w.current, w.err = p, nil
	return p, true, nil
}

func stat(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fileStamp{}, nil
	}
	if err != nil {
		return fileStamp{}, fmt.Errorf("stat %s: %w", path, err)
	}
	return fileStamp{exists: true, size: fi.Size(), modTime: fi.ModTime(), info: fi}, nil
}
