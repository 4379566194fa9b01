package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
)

// What the program is asked to do with the terminal, besides drawing.

func TestEveryFrameIsOnTheAlternateScreen(t *testing.T) {
	c := &clock{t: t0}
	m := New(nil, Options{Now: c.Now, Theme: "dark", ColorProfile: plain})
	if v := m.View(); !v.AltScreen {
		t.Error("the frame before the first size leaves the alternate screen")
	}
	m = step(t, m, windowSize(40, 10))
	if v := m.View(); !v.AltScreen || !strings.Contains(v.Content, "terminal too small") {
		t.Errorf("too small: alt=%v %q", v.AltScreen, v.Content)
	}
	m = step(t, m, windowSize(80, 24))
	if v := m.View(); !v.AltScreen {
		t.Error("a normal frame is not on the alternate screen")
	}
}

func TestTheTerminalCursorSitsInTheInput(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	m = step(t, m, listed(threeRequests()))
	if v := m.View(); v.Cursor != nil {
		t.Fatalf("cursor shown without an input: %+v", v.Cursor)
	}
	m = press(t, m, "/")
	m = typeText(t, m, "kit")
	v := m.View()
	if v.Cursor == nil {
		t.Fatal("no cursor in the filter input")
	}
	lines := strings.Split(v.Content, "\n")
	if v.Cursor.Y != len(lines)-2 || !strings.HasPrefix(lines[v.Cursor.Y], "/kit") {
		t.Errorf("cursor on line %d (%q), want the status line", v.Cursor.Y, lines[min(v.Cursor.Y, len(lines)-1)])
	}
	if v.Cursor.X != len("/kit") || v.Cursor.Blink {
		t.Errorf("cursor at column %d blink=%v, want a steady cursor after the text", v.Cursor.X, v.Cursor.Blink)
	}
	m = press(t, m, "esc")
	if v := m.View(); v.Cursor != nil {
		t.Error("the cursor stays after the input closed")
	}
}

// Under NO_COLOR (the ASCII profile) frames carry no colour at all; the
// cursor row and the states still read from their glyphs and words.
func TestNoColorFramesCarryNoColour(t *testing.T) {
	c := &clock{t: t0}
	m := New(nil, Options{Now: c.Now, Theme: "dark", ColorProfile: colorprofile.ASCII})
	m = step(t, m, windowSize(80, 24))
	m = step(t, m, withPaired(threeRequests()))
	m = press(t, m, "space", "?")
	for _, f := range []string{frameOf(m), frameOf(press(t, m, "?", "tab"))} {
		for _, p := range sgrParams(f) {
			if isColourParam(p) {
				t.Fatalf("colour %q under NO_COLOR in:\n%q", p, f)
			}
		}
	}
	m = press(t, m, "?")
	f := ansi.Strip(frameOf(m))
	if !strings.Contains(f, " "+glyphMark+" Kitchen Display") || !strings.Contains(f, glyphCursor+"  build-box-07") {
		t.Errorf("the mark and the cursor show no glyphs:\n%s", f)
	}
}

// The program says which profile its terminal has; the frames follow.
func TestStylesFollowTheProgramsColourProfile(t *testing.T) {
	c := &clock{t: t0}
	m := New(nil, Options{Now: c.Now, Theme: "dark"}) // no profile given: true colour
	m = step(t, m, windowSize(80, 24))
	m = step(t, m, withPaired(threeRequests()))
	if !strings.Contains(frameOf(m), "\x1b[38;2;") {
		t.Fatalf("no true colour before the program said otherwise")
	}
	m = step(t, m, tea.ColorProfileMsg{Profile: colorprofile.ANSI256})
	if f := frameOf(m); strings.Contains(f, "\x1b[38;2;") || !strings.Contains(f, "38;5;") {
		t.Errorf("256 colours: %q", f)
	}
	m = step(t, m, tea.ColorProfileMsg{Profile: colorprofile.NoTTY})
	if f := frameOf(m); strings.Contains(f, "\x1b") {
		t.Errorf("not a terminal, yet escapes: %q", f)
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
