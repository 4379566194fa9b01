package store

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/pairdeck/pairdeck/internal/statefile"
)

// Names inside StateDir/nodes.
const (
	pendingFile = "pending.json"
	pairedFile  = "paired.json"
	auditFile   = "audit.jsonl"
	lockFile    = ".lock"
	// tempPrefix marks the store's own half-written files; whatever a crash
	// leaves behind under it is removed at Open (under the lock).
	tempPrefix = ".tmp-"
)

// fileImage is a state file's content as last made durable; the store falls
// back to it when a write fails.
type fileImage struct {
	data   []byte
	exists bool
	info   fs.FileInfo // of the file read (a read-only store compares it)
}

// maxStateFileBytes bounds what is read of pending.json and paired.json:
// far above 100,000 records of the largest size the wire allows for a
// typical fleet, far below what would exhaust memory. A variable so tests
// can lower it.
var maxStateFileBytes int64 = 128 << 20

// readStateFile reads a state file (internal/statefile: no link followed,
// a regular file, bounded, mode tightened to 0600); a missing file is an
// empty image.
func (s *Store) readStateFile(path string) (fileImage, error) {
	data, info, err := s.readFile(path, maxStateFileBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return fileImage{}, nil
	}
	if err != nil {
		return fileImage{}, readError(path, err)
	}
	return fileImage{data: data, exists: true, info: info}, nil
}

// readFile reads one of the store's files, bounded: tightening a loose
// mode, or (read-only) reporting it.
func (s *Store) readFile(path string, limit int64) ([]byte, fs.FileInfo, error) {
	if s.readOnly {
		return statefile.ReadUnchanged(path, limit, 0o600, s.log)
	}
	data, err := statefile.ReadPrivate(path, limit, s.log)
	return data, nil, err
}

// tempFile is a state file's new content, written and fsynced under a
// temp name in the same dir, waiting to be renamed over the real one.
type tempFile struct {
	name string // pending.json or paired.json
	tmp  string
}

// prepareFile writes data to a fresh temp file (mode 0600) and fsyncs it.
// Nothing the store reads has changed yet; on error the temp is removed.
func (s *Store) prepareFile(name string, data []byte) (tf tempFile, err error) {
	path := filepath.Join(s.dir, name)
	f, err := os.CreateTemp(s.dir, tempPrefix+name+"-*")
	if err != nil {
		return tempFile{}, writeError(path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := s.fault(name); err != nil {
		return tempFile{}, writeError(path, err)
	}
	if _, err := f.Write(data); err != nil {
		return tempFile{}, writeError(path, err)
	}
	if err := f.Sync(); err != nil {
		return tempFile{}, writeError(path, err)
	}
	s.stats.syncs.Add(1)
	if err := f.Close(); err != nil {
		return tempFile{}, writeError(path, err)
	}
	return tempFile{name: name, tmp: f.Name()}, nil
}

// install renames a prepared temp file over the real one. The caller
// fsyncs the dir once for all files of a commit.
func (s *Store) install(tf tempFile) error {
	path := filepath.Join(s.dir, tf.name)
	if err := s.fault("rename " + tf.name); err != nil {
		return writeError(path, err)
	}
	if err := os.Rename(tf.tmp, path); err != nil {
		return writeError(path, err)
	}
	s.stats.fileWrites.Add(1)
	return nil
}

func (tf tempFile) discard() { os.Remove(tf.tmp) }

// syncDir makes renames in the nodes dir durable.
func (s *Store) syncDir() error {
	if err := s.fault("dir"); err != nil {
		return writeError(s.dir, err)
	}
	if err := s.dirFile.Sync(); err != nil {
		return writeError(s.dir, err)
	}
	s.stats.syncs.Add(1)
	return nil
}

// fault is the test seam for I/O failures; nil in production.
func (s *Store) fault(stage string) error {
	if f := s.faultHook.Load(); f != nil && *f != nil {
		return (*f)(stage)
	}
	return nil
}

// removeStaleTemps deletes temp files a crashed writer left behind.
func removeStaleTemps(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix) && e.Type().IsRegular() {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// syncPath fsyncs a directory by path (after creating entries in it).
func syncPath(path string) error {
	d, err := os.Open(path)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
