// Package styles is the console's theme: semantic styles (Pending, Expiring,
// Approved, FlashError…) for one terminal.
//
// Styles are built per terminal rather than globally because each terminal —
// and each SSH session the console is served to — has its own colour
// profile and background. The console never relies on colour alone: every
// state these styles paint also carries a glyph or a word.
package styles

import (
	"image/color"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
)

// Styles holds every style the console paints with, by meaning.
type Styles struct {
	// Dark reports the background the colours were chosen for.
	Dark bool
	// Profile is the colour profile the styles were built for.
	Profile colorprofile.Profile

	Header      Style // the top line
	HeaderTitle Style // "pairdeck"
	Tab         Style
	TabActive   Style
	ColumnTitle Style

	// Countdown levels of a pending request.
	Pending  Style // plenty of time left
	Expiring Style // under a minute
	Critical Style // under ten seconds
	Expired  Style // past its expiry, waiting to be dropped

	// Outcomes, in the activity view and in flashes.
	Requested Style
	Approved  Style
	Rejected  Style
	Renamed   Style
	Removed   Style
	Blocked   Style // a blocked node and blocking it

	// The gateway's pairing switch, in the header: on is quiet, off must
	// not be missed.
	PairingOn  Style
	PairingOff Style

	// Link and node presence.
	Connected    Style
	Reconnecting Style
	Disconnected Style

	Selected Style // the cursor row
	Marked   Style // the mark glyph of a marked row
	Dim      Style // secondary text
	Busy     Style // a row with a call in flight

	FlashInfo  Style
	FlashError Style

	Dialog      Style // the dialog box
	DialogTitle Style
	Token       Style // the one-time token in its dialog

	DetailLabel Style
	DetailValue Style

	InputPrompt Style

	// Command is a command line a hint offers to type.
	Command Style

	HelpKey  Style
	HelpDesc Style
	HelpSep  Style
}

// New builds the styles for a terminal with a dark (or light) background
// and colour profile p. Colours are converted to the profile here, once,
// so a frame holds exactly what the terminal will be sent:
//   - TrueColor, ANSI256, ANSI: colours in that many shades, and attributes;
//   - ASCII (NO_COLOR): no colour at all, attributes (bold, faint) only;
//   - NoTTY (not a terminal): plain text.
//
// Unknown counts as TrueColor: the program that draws the frames converts
// them for its terminal.
func New(dark bool, p colorprofile.Profile) *Styles {
	if p == colorprofile.Unknown {
		p = colorprofile.TrueColor
	}
	b := builder{dark: dark, profile: p}
	pl := palette

	st := &Styles{
		Dark:    dark,
		Profile: p,

		Header:      newStyle(b.fg(pl.text)),
		HeaderTitle: newStyle(b.bold(b.fg(pl.accent))),
		Tab:         newStyle(b.fg(pl.dim)),
		TabActive:   newStyle(b.bold(b.fg(pl.accent))),
		ColumnTitle: newStyle(b.bold(b.fg(pl.dim))),

		Pending:  newStyle(b.fg(pl.text)),
		Expiring: newStyle(b.fg(pl.warn)),
		Critical: newStyle(b.bold(b.fg(pl.danger))),
		Expired:  newStyle(b.faint(b.fg(pl.faint))),

		Requested: newStyle(b.fg(pl.info)),
		Approved:  newStyle(b.fg(pl.ok)),
		Rejected:  newStyle(b.fg(pl.danger)),
		Renamed:   newStyle(b.fg(pl.info)),
		Removed:   newStyle(b.fg(pl.warn)),
		Blocked:   newStyle(b.fg(pl.danger)),

		PairingOn:  newStyle(b.fg(pl.dim)),
		PairingOff: newStyle(b.bold(b.fg(pl.warn))),

		Connected:    newStyle(b.fg(pl.ok)),
		Reconnecting: newStyle(b.fg(pl.warn)),
		Disconnected: newStyle(b.bold(b.fg(pl.danger))),

		Selected: newStyle(b.bold(b.bg(pl.selBg))),
		Marked:   newStyle(b.bold(b.fg(pl.accent))),
		Dim:      newStyle(b.fg(pl.dim)),
		Busy:     newStyle(b.italic(b.fg(pl.dim))),

		FlashInfo:  newStyle(b.fg(pl.ok)),
		FlashError: newStyle(b.bold(b.fg(pl.danger))),

		Dialog:      newStyle(b.border(pl.accent).Padding(0, 1)),
		DialogTitle: newStyle(b.bold(b.fg(pl.accent))),
		Token:       newStyle(b.bold(b.fg(pl.warn))),

		DetailLabel: newStyle(b.fg(pl.dim)),
		DetailValue: newStyle(b.fg(pl.text)),

		InputPrompt: newStyle(b.bold(b.fg(pl.accent))),

		Command: newStyle(b.bold(b.fg(pl.info))),

		HelpKey:  newStyle(b.fg(pl.helpKey)),
		HelpDesc: newStyle(b.fg(pl.helpDesc)),
		HelpSep:  newStyle(b.fg(pl.faint)),
	}
	for _, s := range st.all() {
		*s = s.withCursor(st.Selected.Style)
	}
	return st
}

