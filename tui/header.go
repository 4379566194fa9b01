package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/pairdeck/pairdeck/protocol"
)

// header is the top line: the product, where it is attached, the
// gateway's pairing switch and — for a remote gateway — whether the link
// is up.
func (m Model) header() string {
	st := m.st
	left := st.HeaderTitle.Render("pairdeck")
	if m.opts.Endpoint != "" {
		left += st.Dim.Render(" · " + protocol.Printable(m.opts.Endpoint))
	}
	var right []string
	if m.pairing.known {
		right = append(right, m.pairingText())
	}
	// An embedded gateway is the same process and cannot drop the link,
	// but it can stop; then say so, as for a remote one.
	if m.opts.Remote || m.conn != protocol.Connected {
		right = append(right, m.connText())
	}
	return spread(left, strings.Join(right, st.Dim.Render(" · ")), m.width)
}

// pairingText is the switch as glyph + words; off stands out.
func (m Model) pairingText() string {
	if m.pairing.enabled {
		return m.st.PairingOn.Render(glyphPairingOn + " pairing on")
	}
	return m.st.PairingOff.Render(glyphPairingOff + " pairing off")
}

// connText is the link state as glyph + words.
func (m Model) connText() string {
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
		text := glyphDown + " disconnected"
		if m.connErr != nil {
			text += ": " + protocol.Printable(errText(m.connErr))
		}
		return st.Disconnected.Render(text)
	}
}

// tabs is the second line: the views with their counts, the active one
// bracketed (not only coloured), and what is marked or filtered.
func (m Model) tabs() string {
	st := m.st
	names := [viewCount]string{
		fmt.Sprintf("Pending %d", m.pending.Live()),
		fmt.Sprintf("Paired %d", m.paired.list.Len()),
		"Activity",
		fmt.Sprintf("Blocked %d", m.blocked.list.Len()),
	}
	parts := make([]string, 0, viewCount)
	for i, n := range names {
		if viewID(i) == m.view {
			parts = append(parts, st.TabActive.Render("["+n+"]"))
		} else {
			parts = append(parts, st.Tab.Render(" "+n+" "))
		}
	}
	left := strings.Join(parts, " ")

	var notes []string
	if n := m.pending.MarkCount(); n > 0 {
		notes = append(notes, st.Marked.Render(fmt.Sprintf("%s %d marked", glyphMark, n)))
	}
	if v := m.current(); v.Filter() != "" {
		shown, total := v.Counts()
		notes = append(notes, st.Dim.Render(fmt.Sprintf("/%s %d of %d", protocol.Printable(v.Filter()), shown, total)))
	}
	return spread(left, strings.Join(notes, st.Dim.Render(" · ")), m.width)
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
