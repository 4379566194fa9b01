package tui

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/client"
	"github.com/pairdeck/pairdeck/gateway"
	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/store"
	"github.com/pairdeck/pairdeck/tui/qr"
)

// setupCode is a code as the gateway lists it, created age ago for ttl.
func setupCode(id, prefix string, age, ttl time.Duration, uses, maxUses int) protocol.SetupCode {
	created := t0.Add(-age)
	return protocol.SetupCode{
		ID: id, Prefix: prefix, CreatedAtMs: created.UnixMilli(), ExpiresAtMs: created.Add(ttl).UnixMilli(),
		MaxUses: maxUses, Uses: uses, CreatedBy: "cli alice@laptop",
	}
}

// someCodes are one code in each state.
func someCodes() []protocol.SetupCode {
	active := setupCode("c7k2m9q4r", "K7QM", time.Minute, 10*time.Minute, 0, 1)
	active.Scope = protocol.CodeScope{NamePrefix: "kitchen-", Platforms: []string{"linux"}}
	active.Note = "kitchen displays"
	fleet := setupCode("cfleet001", "9RTW", 10*time.Minute, 48*time.Hour, 2, 10)
	fleet.Scope = protocol.CodeScope{CIDRs: []string{"10.0.0.0/8"}, AllowExec: true}
	used := setupCode("cused0001", "M3DE", 20*time.Minute, time.Hour, 1, 1)
	used.UsedBy, used.LastUsedAtMs = []string{nodeID("Kitchen Display")}, t0.Add(-15*time.Minute).UnixMilli()
	expired := setupCode("cexp00001", "C4PA", 2*time.Hour, 10*time.Minute, 0, 1)
	revoked := setupCode("crev00001", "2XHF", 30*time.Minute, time.Hour, 0, 1)
	revoked.RevokedAtMs, revoked.RevokedBy = t0.Add(-5*time.Minute).UnixMilli(), "console alice"
	return []protocol.SetupCode{active, fleet, used, revoked, expired}
}

// codesModel is a console on a gateway that issues codes, on its Codes
// view with the codes listed.
func codesModel(t *testing.T, w, h int) (Model, *clock) {
	t.Helper()
	m, clk := newModel(t, w, h)
	m.features.not[FeatureCodes] = nil
	msg := withPolicy(true)
	msg.codes, msg.codesAsked = someCodes(), true
	m = step(t, m, msg)
	m = press(t, m, "shift+tab")
	if m.view != viewCodes {
		t.Fatalf("shift+tab from Pending went to view %d, want Codes", m.view)
	}
	return m, clk
}

