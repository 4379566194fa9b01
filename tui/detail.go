package tui

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
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
	if req.Kind == "" {
		// pairdeck's gateway: every request is a node's, and these are
		// all the fields it has.
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
	return openClawRequestFields(r, now, expires, scopes)
}

// openClawRequestFields are a request of a gateway that names kinds: what
// kind it is and why it waits first, then every field it sent — the ones
// pairdeck does not model too.
func openClawRequestFields(r pendingRow, now time.Time, expires string, scopes []string) []field {
	req := r.req
	device := req.Kind == protocol.KindDevice
	kind := "node: the commands it declares wait for approval"
	idLabel, repair := "Node ID", "no"
	if req.IsRepair {
		repair = "yes: the node was approved before and asks again"
	}
	if device {
		kind = "device: it asks to be paired with the gateway"
		idLabel = "Device ID"
		if req.IsRepair {
			repair = "yes: the device is paired and asks for more"
		}
	}
	if req.Kind != protocol.KindNode && !device {
		kind = req.Kind
	}
	fields := []field{
		{"Name", orDash(req.DisplayName)},
		{"Kind", kind},
	}
	if device {
		fields = append(fields, field{"Reason", reasonSentence(req.Reason)})
	}
	fields = append(fields,
		field{idLabel, req.NodeID},
		field{"Fingerprint", shortID(req.NodeID)},
		field{"Client", orDash(req.ClientID) + " / " + orDash(req.ClientMode)},
	)
	roles := req.Roles
	if req.Role != "" && !slices.Contains(roles, req.Role) {
		roles = append([]string{req.Role}, roles...)
	}
	if len(roles) > 0 || device {
		fields = append(fields, field{"Roles", listText(roles)})
	}
	if len(req.Scopes) > 0 || device {
		fields = append(fields, field{"Scopes", listText(req.Scopes)})
	}
	fields = append(fields,
		field{"Platform", orDash(req.Platform)},
		field{"Version", orDash(req.Version)},
		field{"Core / UI", orDash(req.CoreVersion) + " / " + orDash(req.UIVersion)},
		field{"Device family", orDash(req.DeviceFamily)},
		field{"Model", orDash(req.ModelIdentifier)},
		field{"IP", orDash(req.RemoteIP)},
	)
	if !device {
		fields = append(fields,
			field{"Caps", listText(req.Caps)},
			field{"Commands", listText(req.Commands)},
			field{"Permissions", permissionsText(req.Permissions)},
		)
	}
	fields = append(fields,
		field{"Silent", yesNo(req.Silent)},
		field{"Repair", repair},
		field{"Approval needs", listText(scopes)},
		field{"Requested", whenText(msTime(req.TS), now)},
	)
	if req.RefreshedAtMs > 0 {
		fields = append(fields, field{"Refreshed", whenText(msTime(req.RefreshedAtMs), now)})
	}
	fields = append(fields,
		field{"Expires", expires},
		field{"Request ID", req.RequestID},
	)
	return append(fields, extraFields(req.Extra)...)
}

// permissionsText lists the permissions a node declares: those it grants,
// then those it says it does not.
func permissionsText(p protocol.Permissions) string {
	if len(p) == 0 {
		return "—"
	}
	var denied []string
	for k, v := range p {
		if !v {
			denied = append(denied, k)
		}
	}
	slices.Sort(denied)
	text := listText(p.Granted())
	if len(denied) > 0 {
		text += " (not: " + strings.Join(denied, ", ") + ")"
	}
	return text
}

// extraValueLimit bounds one unmodelled field's value in the detail pane:
// a gateway could send anything there.
const extraValueLimit = 240

// extraFields are the fields a gateway sent that pairdeck does not model,
// by name, each value as compact JSON — escaped for the terminal like
// every value of the pane (detailView.lines), and cut when long.
func extraFields(extra map[string]json.RawMessage, more ...map[string]json.RawMessage) []field {
	all := map[string]json.RawMessage{}
	for _, m := range append([]map[string]json.RawMessage{extra}, more...) {
		for k, v := range m {
			if _, ok := all[k]; !ok {
				all[k] = v
			}
		}
	}
	keys := slices.Sorted(maps.Keys(all))
	fields := make([]field, 0, len(keys))
	for i, k := range keys {
		var b bytes.Buffer
		value := string(all[k])
		if json.Compact(&b, all[k]) == nil {
			value = b.String()
		}
		if len(value) > extraValueLimit {
			value = fmt.Sprintf("%s… (%d bytes)", strings.ToValidUTF8(value[:extraValueLimit], ""), len(value))
		}
		label := ""
		if i == 0 {
			label = "Also sent"
		}
		fields = append(fields, field{label, k + ": " + value})
	}
	return fields
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
	fields := []field{
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
	if r.approval() == "" && n.ClientID == "" && r.info.ClientID == "" && len(n.Extra) == 0 && len(r.info.Extra) == 0 {
		return fields // pairdeck's gateway: these are all the fields it has
	}
	return openClawNodeFields(r, fields)
}

// openClawNodeFields add what an OpenClaw gateway says of a node to the
// fields every node has: whether its commands are approved (right after
// its state), what it asks for, and every field pairdeck does not model.
func openClawNodeFields(r pairedRow, base []field) []field {
	n, info := r.node, r.info
	fields := slices.Clone(base[:4]) // name, ids, state
	if state := r.approval(); state != "" {
		fields = append(fields, field{"Approval", r.approvalSentence()})
	}
	if len(info.PendingDeclaredCaps)+len(info.PendingDeclaredCommands) > 0 {
		fields = append(fields,
			field{"Asks caps", listText(info.PendingDeclaredCaps)},
			field{"Asks commands", listText(info.PendingDeclaredCommands)},
		)
	}
	if len(info.PendingDeclaredPermissions) > 0 {
		fields = append(fields, field{"Asks perms", permissionsText(info.PendingDeclaredPermissions)})
	}
	client, mode := n.ClientID, n.ClientMode
	if client == "" {
		client, mode = info.ClientID, info.ClientMode
	}
	fields = append(fields, field{"Client", orDash(client) + " / " + orDash(mode)})
	fields = append(fields, base[4:]...)
	perms := n.Permissions
	if len(perms) == 0 {
		perms = info.Permissions
	}
	fields = append(fields, field{"Permissions", permissionsText(perms)})
	if reason := cmp.Or(n.LastSeenReason, info.LastSeenReason); reason != "" {
		fields = append(fields, field{"Last seen as", reason})
	}
	return append(fields, extraFields(n.Extra, info.Extra)...)
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