// all lists every style, to work out their variants together.
func (s *Styles) all() []*Style {
	return []*Style{
		&s.Header,
		&s.HeaderTitle,
		&s.Tab,
		&s.TabActive,
		&s.ColumnTitle,
		&s.Pending,
		&s.Expiring,
		&s.Critical,
		&s.Expired,
		&s.Requested,
		&s.Approved,
		&s.Rejected,
		&s.Renamed,
		&s.Removed,
		&s.Blocked,
		&s.PairingOn,
		&s.PairingOff,
		&s.Connected,
		&s.Reconnecting,
		&s.Disconnected,
		&s.Selected,
		&s.Marked,
		&s.Dim,
		&s.Busy,
		&s.FlashInfo,
		&s.FlashError,
		&s.Dialog,
		&s.DialogTitle,
		&s.Token,
		&s.DetailLabel,
		&s.DetailValue,
		&s.InputPrompt,
		&s.Command,
		&s.HelpKey,
		&s.HelpDesc,
		&s.HelpSep,
	}
}

// builder makes styles for one background and profile: colours the profile
// cannot show are left out, and so are attributes on a non-terminal.
type builder struct {
	dark    bool
	profile colorprofile.Profile
}

// color picks s's half for the background and converts it to the profile;
// nil when the profile shows no colour.
func (b builder) color(s shade) color.Color {
	c := lipgloss.LightDark(b.dark)(lipgloss.Color(s.light), lipgloss.Color(s.dark))
	if b.profile <= colorprofile.ASCII {
		return nil
	}
	return b.profile.Convert(c)
}

func (b builder) fg(s shade) lipgloss.Style {
	st := lipgloss.NewStyle()
	if c := b.color(s); c != nil {
		st = st.Foreground(c)
	}
	return st
}

func (b builder) bg(s shade) lipgloss.Style {
	st := lipgloss.NewStyle()
	if c := b.color(s); c != nil {
		st = st.Background(c)
	}
	return st
}

// attrs reports whether text attributes (bold, faint, italic) reach the
// terminal: everywhere but where there is no terminal.
func (b builder) attrs() bool { return b.profile > colorprofile.NoTTY }

func (b builder) bold(st lipgloss.Style) lipgloss.Style {
	if !b.attrs() {
		return st
	}
	return st.Bold(true)
}

func (b builder) faint(st lipgloss.Style) lipgloss.Style {
	if !b.attrs() {
		return st
	}
	return st.Faint(true)
}

func (b builder) italic(st lipgloss.Style) lipgloss.Style {
	if !b.attrs() {
		return st
	}
	return st.Italic(true)
}

// border is the dialog frame: its lines are text and always drawn, its
// colour only where the profile has one.
func (b builder) border(s shade) lipgloss.Style {
	st := lipgloss.NewStyle().Border(lipgloss.RoundedBorder())
	if c := b.color(s); c != nil {
		st = st.BorderForeground(c)
	}
	return st
}
