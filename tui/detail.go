package tui

import (
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/styles"
	"github.com/pairdeck/pairdeck/tui/table"
)

// detailView shows every field of one request or node. It follows its row
// by key and stays live: the countdown keeps running while it is open.
type detailView struct {
	open   bool
	view   viewID // whose row it shows, and whose keys act on it
	key    string // the row's key in that view: request id or node id
	offset int    // first line shown, when the fields do not fit

	width, height int
}

// field is one labelled line of the pane.
type field struct {
	label string
	value string
}

// detailLabelWidth fits the longest label and a space; with a one-space
// indent, a 64-hex node id fits on one line of an 80-column terminal.
const detailLabelWidth = 15

func (d *detailView) SetSize(w, h int) { d.width, d.height = w, h }

// Update scrolls the pane; lines is how many it has now.
func (d detailView) Update(msg tea.KeyPressMsg, keys KeyMap, lines int) (detailView, tea.Cmd) {
	d.offset = scroll(d.offset, msg, keys, lines, d.height)
	return d, nil
}

func pendingFields(r pendingRow, now time.Time) []field {
	req := r.req
	expires := "none given: the request waits until the gateway drops it"
	if !r.expiresAt.IsZero() {
		cd, _ := countdown(r.expiresAt.Sub(now))
		expires = strings.TrimSpace(cd) + " · " + r.expiresAt.In(now.Location()).Format("2006-01-02 15:04:05")
	}
	repair := "no"
	if req.IsRepair {
		repair = "yes — the node's token will rotate"
	}
	scopes := req.RequiredApproveScopes
	if len(scopes) == 0 {
		// Gateways that predate the field: the rule is public.
		scopes = protocol.RequiredApproveScopes(req.Commands)
	}
	return []field{
		{"Name", orDash(req.DisplayName)},
		{"Node ID", req.NodeID},
		{"Fingerprint", shortID(req.NodeID)},
		{"Platform", orDash(req.Platform)},
		{"Version", orDash(req.Version)},
		{"Core / UI", orDash(req.CoreVersion) + " / " + orDash(req.UIVersion)},
		{"Device family", orDash(req.DeviceFamily)},
		{"Model", orDash(req.ModelIdentifier)},
		{"IP", orDash(req.RemoteIP)},
		{"Caps", listText(req.Caps)},
		{"Commands", listText(req.Commands)},
		{"Silent", yesNo(req.Silent)},
		{"Repair", repair},
		{"Approval needs", strings.Join(scopes, ", ")},
		{"Requested", whenText(msTime(req.TS), now)},
		{"Expires", expires},
		{"Request ID", req.RequestID},
	}
}

func pairedFields(r pairedRow, now time.Time) []field {
	n := r.node
	when := func(ms int64) string {
		if ms <= 0 {
			return "—"
		}
		return whenText(msTime(ms), now)
	}
	// Online: since when. Offline: when it was last there (a connection
	// began, or the console saw it leave).
	link := field{"Last seen", "never"}
	switch {
	case r.hasInfo && r.info.Connected:
		link = field{"Online since", when(r.info.ConnectedAtMs)}
	case !r.lastSeen().IsZero():
		link.value = whenText(r.lastSeen(), now)
	}
	caps, commands := n.Caps, n.Commands
	if len(caps) == 0 {
		caps = r.info.Caps
	}
	if len(commands) == 0 {
		commands = r.info.Commands
	}
	return []field{
		{"Name", orDash(n.DisplayName)},
		{"Node ID", n.NodeID},
		{"Fingerprint", shortID(n.NodeID)},
		{"State", r.stateText()},
		{"Platform", orDash(n.Platform)},
		{"Version", orDash(n.Version)},
		{"Core / UI", orDash(n.CoreVersion) + " / " + orDash(n.UIVersion)},
		{"Device family", orDash(n.DeviceFamily)},
		{"Model", orDash(n.ModelIdentifier)},
		{"IP", orDash(n.RemoteIP)},
		{"Caps", listText(caps)},
		{"Commands", listText(commands)},
		// The record holds when it was made (the first approval) and the
		// last approval (a re-pair moves it); no record holds when the
		// node first asked.
		{"First paired", when(n.CreatedAtMs)},
		{"Last approved", when(n.ApprovedAtMs)},
		{"Renamed", when(n.RenamedAtMs)},
		link,
	}
}

// lines lays the fields out: labels in a column, long values wrapped
// beneath their first line.
func (d detailView) lines(title string, fields []field, st *styles.Styles) []string {
	out := []string{st.DialogTitle.Render(ansi.Truncate(protocol.Printable(title), d.width, "…")), ""}
	valueWidth := max(d.width-detailLabelWidth-1, 10)
	pad := strings.Repeat(" ", detailLabelWidth+1)
	for _, f := range fields {
		wrapped := strings.Split(ansi.Wrap(protocol.Printable(f.value), valueWidth, ", "), "\n")
		for i, part := range wrapped {
			label := pad
			if i == 0 {
				label = " " + st.DetailLabel.Render(table.Fit(f.label, detailLabelWidth, false))
			}
			out = append(out, label+st.DetailValue.Render(part))
		}
	}
	return out
}

// View draws the visible part of the pane.
func (d detailView) View(all []string, st *styles.Styles) string {
	return scrollView(all, d.offset, d.height, st)
}
