package tui

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/styles"
)

// The fields of the form that creates a code, in order.
const (
	cfTTL = iota
	cfUses
	cfName
	cfPlatform
	cfCIDR
	cfExec
	cfNote
	cfCount
)

// codeFormLabels and codeFormHints say what each field is and takes.
var (
	codeFormLabels = [cfCount]string{"Valid for", "Uses", "Name", "Platform", "Addresses", "Allow exec", "Note"}
	codeFormHints  = [cfCount]string{
		"How long nodes can use it: 90s, 10m, 2h, 7d (at most 30d).",
		fmt.Sprintf("How many nodes it may approve (1 to %d).", protocol.CodeMaxUses),
		"The node's exact name, or a prefix ending in * (kitchen-*). Empty: any name.",
		"Platforms the node must declare, comma-separated (linux, macos). Empty: any.",
		"Networks the node must connect from, comma-separated (10.0.0.0/8). Empty: any.",
		"space toggles. Yes: it also approves nodes declaring exec-class commands (system.run…).",
		"For people: what the code is for. Optional.",
	}
)

// codeForm is the form that creates a setup code. Every key goes to it
// while it is open; enter creates from any field.
type codeForm struct {
	inputs [cfCount]textinput.Model // cfExec's is unused: exec is a toggle
	exec   bool
	focus  int
	busy   bool // created, the answer on its way
	// bad is the field the last check refused, and why.
	bad    int
	badWhy string
}

// Intents of the form.
type (
	// codeFormDoneMsg: the operator submitted a form that checked out.
	codeFormDoneMsg struct{ params protocol.CodeCreateParams }
	// codeFormCancelledMsg: esc.
	codeFormCancelledMsg struct{}
)

func newCodeForm(st *styles.Styles, width int) *codeForm {
	f := &codeForm{bad: -1}
	for i := range f.inputs {
		in := textinput.New()
		in.Prompt = ""
		in.SetVirtualCursor(false)
		in.CharLimit = 256
		f.inputs[i] = in
	}
	f.inputs[cfNote].CharLimit = protocol.MaxReasonLen
	f.inputs[cfTTL].SetValue("10m")
	f.inputs[cfUses].SetValue("1")
	f.setStyles(st)
	f.setWidth(width)
	f.focusOn(cfTTL)
	return f
}

func (f *codeForm) setStyles(st *styles.Styles) {
	for i := range f.inputs {
		s := f.inputs[i].Styles()
		// The label is drawn apart: the input's own prompt is empty and
		// must paint nothing.
		s.Focused.Prompt, s.Blurred.Prompt = lipgloss.NewStyle(), lipgloss.NewStyle()
		s.Focused.Placeholder, s.Blurred.Placeholder = st.Dim.Style, st.Dim.Style
		s.Focused.Text = st.DetailValue.Style
		s.Blurred.Text = st.DetailValue.Style
		s.Cursor.Blink = false
		s.Cursor.Color = nil
		f.inputs[i].SetStyles(s)
	}
}

// codeFormIndent is the columns before an input: the cursor's gutter and
// the widest label.
const codeFormIndent = 2 + 11 + 1

func (f *codeForm) setWidth(width int) {
	for i := range f.inputs {
		f.inputs[i].SetWidth(max(width-codeFormIndent-1, 8))
	}
}

func (f *codeForm) focusOn(i int) {
	f.inputs[f.focus].Blur()
	f.focus = (i + cfCount) % cfCount
	f.inputs[f.focus].Focus()
	f.inputs[f.focus].CursorEnd()
}

func (f *codeForm) Update(msg tea.KeyPressMsg, k KeyMap) tea.Cmd {
	switch {
	case key.Matches(msg, k.Cancel):
		return emit(codeFormCancelledMsg{})
	case key.Matches(msg, k.Submit):
		p, field, err := f.params()
		if err != nil {
			f.bad, f.badWhy = field, errText(err)
			f.focusOn(field)
			return nil
		}
		return emit(codeFormDoneMsg{params: p})
	case key.Matches(msg, k.NextField):
		f.focusOn(f.focus + 1)
		return nil
	case key.Matches(msg, k.PrevField):
		f.focusOn(f.focus - 1)
		return nil
	case f.focus == cfExec:
		if key.Matches(msg, k.Toggle) {
			f.exec = !f.exec
		}
		return nil
	}
	var cmd tea.Cmd
	f.inputs[f.focus], cmd = f.inputs[f.focus].Update(msg)
	return cmd
}

