package tui

import (
	"encoding/json"
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/pairdeck/pairdeck/protocol"
)

// pairingSwitch is the gateway's pairing switch as the console knows it.
type pairingSwitch struct {
	known   bool // a pairdeck gateway said; others have no switch
	enabled bool
	busy    bool // a switch is in flight
	// stale: known from before the link dropped, not said again since.
	stale bool
}

// sure reports whether the console knows the switch as it is now.
func (p pairingSwitch) sure() bool { return p.known && !p.stale }

// Intents of pairdeck's own controls.
type (
	// askBlockMsg asks to confirm blocking a node.
	askBlockMsg struct{ target blockTarget }
	// blockMsg asks to block a node now; asked says the operator was
	// asked for a reason (or the gateway keeps none).
	blockMsg struct {
		target blockTarget
		asked  bool
	}
	// setPairingMsg asks to switch the gateway's pairing on or off.
	setPairingMsg struct{ on bool }
)

// applyPolicy installs the switch and the block list from a list. A
// gateway that does not know the methods has neither; other failures keep
// what was known.
func (m *Model) applyPolicy(snap *policySnapshot) {
	if snap == nil {
		return
	}
	switch {
	case snap.pairingErr == nil:
		m.pairing.known, m.pairing.enabled, m.pairing.stale = true, snap.pairing.Enabled, false
	case errReason(snap.pairingErr) == protocol.ReasonUnknownMethod:
		m.pairing = pairingSwitch{}
	default:
		m.log.Warn("pairing switch unavailable", "err", snap.pairingErr)
	}
	switch {
	case snap.blockedErr == nil:
		m.blocked.supported = true
		m.blocked.Replace(snap.blocked)
	case errReason(snap.blockedErr) == protocol.ReasonUnknownMethod:
		m.blocked.supported = false
		m.blocked.Replace(nil)
	default:
		m.log.Warn("block list unavailable", "err", snap.blockedErr)
	}
}

// togglePairing asks for the switch the other way, where there is one.
func (m *Model) togglePairing() tea.Cmd {
	if !m.pairing.sure() || m.pairing.busy {
		return nil
	}
	return emit(setPairingMsg{on: !m.pairing.enabled})
}

// setPairing asks the gateway to switch pairing on or off.
func (m *Model) setPairing(on bool) tea.Cmd {
	cmd := m.call(func(b Backend) tea.Cmd { return setPairingCmd(m.ctx, b, on) })
	if cmd != nil {
		m.pairing.busy = true
	}
	return cmd
}

func pairingSwitched(on bool) happening { return happening{kind: hapPairing, detail: onOff(on)} }

