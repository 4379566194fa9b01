package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/pairdeck/pairdeck/internal/statefile"
)

// Reading the audit log from its end: the newest lines first, across
// audit.jsonl and its rotations (audit.<n>.jsonl).

// readLinesBackward calls fn with each whole line of r that ends at or
// before end, newest first, with the offset where the line starts; a last
// line without its newline (being written, or torn) is skipped. It stops
// when fn returns false.
func readLinesBackward(r io.ReaderAt, end int64, fn func(line []byte, off int64) bool) error {
	const chunk = 64 << 10
	var buf []byte // the file's bytes [bufStart, lineEnd)
	bufStart, lineEnd := end, end
	// more prepends the chunk before bufStart; false at the file's start.
	more := func() (bool, error) {
		if bufStart == 0 {
			return false, nil
		}
		start := max(bufStart-chunk, 0)
		b := make([]byte, int(bufStart-start)+len(buf))
		if _, err := r.ReadAt(b[:bufStart-start], start); err != nil && err != io.EOF {
			return false, err
		}
		copy(b[bufStart-start:], buf)
		buf, bufStart = b, start
		return true, nil
	}
	// Find the end of the last whole line.
	for {
		if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
			lineEnd = bufStart + int64(i) + 1
			buf = buf[:i+1]
			break
		}
		ok, err := more()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
	}
	for lineEnd > 0 {
		body := buf[:lineEnd-bufStart-1] // without its newline
		i := bytes.LastIndexByte(body, '\n')
		for i < 0 && bufStart > 0 {
			ok, err := more()
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			body = buf[:lineEnd-bufStart-1]
			i = bytes.LastIndexByte(body, '\n')
		}
		start := bufStart + int64(i) + 1
		if !fn(body[i+1:], start) {
			return nil
		}
		lineEnd = start
		buf = buf[:lineEnd-bufStart]
	}
	return nil
}

// auditTail is where the newest commit's lines are in the audit log.
type auditTail struct {
	seq       uint64 // newest commit sequence in the log (0: none)
	count     int    // lines of it at the end of audit.jsonl
	start     int64  // where the first of them starts in audit.jsonl
	inCurrent bool   // they are in audit.jsonl (not in a rotated file, which is whole)
}

func lineSeq(line []byte) uint64 {
	var v struct {
		Seq uint64 `json:"seq"`
	}
	if json.Unmarshal(line, &v) != nil {
		return 0
	}
	return v.Seq
}

// tailSeq finds the newest commit in the log.
func (a *auditLog) tailSeq() (auditTail, error) {
	var t auditTail
	err := readLinesBackward(a.f, a.size, func(line []byte, off int64) bool {
		seq := lineSeq(line)
		switch {
		case t.seq == 0 && seq > 0:
			t.seq, t.count, t.start, t.inCurrent = seq, 1, off, true
		case t.seq != 0 && seq == t.seq:
			t.count++
			t.start = off
		case t.seq != 0:
			return false
		}
		return true
	})
	if err != nil || t.seq != 0 || a.size > 0 || len(a.rotated) == 0 {
		return t, err
	}
	// audit.jsonl is new: the newest lines are in the newest rotation.
	path := filepath.Join(a.dir, rotatedAuditName(a.rotated[len(a.rotated)-1]))
	f, err := statefile.Open(path, os.O_RDONLY, 0)
	if err != nil {
		return t, nil // a rotation that cannot be read holds no newer commit than the journal knows
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return t, nil
	}
	readLinesBackward(f, st.Size(), func(line []byte, off int64) bool {
		t.seq = lineSeq(line)
		return t.seq == 0
	})
	return t, nil
}

// auditFiles are the audit log's files, oldest first, each with its number
// (audit.jsonl has the number it will get when rotated).
type auditFiles struct {
	dir     string
	numbers []uint64
}

func (af auditFiles) current() uint64 { return af.numbers[len(af.numbers)-1] }

func (af auditFiles) path(n uint64) string {
	if n == af.current() {
		return filepath.Join(af.dir, auditFile)
	}
	return filepath.Join(af.dir, rotatedAuditName(n))
}

