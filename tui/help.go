package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/pairdeck/pairdeck/styles"
)

// The "?" screen is a reference: every key the console knows and when it
// applies, whatever is on screen — the footer is where only the keys that
// act now are offered. It scrolls when the terminal is too small for it.

// helpEntry is one line of the reference: the keys, what they do and,
// where it is not the section's, when.
type helpEntry struct {
	keys string
	what string
}

// helpSection groups the keys of one place: a view, the dialogs.
type helpSection struct {
	title   string
	entries []helpEntry
}

// keysOf is the keys of bindings as the help writes them: "A / R", or
// "g/home G/end" where a label has a slash of its own.
func keysOf(bs ...key.Binding) string {
	parts := make([]string, len(bs))
	sep := " / "
	for i, b := range bs {
		parts[i] = b.Help().Key
		if strings.Contains(parts[i], "/") {
			sep = " "
		}
	}
	return strings.Join(parts, sep)
}

// helpReference is every key, by where it applies. The keys are the
// key map's own, so the reference cannot name a key that does something
// else. A key for something the gateway does not offer (fs) is left out,
// and said so at the end; silent says whether the console was asked to
// approve silent requests itself.
func helpReference(fs features, silent bool) []helpSection {
	k := DefaultKeyMap()
	blocks, codes := fs.offers(FeatureBlockList), fs.offers(FeatureCodes)
	views := "next / previous view: Pending, Paired, Activity"
	if blocks {
		views += ", Blocked"
	}
	if codes {
		views += ", Codes"
	}
	rename := "rename its node"
	if !fs.offers(FeatureRenamePending) {
		rename = "rename its node, once it is paired: this gateway renames paired nodes only"
	}
	reject, block, submit, cancel := "reject it (the same)", "", "apply the filter, save the name", "cancel the input (a filter is cleared)"
	if fs.offers(FeatureReasons) {
		reject = "reject it (the same), with an optional reason: type it, or enter at once for none"
		block = "; asks for an optional reason too"
		submit = "apply the filter, save the name, decide with the reason typed (none if empty)"
		cancel = "cancel the input (a filter is cleared; a reason's decision is not made)"
	}
	pending := []helpEntry{
		{keysOf(k.Approve), "approve it, once it has been in view half a second (also in its detail pane)"},
		{keysOf(k.Reject), reject},
		{keysOf(k.Mark), "mark it, for a decision on several at once"},
		{keysOf(k.ApproveMarked, k.RejectMarked), "approve / reject every marked request, after a confirmation"},
		{keysOf(k.Rename), rename},
	}
	if blocks {
		pending = append(pending, helpEntry{keysOf(k.Block), "block its node: its request is rejected, its requests refused until unblocked (pairdeck gateways)" + block})
	}
	pending = append(pending,
		helpEntry{keysOf(k.Sort), "sort the queue: by time left, newest first, by name"},
		helpEntry{keysOf(k.Detail), "every field of the request"},
	)
	paired := []helpEntry{{keysOf(k.Rename), "rename it"}}
	if fs.offers(FeatureRemove) {
		paired = append(paired, helpEntry{keysOf(k.Remove), "remove it, after a confirmation: its token stops working"})
	}
	paired = append(paired, helpEntry{keysOf(k.Detail), "every field of the node"})
	anywhere := []helpEntry{
		{keysOf(k.Filter), "filter the list; esc clears the filter"},
		{keysOf(k.NextView, k.PrevView), views},
	}
	if fs.offers(FeaturePairingSwitch) {
		anywhere = append(anywhere, helpEntry{keysOf(k.TogglePairing), "switch the gateway's pairing off or on (pairdeck gateways)"})
	}
	anywhere = append(anywhere,
		helpEntry{keysOf(k.Messages), "the recent messages in full (one cut short ends in “m: more”)"},
		helpEntry{keysOf(k.Back), "close the detail pane or this help; clear the filter"},
		helpEntry{keysOf(k.Help), "this help (again to close it)"},
		helpEntry{keysOf(k.Quit), "quit (here: close this help); asks first when others use this console's gateway"},
		helpEntry{keysOf(k.Interrupt), "quit, from anywhere (the same question; a second ctrl+c stops the gateway)"},
	)
	sections := []helpSection{
		{"Moving (lists, the detail pane and this help)", []helpEntry{
			{keysOf(k.Up, k.Down), "up / down a row (scroll, in the detail pane and here)"},
			{keysOf(k.Top, k.Bottom), "first / last"},
			{keysOf(k.PageUp, k.PageDown), "a page up / down"},
		}},
		{"Pending: the request under the cursor", pending},
		{"Paired: the node under the cursor", paired},
	}
	if blocks {
		sections = append(sections, helpSection{"Blocked: the node under the cursor", []helpEntry{
			{keysOf(k.Unblock), "unblock it: it may ask to pair again"},
		}})
	}
	if codes {
		sections = append(sections, helpSection{"Codes: setup codes, and the one under the cursor", []helpEntry{
			{keysOf(k.NewCode), "create a code (a form: validity, uses, name or prefix, platforms, addresses, exec, note); the code, the command for the node and a QR code of its setup link are shown once"},
			{keysOf(k.Revoke), "revoke it, after a confirmation: no node can use it any more" + block},
			{keysOf(k.Detail), "every field of the code"},
		}})
	}
	sections = append(sections,
		helpSection{"Anywhere", anywhere},
		helpSection{"In a dialog or an input", []helpEntry{
			{keysOf(k.Confirm), "confirm"},
			{keysOf(k.Deny), "cancel"},
			{keysOf(k.Dismiss), "close the one-time token (it is not shown again)"},
			{keysOf(k.StopGateway), "quitting while others use this console's gateway: stop it for everyone"},
			{keysOf(k.KeepServing), "… or keep it serving them without the console, until the last one leaves"},
			{keysOf(k.Submit), submit},
			{keysOf(k.Cancel), cancel},
		}},
	)
	if codes {
		in := &sections[len(sections)-1]
		in.entries = append(in.entries,
			helpEntry{keysOf(k.NextField), "in the form of a new code: the next field (enter creates the code)"},
			helpEntry{keysOf(k.PrevField), "in that form: the previous field"},
			helpEntry{keysOf(k.Toggle), "in that form: switch a yes/no field"},
		)
	}
	if fs.all() {
		return sections
	}
	sections = append(sections, helpSection{"Kinds of request (KIND)", []helpEntry{
		{"node", "a node's declared commands wait for approval; approving lets it run them, with the device token it already has"},
		{"device", "a device asks to pair: new (never paired), +scopes or +role (a paired device asking for more), metadata (it says it is another platform); once approved it gets its device token when it next connects"},
	}})
	var not []helpEntry
	for _, f := range []struct {
		f    Feature
		keys string
	}{
		{FeatureBlockList, keysOf(k.Block, k.Unblock)},
		{FeaturePairingSwitch, keysOf(k.TogglePairing)},
		{FeatureRemove, keysOf(k.Remove)},
		{FeatureAutoApprove, "silent"},
		{FeatureCodes, "Codes"},
	} {
		if fs.offers(f.f) || (f.f == FeatureAutoApprove && !silent) {
			continue
		}
		not = append(not, helpEntry{f.keys, fs.why(f.f)})
	}
	if len(not) > 0 {
		sections = append(sections, helpSection{"Not offered by this gateway", not})
	}
	return sections
}

