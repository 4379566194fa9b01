package styles

import (
	"io"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

func renderer(p termenv.Profile) *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(p)
	return r
}

func TestParseTheme(t *testing.T) {
	for in, want := range map[string]string{"": "auto", "auto": "auto", "Dark": "dark", " light ": "light"} {
		if got, err := ParseTheme(in); err != nil || got != want {
			t.Errorf("ParseTheme(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseTheme("solarized"); err == nil || !strings.Contains(err.Error(), "auto, dark or light") {
		t.Errorf("unknown theme: %v", err)
	}
}

func TestExplicitThemesPinTheBackground(t *testing.T) {
	for theme, dark := range map[string]bool{"dark": true, "light": false} {
		r := renderer(termenv.TrueColor)
		st := New(theme, r)
		if st.Dark != dark || r.HasDarkBackground() != dark {
			t.Errorf("%s: Styles.Dark=%v renderer=%v", theme, st.Dark, r.HasDarkBackground())
		}
	}
	// The two themes really differ.
	d := New("dark", renderer(termenv.TrueColor)).Expiring.Render("x")
	l := New("light", renderer(termenv.TrueColor)).Expiring.Render("x")
	if d == l {
		t.Errorf("dark and light render alike: %q", d)
	}
}

func TestAutoNeverQueriesWhereItCannotAnswer(t *testing.T) {
	t.Setenv("COLORFGBG", "")
	t.Setenv("TMUX", "/tmp/tmux-1000/default,1,0")
	// Inside tmux: no query (tmux answers for itself, not the terminal);
	// in doubt, dark.
	if !Resolve("auto", renderer(termenv.TrueColor)) {
		t.Error("auto in tmux is dark")
	}
	t.Setenv("TMUX", "")
	t.Setenv("TERM", "xterm-256color")
	// Output is not a terminal: no query either.
	if !Resolve("auto", renderer(termenv.TrueColor)) {
		t.Error("auto without a terminal is dark")
	}
	t.Setenv("COLORFGBG", "0;15")
	if Resolve("auto", renderer(termenv.TrueColor)) {
		t.Error("COLORFGBG with a white background is light")
	}
}

func TestColorFGBG(t *testing.T) {
	cases := map[string][2]bool{ // value → dark, ok
		"15;0":         {true, true},
		"0;15":         {false, true},
		"0;default;7":  {false, true},
		"12;8":         {true, true},
		"":             {false, false},
		"15;default":   {false, false},
		"not-a-number": {false, false},
	}
	for v, want := range cases {
		dark, ok := darkFromColorFGBG(v)
		if dark != want[0] || ok != want[1] {
			t.Errorf("%q: dark=%v ok=%v, want %v", v, dark, ok, want)
		}
	}
}

func TestNoColourMeansPlainText(t *testing.T) {
	st := New("dark", renderer(termenv.Ascii))
	for name, s := range map[string]lipgloss.Style{
		"Critical": st.Critical, "Selected": st.Selected, "FlashError": st.FlashError, "Expired": st.Expired,
	} {
		if got := s.Render("‼ 0:07"); got != "‼ 0:07" {
			t.Errorf("%s under NO_COLOR renders %q", name, got)
		}
	}
	colour := New("dark", renderer(termenv.ANSI256)).Critical.Render("‼ 0:07")
	if !strings.Contains(colour, "\x1b[") {
		t.Errorf("with colour: %q", colour)
	}
}
