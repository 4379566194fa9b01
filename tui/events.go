package tui

import (
	"encoding/json"
	"fmt"

	tea "charm.land/bubbletea/v2"

	"github.com/pairdeck/pairdeck/protocol"
)

// refresh asks the backend for the queue and the nodes. One list is in
// flight at a time; asking again meanwhile queues exactly one more, so a
// burst of events costs two lists, not a hundred.
func (m *Model) refresh() tea.Cmd {
	if !m.sync.startList() {
		return nil
	}
	return m.call(func(b Backend) tea.Cmd { return refreshCmd(m.ctx, b) })
}

// applyUpdate handles one update from the subscription. Events are hints
// the console applies at once; the list stays the truth.
func (m *Model) applyUpdate(u protocol.Update) tea.Cmd {
	var cmds []tea.Cmd
	if u.StateChanged {
		if u.Err != nil && (m.connErr == nil || errText(u.Err) != errText(m.connErr)) {
			// The header may have no room for why: it can be read in full.
			m.keepSaid(errorFlash("Gateway link: "+errText(u.Err), m.now()))
		}
		m.conn, m.connErr, m.retryAt = u.State, u.Err, u.RetryAt
		if u.State == protocol.Connected {
			m.everConnected = true
			// A backend that follows its gateway says where it is now,
			// and what that gateway offers.
			if f, ok := m.backend.(interface{ URL() string }); ok && m.opts.Remote {
				m.endpoint = f.URL()
			}
			m.features = featuresOf(m.backend)
			if !m.offered(m.view) {
				m.view = viewPending
			}
		} else if m.pairing.known {
			// The switch may change while the link is down.
			m.pairing.stale = true
		}
		m.log.Info("gateway link", "state", u.State.String(), "err", u.Err)
		cmds = append(cmds, m.historyOnLink(u.State))
	}
	if u.Relist {
		cmds = append(cmds, m.refresh())
	}
	if u.Event != nil {
		cmds = append(cmds, m.applyEvent(u.Event))
	}
	return tea.Batch(cmds...)
}

func (m *Model) applyEvent(ev *protocol.Event) tea.Cmd {
	decode := func(v any) bool {
		if err := json.Unmarshal(ev.Payload, v); err != nil {
			m.log.Warn("undecodable event; re-listing", "event", ev.Event, "err", err)
			return false
		}
		return true
	}
	if cmd, handled := m.applyPolicyEvent(ev); handled {
		return cmd
	}
	now := m.now()
	switch ev.Event {
	case protocol.EventPairRequested:
		var req protocol.PendingRequest
		if !decode(&req) || req.RequestID == "" {
			return m.refresh()
		}
		return m.onRequested(req)

	case protocol.EventPairResolved:
		var res protocol.ResolvedEvent
		if !decode(&res) {
			return m.refresh()
		}
		kind, known := decisionKind(res.Decision)
		// This console's own decision: its call is in flight (the row is
		// busy) or has answered (it logged the decision). The answer says
		// what changed, so no re-list is needed for it.
		mine := m.pending.busy[res.RequestID] != "" || m.sync.isDecided(res.RequestID)
		name := m.nameOf(res.NodeID)
		r, listed := m.pending.Get(res.RequestID)
		if listed {
			name = r.name()
		}
		_, saying := m.pending.gone[res.RequestID]
		switch {
		case !listed, saying:
		case mine || !known:
			m.pending.Remove(res.RequestID)
		default:
			// Decided elsewhere, or expired: the row stays a moment and
			// says so, rather than vanish from under the cursor.
			m.pending.Gone(res.RequestID, goneOf(kind, res.Actor), now)
		}
		if !known {
			m.log.Warn("resolved with an unknown decision", "requestId", res.RequestID, "decision", res.Decision)
			return m.refresh()
		}
		m.logOnce(decided(res.RequestID), activityEntry{
			at: msTime(res.TS), kind: kind, nodeID: res.NodeID, requestID: res.RequestID, name: name, actor: res.Actor,
			note: withReason("", res.Reason),
		})
		switch {
		case mine:
		case res.Decision == protocol.DecisionApproved:
			return m.refresh() // the paired list has a new (or re-keyed) node
		case res.Kind == protocol.KindNode:
			// An OpenClaw node's commands were refused elsewhere: its
			// approval state is the gateway's to say.
			return m.refresh()
		}
		return nil

	case protocol.EventNodeRenamed:
		var rn protocol.RenamedEvent
		if !decode(&rn) {
			return m.refresh()
		}
		m.applyRename(rn.NodeID, rn.DisplayName, rn.Actor, msTime(rn.TS))
		return nil

	case protocol.EventPairRemoved:
		var rm protocol.RemovedEvent
		if !decode(&rm) {
			return m.refresh()
		}
		m.applyRemove(rm.NodeID, m.nameOf(rm.NodeID), rm.Actor, msTime(rm.TS))
		return nil

	case protocol.EventNodePresence:
		var p protocol.PresenceEvent
		if !decode(&p) {
			return m.refresh()
		}
		at := msTime(p.TS)
		if at.IsZero() {
			at = now
		}
		if !m.paired.Presence(p.NodeID, p.Connected, at) && p.Connected {
			return m.refresh() // a node we have not listed yet
		}
		return nil

	case protocol.EventShutdown:
		var s protocol.ShutdownEvent
		_ = json.Unmarshal(ev.Payload, &s)
		m.flash = errorFlash("The gateway is shutting down: "+orDash(s.Reason), now)
		return nil
	}
	return nil
}

