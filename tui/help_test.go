package tui

import (
	"reflect"
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// helpText is the whole reference, scrolled through in a 60×15 pane.
func helpText(t *testing.T, m Model) string {
	t.Helper()
	var b strings.Builder
	for range 40 {
		b.WriteString(m.body(m.bodyHeight()) + "\n")
		m = press(t, m, "pgdown")
	}
	return b.String()
}

// "?" lists every key and when it applies, whatever is on screen — here an
// empty queue, where the footer offers almost nothing.
func TestFullHelpListsEveryKeyEvenOnAnEmptyQueue(t *testing.T) {
	m, _ := newModel(t, 60, 15)
	m = step(t, m, listed(nil))
	if strings.Contains(m.helpLine(), "approve") {
		t.Fatalf("the footer offers approve on an empty queue: %q", m.helpLine())
	}
	m = press(t, m, "?")
	text := helpText(t, m)
	k := DefaultKeyMap()
	v := reflect.ValueOf(k)
	for i := range v.NumField() {
		b := v.Field(i).Interface().(key.Binding)
		label := b.Help().Key
		if !strings.Contains(text, "  "+label+" ") && !strings.Contains(text, " "+label+"  ") {
			t.Errorf("the help does not list %s (%q)", v.Type().Field(i).Name, label)
		}
	}
	for _, when := range []string{"Pending: the request under the cursor", "Paired: the node under the cursor",
		"Blocked: the node under the cursor", "In a dialog or an input", "Signs"} {
		if !strings.Contains(text, when) {
			t.Errorf("the help does not say %q", when)
		}
	}
}

// The help scrolls when it is cut, says so, and closes on ?, esc and q
// as htop and k9s do; ctrl+c still quits.
func TestHelpScrollsAndClosesOnQ(t *testing.T) {
	m, _ := newModel(t, 60, 15)
	m = step(t, m, listed(threeRequests()))
	m = press(t, m, "?")
	first := m.body(m.bodyHeight())
	if !strings.Contains(first, "↓ more (j/k to scroll)") || !m.keys.Down.Enabled() {
		t.Fatalf("a cut help does not say it scrolls:\n%s", first)
	}
	m = press(t, m, "j")
	if m.help.offset != 1 || strings.HasPrefix(m.body(m.bodyHeight()), "Moving") {
		t.Errorf("j: offset %d\n%s", m.help.offset, m.body(m.bodyHeight()))
	}
	m = press(t, m, "G")
	if last := m.body(m.bodyHeight()); strings.Contains(last, "↓ more") || !strings.Contains(last, "Signs") && !strings.Contains(last, "held for you") {
		t.Errorf("G does not reach the end:\n%s", last)
	}
	for _, k := range []string{"q", "esc", "?"} {
		closed, seen := stepMsgs(t, m, keyMsg(k))
		if closed.showHelp || len(seen) != 0 {
			t.Errorf("%s in the help: open %v, sent %v", k, closed.showHelp, seen)
		}
		if closed.view != viewPending || closed.pending.list.Len() != 3 {
			t.Errorf("%s closed the help somewhere else", k)
		}
	}
	_, cmd := m.Update(keyMsg("ctrl+c"))
	if cmd == nil {
		t.Fatal("ctrl+c in the help does nothing")
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Error("ctrl+c in the help does not quit")
	}
	// Opened again, it starts at the top.
	m = press(t, m, "q", "?")
	if m.help.offset != 0 {
		t.Errorf("reopened at line %d", m.help.offset)
	}
	// At 80×24 the footer says how to leave.
	if got := m.helpLine(); !strings.Contains(got, "?/esc/q close help") {
		t.Errorf("footer in the help: %q", got)
	}
}

func TestGoldenHelpNarrowEnd(t *testing.T) {
	m, _ := newModel(t, 60, 15)
	m = step(t, m, listed(nil))
	m = press(t, m, "?", "G")
	requireGolden(t, "help_60x15_end", frameOf(m))
}

// One glyph, one meaning: the legend never gives a glyph two (● was both
// "marked" and "online", ✗ both "expired" and "rejected").
func TestEachSignMeansOneThing(t *testing.T) {
	seen := map[string]string{}
	for _, s := range helpSigns() {
		glyph, meaning, _ := strings.Cut(s, " ")
		if other, ok := seen[glyph]; ok {
			t.Errorf("%s means both %q and %q", glyph, other, meaning)
		}
		seen[glyph] = meaning
	}
	if actExpired.label()[:len(glyphExpired)] == actRejected.label()[:len(glyphRejected)] {
		t.Errorf("activity: %q and %q share a glyph", actExpired.label(), actRejected.label())
	}
}
