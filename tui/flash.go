package tui

import (
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/styles"
)

// How long a flash stays. Errors stay longer: they usually need reading.
const (
	flashInfoFor  = 3 * time.Second
	flashErrorFor = 6 * time.Second
)

// flash is a one-line message that clears itself on the tick after until.
type flash struct {
	text  string
	isErr bool
	at    time.Time // when it was said
	until time.Time
}

func infoFlash(text string, now time.Time) flash {
	return flash{text: text, at: now, until: now.Add(flashInfoFor)}
}

func errorFlash(text string, now time.Time) flash {
	return flash{text: text, isErr: true, at: now, until: now.Add(flashErrorFor)}
}

func (f flash) active(now time.Time) bool { return f.text != "" && now.Before(f.until) }

// View draws the flash on one line. Its text often quotes a gateway (an
// error message, a name), so it is escaped before it is drawn. Cut short,
// it ends in more, which says where to read the rest.
func (f flash) View(st *styles.Styles, width int, more string) string {
	style := st.FlashInfo
	if f.isErr {
		style = st.FlashError
	}
	text := protocol.Printable(f.text)
	if ansi.StringWidth(text) <= width {
		return style.Render(text)
	}
	room := max(width-ansi.StringWidth(more)-1, 1)
	return style.Render(ansi.Truncate(text, room, "…")) + " " + more
}

// messageLimit bounds the messages kept for reading in full.
const messageLimit = 50

// keepMessage records the flash if it is new since said: every message
// can be read in full later (m), however short its line was.
func (m *Model) keepMessage(said flash) {
	if m.flash.text == "" || m.flash == said {
		return
	}
	m.keepSaid(m.flash)
}

// keepSaid adds f to the messages that can be read in full, shown on its
// line or not.
func (m *Model) keepSaid(f flash) {
	m.messages = append(m.messages, f)
	if len(m.messages) > messageLimit {
		m.messages = slices.Delete(m.messages, 0, len(m.messages)-messageLimit)
	}
}

// messageLines lays out the recent messages, newest first, each with the
// time it was shown, wrapped to the width.
func (m Model) messageLines() []string {
	st := m.st
	lines := []string{st.DialogTitle.Render("Messages, newest first")}
	if len(m.messages) == 0 {
		return append(lines, st.Dim.Render("  None yet."))
	}
	loc := m.now().Location()
	textW := max(m.width-12, 10)
	for i := len(m.messages) - 1; i >= 0; i-- {
		f := m.messages[i]
		style := st.FlashInfo
		if f.isErr {
			style = st.FlashError
		}
		for j, part := range strings.Split(ansi.Wrap(protocol.Printable(f.text), textW, ""), "\n") {
			lead := strings.Repeat(" ", 12)
			if j == 0 {
				lead = "  " + st.Dim.Render(f.at.In(loc).Format("15:04:05")) + "  "
			}
			lines = append(lines, lead+style.Render(part))
		}
	}
	return lines
}