// helpSigns says what each glyph means, since no meaning rides on colour.
// pairdeck says whether the gateway is pairdeck's, where a re-pair
// rotates a token and nothing waits for approval once paired.
func helpSigns(pairdeck bool) []string {
	repair := glyphRepair + " re-pair: the node's token rotates"
	if !pairdeck {
		repair = glyphRepair + " asks again, approved before"
	}
	signs := []string{
		glyphCursor + " cursor", glyphMark + " marked",
		glyphExpiring + " expires within a minute", glyphCritical + " within 10 s",
		glyphExpired + " expired", glyphRejected + " rejected", glyphApproved + " approved", glyphBusy + " in progress",
		repair,
		glyphOnline + " online", glyphOffline + " offline",
	}
	if pairdeck {
		signs = append(signs, glyphBlocked+" blocked / pairing off")
	} else {
		signs = append(signs, glyphWaiting+" waiting for approval")
	}
	return append(signs, glyphHeld+" held for you", glyphSorted+" sorted by this column")
}

// helpLines lays the reference out for a width of w: a keys column, and
// what each does wrapped beside it; then the signs.
func helpLines(st *styles.Styles, w int, fs features, silent bool) []string {
	sections := helpReference(fs, silent)
	keyW := 0
	for _, s := range sections {
		for _, e := range s.entries {
			keyW = max(keyW, ansi.StringWidth(e.keys))
		}
	}
	keyW = min(keyW, max(w/3, 6))
	whatW := max(w-keyW-4, 10)
	pad := strings.Repeat(" ", keyW+4)
	var lines []string
	for i, s := range sections {
		if i > 0 {
			lines = append(lines, "")
		}
		lines = append(lines, st.DialogTitle.Render(ansi.Truncate(s.title, w, "…")))
		for _, e := range s.entries {
			for j, part := range strings.Split(ansi.Wrap(e.what, whatW, ""), "\n") {
				lead := pad
				if j == 0 {
					k := ansi.Truncate(e.keys, keyW, "…")
					lead = "  " + st.HelpKey.Render(k) + strings.Repeat(" ", keyW-ansi.StringWidth(k)+2)
				}
				lines = append(lines, lead+st.HelpDesc.Render(part))
			}
		}
	}
	lines = append(lines, "", st.DialogTitle.Render("Signs"))
	for _, l := range wrapItems(helpSigns(fs.all()), "   ", w-2) {
		lines = append(lines, "  "+l)
	}
	return lines
}

