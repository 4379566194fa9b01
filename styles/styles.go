// Package styles is the console's theme: semantic styles (Pending, Expiring,
// Approved, FlashError…) built from adaptive colours for one renderer.
//
// Styles are built per renderer rather than globally because each terminal —
// and each SSH session, should the console ever be served over one — has its
// own colour profile and background. The console never relies on colour
// alone: every state these styles paint also carries a glyph or a word.
package styles

import (
	"github.com/charmbracelet/lipgloss"
)

// Styles holds every style the console paints with, by meaning.
type Styles struct {
	// Dark reports the background the adaptive colours were resolved for.
	Dark bool

	Header      lipgloss.Style // the top line
	HeaderTitle lipgloss.Style // "pairdeck"
	Tab         lipgloss.Style
	TabActive   lipgloss.Style
	ColumnTitle lipgloss.Style

	// Countdown levels of a pending request.
	Pending  lipgloss.Style // plenty of time left
	Expiring lipgloss.Style // under a minute
	Critical lipgloss.Style // under ten seconds
	Expired  lipgloss.Style // past its expiry, waiting to be dropped

	// Outcomes, in the activity view and in flashes.
	Requested lipgloss.Style
	Approved  lipgloss.Style
	Rejected  lipgloss.Style
	Renamed   lipgloss.Style
	Removed   lipgloss.Style
	Blocked   lipgloss.Style // a blocked node and blocking it

	// The gateway's pairing switch, in the header: on is quiet, off must
	// not be missed.
	PairingOn  lipgloss.Style
	PairingOff lipgloss.Style

	// Link and node presence.
	Connected    lipgloss.Style
	Reconnecting lipgloss.Style
	Disconnected lipgloss.Style

	Selected lipgloss.Style // the cursor row
	Marked   lipgloss.Style // the mark glyph of a marked row
	Dim      lipgloss.Style // secondary text
	Busy     lipgloss.Style // a row with a call in flight

	FlashInfo  lipgloss.Style
	FlashError lipgloss.Style

	Dialog      lipgloss.Style // the dialog box
	DialogTitle lipgloss.Style
	Token       lipgloss.Style // the one-time token in its dialog

	DetailLabel lipgloss.Style
	DetailValue lipgloss.Style

	InputPrompt lipgloss.Style

	HelpKey  lipgloss.Style
	HelpDesc lipgloss.Style
	HelpSep  lipgloss.Style
}

// New builds the styles for renderer r under theme ("auto", "dark" or
// "light"; anything else counts as auto). It settles the renderer's
// background first (see Resolve), so adaptive colours are never detected
// lazily in the middle of a frame.
func New(theme string, r *lipgloss.Renderer) *Styles {
	if r == nil {
		r = lipgloss.DefaultRenderer()
	}
	dark := Resolve(theme, r)
	p := palette
	st := r.NewStyle

	return &Styles{
		Dark: dark,

		Header:      st().Foreground(p.text),
		HeaderTitle: st().Foreground(p.accent).Bold(true),
		Tab:         st().Foreground(p.dim),
		TabActive:   st().Foreground(p.accent).Bold(true),
		ColumnTitle: st().Foreground(p.dim).Bold(true),

		Pending:  st().Foreground(p.text),
		Expiring: st().Foreground(p.warn),
		Critical: st().Foreground(p.danger).Bold(true),
		Expired:  st().Foreground(p.faint).Faint(true),

		Requested: st().Foreground(p.info),
		Approved:  st().Foreground(p.ok),
		Rejected:  st().Foreground(p.danger),
		Renamed:   st().Foreground(p.info),
		Removed:   st().Foreground(p.warn),
		Blocked:   st().Foreground(p.danger),

		PairingOn:  st().Foreground(p.dim),
		PairingOff: st().Foreground(p.warn).Bold(true),

		Connected:    st().Foreground(p.ok),
		Reconnecting: st().Foreground(p.warn),
		Disconnected: st().Foreground(p.danger).Bold(true),

		Selected: st().Background(p.selBg).Bold(true),
		Marked:   st().Foreground(p.accent).Bold(true),
		Dim:      st().Foreground(p.dim),
		Busy:     st().Foreground(p.dim).Italic(true),

		FlashInfo:  st().Foreground(p.ok),
		FlashError: st().Foreground(p.danger).Bold(true),

		Dialog: st().Border(lipgloss.RoundedBorder()).BorderForeground(p.accent).
			Padding(0, 1),
		DialogTitle: st().Foreground(p.accent).Bold(true),
		Token:       st().Foreground(p.warn).Bold(true),

		DetailLabel: st().Foreground(p.dim),
		DetailValue: st().Foreground(p.text),

		InputPrompt: st().Foreground(p.accent).Bold(true),

		HelpKey:  st().Foreground(p.helpKey),
		HelpDesc: st().Foreground(p.helpDesc),
		HelpSep:  st().Foreground(p.faint),
	}
}