// The Codes view lists every code with its state, uses and time left on
// the console's clock, live from the gateway's events.
func TestCodesViewListsCodesLive(t *testing.T) {
	m, clk := codesModel(t, 120, 24)
	for id, want := range map[string][]string{
		"c7k2m9q4r": {"K7QM…", "● active", "0/1", "9:00", "name kitchen-* · linux", "kitchen displays", "cli alice@laptop"},
		"cfleet001": {"● active", "2/10", "47h", "10.0.0.0/8 · exec allowed"},
		"cused0001": {"✓ used up", "1/1", "15m ago"},
		"crev00001": {"✗ revoked", "5m ago"},
		"cexp00001": {"◷ expired", "1h ago", "any node"},
	} {
		line := lineWith(t, m, id)
		for _, w := range want {
			if !strings.Contains(line, w) {
				t.Errorf("%s: %q lacks %q", id, line, w)
			}
		}
	}
	if !strings.Contains(frameOf(m), "[Codes 2]") {
		t.Errorf("tab does not count the 2 active codes:\n%s", frameOf(m))
	}
	requireGolden(t, "codes", frameOf(m))

	// The clock runs: the countdown follows, and a code expires here.
	clk.Advance(8*time.Minute + 30*time.Second)
	m = step(t, m, tickMsg{})
	if line := lineWith(t, m, "c7k2m9q4r"); !strings.Contains(line, "⚠") && !strings.Contains(line, "0:30") {
		t.Errorf("30 s left: %q", line)
	}
	clk.Advance(time.Minute)
	m = step(t, m, tickMsg{})
	if line := lineWith(t, m, "c7k2m9q4r"); !strings.Contains(line, "◷ expired") {
		t.Errorf("past its expiry: %q", line)
	}

	// Events: a code created elsewhere goes on top; a use and a revocation
	// show at once.
	fresh := setupCode("cnew00001", "QQQQ", 0, time.Hour, 0, 2)
	fresh.CreatedAtMs = clk.Now().UnixMilli()
	fresh.ExpiresAtMs = clk.Now().Add(time.Hour).UnixMilli()
	m = step(t, m, event(protocol.EventCodeCreated, protocol.CodeEvent{Code: fresh, TS: fresh.CreatedAtMs}))
	if r, ok := m.codes.list.Selected(); !ok || r.code.ID == "cnew00001" {
		t.Errorf("the cursor moved to the new code")
	}
	var order []string
	m.codes.list.Each(func(r codeRow) { order = append(order, r.code.ID) })
	if order[0] != "cnew00001" {
		t.Errorf("order %v: newest first", order)
	}
	fresh.Uses, fresh.UsedBy = 2, []string{nodeID("a"), nodeID("b")}
	m = step(t, m, event(protocol.EventCodeUsed, protocol.CodeEvent{Code: fresh, NodeID: nodeID("b"), TS: clk.Now().UnixMilli()}))
	if line := lineWith(t, m, "cnew00001"); !strings.Contains(line, "✓ used up") || !strings.Contains(line, "2/2") {
		t.Errorf("after its last use: %q", line)
	}
	rev := someCodes()[1]
	rev.RevokedAtMs = clk.Now().UnixMilli()
	m = step(t, m, event(protocol.EventCodeRevoked, protocol.CodeEvent{Code: rev, TS: rev.RevokedAtMs}))
	if line := lineWith(t, m, "cfleet001"); !strings.Contains(line, "✗ revoked") {
		t.Errorf("after its revocation: %q", line)
	}
	if !strings.Contains(frameOf(m), "Codes 0") {
		t.Errorf("tab count:\n%s", frameOf(m))
	}
}

func TestGoldenCodesNarrowAndEmpty(t *testing.T) {
	m, _ := codesModel(t, 60, 15)
	requireGolden(t, "codes_60x15", frameOf(m))
	m, _ = newModel(t, 60, 15)
	m.features.not[FeatureCodes] = nil
	msg := withPolicy(true)
	msg.codesAsked = true
	m = step(t, m, msg)
	m = press(t, m, "shift+tab")
	requireGolden(t, "codes_empty_60x15", frameOf(m))
}

// Where the gateway keeps reasons, revoking asks for one after the
// confirmation, as reject and block do.
func TestRevokeAsksForAReason(t *testing.T) {
	m, _ := codesModel(t, 80, 24)
	m.features.not[FeatureReasons] = nil
	m = press(t, m, "x", "y")
	if got := lineWith(t, m, "reason"); !strings.HasPrefix(got, "revoke code c7k2m9q4r, reason (optional) › ") {
		t.Fatalf("input line %q", got)
	}
	m = typeText(t, m, "leaked")
	_, seen := stepMsgs(t, m, keyMsg("enter"))
	if r, ok := sent[revokeMsg](seen); !ok || r.id != "c7k2m9q4r" || r.reason != "leaked" || !r.asked {
		t.Fatalf("enter sent %+v", seen)
	}
	m = press(t, m, "esc")
	if m.prompt != nil || m.flash.text != "Not revoked." {
		t.Errorf("esc: prompt %v flash %q", m.prompt, m.flash.text)
	}
}

// A list that fails says why, rather than load for ever.
func TestCodesListFailureIsSaid(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	m.features.not[FeatureCodes] = nil
	msg := withPolicy(true)
	msg.codesAsked, msg.codesErr = true, protocol.NewError(protocol.CodeInvalidRequest, "", "missing scope: operator.pairing")
	m = step(t, m, msg)
	m = press(t, m, "shift+tab")
	if f := frameOf(m); !strings.Contains(f, "Could not list the setup codes: Missing scope: operator.pairing.") || m.keys.NewCode.Enabled() {
		t.Errorf("n %v:\n%s", m.keys.NewCode.Enabled(), f)
	}
}

