package tui

import (
	"strings"
	"testing"
	"time"
	"unicode"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/pairdeck/pairdeck/protocol"
)

// t0 is the fixed "now" of every test: goldens must not depend on the day.
var t0 = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

// clock is a hand-driven clock.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time          { return c.t }
func (c *clock) Advance(d time.Duration) { c.t = c.t.Add(d) }

// plain draws text only, no colour and no attributes, so goldens hold only
// text and the glyphs must carry every meaning on their own.
const plain = colorprofile.NoTTY

// view is the frame the program would draw.
func frameOf(m Model) string { return m.View().Content }

// newModel is a console with no backend, sized w×h, on a fake clock. The
// tests feed it what a backend would deliver.
func newModel(t testing.TB, w, h int) (Model, *clock) {
	t.Helper()
	c := &clock{t: t0}
	m := New(nil, Options{Now: c.Now, Theme: "dark", ColorProfile: plain, Endpoint: "embedded · 127.0.0.1:18789"})
	m = step(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	return m, c
}

// step applies one message and runs what it asks for that stays inside the
// model (intents, dialogs, inputs); backend calls do not exist here.
func step(t testing.TB, m Model, msg tea.Msg) Model {
	t.Helper()
	m, _ = stepMsgs(t, m, msg)
	return m
}

// stepMsgs is step, also returning every message the model sent itself.
func stepMsgs(t testing.TB, m Model, msg tea.Msg) (Model, []tea.Msg) {
	t.Helper()
	next, cmd := m.Update(msg)
	m = next.(Model)
	if _, ok := msg.(tickMsg); ok {
		// The tick re-arms a one-second timer and, without a backend,
		// asks for nothing else: do not wait for it.
		return m, nil
	}
	var seen []tea.Msg
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		out := runQuick(c)
		switch out := out.(type) {
		case nil:
		case tea.BatchMsg:
			queue = append(queue, out...)
		default:
			seen = append(seen, out)
			if internal(out) {
				next, cmd := m.Update(out)
				m = next.(Model)
				queue = append(queue, cmd)
			}
		}
	}
	return m, seen
}

// runQuick runs a command that answers at once; timers (the tick) are
// left alone — tests send tickMsg themselves.
func runQuick(c tea.Cmd) tea.Msg {
	done := make(chan tea.Msg, 1)
	go func() { done <- c() }()
	select {
	case msg := <-done:
		return msg
	case <-time.After(100 * time.Millisecond):
		return nil
	}
}

func internal(msg tea.Msg) bool {
	switch msg.(type) {
	case decideMsg, askBulkMsg, startRenameMsg, renameMsg, askRemoveMsg, removeMsg,
		openDetailMsg, confirmedMsg, dialogClosedMsg, tokenDismissedMsg,
		promptSubmittedMsg, promptCancelledMsg, askBlockMsg, blockMsg, unblockMsg, setPairingMsg, refusedMsg, bulkConfirmedMsg,
		newCodeMsg, codeFormDoneMsg, codeFormCancelledMsg, askRevokeMsg, revokeMsg:
		return true
	}
	return false
}

// keyMsg builds the key message a terminal would send for name.
func keyMsg(name string) tea.KeyPressMsg {
	special := map[string]tea.KeyPressMsg{
		"enter": {Code: tea.KeyEnter}, "esc": {Code: tea.KeyEscape}, "tab": {Code: tea.KeyTab},
		"shift+tab": {Code: tea.KeyTab, Mod: tea.ModShift},
		"up":        {Code: tea.KeyUp}, "down": {Code: tea.KeyDown},
		"pgup": {Code: tea.KeyPgUp}, "pgdown": {Code: tea.KeyPgDown},
		"home": {Code: tea.KeyHome}, "end": {Code: tea.KeyEnd},
		"space":     {Code: tea.KeySpace, Text: " "},
		"ctrl+c":    {Code: 'c', Mod: tea.ModCtrl},
		"backspace": {Code: tea.KeyBackspace},
	}
	if k, ok := special[name]; ok {
		return k
	}
	r := []rune(name)
	if len(r) != 1 {
		panic("keyMsg: unknown key " + name)
	}
	return runeKey(r[0])
}

