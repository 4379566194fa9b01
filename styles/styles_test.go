package styles

import (
	"os"
	"strings"
	"testing"

	"github.com/charmbracelet/colorprofile"
)

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
	t.Setenv("COLORFGBG", "0;15") // the environment does not overrule an explicit theme
	for theme, dark := range map[string]bool{"dark": true, "light": false} {
		if got := Resolve(theme, nil, nil); got != dark {
			t.Errorf("%s: Resolve = %v", theme, got)
		}
		if st := New(dark, colorprofile.TrueColor); st.Dark != dark {
			t.Errorf("%s: Styles.Dark = %v", theme, st.Dark)
		}
	}
	// The two themes really differ.
	d := New(true, colorprofile.TrueColor).Expiring.Render("x")
	l := New(false, colorprofile.TrueColor).Expiring.Render("x")
	if d == l {
		t.Errorf("dark and light render alike: %q", d)
	}
}

func TestAutoNeverQueriesWhereItCannotAnswer(t *testing.T) {
	t.Setenv("COLORFGBG", "")
	t.Setenv("TMUX", "/tmp/tmux-1000/default,1,0")
	// Inside tmux: no query (tmux answers for itself, not the terminal);
	// in doubt, dark. Even given a terminal's files.
	if !Resolve("auto", os.Stdin, os.Stdout) {
		t.Error("auto in tmux is dark")
	}
	t.Setenv("TMUX", "")
	t.Setenv("TERM", "xterm-256color")
	// Input and output are not a terminal: no query either.
	if !Resolve("auto", nil, nil) {
		t.Error("auto without a terminal is dark")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if !Resolve("auto", r, w) {
		t.Error("auto on a pipe is dark")
	}
	t.Setenv("COLORFGBG", "0;15")
	if Resolve("auto", nil, nil) {
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

// Under NO_COLOR (the ASCII profile) no colour is sent, only attributes; on
// something that is not a terminal, nothing but the text.
func TestNoColourMeansNoColour(t *testing.T) {
	styles := func(st *Styles) map[string]Style {
		return map[string]Style{
			"Critical": st.Critical, "Selected": st.Selected, "FlashError": st.FlashError,
			"Expired": st.Expired, "Pending": st.Pending, "Dialog": st.Dialog,
		}
	}
	for name, s := range styles(New(true, colorprofile.NoTTY)) {
		want := "‼ 0:07"
		if name == "Dialog" {
			want = "╭────────╮\n│ ‼ 0:07 │\n╰────────╯"
		}
		if got := s.Render("‼ 0:07"); got != want {
			t.Errorf("%s without a terminal renders %q", name, got)
		}
	}
	for name, s := range styles(New(true, colorprofile.ASCII)) {
		got := s.Render("‼ 0:07")
		for _, sgr := range sgrParams(got) {
			if isColourParam(sgr) {
				t.Errorf("%s under NO_COLOR sends colour %q: %q", name, sgr, got)
			}
		}
	}
	if got := New(true, colorprofile.ASCII).Critical.Render("x"); got == "x" {
		t.Error("under NO_COLOR bold still reaches the terminal")
	}
	colour := New(true, colorprofile.ANSI256).Critical.Render("‼ 0:07")
	if !strings.Contains(colour, "38;5;") {
		t.Errorf("256 colours: %q", colour)
	}
	if ansi := New(true, colorprofile.ANSI).Critical.Render("x"); strings.Contains(ansi, "38;5;") || strings.Contains(ansi, "38;2;") {
		t.Errorf("16 colours get 16 colours: %q", ansi)
	}
}

// sgrParams lists the parameters of every SGR sequence in s.
func sgrParams(s string) []string {
	var out []string
	for {
		i := strings.Index(s, "\x1b[")
		if i < 0 {
			return out
		}
		s = s[i+2:]
		j := strings.IndexByte(s, 'm')
		if j < 0 {
			return out
		}
		out = append(out, strings.Split(s[:j], ";")...)
		s = s[j+1:]
	}
}

// isColourParam: 30–49 and 90–107 set colours; 1, 2, 3… are attributes.
func isColourParam(p string) bool {
	return len(p) >= 2 && strings.ContainsAny(p[:1], "349") || strings.HasPrefix(p, "10") && len(p) == 3
}

// The quick path paints exactly what lipgloss would, for every style, on
// and off the cursor row, in every profile.
func TestStylesPaintAsLipglossWould(t *testing.T) {
	texts := []string{"", " ", "Living Room iPad  ", "‼ 0:07", "a\tb", "two\nlines", "日本語 ✓", "\\x1b[2K"}
	for _, p := range []colorprofile.Profile{colorprofile.NoTTY, colorprofile.ASCII, colorprofile.ANSI, colorprofile.ANSI256, colorprofile.TrueColor} {
		for _, dark := range []bool{true, false} {
			st := New(dark, p)
			for i, s := range st.all() {
				for _, v := range []Style{*s, s.OnCursor()} {
					for _, text := range texts {
						if got, want := v.Render(text), v.Style.Render(text); got != want {
							t.Fatalf("profile %v style %d: Render(%q) = %q, lipgloss %q", p, i, text, got, want)
						}
					}
				}
			}
			if !st.Pending.ink.simple || st.Dialog.ink.simple {
				t.Errorf("profile %v: a cell style takes the quick path, a box does not", p)
			}
		}
	}
	sel := New(true, colorprofile.TrueColor)
	if a, b := sel.Pending.Render("x"), sel.Pending.OnCursor().Render("x"); a == b || !strings.Contains(b, "48;2;") {
		t.Errorf("the cursor row has the cursor's background: %q vs %q", a, b)
	}
}
