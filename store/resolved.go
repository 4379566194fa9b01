package store

import (
	"bytes"
	"encoding/json"
)

// resolvedMemory is how many resolved request ids are remembered so that a
// late approve or reject gets "already resolved" rather than "unknown". At
// Open they are recalled from the tail of the audit log, so the answer
// survives a restart (and the CLI's one-shot offline processes).
const resolvedMemory = 4096

// recallWindow is how much of the audit log's tail Open reads to recall
// decisions: enough for resolvedMemory decisions of typical size, bounded
// so that a years-old log does not slow start-up.
const recallWindow = 2 << 20

// Decisions a request can end with, as remembered for stale-id errors.
const (
	decisionApproved = "approved"
	decisionRejected = "rejected"
	decisionExpired  = "expired"
	decisionRemoved  = "removed" // the node was removed while it waited
)

type resolution struct {
	nodeID   string
	decision string
}

// resolvedIDs is a bounded map: the oldest id is forgotten first.
type resolvedIDs struct {
	byID map[string]resolution
	ring []string
	next int
	max  int
}

func newResolvedIDs(max int) *resolvedIDs {
	return &resolvedIDs{byID: make(map[string]resolution), max: max}
}

func (r *resolvedIDs) add(id string, res resolution) {
	if _, ok := r.byID[id]; !ok {
		if len(r.ring) < r.max {
			r.ring = append(r.ring, id)
		} else {
			delete(r.byID, r.ring[r.next])
			r.ring[r.next] = id
			r.next = (r.next + 1) % r.max
		}
	}
	r.byID[id] = res
}

func (r *resolvedIDs) get(id string) (resolution, bool) {
	res, ok := r.byID[id]
	return res, ok
}

// recallDecisions seeds r with the decisions in the tail of the audit log,
// oldest first so the newest win. A line that does not parse (a torn tail
// from a crash, or a line cut by the window) is skipped: the log is a
// record, not the source of truth.
func (a *auditLog) recallDecisions(r *resolvedIDs) {
	start := max(a.size-recallWindow, 0)
	buf := make([]byte, a.size-start)
	n, _ := a.f.ReadAt(buf, start)
	buf = buf[:n]
	if start > 0 {
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			buf = buf[i+1:] // the first line is cut
		}
	}
	for len(buf) > 0 {
		line := buf
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			line, buf = buf[:i], buf[i+1:]
		} else {
			buf = nil
		}
		var ev struct {
			Action    string `json:"action"`
			RequestID string `json:"requestId"`
			NodeID    string `json:"nodeId"`
		}
		if json.Unmarshal(line, &ev) != nil || ev.RequestID == "" {
			continue
		}
		switch ev.Action {
		case decisionApproved, decisionRejected, decisionExpired, decisionRemoved:
			r.add(ev.RequestID, resolution{nodeID: ev.NodeID, decision: ev.Action})
		}
	}
}
