package tui

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/styles"
	"github.com/pairdeck/pairdeck/tui/table"
)

// codeRow is a setup code as lists show it: never its secret.
type codeRow struct {
	code protocol.SetupCode
}

// state is the code's state at now (protocol.Code*).
func (r codeRow) state(now time.Time) string { return r.code.State(now.UnixMilli()) }

// searchText is what the filter searches in a code.
func (r codeRow) searchText() string {
	c := r.code
	s := c.Scope
	return strings.Join(append([]string{c.ID, c.Prefix, c.Note, c.CreatedBy, s.Name, s.NamePrefix}, append(s.Platforms, s.CIDRs...)...), "\x00")
}

// stateWord is the state in words.
func stateWord(state string) string {
	if state == protocol.CodeUsedUp {
		return "used up"
	}
	return state
}

// stateText is the state as glyph and words: meaning never rides on
// colour alone.
func stateText(state string) string {
	g := glyphUnknown
	switch state {
	case protocol.CodeActive:
		g = glyphOnline
	case protocol.CodeUsedUp:
		g = glyphApproved
	case protocol.CodeExpired:
		g = glyphExpired
	case protocol.CodeRevoked:
		g = glyphRejected
	}
	return g + " " + stateWord(state)
}

// scopeText sums up what a node must fit for the code to approve it.
func scopeText(s protocol.CodeScope) string {
	var parts []string
	switch {
	case s.Name != "":
		parts = append(parts, "name "+s.Name)
	case s.NamePrefix != "":
		parts = append(parts, "name "+s.NamePrefix+"*")
	}
	if len(s.Platforms) > 0 {
		parts = append(parts, strings.Join(s.Platforms, ","))
	}
	if len(s.CIDRs) > 0 {
		parts = append(parts, strings.Join(s.CIDRs, ","))
	}
	if s.AllowExec {
		parts = append(parts, "exec allowed")
	}
	if len(parts) == 0 {
		return "any node"
	}
	return strings.Join(parts, " · ")
}

// leftText is how long an active code can still be used, on the console's
// clock; for the others, since when they cannot.
func (r codeRow) leftText(now time.Time) string {
	c := r.code
	switch r.state(now) {
	case protocol.CodeActive:
		// A countdown in the last hour, where it matters; beyond, the
		// largest unit.
		left := msTime(c.ExpiresAtMs).Sub(now)
		if left >= time.Hour {
			return span(left)
		}
		return clockText(int64(left / time.Second))
	case protocol.CodeRevoked:
		return ago(now.Sub(msTime(c.RevokedAtMs)))
	case protocol.CodeUsedUp:
		if c.LastUsedAtMs > 0 {
			return ago(now.Sub(msTime(c.LastUsedAtMs)))
		}
		return "—"
	}
	return ago(now.Sub(msTime(c.ExpiresAtMs)))
}

// Codes columns, most important kept longest: which code, whether it
// can still be used, and for how long.
var codeColumns = []table.Column{
	{Title: "ID", Min: 9, Max: 9},
	{Title: "CODE", Min: 7, Max: 7, Priority: 3},
	{Title: "STATE", Min: 9, Max: 10},
	{Title: "USES", Min: 5, Max: 9, Right: true, Priority: 2},
	{Title: "LEFT", Min: 8, Max: 8, Right: true},
	{Title: "SCOPE", Min: 10, Grow: 3, Priority: 1},
	{Title: "NOTE", Min: 8, Grow: 2, Priority: 4},
	{Title: "BY", Min: 10, Max: 28, Grow: 1, Priority: 5},
}

const (
	ccState = 2
	ccLeft  = 4
)

func (r codeRow) cells(now time.Time) []string {
	c := r.code
	return []string{
		c.ID,
		c.Prefix + "…",
		stateText(r.state(now)),
		fmt.Sprintf("%d/%d", c.Uses, c.MaxUses),
		r.leftText(now),
		scopeText(c.Scope),
		orDash(c.Note),
		orDash(c.CreatedBy),
	}
}

// codesView lists the gateway's setup codes, newest first, live from its
// events: the codes that can still be used, and for a while those that
// were used up, expired or revoked.
type codesView struct {
	list rowList[codeRow]
	// listed: the gateway has listed its codes at least once; listErr
	// says why the last list failed (until one succeeds).
	listed        bool
	listErr       string
	width, height int
}

func newCodesView() codesView {
	v := codesView{list: newRowList(func(r codeRow) string { return r.code.ID }, codeRow.searchText)}
	v.list.SetOrder(func(a, b codeRow) int {
		return cmp.Or(cmp.Compare(b.code.CreatedAtMs, a.code.CreatedAtMs), strings.Compare(a.code.ID, b.code.ID))
	})
	return v
}

