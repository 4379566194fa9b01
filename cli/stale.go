package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pairdeck/pairdeck/protocol"
)

// decisionFailed explains a failed approve or reject. The gateway's
// message says whether the id was unknown, expired or already resolved,
// and names the node's current pending request if it has one.
//
// A gateway remembers resolved ids in memory only, so after a restart, and
// always in offline mode (a fresh process per command), an id resolved
// earlier comes back as unknown. The state dir's audit log still says what
// became of it: when the state is this machine's, it fills that in.
func decisionFailed(ctx context.Context, s *session, verb, requestID string, err error) error {
	var pe *protocol.Error
	if !errors.As(err, &pe) || (pe.Reason() != protocol.ReasonUnknownRequest && pe.Reason() != protocol.ReasonAlreadyResolved) {
		return fmt.Errorf("%s %s: %w", verb, requestID, err)
	}
	msg := pe.Error()
	unknown := pe.Reason() == protocol.ReasonUnknownRequest && strings.HasPrefix(pe.Message, "unknown requestId")
	if unknown && s.stateDir != "" {
		if decision, nodeID, ok := auditedDecision(s.stateDir, requestID); ok {
			msg = staleMessage(ctx, s, requestID, decision, nodeID)
		}
	}
	// Point at the command that lists requests rather than at the protocol
	// method.
	msg = strings.Replace(msg, "node.pair.list shows the pending requests", "`pairdeck nodes pending` shows the pending requests", 1)
	return fmt.Errorf("%s %s: %s", verb, requestID, msg)
}

// staleMessage words a decision found in the audit log as the gateway
// words one it remembers.
func staleMessage(ctx context.Context, s *session, requestID, decision, nodeID string) string {
	var b strings.Builder
	reason := protocol.ReasonAlreadyResolved
	if decision == "expired" {
		fmt.Fprintf(&b, "request %s expired; the node must ask again", requestID)
		reason = protocol.ReasonUnknownRequest
	} else {
		fmt.Fprintf(&b, "request %s was already %s", requestID, decision)
	}
	current := ""
	if res, err := s.op.List(ctx); err == nil {
		for _, r := range res.Pending {
			if r.NodeID == nodeID {
				current = r.RequestID
			}
		}
	}
	if current != "" {
		fmt.Fprintf(&b, "; node %s's current pending request is %s", nodeID, current)
	} else {
		b.WriteString("; `pairdeck nodes pending` shows the pending requests")
	}
	fmt.Fprintf(&b, " (%s)", reason)
	return b.String()
}

// auditedDecision finds how a request ended in <state>/nodes/audit.jsonl:
// approved, rejected, expired, or removed (with its node).
func auditedDecision(stateDir, requestID string) (decision, nodeID string, ok bool) {
	if requestID == "" {
		return "", "", false
	}
	f, err := os.Open(filepath.Join(stateDir, "nodes", "audit.jsonl"))
	if err != nil {
		return "", "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.Contains(line, []byte(requestID)) {
			continue
		}
		var ev struct {
			Action    string `json:"action"`
			RequestID string `json:"requestId"`
			NodeID    string `json:"nodeId"`
		}
		if json.Unmarshal(line, &ev) != nil || ev.RequestID != requestID {
			continue
		}
		switch ev.Action {
		case "approved", "rejected", "expired", "removed":
			decision, nodeID, ok = ev.Action, ev.NodeID, true
		}
	}
	return decision, nodeID, ok
}