func listAuditFiles(dir string) (auditFiles, error) {
	rotated, err := listRotatedAudit(dir)
	if err != nil {
		return auditFiles{}, err
	}
	next := uint64(1)
	if len(rotated) > 0 {
		next = rotated[len(rotated)-1] + 1
	}
	return auditFiles{dir: dir, numbers: append(rotated, next)}, nil
}

// scanAudit reads the audit log backwards from cursor at (or from its end
// when at is zero), across rotations, calling fn with each line and the
// cursor that points at it, until fn returns false. A rotated file that
// has gone (older than the kept rotations) ends the scan.
func scanAudit(dir string, at auditCursor, fn func(line []byte, c auditCursor) bool) error {
	for range 3 {
		af, err := listAuditFiles(dir)
		if err != nil {
			return err
		}
		// audit.jsonl is opened first and the list checked again, so a
		// rotation in between cannot make it pass for the wrong number.
		cur, err := statefile.Open(af.path(af.current()), os.O_RDONLY, 0)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		again, lerr := listAuditFiles(dir)
		if lerr != nil || again.current() != af.current() {
			if cur != nil {
				cur.Close()
			}
			continue
		}
		if cur != nil {
			defer cur.Close()
		}
		for i := len(af.numbers) - 1; i >= 0; i-- {
			n := af.numbers[i]
			if !at.zero() && n > at.file {
				continue
			}
			f := cur
			if n != af.current() {
				f, err = statefile.Open(af.path(n), os.O_RDONLY, 0)
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				if err != nil {
					return err
				}
				defer f.Close()
			}
			if f == nil {
				continue
			}
			st, err := f.Stat()
			if err != nil {
				return err
			}
			end := st.Size()
			if !at.zero() && n == at.file {
				end = min(end, at.off)
			}
			stop := false
			if err := readLinesBackward(f, end, func(line []byte, off int64) bool {
				if !fn(line, auditCursor{file: n, off: off}) {
					stop = true
					return false
				}
				return true
			}); err != nil {
				return fmt.Errorf("read %s: %w", af.path(n), err)
			}
			if stop {
				return nil
			}
		}
		return nil
	}
	return errors.New("the audit log kept being rotated while it was read; try again")
}

// auditCursor is a position in the audit log: a line's start in file n.
type auditCursor struct {
	file uint64
	off  int64
}

func (c auditCursor) zero() bool { return c.file == 0 }

// recallDecisions seeds r with the newest decisions in the audit log
// (reading at most recallWindow bytes of it), so that a late approve or
// reject of a request resolved before a restart is told how it ended. A
// line that does not parse is skipped: the log is a record, not the source
// of truth.
func recallDecisions(dir string, r *resolvedIDs) {
	type decision struct{ id, node, action string }
	var found []decision
	read := 0
	scanAudit(dir, auditCursor{}, func(line []byte, _ auditCursor) bool {
		read += len(line) + 1
		// Most lines are requests; only decisions and removals are worth
		// decoding (and they name a request).
		if !bytes.Contains(line, []byte(`"requestId"`)) ||
			(!bytes.Contains(line, []byte(`"decision"`)) && !bytes.Contains(line, []byte(`"action":"removed"`))) {
			return read < recallWindow
		}
		var ev struct {
			Action    string `json:"action"`
			RequestID string `json:"requestId"`
			NodeID    string `json:"nodeId"`
		}
		if json.Unmarshal(line, &ev) == nil && ev.RequestID != "" {
			switch ev.Action {
			case decisionApproved, decisionRejected, decisionExpired, decisionRemoved:
				found = append(found, decision{ev.RequestID, ev.NodeID, ev.Action})
			}
		}
		return read < recallWindow && len(found) < resolvedMemory
	})
	for i := len(found) - 1; i >= 0; i-- { // oldest first, so the newest win
		r.add(found[i].id, resolution{nodeID: found[i].node, decision: found[i].action})
	}
}
