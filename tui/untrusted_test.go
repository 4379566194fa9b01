package tui

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/pairdeck/pairdeck/protocol"
)

// Everything the console shows that came from a gateway or a file is
// untrusted: a node, or a gateway that filters nothing, can put escape
// sequences, C1 controls or bidi overrides in any string (issue 10, item
// 1). These tests put one hostile string in every field there is and look
// at every line of every view.

// hostileSeeds are strings a node has sent to terminals before.
var hostileSeeds = []string{
	"\x1b]2;pwned\x07", // retitle the pane (OSC 2)
	"Kitchen\x1b[2K\x1b[3AApproval needs: nothing", // erase a line, move up
	"\x1b]52;c;ZWNobyBoaQ==\x07",                   // write the clipboard (OSC 52)
	"\x9b31m\x9dtitle\x9c",                         // the same in C1 controls
	"evil\u202egpj.exe",                            // right-to-left override
	"a\u2066b\u2069c\u200fd",                       // isolates and marks
	"line\u2028break\u2029para",                    // line and paragraph separators
	"tab\tnew\nline\rreturn\x00nul\x7fdel",
	"\xff\xfe not utf-8 \xc3",
	"zero\u200bwidth\ufeff",
	"",
	"Office Mac mini",
}

// untrustedFrames draws every view of a console whose every string from
// the network — node metadata in all fields, ids, actors, gateway errors,
// the shutdown reason, a token — and the endpoint from gateway.json is s.
func untrustedFrames(t testing.TB, s string, profile colorprofile.Profile) map[string]string {
	t.Helper()
	clk := &clock{t: t0}
	meta := protocol.NodeMeta{
		DisplayName: s, Platform: s, Version: s, CoreVersion: s, UIVersion: s,
		DeviceFamily: s, ModelIdentifier: s, Caps: []string{s, "camera"}, Commands: []string{s, "system.run"},
		RemoteIP: s,
	}
	pend := func(id string) protocol.PendingRequest {
		return protocol.PendingRequest{
			RequestID: id + s, NodeID: s + id, NodeMeta: meta, TS: t0.Add(-time.Minute).UnixMilli(),
			ExpiresAtMs: t0.Add(4 * time.Minute).UnixMilli(), RequiredApproveScopes: []string{s},
		}
	}
	paired := protocol.PairedNode{NodeID: "node-" + s, NodeMeta: meta, ApprovedAtMs: t0.Add(-time.Hour).UnixMilli(),
		CreatedAtMs: t0.Add(-2 * time.Hour).UnixMilli()}
	info := protocol.NodeInfo{NodeID: paired.NodeID, DisplayName: s, Platform: s, Version: s, DeviceFamily: s,
		ModelIdentifier: s, RemoteIP: s, Caps: []string{s}, Commands: []string{s}, Paired: true}
	gatewayErr := protocol.NewError(protocol.CodeInvalidRequest, s, "%s", s)
	list := refreshedMsg{
		list:  protocol.PairListResult{Pending: []protocol.PendingRequest{pend("r1"), pend("r2"), pend("r3")}, Paired: []protocol.PairedNode{paired}},
		nodes: protocol.NodeListResult{Nodes: []protocol.NodeInfo{info}},
		policy: &policySnapshot{
			pairing: protocol.PairingState{Enabled: true},
			blocked: []protocol.BlockedNode{{NodeID: "blk-" + s, DisplayName: s, BlockedBy: s, LastRemoteIP: s,
				BlockedAtMs: t0.UnixMilli(), Attempts: 3}},
		},
	}
	code := protocol.SetupCode{ID: s, Prefix: s, Note: s, CreatedBy: s, RevokedBy: s, MaxUses: 2,
		Scope:       protocol.CodeScope{Name: s, Platforms: []string{s}, CIDRs: []string{s}},
		CreatedAtMs: t0.UnixMilli(), ExpiresAtMs: t0.Add(time.Hour).UnixMilli(), UsedBy: []string{s}}
	list.codes, list.codesAsked = []protocol.SetupCode{code}, true
	frames := map[string]string{}
	draw := func(name string, m Model) { frames[name] = m.View().Content }

	build := func(w, h int) Model {
		m := New(nil, Options{Now: clk.Now, Theme: "dark", ColorProfile: profile, Endpoint: s, Remote: true})
		// A gateway with everything: reasons and setup codes too.
		m.features.not[FeatureReasons], m.features.not[FeatureCodes] = nil, nil
		m = step(t, m, windowSize(w, h))
		m = step(t, m, list)
		clk.Advance(time.Second)
		return step(t, m, tickMsg{})
	}
	m := build(80, 24)
	draw("queue", m)
	draw("queue 60×15", build(60, 15))
	draw("detail", press(t, m, "enter"))
	draw("block dialog", press(t, m, "b"))
	draw("rename", press(t, m, "n"))
	draw("bulk dialog", press(t, m, "space", "space", "A"))

	m = build(80, 24)
	m = press(t, m, "space", "space", "A")
	m = step(t, m, event(protocol.EventPairResolved, protocol.ResolvedEvent{
		RequestID: "r1" + s, NodeID: s + "r1", Decision: protocol.DecisionApproved, TS: t0.UnixMilli(), Actor: s,
	}))
	draw("bulk dialog, changed", m)
	m = press(t, m, "esc")
	draw("decided elsewhere", m)
	draw("refusal", press(t, m, "a"))

	m = build(80, 24)
	m = step(t, m, updateMsg{update: protocol.Update{StateChanged: true, State: protocol.Disconnected, Err: fmt.Errorf("dial: %w", errors.New(s))}})
	m = step(t, m, decidedMsg{action: reject, results: []decisionResult{{
		decisionTarget: decisionTarget{requestID: "r2" + s, nodeID: s + "r2", name: s}, err: gatewayErr,
	}}})
	draw("error flash", m)
	m = step(t, m, decidedMsg{action: approve, results: []decisionResult{{
		decisionTarget: decisionTarget{requestID: "r3" + s, nodeID: s + "r3", name: s},
		approved:       protocol.ApproveResult{RequestID: "r3" + s, Node: protocol.PairedNode{NodeID: s + "r3", Token: s, NodeMeta: meta}},
	}}})
	draw("token dialog", m)
	m = press(t, m, "enter")
	for _, ev := range []tea.Msg{
		event(protocol.EventPairRequested, pend("r4")),
		event(protocol.EventNodeRenamed, protocol.RenamedEvent{NodeID: paired.NodeID, DisplayName: s, TS: t0.UnixMilli(), Actor: s}),
		event(protocol.EventBlockAdded, protocol.BlockEvent{Node: protocol.BlockedNode{NodeID: "blk2-" + s, DisplayName: s, BlockedBy: s, Reason: s}, TS: t0.UnixMilli(), Actor: s}),
		event(protocol.EventPairResolved, protocol.ResolvedEvent{RequestID: "r4" + s, NodeID: s + "r4", Decision: protocol.DecisionRejected, TS: t0.UnixMilli(), Actor: s, Reason: s}),
		event(protocol.EventCodeCreated, protocol.CodeEvent{Code: code, TS: t0.UnixMilli(), Actor: s}),
		event(protocol.EventPairingChanged, protocol.PairingChangedEvent{Enabled: false, TS: t0.UnixMilli(), Actor: s}),
		event(protocol.EventShutdown, protocol.ShutdownEvent{Reason: s}),
	} {
		m = step(t, m, ev)
	}
	draw("after events", m)
	m = press(t, m, "tab")
	draw("paired", m)
	draw("paired detail", press(t, m, "enter"))
	draw("remove dialog", press(t, m, "d"))
	m = press(t, m, "tab")
	draw("activity", m)
	draw("activity filtered", press(t, typeText(t, press(t, m, "/"), "e"), "enter"))
	draw("blocked", press(t, m, "tab"))
	m = press(t, m, "tab", "tab")
	draw("codes", m)
	draw("code detail", press(t, m, "enter"))
	draw("revoke dialog", press(t, m, "x"))
	m = step(t, m, codeCreatedMsg{res: protocol.CodeCreateResult{Code: code, Secret: s, SetupLink: s}})
	draw("code shown once", m)
	draw("code shown once 60×15", step(t, m, windowSize(60, 15)))

	m = build(80, 24)
	draw("reason input", press(t, m, "r"))
	return frames
}

