package store

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pairdeck/pairdeck/protocol"
)

// dirState is everything about a state dir a read could change: every
// entry's name, type, mode, size, modification time and content.
func dirState(t testing.TB, root string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		fmt.Fprintf(&b, "%s %v %d %d", rel, fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, " %x", sha256.Sum256(data))
		}
		b.WriteString("\n")
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return b.String()
}

func openReadOnly(t testing.TB, stateDir string, clk *fakeClock, log *slog.Logger) *Store {
	t.Helper()
	s, err := Open(Options{StateDir: stateDir, Now: clk.Now, ReadOnly: true, Logger: log})
	if err != nil {
		t.Fatalf("read-only open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// seedStore makes a state dir with paired nodes, pending requests, a
// rename and history, some in the checkpoints and some in the journal
// only, and returns it still open.
func seedStore(t *testing.T) (*Store, *fakeClock, map[string]string) {
	t.Helper()
	s, clk := openTest(t)
	tokens := map[string]string{}
	for _, id := range []string{"a", "b"} {
		tokens[id] = pairNode(t, s, id)
	}
	checkpoint(t, s)
	tokens["c"] = pairNode(t, s, "c")
	mustRequest(t, s, RequestInput{NodeID: "d", NodeMeta: protocol.NodeMeta{DisplayName: "D", Platform: "linux"}})
	mustRequest(t, s, RequestInput{NodeID: "a"}) // a re-pair
	if err := s.Rename(ctx, operator, "b", "Bee"); err != nil {
		t.Fatal(err)
	}
	return s, clk, tokens
}

// TestReadOnlyOpenReadsEverythingAndWritesNothing: the state a read-only
// store shows is the writer's, checkpoints and journal alike; it changes
// nothing in the dir (no lock file, no probe, no audit line, no segment,
// no mode), and refuses every change with ErrReadOnly.
func TestReadOnlyOpenReadsEverythingAndWritesNothing(t *testing.T) {
	w, clk, tokens := seedStore(t)
	want := w.AppendListJSON(nil)
	// The writer holds the lock: a reader needs none.
	assertSameState(t, want, openReadOnly(t, w.stateDir, clk, nil))
	// After it stopped, and without its lock file, none is made.
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(w.dir, lockFile))
	before := dirState(t, w.stateDir)

	ro := openReadOnly(t, w.stateDir, clk, nil)
	assertSameState(t, want, ro)
	for id, tok := range tokens {
		if _, ok := ro.Verify(id, tok); !ok {
			t.Errorf("token of %s does not verify read-only", id)
		}
	}
	page, err := ro.History(protocol.HistoryQuery{})
	if err != nil || len(page.Events) == 0 {
		t.Fatalf("history: %d events, %v", len(page.Events), err)
	}
	req, _ := ro.PendingForNode("d")
	changes := map[string]func() error{
		"request":    func() error { _, _, err := ro.Request(ctx, node, RequestInput{NodeID: "e"}); return err },
		"approve":    func() error { _, _, err := ro.Approve(ctx, operator, req.RequestID); return err },
		"reject":     func() error { _, err := ro.Reject(ctx, operator, req.RequestID); return err },
		"rename":     func() error { return ro.Rename(ctx, operator, "a", "x") },
		"remove":     func() error { return ro.Remove(ctx, operator, "a") },
		"mark":       func() error { return ro.MarkConnected(ctx, "a") },
		"audit":      func() error { return ro.Audit(ctx, operator, "token-refused", nil) },
		"checkpoint": func() error { return ro.Checkpoint(ctx) },
	}
	for name, change := range changes {
		err := change()
		if !errors.Is(err, ErrReadOnly) {
			t.Errorf("%s on a read-only store: %v, want ErrReadOnly", name, err)
			continue
		}
		errSays(t, err, "read-only", w.dir)
	}
	// Expiry is the clock's, in memory: expired requests leave the reads,
	// not the files.
	clk.Add(DefaultTTL)
	if p := ro.Pending(); len(p) != 0 {
		t.Errorf("expired requests listed: %v", p)
	}
	if _, ok := ro.NextExpiry(); ok {
		t.Error("a read-only store asks for expiry runs")
	}
	if _, err := ro.ExpireDue(ctx); !errors.Is(err, ErrReadOnly) {
		t.Errorf("ExpireDue: %v, want ErrReadOnly", err)
	}
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
	if after := dirState(t, w.stateDir); after != before {
		t.Fatalf("a read-only store changed the dir:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func assertSameState(t *testing.T, want []byte, got *Store) {
	t.Helper()
	if g := got.AppendListJSON(nil); !bytes.Equal(want, g) {
		t.Fatalf("read-only list differs:\nwant %s\ngot  %s", want, g)
	}
	if len(got.Paired()) != 3 || len(got.Pending()) != 2 {
		t.Fatalf("read %d paired, %d pending; want 3 and 2", len(got.Paired()), len(got.Pending()))
	}
}

// TestReadOnlyOpenReportsLooseModes: a loose mode is told, not fixed.
func TestReadOnlyOpenReportsLooseModes(t *testing.T) {
	w, clk, _ := seedStore(t)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	paired := filepath.Join(w.dir, pairedFile)
	os.Chmod(paired, 0o644)
	os.Chmod(w.dir, 0o755)
	var logs bytes.Buffer
	openReadOnly(t, w.stateDir, clk, slog.New(slog.NewTextHandler(&logs, nil))).Close()
	for path, mode := range map[string]fs.FileMode{paired: 0o644, w.dir: 0o755} {
		if fi, _ := os.Stat(path); fi.Mode().Perm() != mode {
			t.Errorf("%s: mode changed to %04o", path, fi.Mode().Perm())
		}
		if !strings.Contains(logs.String(), path+" has mode "+fmt.Sprintf("%04o", mode)) {
			t.Errorf("loose mode of %s not reported: %s", path, logs.String())
		}
	}
	// The same refusals as a writer's: a dir others can write to.
	os.Chmod(w.dir, 0o777)
	_, err := Open(Options{StateDir: w.stateDir, ReadOnly: true})
	errSays(t, err, "can be written by", "chmod 700 "+w.dir)
}

// TestReadOnlyOpenOfAnEmptyOrMissingStateDir: a state dir without nodes/
// is an empty store (nothing has happened there); a state dir that does
// not exist is an error that says so. Neither is created.
func TestReadOnlyOpenOfAnEmptyOrMissingStateDir(t *testing.T) {
	empty := t.TempDir()
	s, err := Open(Options{StateDir: empty, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Pending()) != 0 || len(s.Paired()) != 0 {
		t.Fatal("an empty dir has state")
	}
	if page, err := s.History(protocol.HistoryQuery{}); err != nil || len(page.Events) != 0 {
		t.Fatalf("history of nothing: %v %v", page, err)
	}
	s.Close()
	if ents, _ := os.ReadDir(empty); len(ents) != 0 {
		t.Fatalf("created %v", ents)
	}
	missing := filepath.Join(empty, "nope")
	_, err = Open(Options{StateDir: missing, ReadOnly: true})
	errSays(t, err, "state dir "+missing+" does not exist")
	if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("created the missing dir: %v", err)
	}
}

// TestReadOnlyOpenOfAReadOnlyDir: a dir nobody may write (immutable, as
// root too) and a read-only file system are read as they are.
func TestReadOnlyOpenOfAReadOnlyDir(t *testing.T) {
	w, clk, _ := seedStore(t)
	want := string(w.AppendListJSON(nil))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	t.Run("immutable nodes dir", func(t *testing.T) {
		makeUnwritable(t, w.dir)
		ro := openReadOnly(t, w.stateDir, clk, nil)
		if got := string(ro.AppendListJSON(nil)); got != want {
			t.Fatalf("got %s\nwant %s", got, want)
		}
	})
	t.Run("read-only file system", func(t *testing.T) {
		if os.Getuid() != 0 {
			t.Skip("mounting a file system needs root")
		}
		mnt := t.TempDir()
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", mnt).CombinedOutput(); err != nil {
			t.Skipf("cannot mount a tmpfs: %v: %s", err, out)
		}
		t.Cleanup(func() { exec.Command("umount", mnt).Run() })
		if out, err := exec.Command("cp", "-a", w.dir, mnt).CombinedOutput(); err != nil {
			t.Fatalf("copy: %v: %s", err, out)
		}
		if out, err := exec.Command("mount", "-o", "remount,ro", mnt).CombinedOutput(); err != nil {
			t.Skipf("cannot remount read-only: %v: %s", err, out)
		}
		ro := openReadOnly(t, mnt, clk, nil)
		if got := string(ro.AppendListJSON(nil)); got != want {
			t.Fatalf("got %s\nwant %s", got, want)
		}
		// What a writer does there, for contrast: refused at Open.
		if _, err := Open(Options{StateDir: mnt}); !errors.Is(err, ErrNotWritable) {
			t.Fatalf("a writer on a read-only file system: %v", err)
		}
	})
}

// TestReadOnlyOpenRacingACheckpoint lands a checkpoint in the middle of a
// read-only open. Between the read of the checkpoint files and the listing
// of the journal: the files read are then older than the segments found,
// which alone would lose every change the checkpoint moved out of the
// journal. Between the listing and the reading of the segments: the
// segments listed are gone. Either way the reader notices and reads again.
func TestReadOnlyOpenRacingACheckpoint(t *testing.T) {
	for _, at := range []string{"list segments", "read segments"} {
		t.Run(at, func(t *testing.T) {
			w, clk, _ := seedStore(t) // a and b in the checkpoints, the rest in the journal
			want := string(w.AppendListJSON(nil))
			var read sync.WaitGroup // the two checkpoint files
			read.Add(2)
			landed := 0
			readHook = func(step string) {
				switch {
				case landed > 0:
				case step == "read "+pendingFile || step == "read "+pairedFile:
					read.Done()
				case step == at:
					// The files are read side by side with the journal:
					// wait for both, then checkpoint.
					read.Wait()
					landed++
					checkpoint(t, w)
				}
			}
			t.Cleanup(func() { readHook = nil })
			ro := openReadOnly(t, w.stateDir, clk, nil)
			if landed != 1 {
				t.Fatalf("the checkpoint landed %d times", landed)
			}
			if got := string(ro.AppendListJSON(nil)); got != want {
				t.Fatalf("read across a checkpoint:\ngot  %s\nwant %s", got, want)
			}
		})
	}
}
