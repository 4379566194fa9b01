package styles

import "github.com/charmbracelet/lipgloss"

// palette names colours by role. Each is an adaptive pair; which half is used
// is settled once per renderer by Resolve.
var palette = struct {
	text, dim, faint, accent lipgloss.AdaptiveColor
	ok, info, warn, danger   lipgloss.AdaptiveColor
	selBg, helpKey, helpDesc lipgloss.AdaptiveColor
}{
	text:   lipgloss.AdaptiveColor{Light: "#1F2328", Dark: "#E6E6E6"},
	dim:    lipgloss.AdaptiveColor{Light: "#6E7781", Dark: "#9A9A9A"},
	faint:  lipgloss.AdaptiveColor{Light: "#A0A7AE", Dark: "#5C5C5C"},
	accent: lipgloss.AdaptiveColor{Light: "#6F42C1", Dark: "#B794F6"},

	ok:     lipgloss.AdaptiveColor{Light: "#1A7F37", Dark: "#56D364"},
	info:   lipgloss.AdaptiveColor{Light: "#0969DA", Dark: "#79C0FF"},
	warn:   lipgloss.AdaptiveColor{Light: "#9A6700", Dark: "#E3B341"},
	danger: lipgloss.AdaptiveColor{Light: "#CF222E", Dark: "#FF7B72"},

	selBg:    lipgloss.AdaptiveColor{Light: "#DDE3EA", Dark: "#30363D"},
	helpKey:  lipgloss.AdaptiveColor{Light: "#57606A", Dark: "#A0A0A0"},
	helpDesc: lipgloss.AdaptiveColor{Light: "#8C959F", Dark: "#6E6E6E"},
}
