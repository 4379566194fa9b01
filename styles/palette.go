package styles

// shade is a colour for each background: light, then dark. Which half is
// used is settled once, when the styles are built (see New).
type shade struct{ light, dark string }

// palette names colours by role.
var palette = struct {
	text, dim, faint, accent shade
	ok, info, warn, danger   shade
	selBg, helpKey, helpDesc shade
}{
	text:   shade{light: "#1F2328", dark: "#E6E6E6"},
	dim:    shade{light: "#6E7781", dark: "#9A9A9A"},
	faint:  shade{light: "#A0A7AE", dark: "#5C5C5C"},
	accent: shade{light: "#6F42C1", dark: "#B794F6"},

	ok:     shade{light: "#1A7F37", dark: "#56D364"},
	info:   shade{light: "#0969DA", dark: "#79C0FF"},
	warn:   shade{light: "#9A6700", dark: "#E3B341"},
	danger: shade{light: "#CF222E", dark: "#FF7B72"},

	selBg:    shade{light: "#DDE3EA", dark: "#30363D"},
	helpKey:  shade{light: "#57606A", dark: "#A0A0A0"},
	helpDesc: shade{light: "#8C959F", dark: "#6E6E6E"},
}