// runeKey is a printable key as a terminal without keyboard enhancements
// reports it: an upper-case letter is shift and the letter.
func runeKey(r rune) tea.KeyPressMsg {
	if unicode.IsUpper(r) {
		return tea.KeyPressMsg{Code: unicode.ToLower(r), ShiftedCode: r, Mod: tea.ModShift, Text: string(r)}
	}
	return tea.KeyPressMsg{Code: r, Text: string(r)}
}

// press sends keys one after another.
func press(t testing.TB, m Model, keys ...string) Model {
	t.Helper()
	for _, k := range keys {
		m = step(t, m, keyMsg(k))
	}
	return m
}

// typeText sends each rune of s as a key.
func typeText(t testing.TB, m Model, s string) Model {
	t.Helper()
	for _, r := range s {
		m = step(t, m, runeKey(r))
	}
	return m
}

// nodeID makes a plausible 64-hex node id from a seed.
func nodeID(seed string) string {
	const hex = "0123456789abcdef"
	var b strings.Builder
	h := uint32(2166136261)
	for _, c := range seed {
		h = (h ^ uint32(c)) * 16777619
	}
	for b.Len() < 64 {
		h = h*1664525 + 1013904223
		b.WriteByte(hex[h>>28])
	}
	return b.String()
}

// request builds a pending request made age ago (with the gateway's
// default five-minute window).
func request(id, name, platform, ip string, age time.Duration) protocol.PendingRequest {
	ts := t0.Add(-age)
	return protocol.PendingRequest{
		RequestID: id,
		NodeID:    nodeID(name),
		NodeMeta:  protocol.NodeMeta{DisplayName: name, Platform: platform, RemoteIP: ip}, TS: ts.UnixMilli(),
		ExpiresAtMs: ts.Add(protocol.DefaultTTL).UnixMilli(),
	}
}

// threeRequests is the queue most tests start from, newest first.
func threeRequests() []protocol.PendingRequest {
	return []protocol.PendingRequest{
		request("req-ipad", "Living Room iPad", "ios", "192.168.1.42", 40*time.Second),
		request("req-build", "build-box-07", "linux", "10.0.4.17", 2*time.Minute),
		request("req-kitchen", "Kitchen Display", "android", "192.168.1.77", 4*time.Minute+30*time.Second),
	}
}

// listed delivers a list result as the backend would.
func listed(pending []protocol.PendingRequest, paired ...protocol.PairedNode) refreshedMsg {
	return refreshedMsg{list: protocol.PairListResult{Pending: pending, Paired: paired}}
}

// event wraps a gateway event as a subscription update.
func event(name string, payload any) updateMsg {
	return updateMsg{update: protocol.Update{Event: protocol.NewEvent(name, payload)}}
}

// namedTB files a golden under a flat name: testdata/<name>.golden.
type namedTB struct {
	testing.TB
	name string
}

func (n namedTB) Name() string { return n.name }

// requireGolden compares a frame with testdata/<name>.golden (-update
// rewrites it).
func requireGolden(t *testing.T, name string, frame string) {
	t.Helper()
	golden.RequireEqual(namedTB{TB: t, name: name}, []byte(frame+"\n"))
}

// sent finds the message of type T among seen, looking inside confirmed
// dialogs for the action they carried.
func sent[T any](seen []tea.Msg) (T, bool) {
	for _, msg := range seen {
		if c, ok := msg.(confirmedMsg); ok {
			msg = c.then
		}
		if v, ok := msg.(T); ok {
			return v, true
		}
	}
	var zero T
	return zero, false
}

func windowSize(w, h int) tea.WindowSizeMsg { return tea.WindowSizeMsg{Width: w, Height: h} }