func (v *codesView) SetSize(w, h int) {
	v.width, v.height = w, h
	v.list.cursor.SetHeight(h - 1)
}

// Replace installs the codes as listed.
func (v *codesView) Replace(codes []protocol.SetupCode) {
	v.listed, v.listErr = true, ""
	rows := make([]codeRow, len(codes))
	for i, c := range codes {
		rows[i] = codeRow{code: c}
	}
	v.list.Set(rows)
}

// Upsert shows a code as an event or an answer has it now.
func (v *codesView) Upsert(c protocol.SetupCode) { v.list.Upsert(codeRow{code: c}) }

// Active counts the codes that can still be used, for the tab.
func (v *codesView) Active(now time.Time) int {
	n := 0
	v.list.Each(func(r codeRow) {
		if r.state(now) == protocol.CodeActive {
			n++
		}
	})
	return n
}

// Intents of the Codes view.
type (
	// newCodeMsg asks for the form that creates a code.
	newCodeMsg struct{}
	// askRevokeMsg asks to confirm revoking a code.
	askRevokeMsg struct{ code protocol.SetupCode }
	// revokeMsg asks to revoke a code now; asked says the operator was
	// asked for a reason (or the gateway keeps none).
	revokeMsg struct {
		id     string
		reason string
		asked  bool
	}
)

// actions are the keys that act on one code, under the cursor or in the
// detail pane.
func (v *codesView) actions(c viewCtx) []rowAction[codeRow] {
	return []rowAction[codeRow]{{
		binding: func(k *KeyMap) *key.Binding { return &k.Revoke },
		applies: func(r codeRow) bool { return r.state(c.now) == protocol.CodeActive },
		do:      func(r codeRow) tea.Cmd { return emit(askRevokeMsg(r)) },
		refused: func(r codeRow) string {
			return "Code " + protocol.Printable(r.code.ID) + " is " + stateWord(r.state(c.now)) + ": no node can use it any more."
		},
	}}
}

// listActions act on the list or the row under its cursor only.
func (v *codesView) listActions() []rowAction[codeRow] {
	return []rowAction[codeRow]{{
		binding: func(k *KeyMap) *key.Binding { return &k.Detail },
		applies: func(codeRow) bool { return true },
		do:      func(codeRow) tea.Cmd { return emit(openDetailMsg{}) },
	}}
}

func (v *codesView) Filter() string                  { return v.list.Filter() }
func (v *codesView) SetFilter(q string)              { v.list.SetFilter(q) }
func (v *codesView) Counts() (shown, total int)      { return v.list.Shown(), v.list.Len() }
func (v *codesView) Position() (int, int, int, bool) { return v.list.Position() }

func (v *codesView) selectedKey() (string, bool) {
	k := v.list.SelectedKey()
	return k, k != ""
}

func (v *codesView) enableKeys(k *KeyMap, c viewCtx) {
	k.navigation(v.list.Shown() > 0)
	k.NewCode.SetEnabled(v.listed)
	r, ok := v.list.Selected()
	enableActions(k, v.actions(c), r, ok)
	enableActions(k, v.listActions(), r, ok)
}

func (v *codesView) onKey(msg tea.KeyPressMsg, k *KeyMap, c viewCtx) tea.Cmd {
	if moveCursor(&v.list.cursor, msg, *k) {
		return nil
	}
	if pressed(msg, k.NewCode) {
		if !v.listed {
			return emit(refusedMsg{why: "The codes are still loading."})
		}
		return emit(newCodeMsg{})
	}
	r, ok := v.list.Selected()
	if cmd, handled := runAction(msg, k, v.actions(c), r, ok); handled {
		return cmd
	}
	cmd, _ := runAction(msg, k, v.listActions(), r, ok)
	return cmd
}

func (v *codesView) enableRowKeys(k *KeyMap, rowKey string, c viewCtx) bool {
	r, ok := v.list.Get(rowKey)
	enableActions(k, v.actions(c), r, ok)
	return ok
}

func (v *codesView) onRowKey(msg tea.KeyPressMsg, k *KeyMap, rowKey string, c viewCtx) (tea.Cmd, bool) {
	r, ok := v.list.Get(rowKey)
	return runAction(msg, k, v.actions(c), r, ok)
}

func (v *codesView) details(rowKey string, c viewCtx) (string, []field, bool) {
	r, ok := v.list.Get(rowKey)
	if !ok {
		return "", nil, false
	}
	return "Setup code " + r.code.ID, codeFields(r, c.now), true
}

