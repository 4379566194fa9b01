package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
)

// The journal (nodes/journal.<n>.wal) is where a change becomes durable:
// each group commit appends one record holding every change of its batch
// and fsyncs once (fdatasync where there is one). pending.json and
// paired.json are checkpoints of it, rewritten in the background
// (checkpoint.go). Opening the store loads the checkpoints and replays
// every journal segment on top (replay.go).
//
// A segment starts with a 16-byte header: the magic "PDJRNL01" and the
// commit sequence number before its first record (uint64, little endian).
// A record is
//
//	uint32 length of the payload (little endian)
//	uint32 CRC-32C (Castagnoli) of the length's four bytes and the payload
//	payload: uint64 seq, int64 commit time (Unix ms), then entries
//
// and an entry is one byte of kind, the key (uvarint length, bytes) and the
// value (uvarint length, bytes):
//
//	1 pending request put   key requestId, value the record as in pending.json
//	2 pending request gone  key requestId, no value
//	3 paired node put       key nodeId, value the record as in paired.json
//	4 paired node gone      key nodeId, no value
//	5 audit lines           no key, value the batch's lines of audit.jsonl
//	6 setup code put        key code id, value the record as in codes.json
//	7 setup code gone       key code id, no value
//
// A put carries the record's whole new state, so replaying a record twice,
// or over a checkpoint that already holds it, changes nothing: the last
// record to name a key decides it.
//
// A crash during an append can leave the last record of a segment torn:
// cut short, or with a checksum that does not match and nothing but zero
// bytes after it. It was never acknowledged and is dropped. Any other
// damage (a bad record with records after it, a bad header, sequence
// numbers out of order) is refused like a corrupt state file: file, offset
// and how to recover; nothing is changed.

const (
	journalMagic     = "PDJRNL01"
	journalHeaderLen = 16
	recordHeaderLen  = 8
	// maxRecordBytes bounds one record: a batch of maxBatchOps changes of
	// the largest records the wire allows, with their audit lines.
	maxRecordBytes = 64 << 20
	// maxSegmentBytes bounds what is read of one segment. A segment is
	// closed after checkpointBytes (plus one batch), so only a journal
	// whose checkpoints kept failing comes near it.
	maxSegmentBytes = 1 << 30
)