// x (or d) revokes an active code after a confirmation; on a code that
// can no longer be used it says why it does nothing.
func TestRevokeACode(t *testing.T) {
	m, _ := codesModel(t, 120, 24)
	m = press(t, m, "x")
	if m.confirm == nil || m.confirm.title != "Revoke code c7k2m9q4r (K7QM…)?" {
		t.Fatalf("x opened %+v", m.confirm)
	}
	m, seen := stepMsgs(t, m, keyMsg("y"))
	if r, ok := sent[revokeMsg](seen); !ok || r.id != "c7k2m9q4r" {
		t.Fatalf("y sent %v", seen)
	}
	c := someCodes()[0]
	c.RevokedAtMs, c.RevokedBy = t0.UnixMilli(), "console alice"
	m = step(t, m, codeRevokedMsg{id: c.ID, res: protocol.CodeRevokeResult{Code: c, Revoked: true}})
	if m.flash.text != "✗ Revoked code c7k2m9q4r: no node can use it now." {
		t.Errorf("flash %q", m.flash.text)
	}
	if m.keys.Revoke.Enabled() {
		t.Error("x still offered on a revoked code")
	}
	_, seen = stepMsgs(t, m, keyMsg("d"))
	if r, ok := sent[refusedMsg](seen); !ok || r.why != "Code c7k2m9q4r is revoked: no node can use it any more." {
		t.Errorf("d on a revoked code: %v", seen)
	}
	// The detail pane says everything, and revokes too.
	m = press(t, m, "j", "enter")
	if f := frameOf(m); !strings.Contains(f, "Setup code cfleet001") || !strings.Contains(f, "10.0.0.0/8") || !strings.Contains(f, "yes: it approves nodes declaring exec-class") {
		t.Errorf("detail:\n%s", f)
	}
	m = press(t, m, "x")
	if m.confirm == nil || !strings.Contains(m.confirm.title, "cfleet001") {
		t.Errorf("x in the detail pane: %+v", m.confirm)
	}
}

// typeInto types s into the form's focused field, replacing what it held.
func typeInto(t *testing.T, m Model, s string) Model {
	t.Helper()
	for range len([]rune(m.codeForm.inputs[m.codeForm.focus].Value())) {
		m = press(t, m, "backspace")
	}
	return typeText(t, m, s)
}

// n opens the form; enter creates a code from what it says.
func TestNewCodeFormSaysWhatItCreates(t *testing.T) {
	m, _ := codesModel(t, 60, 15)
	m = press(t, m, "n")
	if m.codeForm == nil {
		t.Fatal("n opened no form")
	}
	requireGolden(t, "code_form_60x15", frameOf(m))
	if x, y, ok := m.inputCursor(); !ok || y != 4 || x != codeFormIndent+3 {
		t.Errorf("the terminal cursor is at %d,%d (%v), want after “10m” on the first field", x, y, ok)
	}
	m = typeInto(t, m, "2h")
	m = press(t, m, "tab")
	m = typeInto(t, m, "3")
	m = press(t, m, "tab")
	m = typeText(t, m, "kitchen-*")
	m = press(t, m, "down")
	m = typeText(t, m, "linux, macos")
	m = press(t, m, "tab")
	m = typeText(t, m, "10.0.0.0/8, 192.168.1.7")
	m = press(t, m, "tab")
	if !m.keys.Toggle.Enabled() {
		t.Error("space not offered on the exec field")
	}
	m = press(t, m, "space", "tab")
	m = typeText(t, m, "kitchen displays")
	m, seen := stepMsgs(t, m, keyMsg("enter"))
	done, ok := sent[codeFormDoneMsg](seen)
	if !ok {
		t.Fatalf("enter sent %v (form says %q)", seen, m.codeForm.badWhy)
	}
	want := protocol.CodeCreateParams{TTLMs: (2 * time.Hour).Milliseconds(), MaxUses: 3, Note: "kitchen displays",
		Scope: protocol.CodeScope{NamePrefix: "kitchen-", Platforms: []string{"linux", "macos"},
			CIDRs: []string{"10.0.0.0/8", "192.168.1.7"}, AllowExec: true}}
	got := done.params
	if got.TTLMs != want.TTLMs || got.MaxUses != want.MaxUses || got.Note != want.Note || got.Scope.NamePrefix != want.Scope.NamePrefix ||
		!slices.Equal(got.Scope.Platforms, want.Scope.Platforms) || !slices.Equal(got.Scope.CIDRs, want.Scope.CIDRs) || !got.Scope.AllowExec {
		t.Errorf("params %+v\nwant   %+v", got, want)
	}
	// A second enter while the answer is on its way creates nothing more.
	if _, seen = stepMsgs(t, m, keyMsg("enter")); len(seen) > 0 {
		if _, again := sent[codeFormDoneMsg](seen); again && m.codeForm.busy {
			t.Error("a second enter created another code")
		}
	}
}