func (m *Model) onPairingSet(msg pairingSetMsg) tea.Cmd {
	m.pairing.busy = false
	now := m.now()
	if msg.err != nil {
		m.log.Warn("switch pairing failed", "err", msg.err)
		m.flash = errorFlash("Could not switch pairing "+onOff(!m.pairing.enabled)+": "+errText(msg.err), now)
		return nil
	}
	m.applyPairing(msg.state.Enabled, m.self(), now)
	m.flash = pairingFlash(msg.state.Enabled, now)
	return nil
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

func pairingFlash(on bool, now time.Time) flash {
	if on {
		return infoFlash(glyphPairingOn+" Pairing is on: nodes may ask to join again.", now)
	}
	return errorFlash(glyphPairingOff+" Pairing is off: nodes' requests are refused until it is switched on (P).", now)
}

// applyPairing shows a switch and logs it once.
func (m *Model) applyPairing(on bool, actor string, at time.Time) {
	m.pairing.known, m.pairing.enabled, m.pairing.stale = true, on, false
	kind := actPairingOff
	if on {
		kind = actPairingOn
	}
	note := "nodes' requests are refused"
	if on {
		note = "nodes may ask to join"
	}
	m.logOnce(pairingSwitched(on), activityEntry{at: at, kind: kind, actor: actor, note: note})
}

// applyPolicyEvent handles pairdeck's own events; handled is false for
// any other event.
func (m *Model) applyPolicyEvent(ev *protocol.Event) (cmd tea.Cmd, handled bool) {
	decode := func(v any) bool {
		if err := json.Unmarshal(ev.Payload, v); err != nil {
			m.log.Warn("undecodable event; re-listing", "event", ev.Event, "err", err)
			return false
		}
		return true
	}
	now := m.now()
	switch ev.Event {
	case protocol.EventPairingChanged:
		var pc protocol.PairingChangedEvent
		if !decode(&pc) {
			return m.refresh(), true
		}
		if !m.sync.recent(pairingSwitched(pc.Enabled)) || m.pairing.enabled != pc.Enabled {
			m.flash = pairingFlash(pc.Enabled, now)
		}
		m.applyPairing(pc.Enabled, pc.Actor, orNow(msTime(pc.TS), now))
		return nil, true

	case protocol.EventBlockAdded:
		var be protocol.BlockEvent
		if !decode(&be) || be.Node.NodeID == "" {
			return m.refresh(), true
		}
		m.blocked.supported = true
		m.blocked.Upsert(be.Node)
		m.logOnce(blockedNode(be.Node.NodeID), activityEntry{
			at: orNow(msTime(be.TS), now), kind: actBlocked, nodeID: be.Node.NodeID,
			name: nameOr(be.Node.DisplayName, be.Node.NodeID), actor: be.Actor, note: withReason("", be.Node.Reason),
		})
		return nil, true

	case protocol.EventCodeCreated, protocol.EventCodeRevoked, protocol.EventCodeUsed:
		var ce protocol.CodeEvent
		if !decode(&ce) || ce.Code.ID == "" {
			return m.refresh(), true
		}
		m.codes.Upsert(ce.Code)
		if ev.Event != protocol.EventCodeUsed {
			// A use is the approval it made: Activity has it already.
			revoked := ev.Event == protocol.EventCodeRevoked
			m.logOnce(codeHappening(revoked, ce.Code.ID), codeEntry(revoked, ce.Code, ce.Actor, orNow(msTime(ce.TS), now)))
		}
		return nil, true

	case protocol.EventBlockRefused:
		var be protocol.BlockEvent
		if !decode(&be) || be.Node.NodeID == "" {
			return m.refresh(), true
		}
		m.blocked.Upsert(be.Node)
		return nil, true

	case protocol.EventBlockRemoved:
		var ue protocol.UnblockEvent
		if !decode(&ue) {
			return m.refresh(), true
		}
		name := nameOr("", ue.NodeID)
		if r, ok := m.blocked.Remove(ue.NodeID); ok {
			name = r.name()
		}
		m.logOnce(unblockedNode(ue.NodeID), activityEntry{
			at: orNow(msTime(ue.TS), now), kind: actUnblocked, nodeID: ue.NodeID, name: name, actor: ue.Actor,
		})
		return nil, true
	}
	return nil, false
}

func blockedNode(nodeID string) happening   { return happening{kind: hapBlocked, id: nodeID} }
func unblockedNode(nodeID string) happening { return happening{kind: hapUnblocked, id: nodeID} }

func orNow(t, now time.Time) time.Time {
	if t.IsZero() {
		return now
	}
	return t
}

// askBlock opens the confirmation for blocking a node.
func (m *Model) askBlock(t blockTarget) {
	body := []string{
		"Its requests will be refused at once, without",
		"entering the queue, until it is unblocked",
		"(Blocked view, u).",
	}
	if t.requestID != "" {
		body = append([]string{"Its pending request is rejected now."}, body...)
	}
	m.confirm = &confirmDialog{title: "Block " + t.name + "?", body: body, yes: "block", then: blockMsg{target: t}}
}

func (m *Model) startBlock(t blockTarget) tea.Cmd {
	cmd := m.call(func(b Backend) tea.Cmd { return blockCmd(m.ctx, b, t) })
	if cmd != nil && t.requestID != "" {
		m.pending.SetBusy(t.requestID, "blocking")
	}
	return cmd
}

func (m *Model) onBlocked(msg blockedMsg) tea.Cmd {
	now := m.now()
	t := msg.target
	if t.requestID != "" {
		m.pending.SetBusy(t.requestID, "")
	}
	if msg.err != nil {
		m.log.Warn("block failed", "nodeId", t.nodeID, "err", msg.err)
		m.flash = errorFlash("Could not block "+t.name+": "+errText(msg.err), now)
		return nil
	}
	m.blocked.supported = true
	m.blocked.Upsert(msg.res.Node)
	if id := msg.res.RejectedRequestID; id != "" {
		m.pending.Remove(id)
		m.logOnce(decided(id), activityEntry{
			at: now, kind: actRejected, nodeID: t.nodeID, requestID: id, name: t.name, actor: m.self(),
			note: withReason("with the block", t.reason),
		})
	}
	m.logOnce(blockedNode(t.nodeID), activityEntry{
		at: now, kind: actBlocked, nodeID: t.nodeID, name: t.name, actor: m.self(), note: withReason("", t.reason),
	})
	text := glyphBlocked + " Blocked " + t.name + ": its requests are refused from now on."
	if msg.res.RejectedRequestID != "" {
		text = glyphBlocked + " Blocked " + t.name + " and rejected its request; it cannot ask again until unblocked."
	}
	m.flash = infoFlash(text, now)
	return nil
}

func (m *Model) onUnblocked(msg unblockedMsg) tea.Cmd {
	now := m.now()
	if msg.err != nil {
		m.log.Warn("unblock failed", "nodeId", msg.nodeID, "err", msg.err)
		m.flash = errorFlash("Could not unblock "+msg.name+": "+errText(msg.err), now)
		if errReason(msg.err) == protocol.ReasonUnknownNode {
			return m.refresh() // already unblocked elsewhere
		}
		return nil
	}
	m.blocked.Remove(msg.nodeID)
	tries := msg.res.Node.Attempts
	m.logOnce(unblockedNode(msg.nodeID), activityEntry{
		at: now, kind: actUnblocked, nodeID: msg.nodeID, name: msg.name, actor: m.self(),
		note: fmt.Sprintf("refused %s while blocked", plural(int(tries), "time", "times")),
	})
	m.flash = infoFlash(fmt.Sprintf("%s Unblocked %s (refused %s while blocked); it may ask to pair again.",
		glyphUnblocked, msg.name, plural(int(tries), "time", "times")), now)
	return nil
}
