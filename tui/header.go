package tui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/pairdeck/pairdeck/protocol"
)

// header is the top line: the product, where it is attached, the
// gateway's pairing switch and — for a remote gateway — whether the link
// is up.
func (m Model) header() string {
	st := m.st
	left := st.HeaderTitle.Render("pairdeck")
	if m.endpoint != "" {
		left += st.Dim.Render(" · " + protocol.Printable(m.endpoint))
	}
	var right []string
	if m.pairing.known {
		right = append(right, m.pairingText())
	}
	// An embedded gateway is the same process and cannot drop the link,
	// but it can stop; then say so, as for a remote one. Why it dropped
	// goes first when room runs out: it is kept in the messages (m).
	if m.opts.Remote || m.conn != protocol.Connected {
		sep := st.Dim.Render(" · ")
		room := m.width - ansi.StringWidth(left) - 1 - ansi.StringWidth(strings.Join(right, sep)+sep)
		right = append(right, m.connText(room))
	}
	return spread(left, strings.Join(right, st.Dim.Render(" · ")), m.width)
}

// pairingText is the switch as glyph + words; off stands out. Known from
// before the link dropped, it may have changed since: it is unknown then,
// until the gateway says again.
func (m Model) pairingText() string {
	switch {
	case m.pairing.stale:
		return m.st.Reconnecting.Render(glyphUnknown + " pairing unknown")
	case m.pairing.enabled:
		return m.st.PairingOn.Render(glyphPairingOn + " pairing on")
	}
	return m.st.PairingOff.Render(glyphPairingOff + " pairing off")
}

// retryText says when the client tries the gateway again: "retry in 4s",
// or "retrying" once that moment has come.
func (m Model) retryText() string {
	if m.retryAt.IsZero() {
		return ""
	}
	left := m.retryAt.Sub(m.now())
	if left <= 0 {
		return "retrying"
	}
	// Rounded up: "retry in 1s" until the attempt, never "in 0s".
	return "retry in " + span((left + time.Second - 1).Truncate(time.Second))
}

// connText is the link state as glyph + words, in room cells if it can:
// the reason it dropped is left out before anything else.
func (m Model) connText(room int) string {
	st := m.st
	switch m.conn {
	case protocol.Connected:
		return st.Connected.Render(glyphOnline + " connected")
	case protocol.Connecting:
		if m.everConnected {
			return st.Reconnecting.Render(glyphWaiting + " reconnecting…")
		}
		return st.Reconnecting.Render(glyphWaiting + " connecting…")
	default:
		// When it tries again comes before why, which can be long and is
		// cut first.
		text := glyphDown + " disconnected"
		if r := m.retryText(); r != "" {
			text += " (" + r + ")"
		}
		if m.connErr != nil {
			if why := ": " + protocol.Printable(errText(m.connErr)); ansi.StringWidth(text+why) <= room {
				text += why
			}
		}
		return st.Disconnected.Render(text)
	}
}

// tabs is the second line: the views with their counts, the active one
// bracketed (not only coloured), and what is marked, filtered, in view and
// in which order.
func (m Model) tabs() string {
	st := m.st
	notes := m.tabNotes()
	sep := st.Dim.Render(" · ")
	left := m.tabNames(false)
	right, shown := fitNotes(notes, sep, m.width-ansi.StringWidth(left)-1)
	if tight := m.tabNames(true); shown < len(notes) {
		// The names closer together, if that makes room for more.
		if r, n := fitNotes(notes, sep, m.width-ansi.StringWidth(tight)-1); n > shown {
			left, right = tight, r
		}
	}
	return spread(left, right, m.width)
}

// tabNames are the views with their counts; tight leaves out the spaces
// that keep the names in place as the brackets move.
func (m Model) tabNames(tight bool) string {
	st := m.st
	names := [viewCount]string{
		fmt.Sprintf("Pending %d", m.pending.Live()),
		fmt.Sprintf("Paired %d", m.paired.list.Len()),
		"Activity",
		fmt.Sprintf("Blocked %d", m.blocked.list.Len()),
		fmt.Sprintf("Codes %d", m.codes.Active(m.now())),
	}
	parts := make([]string, 0, viewCount)
	for i, n := range names {
		switch {
		case !m.offered(viewID(i)):
			// A view of something the gateway does not have is not
			// offered at all.
		case viewID(i) == m.view:
			parts = append(parts, st.TabActive.Render("["+n+"]"))
		case tight:
			parts = append(parts, st.Tab.Render(n))
		default:
			parts = append(parts, st.Tab.Render(" "+n+" "))
		}
	}
	return strings.Join(parts, " ")
}

// tabNotes are what is marked, filtered, where the window is and the
// order, in that order and importance: the least needed give way first on
// a narrow terminal.
func (m Model) tabNotes() []note {
	st := m.st
	var notes []note
	if n := m.pending.MarkCount(); n > 0 {
		notes = append(notes, note{st.Marked.Render(fmt.Sprintf("%s %d marked", glyphMark, n)), 0})
	}
	v := m.current()
	if v.Filter() != "" {
		shown, total := v.Counts()
		notes = append(notes, note{st.Dim.Render(fmt.Sprintf("/%s %d of %d", protocol.Printable(v.Filter()), shown, total)), 1})
	}
	if first, last, n, scrolls := v.Position(); scrolls && !m.detail.open && m.page == pageNone {
		more := ""
		if mv, ok := v.(interface{ moreOlder() string }); ok {
			more = mv.moreOlder() // older history can still be read
		}
		notes = append(notes, note{st.Dim.Render(fmt.Sprintf("%d–%d of %d%s", first, last, n, more)), 2})
	}
	if m.view == viewPending && m.pending.list.Len() > 1 && !m.detail.open && m.page == pageNone {
		notes = append(notes, note{st.Dim.Render(m.pending.order.words()), 3})
	}
	return notes
}

// note is one of the notes at the right of the tabs; the higher its
// rank, the sooner it gives way on a narrow terminal.
type note struct {
	text string
	rank int
}

// fitNotes joins notes with sep in their order, leaving out the
// highest-ranked until they fit in w: a note is shown whole or not at all
// (but the last one left, which is cut). shown counts the notes whole.
func fitNotes(notes []note, sep string, w int) (line string, shown int) {
	notes = slices.Clone(notes)
	for {
		parts := make([]string, len(notes))
		for i, n := range notes {
			parts[i] = n.text
		}
		line := strings.Join(parts, sep)
		if ansi.StringWidth(line) <= w {
			return line, len(notes)
		}
		if len(notes) == 1 {
			return line, 0
		}
		drop := 0
		for i, n := range notes {
			if n.rank >= notes[drop].rank {
				drop = i
			}
		}
		notes = slices.Delete(notes, drop, drop+1)
	}
}

// spread puts left and right at the two ends of a line of width w,
// truncating right first, then left.
func spread(left, right string, w int) string {
	lw, rw := ansi.StringWidth(left), ansi.StringWidth(right)
	if lw+rw+1 > w {
		right = ansi.Truncate(right, max(w-lw-1, 0), "…")
		rw = ansi.StringWidth(right)
	}
	if lw+rw+1 > w {
		left = ansi.Truncate(left, max(w-rw-1, 0), "…")
		lw = ansi.StringWidth(left)
	}
	gap := max(w-lw-rw, 0)
	if right == "" {
		return left
	}
	return left + strings.Repeat(" ", gap) + right
}