// onRequested shows a new request at once, or refreshes one in place.
func (m *Model) onRequested(req protocol.PendingRequest) tea.Cmd {
	if m.sync.isDecided(req.RequestID) {
		return nil // an echo of a request already approved, rejected or expired
	}
	m.sync.announced(req)
	if !m.pending.Upsert(req, m.now()) {
		return nil
	}
	m.askingAgain(req)
	m.activity.Add(requestedEntry(req))
	return tea.Batch(m.ring(), m.considerSilent(req))
}

// askingAgain shows that a paired node of an OpenClaw gateway asks again
// (a node request of its: its commands wait for re-approval) where the
// gateway does not say so itself. pairdeck's requests have no kind: a
// re-pair there leaves the node paired as it was until approved.
func (m *Model) askingAgain(req protocol.PendingRequest) {
	if req.Kind == protocol.KindNode {
		m.paired.Asking(req.NodeID, req.RequestID)
	}
}

// requestedEntry logs a node's request; the node itself is who did it.
func requestedEntry(req protocol.PendingRequest) activityEntry {
	return activityEntry{
		at: msTime(req.TS), kind: actRequested, nodeID: req.NodeID, requestID: req.RequestID,
		name: nameOr(req.DisplayName, req.NodeID), actor: "the node", note: requestNote(req),
	}
}

// goneOf is how a request decided elsewhere says what became of it.
func goneOf(kind activityKind, actor string) goneRow {
	by := ""
	if actor != "" {
		by = " by " + actor
	}
	switch kind {
	case actApproved:
		return goneRow{glyph: glyphApproved, word: "approved elsewhere" + by}
	case actRejected:
		return goneRow{glyph: glyphRejected, word: "rejected elsewhere" + by}
	default:
		return goneRow{glyph: glyphExpired, word: "expired"}
	}
}

func decisionKind(d string) (activityKind, bool) {
	switch d {
	case protocol.DecisionApproved:
		return actApproved, true
	case protocol.DecisionRejected:
		return actRejected, true
	case protocol.DecisionExpired:
		return actExpired, true
	}
	return 0, false
}

func requestNote(req protocol.PendingRequest) string {
	switch {
	case req.Kind == protocol.KindDevice:
		return kindText(req) // why a device asks says more than where from
	case req.IsRepair && req.Kind != "":
		return "asks again: approved before"
	case req.IsRepair:
		return "re-pair: token will rotate"
	}
	return req.RemoteIP
}

// nameOf finds a node's name in either list.
func (m *Model) nameOf(nodeID string) string {
	if r, ok := m.paired.Get(nodeID); ok {
		return r.name()
	}
	name := ""
	m.pending.list.Each(func(r pendingRow) {
		if name == "" && r.req.NodeID == nodeID {
			name = r.name()
		}
	})
	return nameOr(name, nodeID)
}

func (m *Model) onRefreshed(msg refreshedMsg) tea.Cmd {
	now := m.now()
	firstLoad := !m.sync.loaded
	again := m.sync.listAnswered(msg.listErr, now)
	if msg.listErr != nil {
		m.log.Warn("list failed", "err", msg.listErr)
		m.flash = errorFlash(fmt.Sprintf("Could not list requests: %s (retrying in %ds)", errText(msg.listErr), int(retryAfter.Seconds())), now)
	}
	var cmds []tea.Cmd
	m.applyPolicy(msg.policy)
	switch {
	case !msg.codesAsked:
	case msg.codesErr == nil:
		m.codes.Replace(msg.codes)
	case m.features.offers(FeatureCodes):
		m.log.Warn("code list failed", "err", msg.codesErr)
		m.codes.listErr = sentence(errText(msg.codesErr))
	}
	if msg.listErr == nil {
		cmds = append(cmds, m.applyList(msg.list, msg.nodes, msg.nodesErr, firstLoad))
	}
	if msg.nodesErr != nil {
		m.log.Warn("node list failed", "err", msg.nodesErr)
	}
	// Once per distinct error: presence is a nicety, the queue is not.
	if m.sync.nodesFailed(msg.nodesErr) && msg.listErr == nil {
		m.flash = errorFlash("Node presence unavailable: "+errText(msg.nodesErr), now)
	}
	if again {
		cmds = append(cmds, m.refresh())
	}
	return tea.Batch(cmds...)
}

// applyList installs a list result, minus what events have already
// overtaken (see syncState.merge). The first list is the queue as found:
// its requests are not news for the activity log or the bell.
func (m *Model) applyList(list protocol.PairListResult, nodes protocol.NodeListResult, nodesErr error, firstLoad bool) tea.Cmd {
	now := m.now()
	pending := m.sync.merge(list.Pending, now)

	var arrived int
	if !firstLoad {
		for _, req := range pending {
			if _, known := m.pending.Get(req.RequestID); !known {
				arrived++
				m.activity.Add(requestedEntry(*req))
			}
		}
	}
	m.pending.Replace(pending, now)

	var infos map[string]protocol.NodeInfo
	if nodesErr == nil {
		infos = make(map[string]protocol.NodeInfo, len(nodes.Nodes))
		for _, n := range nodes.Nodes {
			infos[n.NodeID] = n
		}
	}
	m.paired.Replace(list.Paired, nodes.Nodes, infos)
	for _, req := range pending {
		m.askingAgain(*req)
	}
	var cmds []tea.Cmd
	if arrived > 0 {
		cmds = append(cmds, m.ring())
	}
	for _, req := range pending {
		cmds = append(cmds, m.considerSilent(*req))
	}
	return tea.Batch(cmds...)
}