// codeFields are every field of a code, for the detail pane.
func codeFields(r codeRow, now time.Time) []field {
	c := r.code
	s := c.Scope
	name := "any"
	switch {
	case s.Name != "":
		name = "exactly “" + s.Name + "”"
	case s.NamePrefix != "":
		name = "starting with “" + s.NamePrefix + "”"
	}
	exec := "no: a node declaring exec-class commands (system.run…) waits for a person"
	if s.AllowExec {
		exec = "yes: it approves nodes declaring exec-class commands too"
	}
	usedBy := make([]string, len(c.UsedBy))
	for i, id := range c.UsedBy {
		usedBy[i] = shortID(id)
	}
	fields := []field{
		{"ID", c.ID},
		{"Code", c.Prefix + "… (the rest was shown once, when it was created)"},
		{"State", stateText(r.state(now))},
		{"Uses", fmt.Sprintf("%d of %d", c.Uses, c.MaxUses)},
		{"Used by", listText(usedBy)},
		{"Last used", when(c.LastUsedAtMs, now)},
		{"Expires", whenText(msTime(c.ExpiresAtMs), now)},
		{"Name", name},
		{"Platforms", orAny(s.Platforms)},
		{"Addresses", orAny(s.CIDRs)},
		{"Exec", exec},
		{"Note", orDash(c.Note)},
		{"Created", whenText(msTime(c.CreatedAtMs), now)},
		{"Created by", orDash(c.CreatedBy)},
	}
	if c.RevokedAtMs > 0 {
		fields = append(fields, field{"Revoked", whenText(msTime(c.RevokedAtMs), now) + " by " + orDash(c.RevokedBy)})
	}
	return fields
}

func orAny(items []string) string {
	if len(items) == 0 {
		return "any"
	}
	return strings.Join(items, ", ")
}

func when(ms int64, now time.Time) string {
	if ms <= 0 {
		return "—"
	}
	return whenText(msTime(ms), now)
}

func (v *codesView) View(c viewCtx, st *styles.Styles) string {
	var hints []hint
	switch {
	case !v.listed && v.listErr != "":
		hints = sayOnly("Could not list the setup codes: " + v.listErr + " The console asks again with every refresh.")
	case !v.listed:
		hints = sayOnly("Loading the setup codes…")
	case v.list.Len() == 0:
		hints = []hint{
			say("No setup codes. A code approves ahead of time: a node that presents it joins without waiting here, within the code's scope (name, platform, addresses), until it expires or is used up."),
			blankLine(),
			say("Press n to create one; it is shown once, with the command for the node and a QR code."),
		}
	case v.list.Shown() == 0:
		hints = sayOnly(noMatch("code", v.list.Filter()))
	}
	return listFrame(st, codeColumns, v.width, v.height, &v.list, hintLines(st, v.width, hints),
		func(r codeRow) []string { return r.cells(c.now) },
		func(r codeRow, cells []string, widths []int, rs rowStyles, isSel bool) string {
			state := r.state(c.now)
			return cellsLine(st, rs, isSel, codeColumns, widths, v.width, cells, func(i int) styles.Style {
				switch {
				case i == ccState && state == protocol.CodeActive:
					return st.Approved
				case state != protocol.CodeActive:
					return st.Dim
				case i == ccLeft && msTime(r.code.ExpiresAtMs).Sub(c.now) < expiringUnder:
					return st.Expiring
				}
				return st.Pending
			})
		})
}

// codeEntry is a code created or revoked, as Activity shows it.
func codeEntry(revoked bool, c protocol.SetupCode, actor string, at time.Time) activityEntry {
	e := activityEntry{at: at, kind: actCodeCreated, name: "code " + c.ID, actor: actor,
		note: usesText(c.MaxUses) + ", " + scopeText(c.Scope)}
	if revoked {
		e.kind, e.note = actCodeRevoked, fmt.Sprintf("used %d of %d", c.Uses, c.MaxUses)
	}
	if c.Note != "" {
		e.note += "; " + c.Note
	}
	return e
}

// codeHappening is a code created or revoked, logged once.
func codeHappening(revoked bool, id string) happening {
	if revoked {
		return happening{kind: hapCode, id: id, detail: "revoked"}
	}
	return happening{kind: hapCode, id: id, detail: "created"}
}

// usesText is "1 use" / "3 uses".
func usesText(n int) string {
	if n == 1 {
		return "1 use"
	}
	return strconv.Itoa(n) + " uses"
}
