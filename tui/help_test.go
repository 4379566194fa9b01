package tui

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

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
	m.features.not[FeatureCodes] = nil // a gateway with every feature
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
	if m.pageOffset != 1 || strings.HasPrefix(m.body(m.bodyHeight()), "Moving") {
		t.Errorf("j: offset %d\n%s", m.pageOffset, m.body(m.bodyHeight()))
	}
	m = press(t, m, "G")
	if last := m.body(m.bodyHeight()); strings.Contains(last, "↓ more") || !strings.Contains(last, "Signs") && !strings.Contains(last, "held for you") {
		t.Errorf("G does not reach the end:\n%s", last)
	}
	for _, k := range []string{"q", "esc", "?"} {
		closed, seen := stepMsgs(t, m, keyMsg(k))
		if (closed.page == pageHelp) || len(seen) != 0 {
			t.Errorf("%s in the help: open %v, sent %v", k, (closed.page == pageHelp), seen)
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
	if m.pageOffset != 0 {
		t.Errorf("reopened at line %d", m.pageOffset)
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
	for _, pairdeck := range []bool{true, false} {
		seen := map[string]string{}
		for _, s := range helpSigns(pairdeck) {
			glyph, meaning, _ := strings.Cut(s, " ")
			if other, ok := seen[glyph]; ok {
				t.Errorf("%s means both %q and %q", glyph, other, meaning)
			}
			seen[glyph] = meaning
		}
	}
	if actExpired.label()[:len(glyphExpired)] == actRejected.label()[:len(glyphRejected)] {
		t.Errorf("activity: %q and %q share a glyph", actExpired.label(), actRejected.label())
	}
}

// A message cut short says so, and m shows every recent message in full,
// newest first, long after its line has cleared.
func TestCutMessagesCanBeReadInFull(t *testing.T) {
	m, clk := newModel(t, 60, 15)
	m = step(t, m, listed(threeRequests()))
	if m.keys.Messages.Enabled() {
		t.Fatal("m offered with nothing said yet")
	}
	long := "Could not approve build-box-07: the gateway answered that the request needs operator.admin, which this token does not hold"
	m = step(t, m, decidedMsg{action: approve, results: []decisionResult{
		{decisionTarget: decisionTarget{requestID: "req-build", name: "build-box-07"}, err: errors.New(strings.TrimPrefix(long, "Could not approve build-box-07: "))},
	}})
	status := m.statusLine()
	if !strings.HasSuffix(status, "… m: more") || len([]rune(status)) != 60 {
		t.Errorf("a cut message: %q", status)
	}
	clk.Advance(time.Second)
	m = step(t, m, decidedMsg{action: reject, results: []decisionResult{
		{decisionTarget: decisionTarget{requestID: "req-kitchen", name: "Kitchen Display"}},
	}})
	if strings.Contains(m.statusLine(), "more") {
		t.Errorf("a message that fits says there is more: %q", m.statusLine())
	}
	clk.Advance(10 * time.Second)
	m = step(t, m, tickMsg{})
	if m.statusLine() != "" || !m.keys.Messages.Enabled() {
		t.Fatalf("after the flashes: status %q, m enabled %v", m.statusLine(), m.keys.Messages.Enabled())
	}
	m = press(t, m, "m")
	page := m.body(m.bodyHeight())
	flat := strings.Join(strings.Fields(page), " ")
	if !strings.Contains(flat, long) {
		t.Errorf("the message is not there in full:\n%s", page)
	}
	if strings.Index(page, "Rejected Kitchen Display") > strings.Index(page, "Could not approve") {
		t.Errorf("not newest first:\n%s", page)
	}
	if !strings.Contains(page, "09:26:54") || !strings.Contains(page, "09:26:53") {
		t.Errorf("the times they were said are missing:\n%s", page)
	}
	requireGolden(t, "messages_60x15", frameOf(m))
	for _, k := range []string{"m", "esc", "q"} {
		if closed := press(t, m, k); closed.page != pageNone {
			t.Errorf("%s does not close the messages", k)
		}
	}

	// Only the last ones are kept.
	for i := range messageLimit + 5 {
		clk.Advance(time.Second)
		m = step(t, m, refusedMsg{why: fmt.Sprintf("refusal %d", i)})
	}
	if len(m.messages) != messageLimit || m.messages[len(m.messages)-1].text != fmt.Sprintf("refusal %d", messageLimit+4) {
		t.Errorf("kept %d messages, last %q", len(m.messages), m.messages[len(m.messages)-1].text)
	}
}
