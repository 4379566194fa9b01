package cli

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

// The CLI's tables use the console's column names and time words, so what
// an operator reads in a pane and in a script's output is the same. The
// columns an operator needs to act (what to type, and how long is left)
// are never dropped; the others go in the console's order as the terminal
// narrows.

// shortIDMin is the shortest request id a terminal table shows: the first
// group of a UUID, lengthened where two requests share it.
const shortIDMin = 8

var pendingColumns = []column{
	{title: "REQUEST"},
	{title: "KIND", cut: 6, grow: 1, drop: 1},
	{title: "NAME", cut: 12, grow: 4},
	{title: "PLATFORM", cut: 8, grow: 1, drop: 3},
	{title: "IP", drop: 4},
	{title: "NODE", drop: 2},
	{title: "ASKED", drop: 5},
	{title: "EXPIRES"},
}

// printPending prints the queue. On a terminal the request id is shortened
// to the shortest unique prefix (approve and reject take it); piped, it is
// printed whole for scripts. The KIND column appears when the gateway has
// more than one kind of request (OpenClaw's): pairdeck's are all node
// requests.
func printPending(p *printer, pending []protocol.PendingRequest, now time.Time) {
	if len(pending) == 0 {
		p.Line("No pending requests.")
		return
	}
	cols, rows := pendingColumns, pendingRows(pending, now, p.tty)
	if !anyKind(pending) {
		cols, rows = withoutColumn(cols, rows, 1)
	}
	p.Table(cols, rows)
}

// anyKind reports whether the gateway said which kind its requests are.
func anyKind(pending []protocol.PendingRequest) bool {
	for _, r := range pending {
		if r.Kind != "" {
			return true
		}
	}
	return false
}

// withoutColumn drops column i from a table.
func withoutColumn(cols []column, rows [][]string, i int) ([]column, [][]string) {
	cols = append(cols[:i:i], cols[i+1:]...)
	for r := range rows {
		rows[r] = append(rows[r][:i:i], rows[r][i+1:]...)
	}
	return cols, rows
}

func pendingRows(pending []protocol.PendingRequest, now time.Time, short bool) [][]string {
	ids := make([]string, len(pending))
	for i, r := range pending {
		ids[i] = r.RequestID
	}
	shown := ids
	if short {
		shown = uniquePrefixes(ids, shortIDMin)
	}
	rows := make([][]string, 0, len(pending))
	for i, r := range pending {
		name := nameOr(r.DisplayName, r.NodeID)
		if r.IsRepair && r.Kind != protocol.KindDevice {
			name += " (re-pair)"
		}
		rows = append(rows, []string{shown[i], kindText(r), name, orDash(r.Platform), orDash(r.RemoteIP),
			protocol.Fingerprint(r.NodeID), ago(now, r.TS), expiryText(r, now)})
	}
	return rows
}

// kindText says what a request asks for: a node's pairing (or, on OpenClaw
// 2026.8+, the approval of its commands), or a device's pairing and why it
// waits: new, or asking for more scopes, another role, or with changed
// metadata (OpenClaw's reasons).
func kindText(r protocol.PendingRequest) string {
	if r.Kind != protocol.KindDevice {
		return protocol.KindNode
	}
	switch r.Reason {
	case "":
		return "device"
	case protocol.PairingReasonNotPaired:
		return "device (new)"
	}
	return "device (" + strings.ReplaceAll(r.Reason, "-", " ") + ")"
}

// expiryText is the time left where the gateway gives an expiry; else when
// the request was last kept alive, if the gateway says; else "-" (ASKED
// then says how long it has waited). Nothing is made up: OpenClaw 2026.9
// keeps a node's request until someone decides it, and keeps a device's
// alive while the device retries, without saying when it last did.
func expiryText(r protocol.PendingRequest, now time.Time) string {
	if at, ok := r.ExpiresAt(); ok {
		return countdown(now, at.UnixMilli())
	}
	if r.RefreshedAtMs > 0 {
		return "refreshed " + ago(now, r.RefreshedAtMs)
	}
	return "-"
}

var statusColumns = []column{
	{title: "NAME", cut: 12, grow: 4},
	{title: "STATE"},
	{title: "APPROVAL", drop: 1},
	{title: "NODE", drop: 2},
	{title: "PLATFORM", cut: 8, grow: 1, drop: 4},
	{title: "IP", drop: 6},
	{title: "SEEN", drop: 3},
	{title: "CAPS", cut: 8, grow: 3, drop: 5},
}

// printStatus prints what the gateway knows of each node: paired or only
// asking, and whether it is connected. Where the gateway approves a node's
// commands apart from pairing its device (OpenClaw), approval maps each
// node to its approval state (protocol.Approval*), and the APPROVAL column
// says it: there "paired" only means the device is paired.
func printStatus(p *printer, nodes []protocol.NodeInfo, approval map[string]string, now time.Time) {
	var paired, connected, approved, waiting int
	for _, nd := range nodes {
		if nd.Paired {
			paired++
		}
		if nd.Connected {
			connected++
		}
		switch approval[nd.NodeID] {
		case protocol.ApprovalApproved:
			approved++
		case protocol.ApprovalPending, protocol.ApprovalPendingReapproval:
			waiting++
		}
	}
	if approval != nil {
		p.Line("Known: %d · Approved: %d · Awaiting approval: %d · Connected: %d", len(nodes), approved, waiting, connected)
	} else {
		p.Line("Known: %d · Paired: %d · Connected: %d", len(nodes), paired, connected)
	}
	if len(nodes) == 0 {
		return
	}
	cols, rows := statusColumns, statusRows(nodes, approval, now)
	if approval == nil {
		cols, rows = withoutColumn(cols, rows, 2)
	}
	p.Table(cols, rows)
}