// params reads the form; on a value it cannot take, which field and why.
func (f *codeForm) params() (protocol.CodeCreateParams, int, error) {
	var p protocol.CodeCreateParams
	val := func(i int) string { return strings.TrimSpace(f.inputs[i].Value()) }
	ttl, err := parseTTL(val(cfTTL))
	if err != nil {
		return p, cfTTL, err
	}
	p.TTLMs = ttl.Milliseconds()
	uses, err := strconv.Atoi(val(cfUses))
	if err != nil || uses < 1 || uses > protocol.CodeMaxUses {
		return p, cfUses, fmt.Errorf("uses: a whole number from 1 to %d", protocol.CodeMaxUses)
	}
	p.MaxUses = uses
	if name := val(cfName); name != "" {
		prefix, isPrefix := strings.CutSuffix(name, "*")
		switch {
		case isPrefix && prefix == "":
			return p, cfName, errors.New("name prefix: some text before the *")
		case isPrefix:
			p.Scope.NamePrefix = prefix
		default:
			p.Scope.Name = name
		}
	}
	p.Scope.Platforms = splitList(val(cfPlatform))
	p.Scope.CIDRs = splitList(val(cfCIDR))
	p.Scope.AllowExec = f.exec
	p.Note = val(cfNote)
	// The gateway's own rule, so the form refuses exactly what it would.
	if err := p.Check(); err != nil {
		var fe *protocol.FieldError
		field := cfNote
		if errors.As(err, &fe) {
			for prefix, i := range map[string]int{"ttlMs": cfTTL, "maxUses": cfUses, "scope.name": cfName,
				"scope.platforms": cfPlatform, "scope.cidrs": cfCIDR} {
				if strings.HasPrefix(fe.Field, prefix) {
					field = i
				}
			}
		}
		return p, field, err
	}
	return p, 0, nil
}

// parseTTL reads a duration as Go does, with d for days too ("7d",
// "1d12h").
func parseTTL(s string) (time.Duration, error) {
	bad := fmt.Errorf("valid for: %q is not a duration like 10m, 2h or 7d", protocol.Printable(s))
	var total time.Duration
	if days, rest, ok := strings.Cut(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, bad
		}
		total, s = time.Duration(n)*24*time.Hour, rest
	}
	if s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, bad
		}
		total += d
	}
	switch {
	case total < time.Second:
		return 0, errors.New("valid for: at least a second")
	case total.Milliseconds() > protocol.CodeMaxTTLMs:
		return 0, errors.New("valid for: at most 30d")
	}
	return total, nil
}

// splitList reads a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// lines draws the form for a body of width w: a title, a line per field
// (the focused one marked), what the focused field takes, and what the
// last check refused.
func (f *codeForm) lines(st *styles.Styles, w int) []string {
	lines := []string{st.DialogTitle.Render("New setup code"), ""}
	for i := range cfCount {
		gutter := "  "
		if i == f.focus {
			gutter = st.Selected.Render(glyphCursor) + " "
		}
		label := st.DetailLabel.Render(fmt.Sprintf("%-11s", codeFormLabels[i])) + " "
		value := f.inputs[i].View()
		if i == cfExec {
			value = "[ ] no"
			if f.exec {
				value = "[x] yes"
			}
			value = st.DetailValue.Render(value)
		}
		lines = append(lines, gutter+label+value)
	}
	lines = append(lines, "")
	for _, l := range strings.Split(ansi.Wrap(codeFormHints[f.focus], max(w-2, 10), ""), "\n") {
		lines = append(lines, st.Dim.Render("  "+l))
	}
	if f.bad >= 0 {
		lines = append(lines, st.FlashError.Render("  "+glyphRejected+" "+protocol.Printable(f.badWhy)))
	}
	return lines
}

// cursor is where the terminal's cursor goes in the body: the focused
// input's, or none on the toggle.
func (f *codeForm) cursor() (x, y int, ok bool) {
	if f.focus == cfExec {
		return 0, 0, false
	}
	c := f.inputs[f.focus].Cursor()
	if c == nil {
		return 0, 0, false
	}
	return codeFormIndent + c.X, 2 + f.focus, true
}