// page is a screen of text over the views: the help, the messages.
type page int

const (
	pageNone page = iota
	pageHelp
	pageMessages
	// pageCode shows a code just created, once.
	pageCode
)

// pageLines lays out the open page for the terminal's width.
func (m Model) pageLines() []string {
	switch m.page {
	case pageHelp:
		return helpLines(m.st, m.width, m.features, m.opts.SilentCheck != nil)
	case pageMessages:
		return m.messageLines()
	case pageCode:
		if m.codeSecret != nil {
			return m.codeSecret.lines(m.st, m.width, m.codeGatewayURL(), m.now())
		}
	}
	return nil
}

// openPage shows p from its top.
func (m *Model) openPage(p page) { m.page, m.pageOffset = p, 0 }

// pageView draws the part of the open page that fits in h lines.
func (m Model) pageView(h int) string {
	return scrollView(m.pageLines(), m.pageOffset, h, m.st)
}

// onPageKey closes the page (the key that opened it, esc and q, as in htop
// and k9s) or scrolls it.
func (m *Model) onPageKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	opener := k.Help
	switch m.page {
	case pageMessages:
		opener = k.Messages
	case pageCode:
		opener = k.Dismiss
	}
	if key.Matches(msg, opener, k.Back, k.Quit) {
		if m.page == pageCode {
			m.closeCodeSecret()
		}
		m.page = pageNone
		return nil
	}
	m.pageOffset = scroll(m.pageOffset, msg, k, len(m.pageLines()), m.bodyHeight())
	return nil
}

// pageScrolls reports whether the open page is longer than the body.
func (m *Model) pageScrolls() bool { return len(m.pageLines()) > m.bodyHeight() }

// scroll moves offset, the first line shown of lines in a pane of height
// h, as msg says; it stays where something shows.
func scroll(offset int, msg tea.KeyPressMsg, keys KeyMap, lines, h int) int {
	page := max(h-1, 1)
	switch {
	case key.Matches(msg, keys.Up):
		offset--
	case key.Matches(msg, keys.Down):
		offset++
	case key.Matches(msg, keys.Top):
		offset = 0
	case key.Matches(msg, keys.Bottom):
		offset = lines
	case key.Matches(msg, keys.PageUp):
		offset -= page
	case key.Matches(msg, keys.PageDown):
		offset += page
	}
	return max(min(offset, lines-h), 0)
}

// scrollView draws the h lines of all from offset, saying on the last
// line when more follow (a page down starts with the line that says so).
func scrollView(all []string, offset, h int, st *styles.Styles) string {
	h = max(h, 1)
	start := max(min(offset, len(all)-h), 0)
	end := min(start+h, len(all))
	shown := append([]string(nil), all[start:end]...)
	if end < len(all) && len(shown) > 0 {
		shown[len(shown)-1] = st.Dim.Render("  ↓ more (j/k to scroll)")
	}
	for len(shown) < h {
		shown = append(shown, "")
	}
	return strings.Join(shown, "\n")
}
