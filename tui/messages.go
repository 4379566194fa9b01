package tui

import (
	"time"

	tea "charm.land/bubbletea/v2"
)

// Messages components send up to the root model. A component says what the
// operator asked for; the root decides how (a dialog, a backend call).
type (
	// decideMsg asks to approve or reject requests now.
	decideMsg struct {
		action  decision
		targets []decisionTarget
		// reason is the operator's word on a rejection; asked says the
		// operator was asked for one (or the gateway keeps none).
		reason string
		asked  bool
	}

	// askBulkMsg asks to confirm a decision on the marked requests.
	askBulkMsg struct {
		action  decision
		targets []decisionTarget
		hidden  int // marked but hidden by the filter
		skipped int // marked but expired or already being decided
	}

	// startRenameMsg asks for the rename input, prefilled with current.
	startRenameMsg struct {
		nodeID  string
		current string
	}

	// renameMsg asks to rename a node now.
	renameMsg struct {
		nodeID string
		name   string
	}

	// askRemoveMsg asks to confirm removing a paired node.
	askRemoveMsg struct {
		nodeID string
		name   string
	}

	// removeMsg asks to remove a paired node now.
	removeMsg struct {
		nodeID string
		name   string
	}

	// openDetailMsg asks for the detail pane of the row under the cursor.
	openDetailMsg struct{}

	// confirmedMsg: the operator said yes to a dialog; then is the action.
	confirmedMsg struct{ then tea.Msg }

	// dialogClosedMsg: the operator dismissed a dialog.
	dialogClosedMsg struct{}

	// promptSubmittedMsg: enter in a text input.
	promptSubmittedMsg struct {
		purpose promptPurpose
		target  string
		value   string
		// ask is the decision a reason input was opened for: only that
		// input's answer decides it, once.
		ask *reasonAsk
	}

	// promptCancelledMsg: esc in a text input.
	promptCancelledMsg struct{ purpose promptPurpose }

	// tickMsg drives every countdown and timed cleanup. It carries nothing:
	// the time comes from the injected clock, so tests can step it.
	tickMsg struct{}
)

// fromOperator reports whether msg is the operator's doing: a key, a paste,
// or an intent a key sent. Everything else — events, lists, answers, the
// clock — happens by itself.
func fromOperator(msg tea.Msg) bool {
	switch msg.(type) {
	case tea.KeyPressMsg, tea.PasteMsg,
		decideMsg, askBulkMsg, bulkConfirmedMsg, startRenameMsg, renameMsg, askRemoveMsg, removeMsg,
		openDetailMsg, confirmedMsg, dialogClosedMsg, tokenDismissedMsg,
		promptSubmittedMsg, promptCancelledMsg, askBlockMsg, blockMsg, unblockMsg, setPairingMsg, refusedMsg,
		newCodeMsg, codeFormDoneMsg, codeFormCancelledMsg, askRevokeMsg, revokeMsg:
		return true
	}
	return false
}

// emit wraps a message in a command.
func emit(msg tea.Msg) tea.Cmd {
	return func() tea.Msg { return msg }
}

// tick fires once a second, aligned to the wall clock so every countdown
// on screen changes together.
func tick() tea.Cmd {
	return tea.Every(time.Second, func(time.Time) tea.Msg { return tickMsg{} })
}