// The form refuses what the gateway would, naming the field, and stays.
func TestNewCodeFormRefusesBadValues(t *testing.T) {
	for _, tc := range []struct {
		field int
		value string
		why   string
	}{
		{cfTTL, "10x", "not a duration like 10m, 2h or 7d"},
		{cfTTL, "31d", "at most 30d"},
		{cfUses, "0", "a whole number from 1 to 1000"},
		{cfName, "*", "some text before the *"},
		{cfCIDR, "10.0.0.0/33", "is not a CIDR like 10.0.0.0/8"},
		{cfPlatform, "linux, " + strings.Repeat("x", 200), "a platform must be 1 to"},
		{cfNote, strings.Repeat("é", 260), "note: longer than 512 bytes"},
	} {
		m, _ := codesModel(t, 80, 24)
		m = press(t, m, "n")
		for range tc.field {
			m = press(t, m, "tab")
		}
		m = typeInto(t, m, tc.value)
		for range 2 {
			m = press(t, m, "tab") // the check must find the field itself
		}
		m, seen := stepMsgs(t, m, keyMsg("enter"))
		if _, ok := sent[codeFormDoneMsg](seen); ok {
			t.Errorf("%q accepted", tc.value)
			continue
		}
		if m.codeForm.focus != tc.field || !strings.Contains(m.codeForm.badWhy, tc.why) {
			t.Errorf("%q: focus %d why %q, want field %d and %q", tc.value, m.codeForm.focus, m.codeForm.badWhy, tc.field, tc.why)
		}
		if !strings.Contains(frameOf(m), "✗ ") {
			t.Errorf("%q: the form does not say why:\n%s", tc.value, frameOf(m))
		}
	}
	if d, err := parseTTL("1d12h"); err != nil || d != 36*time.Hour {
		t.Errorf("1d12h = %v, %v", d, err)
	}
}

const testSecret = "K7QM-2XHF-9RTW-C4PA-M3DE"

// created is the gateway's answer to a create: the secret and its link.
func created(t *testing.T) codeCreatedMsg {
	t.Helper()
	c := setupCode("cnew00001", "K7QM", 0, 10*time.Minute, 0, 1)
	c.Scope.Name = "Kitchen Display 2"
	link, err := protocol.EncodeSetupLink(protocol.SetupPayload{URL: "ws://192.168.1.10:18789", BootstrapToken: testSecret, ExpiresAtMs: c.ExpiresAtMs})
	if err != nil {
		t.Fatal(err)
	}
	return codeCreatedMsg{res: protocol.CodeCreateResult{Code: c, Secret: testSecret, SetupLink: link}}
}

// The code is shown once: the secret, the command for the node (no
// secret in it), the link and its QR code; closed, it is gone.
func TestANewCodeIsShownOnce(t *testing.T) {
	m, _ := codesModel(t, 100, 60)
	m = press(t, m, "n", "enter")
	msg := created(t)
	m = step(t, m, msg)
	if m.codeForm != nil || m.page != pageCode {
		t.Fatalf("form %v page %v", m.codeForm, m.page)
	}
	frame := frameOf(m)
	for _, want := range []string{"Setup code cnew00001", "shown once: copy it now", testSecret,
		"pairdeck node pair --code - --name 'Kitchen Display 2'", msg.res.SetupLink[:60], "Or scan it",
		"enter/esc close for good"} {
		if !strings.Contains(frame, want) {
			t.Errorf("the page lacks %q:\n%s", want, frame)
		}
	}
	// The QR code is the link's, quiet zone and all.
	drawing, _ := qr.Render(msg.res.SetupLink)
	for _, l := range strings.Split(drawing, "\n") {
		if !strings.Contains(frame, "  "+l) {
			t.Fatalf("the QR code is not drawn whole:\n%s", frame)
		}
	}
	requireGolden(t, "code_shown_once", frame)
	if r, _ := m.codes.list.Selected(); r.code.ID != "cnew00001" {
		t.Errorf("the new code is not under the cursor")
	}
	m = press(t, m, "enter")
	if m.page != pageNone || m.codeSecret != nil {
		t.Fatalf("enter did not close the page")
	}
	if f := frameOf(m); strings.Contains(f, testSecret) || !strings.Contains(f, "cnew00001") {
		t.Errorf("after closing:\n%s", f)
	}
	for _, said := range m.messages {
		if strings.Contains(said.text, testSecret) {
			t.Errorf("the secret is in the messages: %q", said.text)
		}
	}
}

