package styles

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/term"
)

// Theme names accepted by --theme.
const (
	ThemeAuto  = "auto"
	ThemeDark  = "dark"
	ThemeLight = "light"
)

// ParseTheme validates a --theme value ("" means auto).
func ParseTheme(s string) (string, error) {
	switch t := strings.ToLower(strings.TrimSpace(s)); t {
	case "", ThemeAuto:
		return ThemeAuto, nil
	case ThemeDark, ThemeLight:
		return t, nil
	default:
		return "", fmt.Errorf("unknown theme %q: use auto, dark or light", s)
	}
}

// Resolve decides whether r draws on a dark background and pins the answer
// on r, so adaptive colours never trigger a terminal query later — a query
// made while the console owns the terminal would race its input reader.
//
// dark and light are taken at their word. auto asks, cheapest first:
// COLORFGBG, then lipgloss' own detection, but only where that detection
// cannot stall or be answered by the wrong party: never inside tmux or
// screen (which multiplex several terminals and do not answer for them),
// never when the output is not a terminal. When in doubt: dark.
func Resolve(theme string, r *lipgloss.Renderer) bool {
	var dark bool
	switch theme {
	case ThemeDark:
		dark = true
	case ThemeLight:
		dark = false
	default:
		dark = detectDark(r)
	}
	r.SetHasDarkBackground(dark)
	return dark
}

func detectDark(r *lipgloss.Renderer) bool {
	if dark, ok := darkFromColorFGBG(os.Getenv("COLORFGBG")); ok {
		return dark
	}
	termName := os.Getenv("TERM")
	if os.Getenv("TMUX") != "" || os.Getenv("STY") != "" || termName == "" ||
		strings.HasPrefix(termName, "screen") || strings.HasPrefix(termName, "tmux") ||
		strings.HasPrefix(termName, "dumb") {
		return true
	}
	tty, ok := r.Output().Writer().(interface{ Fd() uintptr })
	if !ok || !term.IsTerminal(tty.Fd()) {
		return true
	}
	return r.HasDarkBackground()
}

// darkFromColorFGBG reads the "fg;bg" (or "fg;x;bg") hint some terminals
// export. The background is an ANSI index: white (7) and the bright colours
// but bright black (9–15) are light.
func darkFromColorFGBG(v string) (dark, ok bool) {
	i := strings.LastIndexByte(v, ';')
	if i < 0 {
		return false, false
	}
	bg, err := strconv.Atoi(v[i+1:])
	if err != nil || bg < 0 || bg > 15 {
		return false, false
	}
	light := bg == 7 || bg >= 9
	return !light, true
}
