package store

import (
	"cmp"
	"fmt"
	"io/fs"
	"slices"
	"sync"
)

// Opening: load the checkpoints (pending.json, paired.json), then replay
// every journal segment over them, oldest first. A put carries a record's
// whole state, so the last record to name a key decides it, whatever the
// checkpoint already held; only that last state is decoded.

// loadedState is the tables as checkpoints and journal make them.
type loadedState struct {
	pending *pendingTable
	paired  *pairedTable
	codes   *codeTable
	segs    []*segmentData
	// records replayed, and whether they touched each table (so that the
	// first checkpoint rewrites only what changed).
	records                                     int
	touchedPending, touchedPaired, touchedCodes bool
	// The checkpoint files read (read-only stores check they were not
	// replaced meanwhile); nil when absent.
	pendingInfo, pairedInfo, codesInfo fs.FileInfo
}

// loadState reads the checkpoints and the journal. Nothing is written.
func (s *Store) loadState() (*loadedState, error) {
	st := &loadedState{pending: newPendingTable(), paired: newPairedTable(), codes: newCodeTable()}
	// The two checkpoints and the journal are read and decoded side by
	// side: each is mostly decoding, and the reads of one overlap the
	// decoding of another.
	var segs []*segmentData
	var errs [4]error
	var wg sync.WaitGroup
	wg.Go(func() {
		img, err := s.readStateFile(s.path(pendingFile))
		s.readStep("read " + pendingFile)
		st.pendingInfo = img.info
		if err == nil && img.exists {
			var seq uint64
			st.pending, err = decodePending(s.path(pendingFile), img.data, &seq, s.openclaw)
		}
		errs[0] = err
	})
	wg.Go(func() {
		img, err := s.readStateFile(s.path(pairedFile))
		s.readStep("read " + pairedFile)
		st.pairedInfo = img.info
		if err == nil && img.exists {
			st.paired, err = decodePaired(s.path(pairedFile), img.data, s.openclaw)
		}
		errs[1] = err
	})
	wg.Go(func() { segs, errs[2] = s.readSegments() })
	wg.Go(func() {
		img, err := s.readStateFile(s.path(codesFile))
		st.codesInfo = img.info
		if err == nil && img.exists {
			st.codes, err = decodeCodes(s.path(codesFile), img.data)
		}
		errs[3] = err
	})
	wg.Wait()
	if err := firstError(errs[:]); err != nil {
		return nil, err
	}
	s.seq = uint64(len(st.pending.byID)) // decodePending numbered them from 1
	var prev *segmentData
	for _, seg := range segs {
		path := seg.path
		if prev != nil && seg.baseSeq != prev.lastSeq() {
			return nil, journalCorrupt(path, 8, fmt.Sprintf("the segment starts after commit %d, but %s ends at commit %d: a segment between them is missing or out of place",
				seg.baseSeq, segmentName(prev.n), prev.lastSeq()))
		}
		st.segs = append(st.segs, seg)
		prev = seg
	}
	if err := s.replay(st); err != nil {
		return nil, err
	}
	return st, nil
}

// readSegments reads and parses every journal segment, oldest first.
func (s *Store) readSegments() ([]*segmentData, error) {
	s.readStep("list segments")
	nums, err := listSegments(s.dir)
	if err != nil {
		return nil, err
	}
	s.readStep("read segments")
	var out []*segmentData
	for _, n := range nums {
		path := s.path(segmentName(n))
		data, _, err := s.readFile(path, maxSegmentBytes)
		if err != nil {
			return nil, readError(path, err)
		}
		seg, err := parseSegment(path, data)
		if err != nil {
			return nil, err
		}
		seg.n = n
		out = append(out, seg)
	}
	return out, nil
}

// lastSeq is the commit sequence of the segment's last record (its base
// when it has none).
func (seg *segmentData) lastSeq() uint64 {
	if len(seg.records) == 0 {
		return seg.baseSeq
	}
	return seg.records[len(seg.records)-1].seq
}

// keyFate is what the journal did last to one key.
type keyFate struct {
	last  *journalEntry
	path  string
	since int  // the first put after the key's last removal: its place among new records
	gone  bool // removed at some point in the journal: it goes to the end if put again
}

