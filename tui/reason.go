package tui

import (
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/pairdeck/pairdeck/protocol"
)

// reasonAsk is a rejection, a block or a code's revocation waiting for the operator's optional
// reason: exactly what the key was pressed on, captured then. Enter on an
// empty input decides without a reason; esc decides nothing.
type reasonAsk struct {
	reject []decisionTarget // the requests to reject, as the operator saw them
	block  *blockTarget     // or the node to block
	revoke string           // or the setup code to revoke, by id
}

// verb is what the decision does, in words.
func (a *reasonAsk) verb() string {
	switch {
	case a.block != nil:
		return "block"
	case a.revoke != "":
		return "revoke"
	}
	return "reject"
}

// what names the decision's object for the input's label: a name (cut,
// so the input keeps its room) or a count.
func (a *reasonAsk) what() string {
	name := ""
	switch {
	case a.revoke != "":
		name = "code " + a.revoke
	case a.block != nil:
		name = a.block.name
	case len(a.reject) == 1:
		name = a.reject[0].name
	default:
		return plural(len(a.reject), "request", "requests")
	}
	return ansi.Truncate(protocol.Printable(name), 24, "…")
}

// askReason opens the reason input for a.
func (m *Model) askReason(a *reasonAsk) {
	p := newPrompt(promptReason, "", a.verb()+" "+a.what()+", reason (optional) › ", "", m.st, m.width)
	p.ask = a
	m.prompt = &p
}

// withReason adds an operator's reason to an activity note.
func withReason(note, reason string) string {
	if reason == "" {
		return note
	}
	return strings.TrimPrefix(note+"; reason: "+reason, "; ")
}

// onReasonGiven decides what the reason input was opened for, once: a
// second enter already on its way finds the input closed. A rejection
// acts only on the requests that can still be decided.
func (m *Model) onReasonGiven(msg promptSubmittedMsg) tea.Cmd {
	if m.prompt == nil || m.prompt.ask != msg.ask || msg.ask == nil {
		return nil
	}
	a := msg.ask
	reason := strings.TrimSpace(msg.value)
	if err := protocol.CheckReason("reason", reason); err != nil {
		// Said where the operator is looking: in the input's label.
		p := *m.prompt
		p.input.Prompt = a.verb() + ", reason " + errText(err) + " › "
		p.setWidth(m.width)
		m.prompt = &p
		return nil
	}
	m.prompt = nil
	if a.revoke != "" {
		return emit(revokeMsg{id: a.revoke, reason: reason, asked: true})
	}
	if a.block != nil {
		t := *a.block
		t.reason = reason
		return emit(blockMsg{target: t, asked: true})
	}
	live, changed := m.stillDecidable(a.reject)
	if len(live) == 0 {
		m.flash = errorFlash("Nothing rejected: "+strings.Join(changed, "; ")+".", m.now())
		return nil
	}
	return emit(decideMsg{action: reject, targets: live, reason: reason, asked: true})
}

// onReasonCancelled: esc decides nothing.
func (m *Model) onReasonCancelled() {
	what := "Nothing rejected."
	if a := m.prompt; a != nil && a.ask != nil {
		switch {
		case a.ask.block != nil:
			what = "Not blocked."
		case a.ask.revoke != "":
			what = "Not revoked."
		}
	}
	m.prompt = nil
	m.flash = infoFlash(what, m.now())
}
