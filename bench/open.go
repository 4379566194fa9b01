package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/pairdeck/pairdeck/store"
)

// openAfterCrash measures how long a gateway takes to serve again after a
// crash with a large state: Large paired and Large pending, and a full
// journal (requests one after another, each its own journal record, up to
// just under the store's checkpoint trigger) on builds that have one. The
// gateway is killed with SIGKILL; then gateways are started on copies of
// what it left, and each is timed from its start to its runtime file
// (it writes that once the store is open and it listens). The checkpoint
// that then brings the files up to date is timed too, in this process
// with this build's store.
func (b *runner) openAfterCrash(ctx context.Context) error {
	n := b.opts.Large
	sfx := fmt.Sprintf("_%s_paired_%s_pending", sizeName(n), sizeName(n))
	with := fmt.Sprintf(", %d paired + %d pending", n, n)
	dir, cleanup, err := b.stateDir("open")
	if err != nil {
		return err
	}
	defer cleanup()
	start := time.Now()
	if err := seedState(ctx, dir, n, n, benchTTL); err != nil {
		return err
	}
	b.progress("  seeded %d paired, %d pending in %s", n, n, time.Since(start).Round(time.Millisecond))
	c, err := startChild(ctx, b.opts.Gateway, serveOptions{stateDir: dir, token: "bench-" + nodeID(), maxPending: benchMaxPending, ttl: benchTTL})
	if err != nil {
		return err
	}
	op, err := dialOperator(ctx, c.url, c.token)
	if err != nil {
		c.kill()
		return err
	}
	fill := max(1, store.Checkpoints().Records-100)
	if b.opts.Samples < 1 {
		fill = b.opts.n(fill)
	}
	budget := time.Now().Add(30 * time.Second) // a build that rewrites files per change is slow at this
	sent := 0
	for ; sent < fill && time.Now().Before(budget); sent++ {
		if _, _, err := request(ctx, op, nodeID(), 2*n+sent); err != nil {
			op.Close()
			c.kill()
			return err
		}
	}
	op.Close()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	<-c.waitErr
	journal, segs := journalSize(dir)
	hasJournal := journal > int64(segs)*16 // more than empty segments' headers
	if hasJournal {
		b.r.note("The crashed gateway left %d journal segment(s), %d KB, after %d sequential requests", segs, journal/1024, sent)
	} else {
		b.r.note("The gateway under test keeps no journal; %d requests were made before it was killed", sent)
	}

	var lat samples
	for range max(3, b.opts.n(5)) {
		cp, err := copyState(dir, b.opts.TempDir)
		if err != nil {
			return err
		}
		t0 := time.Now()
		c2, err := startChild(ctx, b.opts.Gateway, serveOptions{stateDir: cp, token: "bench-" + nodeID(), maxPending: benchMaxPending, ttl: benchTTL})
		if err != nil {
			os.RemoveAll(cp)
			return err
		}
		lat = append(lat, time.Since(t0))
		err = c2.stop()
		os.RemoveAll(cp)
		if err != nil {
			return err
		}
	}
	b.r.add(Figure{Key: "open_ms" + sfx, Label: "gateway start to serving after a crash" + with + " and a full journal", Unit: "ms", Value: lat.p50(), Samples: len(lat)})

	// What starting a gateway costs with no state at all: the process and
	// everything but the store.
	var empty samples
	for range max(3, b.opts.n(5)) {
		d, err := os.MkdirTemp(b.opts.TempDir, "pairdeck-bench-empty-")
		if err != nil {
			return err
		}
		t0 := time.Now()
		c3, err := startChild(ctx, b.opts.Gateway, serveOptions{stateDir: d, token: "bench-" + nodeID(), maxPending: benchMaxPending, ttl: benchTTL})
		if err != nil {
			os.RemoveAll(d)
			return err
		}
		empty = append(empty, time.Since(t0))
		err = c3.stop()
		os.RemoveAll(d)
		if err != nil {
			return err
		}
	}
	b.r.add(Figure{Key: "start_ms_empty", Label: "gateway start to serving with an empty state dir (process start and everything but the store)", Unit: "ms", Value: empty.p50(), Samples: len(empty)})

	// The checkpoint that follows, with this build's store (only where the
	// build under test keeps a journal: otherwise it says nothing of it).
	if !hasJournal {
		return nil
	}
	cp, err := copyState(dir, b.opts.TempDir)
	if err != nil {
		return err
	}
	defer os.RemoveAll(cp)
	// The store's own part of the start, in this process: Open of a copy.
	var opens samples
	for range max(3, b.opts.n(5)) {
		cp2, err := copyState(dir, b.opts.TempDir)
		if err != nil {
			return err
		}
		t0 := time.Now()
		st, err := store.Open(store.Options{StateDir: cp2, TTL: benchTTL, MaxPending: benchMaxPending})
		if err != nil {
			os.RemoveAll(cp2)
			return err
		}
		opens = append(opens, time.Since(t0))
		st.Close()
		os.RemoveAll(cp2)
	}
	b.r.add(Figure{Key: "open_store_ms" + sfx, Label: "the store's Open of what the crash left, in this process (checkpoints loaded, journal replayed)" + with, Unit: "ms", Value: opens.p50(), Samples: len(opens)})

	st, err := store.Open(store.Options{StateDir: cp, TTL: benchTTL, MaxPending: benchMaxPending})
	if err != nil {
		return err
	}
	defer st.Close()
	// Opening started a checkpoint of what it replayed: let it finish, then
	// one approval, so that the one measured writes both files.
	if err := st.Checkpoint(ctx); err != nil {
		return err
	}
	if reqs := st.Pending(); len(reqs) > 0 {
		if _, _, err := st.Approve(ctx, seedActor, reqs[0].RequestID); err != nil {
			return err
		}
	}
	before := st.Stats()
	t0 := time.Now()
	if err := st.Checkpoint(ctx); err != nil {
		return err
	}
	took := time.Since(t0)
	after := st.Stats()
	kb := float64(after.CheckpointBytes-before.CheckpointBytes) / 1024
	if after.Checkpoints > before.Checkpoints && kb > 0 {
		b.r.add(Figure{Key: "checkpoint_ms" + sfx, Label: "one checkpoint (pending.json and paired.json rewritten, fsynced, renamed), this build's store" + with, Unit: "ms", Value: ms(took), Samples: 1})
		b.r.add(Figure{Key: "checkpoint_kb" + sfx, Label: "bytes one checkpoint writes" + with, Unit: "KB", Value: round(kb, 0), Samples: 1})
		per := kb / float64(store.Checkpoints().Records)
		b.r.add(Figure{Key: "checkpoint_kb_per_record" + sfx, Label: fmt.Sprintf("that checkpoint amortised over the %d journal records between two (a record holds one or more decisions)", store.Checkpoints().Records) + with, Unit: "KB", Value: round(per, 2), Samples: 1})
	}
	return nil
}

// journalSize is the bytes and number of journal segments in a state dir.
func journalSize(stateDir string) (int64, int) {
	entries, _ := os.ReadDir(filepath.Join(stateDir, "nodes"))
	var size int64
	n := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "journal.") && strings.HasSuffix(e.Name(), ".wal") {
			if fi, err := e.Info(); err == nil {
				size += fi.Size()
				n++
			}
		}
	}
	return size, n
}

// copyState copies a state dir (what a crash left) to a new temp dir.
func copyState(src, tempDir string) (string, error) {
	dst, err := os.MkdirTemp(tempDir, "pairdeck-bench-open-copy-")
	if err != nil {
		return "", err
	}
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		os.RemoveAll(dst)
		return "", fmt.Errorf("copy %s: %w", src, err)
	}
	// CopyFS makes files 0644 and dirs 0777 &^ umask; the store wants its
	// own modes (and refuses a dir others can write).
	filepath.WalkDir(dst, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.Chmod(path, 0o700)
		}
		return os.Chmod(path, 0o600)
	})
	return dst, nil
}
