package tui

import (
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/pairdeck/pairdeck/protocol"
)

// startDecision marks the requests busy and calls the backend.
func (m *Model) startDecision(action decision, targets []decisionTarget, reason string) tea.Cmd {
	if len(targets) == 0 {
		return nil
	}
	for _, t := range targets {
		m.pending.SetBusy(t.requestID, action.busy())
		delete(m.pending.marks, t.requestID)
	}
	m.log.Info("deciding", "action", action.verb(), "count", len(targets))
	return m.call(func(b Backend) tea.Cmd { return decideCmd(m.ctx, b, action, "", reason, targets) })
}

// askBulk opens the confirmation for a bulk decision on the requests
// marked now: the snapshot the dialog shows, and the only requests it will
// ever act on.
func (m *Model) askBulk(msg askBulkMsg) {
	if len(msg.targets) == 0 {
		m.flash = errorFlash("None of the marked requests can be decided (expired or in progress).", m.now())
		return
	}
	b := bulkDialog{action: msg.action, targets: msg.targets, skipped: msg.skipped}
	m.confirm = &confirmDialog{bulk: &b, then: bulkConfirmedMsg{bulk: b}}
}

// bulkDialog is a bulk decision waiting for its confirmation: the requests
// it showed, and how many marked ones it left out from the start.
type bulkDialog struct {
	action  decision
	targets []decisionTarget
	skipped int // marked but expired or in progress when it opened
}

// bulkConfirmedMsg: the operator confirmed a bulk decision.
type bulkConfirmedMsg struct{ bulk bulkDialog }

// stillDecidable splits a dialog's requests into those that can still be
// decided and, for the others, what became of them since it opened.
func (m *Model) stillDecidable(targets []decisionTarget) (live []decisionTarget, changed []string) {
	now := m.now()
	for _, t := range targets {
		if ok, what := m.pending.still(t, now); ok {
			live = append(live, t)
		} else {
			changed = append(changed, what)
		}
	}
	return live, changed
}

// bulkView is the bulk dialog as things stand: it never offers more than
// it showed, and says what changed since.
func (m *Model) bulkView(b bulkDialog) confirmDialog {
	live, changed := m.stillDecidable(b.targets)
	verb := strings.ToUpper(b.action.verb()[:1]) + b.action.verb()[1:]
	since := "Changed since this opened: " + strings.Join(changed, "; ") + "."
	if len(live) == 0 {
		return confirmDialog{
			title: "Nothing left to " + b.action.verb(),
			body:  []string{since},
			yes:   "close",
		}
	}
	n := len(live)
	body := []string{fmt.Sprintf("%s %s.", verb, plural(n, "marked request", "marked requests"))}
	hidden := 0
	for _, t := range live {
		if !m.pending.list.Visible(t.requestID) {
			hidden++
		}
	}
	if hidden > 0 {
		body = append(body, fmt.Sprintf("%s hidden by the filter “%s”.",
			plural(hidden, "of them is", "of them are"), m.pending.list.Filter()))
	} else if n == 1 {
		body = append(body, "It is in view.")
	} else {
		body = append(body, "All of them are in view.")
	}
	if b.skipped > 0 {
		body = append(body, fmt.Sprintf("%s skipped (expired or in progress).", plural(b.skipped, "marked request is", "marked requests are")))
	}
	if len(changed) > 0 {
		body = append(body, since)
	}
	return confirmDialog{title: fmt.Sprintf("%s %d?", verb, n), body: body, yes: b.action.verb()}
}