// replay applies the journal to the tables.
func (s *Store) replay(st *loadedState) error {
	pending := map[string]*keyFate{}
	paired := map[string]*keyFate{}
	idx := 0
	for _, seg := range st.segs {
		for ri := range seg.records {
			st.records++
			for ei := range seg.records[ri].entries {
				e := &seg.records[ri].entries[ei]
				var fates map[string]*keyFate
				switch e.kind {
				case entryPendingPut, entryPendingDel:
					fates = pending
					st.touchedPending = true
				case entryPairedPut, entryPairedDel:
					fates = paired
					st.touchedPaired = true
				case entryCodePut, entryCodeDel:
					// Codes are few: applied in order, each put whole.
					st.touchedCodes = true
					if err := replayCode(st.codes, e, seg.path); err != nil {
						return err
					}
					continue
				default:
					continue
				}
				idx++
				f := fates[e.key]
				if f == nil {
					f = &keyFate{since: idx}
					fates[e.key] = f
				}
				switch e.kind {
				case entryPendingDel, entryPairedDel:
					f.gone, f.since = true, -1
				default:
					if f.since < 0 {
						f.since = idx
					}
				}
				f.last, f.path = e, seg.path
			}
		}
	}
	if err := replayTable(pending, st.pending.byID, func(key string, f *keyFate) (*pendingEntry, error) {
		return decodePendingEntry(f.path, nil, key, f.last.val, f.last.valOff, s.openclaw)
	}, st.pending.remove, func(old, e *pendingEntry) {
		e.seq = old.seq // its place among requests of the same ts
		st.pending.replace(old, e)
	}, func(e *pendingEntry) {
		s.seq++
		e.seq = s.seq
		st.pending.insert(e)
	}); err != nil {
		return err
	}
	return replayTable(paired, st.paired.byNode, func(key string, f *keyFate) (*pairedEntry, error) {
		return decodePairedEntry(f.path, nil, key, f.last.val, f.last.valOff, s.openclaw)
	}, st.paired.remove, st.paired.replace, st.paired.insert)
}

// replayCode applies one journal entry to the codes.
func replayCode(t *codeTable, e *journalEntry, path string) error {
	if e.kind == entryCodeDel {
		t.remove(e.key)
		return nil
	}
	c, err := decodeCodeEntry(path, nil, e.key, e.val, e.valOff)
	if err != nil {
		return err
	}
	if other := t.byHash[c.digest]; other != nil && other.rec.ID != c.rec.ID {
		return journalCorrupt(path, e.valOff, fmt.Sprintf("code %q has the sha256 of code %q", c.rec.ID, other.rec.ID))
	}
	t.put(c)
	return nil
}

// replayTable applies each key's last fate: a removal removes, a put of a
// record the checkpoint holds replaces it in place, and records that are
// new (or were removed and put again) are added in the order they were
// first put.
func replayTable[E any](fates map[string]*keyFate, current map[string]E, decode func(string, *keyFate) (E, error),
	remove func(E), replace func(old, e E), insert func(E)) error {
	type put struct {
		key  string
		fate *keyFate
	}
	var puts []put
	for key, f := range fates {
		if f.last.kind == entryPendingDel || f.last.kind == entryPairedDel {
			if old, ok := current[key]; ok {
				remove(old)
			}
			continue
		}
		puts = append(puts, put{key, f})
	}
	slices.SortFunc(puts, func(a, b put) int { return cmp.Compare(a.fate.since, b.fate.since) })
	members := make([]jsonMember, len(puts))
	for i, p := range puts {
		members[i] = jsonMember{key: p.key}
	}
	decoded, err := decodeAll("", nil, members, func(m jsonMember) (E, error) {
		return decode(m.key, fates[m.key])
	})
	if err != nil {
		return err
	}
	for i, p := range puts {
		old, ok := current[p.key]
		switch {
		case ok && !p.fate.gone:
			replace(old, decoded[i])
		case ok:
			remove(old)
			insert(decoded[i])
		default:
			insert(decoded[i])
		}
	}
	return nil
}

// reconcileAudit writes to audit.jsonl the lines of committed journal
// records that a crash kept out of it (they are written after the commit,
// without an fsync of their own), and cuts a torn last line. It returns
// the newest commit sequence the audit log holds.
func (s *Store) reconcileAudit(segs []*segmentData) (uint64, error) {
	a := s.audit
	if err := a.cutTornLine(); err != nil {
		return 0, err
	}
	tail, err := a.tailSeq()
	if err != nil {
		return 0, err
	}
	for _, seg := range segs {
		for _, rec := range seg.records {
			if rec.seq < tail.seq {
				continue
			}
			var lines []byte
			for _, e := range rec.entries {
				if e.kind == entryAudit {
					lines = append(lines, e.val...)
				}
			}
			if len(lines) == 0 {
				continue
			}
			if rec.seq == tail.seq {
				if !tail.inCurrent || tail.count >= bytesCount(lines, '\n') {
					continue
				}
				// Only some of the batch's lines made it: write it whole.
				if err := a.truncate(tail.start); err != nil {
					return 0, err
				}
			}
			if _, err := a.write(s, lines); err != nil {
				return 0, fmt.Errorf("write back committed audit lines: %w", err)
			}
			tail.seq = rec.seq
		}
	}
	return tail.seq, nil
}

func bytesCount(b []byte, c byte) int {
	n := 0
	for _, x := range b {
		if x == c {
			n++
		}
	}
	return n
}