func statusRows(nodes []protocol.NodeInfo, approval map[string]string, now time.Time) [][]string {
	rows := make([][]string, 0, len(nodes))
	for _, nd := range nodes {
		state, seen := "pending", ago(now, max(nd.LastConnectedAtMs, nd.LastSeenAtMs))
		switch {
		case nd.Connected:
			state, seen = "online", "now"
			if !nd.Paired {
				state = "asking"
			}
		case nd.Paired:
			state = "offline"
		}
		caps := joinList(nd.Caps)
		if caps == "" && len(nd.PendingDeclaredCaps) > 0 {
			caps = "asks " + joinList(nd.PendingDeclaredCaps)
		}
		rows = append(rows, []string{nameOr(nd.DisplayName, nd.NodeID), state, approvalText(approval[nd.NodeID]),
			protocol.Fingerprint(nd.NodeID), orDash(nd.Platform), orDash(nd.RemoteIP), seen, orDash(caps)})
	}
	return rows
}

// approvalText is how the APPROVAL column shows an approval state.
func approvalText(state string) string {
	switch state {
	case "":
		return "-"
	case protocol.ApprovalPending:
		return "pending"
	case protocol.ApprovalPendingReapproval:
		return "pending (re-approval)"
	}
	return state
}

// approvalStates maps each node to the approval state of its commands on a
// gateway that approves them apart from pairing its device (OpenClaw), or
// returns nil for one that does not (pairdeck's: there a node is paired or
// asking). OpenClaw 2026.7+ says it in node.list; 2026.4 does not, and its
// node.list calls a node paired once its device is: there a pending node
// request means "pending", a node.pair.list paired record "approved", and
// neither "unapproved" (rejected).
func approvalStates(nodes []protocol.NodeInfo, list *protocol.PairListResult) map[string]string {
	out := map[string]string{}
	for _, nd := range nodes {
		if nd.ApprovalState != "" {
			out[nd.NodeID] = nd.ApprovalState
		}
	}
	if list == nil {
		if len(out) == 0 {
			return nil
		}
		return out
	}
	pending, approved := map[string]bool{}, map[string]bool{}
	for _, r := range list.Pending {
		if r.Kind != protocol.KindDevice {
			pending[r.NodeID] = true
		}
	}
	for _, pn := range list.Paired {
		approved[pn.NodeID] = true
	}
	for _, nd := range nodes {
		if _, ok := out[nd.NodeID]; ok {
			continue
		}
		switch {
		case pending[nd.NodeID] && approved[nd.NodeID]:
			out[nd.NodeID] = protocol.ApprovalPendingReapproval
		case pending[nd.NodeID]:
			out[nd.NodeID] = protocol.ApprovalPending
		case approved[nd.NodeID]:
			out[nd.NodeID] = protocol.ApprovalApproved
		default:
			out[nd.NodeID] = protocol.ApprovalUnapproved
		}
	}
	return out
}

var pairedColumns = []column{
	{title: "NAME", cut: 12, grow: 4},
	{title: "NODE"},
	{title: "PLATFORM", cut: 8, grow: 1, drop: 3},
	{title: "APPROVED", drop: 2},
	{title: "SEEN", drop: 1},
}

func pairedRows(nodes []protocol.PairedNode, now time.Time) [][]string {
	rows := make([][]string, 0, len(nodes))
	for _, nd := range nodes {
		rows = append(rows, []string{nameOr(nd.DisplayName, nd.NodeID), protocol.Fingerprint(nd.NodeID),
			orDash(nd.Platform), ago(now, nd.ApprovedAtMs), ago(now, nd.LastConnectedAtMs)})
	}
	return rows
}

var blockedColumns = []column{
	{title: "NAME", cut: 12, grow: 4},
	{title: "NODE"},
	{title: "TRIES"},
	{title: "LAST TRY", drop: 3},
	{title: "BLOCKED", drop: 5},
	{title: "BY", cut: 12, grow: 2, drop: 4},
	{title: "LAST IP", drop: 6},
}

func blockedRows(list []protocol.BlockedNode, now time.Time) [][]string {
	rows := make([][]string, 0, len(list))
	for _, b := range list {
		rows = append(rows, []string{nameOr(b.DisplayName, b.NodeID), protocol.Fingerprint(b.NodeID), fmt.Sprint(b.Attempts),
			ago(now, b.LastAttemptMs), ago(now, b.BlockedAtMs), orDash(b.BlockedBy), orDash(b.LastRemoteIP)})
	}
	return rows
}

// nameOr is a node's display name, or its fingerprint when it has none,
// as the console shows it.
func nameOr(name, nodeID string) string {
	if s := strings.TrimSpace(name); s != "" {
		return s
	}
	return protocol.Fingerprint(nodeID)
}

// uniquePrefixes shortens each id to its shortest prefix of at least least
// characters that no other id in the list shares, as git shortens hashes.
// Only neighbours in sorted order can share the longest prefix with an id,
// so this is a sort and one pass, whatever the queue's length.
func uniquePrefixes(ids []string, least int) []string {
	order := make([]int, len(ids))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return ids[order[a]] < ids[order[b]] })
	out := make([]string, len(ids))
	for k, i := range order {
		n := least
		if k > 0 {
			n = max(n, commonPrefix(ids[i], ids[order[k-1]])+1)
		}
		if k+1 < len(order) {
			n = max(n, commonPrefix(ids[i], ids[order[k+1]])+1)
		}
		out[i] = ids[i][:min(n, len(ids[i]))]
	}
	return out
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}