// decideBulk decides what is left of a confirmed bulk dialog's requests.
func (m *Model) decideBulk(b bulkDialog) tea.Cmd {
	live, changed := m.stillDecidable(b.targets)
	if len(live) == 0 {
		m.flash = errorFlash(fmt.Sprintf("Nothing %s: %s.", b.action.past(), strings.Join(changed, "; ")), m.now())
		return nil
	}
	return emit(decideMsg{action: b.action, targets: live})
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// onDecided reports what a decision did. A token the node did not receive
// is queued for the one-time token dialog; it is never logged.
func (m *Model) onDecided(msg decidedMsg) tea.Cmd {
	now := m.now()
	var done []decisionResult
	var failed []decisionResult
	stale, relist := false, false
	for _, res := range msg.results {
		m.pending.SetBusy(res.requestID, "")
		if res.err != nil {
			failed = append(failed, res)
			m.log.Warn("decision failed", "action", msg.action.verb(), "requestId", res.requestID, "err", res.err)
			switch errReason(res.err) {
			case protocol.ReasonUnknownRequest, protocol.ReasonAlreadyResolved:
				stale = true
			}
			continue
		}
		done = append(done, res)
		m.pending.Remove(res.requestID)
		kind := actRejected
		note := withReason("", msg.reason)
		got := approvalOutcome(0)
		if msg.action == approve {
			kind = actApproved
			got = outcomeOf(res.approved)
			note = got.note()
		}
		actor := m.self()
		if msg.rule != "" {
			actor = protocol.Actor{Rule: msg.rule}.String()
		}
		m.logOnce(decided(res.requestID), activityEntry{
			at: now, kind: kind, nodeID: res.nodeID, requestID: res.requestID, name: res.name, actor: actor, note: note,
		})
		m.log.Info("decided", "action", msg.action.past(), "requestId", res.requestID,
			"nodeId", res.nodeID, "kind", res.kind, "delivered", res.approved.Delivered, "noToken", res.approved.NoToken)
		switch {
		case msg.action == reject && res.kind == protocol.KindNode:
			// An OpenClaw node stays, its commands refused.
			relist = relist || !m.paired.Rejected(res.nodeID, res.requestID)
		case msg.action == reject, got == atConnect:
			// A device approved is not a node: it joins the Paired view
			// when it connects and asks as one.
		case got == notNeeded:
			m.paired.Approved(res.approved.Node, true)
		default:
			m.paired.Approved(res.approved.Node, false)
		}
		if tok := res.approved.Node.Token; got == toHandOver && tok != "" {
			m.tokens = append(m.tokens, tokenNotice{name: res.name, nodeID: res.nodeID, token: tok})
		}
	}
	via := ""
	if msg.rule != "" {
		via = " (" + msg.rule + " passed)"
	}
	m.flash = decisionFlash(msg.action, via, done, failed, now)

	// The answers say what changed (the approved nodes are in the paired
	// list now); only a stale id or a failure — a call that may or may not
	// have taken effect — or an outcome only the gateway knows sends the
	// console back to the gateway.
	if stale || relist || len(failed) > 0 {
		return m.refresh()
	}
	return nil
}

// approvalOutcome is what became of the node's credential when a request
// was approved: what the operator must (or need not) do next.
type approvalOutcome int

const (
	// delivered: the waiting node received its token (pairdeck).
	delivered approvalOutcome = iota + 1
	// toHandOver: the node was not connected; its token is shown here,
	// once, to pass on (pairdeck).
	toHandOver
	// notNeeded: a node of an OpenClaw gateway, which signs in with the
	// device token it already has. 2026.8+ issue no node token; 2026.4
	// and 2026.7 issue one its node never uses: it is not shown.
	notNeeded
	// atConnect: an OpenClaw device, which the gateway gives its device
	// token itself when it next connects.
	atConnect
)

func outcomeOf(res protocol.ApproveResult) approvalOutcome {
	switch {
	case res.NoToken == protocol.NoTokenDeviceApproval, res.Kind == protocol.KindDevice:
		return atConnect
	case res.NoToken != "", res.Kind != "":
		return notNeeded
	case res.Delivered:
		return delivered
	}
	return toHandOver
}

// note is the outcome for the activity log.
func (o approvalOutcome) note() string {
	switch o {
	case delivered:
		return "token delivered"
	case toHandOver:
		return "token handed over here"
	case notNeeded:
		return "uses its device token"
	case atConnect:
		return "token at next connect"
	}
	return ""
}

// decisionFlash sums up a decision; via says what vouched for an
// automatic one (" (ssh-check passed)"), "" for the operator's own.
func decisionFlash(action decision, via string, done, failed []decisionResult, now time.Time) flash {
	if len(failed) > 0 {
		f := failed[0]
		text := fmt.Sprintf("Could not %s %s%s: %s", action.verb(), f.name, via, errText(f.err))
		if total := len(done) + len(failed); total > 1 {
			text = fmt.Sprintf("%s %d of %d%s; %d failed — %s: %s",
				strings.ToUpper(action.past()[:1])+action.past()[1:], len(done), total, via, len(failed), f.name, errText(f.err))
		}
		return errorFlash(text, now)
	}
	if action == reject {
		if len(done) == 1 {
			d := done[0]
			if d.kind == protocol.KindDevice {
				return infoFlash(glyphRejected+" Rejected device "+d.name+"'s pairing request.", now)
			}
			return infoFlash(glyphRejected+" Rejected "+d.name+".", now)
		}
		return infoFlash(fmt.Sprintf("%s Rejected %d requests.", glyphRejected, len(done)), now)
	}
	count := map[approvalOutcome]int{}
	for _, d := range done {
		count[outcomeOf(d.approved)]++
	}
	if len(done) == 1 {
		d := done[0]
		switch outcomeOf(d.approved) {
		case delivered:
			return infoFlash(glyphApproved+" Approved "+d.name+via+" — the node received its token.", now)
		case notNeeded:
			return infoFlash(glyphApproved+" Approved "+d.name+"'s commands"+via+"; the node goes on with its device token.", now)
		case atConnect:
			return infoFlash(glyphApproved+" Approved device "+d.name+via+"; it gets its token when it next connects.", now)
		}
		return infoFlash(glyphApproved+" Approved "+d.name+via+" — the node is not connected: hand it the token.", now)
	}
	if count[notNeeded]+count[atConnect] > 0 {
		// An OpenClaw gateway's: no token to hand over, whatever was
		// approved.
		var what []string
		if n := count[notNeeded]; n > 0 {
			what = append(what, plural(n, "node's commands", "nodes' commands"))
		}
		if n := count[atConnect]; n > 0 {
			what = append(what, plural(n, "device", "devices"))
		}
		return infoFlash(fmt.Sprintf("%s Approved %s%s; nothing to hand over: each signs in with its own device token.",
			glyphApproved, strings.Join(what, " and "), via), now)
	}
	undelivered := count[toHandOver]
	text := fmt.Sprintf("%s Approved %d requests%s; %d received their token", glyphApproved, len(done), via, len(done)-undelivered)
	if undelivered > 0 {
		text += fmt.Sprintf(", %d to hand over", undelivered)
	}
	return infoFlash(text+".", now)
}

func (m *Model) onRenamed(msg renamedMsg) tea.Cmd {
	now := m.now()
	if msg.err != nil {
		m.log.Warn("rename failed", "nodeId", msg.nodeID, "err", msg.err)
		m.flash = errorFlash("Could not rename "+m.nameOf(msg.nodeID)+": "+errText(msg.err), now)
		return nil
	}
	m.applyRename(msg.nodeID, msg.name, m.self(), now)
	m.flash = infoFlash(glyphRenamed+" Renamed to “"+msg.name+"”.", now)
	return nil
}

// applyRename shows a new name everywhere and logs it once.
func (m *Model) applyRename(nodeID, name, actor string, at time.Time) {
	old := m.nameOf(nodeID)
	m.pending.RenameNode(nodeID, name, m.now())
	m.paired.Rename(nodeID, name)
	note := ""
	if old != name {
		note = "was " + old
	}
	m.logOnce(happening{kind: hapRenamed, id: nodeID, detail: name}, activityEntry{
		at: at, kind: actRenamed, nodeID: nodeID, name: nameOr(name, nodeID), actor: actor, note: note,
	})
}

func (m *Model) onRemoved(msg removedMsg) tea.Cmd {
	now := m.now()
	if msg.err != nil {
		m.log.Warn("remove failed", "nodeId", msg.nodeID, "err", msg.err)
		m.flash = errorFlash("Could not remove "+msg.name+": "+errText(msg.err), now)
		if errReason(msg.err) == protocol.ReasonUnknownNode {
			return m.refresh()
		}
		return nil
	}
	m.applyRemove(msg.nodeID, msg.name, m.self(), now)
	m.flash = infoFlash(glyphRemoved+" Removed "+msg.name+".", now)
	return nil
}

func (m *Model) applyRemove(nodeID, name, actor string, at time.Time) {
	m.paired.Remove(nodeID)
	m.logOnce(happening{kind: hapRemoved, id: nodeID}, activityEntry{
		at: at, kind: actRemoved, nodeID: nodeID, name: name, actor: actor,
	})
}

// trimName cleans a typed name: no surrounding space, no control
// characters (a pasted newline would break every list it appears in).
func trimName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}