// sgr matches the styling sequences the console's own styles emit.
var sgr = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

// unsafeLine returns what in line a terminal would act on rather than
// show, other than the console's own styling: any C0 control (a frame's
// lines are split on \n), DEL, C1 controls, bidi controls, line and
// paragraph separators, or bytes that are not UTF-8.
func unsafeLine(line string) string {
	line = sgr.ReplaceAllString(line, "")
	if !utf8.ValidString(line) {
		return "invalid UTF-8"
	}
	for i := 0; i < len(line); i++ {
		if c := line[i]; c < 0x20 || c == 0x7f {
			return fmt.Sprintf("byte %#x at %d", c, i)
		}
	}
	for i, r := range line {
		switch {
		case r >= 0x80 && r <= 0x9f:
			return fmt.Sprintf("C1 %U at %d", r, i)
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
			return fmt.Sprintf("bidi control %U at %d", r, i)
		case r == 0x2028, r == 0x2029:
			return fmt.Sprintf("separator %U at %d", r, i)
		}
	}
	if err := protocol.CheckText(line); err != nil {
		return err.Error()
	}
	return ""
}

func checkFrames(t testing.TB, s string, profile colorprofile.Profile) {
	t.Helper()
	frames := untrustedFrames(t, s, profile)
	names := make([]string, 0, len(frames))
	for name := range frames {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for n, line := range strings.Split(frames[name], "\n") {
			if what := unsafeLine(line); what != "" {
				t.Fatalf("%s (%v), line %d: %s in %q\ninput %q", name, profile, n+1, what, line, s)
			}
		}
	}
}

// Every view, with every field hostile, draws only what a terminal shows;
// without colour and with the console's own true-colour styling.
func TestUntrustedTextNeverReachesTheTerminal(t *testing.T) {
	for _, s := range hostileSeeds {
		checkFrames(t, s, plain)
		checkFrames(t, s, colorprofile.TrueColor)
	}
}

// What was escaped is still there to read, visibly.
func TestUntrustedTextIsShownEscaped(t *testing.T) {
	frames := untrustedFrames(t, "evil\x1b]2;pwned\x07\u202e", plain)
	for _, view := range []string{"queue", "detail", "activity"} {
		if !strings.Contains(frames[view], `evil\x1b]2;pwned\x07\u202e`) {
			t.Errorf("%s does not show the name escaped:\n%s", view, frames[view])
		}
	}
}

// The fuzz target: any string a node can send, in any field, in any view.
func FuzzConsoleRendersUntrustedText(f *testing.F) {
	for _, s := range hostileSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkFrames(t, s, plain)
	})
}