// On a small terminal the page scrolls to the QR code, and says when it
// cannot draw it whole.
func TestANewCodeOnASmallTerminal(t *testing.T) {
	m, _ := codesModel(t, 60, 15)
	m = press(t, m, "n", "enter")
	m = step(t, m, created(t))
	requireGolden(t, "code_shown_once_60x15", frameOf(m))
	if !m.keys.Down.Enabled() {
		t.Error("the page does not scroll")
	}
	m = press(t, m, "G")
	if f := frameOf(m); !strings.Contains(f, "█") {
		t.Errorf("the end of the page shows no QR code:\n%s", f)
	}
	m = press(t, m, "q")
	if m.page != pageNone || m.codeSecret != nil {
		t.Error("q did not close the page")
	}
}

// A gateway without codes (OpenClaw's) has no Codes view; the help says
// why.
func TestNoCodesViewWhereTheGatewayHasNone(t *testing.T) {
	m, _ := openClawModel(t, "2026.9.6", 100, 24)
	m = step(t, m, listed(nil))
	for range 4 {
		m = press(t, m, "tab")
		if m.view == viewCodes {
			t.Fatal("tab reached the Codes view")
		}
	}
	if strings.Contains(frameOf(m), "Codes") {
		t.Errorf("a Codes tab:\n%s", frameOf(m))
	}
	help := strings.Join(helpLines(m.st, 100, m.features, false), "\n")
	if !strings.Contains(help, "does not support setup codes") || strings.Contains(help, "create a code") {
		t.Errorf("help:\n%s", help)
	}
}

