package tui

import (
	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/pairdeck/pairdeck/styles"
)

// promptPurpose says what a text input is for.
type promptPurpose int

const (
	promptFilter promptPurpose = iota
	promptRename
)

// nameLimit caps a display name typed into the console.
const nameLimit = 64

// prompt is the one-line text input at the foot of the screen: the filter
// or a rename. While it is open every key goes to it.
type prompt struct {
	purpose promptPurpose
	target  string // the node id being renamed
	input   textinput.Model
}

func newPrompt(purpose promptPurpose, target, label, value string, st *styles.Styles, width int) prompt {
	in := textinput.New()
	in.Prompt = label
	in.PromptStyle = st.InputPrompt
	in.TextStyle = st.DetailValue
	// A steady cursor: a blinking one redraws the screen twice a second,
	// which is wasted bandwidth over SSH and noise in a tmux pane.
	in.Cursor.SetMode(cursor.CursorStatic)
	if purpose == promptRename {
		in.CharLimit = nameLimit
	}
	in.Width = max(width-len([]rune(label))-1, 8)
	in.SetValue(value)
	in.CursorEnd()
	in.Focus()
	return prompt{purpose: purpose, target: target, input: in}
}

func (p prompt) Update(msg tea.KeyMsg, keys KeyMap) (prompt, tea.Cmd) {
	switch {
	case key.Matches(msg, keys.Submit):
		return p, emit(promptSubmittedMsg{purpose: p.purpose, target: p.target, value: p.input.Value()})
	case key.Matches(msg, keys.Cancel):
		return p, emit(promptCancelledMsg{purpose: p.purpose})
	}
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	return p, cmd
}

func (p prompt) Value() string { return p.input.Value() }

func (p prompt) View() string { return p.input.View() }