// Entry kinds of a journal record.
const (
	entryPendingPut byte = 1
	entryPendingDel byte = 2
	entryPairedPut  byte = 3
	entryPairedDel  byte = 4
	entryAudit      byte = 5
	entryCodePut    byte = 6
	entryCodeDel    byte = 7
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// segmentName is the file name of journal segment n.
func segmentName(n uint64) string { return "journal." + strconv.FormatUint(n, 10) + ".wal" }

// parseSegmentName returns n for a file named journal.<n>.wal.
func parseSegmentName(name string) (uint64, bool) {
	mid, ok := strings.CutPrefix(name, "journal.")
	if !ok {
		return 0, false
	}
	mid, ok = strings.CutSuffix(mid, ".wal")
	if !ok || mid == "" || (len(mid) > 1 && mid[0] == '0') {
		return 0, false
	}
	n, err := strconv.ParseUint(mid, 10, 64)
	return n, err == nil && n > 0
}

// listSegments returns the journal segments in dir, oldest first.
func listSegments(dir string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	var out []uint64
	for _, e := range entries {
		if n, ok := parseSegmentName(e.Name()); ok {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

// recordBuilder encodes one journal record in a buffer reused across
// commits.
type recordBuilder struct {
	buf []byte
}

func (b *recordBuilder) begin(seq uint64, tsMs int64) {
	b.buf = append(b.buf[:0], make([]byte, recordHeaderLen)...)
	b.buf = binary.LittleEndian.AppendUint64(b.buf, seq)
	b.buf = binary.LittleEndian.AppendUint64(b.buf, uint64(tsMs))
}

func (b *recordBuilder) add(kind byte, key string, val []byte) {
	b.buf = append(b.buf, kind)
	b.buf = binary.AppendUvarint(b.buf, uint64(len(key)))
	b.buf = append(b.buf, key...)
	b.buf = binary.AppendUvarint(b.buf, uint64(len(val)))
	b.buf = append(b.buf, val...)
}

// finish fills in the header and returns the record.
func (b *recordBuilder) finish() []byte {
	payload := len(b.buf) - recordHeaderLen
	binary.LittleEndian.PutUint32(b.buf[0:4], uint32(payload))
	crc := crc32.Update(0, crcTable, b.buf[0:4])
	crc = crc32.Update(crc, crcTable, b.buf[recordHeaderLen:])
	binary.LittleEndian.PutUint32(b.buf[4:8], crc)
	return b.buf
}

// journalRecord is one record read back from a segment.
type journalRecord struct {
	seq     uint64
	tsMs    int64
	off     int64 // of the record in its segment
	entries []journalEntry
}

type journalEntry struct {
	kind   byte
	key    string
	val    []byte
	valOff int64 // of val in the segment, for error messages
}

// segmentData is one segment as read at open.
type segmentData struct {
	n       uint64
	path    string
	baseSeq uint64
	records []journalRecord
	size    int64 // bytes of header and whole records
	torn    int64 // bytes of a torn last record dropped (0 if none)
}

// parseSegment reads a segment's records. A torn last record is dropped
// (reported in torn); any other damage is a *CorruptError.
func parseSegment(path string, data []byte) (*segmentData, error) {
	seg := &segmentData{path: path}
	if len(data) < journalHeaderLen || string(data[:len(journalMagic)]) != journalMagic {
		return nil, journalCorrupt(path, 0, "the file does not start with a pairdeck journal header ("+journalMagic+")")
	}
	seg.baseSeq = binary.LittleEndian.Uint64(data[8:16])
	last := seg.baseSeq
	off := int64(journalHeaderLen)
	size := int64(len(data))
	for off < size {
		rest := data[off:]
		tornHere := func() { seg.torn = size - off }
		if len(rest) < recordHeaderLen { // a header cut short: the end
			tornHere()
			break
		}
		length := int64(binary.LittleEndian.Uint32(rest[0:4]))
		want := binary.LittleEndian.Uint32(rest[4:8])
		end := recordHeaderLen + length
		if end > int64(len(rest)) {
			// Runs past the end of the file: cut short by a crash.
			tornHere()
			break
		}
		if length == 0 || length > maxRecordBytes {
			if allZero(rest) { // space the file system allocated but never filled
				tornHere()
				break
			}
			return nil, journalCorrupt(path, off, fmt.Sprintf("record length %d is not possible (at most %d)", length, maxRecordBytes))
		}
		crc := crc32.Update(0, crcTable, rest[0:4])
		crc = crc32.Update(crc, crcTable, rest[recordHeaderLen:end])
		if crc != want {
			if end == int64(len(rest)) || allZero(rest[end:]) {
				tornHere() // the last record, not completely on disk
				break
			}
			return nil, journalCorrupt(path, off, "record checksum does not match, and records follow it")
		}
		rec, err := parseRecord(path, off, rest[recordHeaderLen:end])
		if err != nil {
			return nil, err
		}
		if rec.seq <= last {
			return nil, journalCorrupt(path, off, fmt.Sprintf("record sequence %d after %d: records are out of order", rec.seq, last))
		}
		last = rec.seq
		seg.records = append(seg.records, rec)
		off += end
	}
	seg.size = size - seg.torn
	return seg, nil
}

// parseRecord decodes a record's payload (its checksum already matched).
func parseRecord(path string, off int64, p []byte) (journalRecord, error) {
	rec := journalRecord{off: off}
	bad := func(at int, what string) error {
		return journalCorrupt(path, off+recordHeaderLen+int64(at), "record payload: "+what)
	}
	if len(p) < 16 {
		return rec, bad(0, "shorter than its sequence number and time")
	}
	rec.seq = binary.LittleEndian.Uint64(p[0:8])
	rec.tsMs = int64(binary.LittleEndian.Uint64(p[8:16]))
	i := 16
	readBytes := func() ([]byte, int, bool) {
		n, w := binary.Uvarint(p[i:])
		if w <= 0 || n > uint64(len(p)-i-w) {
			return nil, 0, false
		}
		start := i + w
		return p[start : start+int(n)], start, true
	}
	for i < len(p) {
		kind := p[i]
		if kind < entryPendingPut || kind > entryCodeDel {
			return rec, bad(i, fmt.Sprintf("unknown entry kind %d", kind))
		}
		i++
		key, _, ok := readBytes()
		if !ok {
			return rec, bad(i, "entry key runs past the record")
		}
		i += len(key) + uvarintLen(uint64(len(key)))
		val, valAt, ok := readBytes()
		if !ok {
			return rec, bad(i, "entry value runs past the record")
		}
		i = valAt + len(val)
		switch kind {
		case entryPendingPut, entryPairedPut, entryCodePut:
			if len(key) == 0 || len(val) == 0 {
				return rec, bad(valAt, "a put without key or value")
			}
		case entryPendingDel, entryPairedDel, entryCodeDel:
			if len(key) == 0 || len(val) != 0 {
				return rec, bad(valAt, "a removal must have a key and no value")
			}
		case entryAudit:
			if len(key) != 0 || len(val) == 0 || val[len(val)-1] != '\n' {
				return rec, bad(valAt, "audit lines must be whole lines")
			}
		}
		rec.entries = append(rec.entries, journalEntry{kind: kind, key: string(key), val: val, valOff: off + recordHeaderLen + int64(valAt)})
	}
	return rec, nil
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func journalCorrupt(path string, off int64, problem string) *CorruptError {
	return &CorruptError{Path: path, Offset: off, Problem: problem}
}

// journal is the segment being appended to.
type journal struct {
	f       *os.File
	n       uint64
	path    string
	size    int64 // durable bytes: header and whole records
	records int   // appended since the segment began
}

// createSegment writes segment n with its header under a temp name,
// fsyncs it and renames it into place, so a segment is either whole or
// absent; the caller fsyncs the dir.
func (s *Store) createSegment(n, baseSeq uint64) (*journal, error) {
	path := s.path(segmentName(n))
	f, err := os.CreateTemp(s.dir, tempPrefix+"journal-*")
	if err != nil {
		return nil, writeError(path, err)
	}
	fail := func(err error) (*journal, error) {
		f.Close()
		os.Remove(f.Name())
		return nil, writeError(path, err)
	}
	hdr := binary.LittleEndian.AppendUint64([]byte(journalMagic), baseSeq)
	if err := s.fault("journal create"); err != nil {
		return fail(err)
	}
	if _, err := f.Write(hdr); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fail(err)
	}
	s.stats.syncs.Add(1)
	return &journal{f: f, n: n, path: path, size: journalHeaderLen}, nil
}

// append writes one record at the end of the segment and makes it
// durable. On failure the segment is cut back to what it was, so a failed
// append never leaves a record that a later one would follow.
func (s *Store) appendRecord(rec []byte) error {
	j := s.journal
	if err := s.fault("journal"); err != nil {
		return s.undoAppend(err)
	}
	if _, err := j.f.WriteAt(rec, j.size); err != nil {
		return s.undoAppend(err)
	}
	if err := s.fault("journal sync"); err != nil {
		return s.undoAppend(err)
	}
	if err := datasync(j.f); err != nil {
		return s.undoAppend(err)
	}
	s.stats.syncs.Add(1)
	s.stats.journalBytes.Add(uint64(len(rec)))
	j.size += int64(len(rec))
	j.records++
	return nil
}

// undoAppend cuts the segment back after a failed append (cause is the
// system's error). If even that fails, the segment may end in a partial
// record that a later append would follow, so the store stops accepting
// changes.
func (s *Store) undoAppend(cause error) error {
	j := s.journal
	if err := j.f.Truncate(j.size); err != nil {
		s.broken = fmt.Errorf("%w: %s: a journal append failed (%w) and cutting the journal back to its last whole record failed too (%v), so the change may or may not be recorded: restart the gateway once the disk is fixed, then check with node.pair.list",
			ErrWrite, j.path, cause, err)
		return s.broken
	}
	return writeError(j.path, cause)
}

func (j *journal) close() error {
	if j == nil || j.f == nil {
		return nil
	}
	return j.f.Close()
}

// removeSegments deletes the segments a checkpoint made redundant, oldest
// first: whatever a crash leaves is a run of the newest, which replays
// correctly over the checkpoint.
func (s *Store) removeSegments(ns []uint64) error {
	for _, n := range ns {
		if err := os.Remove(s.path(segmentName(n))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}