// The Codes view on the real embedded gateway, in a running program: n,
// the form, the code shown once with its setup link and QR code; a real
// node pairs with the code (read off the screen) and is approved at once,
// by the code; the code shows used up, Activity names it as the actor;
// another code is revoked.
func TestFlowSetupCodesOnTheEmbeddedGateway(t *testing.T) {
	st, err := store.Open(store.Options{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	g, err := gateway.New(gateway.Config{Store: st, OperatorToken: flowToken, TickInterval: -1,
		PublicURL: "ws://127.0.0.1:18789", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = g.Shutdown(ctx)
		srv.Close()
		_ = st.Close()
	})
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	op := g.Local(store.Actor{ClientID: "console", Role: "operator"})
	t.Cleanup(op.Close)

	s := console(t, op, Options{Endpoint: "embedded · test"})
	s.wait(t, "No pending requests", "Codes 0")
	s.press("shift+tab")
	s.wait(t, "No setup codes", "n new code")
	s.mark()
	s.press("n")
	s.wait(t, "New setup code", "enter create code")
	s.press("tab", "tab")
	for _, r := range "kitchen-*" {
		s.tm.Send(runeKey(r))
	}
	s.mark()
	s.press("enter")
	s.wait(t, "shown once: copy it now", "pairdeck node pair --code - --name kitchen-NAME", "oc-pair://", "Or scan it")
	seen, _ := s.frames.since(s.from)
	secret := regexp.MustCompile(`[0-9A-Z]{4}(-[0-9A-Z]{4}){4}`).FindString(seen)
	if secret == "" {
		t.Fatalf("no code on the page:\n%s", seen)
	}
	s.mark()
	s.press("esc")
	s.wait(t, "● active", "name kitchen-*", "Codes 1")
	// From the first frame of the list on (a frame drawn after the mark
	// but before esc arrived may still be the page).
	if seen := s.frames.from(s.from, "● active"); strings.Contains(seen, secret) {
		t.Fatal("the code is still on screen after the page closed")
	}

	// A node presents the code: approved at once, by the code.
	id, err := client.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s.mark()
	out, err := client.Pair(ctx, client.Config{URL: url, Identity: id},
		protocol.PairRequestParams{NodeMeta: protocol.NodeMeta{DisplayName: "kitchen-2", Platform: "linux"}, Code: secret})
	if err != nil || !out.ByCode {
		t.Fatalf("pairing with the code: %+v %v", out, err)
	}
	s.wait(t, "✓ used up", "1/1", "Codes 0")
	codeID := ""
	for _, l := range strings.Split(seen, "\n") {
		if strings.HasPrefix(l, "Setup code ") {
			codeID = strings.Fields(l)[2]
		}
	}
	if codeID == "" {
		t.Fatalf("no code id on the page:\n%s", seen)
	}
	s.mark()
	s.press("shift+tab", "shift+tab")
	s.wait(t, "[Activity", "kitchen-2", "code "+codeID)

	// Another code, revoked.
	s.press("tab", "tab")
	s.wait(t, "[Codes")
	s.mark()
	s.press("n")
	s.wait(t, "New setup code")
	s.press("enter")
	s.wait(t, "shown once: copy it now")
	s.mark()
	s.press("enter")
	s.wait(t, "Codes 1")
	s.mark()
	s.press("x")
	s.wait(t, "Revoke code")
	s.mark()
	s.press("y")
	s.wait(t, ", reason (optional) ›", "enter revoke without a reason")
	for _, r := range "lost" {
		s.tm.Send(runeKey(r))
	}
	s.mark()
	s.press("enter")
	s.wait(t, "✗ Revoked code", "✗ revoked", "Codes 0")
	m := s.final(t)
	if m.codeSecret != nil {
		t.Error("a secret is still held")
	}
	byCode := false
	m.activity.list.Each(func(e activityEntry) {
		byCode = byCode || (e.kind == actApproved && e.name == "kitchen-2" && e.actor == "code "+codeID)
	})
	if !byCode {
		t.Error("Activity does not say the code approved kitchen-2")
	}
}

// Activity logs codes created and revoked — live, from history, and this
// console's own — once each.
func TestActivityLogsCodes(t *testing.T) {
	m, clk := codesModel(t, 140, 24)
	c := someCodes()[0]
	m = step(t, m, event(protocol.EventCodeCreated, protocol.CodeEvent{Code: c, Actor: "cli alice@laptop", TS: clk.Now().UnixMilli()}))
	c.RevokedAtMs = clk.Now().UnixMilli()
	m = step(t, m, codeRevokedMsg{id: c.ID, res: protocol.CodeRevokeResult{Code: c, Revoked: true}})
	m = step(t, m, event(protocol.EventCodeRevoked, protocol.CodeEvent{Code: c, Actor: "console", TS: clk.Now().UnixMilli()}))
	m = press(t, m, "tab", "tab", "tab") // Codes → Pending → Paired → Activity
	var lines []string
	for _, l := range strings.Split(frameOf(m), "\n") {
		if strings.Contains(l, "  code c7k2m9q4r  ") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 2 {
		t.Fatalf("activity lines for the code: %q\n%s", lines, frameOf(m))
	}
	if !strings.Contains(lines[0], "✗ revoked") || !strings.Contains(lines[0], "used 0 of 1; kitchen displays") {
		t.Errorf("revoked: %q", lines[0])
	}
	if !strings.Contains(lines[1], "+ new code") || !strings.Contains(lines[1], "cli alice@laptop") ||
		!strings.Contains(lines[1], "1 use, name kitchen-* · linux; kitchen displays") {
		t.Errorf("created: %q", lines[1])
	}
	// From history: the store's audit line.
	e, ok := historyEntry(protocol.HistoryEvent{Action: "code.created", TS: t0.UnixMilli(), Actor: protocol.Actor{Kind: protocol.ActorCLI},
		Fields: map[string]json.RawMessage{"code": json.RawMessage(`{"id":"cfleet001","prefix":"9RTW","scope":{"allowExec":true},"maxUses":10,"uses":0,"expiresAtMs":1}`)}})
	if !ok || e.kind != actCodeCreated || e.name != "code cfleet001" || e.note != "10 uses, exec allowed" {
		t.Errorf("history entry %+v %v", e, ok)
	}
}
