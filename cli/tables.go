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
	{title: "NAME", cut: 12, grow: 4},
	{title: "PLATFORM", cut: 8, grow: 1, drop: 3},
	{title: "IP", drop: 4},
	{title: "NODE", drop: 2},
	{title: "ASKED", drop: 5},
	{title: "EXPIRES"},
}

// printPending prints the queue. On a terminal the request id is shortened
// to the shortest unique prefix (approve and reject take it); piped, it is
// printed whole for scripts.
func printPending(p *printer, pending []protocol.PendingRequest, now time.Time) {
	if len(pending) == 0 {
		p.Line("No pending requests.")
		return
	}
	p.Table(pendingColumns, pendingRows(pending, now, p.tty))
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
		if r.IsRepair {
			name += " (re-pair)"
		}
		expires := "-"
		if at, ok := pendingExpiry(r); ok {
			expires = countdown(now, at.UnixMilli())
		}
		rows = append(rows, []string{shown[i], name, orDash(r.Platform), orDash(r.RemoteIP),
			protocol.Fingerprint(r.NodeID), ago(now, r.TS), expires})
	}
	return rows
}

var statusColumns = []column{
	{title: "NAME", cut: 12, grow: 4},
	{title: "STATE"},
	{title: "NODE", drop: 2},
	{title: "PLATFORM", cut: 8, grow: 1, drop: 4},
	{title: "IP", drop: 6},
	{title: "SEEN", drop: 3},
	{title: "CAPS", cut: 8, grow: 3, drop: 5},
}

// printStatus prints what the gateway knows of each node: paired or only
// asking, and whether it is connected.
func printStatus(p *printer, nodes []protocol.NodeInfo, now time.Time) {
	var paired, connected int
	for _, nd := range nodes {
		if nd.Paired {
			paired++
		}
		if nd.Connected {
			connected++
		}
	}
	p.Line("Known: %d · Paired: %d · Connected: %d", len(nodes), paired, connected)
	if len(nodes) == 0 {
		return
	}
	p.Table(statusColumns, statusRows(nodes, now))
}

func statusRows(nodes []protocol.NodeInfo, now time.Time) [][]string {
	rows := make([][]string, 0, len(nodes))
	for _, nd := range nodes {
		state, seen := "pending", ago(now, nd.LastConnectedAtMs)
		switch {
		case nd.Connected:
			state, seen = "online", "now"
			if !nd.Paired {
				state = "asking"
			}
		case nd.Paired:
			state = "offline"
		}
		rows = append(rows, []string{nameOr(nd.DisplayName, nd.NodeID), state, protocol.Fingerprint(nd.NodeID),
			orDash(nd.Platform), orDash(nd.RemoteIP), seen, orDash(joinList(nd.Caps))})
	}
	return rows
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

// pendingExpiry is when a request expires, and false when the gateway
// gives no expiry (OpenClaw 2026.8+'s requests live while their device
// retries): then the time it has waited is shown, never a deadline made up.
// Where a gateway's rule is known and it sends none, the client fills it.
func pendingExpiry(r protocol.PendingRequest) (time.Time, bool) {
	return r.ExpiresAt()
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
