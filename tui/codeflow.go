package tui

import (
	tea "charm.land/bubbletea/v2"

	"github.com/pairdeck/pairdeck/protocol"
)

// updateCodes handles the Codes view's intents and answers; handled is
// false for any other message.
func (m *Model) updateCodes(msg tea.Msg) (cmd tea.Cmd, handled bool) {
	now := m.now()
	switch msg := msg.(type) {
	case newCodeMsg:
		m.codeForm = newCodeForm(m.st, m.width)
	case codeFormCancelledMsg:
		m.codeForm = nil
	case codeFormDoneMsg:
		if m.codeForm == nil || m.codeForm.busy {
			return nil, true // answered already, or on its way
		}
		f := *m.codeForm
		f.busy = true
		m.codeForm = &f
		return m.call(func(b Backend) tea.Cmd { return createCodeCmd(m.ctx, b, msg.params) }), true
	case codeCreatedMsg:
		if msg.err != nil {
			m.log.Warn("create code failed", "err", msg.err)
			if m.codeForm != nil {
				f := *m.codeForm
				f.busy, f.bad, f.badWhy = false, f.focus, "The gateway refused it: "+errText(msg.err)
				m.codeForm = &f
			} else {
				m.flash = errorFlash("Could not create a code: "+errText(msg.err), now)
			}
			return nil, true
		}
		// Logged by id only: the secret is shown once, never kept.
		m.log.Info("code created", "id", msg.res.Code.ID)
		m.codeForm = nil
		m.codes.Upsert(msg.res.Code)
		m.logOnce(codeHappening(false, msg.res.Code.ID), codeEntry(false, msg.res.Code, m.self(), now))
		m.codes.list.Select(msg.res.Code.ID)
		m.codeSecret = newCodeSecret(msg.res)
		m.openPage(pageCode)
	case askRevokeMsg:
		c := msg.code
		m.confirm = &confirmDialog{
			title: "Revoke code " + c.ID + " (" + c.Prefix + "…)?",
			body: []string{
				"No node can use it from now on. The nodes it",
				"approved stay paired (remove them in Paired).",
			},
			yes:  "revoke",
			then: revokeMsg{id: c.ID},
		}
	case revokeMsg:
		if !msg.asked && m.features.offers(FeatureReasons) {
			m.askReason(&reasonAsk{revoke: msg.id})
			return nil, true
		}
		return m.call(func(b Backend) tea.Cmd { return revokeCodeCmd(m.ctx, b, msg.id, msg.reason) }), true
	case codeRevokedMsg:
		if msg.err != nil {
			m.log.Warn("revoke code failed", "id", msg.id, "err", msg.err)
			m.flash = errorFlash("Could not revoke code "+protocol.Printable(msg.id)+": "+errText(msg.err), now)
			return m.refresh(), true
		}
		m.codes.Upsert(msg.res.Code)
		if msg.res.Revoked {
			e := codeEntry(true, msg.res.Code, m.self(), now)
			e.note = withReason(e.note, msg.reason)
			m.logOnce(codeHappening(true, msg.id), e)
		}
		text := glyphRejected + " Revoked code " + msg.id + ": no node can use it now."
		if !msg.res.Revoked {
			text = "Code " + msg.id + " was revoked already."
		}
		m.flash = infoFlash(text, now)
	default:
		return nil, false
	}
	return nil, true
}

// closeCodeSecret closes the page that showed a new code, forgetting it.
func (m *Model) closeCodeSecret() {
	if m.codeSecret != nil {
		m.codeSecret.forget()
		m.codeSecret = nil
	}
}

// codeGatewayURL is the gateway's URL for the node's command when a code
// has no setup link: where a remote console found it; none when embedded.
func (m *Model) codeGatewayURL() string {
	if m.opts.Remote {
		return m.endpoint
	}
	return ""
}
