package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/pairdeck/pairdeck/protocol"
)

// History returns the audit log's events, newest first, as q selects them
// (protocol.HistoryQuery: one node, some actions, since a time, a page
// before a cursor). It reads audit.jsonl and its rotations, which hold
// every acknowledged change (a change's lines are written before it is
// acknowledged), and takes no lock: it may run while changes are made.
func (s *Store) History(q protocol.HistoryQuery) (protocol.HistoryPage, error) {
	if s.noDir { // read-only, and nothing has happened here yet
		return protocol.HistoryPage{Events: []protocol.HistoryEvent{}}, nil
	}
	return readHistory(s.dir, q)
}

// ReadHistory is History for a state dir that no store has open (the
// CLI's offline mode): it reads the files only, takes no lock and writes
// nothing. After a crash, the lines of the last decisions may be in the
// journal only, until pairdeck opens the state dir again.
func ReadHistory(stateDir string, q protocol.HistoryQuery) (protocol.HistoryPage, error) {
	dir := filepath.Join(stateDir, "nodes")
	fi, err := os.Lstat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return protocol.HistoryPage{}, fmt.Errorf("read history: %s has no pairing state (no nodes/ directory): %w", stateDir, err)
		}
		return protocol.HistoryPage{}, fmt.Errorf("read history: %w", err)
	}
	if !fi.IsDir() {
		return protocol.HistoryPage{}, fmt.Errorf("read history: %s is not a directory", dir)
	}
	return readHistory(dir, q)
}

// historyKnown are the members HistoryEvent has fields for; the others go
// to Fields ("seq" is the store's bookkeeping and is left out).
var historyKnown = map[string]bool{
	"ts": true, "seq": true, "action": true, "requestId": true, "nodeId": true, "displayName": true,
	"isRepair": true, "decision": true, "reason": true, "actor": true, "attempts": true, "firstTs": true, "lastTs": true,
}

func readHistory(dir string, q protocol.HistoryQuery) (protocol.HistoryPage, error) {
	page := protocol.HistoryPage{Events: []protocol.HistoryEvent{}}
	limit := q.Limit
	switch {
	case limit < 0:
		return page, fmt.Errorf("history: %w: limit %d must not be negative", ErrInvalid, limit)
	case limit == 0:
		limit = protocol.HistoryDefaultLimit
	case limit > protocol.HistoryMaxLimit:
		limit = protocol.HistoryMaxLimit
	}
	at, err := parseCursor(q.Before)
	if err != nil {
		return page, err
	}
	var last auditCursor
	full := false
	err = scanAudit(dir, at, func(line []byte, c auditCursor) bool {
		ev, ok := decodeHistoryLine(line)
		if !ok {
			return true // a line that does not parse is not history
		}
		if q.SinceMs > 0 && ev.TS < q.SinceMs {
			return false // older lines are older still
		}
		if q.NodeID != "" && ev.NodeID != q.NodeID {
			return true
		}
		if len(q.Actions) > 0 && !slices.Contains(q.Actions, ev.Action) {
			return true
		}
		ev.Cursor = c.String()
		page.Events = append(page.Events, ev)
		if len(page.Events) == limit {
			full, last = true, c
			return false
		}
		return true
	})
	if err != nil {
		return page, fmt.Errorf("history: %w", err)
	}
	if full {
		page.Next = last.String()
	}
	return page, nil
}

func decodeHistoryLine(line []byte) (protocol.HistoryEvent, bool) {
	var ev protocol.HistoryEvent
	if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &ev) != nil || ev.Action == "" {
		return ev, false
	}
	var all map[string]json.RawMessage
	if json.Unmarshal(line, &all) == nil {
		for k, v := range all {
			if !historyKnown[k] {
				if ev.Fields == nil {
					ev.Fields = map[string]json.RawMessage{}
				}
				ev.Fields[k] = v
			}
		}
	}
	return ev, true
}

// String is the cursor as pages carry it: "<file>.<offset>".
func (c auditCursor) String() string {
	return strconv.FormatUint(c.file, 10) + "." + strconv.FormatInt(c.off, 10)
}

func parseCursor(s string) (auditCursor, error) {
	if s == "" {
		return auditCursor{}, nil
	}
	f, o, ok := strings.Cut(s, ".")
	file, err1 := strconv.ParseUint(f, 10, 64)
	off, err2 := strconv.ParseInt(o, 10, 64)
	if !ok || err1 != nil || err2 != nil || file == 0 || off < 0 {
		return auditCursor{}, fmt.Errorf("history: %w: %q is not a cursor from a history page (pass a page's next as before)", ErrInvalid, s)
	}
	return auditCursor{file: file, off: off}, nil
}
