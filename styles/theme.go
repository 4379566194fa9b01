package styles

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"
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

// Resolve decides whether the terminal on in and out has a dark
// background. It is called once, before the console owns the terminal: a
// query made while the program reads its input would race that reader.
//
// dark and light are taken at their word. auto asks, cheapest first:
// COLORFGBG, then the terminal itself (OSC 11), but only where that query
// cannot stall or be answered by the wrong party: never inside tmux or
// screen (which multiplex several terminals and do not answer for them),
// never when in or out is not a terminal (nil counts as not one). When in
// doubt: dark.
func Resolve(theme string, in, out term.File) bool {
	switch theme {
	case ThemeDark:
		return true
	case ThemeLight:
		return false
	}
	if dark, ok := darkFromColorFGBG(os.Getenv("COLORFGBG")); ok {
		return dark
	}
	termName := os.Getenv("TERM")
	if os.Getenv("TMUX") != "" || os.Getenv("STY") != "" || termName == "" ||
		strings.HasPrefix(termName, "screen") || strings.HasPrefix(termName, "tmux") ||
		strings.HasPrefix(termName, "dumb") {
		return true
	}
	if !isTerminal(in) || !isTerminal(out) {
		return true
	}
	return lipgloss.HasDarkBackground(in, out)
}

func isTerminal(f term.File) bool {
	return f != nil && term.IsTerminal(f.Fd())
}

// DarkFromColorFGBG reads a COLORFGBG value as Resolve does, for a
// terminal whose environment is not this process's (an SSH session's); ok
// is false when it names no background.
func DarkFromColorFGBG(v string) (dark, ok bool) { return darkFromColorFGBG(v) }

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
