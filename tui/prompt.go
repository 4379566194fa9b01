package tui

import (
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/styles"
)

// promptPurpose says what a text input is for.
type promptPurpose int

const (
	promptFilter promptPurpose = iota
	promptRename
	// promptReason asks for the optional reason of a rejection or block.
	promptReason
)

// nameLimit caps a display name typed into the console.
const nameLimit = 64

// prompt is the one-line text input at the foot of the screen: the filter
// or a rename. While it is open every key goes to it.
type prompt struct {
	purpose promptPurpose
	target  string     // the node id being renamed
	ask     *reasonAsk // what a reason is asked for
	input   textinput.Model
}

func newPrompt(purpose promptPurpose, target, label, value string, st *styles.Styles, width int) prompt {
	in := textinput.New()
	in.Prompt = label
	// The terminal's own cursor, steady: a drawn one that blinks redraws
	// the line twice a second, wasted bandwidth over SSH and noise in a
	// tmux pane.
	in.SetVirtualCursor(false)
	switch purpose {
	case promptRename:
		in.CharLimit = nameLimit
	case promptReason:
		in.CharLimit = protocol.MaxReasonLen
	}
	p := prompt{purpose: purpose, target: target, input: in}
	p.setStyles(st)
	p.setWidth(width)
	p.input.SetValue(value)
	p.input.CursorEnd()
	p.input.Focus()
	return p
}

func (p *prompt) setStyles(st *styles.Styles) {
	s := p.input.Styles()
	s.Focused.Prompt = st.InputPrompt.Style
	s.Focused.Text = st.DetailValue.Style
	s.Cursor.Blink = false
	s.Cursor.Color = nil // the terminal's own colour
	p.input.SetStyles(s)
}

// setWidth fits the input to a line of width cells, prompt included.
func (p *prompt) setWidth(width int) {
	p.input.SetWidth(max(width-len([]rune(p.input.Prompt))-1, 8))
}

func (p prompt) Update(msg tea.KeyPressMsg, keys KeyMap) (prompt, tea.Cmd) {
	switch {
	case key.Matches(msg, keys.Submit):
		return p, emit(promptSubmittedMsg{purpose: p.purpose, target: p.target, value: p.input.Value(), ask: p.ask})
	case key.Matches(msg, keys.Cancel):
		return p, emit(promptCancelledMsg{purpose: p.purpose})
	}
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	return p, cmd
}

func (p prompt) Value() string { return p.input.Value() }

func (p prompt) View() string { return p.input.View() }

// Cursor is where the terminal's cursor goes, on a line of the given
// width: x is cells from the left.
func (p prompt) Cursor(width int) (x int, ok bool) {
	c := p.input.Cursor()
	if c == nil {
		return 0, false
	}
	return min(c.X, max(width-1, 0)), true
}
